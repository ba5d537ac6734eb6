# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import base64
from datetime import timezone

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

from ..adapters.base import PRIVATE, PUBLIC

WINDOW_WARNING_HOURS = 6
# Day, month and time, in the user's language and time zone: "12 Dec 14:05".
WINDOW_FORMAT = "d MMM HH:mm"


class SocialReplyWizard(models.TransientModel):
    """The reply composer of a social ticket: public or private, on the last
    customer message or a chosen one, checked against the network's rules.
    Every figure it shows (length, limit, window) is the server's, the one
    the send job checks again."""

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
    public_allowed = fields.Boolean(
        "Public reply possible", compute="_compute_allowed_kinds"
    )
    private_allowed = fields.Boolean(
        "Private reply possible", compute="_compute_allowed_kinds"
    )
    window_info = fields.Char("Reply window", compute="_compute_allowed_kinds")
    cost_info = fields.Char(
        "Cost", compute="_compute_cost_info", help="What WhatsApp bills for the reply."
    )
    text = fields.Text(
        compute="_compute_text", store=True, readonly=False, precompute=True
    )
    canned_responses = fields.Json(compute="_compute_canned_responses")
    char_count = fields.Char("Length", compute="_compute_checks")
    char_limit = fields.Integer(compute="_compute_checks")
    too_long = fields.Boolean("Too long", compute="_compute_checks")
    send_blocked = fields.Boolean("Cannot be sent", compute="_compute_checks")
    channel_code = fields.Char(related="target_id.channel_code")
    warning = fields.Char(compute="_compute_checks")
    target_text = fields.Text(related="target_id.text", string="Customer wrote")
    image = fields.Binary(
        attachment=False, compute="_compute_image", store=True, readonly=False
    )
    image_name = fields.Char(compute="_compute_image", store=True, readonly=False)
    image_allowed = fields.Boolean("Image possible", compute="_compute_image_allowed")
    image_info = fields.Char(compute="_compute_image_allowed")
    # WhatsApp: a document with the text, or an approved template (the only
    # reply outside the 24-hour window).
    account_id = fields.Many2one(related="target_id.account_id")
    document = fields.Binary(attachment=False)
    document_name = fields.Char()
    document_allowed = fields.Boolean(
        "Document possible", compute="_compute_image_allowed"
    )
    document_info = fields.Char(compute="_compute_image_allowed")
    templates_allowed = fields.Boolean(compute="_compute_allowed_kinds")
    template_required = fields.Boolean(
        "Template only",
        compute="_compute_allowed_kinds",
        help="WhatsApp's window is closed: only an approved template reaches "
        "the customer.",
    )
    template_id = fields.Many2one(
        "social.whatsapp.template",
        domain="[('account_id', '=', account_id), ('approved', '=', True)]",
    )
    template_param_ids = fields.One2many(
        "social.reply.wizard.param",
        "wizard_id",
        "Variables",
        compute="_compute_template_param_ids",
        store=True,
        readonly=False,
    )
    template_preview = fields.Text(
        "The customer reads", compute="_compute_template_preview"
    )

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

    @api.depends("target_id")
    def _compute_allowed_kinds(self):
        """A private thread is answered privately only. A comment or post is
        answered publicly, and privately while the network allows it (Meta:
        once, within 7 days); the composer says until when."""
        now = _utc_now()
        for wizard in self:
            target = wizard.target_id
            wizard.public_allowed = target.kind == PUBLIC
            wizard.private_allowed = False
            wizard.window_info = False
            wizard.templates_allowed = wizard.template_required = False
            if not target:
                continue
            if target.kind == PUBLIC and self.env["social.reply"]._private_reply_used(
                target
            ):
                wizard.window_info = self.env._(
                    "This comment already got its one private reply."
                )
                continue
            closes_at = wizard._closes_at(PRIVATE)
            is_open = not closes_at or closes_at > now
            wizard.private_allowed = is_open or target.kind == PRIVATE
            # Templates live on a WhatsApp Business Account: the demo
            # network's WhatsApp samples have none.
            whatsapp = target.account_id.network == "whatsapp"
            wizard.templates_allowed = whatsapp
            wizard.template_required = whatsapp and not is_open
            if not closes_at:
                continue
            until = wizard._format_moment(closes_at)
            if whatsapp and not is_open:
                wizard.window_info = self.env._(
                    "The conversation window closed on %s: only an approved "
                    "template can be sent.",
                    until,
                )
            elif target.kind == PRIVATE:
                wizard.window_info = is_open and self.env._(
                    "Replies possible until %s", until
                )
            elif is_open:
                wizard.window_info = self.env._(
                    "Private replies possible until %s", until
                )
            else:
                wizard.window_info = self.env._(
                    "Private replies were possible until %s", until
                )

    @api.depends("target_id", "template_id")
    def _compute_cost_info(self):
        """On WhatsApp, what the reply will cost (a free-form reply is a
        service message, free within the month's allowance; a template is
        billed by its category) in the customer's country, and the
        account's budget: an agent's reply is never blocked by the budget,
        but the agent knows."""
        for wizard in self:
            account = wizard.target_id.account_id
            category = (wizard.template_id.category or "service").lower()
            wizard.cost_info = account.network == "whatsapp" and (
                account._whatsapp_cost_info(wizard.target_id, category)
            )

    @api.depends("target_id", "kind")
    def _compute_image_allowed(self):
        """Where the network takes an image or a document with this reply,
        and how large."""
        for wizard in self:
            target = wizard.target_id
            adapter = target and target.account_id._get_adapter()
            message = target and target._to_adapter_message()
            limit = target and adapter.image_limit(message, wizard.kind)
            wizard.image_allowed = bool(limit)
            wizard.image_info = limit and (
                self.env._("JPEG or PNG, up to %s MB", limit // 2**20)
                if target.channel_code == "whatsapp"
                else self.env._("JPEG, PNG, GIF or WEBP, up to %s MB", limit // 2**20)
            )
            limit = target and adapter.document_limit(message, wizard.kind)
            wizard.document_allowed = bool(limit)
            wizard.document_info = limit and self.env._(
                "PDF, Word, Excel, PowerPoint or text, up to %s MB", limit // 2**20
            )

    @api.depends("template_id")
    def _compute_template_param_ids(self):
        """The template's variables, prefilled from the ticket and agent."""
        for wizard in self:
            parameters = (
                wizard.template_id._prefill(wizard.ticket_id, self.env.user)
                if wizard.template_id
                else []
            )
            wizard.template_param_ids = [Command.clear()] + [
                Command.create(
                    {
                        "sequence": position,
                        "component": parameter.get("component"),
                        "index": str(parameter.get("index")),
                        "example": parameter.get("example") or False,
                        "value": parameter["value"],
                    }
                )
                for position, parameter in enumerate(parameters)
            ]

    @api.depends("template_id", "template_param_ids.value")
    def _compute_template_preview(self):
        for wizard in self:
            template = wizard.template_id
            wizard.template_preview = (
                template._render(wizard.template_param_ids._as_parameters())
                if template
                else False
            )

    @api.depends("target_id", "kind")
    def _compute_image(self):
        """A reply that takes no image drops the one chosen for another."""
        for wizard in self:
            if not wizard.image_allowed:
                wizard.image = wizard.image_name = False
            else:
                wizard.image, wizard.image_name = wizard.image, wizard.image_name

    @api.depends("target_id", "kind")
    def _compute_text(self):
        """X threads public replies on @handle; other networks need nothing.
        Switching between public and private adds or removes the @handle
        and keeps what the agent wrote."""
        for wizard in self:
            handle = wizard.target_id.identity_id.handle
            mention = f"@{handle}" if handle else ""
            wants_handle = (
                wizard.target_id.channel_code == "x" and wizard.kind == PUBLIC
            )
            body = wizard.text or ""
            if mention and body.startswith(mention):
                body = body[len(mention) :].lstrip(" ")
            wizard.text = f"{mention} {body}" if mention and wants_handle else body

    @api.depends("ticket_id", "target_id", "kind")
    @api.depends_context("uid", "lang")
    def _compute_canned_responses(self):
        """The canned responses of the target's channel and the reply's kind,
        their variables filled in for this ticket and agent, for the text
        field's ``::``."""
        for wizard in self:
            responses = self.env["social.canned.response"].search(
                [
                    "|",
                    ("channel_ids", "=", False),
                    ("channel_ids.code", "=", wizard.target_id.channel_code),
                    ("reply_kind", "in", [False, wizard.kind]),
                ]
            )
            wizard.canned_responses = [
                {
                    "id": response.id,
                    "shortcut": response.shortcut,
                    "name": response.name,
                    "text": response._render(wizard.ticket_id, self.env.user),
                }
                for response in responses
            ]

    @api.depends("text", "kind", "target_id", "template_id")
    def _compute_checks(self):
        for wizard in self:
            wizard.char_count = wizard.warning = False
            wizard.char_limit = 0
            wizard.too_long = wizard.send_blocked = False
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
            wizard.too_long = length > limit
            blocking = wizard._blocking_reason()
            wizard.warning = blocking or wizard._window_warning()
            wizard.send_blocked = bool(blocking)

    def _blocking_reason(self):
        """Why the network would refuse this reply now, or False."""
        if self.template_id:
            return False
        if self.template_required:
            return self.env._(
                "WhatsApp's conversation window is closed: choose an approved template."
            )
        if self.too_long:
            return self.env._("Too long for this network: shorten the reply.")
        if self.kind == PUBLIC and not self.public_allowed:
            return self.env._(
                "A public reply is not possible here: send a private message."
            )
        if self.kind == PRIVATE and not self.private_allowed:
            return self.env._("A private reply is not possible here: reply publicly.")
        closes_at = self._closes_at(self.kind)
        if closes_at and closes_at <= _utc_now():
            return self.env._(
                "The network's reply window closed on %s.",
                self._format_moment(closes_at),
            )
        return False

    def _window_warning(self):
        closes_at = self._closes_at(self.kind)
        if not closes_at:
            return False
        hours_left = (closes_at - _utc_now()).total_seconds() / 3600
        if hours_left <= WINDOW_WARNING_HOURS:
            return self.env._("The reply window closes in %.1f hours.", hours_left)
        return False

    def _closes_at(self, kind):
        target = self.target_id
        return target.account_id._get_adapter().window_closes_at(
            target._to_adapter_message(), kind, target._last_customer_date()
        )

    def _format_moment(self, moment):
        """An aware UTC datetime in the user's time zone and language."""
        naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return format_datetime(self.env, naive, dt_format=WINDOW_FORMAT)

    def action_send(self):
        """Queue the reply; the send job publishes it once this request is
        committed. Publishing here would publish again each time Odoo retries
        the request after a concurrency error."""
        self.ensure_one()
        if self.target_id.ticket_id != self.ticket_id:
            raise UserError(
                self.env._("Answer a message of this ticket, from this ticket.")
            )
        if self.template_id:
            self.env["social.reply"]._queue(
                self.target_id,
                PRIVATE,
                self.template_preview,
                template=self.template_id,
                parameters=self.template_param_ids._as_parameters(),
            )
        else:
            image = self.image and (base64.b64decode(self.image), self.image_name)
            document = self.document and (
                base64.b64decode(self.document),
                self.document_name,
            )
            self.env["social.reply"]._queue(
                self.target_id,
                self.kind,
                self.text,
                image=image or None,
                document=document or None,
            )
        # sudo: agents may not read crons; this only wakes the send job.
        self.env.ref("social_helpdesk.ir_cron_send_social_replies").sudo()._trigger()
        return {"type": "ir.actions.act_window_close"}


def _utc_now():
    return fields.Datetime.now().replace(tzinfo=timezone.utc)
