# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The reply composer as an agent sees it: the network's own count, only
the kinds of reply the conversation allows with the window's closing time,
canned responses, and the chatter line's language."""

import base64
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import SocialCase, demo_item
from .fakes.fake_meta import FakeMetaServer
from .fakes.fake_x import CREATE_POST, MEDIA_UPLOAD, FakeXServer
from .test_replies import BRAND_ID, CUSTOMER_ID, x_account

CUSTOMER = {"id": "6001", "name": "Lucía Gómez"}
POST_ID = "448242228374517_9001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@tagged("post_install", "-at_install")
class TestComposer(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            "composer_agent",
            name="Ana Agent",
            groups="helpdesk_mgmt.group_helpdesk_user_own",
            tz="Europe/Madrid",
        )
        cls.team.user_ids = [Command.link(cls.agent.id)]

    def compose(self, ticket, **values):
        return (
            self.env["social.reply.wizard"]
            .with_user(self.agent)
            .create(dict(values, ticket_id=ticket.id))
        )

    def x_ticket(self):
        fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(fake.stop)
        fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz")
        account = x_account(self.env, fake, self.team)
        fake.add_mention(CUSTOMER_ID, "my grinder is broken")
        account._poll()
        self.Event._cron_process()
        return self.env["social.message"].search([("account_id", "=", account.id)])

    def meta_messages(self, comment_age=None, dm_age=None):
        """A Facebook comment and a Messenger DM of CUSTOMER, polled from
        the fake Graph API; ``*_age``: how long ago the customer wrote."""
        fake = FakeMetaServer().start()
        self.addCleanup(fake.stop)
        account = self.env["social.account"].create(
            {
                "name": "Acme page",
                "network": "meta",
                "state": "connected",
                "team_id": self.team.id,
                "meta_page_id": fake.page_id,
                "meta_page_access_token": fake.access_token,
                "meta_app_secret": fake.app_secret,
                "api_base_url": fake.base_url,
            }
        )
        now = datetime.now(timezone.utc)
        fake.add_post(POST_ID, "New grinder!", now)
        fake.add_comment("9001_1", POST_ID, "My order never came", now, CUSTOMER)
        fake.add_message("messenger", CUSTOMER, "m_1", "Hello?", now)
        account._poll()
        self.Event._cron_process()
        Message = self.env["social.message"]
        comment = Message.search([("external_id", "=", "9001_1")])
        dm = Message.search([("external_id", "=", "m_1")])
        for message, age in ((comment, comment_age), (dm, dm_age)):
            if age:
                message.message_date -= age
        return comment, dm

    def test_the_counter_is_the_networks_count(self):
        """X weighs a URL 23 and an emoji 2, whatever their length: the
        composer shows what the send job will check, and blocks Send past
        the limit (the server still refuses)."""
        target = self.x_ticket()
        wizard = self.compose(target.ticket_id)
        self.assertEqual(wizard.text, "@maria_r ")
        url = "https://example.com/" + "a" * 100
        wizard.text = f"@maria_r see {url} 👍🏽"
        # 9 + 4 + 23 + 1 + 2 (an emoji with its skin tone is one emoji)
        self.assertEqual(wizard.char_count, "39 / 280")
        self.assertFalse(wizard.send_blocked)
        wizard.text = "@maria_r " + "é" * 271 + " " + url
        self.assertEqual(wizard.char_count, "304 / 280")
        self.assertTrue(wizard.too_long)
        self.assertTrue(wizard.send_blocked)
        self.assertIn("Too long", wizard.warning)
        with self.assertRaisesRegex(UserError, "304 characters long"):
            wizard.action_send()
        self.assertFalse(target.ticket_id.social_reply_ids)

    def test_x_mention_allows_public_and_private(self):
        wizard = self.compose(self.x_ticket().ticket_id)
        self.assertEqual(wizard.kind, "public")
        self.assertTrue(wizard.public_allowed)
        self.assertTrue(wizard.private_allowed)
        self.assertFalse(wizard.window_info, "X sets no window")
        # Switching keeps what the agent wrote, with @handle in public only.
        wizard.text = "@maria_r Sorry about the grinder!"
        wizard.kind = "private"
        self.assertEqual(wizard.text, "Sorry about the grinder!")
        wizard.kind = "public"
        self.assertEqual(wizard.text, "@maria_r Sorry about the grinder!")

    def test_a_dm_is_answered_privately_until_the_window_closes(self):
        """Messenger: private only, and the composer says until when, in the
        agent's time zone; once 24 hours have passed Send is blocked."""
        _comment, dm = self.meta_messages(dm_age=timedelta(hours=20))
        # The customer's DM joined their public ticket: answer the DM.
        wizard = self.compose(dm.ticket_id, target_id=dm.id)
        self.assertEqual(wizard.kind, "private")
        self.assertFalse(wizard.public_allowed)
        self.assertTrue(wizard.private_allowed)
        closes = (dm.message_date + timedelta(hours=24)).replace(tzinfo=timezone.utc)
        shown = closes.astimezone(ZoneInfo("Europe/Madrid")).strftime("%-d %b %H:%M")
        self.assertEqual(wizard.window_info, f"Replies possible until {shown}")
        self.assertIn("The reply window closes in", wizard.warning)
        self.assertFalse(wizard.send_blocked)
        dm.message_date -= timedelta(hours=5)
        wizard = self.compose(dm.ticket_id, target_id=dm.id)
        self.assertTrue(wizard.send_blocked)
        self.assertIn("reply window closed", wizard.warning)

    def test_a_comment_gets_one_private_reply_within_7_days(self):
        comment, _dm = self.meta_messages(comment_age=timedelta(days=2))
        wizard = self.compose(comment.ticket_id, target_id=comment.id)
        self.assertEqual(wizard.kind, "public")
        self.assertTrue(wizard.public_allowed)
        self.assertTrue(wizard.private_allowed)
        self.assertIn("Private replies possible until", wizard.window_info)
        wizard.write({"kind": "private", "text": "Check your inbox"})
        wizard.action_send()
        wizard = self.compose(comment.ticket_id, target_id=comment.id)
        self.assertFalse(wizard.private_allowed, "Meta allows one")
        self.assertEqual(
            wizard.window_info, "This comment already got its one private reply."
        )
        wizard.write({"kind": "private", "text": "Again"})
        self.assertTrue(wizard.send_blocked)
        with self.assertRaisesRegex(UserError, "one private reply"):
            wizard.action_send()

    def test_a_comment_older_than_7_days_is_answered_publicly(self):
        comment, _dm = self.meta_messages(comment_age=timedelta(days=8))
        wizard = self.compose(comment.ticket_id, target_id=comment.id)
        self.assertTrue(wizard.public_allowed)
        self.assertFalse(wizard.private_allowed)
        self.assertIn("Private replies were possible until", wizard.window_info)
        self.assertFalse(wizard.send_blocked, "a public reply goes")

    def test_canned_responses_of_the_channel_with_variables(self):
        target = self.x_ticket()
        ticket = target.ticket_id
        wizard = self.compose(ticket)
        by_shortcut = {r["shortcut"]: r for r in wizard.canned_responses}
        self.assertEqual(set(by_shortcut), {"dm", "onit", "article"})
        self.assertEqual(
            by_shortcut["onit"]["text"],
            f"Thanks {ticket.partner_id.name}, we're on it! I'm looking into your "
            f"request ({ticket.number}) and will get back to you shortly. Ana Agent",
        )
        # "Send us a DM" is a public answer only.
        wizard.kind = "private"
        self.assertNotIn("dm", {r["shortcut"] for r in wizard.canned_responses})
        # "Send us a DM" is not offered in a DM conversation.
        dm = demo_item("hi", kind="private", channel="messenger", conversation="d1")
        self.deliver(dm)
        shortcuts = {
            r["shortcut"]
            for r in self.compose(self.message_of(dm).ticket_id).canned_responses
        }
        self.assertEqual(shortcuts, {"onit", "article"})

    def test_canned_responses_per_company(self):
        Canned = self.env["social.canned.response"]
        company_b = self.env["res.company"].create({"name": "Company B (canned)"})
        Canned.create(
            {
                "name": "B only",
                "shortcut": "bonly",
                "body": "B",
                "company_id": company_b.id,
            }
        )
        Canned.create({"name": "Ours", "shortcut": "ours", "body": "Ours"})
        item = demo_item("help", author="u-canned")
        self.deliver(item)
        wizard = self.compose(self.message_of(item).ticket_id)
        shortcuts = {r["shortcut"] for r in wizard.canned_responses}
        self.assertIn("ours", shortcuts)
        self.assertNotIn("bonly", shortcuts)

    def test_the_chatter_line_is_in_the_agents_language(self):
        """Written once, in the language of the agent who queued the reply,
        as Odoo writes its notes: the send job, in another language, keeps
        it in the agent's."""
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["social_helpdesk"], ["es_ES"], overwrite=True
        )
        self.agent.lang = "es_ES"
        item = demo_item("my parcel", author="u-lang", handle="lang")
        self.deliver(item)
        wizard = self.compose(self.message_of(item).ticket_id, text="@lang Hoy sale.")
        wizard.action_send()
        reply = self.message_of(item).ticket_id.social_reply_ids
        self.assertIn("Respuesta pública en X", str(reply.mail_message_id.body))
        self.env["social.reply"].with_context(lang="en_US")._cron_send()
        self.assertEqual(reply.state, "sent")
        body = str(reply.mail_message_id.body)
        self.assertIn("Respuesta pública en X", body)
        self.assertNotIn("Public reply", body)

    # -- an image with the reply, where the network takes one ---------------

    def x_target(self):
        fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(fake.stop)
        fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz")
        account = x_account(self.env, fake, self.team)
        fake.add_mention(CUSTOMER_ID, "my grinder is broken")
        account._poll()
        self.Event._cron_process()
        return fake, self.env["social.message"].search(
            [("account_id", "=", account.id)]
        )

    def test_the_image_field_shows_where_the_network_takes_one(self):
        _fake, target = self.x_target()
        wizard = self.compose(target.ticket_id)
        self.assertTrue(wizard.image_allowed)
        self.assertEqual(wizard.image_info, "JPEG, PNG, GIF or WEBP, up to 5 MB")
        wizard.kind = "private"
        self.assertTrue(wizard.image_allowed, "X DMs take an image too")
        comment, dm = self.meta_messages()
        wizard = self.compose(comment.ticket_id, target_id=comment.id)
        self.assertEqual(wizard.kind, "public")
        self.assertTrue(wizard.image_allowed, "a Facebook comment reply")
        self.assertEqual(wizard.image_info, "JPEG, PNG, GIF or WEBP, up to 8 MB")
        wizard.image, wizard.image_name = base64.b64encode(PNG), "a.png"
        wizard.kind = "private"
        self.assertFalse(wizard.image_allowed, "a private reply to a comment")
        self.assertFalse(wizard.image, "the image chosen for the comment is dropped")
        wizard = self.compose(dm.ticket_id, target_id=dm.id)
        self.assertTrue(wizard.image_allowed, "a Messenger message")
        demo = demo_item("Where is my parcel?", author="u-77", handle="ana")
        self.deliver(demo)
        wizard = self.compose(self.message_of(demo).ticket_id)
        self.assertFalse(wizard.image_allowed, "the demo network is text only")

    def test_an_agent_sends_an_x_reply_with_an_image(self):
        fake, target = self.x_target()
        wizard = self.compose(target.ticket_id)
        wizard.text = "@maria_r Here is the fix"
        wizard.image, wizard.image_name = base64.b64encode(PNG), "fix.png"
        wizard.action_send()
        reply = target.ticket_id.social_reply_ids
        self.assertEqual(reply.image_id.mimetype, "image/png")
        self.assertEqual(reply.image_id.raw, PNG)
        # The agent reads the image as they read the reply, in the chatter.
        image = reply.image_id.with_user(self.agent)
        self.assertEqual(image.raw, PNG)
        self.assertEqual(reply.mail_message_id.attachment_ids, reply.image_id)
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent", reply.error)
        [upload] = fake.requests_to(MEDIA_UPLOAD)
        self.assertEqual(upload.form["media_category"], "tweet_image")
        self.assertEqual(upload.files["media"], ("fix.png", "image/png", PNG))
        [post] = fake.requests_to(CREATE_POST)
        [media_id] = fake.uploads
        self.assertEqual(post.json["media"], {"media_ids": [media_id]})
        self.assertEqual(post.json["reply"]["in_reply_to_tweet_id"], target.external_id)

    def test_the_server_refuses_what_is_not_a_small_image(self):
        _fake, target = self.x_target()
        wizard = self.compose(target.ticket_id)
        wizard.text = "@maria_r See attached"
        wizard.image, wizard.image_name = base64.b64encode(b"%PDF-1.7 ..."), "a.png"
        with self.assertRaisesRegex(UserError, "Only a JPEG, PNG, GIF or WEBP"):
            wizard.action_send()
        big = PNG + b"\x00" * (5 * 2**20)
        wizard.image = base64.b64encode(big)
        with self.assertRaisesRegex(UserError, "5.0 MB; X allows 5 MB"):
            wizard.action_send()
        self.assertFalse(target.ticket_id.social_reply_ids)
