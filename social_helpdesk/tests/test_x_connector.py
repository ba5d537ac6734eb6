# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The X connector end to end, against a fake X API v2 on loopback that
answers with X's documented JSON and headers, and through Odoo's real HTTP
server for webhooks."""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..adapters.base import InboundEvent
from .common import age_events
from .fakes.fake_x import DM_EVENTS, MENTIONS, FakeXServer

BRAND_ID = "1111111111111111111"
CUSTOMER_ID = "2222222222222222222"
API_SECRET = "x-consumer-secret"


@tagged("post_install", "-at_install")
class TestXConnector(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "X care"})
        cls.account = cls.env["social.account"].create(
            {
                "name": "Brand on X",
                "network": "x",
                "state": "connected",
                "team_id": cls.team.id,
                "x_api_key": "key",
                "x_api_secret": API_SECRET,
                "x_access_token": "token",
                "x_access_token_secret": "token-secret",
            }
        )
        cls.Event = cls.env["social.event"]
        cls.url = f"/social_helpdesk/webhook/x/{cls.account.webhook_token}"

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(self.fake.stop)
        self.fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz", followers_count=4200)
        self.account.api_base_url = self.fake.base_url

    def messages(self):
        return self.env["social.message"].search([("account_id", "=", self.account.id)])

    def sign(self, raw):
        digest = hmac.new(API_SECRET.encode(), raw, hashlib.sha256).digest()
        return "sha256=" + base64.b64encode(digest).decode()

    def test_connection_shows_the_handle(self):
        action = self.account.action_test_connection()
        self.assertEqual(self.account.x_user_id, BRAND_ID)
        self.assertEqual(self.account.x_username, "CafeBrand")
        self.assertIn("@CafeBrand", action["params"]["message"])
        self.assertEqual(self.account.state, "connected")

    def _connect(self):
        self.account.write({"x_user_id": BRAND_ID, "x_username": "CafeBrand"})

    def test_poll_files_mention_reply_and_dm(self):
        self._connect()
        mention = self.fake.add_mention(CUSTOMER_ID, "my grinder broke")
        reply = self.fake.add_post(
            CUSTOMER_ID, "@CafeBrand any news?", reply_to=mention["id"]
        )
        self.fake.add_dm(CUSTOMER_ID, "my order number is 4411")
        self.account._poll()
        self.assertTrue(self.account.poll_cursors.get("mentions_since_id"))
        self.Event._cron_process()
        by_id = {m.external_id: m for m in self.messages()}
        public_ticket = by_id[mention["id"]].ticket_id
        self.assertEqual(by_id[reply["id"]].ticket_id, public_ticket)
        self.assertEqual(public_ticket.channel_id.code, "x")
        self.assertEqual(public_ticket.social_kind, "public")
        self.assertEqual(public_ticket.social_author_handle, "maria_r")
        self.assertEqual(
            public_ticket.social_url, f"https://x.com/maria_r/status/{mention['id']}"
        )
        dm = self.messages().filtered(lambda m: m.kind == "private")
        self.assertEqual(len(dm), 1)
        # The customer's DM joins their public ticket on the account.
        self.assertEqual(dm.ticket_id, public_ticket)
        self.assertEqual(dm.partner_id, public_ticket.partner_id)
        self.assertEqual(public_ticket.partner_id.name, "María Ruiz")
        identity = public_ticket.partner_id.social_identity_ids
        self.assertEqual((identity.handle, identity.followers_count), ("maria_r", 4200))
        # A second poll reads nothing new and stores nothing twice.
        self.account._poll()
        self.Event._cron_process()
        self.assertEqual(len(self.messages()), 3)

    def test_reads_are_metered_once_per_day(self):
        self._connect()
        self.fake.add_mention(CUSTOMER_ID, "hello")
        self.account._poll()
        reads = self.env["social.api.read"].search(
            [("account_id", "=", self.account.id)]
        )
        types = set(reads.mapped("resource_type"))
        self.assertIn("owned_post", types)
        self.assertIn("user", types)
        spend = self.account.api_spend_month
        self.assertGreater(spend, 0)
        # The same resources read again on the same day are not billed again.
        self.account.poll_cursors = {}
        self.account._poll()
        self.account.invalidate_recordset(["api_spend_month"])
        self.assertAlmostEqual(self.account.api_spend_month, spend)

    def test_budget_stops_polling(self):
        self._connect()
        self.fake.add_mention(CUSTOMER_ID, "hello")
        self.account.x_monthly_budget = 0.0001
        self.account._poll()
        calls = len(self.fake.requests_to(MENTIONS))
        self.account.next_poll_date = False
        self.account._poll()
        self.assertEqual(len(self.fake.requests_to(MENTIONS)), calls)
        self.assertIn("budget", self.account.last_error)
        self.assertGreater(self.account.next_poll_date, fields.Datetime.now())

    def test_rate_limit_reschedules_at_reset(self):
        self._connect()
        reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(
            minutes=12
        )
        self.fake.rate_limit_next(MENTIONS, reset_at=int(reset.timestamp()))
        self.account._poll()
        expected = reset.replace(tzinfo=None)
        self.assertEqual(self.account.rate_limited_until, expected)
        self.assertEqual(self.account.next_poll_date, expected)
        self.assertIn("Rate limited until", self.account.last_error)
        self.assertFalse(self.account.poll_cursors)

    def test_server_errors_back_off(self):
        self._connect()
        self.fake.fail_next(MENTIONS, status=503, times=2)
        self.account._poll()
        self.assertEqual(self.account.poll_failures, 1)
        first_delay = self.account.next_poll_date - fields.Datetime.now()
        self.account._poll()
        self.assertEqual(self.account.poll_failures, 2)
        second_delay = self.account.next_poll_date - fields.Datetime.now()
        self.assertGreater(second_delay, first_delay)
        self.assertNotEqual(self.account.state, "error")
        self.account._poll()
        self.assertEqual(self.account.poll_failures, 0)

    def test_crc_handshake(self):
        response = self.url_open(f"{self.url}?crc_token=challenge-123")
        self.assertEqual(response.status_code, 200)
        digest = hmac.new(API_SECRET.encode(), b"challenge-123", hashlib.sha256)
        expected = "sha256=" + base64.b64encode(digest.digest()).decode()
        self.assertEqual(response.json(), {"response_token": expected})

    def test_crc_is_no_signing_oracle(self):
        """A CRC answer is the HMAC a delivery is signed with: asked to answer
        a delivery's body, the webhook refuses, so the body can't be signed
        and then posted as if X had sent it."""
        self._connect()
        body = json.dumps(
            {
                "for_user_id": BRAND_ID,
                "direct_message_events": [
                    {
                        "type": "message_create",
                        "id": "1990000000000000777",
                        "created_timestamp": "1795000000000",
                        "message_create": {
                            "target": {"recipient_id": BRAND_ID},
                            "sender_id": CUSTOMER_ID,
                            "message_data": {"text": "forged", "entities": {}},
                        },
                    }
                ],
            }
        )
        crc = self.url_open(f"{self.url}?{urlencode({'crc_token': body})}")
        self.assertEqual(crc.status_code, 403)
        self.assertNotIn("response_token", crc.text)
        self.assertIn("crc_token", crc.json()["message"])
        # Whatever the attacker takes from the refusal, it is no signature.
        for signature in ("", crc.json()["message"], f"sha256={crc.text}"):
            response = self.url_open(
                self.url,
                data=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "x-twitter-webhooks-signature": signature,
                },
            )
            self.assertEqual(response.status_code, 403)
        self.assertFalse(self.Event.search([("account_id", "=", self.account.id)]))
        # X's own tokens are answered.
        token = "M2RkODJkZmMtYjlkYi00NmQ4LTk0MGUtM2JjYzkwM2Q4MjQ0"
        self.assertEqual(
            self.url_open(f"{self.url}?crc_token={token}").status_code, 200
        )

    def test_webhook_and_poll_of_one_post_give_one_message(self):
        self._connect()
        mention = self.fake.add_mention(CUSTOMER_ID, "webhook first")
        envelope = {
            "data": {
                "event_type": "post.mention.create",
                "filter": {"user_id": BRAND_ID},
                "payload": mention,
                "includes": {"users": [self.fake.users[CUSTOMER_ID]]},
            }
        }
        raw = json.dumps(envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": self.sign(raw),
        }
        for _delivery in range(2):
            response = self.url_open(self.url, data=raw, headers=headers)
            self.assertEqual(response.status_code, 200)
        forged = dict(headers, **{"x-twitter-webhooks-signature": "sha256=AAAA"})
        self.assertEqual(
            self.url_open(self.url, data=raw, headers=forged).status_code, 403
        )
        self.Event._cron_process()
        # Polling, once webhooks have been quiet for a day, reads the same
        # post: it dedups at the store.
        age_events(self.env, self.account, 25)
        self.account._poll()
        self.Event._cron_process()
        posts = self.messages().filtered(lambda m: m.external_id == mention["id"])
        self.assertEqual(len(posts), 1)
        self.assertEqual(len(posts.ticket_id.social_message_ids), 1)

    def test_recent_webhooks_pause_metered_polling(self):
        self._connect()
        pushed = InboundEvent("x:pushed-1", {"for_user_id": BRAND_ID})
        self.env["social.event"]._store(self.account, [pushed], via_webhook=True)
        self.account._poll()
        self.assertFalse(self.fake.requests_to(MENTIONS))
        self.assertFalse(self.fake.requests_to(DM_EVENTS))

    def test_legacy_account_activity_delivery_is_split(self):
        self._connect()
        tweet = {
            "created_at": "Mon Nov 23 10:00:00 +0000 2026",
            "id": 1990000000000000123,
            "id_str": "1990000000000000123",
            "text": "@CafeBrand the lid is cracked…",
            "truncated": True,
            "extended_tweet": {"full_text": "@CafeBrand the lid is cracked, again!"},
            "user": {
                "id": 2222222222222222222,
                "id_str": CUSTOMER_ID,
                "name": "María Ruiz",
                "screen_name": "maria_r",
                "followers_count": 4200,
            },
            "in_reply_to_status_id_str": None,
        }
        dm = {
            "type": "message_create",
            "id": "1990000000000000999",
            "created_timestamp": "1795000000000",
            "message_create": {
                "target": {"recipient_id": BRAND_ID},
                "sender_id": CUSTOMER_ID,
                "message_data": {"text": "sent you the photo", "entities": {}},
            },
        }
        body = {
            "for_user_id": BRAND_ID,
            "tweet_create_events": [tweet],
            "direct_message_events": [dm],
            "users": {
                CUSTOMER_ID: {
                    "id": CUSTOMER_ID,
                    "name": "María Ruiz",
                    "screen_name": "maria_r",
                },
                BRAND_ID: {"id": BRAND_ID, "name": "Brand", "screen_name": "CafeBrand"},
            },
        }
        raw = json.dumps(body).encode()
        response = self.url_open(
            self.url,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "x-twitter-webhooks-signature": self.sign(raw),
            },
        )
        self.assertEqual(response.json()["received"], 2)
        self.Event._cron_process()
        texts = sorted(self.messages().mapped("text"))
        self.assertEqual(
            texts, ["@CafeBrand the lid is cracked, again!", "sent you the photo"]
        )

    def reads(self, resource_type=None):
        domain = [("account_id", "=", self.account.id)]
        if resource_type:
            domain.append(("resource_type", "=", resource_type))
        return self.env["social.api.read"].search(domain)

    def test_first_poll_starts_at_the_connection(self):
        """A new account reads nothing older than its connection: the 800
        mentions X still serves and the month of DMs are the history
        import's, after its cost estimate."""
        long_ago = datetime.now(timezone.utc) - timedelta(days=3)
        for number in range(800):
            self.fake.add_mention(CUSTOMER_ID, f"old {number}", created_at=long_ago)
        for number in range(30):
            self.fake.add_dm(CUSTOMER_ID, f"old dm {number}", created_at=long_ago)
        self.account.action_test_connection()
        self.assertTrue(self.account.connected_date)
        self.account._poll()
        [request] = self.fake.requests_to(MENTIONS)
        self.assertEqual(
            request.query["start_time"],
            self.account.connected_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.assertFalse(self.Event.search([("account_id", "=", self.account.id)]))
        self.assertFalse(self.reads("owned_post"))
        # DM events have no time filter: one old event (and its sender) is
        # read to anchor the cursor, not a page, and it is not stored.
        self.assertLessEqual(len(self.reads("dm_event")), 1)
        self.assertLessEqual(len(self.reads()), 2)
        mention = self.fake.add_mention(CUSTOMER_ID, "my grinder broke today")
        dm = self.fake.add_dm(CUSTOMER_ID, "order 4411")
        self.account._poll()
        self.Event._cron_process()
        self.assertEqual(
            set(self.messages().mapped("external_id")), {mention["id"], dm["id"]}
        )
        # The DM joins the customer's public ticket.
        self.assertEqual(len(self.messages().ticket_id), 1)
        self.assertEqual(len(self.reads("owned_post")), 1)

    def test_setup_wizard_queues_the_poll(self):
        """Checking for an event in the setup wizard never polls in the
        request: the poll is queued to the cron."""
        self._connect()
        self.account.poll_enabled = True
        self.fake.add_mention(CUSTOMER_ID, "hello")
        Wizard = self.env["social.account.setup.wizard"]
        wizard = Wizard.browse(Wizard.action_open(self.account.id)["res_id"])
        cron = self.env.ref("social_helpdesk.ir_cron_poll_social_accounts")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        wizard.action_check_event()
        self.assertFalse(self.fake.requests_to(MENTIONS))
        self.assertFalse(wizard.check_ok)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        )
        self.assertLessEqual(self.account.next_poll_date, fields.Datetime.now())
        self.env["social.account"]._cron_poll()
        self.assertEqual(len(self.fake.requests_to(MENTIONS)), 1)

    def test_failed_poll_meters_the_reads_it_made(self):
        """X bills the pages a poll fetched before a later page failed."""
        self._connect()
        mentions = [self.fake.add_mention(CUSTOMER_ID, f"hi {n}") for n in range(150)]
        self.fake.publish_then_time_out_next(MENTIONS, 0)  # page 1: as usual
        self.fake.fail_next(MENTIONS, status=503)  # page 2: a server error
        self.account._poll()
        self.assertEqual(len(self.fake.requests_to(MENTIONS)), 2)
        self.assertEqual(self.account.poll_failures, 1)
        self.assertFalse(self.account.poll_cursors)
        self.assertFalse(self.Event.search([("account_id", "=", self.account.id)]))
        page_one = {f"post:{mention['id']}" for mention in mentions[50:]}
        self.assertEqual(set(self.reads("owned_post").mapped("resource_key")), page_one)
        self.assertTrue(self.reads("user"))
        self.assertGreater(self.account.api_spend_month, 0)
