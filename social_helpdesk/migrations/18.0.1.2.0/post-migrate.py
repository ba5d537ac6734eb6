# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A webhook delivery no longer reads the account: an event's network became
a plain related field, and its column goes."""


def migrate(cr, version):
    cr.execute("ALTER TABLE social_event DROP COLUMN IF EXISTS network")
