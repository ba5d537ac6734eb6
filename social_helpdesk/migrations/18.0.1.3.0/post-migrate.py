# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Rules now run in the company of the message or ticket only: every company
but the main one gets its copy of the default rules, which until now reached
it from the main company."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["helpdesk.ticket.rule"]._install_default_rules()
