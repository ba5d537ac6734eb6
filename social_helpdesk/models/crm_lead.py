# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models
from odoo.exceptions import UserError

from .access import SALESMAN, require_group


class CrmLead(models.Model):
    _inherit = "crm.lead"

    social_message_ids = fields.One2many(
        "social.message", "lead_id", string="Social messages", readonly=True
    )
    social_message_count = fields.Integer(
        compute="_compute_social_message_count", compute_sudo=True
    )

    def _compute_social_message_count(self):
        counts = dict(
            self.env["social.message"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.social_message_count = counts.get(lead, 0)

    def action_social_to_ticket(self):
        """Hand the customer's conversation back to support: a ticket on its
        account, with every message of the lead, which says where they went.
        For a salesperson who may write the lead."""
        require_group(self.env, SALESMAN, self.env._("move a conversation to a ticket"))
        self.check_access("write")
        Ticket = (
            self.env["helpdesk.ticket"]
            .sudo()
            .with_context(
                social_helpdesk_rules_done=True,
                mail_create_nosubscribe=True,
                mail_create_nolog=True,
            )
        )
        for lead in self:
            messages = lead.sudo().social_message_ids.sorted(
                lambda message: (message.message_date, message.id)
            )
            if not messages:
                raise UserError(
                    self.env._("%s has no social conversation to move.", lead.name)
                )
            first = messages[0]
            account = first.account_id
            channel = self.env["helpdesk.ticket.channel"]._get_by_code(
                first.channel_code, account.company_id
            )
            ticket = Ticket.create(
                Ticket._social_ticket_values(
                    account,
                    first._to_adapter_message(),
                    first.partner_id,
                    Ticket.browse(),
                    channel,
                )
            )
            messages._move_to(ticket, lead)
        return True
