# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models

from ..adapters.base import PRIVATE, PUBLIC


class SocialCannedResponse(models.Model):
    """A ready answer an agent inserts in the reply composer with ``::``, as
    in Odoo's chatter; in the agent's language, for the channels it suits."""

    _name = "social.canned.response"
    _description = "Social Canned Response"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    shortcut = fields.Char(
        required=True,
        help="Type :: followed by this shortcut in the reply to insert it.",
    )
    body = fields.Text(
        required=True,
        translate=True,
        help="{customer}, {ticket} and {agent} are replaced by the customer's "
        "name, the ticket's reference and your name.",
    )
    channel_ids = fields.Many2many(
        "helpdesk.ticket.channel",
        string="Channels",
        help="Offered on tickets of these channels only; empty: on every "
        "social ticket.",
    )
    reply_kind = fields.Selection(
        [(PUBLIC, "Public replies"), (PRIVATE, "Private messages")],
        "Offered in",
        help="Empty: in public replies and private messages.",
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Empty: offered in every company.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    def _render(self, ticket, agent):
        """The body with its variables replaced for ``ticket`` and ``agent``."""
        self.ensure_one()
        values = {
            "{customer}": ticket.partner_id.name or ticket.partner_name or "",
            "{ticket}": ticket.number or "",
            "{agent}": agent.name or "",
        }
        body = self.body or ""
        for variable, value in values.items():
            body = body.replace(variable, value)
        return body
