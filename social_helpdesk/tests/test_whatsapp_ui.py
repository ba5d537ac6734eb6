# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""WhatsApp everywhere else: the setup wizard against a fake Cloud API,
rules, the KPI report and dashboard, the demo network's WhatsApp
conversations."""

import json

from odoo.tests import HttpCase, tagged

from ..adapters.demo import DATASET
from .common import SocialCase, demo_item
from .fakes.fake_whatsapp import FakeWhatsApp

NEUTRAL = "Hello team, I have a question about my account settings."


def whatsapp_item(text=NEUTRAL, author="34600000001", **kwargs):
    """A WhatsApp message as the demo network replays one: private, in the
    customer's own conversation."""
    return demo_item(
        text,
        author=author,
        channel="whatsapp",
        kind="private",
        conversation=author,
        **kwargs,
    )


@tagged("post_install", "-at_install")
class TestWhatsAppOnboarding(HttpCase):
    """The wizard's WhatsApp path against a fake Cloud API that, like Meta,
    checks the callback URL over HTTP: Odoo's real webhook answers its
    challenge."""

    def setUp(self):
        super().setUp()
        self.fake = FakeWhatsApp().start()
        self.addCleanup(self.fake.stop)
        self.env["ir.config_parameter"].set_param("web.base.url", self.base_url())
        self.team = self.env["helpdesk.ticket.team"].create({"name": "WA care"})
        self.wizard = self.env["social.account.setup.wizard"].create(
            {"name": "Acme on WhatsApp", "network": "whatsapp", "team_id": self.team.id}
        )
        self.wizard.action_next()
        self.assertEqual(self.wizard.step, "credentials")

    def fill_in(self, **values):
        self.wizard.write(
            {
                "api_base_url": self.fake.base_url,
                "whatsapp_business_account_id": self.fake.waba_id,
                "whatsapp_phone_number_id": self.fake.phone_number_id,
                "whatsapp_access_token": self.fake.access_token,
                "meta_app_secret": self.fake.app_secret,
                **values,
            }
        )

    def test_missing_credentials_are_named(self):
        self.wizard.write(
            {
                "api_base_url": self.fake.base_url,
                "whatsapp_business_account_id": self.fake.waba_id,
            }
        )
        self.wizard.action_test_connection()
        self.assertFalse(self.wizard.connection_ok)
        for label in ("Phone number id", "System user access token", "App secret"):
            self.assertIn(label, self.wizard.error)
        self.assertNotIn("WhatsApp Business Account id", self.wizard.error)
        self.assertFalse(self.fake.requests, "nothing asked before all is filled")

    def test_connection_shows_the_number_quality_limit_and_subscription(self):
        self.fake.add_phone_number(
            self.fake.phone_number_id,
            "+34 910 00 00 00",
            verified_name="Cafetera Nórdica",
            quality_rating="YELLOW",
            messaging_limit="TIER_10K",
        )
        self.fill_in()
        self.wizard.action_test_connection()
        self.assertTrue(self.wizard.connection_ok, self.wizard.error)
        report = self.wizard.connection_report
        self.assertIn(
            "Business number +34 910 00 00 00, shown as “Cafetera Nórdica”", report
        )
        self.assertIn("Quality rating: YELLOW", report)
        self.assertIn("Messaging limit: TIER_10K", report)
        self.assertIn("not subscribed to the messages field", report)
        self.assertNotIn("Missing permissions", report)

    def test_a_missing_permission_and_a_refused_token(self):
        self.fake.granted_scopes.remove("whatsapp_business_management")
        self.fill_in()
        self.wizard.action_test_connection()
        self.assertIn(
            "Missing permissions: whatsapp_business_management",
            self.wizard.connection_report,
        )
        self.fill_in(whatsapp_access_token="expired-token")
        self.wizard.action_test_connection()
        self.assertFalse(self.wizard.connection_ok)
        self.assertIn("The network refused the connection", self.wizard.error)

    def test_webhook_registered_then_the_number_is_subscribed(self):
        self.fill_in()
        self.wizard.action_test_connection()
        self.wizard.action_next()  # routing
        self.wizard.action_next()  # webhook: the account is created
        self.assertEqual(self.wizard.step, "webhook", self.wizard.error)
        account = self.wizard.account_id
        self.assertEqual(account.network, "whatsapp")
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.whatsapp_phone_number_id, self.fake.phone_number_id)
        self.assertEqual(account.sudo().whatsapp_access_token, self.fake.access_token)
        self.assertFalse(account.poll_enabled, "the Cloud API has nothing to poll")
        self.assertFalse(self.wizard.backfill_days, "nor any history")
        self.assertTrue(account.sudo().meta_verify_token, "generated by the wizard")
        self.assertEqual(
            account.sudo().meta_verify_token, self.wizard.meta_verify_token
        )
        self.assertIn("/social_helpdesk/webhook/whatsapp/", self.wizard.webhook_url)

        self.fake.verify_callbacks = True
        self.wizard.action_register_webhook()
        self.assertFalse(self.wizard.error)
        self.assertIn("subscribed the app", self.wizard.webhook_report)
        self.assertTrue(self.fake.app_subscribed)
        subscription = self.fake.app_subscriptions["whatsapp_business_account"]
        self.assertEqual(subscription["callback_url"], account.webhook_url)
        self.assertEqual(
            [field["name"] for field in subscription["fields"]], ["messages"]
        )
        self.wizard.action_test_connection()
        self.assertIn(
            "The app is subscribed to the messages field",
            self.wizard.connection_report,
        )

        self.wizard.action_next()
        self.wizard.action_check_event()
        self.assertIn("WhatsApp message to the business number", self.wizard.error)
        action = self.wizard.action_finish()
        self.assertEqual(action["res_id"], account.id)
        self.assertFalse(account.poll_enabled)
        self.assertEqual(account.backfill_state, "none")


@tagged("post_install", "-at_install")
class TestWhatsAppChannel(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.whatsapp = cls.env.ref("social_helpdesk.channel_whatsapp")

    def ticket_of(self, item):
        return self.message_of(item).ticket_id

    def test_a_rule_targets_the_whatsapp_channel(self):
        wa_team = self.env["helpdesk.ticket.team"].create({"name": "WhatsApp desk"})
        self.env["helpdesk.ticket.rule"].create(
            {
                "name": "WhatsApp to its desk",
                "sequence": 1,
                "channel_ids": [(6, 0, self.whatsapp.ids)],
                "team_id": wa_team.id,
                "priority": "2",
            }
        )
        on_whatsapp = whatsapp_item()
        on_messenger = demo_item(
            NEUTRAL, author="u-m", channel="messenger", kind="private"
        )
        self.deliver(on_whatsapp, on_messenger)
        ticket = self.ticket_of(on_whatsapp)
        self.assertEqual(ticket.channel_id, self.whatsapp)
        self.assertEqual(ticket.team_id, wa_team)
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.social_network, "whatsapp")
        self.assertIn("channel: whatsapp", str(ticket.message_ids.mapped("body")))
        self.assertNotEqual(self.ticket_of(on_messenger).team_id, wa_team)

    def test_the_chatter_shows_whatsapp_logo(self):
        item = whatsapp_item()
        self.deliver(item)
        body = str(self.message_of(item).mail_message_id.body)
        self.assertIn("fa-whatsapp", body)
        self.assertIn("o_social_icon_whatsapp", body)

    def test_the_ticket_offers_the_reply_on_whatsapp(self):
        item = whatsapp_item()
        self.deliver(item)
        ticket = self.ticket_of(item)
        arch = ticket.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Reply on WhatsApp", arch)
        action = ticket.action_social_reply()
        self.assertEqual(action["name"], "Reply on WhatsApp")
        composer = (
            self.env[action["res_model"]].with_context(**action["context"]).create({})
        )
        self.assertEqual(composer.target_id, self.message_of(item))
        search = ticket.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="network_whatsapp"', search)
        self.assertEqual(ticket.search([("social_network", "=", "whatsapp")]), ticket)

    def test_kpi_report_and_dashboard_list_whatsapp(self):
        self.env.user.helpdesk_team_ids = [(4, self.team.id)]
        item = whatsapp_item()
        self.deliver(item)
        self.env.flush_all()
        rows = self.env["helpdesk.ticket.kpi.report"]._read_group(
            [("team_id", "=", self.team.id)], ["channel_id"], ["__count"]
        )
        self.assertIn((self.whatsapp, 1), rows)
        data = self.env["helpdesk.channel.kpi"].get_dashboard("7d")
        [tile] = [
            tile
            for tile in data["tiles"]
            if tile["channel_id"][0] == self.whatsapp.id
            and tile["company_id"][0] == self.env.company.id
        ]
        self.assertEqual(tile["channel_code"], "whatsapp")
        self.assertTrue(tile["is_social"])
        self.assertEqual(tile["open_count"], 1)
        self.assertIn(
            {"id": self.whatsapp.id, "name": "WhatsApp"},
            data["heatmap"]["channels"],
        )


@tagged("post_install", "-at_install")
class TestWhatsAppDemo(SocialCase):
    """The demo dataset's WhatsApp conversations become WhatsApp tickets, one
    per customer."""

    def test_the_demo_replays_whatsapp_conversations(self):
        self.demo_contact()
        with open(DATASET, encoding="utf-8") as file:
            items = [
                item
                for item in json.load(file)["messages"]
                if item["channel"] == "whatsapp"
            ]
        self.deliver(*items)
        messages = self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("channel_code", "=", "whatsapp")]
        )
        self.assertEqual(len(messages), len(items))
        tickets = messages.ticket_id
        customers = {item["author"]["id"] for item in items}
        self.assertEqual(len(tickets), len(customers), "one ticket per customer")
        self.assertEqual(set(tickets.mapped("social_network")), {"whatsapp"})
        self.assertEqual(set(tickets.mapped("social_kind")), {"private"})
        self.assertTrue(messages.filtered("from_ad"), "a conversation from an ad")

        # The customer whose number is on a contact is filed on it, next to
        # her phone ticket.
        lucia = self.demo_contact()
        known = next(
            item for item in items if item["author"].get("phone") == "+34622112233"
        )
        ticket = self.message_of(known).ticket_id
        self.assertEqual(ticket.partner_id, lucia)
        self.assertIn("phone", lucia.helpdesk_ticket_ids.channel_id.mapped("code"))
        # Her photo is downloaded from the demo data, as a WhatsApp media id.
        self.env["social.message"]._cron_fetch_media()
        photos = ticket.message_ids.attachment_ids.filtered(
            lambda attachment: attachment.mimetype == "image/jpeg"
        )
        self.assertEqual(len(photos), 1)
        self.assertFalse(messages.filtered("media_pending"))

    def demo_contact(self):
        """The demo data's contact with a WhatsApp customer's number (made
        here too on a database without demo data)."""
        lucia = self.env.ref(
            "social_helpdesk.res_partner_demo_lucia", raise_if_not_found=False
        )
        if lucia:
            return lucia
        lucia = self.env["res.partner"].create(
            {
                "name": "Lucía Fernández",
                "phone": "+34 622 11 22 33",
                "country_id": self.env.ref("base.es").id,
            }
        )
        self.env["helpdesk.ticket"].create(
            {
                "name": "Order 2291",
                "description": "<p>Called.</p>",
                "partner_id": lucia.id,
                "channel_id": self.env.ref(
                    "helpdesk_mgmt.helpdesk_ticket_channel_phone"
                ).id,
            }
        )
        return lucia
