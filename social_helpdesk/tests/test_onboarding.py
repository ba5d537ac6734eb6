# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Guided setup, account health and history import, through the same
store-and-process path as live events."""

import json
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..adapters.demo import DATASET
from .common import SocialCase, demo_item
from .fakes.fake_meta import FakeMetaServer
from .fakes.fake_x import ME, FakeXServer


def demo_dataset_ids():
    with open(DATASET, encoding="utf-8") as file:
        return {f"demo:{item['id']}" for item in json.load(file)["messages"]}


@tagged("post_install", "-at_install")
class TestSetupWizard(SocialCase):
    def wizard(self):
        action = self.env["social.account.setup.wizard"].action_open()
        return self.env["social.account.setup.wizard"].browse(action["res_id"])

    def test_demo_account_connected_step_by_step(self):
        wizard = self.wizard()
        self.assertEqual(wizard.step, "network")
        wizard.action_next()
        self.assertEqual(wizard.step, "network")
        self.assertIn("Give the account a name", wizard.error)

        wizard.write({"name": "Demo shop", "network": "demo"})
        wizard.action_next()
        account = wizard.account_id
        self.assertEqual(wizard.step, "credentials")
        self.assertEqual(account.network, "demo")
        self.assertFalse(account.poll_enabled, "not polled before the setup ends")
        wizard.action_next()
        self.assertEqual(wizard.step, "credentials")
        self.assertIn("Test the connection first", wizard.error)
        wizard.action_test_connection()
        self.assertTrue(wizard.connection_ok)
        self.assertEqual(account.state, "connected")
        self.assertTrue(account.connected_date)

        wizard.action_next()
        self.assertEqual(wizard.step, "webhook")
        self.assertIn(
            f"/social_helpdesk/webhook/demo/{account.webhook_token}",
            wizard.webhook_url,
        )
        wizard.action_register_webhook()
        self.assertIn("no registration", wizard.webhook_report)

        wizard.action_next()
        self.assertEqual(wizard.step, "routing")
        wizard.action_next()
        self.assertIn("Choose the helpdesk team", wizard.error)
        wizard.write({"team_id": self.team.id, "backfill_days": 0})
        wizard.action_next()
        self.assertEqual(wizard.step, "check")
        self.assertTrue(account.poll_enabled)

        wizard.action_check_event()
        self.assertFalse(wizard.check_ok)
        self.assertIn("Nothing has arrived yet", wizard.error)
        wizard.action_send_test_event()
        self.assertTrue(wizard.check_ok, wizard.error)
        self.assertIn("An event arrived at", wizard.check_report)
        self.Event._cron_process()
        ticket = (
            self.env["social.message"]
            .search([("account_id", "=", account.id)])
            .ticket_id
        )
        self.assertEqual(ticket.team_id, self.team)

        action = wizard.action_finish()
        self.assertEqual(action["res_model"], "social.account")
        self.assertEqual(action["res_id"], account.id)
        self.assertEqual(account.backfill_state, "none")

    def test_finish_starts_the_history_import(self):
        wizard = self.wizard()
        wizard.write({"name": "Demo history", "network": "demo"})
        wizard.action_next()
        wizard.action_test_connection()
        wizard.write({"step": "check", "backfill_days": 3})
        wizard.action_finish()
        self.assertEqual(wizard.account_id.backfill_state, "running")
        self.assertEqual(wizard.account_id.backfill_days, 3)

    def test_setup_is_for_administrators_only(self):
        manager = self.env["res.users"].create(
            {
                "name": "Helpdesk manager",
                "login": "setup-manager",
                "groups_id": [
                    (6, 0, [self.env.ref("helpdesk_mgmt.group_helpdesk_manager").id])
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.env["social.account.setup.wizard"].with_user(manager).create({})


@tagged("post_install", "-at_install")
class TestAccountHealth(SocialCase):
    def test_silent_account_is_flagged_and_searchable(self):
        self.store(demo_item("the last one for a while"))
        self.age_events(30)
        self.account.write({"state": "connected", "silent_after_hours": 24})
        Account = self.env["social.account"]
        self.assertTrue(self.account.is_silent)
        self.assertIn(self.account, Account.search([("is_silent", "=", True)]))
        self.account.silent_after_hours = 48
        self.assertFalse(self.account.is_silent)
        self.assertNotIn(self.account, Account.search([("is_silent", "=", True)]))
        self.assertIn(self.account, Account.search([("is_silent", "=", False)]))
        self.account.write({"silent_after_hours": 0})
        self.assertFalse(self.account.is_silent, "0 hours: never flagged")

    def test_connected_account_that_never_received_anything_is_silent(self):
        self.account.write(
            {
                "state": "connected",
                "connected_date": fields.Datetime.now() - timedelta(days=2),
            }
        )
        self.assertTrue(self.account.is_silent)

    def test_rate_limit_state(self):
        self.account.rate_limited_until = fields.Datetime.now() + timedelta(minutes=9)
        self.assertTrue(self.account.is_rate_limited)
        self.account.rate_limited_until = fields.Datetime.now() - timedelta(minutes=1)
        self.assertFalse(self.account.is_rate_limited)

    def test_retry_button_requeues_events_in_error(self):
        self.store({"id": "broken"})  # not a demo message: fails to parse
        event = self.Event.search([("account_id", "=", self.account.id)])
        event.write({"state": "error", "attempts": 5, "error": "Not a demo message"})
        self.assertEqual(self.account.error_event_count, 1)
        self.account.action_retry_error_events()
        self.assertEqual(event.state, "new")
        self.assertEqual(event.attempts, 0)
        self.account.invalidate_recordset(["error_event_count"])
        self.assertEqual(self.account.error_event_count, 0)


@tagged("post_install", "-at_install")
class TestBackfill(SocialCase):
    def test_history_import_goes_through_the_store_without_duplicates(self):
        account = self.account
        account.write({"state": "connected", "demo_batch_size": 10})
        account._poll()  # some history already arrived live
        live = self.Event.search_count([("account_id", "=", account.id)])
        self.assertEqual(live, 10)

        wizard = self.env["social.account.backfill.wizard"].create(
            {"account_id": account.id, "days": 7}
        )
        self.assertFalse(wizard.estimate, "no cost estimate off metered networks")
        wizard.action_start()
        self.assertEqual(account.backfill_state, "running")
        self.assertEqual(account.backfill_progress, 0.0)
        with self.assertRaisesRegex(UserError, "already being imported"):
            account._start_backfill(7)

        self.env["social.account"]._cron_backfill()
        self.assertEqual(account.backfill_state, "done")
        self.assertEqual(account.backfill_progress, 100.0)
        stored = set(
            self.Event.search([("account_id", "=", account.id)]).mapped("external_id")
        )
        self.assertEqual(stored, demo_dataset_ids())
        self.assertEqual(account.backfill_event_count, len(stored) - live)
        self.assertIn(
            "History imported",
            " ".join(str(body) for body in account.message_ids.mapped("body")),
        )

        account._poll()  # live delivery of what the import already read
        self.assertEqual(
            self.Event.search_count([("account_id", "=", account.id)]), len(stored)
        )
        self.Event._cron_process()
        self.assertFalse(
            self.Event.search_count(
                [("account_id", "=", account.id), ("state", "=", "new")]
            )
        )

    def test_days_are_bounded(self):
        wizard = self.env["social.account.backfill.wizard"].create(
            {"account_id": self.account.id, "days": 90}
        )
        with self.assertRaisesRegex(UserError, "between 1 and 30 days"):
            wizard.action_start()


@tagged("post_install", "-at_install")
class TestXOnboarding(SocialCase):
    """The wizard and the history import on X, against a fake X API v2 on
    loopback with X's documented answers and headers."""

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id="1111111111111111111", me_username="CafeBrand")
        self.fake.start()
        self.addCleanup(self.fake.stop)
        self.fake.add_user("2222222222222222222", "maria_r", "María Ruiz")
        wizard = self.env["social.account.setup.wizard"].create(
            {"name": "Brand on X", "network": "x"}
        )
        wizard.action_next()
        wizard.account_id.api_base_url = self.fake.base_url
        wizard.write(
            {
                "x_api_key": "key",
                "x_api_secret": "secret",
                "x_access_token": "token",
                "x_access_token_secret": "token-secret",
                "x_bearer_token": self.fake.app_bearer_token,
            }
        )
        self.wizard = wizard
        self.account = wizard.account_id

    def test_connection_lists_granted_and_missing_permissions(self):
        self.fake.access_level = "read"
        self.wizard.action_test_connection()
        self.assertTrue(self.wizard.connection_ok, self.wizard.error)
        self.assertIn("@CafeBrand", self.wizard.connection_report)
        self.assertIn("Missing permissions", self.wizard.connection_report)
        self.assertIn("dm.read", self.wizard.connection_report)
        self.assertEqual(self.account.x_user_id, "1111111111111111111")

    def test_refused_credentials_are_explained(self):
        self.fake.fail_next(ME, status=401, detail="Unauthorized")
        with mute_logger("odoo.addons.social_helpdesk.models.social_account"):
            self.wizard.action_test_connection()
        self.assertFalse(self.wizard.connection_ok)
        self.assertIn("The network refused the connection", self.wizard.error)
        self.assertEqual(self.wizard.step, "credentials")
        self.assertEqual(self.account.state, "error")

    def test_webhook_registered_and_account_subscribed(self):
        self.wizard.action_test_connection()
        self.fake.allow_insecure_urls = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        self.assertTrue(self.wizard.webhook_report)
        [webhook] = self.fake.webhooks.values()
        self.assertEqual(webhook["url"], self.account.webhook_url)
        subscriptions = self.fake.activity_subscriptions.values()
        self.assertEqual(
            {s["event_type"] for s in subscriptions},
            {
                "post.mention.create",
                "post.reply.create",
                "dm.received",
                "dm.sent",
                "chat.received",
            },
        )
        self.assertEqual({s["webhook_id"] for s in subscriptions}, {webhook["id"]})

    def test_legacy_account_activity_webhook_subscribes_the_account(self):
        self.wizard.action_test_connection()
        self.wizard.account_id.x_webhook_product = "aaa"
        self.fake.allow_insecure_urls = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        [webhook] = self.fake.webhooks.values()
        self.assertIn("1111111111111111111", self.fake.subscriptions[webhook["id"]])
        self.assertEqual(self.fake.activity_subscriptions, {})

    def test_webhook_refusal_is_explained(self):
        self.wizard.action_test_connection()
        self.wizard.action_register_webhook()  # X wants https, without a port
        self.assertIn("The webhook could not be registered", self.wizard.error)

    def test_history_import_shows_and_confirms_its_cost(self):
        self.wizard.action_test_connection()
        for n in range(3):
            self.fake.add_mention(
                "2222222222222222222",
                f"my order {n} is late",
                created_at=datetime.now(timezone.utc) - timedelta(days=1),
            )
        action = self.account.action_backfill()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"days": 3})
        )
        self.assertIn("3 posts", wizard.estimate)
        self.assertGreater(wizard.cost, 0)
        with self.assertRaisesRegex(UserError, "Confirm the estimated cost"):
            wizard.action_start()
        self.assertEqual(self.account.backfill_state, "none")
        self.assertFalse(
            self.Event.search_count([("account_id", "=", self.account.id)])
        )

        wizard.cost_confirmed = True
        wizard.action_start()
        self.env["social.account"]._cron_backfill()
        self.assertEqual(
            self.account.backfill_state, "done", self.account.backfill_error
        )
        self.assertEqual(
            self.Event.search_count([("account_id", "=", self.account.id)]), 3
        )
        self.assertGreater(self.account.api_spend_month, 0, "the reads are metered")


@tagged("post_install", "-at_install")
class TestMetaOnboarding(HttpCase):
    """The wizard on Meta against a fake Graph API that, like Meta, checks the
    callback URL over HTTP: Odoo's real webhook answers its challenge."""

    def setUp(self):
        super().setUp()
        self.fake = FakeMetaServer().start()
        self.addCleanup(self.fake.stop)
        self.env["ir.config_parameter"].set_param("web.base.url", self.base_url())
        self.wizard = self.env["social.account.setup.wizard"].create(
            {"name": "Acme page", "network": "meta"}
        )
        self.wizard.action_next()
        self.account = self.wizard.account_id
        self.account.api_base_url = self.fake.base_url
        self.wizard.write(
            {
                "meta_page_id": self.fake.page_id,
                "meta_page_access_token": self.fake.access_token,
                "meta_app_secret": self.fake.app_secret,
            }
        )

    def test_missing_permission_is_named(self):
        self.fake.granted_scopes.remove("pages_messaging")
        self.wizard.action_test_connection()
        self.assertTrue(self.wizard.connection_ok, self.wizard.error)
        self.assertIn(
            "Missing permissions: pages_messaging", self.wizard.connection_report
        )

    def test_webhook_set_on_the_app_and_page_subscribed(self):
        self.assertTrue(self.account.meta_verify_token, "generated by the wizard")
        self.wizard.action_test_connection()
        self.fake.verify_callbacks = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        self.assertTrue(self.wizard.webhook_report)
        page = self.fake.app_subscriptions["page"]
        self.assertEqual(page["callback_url"], self.account.webhook_url)
        self.assertTrue(self.fake.subscribed_fields, "the app is installed on the page")
