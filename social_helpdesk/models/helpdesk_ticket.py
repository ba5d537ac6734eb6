# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, html2plaintext, index_exists

from ..adapters.base import PRIVATE, PUBLIC
from .access import AGENT, require_group
from .social_message import CHANNEL_LABELS, text_to_html

# How much older than its ticket a demo message must be to date the ticket.
DEMO_BACKDATE_AFTER = timedelta(minutes=1)

# What ties a ticket to a network conversation, and when it was first
# answered: set by the processing and the replies, never by hand (a ticket
# given another account's conversation would receive its customer's messages).
SOCIAL_LINK_FIELDS = frozenset(
    {
        "social_account_id",
        "social_thread_key",
        "social_url",
        "social_author_handle",
        "social_kind",
        "social_previous_ticket_id",
        "first_response_date",
        "social_last_customer_date",
        "social_waiting_since",
    }
)

# Each stored duration's end. The ORM stores no NULL float: a duration is 0.0
# until its end comes, and SQL reads it missing until then.
DURATION_ENDS = {
    "first_response_hours": "first_response_date",
    "first_response_business_hours": "first_response_date",
    "resolution_hours": "closed_date",
    "resolution_business_hours": "closed_date",
}

# The channel dashboard's indexes: (name, key, included columns, predicate).
# With every column a figure reads in the index, PostgreSQL counts a period's
# tickets without reading their rows (README: create them concurrently on a
# large database before upgrading). The tickets by creation date also serve
# the KPI report's periods and the dashboard's heatmap.
DASHBOARD_INDEXES = (
    (
        "helpdesk_ticket_open_kpi_index",
        "stage_id",
        ("company_id", "channel_id", "sla_status"),
        "active",
    ),
    (
        "helpdesk_ticket_created_kpi_index",
        "create_date",
        (
            "company_id",
            "channel_id",
            "team_id",
            "first_response_date",
            "first_response_hours",
            "sla_first_response_result",
        ),
        "active",
    ),
    (
        "helpdesk_ticket_answered_kpi_index",
        "first_response_date",
        ("company_id", "channel_id", "create_date", "first_response_hours"),
        "active AND first_response_date IS NOT NULL",
    ),
)

# The ticket table's vacuum: often enough that the pages of the tickets the
# dashboard counts stay all-visible (BENCHMARKS.md: at 1,000,000 tickets, with
# 3% of them changed since the last vacuum, 0.46 s instead of 0.20 s).
VACUUM_OPTIONS = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_insert_scale_factor": "0.01",
}


def duration_sql(value, end, start):
    """A stored duration as SQL reads it: missing without its end, so that
    averages ignore it rather than count 0 hours."""
    return SQL("CASE WHEN %s >= %s THEN %s END", end, start, value)


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    def init(self):
        """The channel dashboard's figures and the KPI report's periods are
        read from indexes alone, each holding the columns its figure needs:
        the open stages' backlog, the tickets by creation date, the first
        responses. An index is read alone only where the table's pages are
        marked all-visible by a vacuum: the ticket table is vacuumed after 1%
        of its rows changed (PostgreSQL's default: 20%), unless its owner set
        otherwise."""
        cr = self.env.cr
        for name, key, columns, where in DASHBOARD_INDEXES:
            if not index_exists(cr, name):
                cr.execute(
                    SQL(
                        "CREATE INDEX %s ON %s (%s) INCLUDE (%s) WHERE %s",
                        SQL.identifier(name),
                        SQL.identifier(self._table),
                        SQL.identifier(key),
                        SQL(", ").join(map(SQL.identifier, columns)),
                        SQL(where),
                    )
                )
        cr.execute(
            SQL(
                "SELECT option FROM pg_class, unnest(reloptions) option "
                "WHERE oid = %s::regclass",
                self._table,
            )
        )
        tuned = {option.split("=")[0] for (option,) in cr.fetchall()}
        options = [
            SQL("%s = %s", SQL(name), SQL(value))
            for name, value in VACUUM_OPTIONS.items()
            if name not in tuned
        ]
        if options:
            cr.execute(
                SQL(
                    "ALTER TABLE %s SET (%s)",
                    SQL.identifier(self._table),
                    SQL(", ").join(options),
                )
            )

    # Rules ask "does this customer have tickets?" for every new conversation.
    commercial_partner_id = fields.Many2one(index=True)
    # A customer's private message looks up their public ticket by contact.
    partner_id = fields.Many2one(index=True)

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
    social_network = fields.Selection(
        [(code, label) for code, label in CHANNEL_LABELS.items()],
        string="Network",
        compute="_compute_social_network",
        store=True,
        help="The social network of the ticket's channel, shown as its icon in "
        "lists and cards.",
    )
    social_last_customer_date = fields.Datetime(
        "Customer last wrote",
        readonly=True,
        copy=False,
        help="When the customer's latest social message was written.",
    )
    social_waiting_since = fields.Datetime(
        "Waiting since",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The customer wrote last and waits for an answer since this message: "
        "cleared when an agent replies (on the network or by email), set again "
        "when the customer writes or a reply fails. Automatic acknowledgements "
        "are no answer.",
    )
    rule_ids = fields.Many2many(
        "helpdesk.ticket.rule", string="Rules applied", readonly=True, copy=False
    )
    social_suggestion_identity_id = fields.Many2one(
        "social.identity",
        "Customer to link",
        compute="_compute_social_suggestions",
        help="The customer's identity, whose phone number is also on other "
        "contacts: the agent links it to the right one.",
    )
    social_suggested_partner_ids = fields.Many2many(
        "res.partner",
        string="Number also on",
        compute="_compute_social_suggestions",
    )
    reopen_count = fields.Integer(copy=False, readonly=True)
    social_reply_ids = fields.One2many(
        "social.reply", "ticket_id", string="Social replies", readonly=True
    )
    # Searched by period: helpdesk_ticket_answered_kpi_index (DASHBOARD_INDEXES).
    first_response_date = fields.Datetime(
        copy=False,
        readonly=True,
        help="When the first agent answer reached the customer, on any channel: a "
        "published social reply, an email sent from the ticket, or a phone call.",
    )
    # Durations are stored when the events happen, so that reports are plain
    # selects over tickets.
    first_response_hours = fields.Float(
        compute="_compute_response_durations", store=True, aggregator="avg"
    )
    first_response_business_hours = fields.Float(
        compute="_compute_response_durations", store=True, aggregator="avg"
    )
    resolution_hours = fields.Float(
        compute="_compute_response_durations", store=True, aggregator="avg"
    )
    resolution_business_hours = fields.Float(
        compute="_compute_response_durations", store=True, aggregator="avg"
    )
    sla_first_response_result = fields.Selection(
        [("met", "Met"), ("breached", "Breached"), ("running", "Running")],
        readonly=True,
        copy=False,
        help="Outcome of the ticket's first-response SLA targets.",
    )
    sla_resolution_result = fields.Selection(
        [("met", "Met"), ("breached", "Breached"), ("running", "Running")],
        readonly=True,
        copy=False,
        help="Outcome of the ticket's resolution SLA targets.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Categorization rules route the tickets of every channel (email
        alias, web form, phone) as they are created. Social conversations met
        the rules before their ticket existed."""
        for vals in vals_list:
            self._check_social_link(vals)
        logs = [""] * len(vals_list)
        if not self.env.context.get("social_helpdesk_rules_done"):
            prepared = [self._with_rules(vals) for vals in vals_list]
            vals_list = [vals for vals, _log in prepared]
            logs = [log for _vals, log in prepared]
        tickets = super().create(vals_list)
        for ticket, log in zip(tickets, logs, strict=True):
            if log:
                ticket.message_post(body=log, subtype_xmlid="mail.mt_note")
        return tickets

    @api.model
    def _with_rules(self, vals):
        """``vals`` as the matching rules of the ticket's company change them,
        and the log to post."""
        company = self._rules_company(vals)
        channel = self.env["helpdesk.ticket.channel"].browse(vals.get("channel_id"))
        partner = self.env["res.partner"].browse(vals.get("partner_id"))
        Rule = self.env["helpdesk.ticket.rule"]
        text = "\n".join(
            filter(
                None, [vals.get("name"), html2plaintext(vals.get("description") or "")]
            )
        )
        facts = Rule._facts(text, channel.code, "private", company, partner=partner)
        matches = Rule._evaluate(facts, company)
        if not matches:
            return vals, ""
        outcome, rule_values, lead_team = Rule._outcome(matches)
        if outcome == "lead":
            lead = (
                self.env["crm.lead"]
                .with_company(company)
                .create(
                    {
                        "name": vals.get("name"),
                        "partner_id": partner.id,
                        "team_id": lead_team.id,
                        "company_id": company.id,
                        "description": vals.get("description"),
                    }
                )
            )
            rule_values["description"] = (vals.get("description") or "") + Markup(
                "<p>%s</p>"
            ) % self.env._("A CRM lead was created: %s", lead.name)
        tag_commands = rule_values.pop("tag_ids", [])
        vals = dict(
            vals,
            **rule_values,
            tag_ids=list(vals.get("tag_ids") or []) + tag_commands,
            rule_ids=[(6, 0, [rule.id for rule, _why in matches])],
        )
        return vals, Rule._log_body(matches)

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A ticket made from an incoming email (fetchmail, odoo-mailgate,
        ``message_process`` over RPC: all come here) is on the Email channel,
        so that email-scoped rules and SLA policies apply to it."""
        custom_values = dict(custom_values or {})
        if not custom_values.get("channel_id"):
            company = self._rules_company(custom_values)
            channel = self.env["helpdesk.ticket.channel"]._get_by_code("email", company)
            custom_values["channel_id"] = channel.id
        return super().message_new(msg_dict, custom_values=custom_values)

    @api.model
    def _rules_company(self, vals):
        """The company a ticket created with ``vals`` belongs to, as
        helpdesk_mgmt decides it: its team's, else the one given, else the
        default one."""
        team = self.env["helpdesk.ticket.team"].browse(vals.get("team_id"))
        return team.company_id or self.env["res.company"].browse(
            vals.get("company_id") or self.default_get(["company_id"]).get("company_id")
        )

    @api.model
    def _social_continuing_tickets(self, conversations, quiet=None):
        """The tickets customer messages continue, for ``conversations``
        ((account, last ticket of the conversation) pairs): the open ticket,
        or the closed one, reopened, within the account's window. Returns
        ``(ticket, previous)`` pairs: no ticket means a new conversation, and
        ``previous`` is then the closed ticket it follows, if any. A
        ``quiet`` message (aligned flags: a reaction) goes to the last
        ticket as it is, closed or not: it reopens nothing."""
        result = []
        for (account, ticket), silent in zip(
            conversations, quiet or [False] * len(conversations), strict=True
        ):
            if ticket and (silent or not ticket.closed):
                result.append((ticket, self.browse()))
            elif ticket and ticket._social_can_reopen(account):
                ticket._social_reopen()
                result.append((ticket, self.browse()))
            else:
                result.append((self.browse(), ticket))
        return result

    @api.model
    def _social_public_tickets(self, customers):
        """The public ticket each customer's private message joins, for
        ``customers`` ((account, partner id) pairs), in one search: their
        latest public ticket on the account, open or reopened within the
        window (else an empty recordset). The customer who is asked to "send
        us a DM" does not repeat themselves, and the ticket keeps its first
        response and SLA deadlines."""
        if not customers:
            return []
        latest = {}
        for ticket in self.search(
            [
                ("social_account_id", "in", list({a.id for a, _p in customers})),
                ("social_kind", "=", PUBLIC),
                ("partner_id", "in", list({partner for _a, partner in customers})),
            ],
            order="id",
        ):
            latest[ticket.social_account_id.id, ticket.partner_id.id] = ticket
        return [
            ticket
            for (ticket, _previous) in self._social_continuing_tickets(
                [
                    (account, latest.get((account.id, partner), self.browse()))
                    for account, partner in customers
                ]
            )
        ]

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
        self.write(
            {
                "stage_id": stage.id,
                "reopen_count": self.reopen_count + 1,
                "social_waiting_since": False,
            }
        )
        self.message_post(
            body=self.env._("Reopened: the customer wrote again."),
            subtype_xmlid="mail.mt_note",
        )

    @api.model
    def _social_ticket_values(self, account, message, partner, previous, channel):
        """A new ticket's values; ``channel``: the helpdesk channel of the
        message's network, if the company has one."""
        messages = self.env["social.message"]
        return {
            "name": messages._short_title(message),
            "description": text_to_html(message.text),
            "partner_id": partner.id,
            "partner_name": partner.name,
            "company_id": account.company_id.id,
            "team_id": account.team_id.id,
            # No one yet (rules may assign): helpdesk_mgmt's auto-assignment
            # would otherwise give it to whoever runs the processing cron.
            "user_id": False,
            "channel_id": (channel or account.channel_id).id,
            "social_account_id": account.id,
            "social_thread_key": message.thread_key,
            "social_url": messages._safe_link(message.url) or False,
            "social_author_handle": message.author.handle or False,
            "social_kind": message.kind,
            "social_previous_ticket_id": previous.id,
        }

    @api.model
    def _social_demo_backdate(self, dates):
        """Date demo tickets from the sample message that opened them
        (``dates``: {ticket id: naive UTC datetime}), when it is older: the
        demo replays a day of conversations in minutes, and shows their SLA
        deadlines near and past as if it had received them live. Only the
        Demo network's tickets: a real network's late message still opens its
        ticket, and starts its SLA clock, when it arrives. A message that
        only waited in the queue (under DEMO_BACKDATE_AFTER) keeps its ticket's
        date: the SLA targets are not made a second time for seconds."""
        if not dates:
            return
        self.flush_model(["create_date"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE helpdesk_ticket t SET create_date = d.moment
                  FROM unnest(%s::int[], %s::timestamp[]) AS d (id, moment)
                 WHERE t.id = d.id AND d.moment < t.create_date - %s
             RETURNING t.id
                """,
                list(dates),
                list(dates.values()),
                DEMO_BACKDATE_AFTER,
            )
        )
        tickets = self.browse(row[0] for row in self.env.cr.fetchall())
        if tickets:
            tickets.invalidate_recordset(["create_date"])
            tickets.modified(["create_date"])
            tickets.set_sla()

    def _social_note_opening(self, messages):
        """The first chatter entry of these new tickets (``messages``: the
        adapter message that opened each, in order): a system note with the
        ticket's creation subtype, which tells the team's followers, so that
        the customer's message, posted next, reads as theirs alone and not as
        if they wrote "Ticket created". The tickets nobody follows for that
        subtype get it in one batch, as Odoo logs a creation nobody is told
        about: the same entry, without a notification to compute."""
        subtype = self._creation_subtype()
        root = self.env.ref("base.partner_root")
        bodies = {}
        for ticket, message in zip(self, messages, strict=True):
            author = message.author
            # Outside the _() call: Odoo's term extraction can't read f-strings.
            name = f"@{author.handle}" if author.handle else author.name
            bodies[ticket.id] = Markup("<p>%s</p>") % self.env._(
                "From a message by %(author)s on %(network)s.",
                author=name,
                network=CHANNEL_LABELS.get(message.channel, message.channel),
            )
        told = set(
            self.sudo()
            .message_follower_ids.filtered(
                lambda follower: subtype in follower.subtype_ids
            )
            .mapped("res_id")
        )
        for ticket in self.filtered(lambda ticket: ticket.id in told):
            ticket.message_post(
                body=bodies[ticket.id],
                author_id=root.id,
                message_type="notification",
                subtype_id=subtype.id,
            )
        quiet = self.filtered(lambda ticket: ticket.id not in told)
        if quiet:
            quiet._message_log_batch(bodies, author_id=root.id).write(
                {"subtype_id": subtype.id, "is_internal": False}
            )

    def _social_post_inbound(self, message, partner, parent=None):
        """Post the customer's message in chatter, authored by their contact."""
        self.ensure_one()
        return self.message_post(
            body=self.env["social.message"]._render_inbound_body(message, parent),
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    @api.model
    def _social_customer_wrote(self, messages):
        """The customers of these new social messages wrote last: each
        ticket's latest customer message moves on, and a ticket that was
        answered waits again, since its first new message. One statement for
        a whole processing batch."""
        messages = messages.filtered("ticket_id")
        if not messages:
            return
        messages.flush_recordset(["ticket_id", "message_date"])
        self.flush_model(["social_last_customer_date", "social_waiting_since"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE helpdesk_ticket AS ticket
                   SET social_last_customer_date = GREATEST(
                           ticket.social_last_customer_date, filed.last
                       ),
                       social_waiting_since = COALESCE(
                           ticket.social_waiting_since, filed.first
                       )
                  FROM (
                        SELECT ticket_id,
                               MIN(message_date) AS first,
                               MAX(message_date) AS last
                          FROM social_message
                         WHERE id = ANY(%s)
                         GROUP BY ticket_id
                       ) AS filed
                 WHERE ticket.id = filed.ticket_id
                """,
                messages.ids,
            )
        )
        messages.ticket_id.invalidate_recordset(
            ["social_last_customer_date", "social_waiting_since"]
        )

    def _social_answered(self):
        """An agent answered: the customer no longer waits."""
        self.filtered("social_waiting_since").sudo().write(
            {"social_waiting_since": False}
        )

    def _social_unanswered(self):
        """An agent's reply failed: the open tickets wait again, since the
        customer's latest message."""
        for ticket in self.filtered(
            lambda ticket: (
                not ticket.social_waiting_since
                and ticket.social_last_customer_date
                and not ticket.stage_id.closed
            )
        ):
            ticket.sudo().social_waiting_since = ticket.social_last_customer_date

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

    @api.depends("social_message_ids.identity_id.suggested_partner_ids")
    def _compute_social_suggestions(self):
        """The contacts that also hold the number of the ticket's customer,
        those the reader may see (their companies' rules apply): read
        through the ticket, whose customer's identity may be another
        company's contact."""
        for ticket in self:
            identity = ticket.sudo().social_message_ids.identity_id.filtered(
                "suggested_partner_ids"
            )[:1]
            partners = identity.suggested_partner_ids.with_env(
                self.env
            )._filtered_access("read")
            ticket.social_suggestion_identity_id = identity.id if partners else False
            ticket.social_suggested_partner_ids = partners

    @api.depends("channel_id.code")
    def _compute_social_network(self):
        for ticket in self:
            code = ticket.channel_id.code
            ticket.social_network = code if code in CHANNEL_LABELS else False

    @api.depends("create_date", "first_response_date", "closed_date")
    def _compute_response_durations(self):
        for ticket in self:
            start = ticket.create_date
            for field, end in (
                ("first_response", ticket.first_response_date),
                ("resolution", ticket.closed_date),
            ):
                ticket[f"{field}_hours"] = ticket[f"{field}_business_hours"] = 0.0
                if start and end and end >= start:
                    ticket[f"{field}_hours"] = (end - start).total_seconds() / 3600
                    ticket[f"{field}_business_hours"] = ticket._business_hours(
                        start, end
                    )

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """Groups, averages and filters of tickets read a duration without its
        end as missing, as the KPI report does."""
        sql = super()._field_to_sql(alias, fname, query, flush)
        end = DURATION_ENDS.get(fname)
        if not end:
            return sql
        return duration_sql(
            sql,
            super()._field_to_sql(alias, end, query, flush),
            super()._field_to_sql(alias, "create_date", query, flush),
        )

    def _business_hours(self, start, end):
        """Working hours between two moments on the team's calendar (else the
        company's), as SLA policies count them."""
        calendar = (
            self.team_id.resource_calendar_id or self.company_id.resource_calendar_id
        )
        if not calendar:
            return (end - start).total_seconds() / 3600
        return calendar.get_work_hours_count(
            pytz.utc.localize(start), pytz.utc.localize(end), compute_leaves=True
        )

    def action_social_to_lead(self):
        """Hand the customer's conversation to sales: a CRM lead, unassigned,
        with every social message of the ticket, which says where they went.
        For an agent who may write the ticket."""
        require_group(self.env, AGENT, self.env._("move a conversation to a CRM lead"))
        self.check_access("write")
        for ticket in self:
            messages = ticket.sudo().social_message_ids
            if not messages:
                raise UserError(
                    self.env._("%s has no social conversation to move.", ticket.name)
                )
            lead = (
                self.env["crm.lead"]
                .sudo()
                .with_company(ticket.company_id)
                .create(
                    {
                        "name": ticket.name,
                        "partner_id": ticket.partner_id.id,
                        "company_id": ticket.company_id.id,
                        "user_id": False,
                        "description": ticket.description,
                    }
                )
            )
            messages._move_to(lead, ticket.sudo())
        return True

    def action_responded_by_phone(self):
        """The agent answered the customer by phone."""
        for ticket in self:
            ticket.message_post(
                body=self.env._("Responded by phone."), subtype_xmlid="mail.mt_note"
            )
            ticket._set_first_response(fields.Datetime.now())

    def _set_first_response(self, moment):
        self.filtered(lambda ticket: not ticket.first_response_date).sudo().write(
            {"first_response_date": moment}
        )

    @api.model
    def _check_social_link(self, vals):
        """Only the addon sets a ticket's conversation and first response."""
        if self.env.su:
            return
        locked = sorted(name for name in SOCIAL_LINK_FIELDS & vals.keys() if vals[name])
        if locked:
            raise AccessError(
                self.env._(
                    "A ticket's network conversation and first response are set "
                    "by Social Helpdesk, not by hand: %s",
                    ", ".join(locked),
                )
            )

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        if self._is_agent_answer(message, kwargs):
            self._set_first_response(message.date)
            self._social_answered()
        return message

    def _is_agent_answer(self, message, post_kwargs):
        """A message that reaches the customer, written by an agent: an email
        reply (not an internal note) or a logged phone call. Social replies
        count when they are queued (the customer no longer waits) and when
        the network publishes them (the first response), not here."""
        if self.env.context.get("social_reply"):
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

    # ------------------------------------------------------------------
    # SLA
    # ------------------------------------------------------------------
    sla_first_response_deadline = fields.Datetime(
        "First response deadline", readonly=True, copy=False
    )
    sla_first_response_basis = fields.Char(
        "First response deadline by",
        compute="_compute_sla_first_response_basis",
        help="The policy's own clock, or its calendar cap when that comes first.",
    )
    sla_resolution_deadline = fields.Datetime(
        "Resolution deadline", readonly=True, copy=False
    )
    sla_next_deadline = fields.Datetime(
        "Next SLA deadline",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The nearest deadline of a target still running: sort by it to work "
        "the most urgent tickets first.",
    )
    sla_status = fields.Selection(
        [
            ("on_track", "On track"),
            ("at_risk", "At risk"),
            ("breached", "Breached"),
            ("met", "Met"),
        ],
        string="SLA status",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Kept up to date every few minutes and when the ticket changes.",
    )
    sla_time_left = fields.Char("SLA time left", compute="_compute_sla_time_left")
    social_window_closes_at = fields.Datetime(
        "Reply window closes",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Messenger and Instagram accept replies for 24 hours after the "
        "customer's last message; Meta accepts a private reply to a comment for "
        "7 days.",
    )
    social_window_warned_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="The window closing that was already warned about: one warning per "
        "window.",
    )

    @api.depends("ticket_sla_ids.deadline", "ticket_sla_ids.deadline_basis")
    def _compute_sla_first_response_basis(self):
        for ticket in self:
            lines = ticket.ticket_sla_ids.filtered(
                lambda line: line.target_type == "first_response" and line.deadline
            )
            ticket.sla_first_response_basis = (
                min(lines, key=lambda line: line.deadline).deadline_basis
                if lines
                else False
            )

    @api.depends("sla_next_deadline", "sla_status")
    def _compute_sla_time_left(self):
        now = fields.Datetime.now()
        for ticket in self:
            deadline = ticket.sla_next_deadline
            if not deadline or ticket.sla_status == "met":
                ticket.sla_time_left = False
                continue
            minutes = round(abs((deadline - now).total_seconds()) / 60)
            days, minutes = divmod(minutes, 24 * 60)
            hours, minutes = divmod(minutes, 60)
            left = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m"
            ticket.sla_time_left = (
                left if deadline > now else self.env._("%(left)s overdue", left=left)
            )

    def _get_sla_ticket_domain(self):
        """Policies match channels as they match teams, categories and tags."""
        domain = super()._get_sla_ticket_domain()
        if self.channel_id:
            return domain + [
                "|",
                ("channel_ids", "=", False),
                ("channel_ids", "=", self.channel_id.id),
            ]
        return domain + [("channel_ids", "=", False)]

    def set_sla(self):
        result = super().set_sla()
        self._sla_update_status()
        return result

    def refresh_sla(self):
        result = super().refresh_sla()
        self._sla_update_status()
        return result

    def write(self, vals):
        self._check_social_link(vals)
        result = super().write(vals)
        if {"stage_id", "first_response_date"} & vals.keys():
            self._sla_update_status()
        return result

    def _sla_update_status(self):
        """Settle these tickets' targets and store their SLA status now."""
        if self:
            self.env["helpdesk.ticket.sla"]._update_status(self.ids)

    def _sla_responsible(self):
        """Who is warned: the assignee, else the team leader."""
        self.ensure_one()
        return self.user_id or self._sla_leader()

    def _sla_leader(self):
        """The team leader, else the team's first member."""
        self.ensure_one()
        return self.team_id.user_id or self.team_id.user_ids[:1]
