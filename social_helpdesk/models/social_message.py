# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import dataclasses
import logging
import re
import textwrap
from collections import defaultdict
from datetime import timedelta, timezone

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import create_index, plaintext2html

from ..adapters.base import (
    PRIVATE,
    PUBLIC,
    VERB_ADD,
    VERB_EDIT,
    AdapterError,
    AuthError,
    Author,
    RateLimited,
    TransientError,
)
from ..adapters.base import SocialMessage as AdapterMessage
from ..adapters.media import DOWNLOADED_KINDS, fetch_media, image_mimetype
from ..adapters.meta.replies import WINDOW_CHANNELS
from ..rules.acknowledgement import render_template
from .social_account import DEFAULT_API_TIMEOUT_SECONDS

_logger = logging.getLogger(__name__)

# The largest file downloaded from a customer message (system parameter
# social_helpdesk.media_max_bytes); larger ones stay links.
DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024
MEDIA_BATCH = 10
# What a reply window is computed from (helpdesk.ticket.sla._window_query).
WINDOW_FIELDS = {
    "account_id",
    "channel_code",
    "from_ad",
    "kind",
    "message_date",
    "thread_key",
    "ticket_id",
}
# Media the network could not serve for now (down, a timeout, rate limited,
# the token being renewed) are tried again this many times, 5, 15, 45 and
# 135 minutes later: network addresses last days, WhatsApp's media ids 30.
MEDIA_ATTEMPTS = 5
MEDIA_RETRY_MINUTES = 5
# A customer's picture (system parameter social_helpdesk.avatar_max_bytes):
# X takes profile pictures of 2 MB at most.
DEFAULT_AVATAR_MAX_BYTES = 2 * 1024 * 1024
# The post a comment answers is looked up this many times at most.
PARENT_POST_ATTEMPTS = 3
PARENT_POST_PENDING = ("lookup", "download")

# The @handles a reply starts with, which X puts before the customer's words.
LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.]+[\s,:]*)+")
TITLE_LENGTH = 80

# FontAwesome 4.7 as Odoo 18 ships it (its fa-twitter is X's logo); there is
# no Messenger logo.
NETWORK_ICONS = {
    "x": "fa-twitter",
    "facebook": "fa-facebook-square",
    "messenger": "fa-commenting",
    "instagram": "fa-instagram",
    "whatsapp": "fa-whatsapp",
}

CHANNEL_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
}

# A network's own reference to a customer's file (WhatsApp's media id,
# ``whatsapp-media:<id>``): not a web address, downloaded through the
# account's adapter, which looks it up with the account's token.
MEDIA_REFERENCE = re.compile(r"[a-z]+-media:[\w.\-]+")


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
    from_ad = fields.Boolean(
        "From an ad",
        readonly=True,
        help="The customer came from an ad (Meta's referral): the conversation "
        "keeps a 7-day reply window.",
    )

    def init(self):
        """The few threads that came from an ad, found without reading every
        message (the SLA's reply windows ask for them)."""
        result = super().init()
        create_index(
            self.env.cr,
            "social_message_from_ad_thread_index",
            self._table,
            ["account_id", "thread_key"],
            where="from_ad",
        )
        return result

    unsupported_type = fields.Char(
        "Unsupported type",
        readonly=True,
        help="The network's type of a message the helpdesk cannot show (a "
        "WhatsApp poll, say): kept, and shown as such, for an agent to read it "
        "on the phone.",
    )
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
    media = fields.Json(
        readonly=True,
        copy=False,
        help="The photos, videos and files attached on the network, to download.",
    )
    media_pending = fields.Boolean(readonly=True, copy=False, index="btree_not_null")
    media_attempts = fields.Integer("Media downloads tried", readonly=True, copy=False)
    media_next_attempt = fields.Datetime(
        "Next media download",
        readonly=True,
        copy=False,
        help="When the media a network could not serve are tried again.",
    )
    # The brand's post a comment answers, quoted above it in the chatter.
    parent_post_external_id = fields.Char(
        "Answers the post (network id)", readonly=True
    )
    parent_post_text = fields.Text("Quoted post text", readonly=True)
    parent_post_url = fields.Char("Quoted post URL", readonly=True)
    parent_post_image_url = fields.Char("Quoted post image URL", readonly=True)
    parent_post_image_id = fields.Many2one(
        "ir.attachment", "Quoted post image", readonly=True, ondelete="set null"
    )
    parent_post_state = fields.Selection(
        [
            ("lookup", "To read from the network"),
            ("download", "Image to download"),
            ("done", "Quoted"),
            ("failed", "Not found"),
        ],
        "Quoted post",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    parent_post_attempts = fields.Integer(
        "Quoted post lookups", readonly=True, copy=False
    )
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

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._update_windows()
        return records

    def write(self, vals):
        if not vals.keys() & WINDOW_FIELDS:
            return super().write(vals)
        before = self._window_tickets()
        result = super().write(vals)
        self._update_windows(before)
        return result

    def unlink(self):
        tickets = self._window_tickets()
        result = super().unlink()
        self.env["helpdesk.ticket.sla"]._update_windows(tickets.exists().ids)
        return result

    def _update_windows(self, tickets=None):
        """The reply windows these messages count in (and those of
        ``tickets``, which they left) are stored again."""
        tickets = (tickets or self.env["helpdesk.ticket"]) | self._window_tickets()
        self.env["helpdesk.ticket.sla"]._update_windows(tickets.ids)

    def _window_tickets(self):
        """The tickets whose reply windows these messages count in. (A
        thread's messages on an earlier, closed ticket are not looked up: a
        referral filed late moves only the window of the ticket it joins.)"""
        meta = self.filtered(lambda message: message.channel_code in WINDOW_CHANNELS)
        return meta.ticket_id.sudo()

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
    def _ingest(self, entries):
        """File adapter SocialMessages, given as (event, message) pairs with
        at most one message per customer and per conversation: on the right
        partner, in the right ticket, in chatter, with set-based queries.
        Returns a list aligned with ``entries``: the stored record, or an
        empty recordset when the message is noise (the reason is set on its
        event)."""
        results = [self.browse()] * len(entries)
        existing = self._find_received(
            [(event.account_id, message.message_id) for event, message in entries]
        )
        new, seen = [], set()  # indexes of the messages to store; their keys
        for index, (event, message) in enumerate(entries):
            account = event.account_id
            reason = self._ignore_reason(account, message)
            found = existing.get((account.id, message.message_id))
            if not reason and message.verb != VERB_ADD:
                if found:
                    found._apply_change(message)
                    results[index] = found
                    continue
                if message.verb != VERB_EDIT:
                    reason = self.env._("Removal of a message that was never received.")
            elif not reason and (found or (account.id, message.message_id) in seen):
                reason = self.env._("Already received through another event.")
            if reason:
                event.ignore_reason = reason
                continue
            seen.add((account.id, message.message_id))
            new.append(index)
        identities = self.env["social.identity"]._find_or_create(
            [(entries[index][1].channel, entries[index][1].author) for index in new],
            companies=[entries[index][0].account_id.company_id for index in new],
        )
        filed = []  # (index, message, values) of the messages stored
        for index, identity in zip(new, identities, strict=True):
            event, message = entries[index]
            if identity.blocked:
                event.ignore_reason = self.env._("The author is blocked.")
                continue
            message = _in_customer_thread(message, identity)
            filed.append((index, message, self._values(event, message, identity)))
        parents = self._find_received(
            [
                (entries[index][0].account_id, message.parent_id)
                for index, message, _values in filed
                if message.parent_id
            ]
        )
        continued, leads = self._continued_conversations(entries, filed)
        opened = [
            (values, message, previous)
            for (_index, message, values), (ticket, previous), lead in zip(
                filed, continued, leads, strict=True
            )
            if not ticket and not lead
        ]
        new_tickets = iter(self._open_conversations(opened))
        answered = self._known_parents(
            parents,
            [
                (values["account_id"], message.parent_id)
                for _i, message, values in filed
            ],
        )
        for (_index, message, values), (ticket, _previous), lead in zip(
            filed, continued, leads, strict=True
        ):
            values["parent_id"] = parents.get(
                (values["account_id"], message.parent_id), self.browse()
            ).id
            parent = answered[values["account_id"], message.parent_id]
            if message.parent_post and not parent:
                values.update(self._parent_post_values(message.parent_post))
            partner = self.env["res.partner"].browse(values["partner_id"])
            if lead:
                post = lead.message_post(
                    body=self._render_inbound_body(message, parent),
                    author_id=partner.id,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                values.update(outcome="lead", lead_id=lead.id, mail_message_id=post.id)
                continue
            ticket = ticket or next(new_tickets)
            if ticket:
                post = ticket._social_post_inbound(message, partner, parent=parent)
                values.update(ticket_id=ticket.id, mail_message_id=post.id)
        records = self.create([values for _index, _message, values in filed])
        records._link_parents_received_together()
        # A reaction (a thumbs up to the answer) asks for nothing more.
        reactions = {
            record.id
            for record, (_i, message, _v) in zip(records, filed, strict=True)
            if reacted_to(message) is not None
        }
        self.env["helpdesk.ticket"]._social_customer_wrote(
            records.filtered(lambda record: record.id not in reactions)
        )
        if (
            any(records.mapped("media_pending"))
            or any(records.mapped("parent_post_state"))
            or any(records.identity_id.mapped("avatar_pending"))
        ):
            self.env.ref("social_helpdesk.ir_cron_fetch_social_media")._trigger()
        for (index, _message, _values), record in zip(filed, records, strict=True):
            results[index] = record
            if record.ticket_id and record.rule_ids:
                record._acknowledge()
        return results

    @api.model
    def _continued_conversations(self, entries, filed):
        """Where the ``filed`` messages go when they continue a conversation:
        ``((ticket, previous) pairs, leads)``, aligned with ``filed``. A
        thread goes where its last message went (a ticket, open or reopened
        within the window, or a CRM lead); a private message that starts a
        thread joins its author's public ticket on the account, if the
        account says so. Set-based: one search for the threads, one for the
        public tickets."""
        Ticket = self.env["helpdesk.ticket"]
        conversations = [
            (entries[index][0].account_id, message.thread_key)
            for index, message, _values in filed
        ]
        ends = self._thread_ends(conversations)
        continued = Ticket._social_continuing_tickets(
            [
                (account, end.ticket_id)
                for (account, _key), end in zip(conversations, ends, strict=True)
            ],
            quiet=[reacted_to(message) is not None for _i, message, _v in filed],
        )
        leads = [
            end.lead_id if not end.ticket_id else end.lead_id.browse() for end in ends
        ]
        joining = [
            position
            for position, ((_i, message, _v), (ticket, _p), lead, (account, _k)) in (
                enumerate(zip(filed, continued, leads, conversations, strict=True))
            )
            if not ticket
            and not lead
            and message.kind == PRIVATE
            and account.dm_joins_public_ticket
        ]
        public = Ticket._social_public_tickets(
            [
                (conversations[position][0], filed[position][2]["partner_id"])
                for position in joining
            ]
        )
        for position, ticket in zip(joining, public, strict=True):
            if ticket:
                continued[position] = (ticket, Ticket)
        return continued, leads

    @api.model
    def _thread_ends(self, conversations):
        """The last message of each conversation (``(account, thread key)``
        pairs) that went to a ticket or a lead, in order (else an empty
        recordset): conversations move with their messages (a DM joined to a
        public ticket, a thread moved between a lead and a ticket)."""
        if not conversations:
            return []
        groups = self._read_group(
            [
                ("account_id", "in", list({a.id for a, _key in conversations})),
                ("thread_key", "in", list({key for _a, key in conversations})),
                "|",
                ("ticket_id", "!=", False),
                ("lead_id", "!=", False),
            ],
            ["account_id", "thread_key"],
            ["id:max"],
        )
        ends = {
            (account.id, key): self.browse(last_id) for account, key, last_id in groups
        }
        return [ends.get((a.id, key), self.browse()) for a, key in conversations]

    @api.model
    def _find_received(self, keys):
        """The stored messages of ``keys`` ((account, network message id)
        pairs), by (account id, message id), in one search."""
        if not keys:
            return {}
        return {
            (message.account_id.id, message.external_id): message
            for message in self.search(
                [
                    ("account_id", "in", list({account.id for account, _id in keys})),
                    (
                        "external_id",
                        "in",
                        list({external_id for _a, external_id in keys}),
                    ),
                ]
            )
        }

    @api.model
    def _values(self, event, message, identity):
        """A new record's values for an adapter message (without its parent,
        ticket and chatter message)."""
        return {
            "account_id": event.account_id.id,
            "event_id": event.id,
            "identity_id": identity.id,
            "partner_id": identity.partner_id.id,
            "channel_code": message.channel,
            "kind": message.kind,
            "external_id": message.message_id,
            "conversation_id": message.conversation_id,
            "parent_external_id": message.parent_id or False,
            "thread_key": message.thread_key,
            "text": message.text,
            "url": self._safe_link(message.url) or False,
            "lang": message.lang or False,
            "message_date": _naive_utc(message.created_at),
            "from_ad": message.from_ad,
            "unsupported_type": message.unsupported_type or False,
            **self._media_values(message),
        }

    @api.model
    def _media_values(self, message):
        """The media to download from a new message: files hosted by the
        network (web addresses, or the network's references to them), not
        the links the customer shared."""
        media = [
            {"url": attachment.url, "kind": attachment.kind, "name": attachment.name}
            for attachment in message.attachments
            if attachment.kind in DOWNLOADED_KINDS
            and (
                self._safe_link(attachment.url)
                or MEDIA_REFERENCE.fullmatch(attachment.url)
            )
        ]
        return {"media": media or False, "media_pending": bool(media)}

    @api.model
    def _parent_post_values(self, post):
        """The values of the post a new message answers: all of it when the
        payload carried it, else its id, to look up."""
        values = {
            "parent_post_external_id": post.post_id,
            "parent_post_state": "lookup",
        }
        if post.text is not None:
            values.update(
                parent_post_text=post.text,
                parent_post_url=self._safe_link(post.url) or False,
                parent_post_image_url=self._safe_link(post.image_url) or False,
                parent_post_state="download",
            )
        return values

    def _link_parents_received_together(self):
        """Answers whose parent arrived in the same batch: their parent did not
        exist yet when the batch was looked up."""
        created = {
            (record.account_id.id, record.external_id): record for record in self
        }
        for record in self:
            if record.parent_external_id and not record.parent_id:
                parent = created.get((record.account_id.id, record.parent_external_id))
                if parent:
                    record.parent_id = parent

    @api.model
    def _open_conversations(self, opened):
        """New conversations: the categorization rules of the account's company
        decide whether each becomes a ticket (routed by them), an observed
        message or a CRM lead.
        ``opened``: (values, message, previous closed ticket) triples; the
        values record the outcome. Returns the new tickets, created at once,
        in order (an empty recordset for an observed message or a lead)."""
        Rule = self.env["helpdesk.ticket.rule"]
        # As Odoo's mail gateway creates a record from an email: the cron's
        # user does not follow it, and the customer's message, posted next,
        # is the ticket's creation message.
        Ticket = self.env["helpdesk.ticket"].with_context(
            social_helpdesk_rules_done=True,
            mail_create_nosubscribe=True,
            mail_create_nolog=True,
        )
        tickets_values = []
        channels = {}  # (network channel code, company): helpdesk channel
        open_tickets = self._open_tickets_of(
            self.env["res.partner"].browse(
                [values["partner_id"] for values, _m, _p in opened]
            )
        )
        for values, message, previous in opened:
            account = self.env["social.account"].browse(values["account_id"])
            channel_key = (message.channel, account.company_id)
            if channel_key not in channels:
                channels[channel_key] = self.env[
                    "helpdesk.ticket.channel"
                ]._get_by_code(*channel_key)
            partner = self.env["res.partner"].browse(values["partner_id"])
            facts = Rule._facts(
                message.text,
                message.channel,
                message.kind,
                account.company_id,
                lang=message.lang,
                followers=message.author.followers_count,
                partner=partner,
                moment=values["message_date"],
            )
            matches = Rule._evaluate(facts, account.company_id)
            outcome, ticket_values, lead_team = Rule._outcome(matches)
            rule_log = Rule._log_body(matches) if matches else False
            open_ticket = open_tickets.get(
                (partner.commercial_partner_id, account.company_id)
            )
            if outcome == "lead" and open_ticket:
                # A customer being helped is not diverted to sales.
                outcome = "ticket"
                rule_log += " " + self.env._(
                    "No CRM lead: the contact has an open ticket (%s).",
                    open_ticket.display_name,
                )
            values.update(
                outcome=outcome if outcome != "observe" else "observed",
                rule_ids=[(6, 0, [rule.id for rule, _why in matches])],
                rule_log=rule_log,
            )
            if outcome == "observe":
                continue
            if outcome == "lead":
                values["lead_id"] = self._create_lead(
                    message, partner, lead_team, account.company_id
                ).id
                continue
            tickets_values.append(
                dict(
                    Ticket._social_ticket_values(
                        account, message, partner, previous, channels[channel_key]
                    ),
                    **ticket_values,
                    rule_ids=values["rule_ids"],
                )
            )
        created = iter(Ticket.create(tickets_values))
        tickets = [
            next(created) if values["outcome"] == "ticket" else Ticket
            for values, _message, _previous in opened
        ]
        Ticket._social_demo_backdate(
            {
                ticket.id: values["message_date"]
                for ticket, (values, _message, _previous) in zip(
                    tickets, opened, strict=True
                )
                if ticket
                and values["message_date"]
                and ticket.social_account_id.network == "demo"
            }
        )
        opening = [
            (ticket, message)
            for ticket, (_values, message, _previous) in zip(
                tickets, opened, strict=True
            )
            if ticket
        ]
        if opening:
            Ticket.browse(
                [ticket.id for ticket, _message in opening]
            )._social_note_opening([message for _ticket, message in opening])
        notes = {
            ticket.id: escape(values["rule_log"])
            for ticket, (values, _message, _previous) in zip(
                tickets, opened, strict=True
            )
            if ticket and values["rule_log"]
        }
        if notes:
            Ticket.browse(list(notes))._message_log_batch(bodies=notes)
        return tickets

    @api.model
    def _open_tickets_of(self, partners):
        """An open ticket of each of these contacts' commercial entities, by
        (commercial partner, company), in one search."""
        commercial = partners.commercial_partner_id
        if not commercial:
            return {}
        return {
            (ticket.commercial_partner_id, ticket.company_id): ticket
            for ticket in self.env["helpdesk.ticket"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "in", commercial.ids),
                    ("stage_id.closed", "=", False),
                ],
                order="id desc",
            )
        }

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

    def _create_lead(self, message, partner, sales_team, company):
        """Hand a purchase intent to sales: a lead of the account's company on
        the customer's contact, with their message in its chatter."""
        lead = (
            self.env["crm.lead"]
            .with_company(company)
            .create(
                {
                    "name": self._short_title(message),
                    "partner_id": partner.id,
                    "team_id": sales_team.id,
                    "company_id": company.id,
                    "description": text_to_html(message.text),
                }
            )
        )
        lead.message_post(
            body=self._render_inbound_body(message),
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return lead

    def _move_to(self, target, source):
        """Move a conversation (these messages) from ``source`` to ``target``,
        a ticket or a CRM lead: each message's chatter entry is posted again
        on the target, with its author and date, and the message linked to
        it; both records say where the conversation went."""
        to_ticket = target._name == "helpdesk.ticket"
        for message in self.sorted(lambda message: (message.message_date, message.id)):
            entry = message.mail_message_id
            post = target.message_post(
                body=entry.body or plaintext2html(message.text or ""),
                author_id=message.partner_id.id,
                date=entry.date or message.message_date,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            message.write(
                {
                    "ticket_id": target.id if to_ticket else False,
                    "lead_id": False if to_ticket else target.id,
                    "outcome": "ticket" if to_ticket else "lead",
                    "mail_message_id": post.id,
                }
            )
        source.message_post(
            body=escape(self.env._("This social conversation was moved to %s."))
            % target._get_html_link(),
            subtype_xmlid="mail.mt_note",
        )
        target.message_post(
            body=escape(self.env._("This social conversation was moved here from %s."))
            % source._get_html_link(),
            subtype_xmlid="mail.mt_note",
        )

    def _ignore_reason(self, account, message):
        if message.is_own:
            return self.env._("Written by the account itself (own post or echo).")
        if message.is_repost and not account.include_reposts:
            return self.env._("A repost; reposts are not turned into tickets.")
        if not message.author or not message.author.external_id:
            return self.env._("The message has no author.")
        return ""

    def _apply_change(self, message):
        """An edit updates the stored text; a removal or hide is marked, never
        erased. The ticket gets an internal note either way."""
        self.ensure_one()
        if message.verb == VERB_EDIT:
            previous = self.text or ""
            self.write({"text": message.text, "state": "edited"})
            body = Markup("<p>%s</p><blockquote>%s</blockquote><p>%s</p>%s") % (
                self.env._("The customer edited a message. Before:"),
                text_to_html(previous),
                self.env._("After:"),
                text_to_html(message.text),
            )
        else:
            self.state = message.verb
            body = Markup("<p>%s</p>") % (
                self.env._("The customer removed this message on the network:")
                if message.verb == "remove"
                else self.env._("This message was hidden on the network:"),
            ) + text_to_html(self.text)
        if self.ticket_id:
            self.ticket_id.message_post(body=body, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------
    # Media
    # ------------------------------------------------------------------
    @api.model
    def _cron_fetch_media(self, limit=MEDIA_BATCH):
        """Download the media of customer messages, once, into attachments of
        their chatter message: the chatter previews images and lists other
        files, from Odoo (network addresses expire, and an image loaded from
        the network would tell it who reads the ticket). A file over the size
        limit, or that fails, stays a link in the message."""
        params = self.env["ir.config_parameter"].sudo()
        max_bytes = int(
            params.get_param("social_helpdesk.media_max_bytes", DEFAULT_MEDIA_MAX_BYTES)
        )
        timeout = float(
            params.get_param(
                "social_helpdesk.api_timeout_seconds", DEFAULT_API_TIMEOUT_SECONDS
            )
        )
        messages = self.search(self._media_due_domain(), order="id", limit=limit)
        adapters = {}
        for message in messages:
            account = message.account_id
            if account not in adapters:
                adapters[account] = account._get_adapter()
            message._fetch_media(adapters[account], max_bytes, timeout)
        avatar_max_bytes = int(
            params.get_param(
                "social_helpdesk.avatar_max_bytes", DEFAULT_AVATAR_MAX_BYTES
            )
        )
        Identity = self.env["social.identity"]
        identities = Identity.search(
            [("avatar_pending", "=", True)], order="id", limit=limit
        )
        identities._fetch_avatars(avatar_max_bytes, timeout)
        quoting = self.search(
            [("parent_post_state", "in", PARENT_POST_PENDING)], order="id", limit=limit
        )
        quoting._fetch_parent_posts(max_bytes, timeout)
        self.env["ir.cron"]._notify_progress(
            done=len(messages) + len(identities) + len(quoting),
            remaining=self.search_count(self._media_due_domain())
            + Identity.search_count([("avatar_pending", "=", True)])
            + self.search_count([("parent_post_state", "in", PARENT_POST_PENDING)]),
        )

    @api.model
    def _media_due_domain(self):
        return [
            ("media_pending", "=", True),
            "|",
            ("media_next_attempt", "=", False),
            ("media_next_attempt", "<=", fields.Datetime.now()),
        ]

    def _fetch_media(self, adapter, max_bytes, timeout):
        """Download through the account's ``adapter``: a network whose files
        need its token (WhatsApp's media ids) looks them up first. A file the
        network cannot serve for now is tried again later (MEDIA_ATTEMPTS);
        one it refuses, or over the limit, stays a link."""
        self.ensure_one()
        post = self.mail_message_id
        # Content decides the type, never the server's word: markup would be
        # served as a page of Odoo's own site.
        Attachment = self.env["ir.attachment"].with_context(
            attachments_mime_plainxml=True
        )
        attachments = Attachment.browse()
        items, retry = [dict(item) for item in self.media or []], False
        for item in items if post else []:
            if item.get("done"):
                continue
            try:
                media = adapter.download_media(item["url"], max_bytes, timeout)
            except (TransientError, RateLimited, AuthError) as exc:
                retry = self.media_attempts + 1 < MEDIA_ATTEMPTS
                _logger.info(
                    "Media of social message %s not served (%s): %s",
                    self.id,
                    "tried again later" if retry else "kept as a link",
                    exc,
                )
                continue
            except AdapterError as exc:
                _logger.info(
                    "Media of social message %s kept as a link: %s", self.id, exc
                )
                item["done"] = True
                continue
            attachments |= Attachment.create(
                {
                    "name": item.get("name") or media.name,
                    "raw": media.content,
                    "res_model": post.model,
                    "res_id": post.res_id,
                }
            )
            item["done"] = True
        if attachments:
            post.attachment_ids = [Command.link(a.id) for a in attachments]
        if retry:
            delay = MEDIA_RETRY_MINUTES * 3**self.media_attempts
            self.write(
                {
                    "media": items,
                    "media_attempts": self.media_attempts + 1,
                    "media_next_attempt": fields.Datetime.now()
                    + timedelta(minutes=delay),
                }
            )
        else:
            self.write({"media": items, "media_pending": False})

    def _fetch_parent_posts(self, max_bytes, timeout):
        """Quote the posts these comments answer: each post is read once per
        account (many comments share one), from an earlier message that
        quoted it, else from the network, its reads metered; its image is
        downloaded as customers' media are."""
        groups = defaultdict(self.browse)
        for message in self:
            groups[message.account_id, message.parent_post_external_id] |= message
        quoted = {
            (message.account_id, message.parent_post_external_id): message
            for message in self.search(
                [
                    ("account_id", "in", self.account_id.ids),
                    ("parent_post_external_id", "in", [key[1] for key in groups]),
                    ("parent_post_state", "=", "done"),
                ],
                order="id",
            )
        }
        for (account, post_id), messages in groups.items():
            source = quoted.get((account, post_id)) or messages[0]
            if source.parent_post_state == "lookup" and not source._look_up_post():
                if source.parent_post_state == "failed":
                    (messages - source).parent_post_state = "failed"
                continue
            if source.parent_post_state == "download":
                source._download_parent_post_image(max_bytes, timeout)
            for message in messages - source:
                message._copy_parent_post(source)
            messages._quote_parent_post()

    def _look_up_post(self):
        """Read the post from the network; False when it is not known (yet)."""
        self.ensure_one()
        account = self.account_id
        try:
            post = account._get_adapter().fetch_post(
                self.channel_code, self.parent_post_external_id
            )
        except AdapterError as exc:
            account._meter_reads(exc.reads)
            _logger.info("Post quoted by social message %s not read: %s", self.id, exc)
            attempts = self.parent_post_attempts + 1
            self.write(
                {
                    "parent_post_attempts": attempts,
                    "parent_post_state": "lookup"
                    if attempts < PARENT_POST_ATTEMPTS
                    else "failed",
                }
            )
            return False
        account._meter_reads(post.reads)
        self.write(self._parent_post_values(post))
        return True

    def _download_parent_post_image(self, max_bytes, timeout):
        """The post's image as an attachment of the message's record: shown
        from Odoo, like customers' media. Anything but an image is dropped."""
        self.ensure_one()
        post = self.mail_message_id
        url = self.parent_post_image_url
        if post and url:
            try:
                media = fetch_media(url, max_bytes, timeout)
            except AdapterError as exc:
                _logger.info("Image of a quoted post not downloaded: %s", exc)
            else:
                if image_mimetype(media.content):
                    self.parent_post_image_id = (
                        self.env["ir.attachment"]
                        .with_context(attachments_mime_plainxml=True)
                        .create(
                            {
                                "name": media.name,
                                "raw": media.content,
                                "res_model": post.model,
                                "res_id": post.res_id,
                            }
                        )
                    )
        self.parent_post_state = "done"

    def _copy_parent_post(self, source):
        """The post ``source`` quotes, quoted by this message too; its image
        attached once per record (the file itself is stored once)."""
        self.ensure_one()
        image = source.parent_post_image_id
        post = self.mail_message_id
        if (
            image
            and post
            and (image.res_model, image.res_id)
            != (
                post.model,
                post.res_id,
            )
        ):
            image = image.copy({"res_model": post.model, "res_id": post.res_id})
        self.write(
            {
                "parent_post_text": source.parent_post_text,
                "parent_post_url": source.parent_post_url,
                "parent_post_image_url": source.parent_post_image_url,
                "parent_post_image_id": image.id if post else False,
                "parent_post_state": source.parent_post_state,
            }
        )

    def _quote_parent_post(self):
        """Put the quoted post in each message's chatter entry, after the line
        that names the network and the author."""
        for message in self.filtered(lambda m: m.parent_post_state == "done"):
            entry = message.mail_message_id.sudo()
            if not entry:
                continue
            quote = message._render_parent_post()
            body = str(entry.body or "")
            # The header is the body's first paragraph (_render_inbound_body).
            head, end, rest = body.partition("</p>")
            if end and "o_social_header" in head:
                body = Markup(head + end) + quote + Markup(rest)
            else:
                body = quote + Markup(body)
            entry.body = body

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
                phone=identity.phone or "",
            ),
            text=self.text or "",
            created_at=self.message_date
            and self.message_date.replace(tzinfo=timezone.utc),
            url=self.url or "",
            from_ad=self._thread_from_ad(),
        )

    def _thread_from_ad(self):
        """Whether this message's conversation was started from an ad."""
        self.ensure_one()
        return bool(
            self.search_count(
                [
                    ("account_id", "=", self.account_id.id),
                    ("thread_key", "=", self.thread_key),
                    ("from_ad", "=", True),
                ],
                limit=1,
            )
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
    def _render_inbound_body(self, message, parent=None):
        """Chatter body of a customer message, every part of it escaped: a
        line with the network's icon, the author (linked to their profile)
        and a link to the original; the post or message it answers, when
        known (``parent``: a stored message or one of our replies); the ad
        the customer came from; the text with clickable links; its media."""
        network = CHANNEL_LABELS.get(message.channel, message.channel)
        link = Markup('<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>')
        author = message.author
        who = f"@{author.handle}" if author.handle else author.name or author.phone
        if self._safe_link(author.profile_url):
            who = link % (self._safe_link(author.profile_url), who)
        icon = Markup(
            '<span class="fa %s o_social_icon o_social_icon_%s" title="%s"></span>'
        ) % (
            NETWORK_ICONS.get(message.channel, "fa-comments"),
            message.channel,
            network,
        )
        header = [escape(who)]
        if self._safe_link(message.url):
            header.append(
                link % (self._safe_link(message.url), self.env._("View on %s", network))
            )
        body = Markup('<p class="o_social_header small text-muted">%s %s</p>') % (
            icon,
            Markup(" · ").join(header),
        )
        if parent:
            body += self._render_parent(parent)
        if message.from_ad:
            body += self._render_ad(message)
        body += text_to_html(message.text)
        return body + self._render_media(message)

    @api.model
    def _render_media(self, message):
        """Links to the message's media (a name only for a network's own
        reference: its file is attached once downloaded) and, on WhatsApp,
        to the links it carries beside its text (a location's map)."""
        link = Markup('<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>')
        media = [
            link % (self._safe_link(attachment.url), self._media_label(attachment))
            if self._safe_link(attachment.url)
            else escape(self._media_label(attachment))
            for attachment in message.attachments
            if self._safe_link(attachment.url)
            or MEDIA_REFERENCE.fullmatch(attachment.url)
        ]
        if message.channel == "whatsapp":
            media += [
                link % (url, textwrap.shorten(url, 60, placeholder="…"))
                for url in map(self._safe_link, message.links)
                if url and url not in (message.text or "")
            ]
        if not media:
            return Markup()
        return Markup('<p class="o_social_media small">%s</p>') % Markup(" · ").join(
            media
        )

    @api.model
    def _render_ad(self, message):
        """The ad the customer came from (Meta's referral: its headline and
        address), as a line above their words."""
        raw = message.raw if isinstance(message.raw, dict) else {}
        inner = raw.get("message") if isinstance(raw.get("message"), dict) else {}
        referral = inner.get("referral") or raw.get("referral")
        referral = referral if isinstance(referral, dict) else {}
        headline = referral.get("headline")
        label = self.env._("From an ad")
        if isinstance(headline, str) and headline.strip():
            label = self.env._("From the ad “%s”", headline.strip())
        source = referral.get("source_url")
        url = self._safe_link(source) if isinstance(source, str) else ""
        if url:
            label = Markup(
                '<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>'
            ) % (url, label)
        return Markup('<p class="o_social_ad small text-muted">%s</p>') % label

    @api.model
    def _render_parent(self, parent):
        """The message a comment answers, quoted: a customer's earlier
        message or the brand's reply, its author and its text, linked."""
        if parent._name == "social.reply":
            author, text = parent.account_id.name, parent.text
        else:
            identity = parent.identity_id
            author = (
                f"@{identity.handle}" if identity.handle else identity.display_label
            )
            text = parent.text
        label = escape(self.env._("In reply to %s", author or "…"))
        url = self._safe_link(parent.url)
        if url:
            label = Markup(
                '<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>'
            ) % (url, label)
        quoted = textwrap.shorten(text or "", 280, placeholder="…")
        # Not a <blockquote>: the chatter would fold it away as an email's
        # quoted history.
        return Markup(
            '<div class="o_social_parent small text-muted border-start ps-2">'
            '%s<br/><span dir="auto">%s</span></div>'
        ) % (label, quoted)

    def _render_parent_post(self):
        """The brand's post this comment answers, quoted: its text and image,
        linked to the post; every part escaped."""
        self.ensure_one()
        label = escape(self.env._("In reply to %s", self.account_id.name))
        url = self._safe_link(self.parent_post_url)
        link = Markup('<a href="%s" target="_blank" rel="noreferrer noopener">%s</a>')
        if url:
            label = link % (url, label)
        quoted = textwrap.shorten(self.parent_post_text or "", 280, placeholder="…")
        image = Markup()
        if self.parent_post_image_id:
            image = Markup(
                '<img src="/web/image/%s" alt="%s" class="o_social_parent_image '
                'd-block mt-1 rounded" style="max-width: 100%%;"/>'
            ) % (self.parent_post_image_id.id, self.env._("Image"))
            if url:
                image = link % (url, image)
        return Markup(
            '<div class="o_social_parent o_social_parent_post small text-muted '
            'border-start ps-2">%s<br/><span dir="auto">%s</span>%s</div>'
        ) % (label, quoted, image)

    @api.model
    def _media_label(self, attachment):
        labels = {
            "image": self.env._("Image"),
            "video": self.env._("Video"),
            "audio": self.env._("Audio"),
            "link": self.env._("Link"),
        }
        return attachment.name or labels.get(attachment.kind) or self.env._("File")

    @api.model
    def _known_parents(self, parents, keys):
        """The stored message, else our own reply, that each of ``keys``
        ((account id, network parent id) pairs) answers, in one search for
        the replies: ``parents`` holds the messages found already."""
        missing = {key for key in keys if key[1] and key not in parents}
        replies = {}
        if missing:
            for reply in self.env["social.reply"].search(
                [
                    ("account_id", "in", list({account for account, _i in missing})),
                    ("external_id", "in", list({ext for _a, ext in missing})),
                ]
            ):
                replies[reply.account_id.id, reply.external_id] = reply
        return {key: parents.get(key) or replies.get(key) for key in keys}

    @api.model
    def _safe_link(self, url):
        """Only http(s) links reach an href: a post can't smuggle javascript: in."""
        return url if url and url.lower().startswith(("https://", "http://")) else ""

    @api.model
    def _short_title(self, message):
        """The customer's own words, without the handles an X reply starts
        with (the brand's among them): what agents scan a list by. A message
        without words is named by its author."""
        text = " ".join(LEADING_MENTIONS.sub("", message.text or "").split())
        if text:
            title = textwrap.shorten(text, TITLE_LENGTH, placeholder="…")
            return title if title != "…" else text[: TITLE_LENGTH - 1] + "…"
        author = message.author
        network = CHANNEL_LABELS.get(message.channel, message.channel)
        # Outside the _() call: Odoo's term extraction can't read f-strings.
        name = f"@{author.handle}" if author.handle else author.name
        return self.env._(
            "Message from %(author)s on %(network)s",
            author=name,
            network=network,
        )


def reacted_to(message):
    """The id of the message a WhatsApp reaction reacts to ("" when unsaid),
    None when ``message`` (an adapter SocialMessage) is no reaction."""
    raw = message.raw.get("message") if isinstance(message.raw, dict) else None
    if message.channel != "whatsapp" or not isinstance(raw, dict):
        return None
    reaction = raw.get("reaction")
    if raw.get("type") != "reaction" or not isinstance(reaction, dict):
        return None
    reacted = reaction.get("message_id")
    return reacted if isinstance(reacted, str) else ""


def _in_customer_thread(message, identity):
    """``message`` in its customer's thread: a private thread named after
    its customer (WhatsApp's) follows the identity's key, one conversation
    whether the customer came by phone number or by business-scoped user id
    (see ``social.identity._find_by_phone``)."""
    named_after = message.author.external_id
    if message.kind == PRIVATE and message.conversation_id == named_after:
        return dataclasses.replace(message, conversation_id=identity.external_id)
    return message


def text_to_html(text):
    """Escaped customer or reply text, its direction taken from its own first
    strong letter: Arabic or Hebrew reads right to left in a left-to-right UI."""
    return Markup('<div dir="auto">%s</div>') % plaintext2html(text or "")


def _naive_utc(moment):
    """Odoo stores naive UTC datetimes."""
    if not moment:
        return fields.Datetime.now()
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
