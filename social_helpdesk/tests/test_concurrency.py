# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Several workers on one queue, with real transactions: these tests commit
through their own cursors (as separate Odoo workers do) and clean up after.
Odoo's test runner holds the registry lock, so the workers are interleaved
transactions in one thread rather than threads."""

from psycopg2.errors import LockNotAvailable

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from ..models.social_event import WAKE_ARMED_SECONDS, WAKE_SEQUENCE
from .common import demo_item

AUTHORS = 12
MESSAGES_PER_AUTHOR = 3


class QueueCase(BaseCase):
    """A demo account with a queue of stored events, committed for real, and
    removed afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            team = env["helpdesk.ticket.team"].create({"name": "Concurrency team"})
            account = env["social.account"].create(
                {"name": "Concurrency", "network": "demo", "team_id": team.id}
            )
            # Each customer's messages in a row, so that batches share customers.
            items = [
                demo_item(f"message {n} of {a}", author=f"cc-{a}", conversation="cc")
                for a in range(AUTHORS)
                for n in range(MESSAGES_PER_AUTHOR)
            ]
            events = account._get_adapter().split_delivery({"messages": items})
            env["social.event"]._store(account, events)
            self.account_id, self.team_id = account.id, team.id
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["social.account"].browse(self.account_id)
            messages = env["social.message"].search([("account_id", "=", account.id)])
            tickets = env["helpdesk.ticket"].search(
                [("social_account_id", "=", account.id)]
            )
            partners = messages.partner_id
            messages.unlink()
            tickets.unlink()
            env["social.identity"].search([("partner_id", "in", partners.ids)]).unlink()
            partners.unlink()
            account.unlink()
            env["helpdesk.ticket.team"].browse(self.team_id).unlink()


@tagged("post_install", "-at_install")
class TestConcurrentProcessing(QueueCase):
    def test_skip_locked_hands_out_disjoint_batches(self):
        with self.registry.cursor() as first, self.registry.cursor() as second:
            one = api.Environment(first, SUPERUSER_ID, {})["social.event"]._claim_batch(
                limit=10
            )
            two = api.Environment(second, SUPERUSER_ID, {})[
                "social.event"
            ]._claim_batch(limit=10)
            self.assertEqual(len(one), 10)
            self.assertEqual(len(two), 10)
            self.assertFalse(set(one.ids) & set(two.ids))
            first.rollback()
            second.rollback()

    def test_two_workers_process_each_event_exactly_once(self):
        """Two transactions interleaved like two workers: each claims a batch,
        both process before either commits. Their batches share a customer, so
        the second finds that customer busy and leaves those events queued."""
        processed = ([], [])
        skipped = 0
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            workers = [
                (cr, api.Environment(cr, SUPERUSER_ID, {})["social.event"], done)
                for cr, done in ((cr_a, processed[0]), (cr_b, processed[1]))
            ]
            for _round in range(100):
                batches = [Event._claim_batch(limit=4) for _cr, Event, _done in workers]
                if not any(batches):
                    break
                self.assertFalse(set(batches[0].ids) & set(batches[1].ids))
                for (_cr, _Event, done), batch in zip(workers, batches, strict=True):
                    handled = batch._process()
                    skipped += len(batch - handled)
                    done.extend(handled.ids)
                for cr, _Event, _done in workers:
                    cr.commit()  # pylint: disable=invalid-commit
        self.assertGreater(skipped, 0, "the workers met on a customer")
        self.assertEqual(
            len(processed[0]) + len(processed[1]),
            len(set(processed[0]) | set(processed[1])),
        )
        self.assertFalse(set(processed[0]) & set(processed[1]), "no event twice")
        self.assertTrue(processed[0] and processed[1], "both workers took part")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            events = env["social.event"].search([("account_id", "=", self.account_id)])
            self.assertEqual(set(events.mapped("state")), {"done"})
            self.assertEqual(set(processed[0]) | set(processed[1]), set(events.ids))
            messages = env["social.message"].search(
                [("account_id", "=", self.account_id)]
            )
            self.assertEqual(len(messages), AUTHORS * MESSAGES_PER_AUTHOR)
            tickets = messages.ticket_id
            self.assertEqual(len(tickets), AUTHORS, "one ticket per customer")
            self.assertEqual(len(messages.identity_id), AUTHORS)
            for ticket in tickets:
                texts = ticket.social_message_ids.sorted("id").mapped("text")
                self.assertEqual(len(texts), MESSAGES_PER_AUTHOR)
                self.assertEqual(texts, sorted(texts), "each thread in order")


@tagged("post_install", "-at_install")
class TestStaleSnapshot(QueueCase):
    """A worker whose snapshot predates another's commit on the same customer
    (Odoo runs REPEATABLE READ) must not open a second ticket: it leaves the
    event queued, and a fresh transaction files it in the existing ticket."""

    def _store(self, *items):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["social.account"].browse(self.account_id)
            events = account._get_adapter().split_delivery({"messages": list(items)})
            env["social.event"]._store(account, events)
            return (
                env["social.event"]
                .search([("external_id", "in", [e.event_id for e in events])])
                .ids
            )

    def _race(self, first_id, *second_ids):
        """Worker B takes its snapshot, A files the first event and commits,
        then B tries the others in one batch. Returns what B handled."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            Event_b = api.Environment(cr_b, SUPERUSER_ID, {})["social.event"]
            Event_b.search_count([])  # B's snapshot starts here
            Event_a = api.Environment(cr_a, SUPERUSER_ID, {})["social.event"]
            self.assertEqual(Event_a.browse(first_id)._process().ids, [first_id])
            cr_a.commit()  # pylint: disable=invalid-commit
            handled = Event_b.browse(second_ids)._process()
            cr_b.commit()  # pylint: disable=invalid-commit
        return handled

    def _tickets_of(self, conversation):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["social.event"]._cron_process()
            messages = env["social.message"].search(
                [
                    ("account_id", "=", self.account_id),
                    ("conversation_id", "=", conversation),
                ]
            )
            return len(messages), len(messages.ticket_id)

    def _first_and_reply(self, author, conversation):
        first = demo_item("first", author=author, conversation=conversation)
        reply = demo_item(
            "second", author=author, conversation=conversation, parent=first["id"]
        )
        return self._store(first)[0], self._store(reply)[0]

    def test_known_customer(self):
        self._store(demo_item("earlier", author="stale-1", conversation="old"))
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["social.event"]._cron_process()
        first_id, second_id = self._first_and_reply("stale-1", "new")
        self.assertFalse(self._race(first_id, second_id), "left queued")
        self.assertEqual(self._tickets_of("new"), (2, 1))

    def test_new_customer(self):
        first_id, second_id = self._first_and_reply("stale-2", "fresh")
        self.assertFalse(self._race(first_id, second_id), "left queued")
        self.assertEqual(self._tickets_of("fresh"), (2, 1))

    def test_the_rest_of_the_batch_is_filed(self):
        """The stale customer's event fails its wave; the wave is filed again
        one event at a time, so another customer's event is not held back."""
        first_id, second_id = self._first_and_reply("stale-3", "mixed")
        (other_id,) = self._store(
            demo_item("unrelated", author="stale-4", conversation="other")
        )
        self.assertEqual(self._race(first_id, second_id, other_id).ids, [other_id])
        self.assertEqual(self._tickets_of("mixed"), (2, 1))
        self.assertEqual(self._tickets_of("other"), (1, 1))


@tagged("post_install", "-at_install")
class TestWakingTheCron(QueueCase):
    """Deliveries share one trigger of the processing cron (one NOTIFY a
    batch, not a delivery): the first one arms the wake, the next ones see it
    armed. The cron disarms it before it claims, and waits for the
    deliveries that relied on it, so that no delivery is left unseen."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            self._env(cr)["social.event"]._cron_process()  # the setup's queue
            self._end_of_run(cr)

    def _end_of_run(self, cr):
        """What Odoo's scheduler does when a run of the cron ends: delete the
        triggers it had seen when it started."""
        cr.execute(
            "DELETE FROM ir_cron_trigger WHERE cron_id = %s",
            [self._env(cr)["social.event"]._processing_cron_id()],
        )

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _deliver(self, cr, text):
        env = self._env(cr)
        account = env["social.account"].browse(self.account_id)
        item = demo_item(text, author="wake-1", conversation="wake")
        events = account._get_adapter().split_delivery({"messages": [item]})
        return env["social.event"]._store(account, events, via_webhook=True)

    def _triggers(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s",
                [self._env(cr)["social.event"]._processing_cron_id()],
            )
            return cr.fetchone()[0]

    def test_deliveries_share_one_trigger(self):
        for n in range(3):
            with self.registry.cursor() as cr:
                self.assertEqual(self._deliver(cr, f"delivery {n}"), 1)
        self.assertEqual(self._triggers(), 1)
        with self.registry.cursor() as cr:
            self._env(cr)["social.event"]._cron_process()
            done = self._env(cr)["social.event"].search_count(
                [("account_id", "=", self.account_id), ("state", "=", "done")]
            )
            self._end_of_run(cr)
        self.assertEqual(done, AUTHORS * MESSAGES_PER_AUTHOR + 3)
        with self.registry.cursor() as cr:
            self._deliver(cr, "after the claim")
        self.assertEqual(self._triggers(), 1, "the claim disarmed the wake")

    def test_an_old_arming_wakes_the_cron_again(self):
        """An arming whose trigger never committed (its transaction failed)
        expires: the next delivery triggers the cron itself."""
        stale = WAKE_ARMED_SECONDS + 5
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT setval(%s::regclass, extract(epoch FROM now())::bigint - %s)",
                [WAKE_SEQUENCE, stale],
            )
            self._deliver(cr, "after a failed arming")
        self.assertEqual(self._triggers(), 1)

    @mute_logger("odoo.sql_db")
    def test_the_cron_waits_for_a_delivery_relying_on_the_armed_wake(self):
        with self.registry.cursor() as cr:
            self._deliver(cr, "makes the trigger")
        with self.registry.cursor() as webhook, self.registry.cursor() as cron:
            self.assertEqual(self._deliver(webhook, "relies on it"), 1)
            self.assertEqual(self._triggers(), 1, "no second trigger")
            cron.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(LockNotAvailable):
                self._env(cron)["social.event"]._disarm_wake()
            cron.rollback()
            webhook.commit()  # pylint: disable=invalid-commit
            Event = self._env(cron)["social.event"]
            Event._disarm_wake()
            claimed = Event._claim_batch()
            texts = [event.payload["item"]["text"] for event in claimed]
            self.assertIn("relies on it", texts)


@tagged("post_install", "-at_install")
class TestPollingBesideDeliveries(QueueCase):
    def test_a_poll_does_not_hold_up_the_deliveries_of_its_account(self):
        """A poll claims its account for the length of its calls to the
        network; the webhook's deliveries for that account go on meanwhile."""
        with self.registry.cursor() as poll, self.registry.cursor() as webhook:
            env = api.Environment(poll, SUPERUSER_ID, {})
            claimed = env["social.account"].browse(self.account_id)._lock_for_poll()
            self.assertTrue(claimed)
            webhook.execute("SET LOCAL lock_timeout = '500ms'")
            env = api.Environment(webhook, SUPERUSER_ID, {})
            account = env["social.account"].browse(self.account_id)
            events = account._get_adapter().split_delivery(
                {"messages": [demo_item("during a poll", author="poll-1")]}
            )
            self.assertEqual(env["social.event"]._store(account, events), 1)
