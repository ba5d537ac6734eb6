# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Meta as of late 2026, end to end: deliveries in the current shapes
through Odoo's real webhook route, the API version they carry, windows of
ad-started threads, automatic replies without HUMAN_AGENT, Instagram Login,
and the recovery of a two-hour outage against the fake Graph API."""

import hashlib
import hmac
import json
import time
from datetime import date, datetime, timedelta, timezone
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from .fakes.fake_meta import FakeMetaServer

CUSTOMER = {"id": "6101", "name": "Lucía Gómez"}
IG_CUSTOMER = {"id": "7101", "username": "lucia.g"}
STORY_URL = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1790&signature=x"
POST_URL = "https://www.instagram.com/p/C9xyz/"


def ms(hours_ago=0):
    return int((time.time() - hours_ago * 3600) * 1000)


@tagged("post_install", "-at_install")
class TestMetaCurrent(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fake = FakeMetaServer()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Meta care"})
        cls.account = cls.env["social.account"].create(
            {
                "name": "Acme page",
                "network": "meta",
                "state": "connected",
                "team_id": cls.team.id,
                "meta_page_id": fake.page_id,
                "meta_page_access_token": fake.access_token,
                "meta_app_secret": fake.app_secret,
                "meta_verify_token": "fake-verify-token",
                "meta_instagram_account_id": fake.instagram_account_id,
            }
        )
        cls.page_id = fake.page_id
        cls.ig_id = fake.instagram_account_id
        cls.Event = cls.env["social.event"]

    def setUp(self):
        super().setUp()
        self.fake = FakeMetaServer().start()
        self.addCleanup(self.fake.stop)
        self.account.api_base_url = self.fake.base_url

    # -- helpers ----------------------------------------------------------
    def deliver(self, *entries, obj="page", account=None, secret=None, headers=None):
        account = account or self.account
        raw = json.dumps({"object": obj, "entry": list(entries)}).encode()
        signature = hmac.new(
            (secret or self.fake.app_secret).encode(), raw, hashlib.sha256
        ).hexdigest()
        response = self.url_open(
            f"/social_helpdesk/webhook/meta/{account.webhook_token}",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
                **(headers or {}),
            },
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.Event._cron_process()
        return response

    def entry(self, owner, sender, message=None, hours_ago=0, **item):
        stamp = ms(hours_ago)
        body = {
            "sender": {"id": sender},
            "recipient": {"id": owner},
            "timestamp": stamp,
        }
        if message is not None:
            body["message"] = message
        return {"id": owner, "time": stamp, "messaging": [{**body, **item}]}

    def deliver_ad_referral(self, hours_ago):
        """The customer opens their thread from an ad (messaging_referrals)."""
        self.deliver(
            self.entry(
                self.page_id,
                CUSTOMER["id"],
                referral={"source": "ADS", "type": "OPEN_THREAD", "ad_id": "60"},
                hours_ago=hours_ago,
            ),
        )

    def message(self, mid, account=None):
        return self.env["social.message"].search(
            [
                ("account_id", "=", (account or self.account).id),
                ("external_id", "=", mid),
            ]
        )

    # -- parsing ------------------------------------------------------------
    def test_current_shapes_file_readable_messages(self):
        """A sticker (also sent as an image during Meta's transition), an
        Instagram post share, a story mention and a story reply each file a
        message agents can read, with the shared or mentioned URL."""
        sticker_url = "https://scontent.xx.fbcdn.net/v/t39.1997-6/sticker.png"
        sticker = {
            "mid": "m_sticker",
            "attachments": [
                {"type": "sticker", "payload": {"url": sticker_url, "sticker_id": 369}},
                {"type": "image", "payload": {"url": sticker_url, "sticker_id": 369}},
            ],
        }
        share = {
            "mid": "aWdf_share",
            "attachments": [{"type": "ig_post", "payload": {"url": POST_URL}}],
        }
        mention = {
            "mid": "aWdf_mention",
            "attachments": [{"type": "story_mention", "payload": {"url": STORY_URL}}],
        }
        reply = {
            "mid": "aWdf_reply",
            "text": "Is this in stock?",
            "reply_to": {"story": {"url": STORY_URL, "id": "17920000000000001"}},
        }
        self.deliver(self.entry(self.page_id, CUSTOMER["id"], sticker))
        self.deliver(
            self.entry(self.ig_id, IG_CUSTOMER["id"], share),
            self.entry(self.ig_id, "7102", mention),
            self.entry(self.ig_id, "7103", reply),
            obj="instagram",
        )
        self.assertEqual(self.message("m_sticker").text, "[Sticker]")
        self.assertEqual(self.message("aWdf_share").text, f"[Shared post] {POST_URL}")
        self.assertEqual(self.message("aWdf_share").url, POST_URL)
        self.assertEqual(
            self.message("aWdf_mention").text, f"[Story mention] {STORY_URL}"
        )
        story_reply = self.message("aWdf_reply")
        self.assertEqual(story_reply.text, "Is this in stock?")
        self.assertEqual(story_reply.url, STORY_URL)
        body = story_reply.mail_message_id.body
        self.assertIn("Is this in stock?", body)
        self.assertIn("Story", body)
        sticker_body = self.message("m_sticker").mail_message_id.body
        self.assertEqual(sticker_body.count(sticker_url.replace("&", "&amp;")), 1)

    def test_entries_of_two_pages_in_one_delivery(self):
        """One app, two pages: each entry is filed under its own page's
        account, from one delivery to either account's URL."""
        other = self.account.copy(
            {"name": "Acme Spain", "meta_page_id": "551000000000001"}
        )
        self.deliver(
            self.entry(self.page_id, CUSTOMER["id"], {"mid": "m_p1", "text": "Hi"}),
            self.entry("551000000000001", "6201", {"mid": "m_p2", "text": "Hola"}),
        )
        self.assertEqual(self.message("m_p1").account_id, self.account)
        self.assertEqual(self.message("m_p2", account=other).account_id, other)

    # -- API version --------------------------------------------------------
    def test_delivery_api_version_is_recorded_once(self):
        entry = self.entry(self.page_id, CUSTOMER["id"], {"mid": "m_v1", "text": "A"})
        version = {"Facebook-API-Version": "v25.0"}
        self.deliver(entry, headers=version)
        self.assertEqual(self.account.meta_webhook_api_version, "v25.0")
        writes = []
        Account = type(self.env["social.account"])
        original = Account.write

        def counting_write(records, vals):
            writes.append(vals)
            return original(records, vals)

        with patch.object(Account, "write", counting_write):
            again = {"mid": "m_v2", "text": "B"}
            self.deliver(
                self.entry(self.page_id, CUSTOMER["id"], again), headers=version
            )
        self.assertFalse(
            [vals for vals in writes if "meta_webhook_api_version" in vals]
        )
        self.deliver(
            self.entry(self.page_id, CUSTOMER["id"], {"mid": "m_v3", "text": "C"}),
            headers={"Facebook-API-Version": "v27.0"},
        )
        self.assertEqual(self.account.meta_webhook_api_version, "v27.0")

    def test_a_version_near_its_end_warns_on_the_account(self):
        self.assertEqual(self.account.meta_graph_version, "v27.0")
        self.assertFalse(self.account.meta_version_warning)
        self.account.meta_graph_version = "v23.0"  # until 8 Oct 2027
        with patch("odoo.fields.Date.context_today", return_value=date(2027, 8, 1)):
            self.account.invalidate_recordset(["meta_version_warning"])
            self.assertIn("2027-10-08", self.account.meta_version_warning)
            self.assertIn("68 days", self.account.meta_version_warning)
        self.account.meta_graph_version = "v17.0"
        self.assertIn("no longer serves", self.account.meta_version_warning)
        self.account.meta_graph_version = "v27.0"
        self.account.meta_webhook_api_version = "v19.0"  # ended 21 May 2026
        self.assertIn("Webhooks arrive in", self.account.meta_version_warning)
        self.assertIn("no longer serves", self.account.meta_version_warning)

    # -- windows -------------------------------------------------------------
    def test_a_thread_started_from_an_ad_keeps_seven_days(self):
        referral = {
            "ref": "spring",
            "ad_id": "6045246247433",
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ads_context_data": {"ad_title": "Spring sale", "post_id": "1_2"},
        }
        sent = datetime.now(timezone.utc) - timedelta(hours=72)
        self.fake.add_message("messenger", CUSTOMER, "m_ad", "From the ad", sent)
        self.fake.add_message("messenger", {"id": "6300"}, "m_plain", "No ad", sent)
        ad_message = {"mid": "m_ad", "text": "From the ad", "referral": referral}
        self.deliver(
            self.entry(self.page_id, CUSTOMER["id"], ad_message, hours_ago=72),
            self.entry(
                self.page_id, "6300", {"mid": "m_plain", "text": "No ad"}, hours_ago=72
            ),
        )
        target = self.message("m_ad")
        self.assertTrue(target.from_ad)
        self.assertEqual(
            target.ticket_id.social_window_closes_at,
            target.message_date + timedelta(days=7),
        )
        reply = self.env["social.reply"]._queue(target, "private", "Here to help")
        reply._deliver()
        self.assertEqual(reply.state, "sent")
        [request] = self.fake.requests_to("POST messages")
        self.assertEqual(request.body["messaging_type"], "RESPONSE")
        with self.assertRaisesRegex(UserError, "24 hours"):
            self.env["social.reply"]._queue(self.message("m_plain"), "private", "Hi")

    def test_an_ad_referral_event_marks_the_existing_thread(self):
        """messaging_referrals: a customer with a thread comes back from an
        ad; the thread keeps 7 days from then on."""
        self.deliver_ad_referral(hours_ago=50)
        opened = self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("from_ad", "=", True)]
        )
        self.assertEqual(opened.text, "[Opened from an ad]")
        self.assertTrue(opened._to_adapter_message().from_ad)

    def test_a_late_referral_gives_the_whole_thread_seven_days(self):
        """The referral that opened the thread arrives after a later message
        of it: the thread's window is 7 days from its last message."""
        self.deliver(
            self.entry(
                self.page_id, CUSTOMER["id"], {"mid": "m_later", "text": "Hi"}, 40
            )
        )
        ticket = self.message("m_later").ticket_id
        self.assertEqual(
            ticket.social_window_closes_at,
            self.message("m_later").message_date + timedelta(hours=24),
        )
        self.deliver_ad_referral(hours_ago=50)
        self.assertEqual(
            ticket.social_window_closes_at,
            self.message("m_later").message_date + timedelta(days=7),
        )

    def test_acknowledgements_never_use_human_agent(self):
        """A rule's acknowledgement past 24 hours is not sent, even with the
        Human Agent permission; the agent's own reply goes with the tag."""
        self.account.meta_human_agent_tag = True
        self.env["helpdesk.ticket.rule"].create(
            {"name": "Refunds", "keywords": "refund", "ack_private_text": "Got it!"}
        )
        sent = datetime.now(timezone.utc) - timedelta(hours=30)
        self.fake.add_message("messenger", CUSTOMER, "m_late", "refund please", sent)
        self.deliver(
            self.entry(
                self.page_id,
                CUSTOMER["id"],
                {"mid": "m_late", "text": "refund please"},
                hours_ago=30,
            )
        )
        target = self.message("m_late")
        self.env["social.reply"]._cron_send()
        acks = self.env["social.reply"].search([("target_id", "=", target.id)])
        self.assertFalse(acks.filtered(lambda reply: reply.state == "sent"))
        self.assertFalse(self.fake.requests_to("POST messages"))
        notes = target.ticket_id.message_ids.mapped("body")
        self.assertTrue(
            any("automatic replies only within 24 hours" in note for note in notes)
        )
        reply = self.env["social.reply"]._queue(target, "private", "Refund done")
        reply._deliver()
        self.assertEqual(reply.state, "sent")
        [request] = self.fake.requests_to("POST messages")
        self.assertEqual(request.body.get("tag"), "HUMAN_AGENT")

    # -- Instagram Login -------------------------------------------------------
    def test_instagram_login_account_receives_and_answers(self):
        account = self.env["social.account"].create(
            {
                "name": "Acme on Instagram",
                "network": "meta",
                "team_id": self.team.id,
                "meta_connection": "instagram_login",
                "meta_instagram_account_id": self.fake.instagram_account_id,
                "meta_instagram_access_token": self.fake.instagram_token,
                "meta_instagram_app_secret": self.fake.instagram_app_secret,
                "meta_verify_token": "fake-verify-token",
                "api_base_url": self.fake.base_url,
            }
        )
        account.action_test_connection()
        self.assertEqual(account.state, "connected")
        self.assertIn("@acme", account.connection_info)
        sent = datetime.now(timezone.utc)
        self.fake.add_message("instagram", IG_CUSTOMER, "aWdf_dm", "Hello", sent)
        self.deliver(
            self.entry(
                self.ig_id, IG_CUSTOMER["id"], {"mid": "aWdf_dm", "text": "Hello"}
            ),
            obj="instagram",
            account=account,
            secret=self.fake.instagram_app_secret,
        )
        target = self.message("aWdf_dm", account=account)
        self.assertEqual(target.channel_code, "instagram")
        reply = self.env["social.reply"]._queue(target, "private", "Hi there")
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        [request] = self.fake.requests_to("POST messages")
        self.assertEqual(request.path, f"/v27.0/{self.ig_id}/messages")
        self.assertEqual(
            request.headers["Authorization"], f"Bearer {self.fake.instagram_token}"
        )
        # The page app's secret does not sign for it.
        raw = json.dumps({"object": "instagram", "entry": []}).encode()
        forged = hmac.new(self.fake.app_secret.encode(), raw, hashlib.sha256)
        response = self.url_open(
            f"/social_helpdesk/webhook/meta/{account.webhook_token}",
            data=raw,
            headers={"X-Hub-Signature-256": f"sha256={forged.hexdigest()}"},
        )
        self.assertEqual(response.status_code, 403)

    # -- recovery ---------------------------------------------------------------
    def test_a_two_hour_outage_is_recovered_once(self):
        """Odoo was down two hours: webhooks delivered only part of it. The
        missed window, polled again, files every message once."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        start = now - timedelta(hours=2)
        texts = {}
        for number in range(8):
            created = start + timedelta(minutes=15 * number + 1)
            mid = f"m_out_{number}"
            customer = {"id": f"64{number:02d}", "name": f"Customer {number}"}
            self.fake.add_message(
                "messenger", customer, mid, f"Message {number}", created
            )
            texts[mid] = customer
        texts["m_late"] = None  # after the window: the next poll's
        self.fake.add_message(
            "messenger",
            {"id": "6499"},
            "m_before",
            "Before",
            start - timedelta(hours=1),
        )
        self.fake.add_message(
            "messenger", {"id": "6498"}, "m_late", "Late", now + timedelta(minutes=5)
        )
        # Two of them came by webhook before the outage was noticed.
        for mid in ("m_out_0", "m_out_5"):
            self.deliver(
                self.entry(
                    self.page_id, texts[mid]["id"], {"mid": mid, "text": "webhook"}
                )
            )
        stored = self.account._recover_missed(start, now)
        self.assertEqual(stored, 6)
        self.assertEqual(self.account._recover_missed(start, now), 0)
        self.Event._cron_process()
        messages = self.env["social.message"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(
            sorted(messages.mapped("external_id")),
            sorted(mid for mid in texts if mid != "m_late"),
        )
