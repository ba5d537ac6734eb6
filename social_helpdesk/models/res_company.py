# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        """A new company starts with its copy of the default rules: rules only
        ever apply in their own company."""
        companies = super().create(vals_list)
        self.env["helpdesk.ticket.rule"]._install_default_rules(companies)
        return companies
