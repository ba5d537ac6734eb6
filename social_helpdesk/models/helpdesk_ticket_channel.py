# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models

SOCIAL_CHANNEL_CODES = ("x", "facebook", "messenger", "instagram", "whatsapp")


class HelpdeskTicketChannel(models.Model):
    _inherit = "helpdesk.ticket.channel"

    code = fields.Char(
        index=True,
        help="Technical code, stable across languages: features match channels by "
        "it, never by their translated name.",
    )
    is_social = fields.Boolean(
        compute="_compute_is_social",
        store=True,
        help="Social network channels, as opposed to web, email and phone.",
    )

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "A channel code must be unique per company.",
        )
    ]

    @api.depends("code")
    def _compute_is_social(self):
        for channel in self:
            channel.is_social = channel.code in SOCIAL_CHANNEL_CODES

    @api.model
    def _get_by_code(self, code, company=None):
        """The channel of ``code`` for ``company``, preferring a company-specific
        channel over a shared one."""
        company = company or self.env.company
        return self.search(
            [("code", "=", code), ("company_id", "in", [company.id, False])],
            order="company_id",
            limit=1,
        )
