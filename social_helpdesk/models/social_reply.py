# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
import uuid
from datetime import timedelta, timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import (
    PRIVATE,
    PUBLIC,
    AdapterError,
    AuthError,
    RateLimited,
    ReplyNotAllowed,
    TransientError,
)
from ..adapters.media import Media, sniff_image
from .access import AGENT, require_group
from .social_message import CHANNEL_LABELS, text_to_html

_logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
SENDING_TIMEOUT_MINUTES = 10
# The order of delivery statuses: a reply's state only moves forward. A
# failure stops it, and only a reply not yet delivered can fail.
DELIVERY_RANKS = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


class SocialReply(models.Model):
    """An agent's answer on the network: queued, then sent or failed. The
    idempotency key and the "check before resend" step make sure a retry after
    a timeout never posts twice."""

    _name = "social.reply"
    _description = "Social Reply"
    _order = "id desc"

    ticket_id = fields.Many2one(
        "helpdesk.ticket", required=True, index=True, ondelete="cascade"
    )
    account_id = fields.Many2one("social.account", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    target_id = fields.Many2one(
        "social.message", "In reply to", required=True, ondelete="cascade"
    )
    kind = fields.Selection([(PUBLIC, "Public reply"), (PRIVATE, "Private message")])
    text = fields.Text(required=True)
    user_id = fields.Many2one("res.users", "Sent by", default=lambda s: s.env.user)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sending", "Sending"),
            ("sent", "Published"),
            ("failed", "Failed"),
            ("refused", "Not sent"),
        ],
        default="queued",
        required=True,
        index=True,
    )
    idempotency_key = fields.Char(
        required=True, copy=False, default=lambda s: uuid.uuid4().hex
    )
    may_be_published = fields.Boolean(
        help="A previous attempt timed out: the network may have published it, so "
        "the next attempt looks for it before sending again."
    )
    external_id = fields.Char("Network id", copy=False)
    url = fields.Char(copy=False)
    error = fields.Text(copy=False)
    attempts = fields.Integer(copy=False)
    first_attempt_date = fields.Datetime(
        copy=False,
        help="When the reply first went to the network: after a timeout, only "
        "a message created since then can be this reply.",
    )
    next_attempt_date = fields.Datetime(copy=False)
    sent_date = fields.Datetime(copy=False)
    mail_message_id = fields.Many2one("mail.message", ondelete="set null", copy=False)
    image_id = fields.Many2one(
        "ir.attachment",
        copy=False,
        ondelete="set null",
        help="The image sent with the text, kept on the reply (readable as the "
        "reply is) so that the send job can send it again.",
    )
    automatic = fields.Boolean(
        readonly=True,
        help="A categorization rule's acknowledgement: it does not count as the "
        "ticket's first response.",
    )
    csat_request = fields.Boolean(
        "Satisfaction request",
        readonly=True,
        help="Asks the customer to rate the conversation from 1 to 5 (sent when "
        "a WhatsApp ticket is closed); automatic.",
    )
    delivery_state = fields.Selection(
        [
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("read", "Read"),
            ("failed", "Not delivered"),
        ],
        "Delivery",
        readonly=True,
        copy=False,
        help="What the network reports of the published reply (WhatsApp's "
        "statuses): it never moves back, whatever order the reports come in.",
    )
    delivery_date = fields.Datetime("Delivery reported", readonly=True, copy=False)

    _sql_constraints = [
        ("idempotency_key_uniq", "unique(idempotency_key)", "Replies are unique.")
    ]

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------
    @api.model
    def _queue(
        self,
        target,
        kind,
        text,
        automatic=False,
        image=None,
        csat_request=False,
        **content,
    ):
        """Check the reply against the caller's rights and the network's
        rules, then queue it and show it in the ticket. Refusals are
        UserErrors (AccessErrors for rights) with the reason. Users never
        create or write replies themselves: this is the only way in.
        ``automatic``: a rule's acknowledgement, sent by no agent;
        ``image``: ``(content, file name)`` of one image sent with the text;
        ``content``: a WhatsApp ``document`` or ``template`` (see
        ``_whatsapp_values``); ``csat_request``: a satisfaction request
        (automatic). An automatic message over the account's budget is kept,
        refused, with the reason."""
        automatic = automatic or csat_request
        if not automatic:
            self._check_agent_may_answer(target)
        values = self._whatsapp_values(target, kind, **content)
        text = values.pop("text", text)
        self._check_sendable(
            target, kind, text, automatic=automatic, template=values.get("template_id")
        )
        mimetype = image and self._check_image(target, kind, image[0])
        self._check_rate_limit(target.account_id)
        ticket = target.ticket_id
        document = values.pop("document", None)
        reply = self.sudo().create(
            {
                "ticket_id": ticket.id,
                "account_id": target.account_id.id,
                "target_id": target.id,
                "kind": kind,
                "text": text,
                "automatic": automatic,
                "csat_request": csat_request,
                "user_id": False if automatic else self.env.user.id,
                **values,
            }
        )
        if automatic:
            refusal = target.account_id._whatsapp_budget_reached()
            if refusal:
                reply.write({"state": "refused", "error": refusal})
        if document:
            reply.document_id = reply.document_id.create(
                dict(document, res_model=self._name, res_id=reply.id)
            )
        if image:
            reply.image_id = reply.image_id.create(
                {
                    "name": image[1] or "image",
                    "raw": image[0],
                    "mimetype": mimetype,
                    "res_model": self._name,
                    "res_id": reply.id,
                }
            )
        # Logged, not posted: the reply reaches the customer on the network
        # alone (a posted comment would mail it to the ticket's followers, the
        # customer too), and an agent without an email address can answer.
        reply.mail_message_id = ticket._message_log(
            body=reply._chatter_body(),
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            attachment_ids=(reply.image_id | reply.document_id).ids,
        )
        if not automatic:
            ticket._social_answered()
        return reply.with_env(self.env)

    @api.model
    def _check_agent_may_answer(self, target):
        """The agent works on the ticket (may write it), and the message
        answered is one of the ticket's own, on the ticket's own account."""
        require_group(self.env, AGENT, self.env._("answer customers"))
        ticket = target.ticket_id
        if not ticket:
            raise UserError(self.env._("This message has no ticket to answer from."))
        target.check_access("read")
        ticket.check_access("write")

    @api.model
    def _check_sendable(
        self, target, kind, text, reply=None, automatic=False, template=None
    ):
        """The network's and the account's rules, checked when a reply is
        queued and again when it is sent: the account is connected, is the
        ticket's own and in its company, the text fits, and the platform's
        window is open (an automatic reply's: no human-agent extension;
        a WhatsApp ``template`` id: none).
        ``reply``: the reply being sent (not counted as an earlier private
        reply)."""
        automatic = reply.automatic if reply else automatic
        template = reply.template_id if reply else template
        account = target.account_id
        ticket = target.ticket_id
        if account.state != "connected" or not account.active:
            raise UserError(
                self.env._(
                    "The account %(account)s is not connected: %(reason)s",
                    account=account.name,
                    reason=account.last_error or self.env._("reconnect it first"),
                )
            )
        if (
            not ticket
            or ticket.social_account_id != account
            or ticket.company_id != account.company_id
        ):
            raise UserError(
                self.env._(
                    "The account %(account)s does not answer for this ticket.",
                    account=account.name,
                )
            )
        text = (text or "").strip()
        if not text:
            raise UserError(self.env._("The reply is empty."))
        adapter = account._get_adapter()
        message = target._to_adapter_message()
        length = adapter.text_length(text, message=message, kind=kind)
        limit = adapter.max_length(kind, message=message)
        if length > limit:
            raise UserError(
                self.env._(
                    "The reply is %(length)s characters long; %(network)s allows "
                    "%(limit)s.",
                    length=length,
                    network=CHANNEL_LABELS.get(
                        target.channel_code, target.channel_code
                    ),
                    limit=limit,
                )
            )
        if kind == PUBLIC and target.kind == PRIVATE:
            raise UserError(
                self.env._(
                    "A public reply is not possible on a private conversation: "
                    "send a private message."
                )
            )
        if kind == PRIVATE and self._private_reply_used(target, reply=reply):
            raise UserError(
                self.env._(
                    "This comment already got its one private reply; answer "
                    "publicly or in the Messenger conversation."
                )
            )
        if template:
            return
        try:
            adapter.check_reply(
                message,
                kind,
                fields.Datetime.now().replace(tzinfo=timezone.utc),
                last_customer_at=target._last_customer_date(),
                automatic=automatic,
            )
        except ReplyNotAllowed as exc:
            raise UserError(str(exc)) from exc

    @api.model
    def _check_image(self, target, kind, content):
        """The image's type from its content (JPEG, PNG, GIF or WEBP; the
        file name may lie), where the reply may carry one, within the
        network's size limit."""
        network = CHANNEL_LABELS.get(target.channel_code, target.channel_code)
        limit = target.account_id._get_adapter().image_limit(
            target._to_adapter_message(), kind
        )
        if not limit:
            raise UserError(
                self.env._(
                    "This reply on %s cannot carry an image: send text only.",
                    network,
                )
            )
        mimetype = sniff_image(content or b"")
        if not mimetype:
            raise UserError(
                self.env._("Only a JPEG, PNG, GIF or WEBP image can be sent.")
            )
        if len(content) > limit:
            raise UserError(
                self.env._(
                    "The image is %(size).1f MB; %(network)s allows %(limit).0f MB.",
                    size=len(content) / 2**20,
                    network=network,
                    limit=limit / 2**20,
                )
            )
        return mimetype

    @api.model
    def _private_reply_used(self, target, reply=None):
        """Whether a Facebook or Instagram comment already got the one private
        reply Meta allows (``reply``, the one being sent, aside)."""
        if target.kind != PUBLIC or target.channel_code not in (
            "facebook",
            "instagram",
        ):
            return False
        return bool(
            self.sudo().search_count(
                [
                    ("target_id", "=", target.id),
                    ("kind", "=", PRIVATE),
                    ("state", "!=", "failed"),
                    ("id", "!=", reply.id if reply else False),
                ],
                limit=1,
            )
        )

    @api.model
    def _check_rate_limit(self, account):
        """Refused at once while the network rate-limits the account; a
        queued reply waits for the limit instead (see ``_deliver``)."""
        if account.rate_limited_until and account.rate_limited_until > (
            fields.Datetime.now()
        ):
            raise UserError(
                self.env._(
                    "The network rate-limits %(account)s until %(until)s UTC; send "
                    "the reply after that.",
                    account=account.name,
                    until=account.rate_limited_until,
                )
            )

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------
    @api.model
    def _cron_send(self, limit=20):
        """Deliver due replies; each is committed on its own, before and after
        the network call, so a crash never loses or repeats a publication."""
        Event = self.env["social.event"]
        self._recover_interrupted()
        while True:
            reply = self._claim_one()
            if not reply:
                return
            reply.state = "sending"
            reply._mark_first_attempt()
            Event._commit()
            reply._deliver()
            if not Event._commit():
                return
            limit -= 1
            if not limit:
                self.env.ref("social_helpdesk.ir_cron_send_social_replies")._trigger()
                return

    @api.model
    def _recover_interrupted(self):
        """A reply left "sending" by a crashed worker may be on the network:
        queue it again, to be looked up there before any resend."""
        stale = fields.Datetime.now() - timedelta(minutes=SENDING_TIMEOUT_MINUTES)
        self.search([("state", "=", "sending"), ("write_date", "<", stale)]).write(
            {"state": "queued", "may_be_published": True}
        )

    @api.model
    def _claim_one(self):
        self.flush_model(["state", "next_attempt_date"])
        self.env.cr.execute(
            """
            SELECT id FROM social_reply
            WHERE state = 'queued'
              AND (next_attempt_date IS NULL
                   OR next_attempt_date <= NOW() AT TIME ZONE 'UTC')
            ORDER BY id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _deliver(self):
        """One attempt. The account, ticket, length and window are checked
        again (they may have changed since the reply was queued); a reply that
        may already be on the network (an earlier timeout) is looked up there
        before anything else is checked or sent."""
        self.ensure_one()
        adapter = self.account_id._get_adapter()
        message = self.target_id._to_adapter_message()
        self._mark_first_attempt()
        self.attempts += 1
        try:
            sent = None
            if self.may_be_published:
                sent = adapter.find_sent(
                    message,
                    self.idempotency_key,
                    text=self.text,
                    kind=self.kind,
                    since=self.first_attempt_date.replace(tzinfo=timezone.utc),
                )
                if sent and self.image_id:
                    adapter.complete_sent(
                        message,
                        sent,
                        self._image_to_send()["image"],
                        last_customer_at=self.target_id._last_customer_date(),
                    )
            if not sent and self._awaits_status():
                return
            if not sent and self.automatic:
                refusal = self.account_id._whatsapp_budget_reached()
                if refusal:
                    self.write({"state": "refused", "error": refusal})
                    self._refresh_chatter()
                    return
            if not sent:
                self._check_sendable(self.target_id, self.kind, self.text, reply=self)
                sent = self._send(adapter, message)
        except UserError as exc:
            self._fail(exc.args[0])
        except RateLimited as exc:
            self._retry_later(str(exc), at=exc.reset_at)
        except TransientError as exc:
            self.may_be_published = self.may_be_published or self._may_be_out(exc)
            self._retry_later(str(exc))
        except AuthError as exc:
            # An OAuth 2.0 user token X refused: the next attempt refreshes it.
            if self.account_id._x_token_refused():
                self._retry_later(str(exc))
            else:
                self._fail(str(exc))
        except AdapterError as exc:
            self._fail(str(exc))
        else:
            self._mark_sent(sent)

    def _may_be_out(self, error):  # pylint: disable=unused-argument
        """Whether the reply may be on the network after the TransientError
        ``error`` (a timeout): it is then looked up before any resend."""
        return True

    def _send(self, adapter, message):
        """Publish the reply: its text, with its image or document, or its
        WhatsApp template."""
        if self.template_id:
            return self._send_template(adapter, message)
        if self.csat_request:
            return adapter.send_rating_request(
                message,
                self.text,
                self.idempotency_key,
                last_customer_at=self.target_id._last_customer_date(),
            )
        return adapter.send_reply(
            message,
            self.text,
            self.kind,
            self.idempotency_key,
            last_customer_at=self.target_id._last_customer_date(),
            automatic=self.automatic,
            **self._image_to_send(),
            **self._document_to_send(),
        )

    def _image_to_send(self):
        """``{"image": Media}`` for the adapter when the reply carries one,
        checked again (an attachment could have been replaced)."""
        image = self.image_id.sudo()
        if not image:
            return {}
        content = image.raw or b""
        mimetype = self._check_image(self.target_id, self.kind, content)
        return {"image": Media(content=content, mimetype=mimetype, name=image.name)}

    def _mark_first_attempt(self):
        """Note when the reply first goes to the network (committed before
        the call by the send job). A reply tried before this was recorded
        counts from its queueing, which came earlier still."""
        if not self.first_attempt_date:
            self.first_attempt_date = (
                self.create_date if self.attempts else fields.Datetime.now()
            )

    def _retry_later(self, reason, at=None):
        if self.attempts >= MAX_SEND_ATTEMPTS:
            self._fail(reason)
            return
        backoff = fields.Datetime.now() + timedelta(minutes=2 ** (self.attempts - 1))
        when = at.astimezone(timezone.utc).replace(tzinfo=None) if at else backoff
        self.write({"state": "queued", "error": reason, "next_attempt_date": when})
        self.env.ref("social_helpdesk.ir_cron_send_social_replies")._trigger(when)
        self._refresh_chatter()

    def _fail(self, reason):
        _logger.info("Social reply %s failed: %s", self.id, reason)
        self.write({"state": "failed", "error": reason})
        self._refresh_chatter()
        if not self.automatic:
            self.ticket_id._social_unanswered()

    def _mark_sent(self, sent):
        now = fields.Datetime.now()
        self.account_id._meter_write(self.kind, self.text, f"reply-{self.id}")
        self.write(
            {
                "state": "sent",
                "external_id": sent.external_id,
                "url": self.target_id._safe_link(sent.url) or False,
                "error": False,
                "sent_date": now,
            }
        )
        self._refresh_chatter()
        if not self.automatic:
            self.ticket_id._set_first_response(now)

    @api.model
    def _apply_delivery_statuses(self, account, statuses):
        """Apply ``statuses`` (adapter DeliveryStatus items, in order) of
        ``account``'s messages to the replies they are about, found by
        network id, else by the idempotency key they were sent with: a
        reply whose sending timed out becomes sent with the network's id,
        once (its id set, later statuses find it by that id). Returns the
        reply of each status, an empty record for a message the helpdesk
        did not send. One search for the whole batch."""
        ids = [status.message_id for status in statuses]
        keys = [status.reference for status in statuses if status.reference]
        domain = [("external_id", "in", ids)]
        if keys:
            domain = ["|", *domain, ("idempotency_key", "in", keys)]
        replies = self.sudo().search([("account_id", "=", account.id), *domain])
        by_id = {reply.external_id: reply for reply in replies if reply.external_id}
        by_key = {reply.idempotency_key: reply for reply in replies}
        result = []
        for status in statuses:
            reply = by_id.get(status.message_id)
            if not reply and status.reference in by_key:
                reply = by_key[status.reference]
                if reply.external_id:
                    reply = self.browse()  # another message with its key
                else:
                    reply._adopt(status)
                    by_id[status.message_id] = reply
            if reply:
                reply._apply_delivery(status)
            result.append(reply or self.browse())
        return result

    def _adopt(self, status):
        """The network sent this reply although its sending timed out (or
        seemed to fail): it is sent, with the network's id, and is not
        sent again."""
        _logger.info(
            "Social reply %s was sent as %s (status %s)",
            self.id,
            status.message_id,
            status.status,
        )
        self.write(
            {
                "state": "sent",
                "external_id": status.message_id,
                "error": False,
                "may_be_published": False,
                "next_attempt_date": False,
                "sent_date": _naive(status.at) or fields.Datetime.now(),
            }
        )
        if not self.automatic and status.status != "failed":
            self.ticket_id._set_first_response(self.sent_date)
            self.ticket_id._social_answered()

    def _apply_delivery(self, status):
        """Move the delivery state forward (a late "delivered" never undoes
        "read"); a failure, reported after the reply was published, fails
        the reply and says so on its ticket."""
        self.ensure_one()
        current, new = self.delivery_state, status.status
        if new not in DELIVERY_RANKS or current == "failed":
            return
        if new == "failed":
            if current not in (False, "sent"):
                return
        elif DELIVERY_RANKS[new] <= DELIVERY_RANKS.get(current, 0):
            return
        self.write(
            {
                "delivery_state": new,
                "delivery_date": _naive(status.at) or fields.Datetime.now(),
            }
        )
        if new in ("delivered", "read"):
            self._refresh_chatter()
        if new != "failed":
            return
        reason = status.error or self.env._("no reason given")
        self._fail(reason)
        network = CHANNEL_LABELS.get(self.target_id.channel_code, "")
        self.ticket_id.message_post(
            body=self.with_context(lang=self._chatter_lang()).env._(
                "%(network)s did not deliver the reply: %(reason)s",
                network=network,
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def action_retry(self):
        """Queue failed replies again (the Retry action of the ticket), for
        an agent who may answer on their tickets, once they can be sent."""
        failed = self.filtered(lambda reply: reply.state == "failed")
        for reply in failed:
            self._check_agent_may_answer(reply.target_id)
            if reply.ticket_id != reply.target_id.ticket_id:
                raise UserError(self.env._("This reply no longer has its ticket."))
            self._check_sendable(reply.target_id, reply.kind, reply.text, reply=reply)
        # Sent again, it is a new message on the network, whose delivery
        # starts afresh.
        failed.sudo().write(
            {
                "state": "queued",
                "attempts": 0,
                "next_attempt_date": False,
                "delivery_state": False,
                "delivery_date": False,
            }
        )
        for reply in failed.sudo():
            reply._refresh_chatter()
        failed.filtered(lambda reply: not reply.automatic).ticket_id._social_answered()
        self.env.ref("social_helpdesk.ir_cron_send_social_replies").sudo()._trigger()
        return True

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------
    def _chatter_body(self):
        """The customer-facing text, then one status line, in the language
        of the agent who queued the reply (see ``_chatter_lang``)."""
        self.ensure_one()
        reply = self.with_context(lang=self._chatter_lang())
        network = CHANNEL_LABELS.get(reply.target_id.channel_code, "")
        what = (
            reply.env._("Public reply on %s", network)
            if reply.kind == PUBLIC
            else reply.env._("Private message on %s", network)
        )
        if reply.csat_request:
            what = reply.env._("Satisfaction request: %s", what)
        elif reply.automatic:
            what = reply.env._("Automatic acknowledgement: %s", what)
        if reply.state == "sent" and reply.url:
            status = Markup(
                '%s · <a href="%s" target="_blank" rel="noreferrer">%s</a>'
            ) % (
                reply.env._("Published"),
                reply.url,
                reply.env._("view"),
            )
        elif reply.state == "sent":
            status = reply.env._("Published")
        elif reply.state == "failed":
            status = reply.env._(
                "Failed: %s (Retry it from the Social replies tab.)", reply.error
            )
        elif reply.state == "refused":
            status = reply.env._("Not sent: %s", reply.error)
        else:
            status = reply.env._("Queued")
        if reply.state == "sent" and reply.delivery_state in ("delivered", "read"):
            labels = dict(
                reply._fields["delivery_state"]._description_selection(reply.env)
            )
            status = Markup("%s · %s") % (status, labels[reply.delivery_state])
        return text_to_html(reply.text) + Markup(
            '<p class="o_social_reply_status text-muted small">%s — %s</p>'
        ) % (what, status)

    def _chatter_lang(self):
        """A chatter message is written once, for every reader, in the
        language of whoever wrote it, as Odoo writes its notes: the agent who
        queued the reply, whatever language the send job runs in later. A
        rule's acknowledgement has no agent: the ticket's, else the
        company's language."""
        return (
            self.user_id.lang
            or self.ticket_id.user_id.lang
            or self.company_id.partner_id.lang
            or self.env.lang
        )

    def _refresh_chatter(self):
        """Show the reply's state in its own chatter message, and in no other;
        the agent who sent it sees it change live (it is sent in the
        background)."""
        for reply in self.filtered("mail_message_id"):
            post = reply.mail_message_id.sudo()
            if post.model == "helpdesk.ticket" and post.res_id == reply.ticket_id.id:
                post.body = reply._chatter_body()
                reply.user_id._bus_send_store(
                    post, {"body": post.body, "write_date": post.write_date}
                )


def _naive(moment):
    """An aware datetime as Odoo stores it (naive UTC); None stays None."""
    return moment and moment.astimezone(timezone.utc).replace(tzinfo=None)
