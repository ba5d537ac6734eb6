# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""X as of late 2026, through the real webhook controller and a fake X on
loopback: X Activity API deliveries (mentions, replies, DMs both ways,
encrypted XChat), the account's subscriptions, a two-hour outage recovered
by X's replay exactly once, OAuth 2.0 token refresh by one worker only,
and replies metered as billed writes."""

from datetime import datetime, timedelta, timezone

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, HttpCase, get_db_name, tagged
from odoo.tools import mute_logger

from .fakes.fake_x import CREATE_POST, MENTIONS, FakeXServer
from .fakes.fake_x_activity import OAUTH2_TOKEN, REPLAY

OWN_ID = "1111111111111111111"
SECRET = "x-app-consumer-secret"
ENCRYPTED = "[Encrypted XChat message — open X to read it]"


@tagged("post_install", "-at_install")
class TestXActivityApi(HttpCase):
    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=OWN_ID, me_username="CafeBrand").start()
        self.addCleanup(self.fake.stop)
        self.fake.crc_secret = SECRET  # X signs deliveries with it
        self.fake.allow_insecure_urls = True
        self.env["ir.config_parameter"].set_param("web.base.url", self.base_url())
        self.team = self.env["helpdesk.ticket.team"].create({"name": "X care"})
        self.account = self.env["social.account"].create(
            {
                "name": "Cafe on X",
                "network": "x",
                "state": "connected",
                "team_id": self.team.id,
                "x_user_id": OWN_ID,
                "x_username": "CafeBrand",
                "x_api_key": "key",
                "x_api_secret": SECRET,
                "x_access_token": "token",
                "x_access_token_secret": "token-secret",
                "x_bearer_token": self.fake.app_bearer_token,
                "api_base_url": self.fake.base_url,
                "poll_enabled": False,
            }
        )
        self.fake.add_webhook(self.account.webhook_url)
        self.customer = self.fake.add_user("2001", "customer", "A Customer")
        self.Event = self.env["social.event"]

    def subscribe(self):
        self.account.action_x_subscribe()
        self.assertFalse(self.account.x_subscriptions_missing)

    def events(self):
        return self.Event.search([("account_id", "=", self.account.id)])

    def test_subscriptions_are_checked_created_and_removed(self):
        self.account.action_x_check_subscriptions()
        self.assertEqual(
            self.account.x_subscriptions_missing,
            "post.mention.create, post.reply.create, dm.received, dm.sent, "
            "chat.received",
        )
        self.subscribe()
        kinds = {s["event_type"] for s in self.fake.activity_subscriptions.values()}
        self.assertIn("chat.received", kinds)
        self.assertIn("Subscribed to the X Activity API events", self.chatter())
        self.account.action_x_unsubscribe()
        self.assertEqual(self.fake.activity_subscriptions, {})
        self.assertIn("dm.sent", self.account.x_subscriptions_missing)

    def chatter(self):
        return " ".join(self.account.message_ids.mapped("body"))

    def test_activity_deliveries_become_tickets_through_the_webhook(self):
        self.subscribe()
        mention = self.fake.emit_mention(self.customer["id"], "my latte was cold")
        post_id = mention["data"]["payload"]["id"]
        self.fake.emit_mention(self.customer["id"], "still cold", reply_to=post_id)
        self.fake.emit_dm(self.customer["id"], "here is my order number")
        self.fake.emit_dm(OWN_ID, "Sorry! We are on it.", recipient_id="2001")
        self.fake.emit_chat(self.customer["id"])
        self.assertEqual([status for status, _ in self.fake.deliveries], [200] * 5)
        self.assertEqual(len(self.events()), 5)
        self.assertTrue(all(self.events().mapped("via_webhook")))
        self.Event._cron_process()
        messages = self.env["social.message"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(len(messages), 4, "the brand's own DM is no customer's")
        echo = self.events().filtered(
            lambda e: e.payload.get("event_type") == "dm.sent"
        )
        self.assertIn("Written by the account itself", echo.ignore_reason)
        chat = messages.filtered(lambda m: m.text == ENCRYPTED)
        self.assertEqual(len(chat), 1, "an encrypted chat is shown, not dropped")
        self.assertTrue(chat.url.startswith("https://x.com/i/chat/2001"))
        self.assertIn("open X to read it", chat.mail_message_id.body)
        self.assertIn("https://x.com/i/chat/2001", chat.mail_message_id.body)
        self.assertTrue(messages.ticket_id, "the conversation is a ticket")
        # A redelivery of the same events changes nothing.
        for _status, delivery in list(self.fake.deliveries):
            self.fake.deliver(delivery)
        self.assertEqual(len(self.events()), 5)

    def test_a_two_hour_outage_is_replayed_once(self):
        self.subscribe()
        now = datetime.now(timezone.utc)
        self.fake.emit_mention(self.customer["id"], "before the outage")
        self.fake.emit_dm(self.customer["id"], "a DM before the outage")
        before = self.events()
        self.assertEqual(len(before), 2)
        # The last delivery was two and a half hours ago, and yesterday the
        # account received messages at this time: its silence is an outage.
        self.env.cr.execute(
            """
            UPDATE social_event
            SET received_date = received_date - interval '150 minutes'
                - CASE WHEN id = %s THEN interval '1 day' ELSE interval '0' END
            WHERE account_id = %s
            """,
            [before[0].id, self.account.id],
        )
        self.Event.invalidate_model()
        self.account.invalidate_recordset()
        self.fake.webhook_down = True  # Odoo is down for two hours
        missed = [
            self.fake.emit_mention(
                self.customer["id"], "during", at=now - timedelta(hours=2)
            ),
            self.fake.emit_dm(
                self.customer["id"], "hello?", at=now - timedelta(minutes=90)
            ),
            self.fake.emit_chat(self.customer["id"], at=now - timedelta(minutes=31)),
        ]
        self.fake.webhook_down = False
        self.assertEqual(len(self.events()), 2, "nothing arrived during the outage")

        self.env["social.account"]._cron_recover()
        [replay] = self.fake.requests_to(REPLAY)
        window_start = datetime.strptime(replay.json["from_date"], "%Y%m%d%H%M")
        self.assertLessEqual(
            window_start, (now - timedelta(minutes=155)).replace(tzinfo=None)
        )
        # The replay re-sent the window: the missed events and the two
        # received before; each is stored once.
        self.assertEqual(len(self.fake.deliveries), 2 + 5)
        self.assertEqual(len(self.events()), 5)
        ids = self.events().mapped("external_id")
        self.assertEqual(len(ids), len(set(ids)))
        for delivery in missed:
            event = self.account._get_adapter().split_delivery(delivery)[0]
            self.assertIn(event.event_id, ids)
        # A second run does not ask again: the window is recovered.
        self.env["social.account"]._cron_recover()
        self.assertEqual(len(self.fake.requests_to(REPLAY)), 1)
        # X replays on its own time: the chatter tells once it had time to.
        self.account.recovery_requested_date -= timedelta(minutes=11)
        self.env["social.account"]._cron_recover()
        self.assertIn("3 new events arrived since", self.chatter())
        self.assertIn("asked to deliver that window again (replay job", self.chatter())
        self.assertFalse(self.account.recovery_job)
        self.Event._cron_process()
        self.assertEqual(
            len(
                self.env["social.message"].search(
                    [("account_id", "=", self.account.id)]
                )
            ),
            5,
        )

    def test_a_quiet_account_is_not_replayed(self):
        self.subscribe()
        self.fake.emit_mention(self.customer["id"], "one message, long ago")
        self.env.cr.execute(
            "UPDATE social_event SET received_date = received_date - interval "
            "'3 hours' WHERE account_id = %s",
            [self.account.id],
        )
        self.Event.invalidate_model()
        self.env["social.account"]._cron_recover()
        self.assertEqual(self.fake.requests_to(REPLAY), [])

    def test_a_token_x_refuses_is_refreshed_before_the_next_poll(self):
        account = self.account.copy(
            {
                "name": "Cafe on X, OAuth 2.0",
                "x_access_token": False,
                "x_access_token_secret": False,
                "x_oauth2_user_token": "user-token-0",
                "x_oauth2_refresh_token": self.fake.add_refresh_token(),
                "x_oauth2_client_id": self.fake.oauth2_client_id,
                "x_oauth2_token_expires_at": fields.Datetime.now() + timedelta(hours=1),
                "state": "connected",
                "poll_enabled": True,
            }
        )
        self.fake.fail_next(MENTIONS, status=401, detail="Unauthorized")
        with mute_logger("odoo.addons.social_helpdesk.models.social_account"):
            account._poll()
        self.assertEqual(account.state, "connected", "refreshed, not in error")
        self.assertFalse(account.x_oauth2_token_expires_at)
        self.assertEqual(self.fake.oauth2_refreshes, 0, "not under the poll's lock")
        account.next_poll_date = fields.Datetime.now() - timedelta(minutes=1)
        self.env["social.account"].search(
            [("id", "!=", account.id)]
        ).poll_enabled = False
        self.env["social.account"]._cron_poll()
        self.assertEqual(self.fake.oauth2_refreshes, 1)
        self.assertEqual(
            self.fake.requests_to(MENTIONS)[-1].headers["authorization"],
            "Bearer user-token-1",
        )
        self.assertFalse(account.last_error)

    def test_a_reply_refused_for_its_token_goes_out_with_a_fresh_one(self):
        self.subscribe()
        mention = self.fake.emit_mention(self.customer["id"], "my grinder broke")
        self.Event._cron_process()
        target = self.env["social.message"].search(
            [("external_id", "=", mention["data"]["payload"]["id"])]
        )
        self.account.write(
            {
                "x_access_token": False,
                "x_access_token_secret": False,
                "x_oauth2_user_token": "user-token-0",
                "x_oauth2_refresh_token": self.fake.add_refresh_token(),
                "x_oauth2_client_id": self.fake.oauth2_client_id,
                "x_oauth2_token_expires_at": fields.Datetime.now() + timedelta(hours=1),
            }
        )
        self.fake.fail_next(CREATE_POST, status=401, detail="Unauthorized")
        reply = self.env["social.reply"]._queue(target, "public", "@customer On it!")
        reply._deliver()
        self.assertEqual(reply.state, "queued", reply.error)
        self.assertFalse(self.account.x_oauth2_token_expires_at)
        reply.next_attempt_date = fields.Datetime.now() - timedelta(hours=1)
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent", reply.error)
        self.assertEqual(self.fake.oauth2_refreshes, 1)
        self.assertEqual(
            self.fake.requests_to(CREATE_POST)[-1].headers["authorization"],
            "Bearer user-token-1",
        )
        # The reply posted is a billed write.
        writes = self.env["social.api.read"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(writes.mapped("resource_type"), ["content_create"])

    def test_replies_are_metered_as_writes(self):
        Read = self.env["social.api.read"]
        self.account._meter_write("public", "Sorry about that", "reply-1")
        self.account._meter_write("public", "See https://cafe.example/faq", "reply-2")
        self.account._meter_write("private", "Your order is on its way", "reply-3")
        self.account._meter_write("private", "Your order is on its way", "reply-3")
        self.assertEqual(
            sorted(
                Read.search([("account_id", "=", self.account.id)]).mapped(
                    "resource_type"
                )
            ),
            ["content_create", "content_create_url", "dm_create"],
        )
        self.assertAlmostEqual(self.account.api_spend_month, 0.015 + 0.2 + 0.015)


@tagged("post_install", "-at_install")
class TestXTokenRefresh(BaseCase):
    """Two workers, two real transactions: X's refresh tokens rotate, so
    only one of them may refresh, and both end up with the new token."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=OWN_ID).start()
        self.addCleanup(self.fake.stop)
        refresh_token = self.fake.add_refresh_token()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["social.account"].create(
                {
                    "name": "Token refresh",
                    "network": "x",
                    "state": "connected",
                    "x_user_id": OWN_ID,
                    "x_oauth2_user_token": "user-token-0",
                    "x_oauth2_refresh_token": refresh_token,
                    "x_oauth2_client_id": self.fake.oauth2_client_id,
                    "x_oauth2_token_expires_at": fields.Datetime.now()
                    + timedelta(minutes=5),
                    "api_base_url": self.fake.base_url,
                    "poll_enabled": False,
                }
            )
            self.account_id = account.id
        self.addCleanup(self._remove)

    def _remove(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["social.account"].browse(self.account_id).unlink()

    def account(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})["social.account"].browse(
            self.account_id
        )

    def test_one_worker_refreshes_the_other_uses_its_token(self):
        with (
            self.registry.cursor() as first,
            self.registry.cursor() as second,
        ):
            stale = self.account(second)
            self.assertTrue(stale._x_token_due())  # its snapshot: 5 minutes left
            # The first worker holds the account (polling, or refreshing).
            first.execute(
                "SELECT id FROM social_account WHERE id = %s FOR NO KEY UPDATE",
                [self.account_id],
            )
            self.assertFalse(stale._x_refresh_token())
            self.assertEqual(self.fake.oauth2_refreshes, 0)
            # It refreshes, and commits the new pair at once.
            fresh = self.account(first)
            first.rollback()
            adapter = fresh._get_adapter()
            self.assertEqual(adapter.config["oauth2_user_token"], "user-token-1")
            self.assertEqual(self.fake.oauth2_refreshes, 1)
            # The second, whose snapshot still says 5 minutes, reads the
            # committed pair under the lock and does not refresh again.
            self.assertEqual(stale.sudo().x_oauth2_user_token, "user-token-0")
            adapter = stale._get_adapter()
            self.assertEqual(adapter.config["oauth2_user_token"], "user-token-1")
            self.assertEqual(len(self.fake.requests_to(OAUTH2_TOKEN)), 1)
        with self.registry.cursor() as cr:
            account = self.account(cr)
            self.assertEqual(account.x_oauth2_user_token, "user-token-1")
            self.assertIn(
                account.x_oauth2_refresh_token, self.fake.oauth2_refresh_tokens
            )
            self.assertGreater(
                account.x_oauth2_token_expires_at,
                fields.Datetime.now() + timedelta(hours=1),
            )

    def test_a_refused_refresh_token_puts_the_account_in_error(self):
        self.fake.oauth2_refresh_tokens.clear()
        with (
            mute_logger("odoo.addons.social_helpdesk.models.social_account"),
            self.registry.cursor() as cr,
        ):
            self.account(cr)._get_adapter()
        with self.registry.cursor() as cr:
            account = self.account(cr)
            self.assertEqual(account.state, "error")
            self.assertIn("reconnect", account.last_error)
