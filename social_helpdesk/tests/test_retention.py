# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Raw-store retention: processed events lose their payload after the
retention period, keep their row and dedup key, and the events that still
matter (new, in error, rejected) keep theirs."""

from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..models.social_event import RETENTION_PARAM
from .common import SocialCase, demo_item
from .test_concurrency import QueueCase

DAY = 24  # hours


@tagged("post_install", "-at_install")
class TestRetention(SocialCase):
    def _set_state(self, item, state):
        self.Event.flush_model()
        self.env.cr.execute(
            "UPDATE social_event SET state = %s WHERE id = %s",
            [state, self.event_of(item).id],
        )
        self.env.invalidate_all()

    def _processed(self, count, prefix="old"):
        items = [
            demo_item(f"{prefix} {n}", author=f"{prefix}-{n}", conversation=prefix)
            for n in range(count)
        ]
        self.deliver(*items)
        return items

    def test_prunes_processed_payloads_past_the_period_only(self):
        done = self._processed(2)
        ignored, failed, queued, rejected = (
            demo_item(f"kept {n}", author=f"kept-{n}") for n in range(4)
        )
        self.store(ignored, failed, queued, rejected)
        self._set_state(ignored, "ignored")
        self._set_state(failed, "error")
        self._set_state(rejected, "rejected")
        self.age_events(91 * DAY)
        recent = demo_item("recent", author="recent")
        self.store(recent)
        self.event_of(recent)._process()

        self.assertEqual(self.Event._cron_prune_payloads(), 3)

        for item in [*done, ignored]:
            event = self.event_of(item)
            self.assertTrue(event.pruned_date, item["text"])
            self.assertFalse(event.payload, item["text"])
            self.assertEqual(event.external_id, f"demo:{item['id']}")
        for item in [failed, queued, rejected, recent]:
            event = self.event_of(item)
            self.assertFalse(event.pruned_date, item["text"])
            self.assertEqual(event.payload["item"]["text"], item["text"])
        # The messages and tickets made from the events are untouched.
        self.assertEqual(self.message_of(done[0]).text, done[0]["text"])
        self.assertEqual(self.Event._cron_prune_payloads(), 0, "pruned once")

    def test_prunes_in_bounded_batches_each_committed(self):
        self._processed(5)
        self.age_events(91 * DAY)
        pruned_at_commits = []

        def commit(model):
            pruned_at_commits.append(
                model.search_count(
                    [("account_id", "=", self.account.id), ("pruned_date", "!=", False)]
                )
            )
            return False

        with patch.object(type(self.Event), "_commit", commit):
            self.assertEqual(self.Event._cron_prune_payloads(batch_size=2), 5)
        self.assertEqual(pruned_at_commits, [2, 4, 5])

    def test_the_period_is_a_setting(self):
        self.assertEqual(
            self.env["res.config.settings"].create({}).social_event_retention_days, 90
        )
        self.env["res.config.settings"].create(
            {"social_event_retention_days": 30}
        ).execute()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(RETENTION_PARAM), "30"
        )
        items = self._processed(1)
        self.age_events(29 * DAY)
        self.assertEqual(self.Event._cron_prune_payloads(), 0)
        self.age_events(2 * DAY)
        self.env["ir.config_parameter"].set_param(RETENTION_PARAM, "0")
        self.assertEqual(self.Event._cron_prune_payloads(), 0, "0: kept forever")
        self.env["ir.config_parameter"].set_param(RETENTION_PARAM, "30")
        self.assertEqual(self.Event._cron_prune_payloads(), 1)
        self.assertTrue(self.event_of(items[0]).pruned_date)

    def test_a_redelivery_after_pruning_is_still_a_duplicate(self):
        (item,) = self._processed(1)
        self.age_events(91 * DAY)
        self.Event._cron_prune_payloads()
        ticket = self.message_of(item).ticket_id
        self.assertEqual(self.store(item), 0, "dropped by the dedup key")
        self.Event._cron_process()
        self.assertEqual(len(self.message_of(item)), 1)
        self.assertEqual(
            self.env["helpdesk.ticket"].search_count(
                [("social_account_id", "=", self.account.id)]
            ),
            1,
        )
        self.assertEqual(self.message_of(item).ticket_id, ticket)

    def test_a_pruned_event_cannot_be_processed_again(self):
        (item,) = self._processed(1)
        self.age_events(91 * DAY)
        self.Event._cron_prune_payloads()
        event = self.event_of(item)
        with self.assertRaisesRegex(UserError, "was pruned on .* cannot be processed"):
            event.action_retry()
        self.assertEqual(event.state, "done")
        # Queued again behind the action's back: it fails with the reason.
        self._set_state(item, "new")
        self.Event._cron_process()
        self.assertEqual(event.state, "error")
        self.assertIn("was pruned on", event.error)
        self.assertEqual(len(self.message_of(item)), 1, "nothing filed twice")

    def test_the_account_shows_the_store_size(self):
        self._processed(3)
        self.Event.flush_model()
        self.assertEqual(self.account.event_count, 3)
        sizes = self.Event._store_size(self.account.ids)
        self.assertEqual(sizes[self.account.id][0], 3)
        self.assertGreater(sizes[self.account.id][1], 0)
        self.assertTrue(self.account.event_payload_size)
        self.age_events(91 * DAY)
        self.Event._cron_prune_payloads()
        self.assertEqual(
            self.Event._store_size(self.account.ids)[self.account.id], (3, 0)
        )
        self.account.invalidate_recordset(["event_count", "event_payload_size"])
        self.assertEqual(self.account.event_count, 3, "pruned events stay")

    def test_only_settings_admins_see_the_payload_size(self):
        manager = new_test_user(
            self.env,
            login="retention-manager",
            groups="helpdesk_mgmt.group_helpdesk_manager",
        )
        with self.assertRaises(AccessError):
            self.account.with_user(manager).read(["event_payload_size"])


@tagged("post_install", "-at_install")
class TestPruningConcurrency(QueueCase):
    """Pruning with real transactions: a batch being pruned never holds up the
    webhook's insert of new events, nor another pruner."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE social_event SET state = 'done', received_date ="
                " received_date - INTERVAL '100 days' WHERE account_id = %s",
                [self.account_id],
            )

    def test_a_delivery_is_not_blocked_by_a_pruning_batch(self):
        with self.registry.cursor() as pruner, self.registry.cursor() as webhook:
            Pruner = api.Environment(pruner, SUPERUSER_ID, {})["social.event"]
            # Its batch stays locked, uncommitted (the test runner forbids the
            # cron's own commits).
            self.assertGreater(Pruner._cron_prune_payloads(), 0)
            # Waiting on the pruner's locks would raise LockNotAvailable.
            webhook.execute("SET LOCAL lock_timeout = '5s'")
            env = api.Environment(webhook, SUPERUSER_ID, {})
            account = env["social.account"].browse(self.account_id)
            events = account._get_adapter().split_delivery(
                {"messages": [demo_item("during pruning", author="cc-new")]}
            )
            self.assertEqual(env["social.event"]._store(account, events), 1)
            # A second pruner skips the locked rows instead of waiting.
            self.assertEqual(env["social.event"]._cron_prune_payloads(), 0)
            webhook.commit()  # pylint: disable=invalid-commit
            pruner.commit()  # pylint: disable=invalid-commit
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FILTER (WHERE pruned_date IS NOT NULL),"
                " count(*) FILTER (WHERE state = 'new') FROM social_event"
                " WHERE account_id = %s",
                [self.account_id],
            )
            self.assertEqual(cr.fetchone(), (36, 1))
