# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.tools import SQL

from .helpdesk_ticket import DURATION_ENDS, duration_sql

AGGREGATE_WORK_MEM = "64MB"


def analytic_settings(cr):
    """For the report's and the dashboard's aggregates, in this transaction:
    a hash table in memory rather than batches on disk (the default work_mem
    is 4 MB), and no JIT compilation, which cost these queries 0.3 to 1.1 s
    a run at a million tickets, more than it saved (BENCHMARKS.md)."""
    cr.execute(SQL("SET LOCAL work_mem = %s; SET LOCAL jit = off", AGGREGATE_WORK_MEM))


SLA_RESULTS = [("met", "Met"), ("breached", "Breached"), ("running", "Running")]
WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]

# One definition of each figure, shared with the channel dashboard. ``t`` is a
# helpdesk_ticket row. Durations are missing until their end comes (see
# helpdesk_ticket.DURATION_ENDS), so that AVG ignores them instead of counting
# a quick 0 hours.


def _ticket_duration(fname):
    return duration_sql(
        SQL.identifier("t", fname),
        SQL.identifier("t", DURATION_ENDS[fname]),
        SQL.identifier("t", "create_date"),
    )


FIRST_RESPONSE_HOURS = _ticket_duration("first_response_hours")
FIRST_RESPONSE_BUSINESS_HOURS = _ticket_duration("first_response_business_hours")
RESOLUTION_HOURS = _ticket_duration("resolution_hours")
RESOLUTION_BUSINESS_HOURS = _ticket_duration("resolution_business_hours")
# First responses within the SLA: 100 met, 0 breached, missing while running.
SLA_FIRST_RESPONSE_MET_PCT = SQL(
    "CASE t.sla_first_response_result WHEN 'met' THEN 100.0::float8 "
    "WHEN 'breached' THEN 0.0::float8 END"
)


def local_time(moment, tz):
    """``moment`` (a UTC timestamp column) on the wall clock of ``tz``."""
    return SQL("((%s AT TIME ZONE 'UTC') AT TIME ZONE %s)", moment, tz)


def team_tz():
    """The time zone a ticket's day and hour are read in: its team's working
    hours', else its company's, else UTC. Needs :func:`team_tz_joins`."""
    return SQL("COALESCE(NULLIF(tcal.tz, ''), NULLIF(ccal.tz, ''), 'UTC')")


def team_tz_joins(team, company):
    """The calendars of ``team`` and ``company`` (id columns) for :func:`team_tz`."""
    return SQL(
        """
        LEFT JOIN helpdesk_ticket_team tteam ON tteam.id = %s
        LEFT JOIN resource_calendar tcal ON tcal.id = tteam.resource_calendar_id
        LEFT JOIN res_company tco ON tco.id = %s
        LEFT JOIN resource_calendar ccal ON ccal.id = tco.resource_calendar_id
        """,
        team,
        company,
    )


def within(hours):
    """100 when the first answer came within ``hours``, else 0 (unanswered
    tickets are not answered within anything)."""
    return SQL(
        "CASE WHEN t.first_response_date IS NOT NULL "
        "AND t.first_response_hours <= %s THEN 100.0::float8 ELSE 0.0::float8 END",
        hours,
    )


def within_same_day(tz):
    """100 when the first answer came the day the ticket was created, on the
    wall clock of ``tz``."""
    return SQL(
        "CASE WHEN %s::date = %s::date THEN 100.0::float8 ELSE 0.0::float8 END",
        local_time(SQL("t.first_response_date"), tz),
        local_time(SQL("t.create_date"), tz),
    )


class HelpdeskTicketKpiReport(models.Model):
    """One row per ticket of every channel, plus one per observed social
    message: the managers' KPI. Durations and SLA results are stored on the
    ticket when they happen, so this is a plain select that scales. Observed
    messages count in volume only: their durations and shares are missing, so
    that they never weigh on the tickets' averages. Tickets without a channel
    count under the company's *Other* channel."""

    _name = "helpdesk.ticket.kpi.report"
    _description = "Helpdesk KPI by channel"
    _auto = False
    _order = "create_date desc"
    _rec_name = "name"

    ticket_id = fields.Many2one("helpdesk.ticket", readonly=True)
    name = fields.Char(readonly=True)
    channel_id = fields.Many2one("helpdesk.ticket.channel", readonly=True)
    channel_group = fields.Selection(
        [("social", "Social"), ("traditional", "Phone, email and web")],
        readonly=True,
    )
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    category_id = fields.Many2one("helpdesk.ticket.category", readonly=True)
    tag_ids = fields.Many2many(
        "helpdesk.ticket.tag",
        relation="helpdesk_ticket_helpdesk_ticket_tag_rel",
        column1="helpdesk_ticket_id",
        column2="helpdesk_ticket_tag_id",
        readonly=True,
    )
    user_id = fields.Many2one("res.users", "Assigned user", readonly=True)
    partner_id = fields.Many2one("res.partner", "Contact", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    create_date = fields.Datetime("Created on", readonly=True)
    first_response_date = fields.Datetime("First response on", readonly=True)
    create_hour = fields.Integer(
        "Hour of day",
        readonly=True,
        aggregator=False,
        help="In the time zone of the team's working hours, else of the company's.",
    )
    create_weekday = fields.Selection(
        WEEKDAYS,
        "Weekday",
        readonly=True,
        help="In the time zone of the team's working hours, else of the company's.",
    )
    first_response_hours = fields.Float(
        "First response (h)", readonly=True, aggregator="avg"
    )
    first_response_business_hours = fields.Float(
        "First response, business hours (h)", readonly=True, aggregator="avg"
    )
    resolution_hours = fields.Float("Resolution (h)", readonly=True, aggregator="avg")
    resolution_business_hours = fields.Float(
        "Resolution, business hours (h)", readonly=True, aggregator="avg"
    )
    within_30m_pct = fields.Float(
        "Answered within 30 min (%)", readonly=True, aggregator="avg"
    )
    within_2h_pct = fields.Float(
        "Answered within 2 h (%)", readonly=True, aggregator="avg"
    )
    within_same_day_pct = fields.Float(
        "Answered the same day (%)",
        readonly=True,
        aggregator="avg",
        help="The same day in the team's time zone, else the company's.",
    )
    within_24h_pct = fields.Float(
        "Answered within 24 h (%)", readonly=True, aggregator="avg"
    )
    sla_first_response_met_pct = fields.Float(
        "First responses within SLA (%)", readonly=True, aggregator="avg"
    )
    sla_first_response = fields.Selection(
        SLA_RESULTS, "SLA first response", readonly=True
    )
    sla_resolution = fields.Selection(SLA_RESULTS, "SLA resolution", readonly=True)
    sla_breached_count = fields.Integer("SLA targets breached", readonly=True)
    reopen_count = fields.Integer(readonly=True)
    social_kind = fields.Selection(
        [("public", "Public"), ("private", "Private")], "Visibility", readonly=True
    )
    outcome = fields.Selection(
        [("ticket", "Ticket"), ("observed", "Observed")], readonly=True
    )
    csat = fields.Float(
        "Customer rating",
        readonly=True,
        aggregator="avg",
        help="The customer's answer (1 to 5) to the satisfaction request sent on "
        "closing (WhatsApp), else the ticket's last rating when Helpdesk "
        "ratings (helpdesk_mgmt_rating) is installed.",
    )
    csat_count = fields.Integer("Ratings", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL("%s UNION ALL %s", self._tickets_query(), self._observed_query())

    @api.model
    def _read_group(self, *args, **kwargs):
        """Aggregate a million tickets in memory, uncompiled (see
        :func:`analytic_settings`)."""
        analytic_settings(self.env.cr)
        return super()._read_group(*args, **kwargs)

    @api.model
    def _csat_column(self):
        """The ticket's WhatsApp rating, else helpdesk_mgmt_rating's (which
        this module does not depend on) when it is installed."""
        field = self.env["helpdesk.ticket"]._fields.get("rating_last_value")
        if field is not None and field.store:
            return SQL(
                "COALESCE(NULLIF(t.social_rating, 0)::float8, t.rating_last_value)"
            )
        return SQL("NULLIF(t.social_rating, 0)::float8")

    @api.model
    def _channels_by_code(self):
        """Each company's channel of each code, its own before a shared one
        (as ``_get_by_code``). A join rather than a correlated subquery keeps
        the report's scan parallel; unique on (company, code), PostgreSQL
        drops it when a report reads no channel."""
        return SQL(
            """
            (SELECT co.id AS company_id, c.code,
                    (array_agg(c.id ORDER BY c.company_id NULLS LAST))[1]
                        AS channel_id
               FROM res_company co
               JOIN helpdesk_ticket_channel c
                 ON c.active AND (c.company_id = co.id OR c.company_id IS NULL)
              GROUP BY co.id, c.code)
            """
        )

    @api.model
    def _tickets_query(self):
        tz = team_tz()
        local_create = local_time(SQL("t.create_date"), tz)
        return SQL(
            """
            SELECT t.id AS id, t.id AS ticket_id, t.name AS name,
                   COALESCE(t.channel_id, other.channel_id) AS channel_id,
                   CASE WHEN t.is_social THEN 'social'
                   ELSE 'traditional' END AS channel_group,
                   t.team_id, t.category_id, t.user_id, t.partner_id,
                   t.company_id, t.create_date, t.first_response_date,
                   EXTRACT(HOUR FROM %(local_create)s)::int AS create_hour,
                   EXTRACT(ISODOW FROM %(local_create)s)::int::varchar
                       AS create_weekday,
                   %(first_response)s AS first_response_hours,
                   %(first_response_business)s AS first_response_business_hours,
                   %(resolution)s AS resolution_hours,
                   %(resolution_business)s AS resolution_business_hours,
                   %(w30)s AS within_30m_pct, %(w2h)s AS within_2h_pct,
                   %(same_day)s AS within_same_day_pct,
                   %(w24)s AS within_24h_pct,
                   %(sla_met)s AS sla_first_response_met_pct,
                   t.sla_first_response_result AS sla_first_response,
                   t.sla_resolution_result AS sla_resolution,
                   (CASE WHEN t.sla_first_response_result = 'breached'
                         THEN 1 ELSE 0 END
                    + CASE WHEN t.sla_resolution_result = 'breached'
                           THEN 1 ELSE 0 END) AS sla_breached_count,
                   t.reopen_count, t.social_kind,
                   'ticket' AS outcome, %(csat)s AS csat,
                   CASE WHEN %(csat)s IS NULL THEN 0 ELSE 1 END AS csat_count
            FROM helpdesk_ticket t
            LEFT JOIN %(channels)s other
                   ON other.company_id = t.company_id AND other.code = 'other'
            %(joins)s
            WHERE t.active
            """,
            local_create=local_create,
            first_response=FIRST_RESPONSE_HOURS,
            first_response_business=FIRST_RESPONSE_BUSINESS_HOURS,
            resolution=RESOLUTION_HOURS,
            resolution_business=RESOLUTION_BUSINESS_HOURS,
            w30=within(0.5),
            w2h=within(2),
            same_day=within_same_day(tz),
            w24=within(24),
            sla_met=SLA_FIRST_RESPONSE_MET_PCT,
            csat=self._csat_column(),
            channels=self._channels_by_code(),
            joins=team_tz_joins(SQL("t.team_id"), SQL("t.company_id")),
        )

    @api.model
    def _observed_query(self):
        """Observed messages count in volume by channel, with no ticket: their
        durations and shares are missing. Their channel is the company's
        channel of their network (as new tickets get it), else their account's.
        Their ids are negative so that they never collide with tickets'. Every
        column has exactly the ticket side's type: PostgreSQL then flattens
        the union and reads only the columns a report asks for."""
        return SQL(
            """
            SELECT -m.id, NULL::int, LEFT(m.text, 80)::varchar,
                   COALESCE(mc.channel_id, a.channel_id), 'social',
                   a.team_id, NULL::int, NULL::int, m.partner_id, m.company_id,
                   m.create_date, NULL::timestamp,
                   EXTRACT(HOUR FROM %(local_create)s)::int,
                   EXTRACT(ISODOW FROM %(local_create)s)::int::varchar,
                   NULL::float8, NULL::float8, NULL::float8, NULL::float8,
                   NULL::float8, NULL::float8, NULL::float8, NULL::float8,
                   NULL::float8, NULL::varchar, NULL::varchar, 0, 0,
                   m.kind, 'observed', NULL::float8, 0
            FROM social_message m
            JOIN social_account a ON a.id = m.account_id
            LEFT JOIN %(channels)s mc
                   ON mc.company_id = m.company_id AND mc.code = m.channel_code
            %(joins)s
            WHERE m.outcome = 'observed'
            """,
            local_create=local_time(SQL("m.create_date"), team_tz()),
            channels=self._channels_by_code(),
            joins=team_tz_joins(SQL("a.team_id"), SQL("m.company_id")),
        )
