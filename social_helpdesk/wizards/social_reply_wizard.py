# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import PRIVATE, PUBLIC

WINDOW_WARNING_HOURS = 6


class SocialReplyWizard(models.TransientModel):
    """The reply composer of a social ticket: public or private, on the last
    customer message or a chosen one, checked against the network's rules."""

    _name = "social.reply.wizard"
    _description = "Reply on the social network"

    ticket_id = fields.Many2one("helpdesk.ticket", required=True)
    target_id = fields.Many2one(
        "social.message",
        "In reply to",
        required=True,
        compute="_compute_target_id",
        store=True,
        precompute=True,
        readonly=False,
        domain="[('ticket_id', '=', ticket_id)]",
    )
    kind = fields.Selection(
        [(PUBLIC, "Public reply"), (PRIVATE, "Private message")],
        compute="_compute_kind",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
    )
    canned_response_id = fields.Many2one(
        "mail.canned.response", "Canned response", store=False
    )
    text = fields.Text(
        compute="_compute_text", store=True, readonly=False, precompute=True
    )
    char_count = fields.Char("Length", compute="_compute_checks")
    char_limit = fields.Integer(compute="_compute_checks")
    channel_code = fields.Char(related="target_id.channel_code")
    warning = fields.Char(compute="_compute_checks")
    target_text = fields.Text(related="target_id.text", string="Customer wrote")

    @api.depends("ticket_id")
    def _compute_target_id(self):
        for wizard in self:
            customer_messages = wizard.ticket_id.social_message_ids.sorted(
                lambda m: (m.message_date or fields.Datetime.now(), m.id)
            )
            wizard.target_id = customer_messages[-1:]

    @api.depends("target_id")
    def _compute_kind(self):
        for wizard in self:
            wizard.kind = wizard.target_id.kind or PUBLIC

    @api.depends("target_id", "kind")
    def _compute_text(self):
        """X threads public replies on @handle; other networks need nothing."""
        for wizard in self:
            handle = wizard.target_id.identity_id.handle
            wants_handle = (
                wizard.target_id.channel_code == "x" and wizard.kind == PUBLIC
            )
            prefix = f"@{handle} " if handle and wants_handle else ""
            if not wizard.text or wizard.text.strip().startswith("@"):
                wizard.text = prefix

    @api.onchange("canned_response_id")
    def _onchange_canned_response_id(self):
        if self.canned_response_id:
            self.text = (self.text or "") + self.canned_response_id.substitution
            self.canned_response_id = False

    @api.depends("text", "kind", "target_id")
    def _compute_checks(self):
        for wizard in self:
            wizard.char_count = wizard.warning = False
            wizard.char_limit = 0
            target = wizard.target_id
            if not target:
                continue
            adapter = target.account_id._get_adapter()
            message = target._to_adapter_message()
            length = adapter.text_length(
                wizard.text or "", message=message, kind=wizard.kind
            )
            limit = adapter.max_length(wizard.kind, message=message)
            wizard.char_count = f"{length} / {limit}"
            wizard.char_limit = limit
            wizard.warning = wizard._window_warning(adapter, message, length > limit)

    def _window_warning(self, adapter, message, too_long):
        if too_long:
            return self.env._("Too long for this network: shorten the reply.")
        if self.kind == PUBLIC and self.target_id.kind == PRIVATE:
            return self.env._(
                "A public reply is not possible here: send a private message."
            )
        closes_at = adapter.window_closes_at(
            message, self.kind, self.target_id._last_customer_date()
        )
        if not closes_at:
            return False
        now = fields.Datetime.now().replace(tzinfo=timezone.utc)
        if closes_at <= now:
            return self.env._(
                "The network's reply window closed on %s UTC.",
                closes_at.strftime("%Y-%m-%d %H:%M"),
            )
        hours_left = (closes_at - now).total_seconds() / 3600
        if hours_left <= WINDOW_WARNING_HOURS:
            return self.env._("The reply window closes in %.1f hours.", hours_left)
        return False

    def action_send(self):
        """Queue the reply; the send job publishes it once this request is
        committed. Publishing here would publish again each time Odoo retries
        the request after a concurrency error."""
        self.ensure_one()
        if self.target_id.ticket_id != self.ticket_id:
            raise UserError(
                self.env._("Answer a message of this ticket, from this ticket.")
            )
        self.env["social.reply"]._queue(self.target_id, self.kind, self.text)
        # sudo: agents may not read crons; this only wakes the send job.
        self.env.ref("social_helpdesk.ir_cron_send_social_replies").sudo()._trigger()
        return {"type": "ir.actions.act_window_close"}
