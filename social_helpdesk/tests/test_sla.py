# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import SocialCase, demo_item

MONDAY_9 = datetime(2026, 3, 2, 9, 0)


@tagged("post_install", "-at_install")
class TestSla(SocialCase):
    """The default per-channel policies on an office calendar (UTC, Monday to
    Friday, 8:00-12:00 and 13:00-17:00), driven by a fixed clock."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Office (UTC)",
                "tz": "UTC",
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"{day} {period}",
                            "dayofweek": str(day),
                            "hour_from": hour_from,
                            "hour_to": hour_to,
                            "day_period": period,
                        }
                    )
                    for day in range(5)
                    for period, hour_from, hour_to in (
                        ("morning", 8, 12),
                        ("afternoon", 13, 17),
                    )
                ],
            }
        )
        cls.leader = new_test_user(
            cls.env,
            "sla_leader",
            groups="helpdesk_mgmt.group_helpdesk_manager",
            notification_type="inbox",
        )
        cls.agent = new_test_user(
            cls.env,
            "sla_agent",
            groups="helpdesk_mgmt.group_helpdesk_user",
            notification_type="inbox",
        )
        cls.team.write(
            {
                "use_sla": True,
                "resource_calendar_id": cls.calendar.id,
                "user_id": cls.leader.id,
                "user_ids": [Command.set([cls.leader.id, cls.agent.id])],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Customer", "email": "customer@example.com"}
        )
        cls.policies = {
            name: cls.env.ref(f"social_helpdesk.sla_{name}")
            for name in (
                "x_first_response",
                "x_resolution",
                "meta_first_response",
                "meta_resolution",
                "email_web_first_response",
                "email_web_resolution",
                "phone_first_response",
                "phone_resolution",
            )
        }
        defaults = cls.env["helpdesk.sla"].browse(
            policy.id for policy in cls.policies.values()
        )
        (cls.env["helpdesk.sla"].search([]) - defaults).active = False
        cls.TicketSla = cls.env["helpdesk.ticket.sla"]

    @contextmanager
    def clock(self, moment):
        """Freeze Python's and the transaction's clocks (create dates)."""
        with freeze_time(moment), patch.object(self.env.cr, "now", lambda: moment):
            yield

    def channel(self, code):
        return self.env["helpdesk.ticket.channel"]._get_by_code(code)

    def new_ticket(self, code, at=MONDAY_9, **values):
        with self.clock(at):
            return self.env["helpdesk.ticket"].create(
                {
                    "name": f"A {code} ticket",
                    "description": "<p>Help</p>",
                    "team_id": self.team.id,
                    "channel_id": self.channel(code).id,
                    "partner_id": self.customer.id,
                    "user_id": False,
                    **values,
                }
            )

    def messenger_ticket(self):
        """The ticket of a Messenger message received Monday 9:00."""
        self.account.channel_id = self.channel("messenger")
        with self.clock(MONDAY_9):
            item = demo_item("Hi, my order?", channel="messenger", kind="private")
            self.deliver(item)
        return self.message_of(item).ticket_id

    def cron(self, at):
        with self.clock(at):
            self.TicketSla._cron_update_status()

    def line(self, ticket, target_type):
        return ticket.ticket_sla_ids.filtered(
            lambda line: line.target_type == target_type
        )

    def activities(self, ticket, prefix):
        return ticket.activity_ids.filtered(
            lambda activity: activity.summary.startswith(prefix)
        )

    def breach_notes(self, ticket):
        return ticket.message_ids.filtered(
            lambda message: "SLA breached" in str(message.body)
        )

    def answer_by_email(self, ticket, at):
        with self.clock(at):
            ticket.with_user(self.agent).message_post(
                body="We are looking into it.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )

    def test_default_policy_per_channel(self):
        """Monday 9:00: X answers in 2 clock hours, Meta in 8 business hours,
        email and web in 24 clock hours, phone in 1 business hour; cases are
        solved in 2 (social) or 3 business days."""
        expected = {
            "x": ("x", datetime(2026, 3, 2, 11), datetime(2026, 3, 4, 9)),
            "facebook": ("meta", datetime(2026, 3, 3, 9), datetime(2026, 3, 4, 9)),
            "messenger": ("meta", datetime(2026, 3, 3, 9), datetime(2026, 3, 4, 9)),
            "instagram": ("meta", datetime(2026, 3, 3, 9), datetime(2026, 3, 4, 9)),
            "email": ("email_web", datetime(2026, 3, 3, 9), datetime(2026, 3, 5, 9)),
            "web": ("email_web", datetime(2026, 3, 3, 9), datetime(2026, 3, 5, 9)),
            "phone": ("phone", datetime(2026, 3, 2, 10), datetime(2026, 3, 5, 9)),
        }
        for code, (policy, first_response, resolution) in expected.items():
            with self.subTest(channel=code):
                ticket = self.new_ticket(code)
                self.assertEqual(
                    ticket.sla_ids,
                    self.policies[f"{policy}_first_response"]
                    | self.policies[f"{policy}_resolution"],
                )
                self.assertEqual(ticket.sla_first_response_deadline, first_response)
                self.assertEqual(ticket.sla_resolution_deadline, resolution)
                self.assertEqual(ticket.sla_next_deadline, first_response)
                self.assertEqual(ticket.sla_status, "on_track")
        other = self.new_ticket("other")
        self.assertFalse(other.sla_ids, "no default policy for other channels")
        self.assertFalse(other.sla_status)

    def test_channel_free_policy_applies_to_every_channel(self):
        everywhere = self.policies["phone_first_response"].copy(
            {"name": "Everywhere", "channel_ids": [Command.clear()]}
        )
        self.assertIn(everywhere, self.new_ticket("other").sla_ids)
        self.assertIn(everywhere, self.new_ticket("x").sla_ids)

    def test_refreshed_ticket_takes_its_new_channel_policies(self):
        ticket = self.new_ticket("x")
        ticket.channel_id = self.channel("phone")
        self.assertFalse(ticket.sla_fits)
        with self.clock(MONDAY_9):
            ticket.refresh_sla()
        self.assertEqual(
            ticket.sla_ids,
            self.policies["phone_first_response"] | self.policies["phone_resolution"],
        )
        self.assertEqual(ticket.sla_first_response_deadline, datetime(2026, 3, 2, 10))

    def test_business_hours_across_night_and_weekend(self):
        self.policies["meta_first_response"].max_calendar_hours = 0
        facebook = self.new_ticket("facebook", at=datetime(2026, 3, 6, 16))
        self.assertEqual(
            facebook.sla_first_response_deadline,
            datetime(2026, 3, 9, 16),
            "uncapped: 1 hour on Friday, 7 on Monday",
        )
        self.assertEqual(facebook.sla_resolution_deadline, datetime(2026, 3, 10, 16))
        phone = self.new_ticket("phone", at=datetime(2026, 3, 5, 16, 30))
        self.assertEqual(
            phone.sla_first_response_deadline,
            datetime(2026, 3, 6, 8, 30),
            "half an hour on Thursday evening, half on Friday morning",
        )
        saturday = self.new_ticket("phone", at=datetime(2026, 3, 7, 10))
        self.assertEqual(saturday.sla_first_response_deadline, datetime(2026, 3, 9, 9))
        x_ticket = self.new_ticket("x", at=datetime(2026, 3, 7, 23))
        self.assertEqual(
            x_ticket.sla_first_response_deadline,
            datetime(2026, 3, 8, 1),
            "X counts clock hours, weekend or not",
        )

    def test_social_first_response_never_past_24_hours(self):
        """Friday 16:30: 8 business hours end on Monday 16:30, 72 hours later;
        the 24-hour cap comes first and the ticket says which deadline
        applies."""
        friday = datetime(2026, 3, 6, 16, 30)
        for code in ("facebook", "messenger", "instagram"):
            with self.subTest(channel=code):
                ticket = self.new_ticket(code, at=friday)
                self.assertEqual(
                    ticket.sla_first_response_deadline, datetime(2026, 3, 7, 16, 30)
                )
                self.assertTrue(self.line(ticket, "first_response").deadline_capped)
                self.assertEqual(ticket.sla_first_response_basis, "24 h cap")
                self.assertEqual(
                    ticket.sla_resolution_deadline,
                    datetime(2026, 3, 10, 16, 30),
                    "resolution targets have no cap",
                )
        self.cron(datetime(2026, 3, 7, 16, 31))
        self.assertEqual(ticket.sla_status, "breached", "breached on Saturday")
        monday = self.new_ticket("facebook")
        self.assertEqual(monday.sla_first_response_deadline, datetime(2026, 3, 3, 9))
        self.assertEqual(monday.sla_first_response_basis, "8 business hours")
        x_ticket = self.new_ticket("x")
        self.assertEqual(x_ticket.sla_first_response_basis, "2 hours")

    def test_first_response_meets_the_target(self):
        ticket = self.new_ticket("x")
        self.answer_by_email(ticket, datetime(2026, 3, 2, 10, 15))
        self.assertEqual(ticket.first_response_date, datetime(2026, 3, 2, 10, 15))
        self.assertEqual(self.line(ticket, "first_response").state, "accomplished")
        self.assertEqual(ticket.sla_status, "on_track", "the resolution still runs")
        self.assertEqual(ticket.sla_next_deadline, ticket.sla_resolution_deadline)
        with self.clock(datetime(2026, 3, 3, 10)):
            ticket.stage_id = self.done_stage
        self.assertEqual(self.line(ticket, "stage").state, "accomplished")
        self.assertEqual(ticket.sla_status, "met")
        self.assertFalse(ticket.sla_next_deadline)

    def test_first_response_misses_the_target(self):
        ticket = self.new_ticket("x")
        self.answer_by_email(ticket, datetime(2026, 3, 2, 11, 30))
        self.assertEqual(self.line(ticket, "first_response").state, "expired")
        self.assertEqual(ticket.sla_status, "breached")
        self.assertEqual(
            ticket.sla_first_response_deadline,
            datetime(2026, 3, 2, 11),
            "a missed deadline stays",
        )

    def test_at_risk_then_breach_escalate_once(self):
        ticket = self.new_ticket("x", user_id=self.agent.id)
        self.cron(datetime(2026, 3, 2, 10, 0))
        self.assertEqual(ticket.sla_status, "on_track")
        self.assertFalse(self.activities(ticket, "SLA at risk"))
        self.cron(datetime(2026, 3, 2, 10, 31))
        self.assertEqual(ticket.sla_status, "at_risk", "30 minutes left")
        with self.clock(datetime(2026, 3, 2, 10, 31)):
            self.assertEqual(ticket.sla_time_left, "0h 29m")
        warning = self.activities(ticket, "SLA at risk")
        self.assertEqual(len(warning), 1)
        self.assertEqual(warning.user_id, self.agent)
        self.cron(datetime(2026, 3, 2, 10, 45))
        self.assertEqual(len(self.activities(ticket, "SLA at risk")), 1, "once")

        self.cron(datetime(2026, 3, 2, 11, 1))
        self.assertEqual(ticket.sla_status, "breached")
        self.assertEqual(self.line(ticket, "first_response").state, "expired")
        self.assertEqual(ticket.priority, "2", "raised from medium to high")
        notice = self.activities(ticket, "SLA breached")
        self.assertEqual(len(notice), 1)
        self.assertEqual(notice.user_id, self.leader, "the leader, not the assignee")
        self.assertEqual(len(self.breach_notes(ticket)), 1)
        self.cron(datetime(2026, 3, 2, 11, 30))
        self.assertEqual(ticket.priority, "2", "once")
        self.assertEqual(len(self.activities(ticket, "SLA breached")), 1)
        self.assertEqual(len(self.breach_notes(ticket)), 1)

    def test_breach_of_closed_ticket_is_not_escalated(self):
        ticket = self.new_ticket("x")
        with self.clock(datetime(2026, 3, 2, 11, 30)):
            ticket.stage_id = self.done_stage
        self.cron(datetime(2026, 3, 2, 11, 35))
        self.assertEqual(ticket.sla_status, "breached", "closed late, unanswered")
        self.assertEqual(ticket.priority, "1")
        self.assertFalse(self.activities(ticket, "SLA breached"))

    def test_unassigned_ticket_warns_the_team_leader(self):
        ticket = self.new_ticket("phone")
        self.cron(datetime(2026, 3, 2, 9, 50))
        self.assertEqual(ticket.sla_status, "at_risk", "80% of the hour used")
        self.assertEqual(self.activities(ticket, "SLA at risk").user_id, self.leader)
        self.team.user_id = False
        other = self.new_ticket("phone")
        self.cron(datetime(2026, 3, 2, 9, 55))
        self.assertEqual(
            self.activities(other, "SLA at risk").user_id,
            self.team.user_ids[:1],
            "no leader: the team's first member",
        )

    def test_escalations_follow_the_policy(self):
        self.policies["x_first_response"].write(
            {"escalate_at_risk": False, "escalate_breach": False}
        )
        ticket = self.new_ticket("x", user_id=self.agent.id)
        self.cron(datetime(2026, 3, 2, 10, 45))
        self.cron(datetime(2026, 3, 2, 11, 15))
        self.assertEqual(ticket.sla_status, "breached")
        self.assertFalse(self.activities(ticket, "SLA at risk"))
        self.assertEqual(ticket.priority, "1")

    def test_email_and_phone_are_measured_like_social(self):
        email = self.new_ticket("email")
        phone = self.new_ticket("phone")
        messenger = self.new_ticket("messenger")
        self.answer_by_email(email, datetime(2026, 3, 2, 20))
        with self.clock(datetime(2026, 3, 2, 9, 40)):
            phone.action_responded_by_phone()
        self.cron(datetime(2026, 3, 3, 9, 30))
        self.assertEqual(self.line(email, "first_response").state, "accomplished")
        self.assertEqual(self.line(phone, "first_response").state, "accomplished")
        self.assertEqual(self.line(messenger, "first_response").state, "expired")
        self.assertEqual(
            (email | phone | messenger).mapped("sla_status"),
            ["on_track", "on_track", "breached"],
        )

    def test_closing_unanswered_ticket_settles_first_response(self):
        ticket = self.new_ticket("email")
        with self.clock(datetime(2026, 3, 2, 10)):
            ticket.stage_id = self.done_stage
        self.assertEqual(self.line(ticket, "first_response").state, "accomplished")
        self.assertEqual(ticket.sla_status, "met")

    def test_messenger_window_warning(self):
        ticket = self.messenger_ticket()
        ticket.user_id = self.agent
        self.assertWarnedOnceBeforeTheWindowCloses(ticket)

        with self.clock(datetime(2026, 3, 3, 7)):
            again = demo_item(
                "Still waiting", channel="messenger", kind="private", conversation="c-1"
            )
            self.deliver(again)
        self.assertEqual(self.message_of(again).ticket_id, ticket)
        self.cron(datetime(2026, 3, 3, 7, 5))
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 4, 7))
        self.cron(datetime(2026, 3, 4, 3, 5))
        self.assertEqual(
            len(self.activities(ticket, "Reply window")), 2, "once per window"
        )

    def assertWarnedOnceBeforeTheWindowCloses(self, ticket):
        """A Monday 9:00 Messenger message: the assignee is warned once, 4
        hours before its 24-hour window closes."""
        self.cron(datetime(2026, 3, 2, 9, 5))
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 3, 9))
        self.cron(datetime(2026, 3, 3, 4, 55))
        self.assertFalse(self.activities(ticket, "Reply window"))
        self.cron(datetime(2026, 3, 3, 5, 5))
        warning = self.activities(ticket, "Reply window")
        self.assertEqual(len(warning), 1, "4 hours before the window closes")
        self.assertEqual(warning.user_id, self.agent)
        self.cron(datetime(2026, 3, 3, 6))
        self.assertEqual(len(self.activities(ticket, "Reply window")), 1, "once")

    def test_window_warning_without_sla(self):
        """The platform's window closes on teams without SLA policies too."""
        self.team.use_sla = False
        ticket = self.messenger_ticket()
        ticket.user_id = self.agent
        self.assertFalse(ticket.ticket_sla_ids)
        self.assertWarnedOnceBeforeTheWindowCloses(ticket)

    def test_window_warning_off_by_policy(self):
        """A policy's 0 still means no warning."""
        self.policies["meta_first_response"].window_warning_hours = 0
        self.policies["meta_resolution"].window_warning_hours = 0
        ticket = self.messenger_ticket()
        self.assertTrue(ticket.ticket_sla_ids)
        self.cron(datetime(2026, 3, 3, 8, 55))
        self.assertFalse(self.activities(ticket, "Reply window"))

    def test_comment_private_reply_window(self):
        with self.clock(MONDAY_9):
            item = demo_item("Broken on arrival", channel="facebook", kind="public")
            self.deliver(item)
        ticket = self.message_of(item).ticket_id
        self.cron(datetime(2026, 3, 2, 9, 5))
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 9, 9))

    def test_a_window_is_stored_as_its_message_is_filed(self):
        """The assignee sees when the window closes before the cron runs."""
        ticket = self.messenger_ticket()
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 3, 9))

    def test_the_human_agent_tag_moves_the_open_windows_at_once(self):
        ticket = self.messenger_ticket()
        with self.clock(datetime(2026, 3, 2, 10)):
            self.account.meta_human_agent_tag = True
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 9, 9))
        with self.clock(datetime(2026, 3, 2, 11)):
            self.account.meta_human_agent_tag = False
        self.assertEqual(ticket.social_window_closes_at, datetime(2026, 3, 3, 9))

    def test_a_conversation_moved_to_a_lead_takes_its_window_along(self):
        """The ticket left without messages has no window to warn about."""
        ticket = self.messenger_ticket()
        ticket.user_id = self.agent
        self.assertTrue(ticket.social_window_closes_at)
        ticket.action_social_to_lead()
        self.assertFalse(ticket.social_window_closes_at)
        self.cron(datetime(2026, 3, 3, 8))
        self.assertFalse(self.activities(ticket, "Reply window"))

    def test_the_first_pass_sets_what_each_ticket_update_sets(self):
        """``_init_status`` (install, bench) selects the tickets inside its
        statement: it must store what ``_update_status`` does with their ids,
        and leave the reply windows as their messages set them."""
        tickets = self.messenger_ticket()
        tickets |= self.new_ticket("x")
        tickets |= self.new_ticket("email")
        answered = self.new_ticket("phone")
        self.answer_by_email(answered, datetime(2026, 3, 2, 9, 30))
        tickets |= answered
        fields = [
            "sla_status",
            "sla_first_response_deadline",
            "sla_resolution_deadline",
            "sla_next_deadline",
            "sla_first_response_result",
            "sla_resolution_result",
        ]
        windows = tickets.mapped("social_window_closes_at")
        self.assertTrue(any(windows))
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, state FROM helpdesk_ticket_sla WHERE ticket_id = ANY(%s)",
            [tickets.ids],
        )
        states = self.env.cr.fetchall()

        def afresh():
            """The tickets as before any status was stored."""
            self.env.cr.execute(
                "UPDATE helpdesk_ticket SET "
                + ", ".join(f"{name} = NULL" for name in fields)
                + " WHERE id = ANY(%s)",
                [tickets.ids],
            )
            for line_id, state in states:
                self.env.cr.execute(
                    "UPDATE helpdesk_ticket_sla SET state = %s WHERE id = %s",
                    [state, line_id],
                )
            self.env.invalidate_all()

        def stored():
            return [
                (ticket.read(fields)[0], ticket.ticket_sla_ids.mapped("state"))
                for ticket in tickets
            ]

        later = datetime(2026, 3, 2, 14)  # the x ticket breached, others run
        afresh()
        with self.clock(later):
            self.TicketSla._update_status(tickets.ids, now=later)
        expected = stored()
        self.assertIn("breached", [values["sla_status"] for values, _s in expected])
        afresh()
        with self.clock(later):
            self.TicketSla._init_status()
        self.assertEqual(stored(), expected)
        self.assertEqual(tickets.mapped("social_window_closes_at"), windows)
