# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .helpdesk_ticket_kpi_report import (
    FIRST_RESPONSE_HOURS,
    SLA_FIRST_RESPONSE_MET_PCT,
    analytic_settings,
)


class HelpdeskChannelKpi(models.Model):
    """The managers' dashboard: one tile per channel and company, every
    channel alike; a company sees its own tickets only. Its figures are the
    KPI report's (same SQL expressions); "today" is the company's day, in the
    time zone of its working hours."""

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
    today_first_response_hours = fields.Float(
        "Average first response today",
        readonly=True,
        help="Hours and minutes, over the tickets answered today (the company's day).",
    )
    within_target_pct = fields.Float(
        "First responses within SLA, 30 days (%)", readonly=True
    )
    today_response_count = fields.Integer("First responses today", readonly=True)
    sla_measured_count = fields.Integer(
        "First responses measured by an SLA (30 days)", readonly=True
    )

    @property
    def _table_query(self):
        now = self.env.cr.now()
        return SQL(
            """
            SELECT ROW_NUMBER() OVER (ORDER BY c.id, co.id) AS id,
                   c.id AS channel_id, co.id AS company_id, c.sequence, c.is_social,
                   COUNT(t.id) FILTER (WHERE NOT COALESCE(s.closed, FALSE))
                       AS open_count,
                   COUNT(t.id) FILTER (WHERE NOT COALESCE(s.closed, FALSE)
                       AND t.sla_status = 'at_risk') AS at_risk_count,
                   COUNT(t.id) FILTER (WHERE NOT COALESCE(s.closed, FALSE)
                       AND t.sla_status = 'breached') AS breached_count,
                   COALESCE(AVG(%(first_response)s) FILTER (
                       WHERE t.first_response_date >= day.start
                   ), 0) AS today_first_response_hours,
                   COALESCE(AVG(%(sla_met)s), 0) AS within_target_pct,
                   COUNT(t.id) FILTER (
                       WHERE t.first_response_date >= day.start
                   ) AS today_response_count,
                   COUNT(t.id) FILTER (
                       WHERE t.sla_first_response_result IN ('met', 'breached')
                   ) AS sla_measured_count
            FROM helpdesk_ticket_channel c
            JOIN res_company co
              ON co.active AND (c.company_id IS NULL OR c.company_id = co.id)
            LEFT JOIN resource_calendar ccal ON ccal.id = co.resource_calendar_id
            CROSS JOIN (SELECT %(now)s::timestamp AS now) clock
            CROSS JOIN LATERAL (
                SELECT COALESCE(NULLIF(ccal.tz, ''), 'UTC') AS tz
            ) zone
            -- The company's midnight, in UTC like the stored dates.
            CROSS JOIN LATERAL (
                SELECT (date_trunc('day', (clock.now AT TIME ZONE 'UTC')
                                          AT TIME ZONE zone.tz)
                        AT TIME ZONE zone.tz) AT TIME ZONE 'UTC' AS start
            ) day
            -- The last 30 days' tickets, and the open ones older: each read
            -- by its own index (create date; stage, named by id so that
            -- PostgreSQL knows how few tickets are open), not the whole table.
            LEFT JOIN (
                SELECT * FROM helpdesk_ticket
                 WHERE active AND create_date >= %(since)s
                 UNION ALL
                SELECT * FROM helpdesk_ticket
                 WHERE active AND stage_id = ANY(%(open_stages)s)
                   AND (create_date >= %(since)s) IS NOT TRUE
            ) t ON t.channel_id = c.id AND t.company_id = co.id
            LEFT JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
            WHERE c.active
            GROUP BY c.id, co.id, c.sequence, c.is_social, day.start
            """,
            first_response=FIRST_RESPONSE_HOURS,
            sla_met=SLA_FIRST_RESPONSE_MET_PCT,
            now=now,
            since=now - timedelta(days=30),
            open_stages=self.env["helpdesk.ticket.stage"]
            .sudo()
            .with_context(active_test=False)
            .search([("closed", "=", False)])
            .ids,
        )

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
