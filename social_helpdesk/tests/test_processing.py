# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from psycopg2.errors import ForeignKeyViolation

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SocialCase, demo_item

MODEL_LOGGER = "odoo.addons.social_helpdesk.models.social_event"


@tagged("post_install", "-at_install")
class TestProcessing(SocialCase):
    def test_storing_triggers_the_processing_cron(self):
        cron = self.env.ref("social_helpdesk.ir_cron_process_social_events")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.store(demo_item("hello"))
        self.Event._trigger_processing()
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertGreater(after, before)

    @mute_logger(MODEL_LOGGER)
    def test_failing_event_is_retried_then_kept_in_error(self):
        broken = demo_item("no author")
        del broken["author"]
        self.store(broken)
        event = self.event_of(broken)
        self.Event._cron_process()
        self.assertEqual(event.state, "new")
        self.assertEqual(event.attempts, 1)
        self.assertGreater(event.next_attempt_date, fields.Datetime.now())
        self.assertIn("Not a demo message", event.error)
        # Not due yet: a second run leaves it alone.
        self.Event._cron_process()
        self.assertEqual(event.attempts, 1)
        for _attempt in range(4):
            event.next_attempt_date = fields.Datetime.now() - timedelta(hours=1)
            self.Event._cron_process()
        self.assertEqual(event.state, "error")
        self.assertEqual(event.attempts, 5)
        self.assertTrue(event.exists(), "a failed event is never deleted")
        event.action_retry()
        self.assertEqual((event.state, event.attempts), ("new", 0))

    @mute_logger(MODEL_LOGGER)
    def test_one_bad_event_does_not_block_the_batch(self):
        broken = demo_item("broken")
        broken["author"] = "not a dict"
        good = demo_item("fine", author="u-40")
        self.store(broken, good)
        self.Event._cron_process()
        self.assertEqual(self.event_of(good).state, "done")
        self.assertTrue(self.event_of(good).ticket_id)
        self.assertEqual(self.event_of(broken).attempts, 1)

    def test_demo_source_creates_tickets_end_to_end(self):
        dataset = self.account._get_adapter()._dataset()
        messages = dataset["messages"]
        unique_ids = {item["id"] for item in messages}
        self.account.demo_batch_size = len(messages)
        self.account._poll()
        cursors = self.account.poll_cursors
        self.assertEqual((cursors["loop"], cursors["position"]), (0, len(messages)))
        events = self.Event.search([("account_id", "=", self.account.id)])
        self.assertEqual(len(events), len(unique_ids), "the duplicate is dropped")
        self.Event._cron_process()
        self.assertFalse(events.filtered(lambda e: e.state in ("new", "error")))
        own = [i["id"] for i in messages if i["author"]["id"] == dataset["brand"]["id"]]
        ignored = events.filtered(lambda e: e.state == "ignored")
        self.assertEqual(len(ignored), len(own))
        received = self.env["social.message"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(len(received), len(unique_ids) - len(own))
        ticketed = received.filtered("ticket_id")
        self.assertGreaterEqual(len(ticketed.ticket_id), 20)
        self.assertEqual(len(ticketed.ticket_id.partner_id), len(ticketed.identity_id))
        outcomes = set(received.mapped("outcome"))
        self.assertEqual(outcomes, {"ticket", "observed", "lead"}, "rules applied")
        # Polling again replays nothing new: the next replay is due in an hour.
        self.account._poll()
        self.assertEqual(
            self.Event.search_count([("account_id", "=", self.account.id)]),
            len(unique_ids),
        )

    def test_demo_account_is_installed_with_demo_data(self):
        account = self.env.ref(
            "social_helpdesk.social_account_demo", raise_if_not_found=False
        )
        if not account:
            self.skipTest("installed without demo data")
        self.assertEqual(account.network, "demo")
        self.assertTrue(account.is_demo)
        self.assertIn("Demo", account.name)

    def test_the_accounts_last_dates_come_from_its_events(self):
        """The account's health (the silence alarm) and the polling fallback
        read these dates: its latest event, and its latest webhook delivery.
        Storing writes nothing but the events."""
        account = self.account
        self.assertFalse(account.last_event_date)
        now = self.env.cr.now()  # the events' received date
        adapter = account._get_adapter()
        pushed = adapter.split_delivery({"messages": [demo_item("pushed")]})
        self.Event._store(account, pushed, via_webhook=True)
        self.assertEqual(account.last_event_date, now)
        self.assertEqual(account.last_webhook_date, now)

        self.age_events(30)
        polled = adapter.split_delivery({"messages": [demo_item("polled")]})
        self.Event._store(account, polled)
        self.assertEqual(account.last_event_date, now)
        self.assertEqual(account.last_webhook_date, now - timedelta(hours=30))
        events = self.Event.search([("account_id", "=", account.id)])
        self.assertEqual(events.mapped("via_webhook"), [False, True])

    def test_storing_for_a_deleted_account_says_so(self):
        """A webhook worker may still know the URL of an account deleted a
        moment ago: the foreign key refuses its events (the webhook answers
        404) instead of the store acknowledging events it could not keep."""
        account = self.account.copy({"name": "Deleted meanwhile"})
        events = account._get_adapter().split_delivery(
            {"messages": [demo_item("too late")]}
        )
        account.unlink()
        with self.assertRaises(ForeignKeyViolation), self.env.cr.savepoint():
            self.Event._store(account, events)
