# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models
from odoo.tools import SQL

from .helpdesk_ticket_kpi_report import FIRST_RESPONSE_HOURS, SLA_FIRST_RESPONSE_MET_PCT


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
            LEFT JOIN helpdesk_ticket t
                   ON t.channel_id = c.id AND t.company_id = co.id AND t.active
                  AND (t.create_date >= clock.now - interval '30 days'
                       OR t.stage_id IN (SELECT id FROM helpdesk_ticket_stage
                                         WHERE NOT closed))
            LEFT JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
            WHERE c.active
            GROUP BY c.id, co.id, c.sequence, c.is_social, day.start
            """,
            first_response=FIRST_RESPONSE_HOURS,
            sla_met=SLA_FIRST_RESPONSE_MET_PCT,
            now=self.env.cr.now(),
        )

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
