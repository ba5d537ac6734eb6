# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.tools import SQL

AGGREGATE_WORK_MEM = "64MB"
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


class HelpdeskTicketKpiReport(models.Model):
    """One row per ticket of every channel, plus one per observed social
    message: the managers' KPI. Durations and SLA results are stored on the
    ticket when they happen, so this is a plain select that scales."""

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
    create_hour = fields.Integer("Hour of day (UTC)", readonly=True, aggregator=False)
    create_weekday = fields.Selection(WEEKDAYS, "Weekday", readonly=True)
    first_response_hours = fields.Float(readonly=True, aggregator="avg")
    first_response_business_hours = fields.Float(readonly=True, aggregator="avg")
    resolution_hours = fields.Float(readonly=True, aggregator="avg")
    resolution_business_hours = fields.Float(readonly=True, aggregator="avg")
    within_30m_pct = fields.Float(
        "% answered within 30 min", readonly=True, aggregator="avg"
    )
    within_2h_pct = fields.Float(
        "% answered within 2 h", readonly=True, aggregator="avg"
    )
    within_same_day_pct = fields.Float(
        "% answered the same day", readonly=True, aggregator="avg"
    )
    within_24h_pct = fields.Float(
        "% answered within 24 h", readonly=True, aggregator="avg"
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
        help="The ticket's last rating, when Helpdesk ratings "
        "(helpdesk_mgmt_rating) is installed.",
    )

    @property
    def _table_query(self):
        return SQL("%s UNION ALL %s", self._tickets_query(), self._observed_query())

    @api.model
    def _read_group(self, *args, **kwargs):
        """Aggregate a million tickets in memory (a hash table) rather than
        sorting them on disk: PostgreSQL's default work_mem is 4 MB."""
        self.env.cr.execute(SQL("SET LOCAL work_mem = %s", AGGREGATE_WORK_MEM))
        return super()._read_group(*args, **kwargs)

    @api.model
    def _within(self, hours):
        return SQL(
            "CASE WHEN t.first_response_date IS NOT NULL "
            "AND t.first_response_hours <= %s THEN 100.0::float8 ELSE 0.0::float8 END",
            hours,
        )

    @api.model
    def _csat_column(self):
        """The rating column exists only with helpdesk_mgmt_rating, which this
        module does not depend on."""
        field = self.env["helpdesk.ticket"]._fields.get("rating_last_value")
        if field is not None and field.store:
            return SQL("t.rating_last_value")
        return SQL("NULL::float")

    @api.model
    def _tickets_query(self):
        return SQL(
            """
            SELECT t.id AS id, t.id AS ticket_id, t.name AS name,
                   t.channel_id, CASE WHEN t.is_social THEN 'social'
                   ELSE 'traditional' END AS channel_group,
                   t.team_id, t.category_id, t.user_id, t.partner_id,
                   t.company_id, t.create_date,
                   EXTRACT(HOUR FROM t.create_date)::int AS create_hour,
                   EXTRACT(ISODOW FROM t.create_date)::int::varchar
                       AS create_weekday,
                   t.first_response_hours, t.first_response_business_hours,
                   t.resolution_hours, t.resolution_business_hours,
                   %(w30)s AS within_30m_pct, %(w2h)s AS within_2h_pct,
                   CASE WHEN t.first_response_date::date = t.create_date::date
                        THEN 100.0::float8 ELSE 0.0::float8 END
                       AS within_same_day_pct,
                   %(w24)s AS within_24h_pct,
                   t.sla_first_response_result AS sla_first_response,
                   t.sla_resolution_result AS sla_resolution,
                   (CASE WHEN t.sla_first_response_result = 'breached'
                         THEN 1 ELSE 0 END
                    + CASE WHEN t.sla_resolution_result = 'breached'
                           THEN 1 ELSE 0 END) AS sla_breached_count,
                   t.reopen_count, t.social_kind,
                   'ticket' AS outcome, %(csat)s AS csat
            FROM helpdesk_ticket t
            WHERE t.active
            """,
            w30=self._within(0.5),
            w2h=self._within(2),
            w24=self._within(24),
            csat=self._csat_column(),
        )

    @api.model
    def _observed_query(self):
        """Observed messages count in volume by channel, with no ticket. Their
        ids are negative so that they never collide with tickets'. Every column
        has exactly the ticket side's type: PostgreSQL then flattens the union
        and reads only the columns a report asks for."""
        return SQL(
            """
            SELECT -m.id, NULL::int, LEFT(m.text, 80)::varchar, c.id, 'social',
                   a.team_id, NULL::int, NULL::int, m.partner_id, m.company_id,
                   m.create_date, EXTRACT(HOUR FROM m.create_date)::int,
                   EXTRACT(ISODOW FROM m.create_date)::int::varchar,
                   NULL::float8, NULL::float8, NULL::float8, NULL::float8,
                   0.0::float8, 0.0::float8, 0.0::float8, 0.0::float8,
                   NULL::varchar, NULL::varchar, 0, 0,
                   m.kind, 'observed', NULL::float8
            FROM social_message m
            JOIN social_account a ON a.id = m.account_id
            LEFT JOIN helpdesk_ticket_channel c
                   ON c.code = m.channel_code AND c.company_id IS NULL
            WHERE m.outcome = 'observed'
            """
        )
