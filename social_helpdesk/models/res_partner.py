# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    social_identity_ids = fields.One2many(
        "social.identity",
        "partner_id",
        string="Social identities",
        groups="helpdesk_mgmt.group_helpdesk_user_own",
    )
