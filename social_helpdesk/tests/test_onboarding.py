# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Guided setup, account health and history import, through the same
store-and-process path as live events."""

import json
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
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
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One demo account a company: the wizard refuses a second one.
        cls.env["social.account"].search([("network", "=", "demo")]).active = False

    def wizard(self):
        action = self.env["social.account.setup.wizard"].action_open()
        return self.env["social.account.setup.wizard"].browse(action["res_id"])

    def accounts(self):
        return self.env["social.account"].with_context(active_test=False).search([])

    def test_demo_account_connected_step_by_step(self):
        before = self.accounts()
        wizard = self.wizard()
        self.assertEqual(wizard.step, "network")
        wizard.action_next()
        self.assertEqual(wizard.step, "network")
        self.assertIn("Give the account a name", wizard.error)

        wizard.write({"name": "Demo shop", "network": "demo"})
        wizard.action_next()
        self.assertEqual(wizard.step, "credentials")
        wizard.action_next()
        self.assertEqual(wizard.step, "credentials")
        self.assertIn("Test the connection first", wizard.error)
        wizard.action_test_connection()
        self.assertTrue(wizard.connection_ok)
        self.assertEqual(self.accounts(), before, "nothing saved before routing")

        wizard.action_next()
        self.assertEqual(wizard.step, "routing")
        wizard.team_id = False
        wizard.action_next()
        self.assertIn("Choose the helpdesk team", wizard.error)
        wizard.write({"team_id": self.team.id, "backfill_days": 0})
        wizard.action_next()
        self.assertEqual(wizard.step, "webhook")
        account = wizard.account_id
        self.assertEqual(self.accounts() - before, account)
        self.assertEqual(account.network, "demo")
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.team_id, self.team)
        self.assertTrue(account.connected_date)
        self.assertFalse(account.poll_enabled, "the demo replays only once finished")
        self.assertIn(
            f"/social_helpdesk/webhook/demo/{account.webhook_token}",
            wizard.webhook_url,
        )
        wizard.action_register_webhook()
        self.assertIn("no registration", wizard.webhook_report)

        wizard.action_next()
        self.assertEqual(wizard.step, "check")
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
        self.assertTrue(account.poll_enabled)
        wizard.unlink()  # the wizard's vacuum
        self.assertTrue(account.exists(), "a finished setup keeps its account")

    def test_finish_starts_the_history_import(self):
        wizard = self.wizard()
        wizard.write({"name": "Demo history", "network": "demo"})
        wizard.action_next()
        wizard.action_test_connection()
        wizard.write({"step": "check", "backfill_days": 3})
        wizard.action_finish()
        self.assertEqual(wizard.account_id.backfill_state, "running")
        self.assertEqual(wizard.account_id.backfill_days, 3)

    def test_the_team_is_prefilled(self):
        """The user's own team in the company, else the company's first."""
        admin = new_test_user(
            self.env,
            "setup-admin",
            groups="base.group_system,helpdesk_mgmt.group_helpdesk_manager",
        )
        Wizard = self.env["social.account.setup.wizard"].with_user(admin)
        first = self.env["helpdesk.ticket.team"].search(
            [("company_id", "in", (self.env.company.id, False))], limit=1
        )
        self.assertEqual(Wizard.create({}).team_id, first)
        mine = self.env["helpdesk.ticket.team"].create(
            {"name": "Admin's team", "user_ids": [(4, admin.id)]}
        )
        self.assertNotEqual(mine, first)
        admin.invalidate_recordset(["helpdesk_team_ids"])
        self.assertEqual(Wizard.create({}).team_id, mine)

    def test_cancel_leaves_nothing_behind(self):
        before = self.accounts()
        tickets = self.env["helpdesk.ticket"].search([])
        wizard = self.wizard()
        wizard.write({"name": "Cancelled demo", "network": "demo"})
        wizard.action_next()
        wizard.action_test_connection()
        wizard.action_next()
        self.assertEqual(self.accounts(), before, "testing credentials saves nothing")
        wizard.write({"team_id": self.team.id})
        wizard.action_next()
        wizard.action_next()
        wizard.action_send_test_event()
        self.Event._cron_process()
        self.assertEqual(
            len(self.env["helpdesk.ticket"].search([]) - tickets), 1, "test ticket"
        )
        self.assertEqual(wizard.action_cancel()["type"], "ir.actions.act_window_close")
        self.assertEqual(self.accounts(), before)
        self.assertEqual(self.env["helpdesk.ticket"].search([]), tickets)

    def test_a_wizard_closed_without_cancel_is_vacuumed_with_its_account(self):
        before = self.accounts()
        wizard = self.wizard()
        wizard.write({"name": "Abandoned demo", "network": "demo"})
        wizard.action_next()
        wizard.action_test_connection()
        wizard.action_next()
        wizard.action_next()
        self.assertTrue(wizard.account_id)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE social_account_setup_wizard "
            "SET write_date = now() - interval '2 hours' WHERE id = %s",
            [wizard.id],
        )
        wizard.invalidate_recordset()
        wizard._transient_vacuum()
        self.assertFalse(wizard.exists())
        self.assertEqual(self.accounts(), before)

    def test_setup_of_an_existing_account_is_not_undone_by_cancel(self):
        self.account.active = True
        wizard = self.env["social.account.setup.wizard"].browse(
            self.env["social.account.setup.wizard"].action_open(self.account.id)[
                "res_id"
            ]
        )
        self.assertEqual(wizard.step, "credentials")
        wizard.action_test_connection()
        wizard.action_next()
        wizard.action_next()
        wizard.action_cancel()
        wizard.unlink()
        self.assertTrue(self.account.exists())

    def test_a_second_demo_account_is_refused(self):
        """It would replay the same customers and open their tickets again."""
        self.account.active = True
        wizard = self.wizard()
        wizard.write({"name": "Second demo", "network": "demo"})
        wizard.action_next()
        self.assertEqual(wizard.step, "network")
        self.assertIn("already has a demo account", wizard.error)
        self.assertIn(self.account.name, wizard.error)

    def test_testing_with_nothing_filled_in_lists_what_is_missing(self):
        wizard = self.wizard()
        wizard.write({"name": "Brand page", "network": "meta", "step": "credentials"})
        wizard.action_test_connection()
        self.assertFalse(wizard.connection_ok)
        self.assertIn("Fill in the required credentials first", wizard.error)
        for label in ("Facebook page id", "Page access token", "App secret"):
            self.assertIn(label, wizard.error)
        self.assertNotIn("Instagram", wizard.error, "optional")

        wizard.write({"name": "Brand on X", "network": "x"})
        wizard.action_test_connection()
        for label in ("API key,", "API key secret", "Access token,", "OAuth 2.0"):
            self.assertIn(label, wizard.error)
        wizard.write({"x_api_key": "k", "x_api_secret": "s"})
        wizard.action_test_connection()
        self.assertIn("Access token, Access token secret.", wizard.error)
        self.assertNotIn("API key", wizard.error)
        wizard.write({"x_api_key": False, "x_api_secret": False, "x_bearer_token": "b"})
        wizard.action_test_connection()
        self.assertIn("X handle", wizard.error)

    def test_a_webhook_url_that_is_not_public_https_is_warned(self):
        Param = self.env["ir.config_parameter"]
        wizard = self.wizard()
        wizard.network = "x"
        cases = {
            "http://helpdesk.example.com": "not HTTPS",
            "https://localhost:8069": "not reachable",
            "https://127.0.0.1": "not reachable",
            "https://192.168.1.20": "not reachable",
            "https://10.0.0.5:8443": "not reachable",
            "https://[::1]": "not reachable",
            "https://odoo.local": "not reachable",
            "https://odoo": "not reachable",
            "https://helpdesk.example.com": False,
            "https://93.184.216.34": False,
        }
        for url, warning in cases.items():
            Param.set_param("web.base.url", url)
            wizard.invalidate_recordset(["webhook_warning"])
            if warning:
                self.assertIn(warning, wizard.webhook_warning, url)
                self.assertIn(url, wizard.webhook_warning)
            else:
                self.assertFalse(wizard.webhook_warning, url)
        Param.set_param("web.base.url", "http://localhost:8069")
        wizard.network = "demo"
        self.assertFalse(wizard.webhook_warning, "the demo needs no webhook")

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
            {"name": "Brand on X", "network": "x", "team_id": self.team.id}
        )
        wizard.action_next()
        wizard.write(
            {
                "api_base_url": self.fake.base_url,
                "x_api_key": "key",
                "x_api_secret": "secret",
                "x_access_token": "token",
                "x_access_token_secret": "token-secret",
                "x_bearer_token": self.fake.app_bearer_token,
            }
        )
        self.wizard = wizard

    def connect(self):
        """Test the credentials and save the account (the routing step)."""
        self.wizard.action_test_connection()
        self.assertTrue(self.wizard.connection_ok, self.wizard.error)
        self.wizard.action_next()
        self.wizard.action_next()
        self.assertEqual(self.wizard.step, "webhook")
        self.account = self.wizard.account_id

    def test_connection_lists_granted_and_missing_permissions(self):
        self.fake.access_level = "read"
        self.wizard.action_test_connection()
        self.assertTrue(self.wizard.connection_ok, self.wizard.error)
        self.assertIn("@CafeBrand", self.wizard.connection_report)
        self.assertIn("Missing permissions", self.wizard.connection_report)
        self.assertIn("dm.read", self.wizard.connection_report)
        self.assertFalse(self.wizard.account_id, "nothing saved yet")
        self.wizard.action_next()
        self.wizard.action_next()
        self.assertEqual(self.wizard.account_id.x_user_id, "1111111111111111111")
        self.assertEqual(self.wizard.account_id.x_username, "CafeBrand")

    def test_refused_credentials_are_explained(self):
        self.fake.fail_next(ME, status=401, detail="Unauthorized")
        with mute_logger("odoo.addons.social_helpdesk.models.social_account"):
            self.wizard.action_test_connection()
        self.assertFalse(self.wizard.connection_ok)
        self.assertIn("The network refused the connection", self.wizard.error)
        self.assertEqual(self.wizard.step, "credentials")
        self.assertFalse(self.wizard.account_id, "no account in error left behind")

    def test_webhook_registered_and_account_subscribed(self):
        self.connect()
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
        self.connect()
        self.account.x_webhook_product = "aaa"
        self.fake.allow_insecure_urls = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        [webhook] = self.fake.webhooks.values()
        self.assertIn("1111111111111111111", self.fake.subscriptions[webhook["id"]])
        self.assertEqual(self.fake.activity_subscriptions, {})

    def test_webhook_refusal_is_explained(self):
        self.connect()
        self.wizard.action_register_webhook()  # X wants https, without a port
        self.assertIn("The webhook could not be registered", self.wizard.error)

    def test_history_import_shows_and_confirms_its_cost(self):
        self.connect()
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
        team = self.env["helpdesk.ticket.team"].create({"name": "Acme care"})
        self.wizard = self.env["social.account.setup.wizard"].create(
            {"name": "Acme page", "network": "meta", "team_id": team.id}
        )
        self.wizard.action_next()
        self.wizard.write(
            {
                "api_base_url": self.fake.base_url,
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
        self.wizard.action_test_connection()
        self.wizard.action_next()
        self.wizard.action_next()
        self.account = self.wizard.account_id
        self.assertTrue(self.account.meta_verify_token, "generated by the wizard")
        self.assertEqual(self.account.meta_verify_token, self.wizard.meta_verify_token)
        self.fake.verify_callbacks = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        self.assertTrue(self.wizard.webhook_report)
        page = self.fake.app_subscriptions["page"]
        self.assertEqual(page["callback_url"], self.account.webhook_url)
        self.assertTrue(self.fake.subscribed_fields, "the app is installed on the page")


@tagged("post_install", "-at_install")
class TestInstagramLoginOnboarding(HttpCase):
    """The wizard for an Instagram professional account without a page:
    Instagram Login, against the fake's graph.instagram.com."""

    def test_connect_and_subscribe_with_instagram_login(self):
        fake = FakeMetaServer().start()
        self.addCleanup(fake.stop)
        team = self.env["helpdesk.ticket.team"].create({"name": "Acme care"})
        wizard = self.env["social.account.setup.wizard"].create(
            {"name": "Acme on Instagram", "network": "meta", "team_id": team.id}
        )
        wizard.action_next()
        wizard.write(
            {
                "api_base_url": fake.base_url,
                "meta_connection": "instagram_login",
            }
        )
        wizard.action_test_connection()
        self.assertFalse(wizard.connection_ok, "no Instagram credential given yet")
        self.assertIn("Instagram access token", wizard.error)
        wizard.write(
            {
                "meta_instagram_account_id": fake.instagram_account_id,
                "meta_instagram_access_token": fake.instagram_token,
                "meta_instagram_app_secret": fake.instagram_app_secret,
            }
        )
        wizard.action_test_connection()
        self.assertTrue(wizard.connection_ok, wizard.error)
        self.assertIn("@acme", wizard.connection_report)
        wizard.action_next()  # routing: the account is created
        wizard.action_next()  # webhook
        self.assertEqual(wizard.account_id.meta_connection, "instagram_login")
        wizard.action_register_webhook()
        self.assertFalse(wizard.error)
        self.assertIn("Instagram, Webhooks", wizard.webhook_report)
        self.assertEqual(fake.instagram_subscribed_fields, ["comments", "messages"])
        self.assertFalse(fake.subscribed_fields, "no page is involved")
        self.assertFalse(fake.requests_to("GET debug_token"))
