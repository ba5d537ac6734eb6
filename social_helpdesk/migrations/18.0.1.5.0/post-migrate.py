# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""X accounts connected before the X Activity API keep the webhook product
they were subscribed with, the Account Activity API; new ones use the X
Activity API (the field's default)."""


def migrate(cr, version):
    cr.execute(
        "UPDATE social_account SET x_webhook_product = 'aaa' WHERE network = 'x'"
    )
