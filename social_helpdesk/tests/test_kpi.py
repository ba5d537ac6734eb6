# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import datetime

from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestKpi(TransactionCase):
    """Exact figures from fixed data: every channel measured the same way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "UTC office hours",
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"{day} {start}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                        },
                    )
                    for day in range(5)
                    for start, end in ((8, 12), (13, 17))
                ],
            }
        )
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "KPI team", "resource_calendar_id": cls.calendar.id}
        )
        cls.other_team = cls.env["helpdesk.ticket.team"].create({"name": "Other"})
        Channel = cls.env["helpdesk.ticket.channel"]
        cls.x, cls.email, cls.phone = (
            Channel._get_by_code(code) for code in ("x", "email", "phone")
        )
        Report = cls.env["helpdesk.ticket.kpi.report"]
        cls.Report = Report
        # Monday 2026-11-16 10:00 UTC, answered after 0.25 h, 1.5 h and 5 h.
        cls.x_fast = cls._ticket(cls.x, "2026-11-16 10:00", "2026-11-16 10:15")
        cls.x_slow = cls._ticket(cls.x, "2026-11-16 10:00", "2026-11-16 15:00")
        cls.email_ok = cls._ticket(cls.email, "2026-11-16 10:00", "2026-11-16 11:30")
        # Friday 17:00 to Monday 09:00: 64 calendar hours, 1 business hour.
        cls.phone_weekend = cls._ticket(
            cls.phone, "2026-11-13 17:00", "2026-11-16 09:00"
        )
        cls.unanswered = cls._ticket(cls.email, "2026-11-16 12:00", None)
        cls.elsewhere = cls._ticket(cls.x, "2026-11-16 10:00", None, cls.other_team)

    @classmethod
    def _ticket(cls, channel, created, answered, team=None):
        ticket = cls.env["helpdesk.ticket"].create(
            {
                "name": f"{channel.code} {created}",
                "description": "<p>KPI</p>",
                "channel_id": channel.id,
                "team_id": (team or cls.team).id,
            }
        )
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE helpdesk_ticket SET create_date = %s WHERE id = %s",
            [datetime.fromisoformat(created), ticket.id],
        )
        ticket.invalidate_recordset(["create_date"])
        if answered:
            ticket._set_first_response(datetime.fromisoformat(answered))
        else:
            ticket._compute_response_durations()
        return ticket

    def rows(self, domain, groupby, aggregates, user=None):
        self.env.flush_all()
        report = self.Report.with_user(user) if user else self.Report
        return report._read_group(
            domain + [("team_id", "in", [self.team.id, self.other_team.id])],
            groupby,
            aggregates,
        )

    def test_figures_per_channel(self):
        figures = {
            channel.code: (count, hours, within_2h, within_30m)
            for channel, count, hours, within_2h, within_30m in self.rows(
                [],
                ["channel_id"],
                [
                    "__count",
                    "first_response_hours:avg",
                    "within_2h_pct:avg",
                    "within_30m_pct:avg",
                ],
            )
        }
        self.assertEqual(figures["x"][0], 3)
        # X: answered in 0.25 h and 5 h; the third X ticket is unanswered.
        self.assertAlmostEqual(figures["x"][2], 100 / 3)
        self.assertAlmostEqual(figures["x"][3], 100 / 3)
        self.assertEqual(figures["email"][0], 2)
        self.assertAlmostEqual(figures["email"][2], 50.0)
        self.assertEqual(figures["phone"][0], 1)
        self.assertAlmostEqual(figures["phone"][1], 64.0)
        self.assertAlmostEqual(self.x_fast.first_response_hours, 0.25)
        self.assertAlmostEqual(self.x_slow.first_response_hours, 5.0)

    def test_business_versus_calendar_hours(self):
        self.assertAlmostEqual(self.phone_weekend.first_response_hours, 64.0)
        self.assertAlmostEqual(self.phone_weekend.first_response_business_hours, 1.0)
        # 10:00 to 15:00 on a Monday, with lunch from 12 to 13: 4 business hours.
        self.assertAlmostEqual(self.x_slow.first_response_business_hours, 4.0)
        [(hours, business)] = self.rows(
            [("channel_id", "=", self.phone.id)],
            [],
            ["first_response_hours:avg", "first_response_business_hours:avg"],
        )
        self.assertAlmostEqual((hours, business), (64.0, 1.0))

    def test_reopened_ticket_is_counted_once_with_its_reopen(self):
        self.email_ok.stage_id = self.env.ref(
            "helpdesk_mgmt.helpdesk_ticket_stage_done"
        )
        self.email_ok._social_reopen()
        [(count, reopens)] = self.rows(
            [("channel_id", "=", self.email.id)], [], ["__count", "reopen_count:sum"]
        )
        self.assertEqual((count, reopens), (2, 1))

    def test_weekday_and_hour(self):
        rows = self.rows([("create_weekday", "=", "5")], ["create_hour"], ["__count"])
        self.assertEqual(rows, [(17, 1)])

    def test_helpdesk_user_sees_only_their_team(self):
        agent = new_test_user(
            self.env, "kpi_agent", groups="helpdesk_mgmt.group_helpdesk_user_team"
        )
        self.team.user_ids = [(4, agent.id)]
        visible = self.rows([], ["team_id"], ["__count"], user=agent)
        self.assertEqual([team for team, _count in visible], [self.team])
        manager = new_test_user(
            self.env, "kpi_manager", groups="helpdesk_mgmt.group_helpdesk_manager"
        )
        visible = self.rows(
            [], ["team_id"], ["__count"], self.Report.with_user(manager)
        )
        self.assertEqual(len(visible), 2)

    def test_channel_dashboard_tiles_click_through(self):
        self.env.flush_all()
        tile = self.env["helpdesk.channel.kpi"].search([("channel_id", "=", self.x.id)])
        self.assertGreaterEqual(tile.open_count, 3)
        action = tile.action_open_breached()
        self.assertIn(("channel_id", "=", self.x.id), action["domain"])
        self.assertIn(("sla_status", "=", "breached"), action["domain"])
        tickets = self.env["helpdesk.ticket"].search(
            tile.action_open_tickets()["domain"]
        )
        self.assertIn(self.x_fast, tickets)
