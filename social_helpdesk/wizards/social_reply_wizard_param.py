# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class SocialReplyWizardParam(models.TransientModel):
    """One variable of the WhatsApp template chosen in the composer,
    prefilled from the ticket and editable by the agent."""

    _name = "social.reply.wizard.param"
    _description = "WhatsApp template variable in the reply composer"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "social.reply.wizard", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    component = fields.Char(readonly=True)
    index = fields.Char("Variable", readonly=True)
    example = fields.Char(readonly=True, help="Meta's example for this variable.")
    value = fields.Char()

    def _as_parameters(self):
        """The values as ``social.reply`` takes them."""
        return [
            {
                "component": param.component,
                "index": param.index,
                "value": param.value or "",
            }
            for param in self
        ]
