# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, create_index, format_datetime, plaintext2html

from ..adapters.meta.replies import (
    HUMAN_AGENT_WINDOW,
    MESSAGING_WINDOW,
    PRIVATE_REPLY_WINDOW,
    WINDOW_CHANNELS,
)

RUNNING = ("in_progress", "on_hold")
PRIORITY_UP = {"0": "1", "1": "2", "2": "3", "3": "3"}
# The reply window warning of a ticket under no SLA policy (a team without
# SLA, or no policy matching): the platforms' windows close all the same.
DEFAULT_WINDOW_WARNING_HOURS = 4.0
# The first pass groups every open ticket's targets: in memory, not on disk.
STATUS_WORK_MEM = "64MB"


class HelpdeskTicketSla(models.Model):
    """One target of one ticket, counted on its policy's clock, with the
    escalations it has already fired."""

    _inherit = "helpdesk.ticket.sla"

    # The status update joins on it for every ticket.
    ticket_id = fields.Many2one(index=True)
    target_type = fields.Selection(related="sla_id.target_type")
    warning_date = fields.Datetime(
        compute="_compute_warning_date",
        store=True,
        help="From then on the target is at risk.",
    )
    deadline_capped = fields.Boolean(
        "Deadline capped",
        compute="_compute_deadline",
        store=True,
        help="The policy's calendar cap came before its own clock's deadline.",
    )
    deadline_basis = fields.Char("Deadline by", compute="_compute_deadline_basis")
    at_risk_escalated = fields.Boolean(readonly=True, copy=False)
    breach_escalated = fields.Boolean(readonly=True, copy=False)

    def init(self):
        """The cron reads only what came due: running targets by deadline and
        by warning, and breaches not escalated yet."""
        for name, column, where in (
            ("deadline", "deadline", "state = 'in_progress'"),
            ("warning", "warning_date", "state = 'in_progress'"),
            ("breach", "id", "state = 'expired' AND breach_escalated IS NOT TRUE"),
        ):
            create_index(
                self.env.cr,
                f"helpdesk_ticket_sla_{name}_due_index",
                self._table,
                [column],
                where=where,
            )

    def _compute_sla_data(self):
        result = super()._compute_sla_data()
        for record in self:
            sla = record.sla_id
            day = record._sla_calendar().hours_per_day if sla.use_business_hours else 24
            record.hours = sla.hours + day * sla.days
            if sla.target_type == "first_response":
                # Settled by the first answer (see _update_status), not by stages.
                record.expected_stage_id = False
                record.state = "in_progress"
        return result

    def _compute_deadline(self):
        """As helpdesk_mgmt_sla, on the policy's clock; a first response comes
        no later than the policy's calendar cap after the ticket's creation."""
        for record in self:
            if record.state in ("accomplished", "expired") and record.deadline:
                continue
            start = record.last_state_date or record.ticket_id.create_date
            deadline = record._sla_plan(start, record.hours - record.consumed_time)
            cap = record.sla_id.max_calendar_hours
            created = record.ticket_id.create_date
            capped = (
                record.target_type == "first_response"
                and bool(cap and created)
                and (not deadline or created + timedelta(hours=cap) < deadline)
            )
            record.deadline = created + timedelta(hours=cap) if capped else deadline
            record.deadline_capped = capped

    @api.depends(
        "deadline_capped",
        "hours",
        "sla_id.max_calendar_hours",
        "sla_id.use_business_hours",
    )
    def _compute_deadline_basis(self):
        """What the deadline counts: "24 h cap", "8 business hours", "2 hours"."""
        for record in self:
            sla = record.sla_id
            if record.deadline_capped:
                hours = format(sla.max_calendar_hours, "g")
                basis = self.env._("%(hours)s h cap", hours=hours)
            elif sla.use_business_hours:
                hours = format(record.hours, "g")
                basis = self.env._("%(hours)s business hours", hours=hours)
            else:
                hours = format(record.hours, "g")
                basis = self.env._("%(hours)s hours", hours=hours)
            record.deadline_basis = basis

    @api.depends("deadline", "hours")
    def _compute_warning_date(self):
        for record in self:
            lead = record.sla_id._warning_lead(record.hours)
            if record.deadline and lead:
                record.warning_date = record._sla_plan(record.deadline, -lead)
            else:
                record.warning_date = False

    def _stage_recompute(self):
        """A first-response target ignores stages. A stage target pauses as in
        helpdesk_mgmt_sla, but its consumed time counts on the policy's clock."""
        if self.target_type == "first_response":
            return
        running, since = self.state == "in_progress", self.last_state_date
        consumed = self.consumed_time
        super()._stage_recompute()
        if running and since:
            self.consumed_time = consumed + self._sla_hours_between(
                since, fields.Datetime.now()
            )

    def _sla_calendar(self):
        """Business hours: the policy's, else the team's, else the company's."""
        self.ensure_one()
        return (
            self.sla_id.resource_calendar_id
            or self.ticket_id.team_id.resource_calendar_id
            or self.ticket_id.company_id.resource_calendar_id
        )

    def _sla_plan(self, start, hours):
        """``start`` moved by ``hours`` (back when negative) on the policy's clock."""
        self.ensure_one()
        if not self.sla_id.use_business_hours:
            return start + timedelta(hours=hours)
        return self._sla_calendar().plan_hours(hours, start, compute_leaves=True)

    def _sla_hours_between(self, start, end):
        self.ensure_one()
        if not self.sla_id.use_business_hours:
            return (end - start).total_seconds() / 3600
        return self._sla_calendar().get_work_hours_count(
            start, end, compute_leaves=True
        )

    # ------------------------------------------------------------------
    # Status update and escalations (set-based)
    # ------------------------------------------------------------------
    @api.model
    def _cron_update_status(self):
        """Every 5 minutes: settle the targets, store the tickets' status,
        then fire the escalations that came due (reply windows included)."""
        now = fields.Datetime.now()
        self._update_status(now=now)
        self._escalate(now)

    @api.model
    def _update_status(self, ticket_ids=None, now=None):
        """Settle the targets met or missed and store each ticket's deadlines,
        status and outcomes in one statement. ``ticket_ids`` None: the
        tickets whose time came, a deadline or a warning passed; a ticket's
        own changes (stage, first response) update it at once."""
        now = now or fields.Datetime.now()
        self.env.flush_all()
        if ticket_ids is None:
            ticket_ids = self._due_ticket_ids(now)
        else:
            ticket_ids = list(ticket_ids)
        if not ticket_ids:
            return
        self.env.cr.execute(
            self._status_query(SQL("s.ticket_id = ANY(%s)", ticket_ids), now)
        )
        # Tickets left without targets (refresh_sla) lose their status.
        self.env.cr.execute(
            SQL(
                """
                UPDATE helpdesk_ticket t
                   SET sla_status = NULL, sla_first_response_deadline = NULL,
                       sla_resolution_deadline = NULL, sla_next_deadline = NULL,
                       sla_first_response_result = NULL,
                       sla_resolution_result = NULL
                 WHERE t.id = ANY(%s) AND t.sla_status IS NOT NULL
                   AND NOT EXISTS (
                       SELECT 1 FROM helpdesk_ticket_sla s WHERE s.ticket_id = t.id
                   )
                """,
                ticket_ids,
            )
        )
        self._invalidate_status()

    @api.model
    def _update_windows(self, ticket_ids):
        """Store these tickets' reply windows from their messages. Only
        messages move a window (filed, moved, removed, or a setting of their
        account): they call this, so the cron never reads them again."""
        ticket_ids = list(ticket_ids)
        if not ticket_ids:
            return
        self.env.flush_all()
        self.env.cr.execute(
            self._window_query(SQL("SELECT unnest(%s::int[])", ticket_ids))
        )
        self.env["helpdesk.ticket"].browse(ticket_ids).invalidate_recordset(
            ["social_window_closes_at"]
        )

    @api.model
    def _invalidate_status(self):
        """Forget what the status statements wrote behind the ORM's back."""
        self.invalidate_model(["state"])
        self.env["helpdesk.ticket"].invalidate_model(
            [
                "sla_status",
                "sla_first_response_deadline",
                "sla_resolution_deadline",
                "sla_next_deadline",
                "sla_first_response_result",
                "sla_resolution_result",
            ]
        )

    @api.model
    def _result_of(self, target_type):
        """The outcome of a ticket's targets of one type, for the KPI report
        (an aggregate over the status query's lines)."""
        return SQL(
            """
            CASE WHEN bool_or(target_type = %(type)s AND state = 'expired')
                      THEN 'breached'
                 WHEN bool_or(target_type = %(type)s AND state IN %(running)s)
                      THEN 'running'
                 WHEN bool_or(target_type = %(type)s) THEN 'met'
            END
            """,
            type=target_type,
            running=RUNNING,
        )

    @api.model
    def _due_ticket_ids(self, now):
        """The tickets whose time came: a running target's deadline or warning
        passed (looked up by the partial indexes of :meth:`init`). PostgreSQL
        can't know that running targets have their deadlines ahead of them:
        among a million tickets, whose settled targets' deadlines have all
        passed, it expects tens of thousands of rows where there are
        hundreds, and reads both tables whole (2.3 s instead of 0.3 s,
        BENCHMARKS.md). The partial indexes hold the running targets only:
        this statement reads them by range, without sequential or bitmap
        scans (which read the whole index) and without JIT compilation, which
        the same misestimate calls for (0.17 s -> 0.05 s at a million)."""
        self.env.cr.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;"
            " SET LOCAL jit = off"
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT ticket_id FROM helpdesk_ticket_sla
                 WHERE state = 'in_progress' AND deadline <= %(now)s
                 UNION
                SELECT r.ticket_id FROM helpdesk_ticket_sla r
                  JOIN helpdesk_ticket t ON t.id = r.ticket_id
                 WHERE r.state = 'in_progress' AND r.warning_date <= %(now)s
                   AND (t.sla_status = 'on_track' OR t.sla_status IS NULL)
                """,
                now=now,
            )
        )
        ticket_ids = [row[0] for row in self.env.cr.fetchall()]
        self.env.cr.execute("RESET enable_seqscan; RESET enable_bitmapscan; RESET jit")
        return ticket_ids

    @api.model
    def _init_status(self):
        """At install, and whenever every ticket's status is computed afresh:
        the tickets that have a running target, selected inside the
        statement rather than passed as a list of ids (which PostgreSQL
        would parse and plan for each statement). Reply windows are not
        computed here: they are stored as their messages are filed."""
        now = fields.Datetime.now()
        self.env.flush_all()
        running = SQL(
            "SELECT ticket_id FROM helpdesk_ticket_sla WHERE state IN %s", RUNNING
        )
        # One hash table of every ticket's targets rather than batches on
        # disk, and no JIT compilation (0.13 s, more than it saves).
        self.env.cr.execute(
            SQL("SET LOCAL work_mem = %s; SET LOCAL jit = off", STATUS_WORK_MEM)
        )
        self.env.cr.execute(
            self._status_query(SQL("s.ticket_id IN (%s)", running), now)
        )
        self.env.cr.execute("RESET work_mem; RESET jit")
        self._invalidate_status()

    @api.model
    def _status_query(self, scope, now):
        """Each target's state as of ``now``: a first response (or the ticket's
        closing) settles a first-response target, a passed deadline expires a
        running one. Targets whose state moved are written, and each ticket
        gets its deadlines and status from all of its targets."""
        return SQL(
            """
            WITH line AS (
                SELECT s.id, s.ticket_id, s.deadline, s.warning_date,
                       p.target_type, s.state AS old_state,
                       CASE
                           WHEN s.state NOT IN %(running)s THEN s.state
                           WHEN p.target_type = 'first_response'
                                AND (t.first_response_date IS NOT NULL OR st.closed)
                               THEN CASE
                                   WHEN s.deadline IS NULL
                                     OR COALESCE(t.first_response_date,
                                                 t.closed_date, %(now)s) <= s.deadline
                                   THEN 'accomplished' ELSE 'expired' END
                           WHEN s.state = 'in_progress' AND s.deadline <= %(now)s
                               THEN 'expired'
                           ELSE s.state
                       END AS state
                  FROM helpdesk_ticket_sla s
                  JOIN helpdesk_sla p ON p.id = s.sla_id
                  JOIN helpdesk_ticket t ON t.id = s.ticket_id
                  LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                 WHERE %(scope)s
            ), settled AS (
                -- The targets whose state moved, looked up by id: PostgreSQL
                -- can't know how few they are, and would hash every target
                -- of the table to join them (1.9 s at a million tickets).
                UPDATE helpdesk_ticket_sla s
                   SET state = line.state
                  FROM line
                 WHERE s.id = line.id AND line.state <> line.old_state
                   AND s.id = ANY(ARRAY(
                       SELECT id FROM line WHERE state <> old_state
                   ))
            ), status AS (
                SELECT ticket_id,
                       MIN(deadline) FILTER (WHERE target_type = 'first_response')
                           AS first_response,
                       MIN(deadline) FILTER (WHERE target_type = 'stage')
                           AS resolution,
                       MIN(deadline) FILTER (WHERE state = 'in_progress')
                           AS next_deadline,
                       CASE
                           WHEN bool_or(state = 'expired') THEN 'breached'
                           WHEN bool_or(state = 'in_progress'
                                        AND warning_date <= %(now)s) THEN 'at_risk'
                           WHEN bool_or(state IN %(running)s) THEN 'on_track'
                           ELSE 'met'
                       END AS status,
                       %(first_response_result)s AS first_response_result,
                       %(resolution_result)s AS resolution_result
                  FROM line
                 GROUP BY ticket_id
                 -- Tickets written in the table's order rather than the
                 -- hash's: each page and index leaf is dirtied once, not
                 -- at random (100,000 tickets: 9.5 s -> 7.2 s, BENCHMARKS.md).
                 ORDER BY ticket_id
            )
            UPDATE helpdesk_ticket t
               SET sla_status = status.status,
                   sla_first_response_deadline = status.first_response,
                   sla_resolution_deadline = status.resolution,
                   sla_next_deadline = status.next_deadline,
                   sla_first_response_result = status.first_response_result,
                   sla_resolution_result = status.resolution_result
              FROM status
             WHERE t.id = status.ticket_id
               AND (t.sla_status, t.sla_first_response_deadline,
                    t.sla_resolution_deadline, t.sla_next_deadline,
                    t.sla_first_response_result, t.sla_resolution_result)
                   IS DISTINCT FROM (status.status::varchar, status.first_response,
                                     status.resolution, status.next_deadline,
                                     status.first_response_result::varchar,
                                     status.resolution_result::varchar)
            """,
            running=RUNNING,
            now=now,
            scope=scope,
            first_response_result=self._result_of("first_response"),
            resolution_result=self._result_of("stage"),
        )

    @api.model
    def _window_query(self, tickets):
        """When Meta stops accepting replies on each of ``tickets`` (a query
        of ticket ids): 24 hours after the customer's last private message (7
        days with the Human Agent tag, or in a conversation started from an
        ad), 7 days after a comment for a private reply to it. A ticket left
        without such messages (moved away) has no window."""
        return SQL(
            """
            WITH scope(id) AS (%(tickets)s),
            -- The threads started from an ad: few, read once by their
            -- partial index, not looked up again for every message.
            ad AS (
                SELECT DISTINCT account_id, thread_key
                  FROM social_message
                 WHERE from_ad
            ),
            win AS (
                SELECT m.ticket_id,
                       MAX(m.message_date + CASE
                           WHEN m.kind = 'public' THEN %(comment)s
                           WHEN a.meta_human_agent_tag OR ad.thread_key IS NOT NULL
                           THEN %(human_agent)s
                           ELSE %(messaging)s
                       END) AS closes_at
                  FROM social_message m
                  JOIN social_account a ON a.id = m.account_id
                  LEFT JOIN ad
                         ON ad.account_id = m.account_id
                        AND ad.thread_key = m.thread_key
                 WHERE m.channel_code IN %(channels)s
                   AND m.ticket_id IN (SELECT id FROM scope)
                   AND m.message_date IS NOT NULL
                 GROUP BY m.ticket_id
            )
            UPDATE helpdesk_ticket t
               SET social_window_closes_at = win.closes_at
              FROM scope
              LEFT JOIN win ON win.ticket_id = scope.id
             WHERE t.id = scope.id
               AND t.social_window_closes_at IS DISTINCT FROM win.closes_at
            """,
            comment=PRIVATE_REPLY_WINDOW,
            human_agent=HUMAN_AGENT_WINDOW,
            messaging=MESSAGING_WINDOW,
            channels=WINDOW_CHANNELS,
            tickets=tickets,
        )

    @api.model
    def _escalate(self, now):
        """Fire what came due, once per ticket and target (or window): each
        statement claims its due items by setting their flag. A reply window
        is warned its policies' lead before it closes (0: never), or
        DEFAULT_WINDOW_WARNING_HOURS before on a ticket without policy."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE helpdesk_ticket_sla s SET at_risk_escalated = TRUE
                  FROM helpdesk_sla p, helpdesk_ticket t
                  LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                 WHERE p.id = s.sla_id AND t.id = s.ticket_id
                   AND s.state = 'in_progress' AND s.warning_date <= %s
                   AND p.escalate_at_risk AND s.at_risk_escalated IS NOT TRUE
                   AND t.active AND st.closed IS NOT TRUE
             RETURNING s.id
                """,
                now,
            )
        )
        at_risk = self.browse(row[0] for row in self.env.cr.fetchall())
        # Breaches of closed tickets are settled without escalation.
        self.env.cr.execute(
            SQL(
                """
                WITH claimed AS (
                    UPDATE helpdesk_ticket_sla SET breach_escalated = TRUE
                     WHERE state = 'expired' AND breach_escalated IS NOT TRUE
                 RETURNING id, sla_id, ticket_id
                )
                SELECT claimed.id FROM claimed
                  JOIN helpdesk_sla p ON p.id = claimed.sla_id
                  JOIN helpdesk_ticket t ON t.id = claimed.ticket_id
                  LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                 WHERE p.escalate_breach AND t.active AND st.closed IS NOT TRUE
                """
            )
        )
        breached = self.browse(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute(
            SQL(
                """
                UPDATE helpdesk_ticket t
                   SET social_window_warned_at = t.social_window_closes_at
                  FROM helpdesk_ticket_stage st
                 WHERE st.id = t.stage_id AND NOT st.closed AND t.active
                   AND t.social_window_closes_at > %(now)s
                   AND t.social_window_warned_at IS DISTINCT FROM
                       t.social_window_closes_at
                   AND t.social_window_closes_at <= %(now)s + COALESCE((
                       SELECT MAX(p.window_warning_hours)
                         FROM helpdesk_ticket_sla s
                         JOIN helpdesk_sla p ON p.id = s.sla_id
                        WHERE s.ticket_id = t.id
                   ), %(default_hours)s) * INTERVAL '1 hour'
             RETURNING t.id
                """,
                now=now,
                default_hours=DEFAULT_WINDOW_WARNING_HOURS,
            )
        )
        closing = self.env["helpdesk.ticket"].browse(
            row[0] for row in self.env.cr.fetchall()
        )
        self.invalidate_model(["at_risk_escalated", "breach_escalated"])
        closing.invalidate_recordset(["social_window_warned_at"])
        at_risk._escalate_at_risk()
        breached._escalate_breach()
        self._warn_window(closing)

    def _escalate_at_risk(self):
        """A to-do for whoever handles the ticket, due by the deadline."""
        self._schedule_activities(
            [
                (
                    line.ticket_id,
                    line.ticket_id._sla_responsible(),
                    self.env._("SLA at risk: %(target)s", target=line.sla_id.name),
                    line.deadline.date(),
                )
                for line in self
            ]
        )

    def _escalate_breach(self):
        """Priority one level up, a to-do for the team leader and a note in the
        chatter, each in one batch."""
        for priority, tickets in self.ticket_id.grouped("priority").items():
            tickets.priority = PRIORITY_UP.get(priority, priority)
        notices = {
            ticket: self.env._(
                "SLA breached: %(targets)s. Priority raised.",
                targets=", ".join(lines.sla_id.mapped("name")),
            )
            for ticket, lines in self.grouped("ticket_id").items()
        }
        today = fields.Date.context_today(self)
        self._schedule_activities(
            [
                (ticket, ticket._sla_leader(), notice, today)
                for ticket, notice in notices.items()
            ]
        )
        self.ticket_id._message_log_batch(
            {ticket.id: plaintext2html(notice) for ticket, notice in notices.items()}
        )

    @api.model
    def _warn_window(self, tickets):
        """A to-do before the platform's reply window closes, once per window."""
        self._schedule_activities(
            [
                (
                    ticket,
                    ticket._sla_responsible(),
                    self.env._(
                        "Reply window closes at %(moment)s",
                        moment=format_datetime(
                            self.env,
                            ticket.social_window_closes_at,
                            tz=ticket._sla_responsible().tz,
                            dt_format="short",
                        ),
                    ),
                    ticket.social_window_closes_at.date(),
                )
                for ticket in tickets
            ]
        )

    @api.model
    def _schedule_activities(self, todos):
        """One batch of to-do activities from ``(ticket, user, summary, date)``;
        nobody to warn, no activity."""
        model_id = self.env["ir.model"]._get_id("helpdesk.ticket")
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "activity_type_id": todo.id,
                    "summary": summary,
                    "date_deadline": due,
                    "user_id": user.id,
                }
                for ticket, user, summary, due in todos
                if user
            ]
        )
