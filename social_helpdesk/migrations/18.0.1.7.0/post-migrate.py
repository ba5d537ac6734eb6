# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Reply windows are now stored as messages are filed, not by the SLA cron:
the windows of the messages filed since its last run are stored here."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["social.account"].with_context(active_test=False).search(
        []
    )._update_open_windows()
