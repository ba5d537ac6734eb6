# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import plaintext2html

from ..adapters.base import PRIVATE, PUBLIC


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    social_account_id = fields.Many2one(
        "social.account", string="Social account", index="btree_not_null", copy=False
    )
    social_thread_key = fields.Char(
        "Conversation key",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="One ticket per customer per conversation: the network's thread and "
        "the customer.",
    )
    social_url = fields.Char("Original post", copy=False, readonly=True)
    social_author_handle = fields.Char("Author handle", copy=False, readonly=True)
    social_kind = fields.Selection(
        [(PUBLIC, "Public"), (PRIVATE, "Private")],
        string="Visibility",
        copy=False,
        readonly=True,
    )
    social_message_ids = fields.One2many(
        "social.message", "ticket_id", string="Social messages", readonly=True
    )
    social_previous_ticket_id = fields.Many2one(
        "helpdesk.ticket",
        string="Follows ticket",
        copy=False,
        readonly=True,
        help="The closed ticket of the same conversation that this one continues.",
    )
    is_social = fields.Boolean(related="channel_id.is_social", store=True)
    reopen_count = fields.Integer(copy=False, readonly=True)
    social_reply_ids = fields.One2many(
        "social.reply", "ticket_id", string="Social replies", readonly=True
    )
    first_response_date = fields.Datetime(
        copy=False,
        readonly=True,
        index=True,
        help="When the first agent answer reached the customer, on any channel: a "
        "published social reply, an email sent from the ticket, or a phone call.",
    )

    @api.model
    def _social_ticket_for(self, account, message, partner):
        """The ticket a customer message belongs to: the open ticket of its
        conversation, the closed one reopened within the account's window, or
        a new one (that references the closed one, if any)."""
        ticket = self.search(
            [
                ("social_account_id", "=", account.id),
                ("social_thread_key", "=", message.thread_key),
            ],
            order="id desc",
            limit=1,
        )
        if ticket and not ticket.closed:
            return ticket
        if ticket and ticket._social_can_reopen(account):
            ticket._social_reopen()
            return ticket
        return self.create(
            self._social_ticket_values(account, message, partner, previous=ticket)
        )

    def _social_can_reopen(self, account):
        self.ensure_one()
        closed_at = self.closed_date or self.last_stage_update
        window = timedelta(days=account.reopen_window_days)
        return bool(closed_at) and fields.Datetime.now() - closed_at <= window

    def _social_reopen(self):
        self.ensure_one()
        stage = self.team_id._get_applicable_stages().filtered(
            lambda stage: not stage.closed
        )[:1]
        self.write({"stage_id": stage.id, "reopen_count": self.reopen_count + 1})
        self.message_post(
            body=self.env._("Reopened: the customer wrote again."),
            subtype_xmlid="mail.mt_note",
        )

    @api.model
    def _social_ticket_values(self, account, message, partner, previous):
        channel = self.env["helpdesk.ticket.channel"]._get_by_code(
            message.channel, account.company_id
        )
        messages = self.env["social.message"]
        return {
            "name": messages._short_title(message),
            "description": plaintext2html(message.text or ""),
            "partner_id": partner.id,
            "partner_name": partner.name,
            "company_id": account.company_id.id,
            "team_id": account.team_id.id,
            "channel_id": (channel or account.channel_id).id,
            "social_account_id": account.id,
            "social_thread_key": message.thread_key,
            "social_url": messages._safe_link(message.url) or False,
            "social_author_handle": message.author.handle or False,
            "social_kind": message.kind,
            "social_previous_ticket_id": previous.id,
        }

    def _social_post_inbound(self, message, partner):
        """Post the customer's message in chatter, authored by their contact."""
        self.ensure_one()
        return self.message_post(
            body=self.env["social.message"]._render_inbound_body(message),
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    # ------------------------------------------------------------------
    # Replies and first response
    # ------------------------------------------------------------------
    def action_social_reply(self):
        """Open the reply composer on the ticket's last customer message."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply on %s", self.channel_id.name),
            "res_model": "social.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }

    def action_responded_by_phone(self):
        """The agent answered the customer by phone."""
        for ticket in self:
            ticket.message_post(
                body=self.env._("Responded by phone."), subtype_xmlid="mail.mt_note"
            )
            ticket._set_first_response(fields.Datetime.now())

    def _set_first_response(self, moment):
        self.filtered(lambda ticket: not ticket.first_response_date).write(
            {"first_response_date": moment}
        )

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        if self._is_first_response(message, kwargs):
            self._set_first_response(message.date)
        return message

    def _is_first_response(self, message, post_kwargs):
        """A message that reaches the customer, written by an agent: an email
        reply (not an internal note) or a logged phone call. Social replies
        count when the network publishes them, not here."""
        if self.env.context.get("social_reply") or not self.filtered(
            lambda ticket: not ticket.first_response_date
        ):
            return False
        author = message.author_id
        if not author or author in self.partner_id or not author.user_ids:
            return False
        if author.user_ids.filtered("share") == author.user_ids:
            return False
        activity_type = self.env["mail.activity.type"].browse(
            post_kwargs.get("mail_activity_type_id")
        )
        if activity_type.category == "phonecall":
            return True
        return message.message_type in ("comment", "email") and not (
            message.subtype_id.internal or message.is_internal
        )
