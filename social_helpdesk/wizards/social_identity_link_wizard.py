# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models

from ..models.access import ALL_TICKETS, require_group


class SocialIdentityLinkWizard(models.TransientModel):
    """Attach a social identity to an existing contact, e.g. the customer who
    also phoned, so that one contact holds the whole history."""

    _name = "social.identity.link.wizard"
    _description = "Link a social identity to a contact"

    identity_id = fields.Many2one("social.identity", required=True)
    partner_id = fields.Many2one("res.partner", "Contact", required=True)
    suggested_partner_ids = fields.Many2many(
        related="identity_id.suggested_partner_ids", string="Same number as"
    )
    move_history = fields.Boolean(
        "Move its tickets",
        default=True,
        help="Move the tickets and messages already received from this identity "
        "to the contact.",
    )

    def action_link(self):
        """Relink the identity, then move its history: every ticket it opened
        must be one the user may write."""
        self.ensure_one()
        require_group(
            self.env, ALL_TICKETS, self.env._("link a customer to another contact")
        )
        identity = self.identity_id
        messages = (
            self.env["social.message"]
            .sudo()
            .search([("identity_id", "=", identity.id)])
        )
        tickets = messages.ticket_id.with_env(self.env)
        identity._check_companies_covered()
        if self.move_history:
            tickets.check_access("write")
        # Agents may not write identities: the checks above stand for theirs.
        identity.sudo().write({"partner_id": self.partner_id.id})
        if self.move_history:
            messages.write({"partner_id": self.partner_id.id})
            tickets.write(
                {"partner_id": self.partner_id.id, "partner_name": self.partner_id.name}
            )
        return {"type": "ir.actions.act_window_close"}
