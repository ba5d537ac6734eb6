# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Meta connector end to end: webhooks signed as Meta signs them, through
Odoo's real HTTP server, and Graph API calls to a fake Graph on loopback."""

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .fakes.fake_meta import FakeMetaServer, Fault

CUSTOMER = {"id": "6001", "name": "Lucía Gómez"}
POST_ID = "448242228374517_9001"


@tagged("post_install", "-at_install")
class TestMetaConnector(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fake = FakeMetaServer()
        cls.account = cls.env["social.account"].create(
            {
                "name": "Acme page",
                "network": "meta",
                "state": "connected",
                "meta_page_id": fake.page_id,
                "meta_page_access_token": fake.access_token,
                "meta_app_secret": fake.app_secret,
                "meta_verify_token": "fake-verify-token",
                "meta_instagram_account_id": fake.instagram_account_id,
            }
        )
        cls.page_id = fake.page_id
        cls.url = f"/social_helpdesk/webhook/meta/{cls.account.webhook_token}"
        cls.Event = cls.env["social.event"]

    def setUp(self):
        super().setUp()
        self.fake = FakeMetaServer().start()
        self.addCleanup(self.fake.stop)
        self.account.api_base_url = self.fake.base_url

    def deliver(self, *entries, obj="page"):
        raw = json.dumps({"object": obj, "entry": list(entries)}).encode()
        signature = hmac.new(
            self.fake.app_secret.encode(), raw, hashlib.sha256
        ).hexdigest()
        return self.url_open(
            self.url,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )

    def feed_entry(self, comment_id, message, verb="add", parent=POST_ID, who=None):
        return {
            "id": self.page_id,
            "time": int(time.time()),
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": verb,
                        "comment_id": comment_id,
                        "post_id": POST_ID,
                        "parent_id": parent,
                        "from": who or CUSTOMER,
                        "message": message,
                        "created_time": int(time.time()),
                    },
                }
            ],
        }

    def messenger_entry(self, mid, text, sender=CUSTOMER["id"], hours_ago=0):
        now_ms = int((time.time() - hours_ago * 3600) * 1000)
        return {
            "id": self.page_id,
            "time": now_ms,
            "messaging": [
                {
                    "sender": {"id": sender},
                    "recipient": {"id": self.page_id},
                    "timestamp": now_ms,
                    "message": {"mid": mid, "text": text},
                }
            ],
        }

    def messages(self):
        return self.env["social.message"].search([("account_id", "=", self.account.id)])

    def test_verify_handshake(self):
        query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
        ok = self.url_open(f"{self.url}?{query}{self.fake.config()['verify_token']}")
        self.assertEqual((ok.status_code, ok.text), (200, "1158201444"))
        self.assertEqual(self.url_open(f"{self.url}?{query}wrong").status_code, 403)
        token = self.fake.config()["verify_token"]
        long_challenge = "hub.mode=subscribe&hub.challenge=" + "1" * 129
        refused = self.url_open(f"{self.url}?{long_challenge}&hub.verify_token={token}")
        self.assertEqual(refused.status_code, 403)

    def test_comment_thread_lands_in_one_ticket(self):
        self.assertEqual(
            self.deliver(self.feed_entry("9001_1", "Broken")).status_code, 200
        )
        self.deliver(self.feed_entry("9001_2", "Hello?", parent="9001_1"))
        other = {"id": "6002", "name": "Pedro"}
        self.deliver(self.feed_entry("9001_3", "Same here", who=other))
        self.Event._cron_process()
        by_id = {m.external_id: m for m in self.messages()}
        ticket = by_id["9001_1"].ticket_id
        self.assertEqual(by_id["9001_2"].ticket_id, ticket)
        self.assertEqual(by_id["9001_2"].parent_id, by_id["9001_1"])
        self.assertEqual(ticket.channel_id.code, "facebook")
        self.assertNotEqual(by_id["9001_3"].ticket_id, ticket)

    def test_messenger_dm_lands_on_the_same_partner(self):
        self.deliver(self.feed_entry("9001_7", "Where is my refund?"))
        self.deliver(self.messenger_entry("m_1", "Sending my order number"))
        self.deliver(self.messenger_entry("m_2", "It is 7781"))
        self.Event._cron_process()
        comment, *dms = self.messages().sorted("id")
        self.assertEqual(len(dms), 2)
        self.assertEqual(dms[0].partner_id, comment.partner_id)
        # The DMs join the customer's public ticket on the page.
        self.assertEqual((dms[0] | dms[1]).ticket_id, comment.ticket_id)
        self.assertEqual(comment.ticket_id.channel_id.code, "facebook")

    def test_messenger_dm_opens_its_own_ticket_when_set_so(self):
        self.account.dm_joins_public_ticket = False
        self.deliver(self.feed_entry("9001_8", "Where is my refund?"))
        self.deliver(self.messenger_entry("m_3", "Sending my order number"))
        self.deliver(self.messenger_entry("m_4", "It is 7781"))
        self.Event._cron_process()
        comment, *dms = self.messages().sorted("id")
        self.assertEqual(len(dms), 2)
        self.assertEqual(dms[0].ticket_id, dms[1].ticket_id)
        self.assertEqual(dms[0].ticket_id.channel_id.code, "messenger")
        self.assertEqual(dms[0].ticket_id.social_kind, "private")
        self.assertNotEqual(dms[0].ticket_id, comment.ticket_id)
        self.assertEqual(dms[0].partner_id, comment.partner_id)

    def test_duplicate_delivery_stays_one_message(self):
        entry = self.feed_entry("9001_8", "Twice?")
        self.deliver(entry)
        response = self.deliver(entry)
        self.assertEqual(response.json()["duplicates"], 1)
        self.Event._cron_process()
        self.assertEqual(len(self.messages()), 1)

    def test_page_echo_and_own_comments_are_ignored(self):
        page = {"id": self.page_id, "name": "Acme Support"}
        self.deliver(self.feed_entry("9001_9", "Thanks for writing!", who=page))
        echo = self.messenger_entry("m_echo", "We are on it")
        echo["messaging"][0]["message"]["is_echo"] = True
        echo["messaging"][0]["sender"] = {"id": self.page_id}
        echo["messaging"][0]["recipient"] = {"id": CUSTOMER["id"]}
        self.deliver(echo)
        self.Event._cron_process()
        self.assertFalse(self.messages())
        events = self.Event.search([("account_id", "=", self.account.id)])
        self.assertEqual(set(events.mapped("state")), {"ignored"})

    def test_edit_updates_and_removal_marks_without_erasing(self):
        self.deliver(self.feed_entry("9001_10", "The box was open"))
        self.Event._cron_process()
        self.deliver(self.feed_entry("9001_10", "The box was open and wet", "edited"))
        self.Event._cron_process()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "The box was open and wet")
        self.assertEqual(message.state, "edited")
        notes = message.ticket_id.message_ids.filtered(
            lambda m: "edited a message" in str(m.body)
        )
        self.assertEqual(len(notes), 1)
        self.deliver(self.feed_entry("9001_10", "", "remove"))
        self.Event._cron_process()
        self.assertEqual(message.state, "remove")
        self.assertEqual(message.text, "The box was open and wet")

    def test_forged_signature_is_refused(self):
        raw = json.dumps({"object": "page", "entry": []}).encode()
        response = self.url_open(
            self.url,
            data=raw,
            headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        self.assertEqual(response.status_code, 403)

    def test_connection_reports_permissions_and_subscription(self):
        self.account.action_test_connection()
        self.assertIn("Acme Support", self.account.connection_info)
        self.assertIn("none (use Subscribe)", self.account.connection_info)
        self.account.action_meta_subscribe()
        self.assertIn("feed", self.account.connection_info)
        self.assertIn("feed", self.fake.subscribed_fields)

    @mute_logger("odoo.addons.social_helpdesk.models.social_account")
    def test_expired_token_puts_account_in_error(self):
        self.fake.fail_next("GET feed", Fault.graph_error(190, "Session has expired"))
        self.account._poll()
        self.assertEqual(self.account.state, "error")
        self.assertIn("reconnect", self.account.last_error.lower())

    def test_throttling_reschedules(self):
        self.fake.fail_next("GET feed", Fault.graph_error(613, "Calls limit reached"))
        self.account._poll()
        self.assertTrue(self.account.rate_limited_until)
        self.assertEqual(self.account.next_poll_date, self.account.rate_limited_until)

    def test_polling_fallback_files_comments(self):
        now = datetime.now(timezone.utc)
        self.fake.add_post(POST_ID, "New grinder!", now)
        self.fake.add_comment(
            "9001_20", POST_ID, "Does it fit the old lid?", now, CUSTOMER
        )
        self.account._poll()
        self.Event._cron_process()
        message = self.messages()
        self.assertEqual(message.external_id, "9001_20")
        # The same comment delivered by webhook later is a duplicate.
        self.deliver(self.feed_entry("9001_20", "Does it fit the old lid?"))
        self.Event._cron_process()
        self.assertEqual(len(self.messages()), 1)

    def test_replies_outside_the_window_are_refused_up_front(self):
        sent_at = datetime.now(timezone.utc) - timedelta(hours=30)
        self.fake.add_message("messenger", CUSTOMER, "m_old", "Hello?", sent_at)
        self.deliver(self.messenger_entry("m_old", "Hello?", hours_ago=30))
        self.Event._cron_process()
        target = self.messages()
        with self.assertRaisesRegex(UserError, "24 hours"):
            self.env["social.reply"]._queue(target, "private", "Sorry for the wait")
        self.assertFalse(self.fake.requests_to("POST messages"))
        self.account.meta_human_agent_tag = True
        reply = self.env["social.reply"]._queue(target, "private", "Sorry for the wait")
        reply._deliver()
        self.assertEqual(reply.state, "sent")
        [request] = self.fake.requests_to("POST messages")
        self.assertEqual(request.body.get("tag"), "HUMAN_AGENT")

    def test_private_reply_to_a_comment_only_once(self):
        now = datetime.now(timezone.utc)
        self.fake.add_post(POST_ID, "New grinder!", now)
        self.fake.add_comment("9001_30", POST_ID, "My order never came", now, CUSTOMER)
        self.deliver(self.feed_entry("9001_30", "My order never came"))
        self.Event._cron_process()
        target = self.messages()
        first = self.env["social.reply"]._queue(target, "private", "Check your inbox")
        first._deliver()
        self.assertEqual(first.state, "sent")
        with self.assertRaisesRegex(UserError, "one private reply"):
            self.env["social.reply"]._queue(target, "private", "Again")
        public = self.env["social.reply"]._queue(target, "public", "We wrote to you")
        public._deliver()
        self.assertEqual(public.state, "sent")
        self.assertTrue(public.url)

    def test_messenger_reply_with_an_image(self):
        """The text, then the image as a second Send API message (one
        message is text or an attachment), uploaded as multipart filedata."""
        self.fake.add_message(
            "messenger", CUSTOMER, "m_img", "Photo?", datetime.now(timezone.utc)
        )
        self.deliver(self.messenger_entry("m_img", "Photo?"))
        self.Event._cron_process()
        target = self.messages()
        jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
        reply = self.env["social.reply"]._queue(
            target, "private", "Like this", image=(jpeg, "label.jpg")
        )
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        text, image = self.fake.requests_to("POST messages")
        self.assertEqual(text.body["message"], {"text": "Like this"})
        [sent] = [
            message
            for conversation in self.fake.conversations.values()
            for message in conversation.messages
            if message["message"] == "Like this"
        ]
        self.assertEqual(reply.external_id, sent["id"])
        self.assertEqual(
            json.loads(image.body["message"]),
            {"attachment": {"type": "image", "payload": {"is_reusable": False}}},
        )
        self.assertEqual(json.loads(image.body["recipient"]), {"id": CUSTOMER["id"]})
        self.assertEqual(image.files["filedata"], ("label.jpg", "image/jpeg", jpeg))
        self.assertEqual(list(self.fake.images.values()), [jpeg])

    def test_messenger_image_follows_a_text_that_timed_out(self):
        """The text went but its answer was lost: the retry finds the text,
        sends the image it lacks, and never the text again; a further retry
        finds both and sends nothing."""
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.api_timeout_seconds", "1"
        )
        self.fake.add_message(
            "messenger", CUSTOMER, "m_to", "Photo?", datetime.now(timezone.utc)
        )
        self.deliver(self.messenger_entry("m_to", "Photo?"))
        self.Event._cron_process()
        target = self.messages()
        self.fake.fail_next("POST messages", Fault.timeout(10.5, publish=True))
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        reply = self.env["social.reply"]._queue(
            target, "private", "Like this", image=(png, "label.png")
        )
        reply._deliver()
        self.assertEqual((reply.state, reply.may_be_published), ("queued", True))
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        ours = [
            message
            for conversation in self.fake.conversations.values()
            for message in conversation.messages
            if message["from"]["id"] == self.page_id
        ]
        self.assertEqual([m["message"] for m in ours], ["Like this", ""])
        self.assertEqual(list(self.fake.images.values()), [png])
        self.assertEqual(reply.external_id, ours[0]["id"])
        reply.write({"state": "queued", "may_be_published": True})
        reply._deliver()
        self.assertEqual(len(self.fake.requests_to("POST messages")), 2)

    def test_facebook_comment_reply_with_an_image(self):
        now = datetime.now(timezone.utc)
        self.fake.add_post(POST_ID, "New grinder!", now)
        self.fake.add_comment("9001_50", POST_ID, "Which filter?", now, CUSTOMER)
        self.deliver(self.feed_entry("9001_50", "Which filter?"))
        self.Event._cron_process()
        target = self.messages()
        webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
        reply = self.env["social.reply"]._queue(
            target, "public", "This one", image=(webp, "filter.webp")
        )
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        [request] = self.fake.requests_to("POST comments")
        self.assertEqual(request.body["message"], "This one")
        self.assertEqual(request.files["source"], ("filter.webp", "image/webp", webp))
        self.assertEqual(self.fake.images[reply.external_id], webp)
        with self.assertRaisesRegex(UserError, "cannot carry an image"):
            self.env["social.reply"]._queue(
                target, "private", "Inbox", image=(webp, "filter.webp")
            )

    def test_first_poll_starts_at_the_connection(self):
        """Without a cursor, Meta is read from the connection, not a day
        back: older history is the history import's."""
        now = datetime.now(timezone.utc)
        self.account.connected_date = fields.Datetime.now() - timedelta(minutes=1)
        self.fake.add_post(POST_ID, "New grinder!", now - timedelta(hours=3))
        before = now - timedelta(hours=2)
        self.fake.add_comment("9001_40", POST_ID, "Before", before, CUSTOMER)
        self.fake.add_comment("9001_41", POST_ID, "After", now, CUSTOMER)
        self.account._poll()
        self.Event._cron_process()
        self.assertEqual(self.messages().mapped("external_id"), ["9001_41"])

    def test_polling_resumes_where_the_page_limit_stopped(self):
        """150 posts in 6 pages of 25, at most 5 pages a poll: the cursor
        waits until the last page is read, and no page is read twice."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for number in range(150):
            created = now - timedelta(minutes=number)
            self.fake.add_post(f"{self.page_id}_{number}", f"Post {number}", created)
        self.account._poll()
        self.assertIn("feed_resume", self.account.poll_cursors)
        self.assertNotIn("feed", self.account.poll_cursors)
        self.account._poll()
        self.assertNotIn("feed_resume", self.account.poll_cursors)
        self.assertEqual(self.account.poll_cursors["feed"], int(now.timestamp()))
        afters = [
            request.query.get("after") for request in self.fake.requests_to("GET feed")
        ]
        self.assertEqual(len(afters), 6)
        self.assertEqual(len(set(afters)), 6)
        events = self.Event.search([("account_id", "=", self.account.id)])
        self.assertEqual(len(set(events.mapped("external_id"))), 150)

    def test_instagram_private_reply_to_a_comment_without_media(self):
        """A comment that came without its media names its own thread; the
        private reply still goes to the comment by its id."""
        now = datetime.now(timezone.utc)
        author = {"id": "8001", "username": "ana"}
        self.fake.add_media("ig_media_1", now)
        self.fake.add_instagram_comment("ig_c_1", "ig_media_1", "It leaks", now, author)
        entry = {
            "id": self.fake.instagram_account_id,
            "time": int(time.time()),
            "changes": [
                {
                    "field": "comments",
                    "value": {"id": "ig_c_1", "text": "It leaks", "from": author},
                }
            ],
        }
        self.deliver(entry, obj="instagram")
        self.Event._cron_process()
        target = self.messages()
        self.assertEqual(target.channel_code, "instagram")
        reply = self.env["social.reply"]._queue(target, "private", "Check your inbox")
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        [request] = self.fake.requests_to("POST messages")
        self.assertEqual(request.body["recipient"], {"comment_id": "ig_c_1"})
        # Instagram comment replies are text only: the server refuses an image.
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        with self.assertRaisesRegex(UserError, "on Instagram cannot carry an image"):
            self.env["social.reply"]._queue(
                target, "public", "Thanks", image=(png, "a.png")
            )
