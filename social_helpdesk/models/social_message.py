# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import textwrap
from datetime import timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from ..adapters.base import PRIVATE, PUBLIC, VERB_ADD, VERB_EDIT, Author
from ..adapters.base import SocialMessage as AdapterMessage
from ..rules.acknowledgement import render_template
from .social_identity import identity_network

CHANNEL_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "messenger": "Messenger",
    "instagram": "Instagram",
}


class AuthorBusy(Exception):
    """Another worker is processing a message of the same customer."""


class SocialMessage(models.Model):
    """A customer message received from a network, normalized, and where it
    went: its ticket and its chatter message."""

    _name = "social.message"
    _description = "Social Message"
    _order = "message_date desc, id desc"
    _rec_name = "external_id"
    _rec_names_search = ["external_id", "text"]

    account_id = fields.Many2one(
        "social.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    event_id = fields.Many2one("social.event", index="btree_not_null")
    ticket_id = fields.Many2one("helpdesk.ticket", index="btree_not_null")
    identity_id = fields.Many2one("social.identity", index=True)
    partner_id = fields.Many2one("res.partner", index=True)
    mail_message_id = fields.Many2one("mail.message", ondelete="set null")
    channel_code = fields.Char(required=True)
    kind = fields.Selection([(PUBLIC, "Public"), (PRIVATE, "Private")], required=True)
    external_id = fields.Char("Network message id", required=True)
    conversation_id = fields.Char("Network conversation id", index=True)
    parent_external_id = fields.Char("Answers to (network id)")
    parent_id = fields.Many2one("social.message", "Answers to", index="btree_not_null")
    thread_key = fields.Char(index=True)
    text = fields.Text()
    url = fields.Char()
    lang = fields.Char()
    message_date = fields.Datetime(index=True)
    outcome = fields.Selection(
        [("ticket", "Ticket"), ("observed", "Observed"), ("lead", "CRM lead")],
        default="ticket",
        required=True,
        index=True,
        help="What the categorization rules made of a new conversation.",
    )
    lead_id = fields.Many2one("crm.lead", "CRM lead", index="btree_not_null")
    rule_ids = fields.Many2many("helpdesk.ticket.rule", string="Rules applied")
    rule_log = fields.Char("Why")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("edited", "Edited"),
            ("remove", "Removed by the author"),
            ("hide", "Hidden"),
        ],
        default="received",
        required=True,
    )

    _sql_constraints = [
        (
            "account_external_id_uniq",
            "unique(account_id, external_id)",
            "This message is already stored for this account.",
        )
    ]

    @api.depends("identity_id.handle", "identity_id.display_label", "text")
    def _compute_display_name(self):
        """Who wrote what, as agents recognise a message (not its network id)."""
        for message in self:
            identity = message.identity_id
            author = (
                f"@{identity.handle}" if identity.handle else identity.display_label
            )
            text = textwrap.shorten(message.text or "", 60, placeholder="…")
            label = f"{author}: {text}" if author else text
            message.display_name = label or message.external_id

    # ------------------------------------------------------------------
    # Ingestion
    # ------------------------------------------------------------------
    @api.model
    def _ingest(self, account, event, message):
        """File one adapter SocialMessage: on the right partner, in the right
        ticket, in chatter. Returns the stored record, or an empty recordset
        when the message is noise (the reason is set on the event)."""
        reason = self._ignore_reason(account, message)
        if reason:
            event.ignore_reason = reason
            return self.browse()
        self._lock_author(message)
        if message.verb != VERB_ADD:
            existing = self.search(
                [
                    ("account_id", "=", account.id),
                    ("external_id", "=", message.message_id),
                ],
                limit=1,
            )
            if existing:
                existing._apply_change(message)
                return existing
            if message.verb != VERB_EDIT:
                event.ignore_reason = self.env._(
                    "Removal of a message that was never received."
                )
                return self.browse()
        elif self.search_count(
            [("account_id", "=", account.id), ("external_id", "=", message.message_id)],
            limit=1,
        ):
            event.ignore_reason = self.env._("Already received through another event.")
            return self.browse()
        identity = self.env["social.identity"]._find_or_create(
            message.channel, message.author
        )
        if identity.blocked:
            event.ignore_reason = self.env._("The author is blocked.")
            return self.browse()
        partner = identity.partner_id
        values = {
            "account_id": account.id,
            "event_id": event.id,
            "identity_id": identity.id,
            "partner_id": partner.id,
            "channel_code": message.channel,
            "kind": message.kind,
            "external_id": message.message_id,
            "conversation_id": message.conversation_id,
            "parent_external_id": message.parent_id or False,
            "parent_id": self._find_parent(account, message).id,
            "thread_key": message.thread_key,
            "text": message.text,
            "url": self._safe_link(message.url) or False,
            "lang": message.lang or False,
            "message_date": _naive_utc(message.created_at),
        }
        Ticket = self.env["helpdesk.ticket"]
        ticket, previous = Ticket._social_continuing_ticket(account, message)
        if not ticket:
            ticket = self._apply_rules(account, message, partner, previous, values)
        if ticket:
            values.update(
                ticket_id=ticket.id,
                mail_message_id=ticket._social_post_inbound(message, partner).id,
            )
        record = self.create(values)
        if record.ticket_id and record.rule_ids:
            record._acknowledge()
        return record

    def _find_parent(self, account, message):
        if not message.parent_id:
            return self.browse()
        return self.search(
            [("account_id", "=", account.id), ("external_id", "=", message.parent_id)],
            limit=1,
        )

    def _apply_rules(self, account, message, partner, previous, values):
        """A new conversation: the categorization rules decide whether it
        becomes a ticket (routed by them), an observed message or a CRM lead.
        Returns the new ticket, if any; ``values`` records the outcome."""
        Rule = self.env["helpdesk.ticket.rule"]
        facts = Rule._facts(
            message.text,
            message.channel,
            message.kind,
            lang=message.lang,
            followers=message.author.followers_count,
            partner=partner,
            moment=values["message_date"],
        )
        matches = Rule._evaluate(facts)
        outcome, ticket_values, lead_team = Rule._outcome(matches)
        values.update(
            outcome=outcome if outcome != "observe" else "observed",
            rule_ids=[(6, 0, [rule.id for rule, _why in matches])],
            rule_log=Rule._log_body(matches) if matches else False,
        )
        if outcome == "observe":
            return self.env["helpdesk.ticket"]
        if outcome == "lead":
            values["lead_id"] = self._create_lead(message, partner, lead_team).id
            return self.env["helpdesk.ticket"]
        Ticket = self.env["helpdesk.ticket"].with_context(
            social_helpdesk_rules_done=True
        )
        ticket = Ticket.create(
            dict(
                Ticket._social_ticket_values(account, message, partner, previous),
                **ticket_values,
                rule_ids=values["rule_ids"],
            )
        )
        if matches:
            ticket.message_post(body=values["rule_log"], subtype_xmlid="mail.mt_note")
        return ticket

    def _acknowledge(self):
        """Answer a new ticket's first message as its last matching rule with
        an acknowledgement says: the public text, then the private one. They
        go through the replies' queue and the network's rules; one the network
        would refuse is noted on the ticket, and the message is filed anyway."""
        self.ensure_one()
        rule = self.rule_ids.filtered(
            lambda rule: rule.ack_public_text or rule.ack_private_text
        )[-1:]
        if not rule:
            return
        rule = rule.with_context(lang=self._customer_lang())
        values = {
            "name": self.identity_id.display_label or self.partner_id.name,
            "handle": self.identity_id.handle and f"@{self.identity_id.handle}",
            "ticket": self.ticket_id.number,
        }
        Reply = self.env["social.reply"]
        for kind, template in (
            (PUBLIC, rule.ack_public_text),
            (PRIVATE, rule.ack_private_text),
        ):
            if not template or (kind == PUBLIC and self.kind == PRIVATE):
                continue
            try:
                Reply._queue(
                    self, kind, render_template(template, values), automatic=True
                )
            except UserError as exc:
                self.ticket_id.message_post(
                    body=self.env._(
                        "Automatic acknowledgement (rule %(rule)s) not sent: "
                        "%(reason)s",
                        rule=rule.name,
                        reason=exc.args[0],
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        self.env.ref("social_helpdesk.ir_cron_send_social_replies")._trigger()

    def _customer_lang(self):
        """The installed language closest to the message's, for texts sent
        back to the customer; else the contact's."""
        wanted = (self.lang or "").replace("-", "_").lower()
        if wanted:
            codes = [code for code, _name in self.env["res.lang"].get_installed()]
            for code in codes:
                if code.lower() == wanted:
                    return code
            for code in codes:
                if code.split("_")[0].lower() == wanted.split("_")[0]:
                    return code
        return self.partner_id.lang or self.env.lang

    def _create_lead(self, message, partner, sales_team):
        """Hand a purchase intent to sales: a lead on the customer's contact,
        with their message in its chatter."""
        lead = self.env["crm.lead"].create(
            {
                "name": self._short_title(message),
                "partner_id": partner.id,
                "team_id": sales_team.id,
                "description": plaintext2html(message.text or ""),
            }
        )
        lead.message_post(
            body=self._render_inbound_body(message),
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return lead

    def _ignore_reason(self, account, message):
        if message.is_own:
            return self.env._("Written by the account itself (own post or echo).")
        if message.is_repost and not account.include_reposts:
            return self.env._("A repost; reposts are not turned into tickets.")
        if not message.author or not message.author.external_id:
            return self.env._("The message has no author.")
        return ""

    def _lock_author(self, message):
        """Serialize work on one customer across workers: their identity and
        ticket are found or created by one transaction at a time. A worker that
        finds the customer busy leaves the event for a later batch instead of
        waiting, so two workers can never deadlock on each other's customers."""
        network = identity_network(message.channel)
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(%s))",
            [f"social_helpdesk:{network}:{message.author.external_id}"],
        )
        if not self.env.cr.fetchone()[0]:
            raise AuthorBusy(message.author.external_id)

    def _apply_change(self, message):
        """An edit updates the stored text; a removal or hide is marked, never
        erased. The ticket gets an internal note either way."""
        self.ensure_one()
        if message.verb == VERB_EDIT:
            previous = self.text or ""
            self.write({"text": message.text, "state": "edited"})
            body = Markup("<p>%s</p><blockquote>%s</blockquote><p>%s</p>%s") % (
                self.env._("The customer edited a message. Before:"),
                plaintext2html(previous),
                self.env._("After:"),
                plaintext2html(message.text or ""),
            )
        else:
            self.state = message.verb
            body = Markup("<p>%s</p>") % (
                self.env._("The customer removed this message on the network:")
                if message.verb == "remove"
                else self.env._("This message was hidden on the network:"),
            ) + plaintext2html(self.text or "")
        if self.ticket_id:
            self.ticket_id.message_post(body=body, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------
    # Replies
    # ------------------------------------------------------------------
    def _to_adapter_message(self):
        """The adapter's SocialMessage for this stored message (a reply target)."""
        self.ensure_one()
        identity = self.identity_id
        return AdapterMessage(
            channel=self.channel_code,
            kind=self.kind,
            message_id=self.external_id,
            conversation_id=self.conversation_id or "",
            parent_id=self.parent_external_id or "",
            author=Author(
                external_id=identity.external_id,
                handle=identity.handle or "",
                name=identity.display_label or "",
            ),
            text=self.text or "",
            created_at=self.message_date
            and self.message_date.replace(tzinfo=timezone.utc),
            url=self.url or "",
        )

    def _last_customer_date(self):
        """When the customer last wrote in this message's conversation: the
        start of the platforms' messaging windows (aware UTC)."""
        self.ensure_one()
        last = self.search(
            [
                ("account_id", "=", self.account_id.id),
                ("thread_key", "=", self.thread_key),
            ],
            order="message_date desc",
            limit=1,
        )
        moment = last.message_date or self.message_date
        return moment and moment.replace(tzinfo=timezone.utc)

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------
    @api.model
    def _render_inbound_body(self, message):
        """Chatter body of a customer message: escaped text with clickable
        links, then its attachments and a link to the original post."""
        body = plaintext2html(message.text or "")
        link = Markup('<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>')
        links = [
            link % (self._safe_link(attachment.url), attachment.name or attachment.kind)
            for attachment in message.attachments
            if self._safe_link(attachment.url)
        ]
        if self._safe_link(message.url):
            network = CHANNEL_LABELS.get(message.channel, message.channel)
            links.append(
                link % (self._safe_link(message.url), self.env._("View on %s", network))
            )
        if links:
            body += Markup("<p>%s</p>") % Markup(" · ").join(links)
        return body

    @api.model
    def _safe_link(self, url):
        """Only http(s) links reach an href: a post can't smuggle javascript: in."""
        return url if url and url.lower().startswith(("https://", "http://")) else ""

    @api.model
    def _short_title(self, message):
        author = message.author
        label = f"@{author.handle}" if author.handle else author.name
        text = textwrap.shorten(message.text or "", 60, placeholder="…")
        return f"{label}: {text or '…'}"


def _naive_utc(moment):
    """Odoo stores naive UTC datetimes."""
    if not moment:
        return fields.Datetime.now()
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
