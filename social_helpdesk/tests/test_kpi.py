# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL

from ..models.helpdesk_ticket import DASHBOARD_INDEXES
from .common import SocialCase, demo_item


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
                "company_id": (team or cls.team).company_id.id,
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

    @classmethod
    def _team_in(cls, tz, company=None):
        calendar = cls.env["resource.calendar"].create({"name": tz, "tz": tz})
        return cls.env["helpdesk.ticket.team"].create(
            {
                "name": f"Team in {tz}",
                "resource_calendar_id": calendar.id,
                "company_id": (company or cls.env.company).id,
            }
        )

    def set_sla_results(self, results):
        self.env.flush_all()
        for ticket, result in results.items():
            self.env.cr.execute(
                "UPDATE helpdesk_ticket SET sla_first_response_result = %s "
                "WHERE id = %s",
                [result, ticket.id],
            )
        self.env.invalidate_all()

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

    def test_unanswered_and_unsolved_tickets_are_missing_not_zero(self):
        self.x_fast.closed_date = datetime(2026, 11, 16, 12)
        figures = {
            channel: (hours, resolution)
            for channel, hours, resolution in self.rows(
                [],
                ["channel_id"],
                ["first_response_hours:avg", "resolution_hours:avg"],
            )
        }
        # X: answered after 0.25 h and 5 h, a third one unanswered.
        self.assertAlmostEqual(figures[self.x][0], 2.625)
        self.assertAlmostEqual(figures[self.email][0], 1.5)
        self.assertAlmostEqual(figures[self.x][1], 2.0, "only the solved one")
        [(hours, resolution)] = self.env["helpdesk.ticket"]._read_group(
            [("id", "in", (self.x_fast | self.x_slow | self.elsewhere).ids)],
            [],
            ["first_response_hours:avg", "resolution_hours:avg"],
        )
        self.assertAlmostEqual(hours, 2.625, "tickets grouped: the same figure")
        self.assertAlmostEqual(resolution, 2.0)

    def test_ticket_without_channel_counts_under_other(self):
        ticket = self.env["helpdesk.ticket"].create(
            {"name": "No channel", "description": "<p>?</p>", "team_id": self.team.id}
        )
        self.assertFalse(ticket.channel_id)
        channels = [
            channel for channel, _count in self.rows([], ["channel_id"], ["__count"])
        ]
        self.assertNotIn(self.env["helpdesk.ticket.channel"], channels, "no None row")
        [(count,)] = self.rows([("ticket_id", "=", ticket.id)], [], ["__count"])
        self.assertEqual(count, 1)
        row = self.Report.search([("ticket_id", "=", ticket.id)])
        self.assertEqual(row.channel_id.code, "other")

    def test_hour_and_same_day_in_the_team_time_zone(self):
        """Monday 22:30 UTC is 23:30 in Madrid and 19:30 in São Paulo."""
        madrid = self._team_in("Europe/Madrid")
        sao_paulo = self._team_in("America/Sao_Paulo")
        for team in (madrid, sao_paulo):
            # Answered the same day in São Paulo, the next day in Madrid.
            self._ticket(self.x, "2026-11-16 22:30", "2026-11-16 23:30", team)
            # The next day in UTC, the same day in both teams.
            self._ticket(self.x, "2026-11-16 23:30", "2026-11-17 02:30", team)
        self.env.flush_all()
        rows = self.Report._read_group(
            [("team_id", "in", (madrid | sao_paulo).ids)],
            ["team_id", "create_weekday", "create_hour"],
            ["__count"],
        )
        self.assertEqual(
            {(team, weekday, hour) for team, weekday, hour, _count in rows},
            {
                (madrid, "1", 23),
                (madrid, "2", 0),
                (sao_paulo, "1", 19),
                (sao_paulo, "1", 20),
            },
        )
        same_day = dict(
            self.Report._read_group(
                [("team_id", "in", (madrid | sao_paulo).ids)],
                ["team_id"],
                ["within_same_day_pct:avg"],
            )
        )
        self.assertEqual(same_day, {madrid: 50.0, sao_paulo: 100.0})

    def test_dashboard_and_report_show_the_same_figures(self):
        """A Madrid company at Tuesday 17 November 10:00 (9:00 UTC): its day
        began on Monday at 23:00 UTC."""
        company = self.env["res.company"].create({"name": "KPI Madrid"})
        company.resource_calendar_id.tz = "Europe/Madrid"
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Madrid desk", "company_id": company.id}
        )
        yesterday = self._ticket(self.x, "2026-11-16 22:00", "2026-11-16 22:30", team)
        fast = self._ticket(self.x, "2026-11-16 22:30", "2026-11-16 23:15", team)
        slow = self._ticket(self.x, "2026-11-16 21:00", "2026-11-17 08:00", team)
        self._ticket(self.x, "2026-11-17 07:00", None, team)
        self.set_sla_results({yesterday: "met", fast: "met", slow: "breached"})
        now = datetime(2026, 11, 17, 9)
        Dashboard = self.env["helpdesk.channel.kpi"]
        tile_domain = [("channel_id", "=", self.x.id), ("company_id", "=", company.id)]
        fields = ["response_count", "first_response_hours", "within_target_pct"]
        with patch.object(self.env.cr, "now", lambda: now):
            [figures] = Dashboard.search(tile_domain).read(fields)
            Dashboard.invalidate_model()  # rows of another period, same ids
            # Monday and Tuesday in Madrid: every ticket above.
            [two_days] = (
                Dashboard.with_context(
                    kpi_date_from="2026-11-16", kpi_date_to="2026-11-17"
                )
                .search(tile_domain)
                .read(fields)
            )
        self.assertEqual(figures["response_count"], 2, "Madrid's today")
        self.assertAlmostEqual(figures["first_response_hours"], (0.75 + 11) / 2)
        self.assertAlmostEqual(two_days["within_target_pct"], 200 / 3)
        mine = [("company_id", "=", company.id), ("channel_id", "=", self.x.id)]
        madrid_day = datetime(2026, 11, 16, 23)
        [(count, hours)] = self.Report._read_group(
            mine
            + [
                ("first_response_date", ">=", madrid_day),
                ("first_response_date", "<", madrid_day + timedelta(days=1)),
            ],
            [],
            ["__count", "first_response_hours:avg"],
        )
        self.assertEqual(count, figures["response_count"])
        self.assertAlmostEqual(hours, figures["first_response_hours"])
        [(met,)] = self.Report._read_group(mine, [], ["sla_first_response_met_pct:avg"])
        self.assertAlmostEqual(met, two_days["within_target_pct"])

    def _period_company(self):
        company = self.env["res.company"].create({"name": "KPI periods"})
        company.resource_calendar_id.tz = "UTC"
        team = self.env["helpdesk.ticket.team"].create(
            {
                "name": "Period desk",
                "company_id": company.id,
                "resource_calendar_id": company.resource_calendar_id.id,
            }
        )
        return company, team

    def test_dashboard_compares_a_period_with_the_one_before(self):
        """The week of 10 to 16 November against 3 to 9 November."""
        company, team = self._period_company()
        met_a = self._ticket(self.x, "2026-11-10 10:00", "2026-11-10 11:00", team)
        late_b = self._ticket(self.x, "2026-11-12 10:00", "2026-11-12 13:00", team)
        self._ticket(self.x, "2026-11-16 23:30", None, team)
        met_e = self._ticket(self.x, "2026-11-03 00:00", "2026-11-03 04:00", team)
        # Created in the previous week, answered in this one.
        met_f = self._ticket(self.x, "2026-11-09 23:00", "2026-11-10 00:30", team)
        # Outside both weeks.
        self._ticket(self.x, "2026-11-17 00:00", "2026-11-17 00:10", team)
        self._ticket(self.x, "2026-11-02 23:59", "2026-11-02 23:59:30", team)
        self.set_sla_results(
            {met_a: "met", late_b: "breached", met_e: "met", met_f: "met"}
        )
        now = datetime(2026, 11, 17, 9)
        with patch.object(self.env.cr, "now", lambda: now):
            [tile] = (
                self.env["helpdesk.channel.kpi"]
                .with_context(kpi_date_from="2026-11-10", kpi_date_to="2026-11-16")
                .search(
                    [("channel_id", "=", self.x.id), ("company_id", "=", company.id)]
                )
                .read()
            )
        self.assertEqual((tile["ticket_count"], tile["prev_ticket_count"]), (3, 2))
        self.assertAlmostEqual(tile["ticket_change_pct"], 50.0)
        # Answered this week: A (1 h), B (3 h) and F (1.5 h); before: E (4 h).
        self.assertEqual((tile["response_count"], tile["prev_response_count"]), (3, 1))
        self.assertAlmostEqual(tile["first_response_hours"], 5.5 / 3)
        self.assertAlmostEqual(tile["prev_first_response_hours"], 4.0)
        self.assertAlmostEqual(
            tile["first_response_change_pct"], (5.5 / 3 - 4) / 4 * 100
        )
        # Within the SLA, of the tickets created: A of A and B; E and F.
        self.assertEqual(
            (tile["sla_measured_count"], tile["prev_sla_measured_count"]), (2, 2)
        )
        self.assertAlmostEqual(tile["within_target_pct"], 50.0)
        self.assertAlmostEqual(tile["prev_within_target_pct"], 100.0)
        self.assertAlmostEqual(tile["within_target_change_pts"], -50.0)

    def test_today_is_compared_with_yesterday_up_to_the_same_time(self):
        company, team = self._period_company()
        self._ticket(self.x, "2026-11-17 08:00", None, team)
        self._ticket(self.x, "2026-11-16 08:00", None, team)
        self._ticket(self.x, "2026-11-16 08:30", None, team)
        self._ticket(self.x, "2026-11-16 10:00", None, team)  # later than now
        now = datetime(2026, 11, 17, 9)
        Dashboard = self.env["helpdesk.channel.kpi"]
        with patch.object(self.env.cr, "now", lambda: now):
            [tile] = Dashboard.search(
                [("channel_id", "=", self.x.id), ("company_id", "=", company.id)]
            ).read(["ticket_count", "prev_ticket_count", "ticket_change_pct"])
        self.assertEqual((tile["ticket_count"], tile["prev_ticket_count"]), (1, 2))
        self.assertAlmostEqual(tile["ticket_change_pct"], -50.0)

    def test_dashboard_of_a_custom_period_with_its_heatmap(self):
        company, team = self._period_company()
        self._ticket(self.x, "2026-11-10 10:00", "2026-11-10 11:00", team)
        self._ticket(self.x, "2026-11-10 10:30", "2026-11-10 12:30", team)
        self._ticket(self.x, "2026-11-12 15:00", None, team)
        self._ticket(self.x, "2026-11-20 15:00", None, team)  # after the period
        self.env.user.company_ids = [(4, company.id)]
        Dashboard = self.env["helpdesk.channel.kpi"].with_company(company)
        data = Dashboard.get_dashboard("custom", "2026-11-10", "2026-11-16")
        self.assertEqual(data["period"]["date_from"], "2026-11-10")
        self.assertEqual(data["period"]["date_to"], "2026-11-16")
        self.assertIn("11/03/2026", data["period"]["previous_label"])
        [tile] = [
            tile
            for tile in data["tiles"]
            if tile["channel_id"][0] == self.x.id
            and tile["company_id"][0] == company.id
        ]
        self.assertEqual(tile["ticket_count"], 3)
        cells = {
            (cell["weekday"], cell["hour"]): (
                cell["count"],
                cell["first_response_hours"],
            )
            for cell in data["heatmap"]["cells"]
        }
        # Tuesday 10:00 twice (answered after 1 h and 2 h), Thursday 15:00 once.
        self.assertEqual(cells[("2", 10)], (2, 1.5))
        self.assertEqual(cells[("4", 15)][0], 1)
        self.assertEqual(len(data["heatmap"]["weekdays"]), 7)
        with self.assertRaisesRegex(UserError, "a last day after it"):
            Dashboard.get_dashboard("custom", "2026-11-16", "2026-11-10")

    def _ticket_scans(self, query):
        """How ``query``'s plan reads helpdesk_ticket, planned as on a large
        table (no sequential or bitmap scan): an "Index Only Scan" of one of
        DASHBOARD_INDEXES counts tickets from the index alone, never their
        rows, whatever the table's size. PostgreSQL plans an index read alone
        only when the index holds every column the query reads there. The
        table's other indexes are dropped for the plan (the test's transaction
        puts them back): on a few unvacuumed rows, reading another index and
        the rows costs as much, and which one the planner takes would depend
        on the table's size on disk."""
        self.env.flush_all()
        cr = self.env.cr
        kept = [name for name, _key, _columns, _where in DASHBOARD_INDEXES]
        kept.append("helpdesk_ticket__social_rating_date_index")
        cr.execute(
            """
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = 'helpdesk_ticket'::regclass
               AND c.relname != ALL(%s)
               AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
               )
            """,
            [kept],
        )
        for (name,) in cr.fetchall():
            cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        cr.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cr.execute(SQL("EXPLAIN (FORMAT JSON) %s", query))
        stack, scans = [cr.fetchone()[0][0]["Plan"]], []
        cr.execute("RESET enable_seqscan; RESET enable_bitmapscan")
        while stack:
            node = stack.pop()
            stack.extend(node.get("Plans", []))
            if node.get("Relation Name") == "helpdesk_ticket":
                scans.append((node["Node Type"], node.get("Index Name")))
        return sorted(scans)

    def test_dashboard_counts_tickets_from_indexes_alone(self):
        """At a million tickets, reading the period's tickets' rows took the
        dashboard 0.7 s. Only the few rated tickets are read as rows."""
        Dashboard = self.env["helpdesk.channel.kpi"].with_context(
            kpi_date_from="2026-11-10", kpi_date_to="2026-11-16"
        )
        self.assertEqual(
            self._ticket_scans(Dashboard._table_query),
            [
                ("Index Only Scan", "helpdesk_ticket_answered_kpi_index"),
                ("Index Only Scan", "helpdesk_ticket_created_kpi_index"),
                ("Index Only Scan", "helpdesk_ticket_open_kpi_index"),
                ("Index Scan", "helpdesk_ticket__social_rating_date_index"),
            ],
        )

    def test_heatmap_and_period_pivot_read_tickets_from_an_index_alone(self):
        """The manager's heatmap of a period and the report's pivot of it,
        as a helpdesk manager reads them (with their record rules)."""
        manager = new_test_user(
            self.env, "kpi-manager", groups="helpdesk_mgmt.group_helpdesk_manager"
        )
        Report = self.env["helpdesk.ticket.kpi.report"].with_user(manager)
        period = [
            ("outcome", "=", "ticket"),
            ("create_date", ">=", datetime(2026, 11, 10)),
            ("create_date", "<", datetime(2026, 11, 17)),
        ]
        for groupby, aggregates in (
            (["create_weekday", "create_hour"], ["first_response_hours:avg"]),
            (["channel_id"], ["first_response_hours:avg", "within_2h_pct:avg"]),
        ):
            query = Report._search(period)
            keys = [Report._read_group_groupby(spec, query) for spec in groupby]
            select = query.select(
                *keys,
                SQL("COUNT(*)"),
                *(Report._read_group_select(spec, query) for spec in aggregates),
            )
            with self.subTest(groupby=groupby):
                self.assertEqual(
                    self._ticket_scans(
                        SQL("%s GROUP BY %s", select, SQL(", ").join(keys))
                    ),
                    [("Index Only Scan", "helpdesk_ticket_created_kpi_index")],
                )

    def test_ticket_table_is_vacuumed_often_unless_its_owner_says(self):
        """The indexes are read alone only on pages a vacuum marked
        all-visible; a setting of the database's owner is kept."""
        Ticket = self.env["helpdesk.ticket"]
        cr = self.env.cr

        def options():
            cr.execute(
                "SELECT reloptions FROM pg_class "
                "WHERE oid = 'helpdesk_ticket'::regclass"
            )
            return dict(option.split("=") for option in cr.fetchone()[0] or [])

        self.assertEqual(options()["autovacuum_vacuum_scale_factor"], "0.01")
        self.assertEqual(options()["autovacuum_vacuum_insert_scale_factor"], "0.01")
        cr.execute(
            "ALTER TABLE helpdesk_ticket SET (autovacuum_vacuum_scale_factor = 0.05)"
        )
        Ticket.init()
        self.assertEqual(options()["autovacuum_vacuum_scale_factor"], "0.05")
        self.assertEqual(options()["autovacuum_vacuum_insert_scale_factor"], "0.01")


@tagged("post_install", "-at_install")
class TestKpiObserved(SocialCase):
    """Observed messages are volume, not tickets."""

    def test_observed_messages_do_not_lower_the_shares(self):
        instagram = self.env["helpdesk.ticket.channel"]._get_by_code("instagram")
        # A company's own channel: observed messages must find it too.
        instagram.company_id = self.env.company
        question = demo_item(
            "My order never came",
            author="u-80",
            channel="instagram",
            conversation="c-80",
        )
        thanks = demo_item(
            "Thanks", author="u-81", channel="instagram", conversation="c-81"
        )
        self.deliver(question, thanks)
        self.assertEqual(self.message_of(thanks).outcome, "observed")
        ticket = self.message_of(question).ticket_id
        ticket._set_first_response(ticket.create_date + timedelta(minutes=10))
        self.env.flush_all()
        Report = self.env["helpdesk.ticket.kpi.report"]
        shares = [
            "within_30m_pct:avg",
            "within_2h_pct:avg",
            "within_same_day_pct:avg",
            "within_24h_pct:avg",
        ]
        for groupby in ([], ["outcome"], ["channel_id"]):
            with self.subTest(groupby=groupby):
                rows = Report._read_group(
                    [("team_id", "=", self.team.id)], groupby, shares
                )
                for row in rows:
                    if groupby != ["outcome"] or row[0] == "ticket":
                        self.assertEqual(row[len(groupby) :], (100.0,) * 4)
        [(count, channel)] = [
            (count, channel)
            for channel, count in Report._read_group(
                [("team_id", "=", self.team.id), ("outcome", "=", "observed")],
                ["channel_id"],
                ["__count"],
            )
        ]
        self.assertEqual((count, channel), (1, instagram), "observed on its channel")


@tagged("post_install", "-at_install")
class TestFrequentQuestions(SocialCase):
    """Categories, tags and the customers' most common phrases, per channel,
    counted in tickets."""

    def topics(self, kind, domain=None):
        self.env.flush_all()
        return dict(
            self.env["helpdesk.ticket.topic.report"]._read_group(
                [("kind", "=", kind), *(domain or [("team_id", "=", self.team.id)])],
                ["topic"],
                ["__count"],
            )
        )

    def test_phrases_categories_and_tags(self):
        texts = {
            "u-1": "Hola, mi pedido no ha llegado todavía",
            "u-2": "¿Dónde está mi pedido? El pedido no ha llegado",
            "u-3": "My order never arrived, my order number is 42",
        }
        for author, text in texts.items():
            self.deliver(demo_item(text, author=author, conversation=f"c-{author}"))
        tickets = (
            self.env["social.message"]
            .search([("account_id", "=", self.account.id)])
            .ticket_id
        )
        self.assertEqual(len(tickets), 3)
        late = self.env["helpdesk.ticket.category"].create({"name": "Late order"})
        urgent = self.env["helpdesk.ticket.tag"].create({"name": "Urgent"})
        tickets.write({"category_id": late.id, "tag_ids": [(4, urgent.id)]})

        phrases = self.topics("phrase")
        # In two tickets, once each however often a ticket says it.
        self.assertEqual(phrases["pedido no ha llegado"], 2)
        self.assertEqual(phrases["order never arrived"], 1)
        self.assertEqual(phrases["order number"], 1)
        # Phrases never start or end with a common word.
        for phrase in phrases:
            words = phrase.split()
            self.assertNotIn(words[0], ("mi", "my", "no", "el"), phrase)
            self.assertNotIn(words[-1], ("mi", "my", "no", "is", "ha"), phrase)
        self.assertEqual(self.topics("category"), {"Late order": 3})
        self.assertEqual(self.topics("tag"), {"Urgent": 3})
        x = self.env["helpdesk.ticket.channel"]._get_by_code("x")
        self.assertEqual(
            self.topics(
                "category", [("team_id", "=", self.team.id), ("channel_id", "=", x.id)]
            ),
            {"Late order": 3},
        )
        self.assertFalse(
            self.topics(
                "phrase",
                [("team_id", "=", self.team.id), ("create_date", "<", "2000-01-01")],
            ),
            "a period filters the tickets",
        )

    def test_tickets_without_social_messages_use_their_subject(self):
        email = self.env["helpdesk.ticket.channel"]._get_by_code("email")
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Invoice address wrong",
                "description": "<p>The <b>invoice address</b> is wrong</p>",
                "channel_id": email.id,
                "team_id": self.team.id,
            }
        )
        phrases = self.topics("phrase", [("ticket_id", "=", ticket.id)])
        self.assertEqual(phrases["invoice address"], 1, "once per ticket")
        self.assertIn("address wrong", phrases)
