# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class SocialIdentityLinkWizard(models.TransientModel):
    """Attach a social identity to an existing contact, e.g. the customer who
    also phoned, so that one contact holds the whole history."""

    _name = "social.identity.link.wizard"
    _description = "Link a social identity to a contact"

    identity_id = fields.Many2one("social.identity", required=True)
    partner_id = fields.Many2one("res.partner", "Contact", required=True)
    move_history = fields.Boolean(
        "Move its tickets",
        default=True,
        help="Move the tickets and messages already received from this identity "
        "to the contact.",
    )

    def action_link(self):
        self.ensure_one()
        identity = self.identity_id
        identity.partner_id = self.partner_id
        if self.move_history:
            messages = self.env["social.message"].search(
                [("identity_id", "=", identity.id)]
            )
            messages.write({"partner_id": self.partner_id.id})
            messages.ticket_id.write(
                {"partner_id": self.partner_id.id, "partner_name": self.partner_id.name}
            )
        return {"type": "ir.actions.act_window_close"}
