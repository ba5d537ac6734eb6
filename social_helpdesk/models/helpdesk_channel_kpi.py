# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from .access import MANAGER, require_group
from .helpdesk_ticket_kpi_report import (
    FIRST_RESPONSE_HOURS,
    SLA_FIRST_RESPONSE_MET_PCT,
    analytic_settings,
)

PERIODS = {"today": 1, "7d": 7, "30d": 30}
MAX_PERIOD_DAYS = 366
HEATMAP_MEASURES = ("__count", "first_response_hours:avg")
DASHBOARD_FIELDS = [
    "channel_id",
    "company_id",
    "is_social",
    "open_count",
    "at_risk_count",
    "breached_count",
    "ticket_count",
    "prev_ticket_count",
    "ticket_change_pct",
    "first_response_hours",
    "prev_first_response_hours",
    "first_response_change_pct",
    "response_count",
    "prev_response_count",
    "within_target_pct",
    "prev_within_target_pct",
    "within_target_change_pts",
    "sla_measured_count",
    "prev_sla_measured_count",
    "csat",
    "csat_count",
]


def in_period(column, period):
    """The ticket's ``column`` falls within the company's ``period`` (cur or
    prev), as ``bounds`` gives it (joined as ``b``)."""
    return SQL(
        "(t.%s >= b.%s AND t.%s < b.%s)",
        SQL.identifier(column),
        SQL.identifier(f"{period}_start"),
        SQL.identifier(column),
        SQL.identifier(f"{period}_stop"),
    )


class HelpdeskChannelKpi(models.Model):
    """The managers' dashboard: one tile per channel and company, every
    channel alike; a company sees its own tickets only. Its figures are the
    KPI report's (same SQL expressions), over a period of days of the
    company (in the time zone of its working hours) given in the context
    (``kpi_date_from``, ``kpi_date_to``; today by default), against the
    period of as many days just before it. A period that includes today is
    compared up to the same time: today until now with yesterday until this
    time."""

    _name = "helpdesk.channel.kpi"
    _description = "Helpdesk channel dashboard"
    _auto = False
    _order = "sequence, id"

    channel_id = fields.Many2one("helpdesk.ticket.channel", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    name = fields.Char(related="channel_id.name")
    sequence = fields.Integer(readonly=True)
    is_social = fields.Boolean(readonly=True)
    open_count = fields.Integer("Open", readonly=True)
    at_risk_count = fields.Integer("At risk", readonly=True)
    breached_count = fields.Integer("Breached", readonly=True)
    ticket_count = fields.Integer(
        "New tickets", readonly=True, help="Tickets created in the period."
    )
    prev_ticket_count = fields.Integer("New tickets, previous period", readonly=True)
    ticket_change_pct = fields.Float(
        "New tickets, change (%)",
        readonly=True,
        help="Against the previous period; empty when it had none.",
    )
    first_response_hours = fields.Float(
        "Average first response",
        readonly=True,
        help="Hours and minutes, over the tickets first answered in the period.",
    )
    prev_first_response_hours = fields.Float(
        "Average first response, previous period", readonly=True
    )
    first_response_change_pct = fields.Float(
        "Average first response, change (%)",
        readonly=True,
        help="Against the previous period: lower is better. Empty when either "
        "period answered no ticket.",
    )
    response_count = fields.Integer("First responses", readonly=True)
    prev_response_count = fields.Integer(
        "First responses, previous period", readonly=True
    )
    within_target_pct = fields.Float(
        "First responses within SLA (%)",
        readonly=True,
        help="Over the tickets created in the period whose first response an "
        "SLA measured (met or breached).",
    )
    prev_within_target_pct = fields.Float(
        "First responses within SLA, previous period (%)", readonly=True
    )
    within_target_change_pts = fields.Float(
        "First responses within SLA, change (points)",
        readonly=True,
        help="Percentage points against the previous period. Empty when either "
        "period had no SLA measure.",
    )
    sla_measured_count = fields.Integer(
        "First responses measured by an SLA", readonly=True
    )
    prev_sla_measured_count = fields.Integer(
        "First responses measured by an SLA, previous period", readonly=True
    )
    csat = fields.Float(
        "Average satisfaction",
        readonly=True,
        help="The customers' ratings (1 to 5) given in the period; empty "
        "without ratings.",
    )
    csat_count = fields.Integer("Ratings", readonly=True)

    def _period_context(self):
        """The period's days from the context, as dates (or NULL: today)."""
        context = self.env.context
        start = fields.Date.to_date(context.get("kpi_date_from"))
        stop = fields.Date.to_date(context.get("kpi_date_to"))
        if start and stop and stop < start:
            start, stop = stop, start
        return start, stop

    @property
    def _table_query(self):
        start, stop = self._period_context()
        return SQL(
            """
            WITH clock AS (SELECT %(now)s::timestamp AS now),
            -- Each company's period, on its calendar's days (today by
            -- default), and the previous one as long, in UTC like the stored
            -- dates; a period that includes today ends now.
            bounds AS (
                SELECT co.id AS company_id,
                       (period.first::timestamp AT TIME ZONE zone.tz)
                           AT TIME ZONE 'UTC' AS cur_start,
                       LEAST(((period.last + 1)::timestamp AT TIME ZONE zone.tz)
                                 AT TIME ZONE 'UTC', clock.now) AS cur_stop,
                       ((period.first - period.days)::timestamp AT TIME ZONE zone.tz)
                           AT TIME ZONE 'UTC' AS prev_start,
                       LEAST(((period.last + 1 - period.days)::timestamp
                                 AT TIME ZONE zone.tz) AT TIME ZONE 'UTC',
                             clock.now - make_interval(days => period.days))
                           AS prev_stop
                FROM res_company co
                LEFT JOIN resource_calendar ccal ON ccal.id = co.resource_calendar_id
                CROSS JOIN clock
                CROSS JOIN LATERAL (
                    SELECT COALESCE(NULLIF(ccal.tz, ''), 'UTC') AS tz
                ) zone
                CROSS JOIN LATERAL (
                    SELECT d.first, d.last, d.last - d.first + 1 AS days
                    FROM (SELECT ((clock.now AT TIME ZONE 'UTC')
                                  AT TIME ZONE zone.tz)::date AS today) local
                    CROSS JOIN LATERAL (
                        SELECT COALESCE(%(first)s::date, local.today) AS first,
                               COALESCE(%(last)s::date, local.today) AS last
                    ) d
                ) period
                WHERE co.active
            ),
            -- Each figure read from the index of its own date (or of the
            -- open stages), which holds the columns it needs: an index-only
            -- scan of the period's tickets, whatever the table's size,
            -- never the tickets' rows (see HelpdeskTicket.init).
            backlog AS (
                SELECT t.channel_id, t.company_id, COUNT(*) AS open_count,
                       COUNT(*) FILTER (WHERE t.sla_status = 'at_risk')
                           AS at_risk_count,
                       COUNT(*) FILTER (WHERE t.sla_status = 'breached')
                           AS breached_count
                FROM helpdesk_ticket t
                WHERE t.active AND t.stage_id = ANY(%(open_stages)s)
                GROUP BY t.channel_id, t.company_id
            ),
            created AS (
                SELECT t.channel_id, t.company_id,
                   COUNT(*) FILTER (WHERE %(cur_created)s) AS ticket_count,
                   COUNT(*) FILTER (WHERE %(prev_created)s) AS prev_ticket_count,
                   AVG(%(sla_met)s) FILTER (WHERE %(cur_created)s)
                       AS within_target_pct,
                   AVG(%(sla_met)s) FILTER (WHERE %(prev_created)s)
                       AS prev_within_target_pct,
                   COUNT(*) FILTER (WHERE %(cur_created)s
                       AND t.sla_first_response_result IN ('met', 'breached')
                   ) AS sla_measured_count,
                   COUNT(*) FILTER (WHERE %(prev_created)s
                       AND t.sla_first_response_result IN ('met', 'breached')
                   ) AS prev_sla_measured_count
                FROM helpdesk_ticket t
                JOIN bounds b ON b.company_id = t.company_id
                WHERE t.active AND t.create_date >= %(since)s
                GROUP BY t.channel_id, t.company_id
            ),
            answered AS (
                SELECT t.channel_id, t.company_id,
                   AVG(%(first_response)s) FILTER (WHERE %(cur_answered)s)
                       AS first_response_hours,
                   AVG(%(first_response)s) FILTER (WHERE %(prev_answered)s)
                       AS prev_first_response_hours,
                   COUNT(*) FILTER (WHERE %(cur_answered)s) AS response_count,
                   COUNT(*) FILTER (WHERE %(prev_answered)s)
                       AS prev_response_count
                FROM helpdesk_ticket t
                JOIN bounds b ON b.company_id = t.company_id
                WHERE t.active AND t.first_response_date >= %(since)s
                GROUP BY t.channel_id, t.company_id
            ),
            rated AS (
                SELECT t.channel_id, t.company_id,
                   AVG(NULLIF(t.social_rating, 0)) FILTER (WHERE %(cur_rated)s)
                       AS csat,
                   COUNT(NULLIF(t.social_rating, 0)) FILTER (WHERE %(cur_rated)s)
                       AS csat_count
                FROM helpdesk_ticket t
                JOIN bounds b ON b.company_id = t.company_id
                WHERE t.active AND t.social_rating_date >= %(since)s
                GROUP BY t.channel_id, t.company_id
            )
            SELECT ROW_NUMBER() OVER (ORDER BY c.id, b.company_id) AS id,
                   c.id AS channel_id, b.company_id, c.sequence, c.is_social,
                   COALESCE(open_count, 0) AS open_count,
                   COALESCE(at_risk_count, 0) AS at_risk_count,
                   COALESCE(breached_count, 0) AS breached_count,
                   COALESCE(ticket_count, 0) AS ticket_count,
                   COALESCE(prev_ticket_count, 0) AS prev_ticket_count,
                   CASE WHEN prev_ticket_count > 0 THEN 100.0 *
                        (ticket_count - prev_ticket_count) / prev_ticket_count
                   END AS ticket_change_pct,
                   COALESCE(first_response_hours, 0) AS first_response_hours,
                   COALESCE(prev_first_response_hours, 0)
                       AS prev_first_response_hours,
                   CASE WHEN prev_first_response_hours > 0 THEN 100.0 *
                        (first_response_hours - prev_first_response_hours)
                        / prev_first_response_hours
                   END AS first_response_change_pct,
                   COALESCE(response_count, 0) AS response_count,
                   COALESCE(prev_response_count, 0) AS prev_response_count,
                   COALESCE(within_target_pct, 0) AS within_target_pct,
                   COALESCE(prev_within_target_pct, 0) AS prev_within_target_pct,
                   within_target_pct - prev_within_target_pct
                       AS within_target_change_pts,
                   COALESCE(sla_measured_count, 0) AS sla_measured_count,
                   COALESCE(prev_sla_measured_count, 0) AS prev_sla_measured_count,
                   csat, COALESCE(csat_count, 0) AS csat_count
            FROM helpdesk_ticket_channel c
            JOIN bounds b ON c.company_id IS NULL OR c.company_id = b.company_id
            LEFT JOIN backlog
                   ON backlog.channel_id = c.id AND backlog.company_id = b.company_id
            LEFT JOIN created
                   ON created.channel_id = c.id AND created.company_id = b.company_id
            LEFT JOIN answered
                   ON answered.channel_id = c.id AND answered.company_id = b.company_id
            LEFT JOIN rated
                   ON rated.channel_id = c.id AND rated.company_id = b.company_id
            WHERE c.active
            """,
            first_response=FIRST_RESPONSE_HOURS,
            sla_met=SLA_FIRST_RESPONSE_MET_PCT,
            now=self.env.cr.now(),
            first=start,
            last=stop,
            since=self._dashboard_since(start),
            open_stages=self.env["helpdesk.ticket.stage"]
            .sudo()
            .with_context(active_test=False)
            .search([("closed", "=", False)])
            .ids,
            cur_created=in_period("create_date", "cur"),
            prev_created=in_period("create_date", "prev"),
            cur_answered=in_period("first_response_date", "cur"),
            prev_answered=in_period("first_response_date", "prev"),
            cur_rated=in_period("social_rating_date", "cur"),
        )

    def _dashboard_since(self, start):
        """A UTC moment no later than any company's previous period's start
        (``start``, or today by the query's clock, less as many days, at
        midnight in any time zone): the tickets older than it count as open
        ones only."""
        start = start or self.env.cr.now().date()
        stop = self._period_context()[1] or start
        days = (stop - start).days + 1
        return datetime.combine(start - timedelta(days=days + 1), time.min)

    @api.model
    def search_fetch(self, *args, **kwargs):
        """The tiles, aggregated uncompiled (see ``analytic_settings``)."""
        analytic_settings(self.env.cr)
        return super().search_fetch(*args, **kwargs)

    @api.model
    def _read_group(self, *args, **kwargs):
        analytic_settings(self.env.cr)
        return super()._read_group(*args, **kwargs)

    def _tickets_action(self, name, extra_domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "helpdesk_mgmt.helpdesk_ticket_action"
        )
        action.update(
            name=f"{self.channel_id.name}: {name}",
            domain=[
                ("channel_id", "=", self.channel_id.id),
                ("company_id", "=", self.company_id.id),
                *extra_domain,
            ],
            context={"search_default_open": 1},
            view_mode="list,form,kanban",
            views=[(False, "list"), (False, "form"), (False, "kanban")],
        )
        return action

    def action_open_tickets(self):
        return self._tickets_action(self.env._("open tickets"), [])

    def action_open_at_risk(self):
        return self._tickets_action(
            self.env._("at risk"), [("sla_status", "=", "at_risk")]
        )

    def action_open_breached(self):
        return self._tickets_action(
            self.env._("breached"), [("sla_status", "=", "breached")]
        )

    # ------------------------------------------------------------------
    # The dashboard client action
    # ------------------------------------------------------------------
    @api.model
    def get_dashboard(self, period="today", date_from=None, date_to=None, channel=None):
        """The tiles of a period and its hour × weekday heatmap, read with
        the caller's rights (their companies' tickets). ``channel``: the
        heatmap's channel id, else every channel."""
        require_group(self.env, MANAGER, self.env._("read the channel dashboard"))
        zone = ZoneInfo(self._dashboard_tz())
        now = fields.Datetime.now()
        today = now.replace(tzinfo=timezone.utc).astimezone(zone).date()
        first, last = self._period_dates(period, today, date_from, date_to)
        days = (last - first).days + 1
        self.invalidate_model()  # rows of another period have the same ids
        tiles = self.with_context(
            kpi_date_from=fields.Date.to_string(first),
            kpi_date_to=fields.Date.to_string(last),
        ).search_read([], DASHBOARD_FIELDS)
        # Each tile's channel code: the dashboard shows a network's logo.
        codes = dict(
            self.env["helpdesk.ticket.channel"]
            .browse({tile["channel_id"][0] for tile in tiles})
            .mapped(lambda channel: (channel.id, channel.code))
        )
        for tile in tiles:
            tile["channel_code"] = codes.get(tile["channel_id"][0]) or False

        def label(start, stop):
            if start == stop:
                return format_date(self.env, start)
            return f"{format_date(self.env, start)} – {format_date(self.env, stop)}"

        return {
            "period": {
                "code": period,
                "date_from": fields.Date.to_string(first),
                "date_to": fields.Date.to_string(last),
                "label": label(first, last),
                "previous_label": label(
                    first - timedelta(days=days), last - timedelta(days=days)
                ),
                "to_date": last >= today,
            },
            "tiles": tiles,
            "heatmap": self._heatmap(first, last, zone, now, channel),
        }

    @api.model
    def _period_dates(self, period, today, date_from=None, date_to=None):
        """The first and last day of ``period`` (today, 7d, 30d or custom with
        ``date_from`` and ``date_to``), both included, ending ``today``."""
        if period in PERIODS:
            return today - timedelta(days=PERIODS[period] - 1), today
        if period != "custom":
            raise UserError(self.env._("Unknown period: %s", period))
        start = fields.Date.to_date(date_from)
        stop = fields.Date.to_date(date_to)
        if not (start and stop) or stop < start:
            raise UserError(self.env._("Choose a first day, and a last day after it."))
        if (stop - start).days >= MAX_PERIOD_DAYS:
            raise UserError(self.env._("Choose a period of at most a year."))
        return start, stop

    @api.model
    def _dashboard_tz(self):
        company = self.env.company
        return company.resource_calendar_id.tz or self.env.user.tz or "UTC"

    @api.model
    def _heatmap(self, first, last, zone, now, channel=None):
        """Tickets and average first response by weekday and hour of their
        creation (the KPI report's, in the team's time zone)."""

        def utc(day):
            moment = datetime.combine(day, time.min, tzinfo=zone)
            return moment.astimezone(timezone.utc).replace(tzinfo=None)

        domain = [
            ("outcome", "=", "ticket"),
            ("create_date", ">=", utc(first)),
            ("create_date", "<", min(utc(last + timedelta(days=1)), now)),
        ]
        if channel:
            domain.append(("channel_id", "=", int(channel)))
        Report = self.env["helpdesk.ticket.kpi.report"]
        rows = Report._read_group(
            domain, ["create_weekday", "create_hour"], list(HEATMAP_MEASURES)
        )
        weekdays = Report._fields["create_weekday"]._description_selection(self.env)
        channels = self.env["helpdesk.ticket.channel"].search_read([], ["name"])
        return {
            "weekdays": [{"value": value, "label": name} for value, name in weekdays],
            "cells": [
                {
                    "weekday": weekday,
                    "hour": hour,
                    "count": count,
                    "first_response_hours": hours,
                }
                for weekday, hour, count, hours in rows
            ],
            "channels": channels,
            "channel": int(channel) if channel else False,
        }
