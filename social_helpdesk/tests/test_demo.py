# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import math
from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged

from .common import SocialCase

BATCH = 10


@tagged("post_install", "-at_install")
class TestDemoReplay(SocialCase):
    """The Demo account keeps going, as its crons run it: the dataset is
    replayed forever as new conversations, and a new demo database shows
    every kind of example within a few minutes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.use_sla = True
        cls.account.write({"demo_batch_size": BATCH, "poll_interval_minutes": 1})
        # The polling cron polls only this account here.
        cls.env["social.account"].search(
            [("id", "!=", cls.account.id)]
        ).poll_enabled = False
        cls.dataset = cls.account._get_adapter()._dataset()["messages"]
        cls.Message = cls.env["social.message"]
        cls.Ticket = cls.env["helpdesk.ticket"]

    def cron_run(self):
        """A minute of the demo: the account comes due, and the polling,
        processing and SLA crons run."""
        self.account.next_poll_date = fields.Datetime.now() - timedelta(seconds=1)
        self.env["social.account"]._cron_poll()
        self.Event._cron_process()
        self.env["helpdesk.ticket.sla"]._cron_update_status()

    def rewind_replay(self, minutes):
        """As if the current replay had begun ``minutes`` earlier."""
        cursors = dict(self.account.poll_cursors)
        started = datetime.fromisoformat(cursors["loop_started"])
        started -= timedelta(minutes=minutes)
        self.account.poll_cursors = dict(cursors, loop_started=started.isoformat())

    def received(self):
        return self.Message.search([("account_id", "=", self.account.id)])

    def test_within_minutes_the_demo_shows_every_kind_of_example(self):
        for _run in range(math.ceil(len(self.dataset) / BATCH)):
            self.cron_run()
        self.assertEqual(self.account.poll_cursors["position"], len(self.dataset))
        now = fields.Datetime.now()
        tickets = self.Ticket.search([("social_account_id", "=", self.account.id)])
        self.assertTrue(
            tickets.filtered(lambda ticket: ticket.sla_status == "on_track"),
            "a ticket on track",
        )
        at_risk = tickets.filtered(lambda ticket: ticket.sla_status == "at_risk")
        self.assertTrue(at_risk, "a ticket at risk")
        self.assertTrue(
            tickets.filtered(lambda ticket: ticket.sla_status == "breached"),
            "a ticket breached",
        )
        # Dated from the customer's message: X's 2 hours are nearly over.
        for ticket in at_risk.filtered(lambda ticket: ticket.channel_id.code == "x"):
            age = now - ticket.create_date
            self.assertTrue(timedelta(minutes=90) < age < timedelta(hours=2), age)
        messages = self.received()
        lead = messages.filtered(lambda message: message.outcome == "lead")
        self.assertTrue(lead.lead_id, "a CRM lead")
        self.assertTrue(
            messages.filtered(lambda message: message.outcome == "observed"),
            "an observed message",
        )
        closing = tickets.filtered(
            lambda ticket: (
                ticket.channel_id.code in ("messenger", "instagram")
                and ticket.social_kind == "private"
                and ticket.social_window_closes_at
                and now < ticket.social_window_closes_at <= now + timedelta(hours=2)
            )
        )
        self.assertEqual(
            set(closing.channel_id.mapped("code")),
            {"messenger", "instagram"},
            "private reply windows about to close",
        )

    def test_each_replay_brings_new_conversations_of_the_same_customers(self):
        self.account.demo_batch_size = 1000
        self.cron_run()
        first = self.received()
        self.rewind_replay(60)
        self.cron_run()  # the next replay begins, spread over the hour
        self.assertEqual(self.account.poll_cursors["loop"], 1)
        self.rewind_replay(60)
        self.cron_run()  # the rest of it has come due

        events = self.Event.search([("account_id", "=", self.account.id)])
        unique = {item["id"] for item in self.dataset}
        self.assertEqual(len(events), 2 * len(unique), "nothing dropped as known")
        self.assertFalse(events.filtered(lambda e: e.state in ("new", "error")))
        self.assertFalse(
            events.filtered(lambda e: "Already received" in (e.ignore_reason or ""))
        )
        second = self.received() - first
        self.assertEqual(len(second), len(first))
        self.assertFalse(
            set(second.mapped("external_id")) & set(first.mapped("external_id"))
        )
        self.assertFalse(
            set(second.mapped("thread_key")) & set(first.mapped("thread_key"))
        )
        self.assertEqual(second.identity_id, first.identity_id, "the same customers")
        self.assertTrue(second.ticket_id - first.ticket_id, "new tickets")
        self.assertIn("lead", second.mapped("outcome"))
        self.assertIn("observed", second.mapped("outcome"))
