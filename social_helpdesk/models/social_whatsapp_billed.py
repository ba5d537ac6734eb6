# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class SocialWhatsappBilled(models.Model):
    """One WhatsApp message Meta reported a price for, once: its statuses
    (sent, delivered, read) may each repeat the pricing, and a webhook may
    be delivered twice; the unique key on the message id makes the meter
    count it once (see ``social.whatsapp.usage._meter``)."""

    _name = "social.whatsapp.billed"
    _description = "WhatsApp Billed Message"
    _log_access = False
    _order = "id desc"

    account_id = fields.Many2one(
        "social.account", required=True, ondelete="cascade", readonly=True
    )
    message_id = fields.Char("WhatsApp message id", required=True, readonly=True)
    month = fields.Date(required=True, readonly=True)
    category = fields.Char(readonly=True)
    pricing_model = fields.Char(readonly=True)
    billable = fields.Boolean(readonly=True)
    market = fields.Char(readonly=True)
    cost = fields.Float(digits=(16, 4), readonly=True, help="In US dollars.")

    _sql_constraints = [
        (
            "account_message_uniq",
            "unique(account_id, message_id)",
            "A message is billed once.",
        )
    ]
