# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SocialCase, demo_item, first_run_fails
from .fakes.fake_x import CREATE_POST, MEDIA_UPLOAD, SEND_DM, FakeXServer

BRAND_ID = "1111111111111111111"
CUSTOMER_ID = "2222222222222222222"
HELD_ANSWER_SECONDS = 10.5


def x_account(env, fake, team):
    """A connected X account of the brand, on ``fake`` (a FakeXServer)."""
    return env["social.account"].create(
        {
            "name": "X",
            "network": "x",
            "state": "connected",
            "team_id": team.id,
            "x_user_id": BRAND_ID,
            "x_username": "CafeBrand",
            "x_api_key": "k",
            "x_api_secret": "s",
            "x_access_token": "t",
            "x_access_token_secret": "ts",
            "api_base_url": fake.base_url,
        }
    )


@tagged("post_install", "-at_install")
class TestRepliesDemo(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env, "reply_agent", groups="helpdesk_mgmt.group_helpdesk_user"
        )

    def compose(self, ticket, **values):
        return (
            self.env["social.reply.wizard"]
            .with_user(self.agent)
            .create(dict(values, ticket_id=ticket.id))
        )

    def test_public_reply_is_published_and_linked(self):
        item = demo_item("Where is my parcel?", author="u-50", handle="ana")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        wizard = self.compose(ticket)
        self.assertEqual(wizard.target_id, self.message_of(item))
        self.assertEqual(wizard.kind, "public")
        self.assertEqual(wizard.text, "@ana ")
        wizard.text = "@ana It left our warehouse today."
        self.assertEqual(wizard.char_count, "33 / 280")
        wizard.action_send()
        reply = ticket.social_reply_ids
        self.assertEqual(reply.state, "queued", "sent by the job, not the request")
        self.assertIn("Queued", str(reply.mail_message_id.body))
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent")
        self.assertTrue(reply.external_id.startswith("demo-reply-"))
        self.assertEqual(reply.user_id, self.agent)
        body = str(reply.mail_message_id.body)
        self.assertIn("It left our warehouse today.", body)
        self.assertIn("Published", body)
        self.assertEqual(reply.mail_message_id.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(ticket.first_response_date, reply.sent_date)

    def test_private_reply_on_a_dm(self):
        item = demo_item("DM: my address changed", kind="private", conversation="dm-9")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        wizard = self.compose(ticket)
        self.assertEqual(wizard.kind, "private")
        self.assertEqual(wizard.text, "", "no @handle in a private message")
        wizard.text = "Thanks, updated."
        wizard.action_send()
        self.env["social.reply"]._cron_send()
        self.assertEqual(ticket.social_reply_ids.state, "sent")
        self.assertIn(
            "Private message", str(ticket.social_reply_ids.mail_message_id.body)
        )

    def test_social_reply_is_not_emailed_to_the_customer(self):
        """The reply goes out on the network only; an email answer from the
        chatter still reaches the customer by email."""
        item = demo_item("Where is my parcel?", author="u-53", handle="eve")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        customer = ticket.partner_id
        customer.email = "eve@example.com"
        ticket.message_subscribe(partner_ids=customer.ids)
        wizard = self.compose(ticket, text="@eve It left today.")
        wizard.action_send()
        self.env["social.reply"]._cron_send()
        reply = ticket.social_reply_ids
        self.assertEqual(reply.state, "sent")
        Notification = self.env["mail.notification"].sudo()
        Mail = self.env["mail.mail"].sudo()
        self.assertFalse(
            Notification.search([("res_partner_id", "=", customer.id)]),
            "the customer got it on the network",
        )
        self.assertFalse(Mail.search([("recipient_ids", "in", customer.ids)]))

        email = ticket.with_user(self.agent).message_post(
            body="Here is your invoice.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertTrue(
            Notification.search(
                [
                    ("res_partner_id", "=", customer.id),
                    ("mail_message_id", "=", email.id),
                    ("notification_type", "=", "email"),
                ]
            )
        )

    def test_an_agent_without_an_email_address_can_answer(self):
        """The reply's chatter entry is logged, not mailed: it needs no
        sender address (found in the browser: "configure the sender's email
        address")."""
        item = demo_item("Any news?", author="u-54", handle="zoe")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        agent = new_test_user(
            self.env,
            "reply_agent_no_email",
            groups="helpdesk_mgmt.group_helpdesk_user",
            email=False,
        )
        self.assertFalse(agent.email)
        self.env["social.reply.wizard"].with_user(agent).create(
            {"ticket_id": ticket.id, "text": "@zoe Tomorrow."}
        ).action_send()
        reply = ticket.social_reply_ids
        self.assertEqual(reply.mail_message_id.author_id, agent.partner_id)
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent")

    def test_right_to_left_text_reads_in_its_own_direction(self):
        """Arabic and Hebrew text is laid out by its own first letter, and
        stays escaped."""
        arabic = "أين طلبي؟ <b>عاجل</b>"
        item = demo_item(arabic, author="u-54", kind="private", conversation="dm-54")
        self.deliver(item)
        message = self.message_of(item)
        ticket = message.ticket_id
        hebrew = "ההזמנה נשלחה היום <script>alert(1)</script>"
        wizard = self.compose(ticket, text=hebrew)
        wizard.action_send()
        reply = ticket.social_reply_ids
        for html, text in (
            (str(message.mail_message_id.body), "أين طلبي؟ &lt;b&gt;عاجل&lt;/b&gt;"),
            (str(ticket.description), "أين طلبي؟ &lt;b&gt;عاجل&lt;/b&gt;"),
            (str(reply.mail_message_id.body), "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ):
            self.assertIn('<div dir="auto">', html)
            self.assertIn(text, html)
            self.assertNotIn("<script>", html)
            self.assertNotIn("<b>", html)

    def test_guards_refuse_before_queueing(self):
        item = demo_item("help", author="u-51")
        self.deliver(item)
        target = self.message_of(item)
        Reply = self.env["social.reply"].with_user(self.agent)
        with self.assertRaisesRegex(UserError, "empty"):
            Reply._queue(target, "public", "   ")
        with self.assertRaisesRegex(UserError, "281 characters long"):
            Reply._queue(target, "public", "x" * 281)
        dm = demo_item("dm", kind="private", conversation="dm-51", author="u-51")
        self.deliver(dm)
        with self.assertRaisesRegex(UserError, "send a private message"):
            Reply._queue(self.message_of(dm), "public", "hello")
        self.account.rate_limited_until = fields.Datetime.now() + timedelta(hours=1)
        with self.assertRaisesRegex(UserError, "rate-limits"):
            Reply._queue(target, "public", "hello")
        self.account.write({"state": "error", "last_error": "Token revoked"})
        with self.assertRaisesRegex(UserError, "Token revoked"):
            Reply._queue(target, "public", "hello")
        self.assertFalse(
            self.env["social.reply"].search([("target_id", "=", target.id)])
        )
        portal = new_test_user(self.env, "reply_portal", groups="base.group_portal")
        with self.assertRaisesRegex(AccessError, "not allowed to answer customers"):
            self.env["social.reply"].with_user(portal)._queue(target, "public", "hi")


@tagged("post_install", "-at_install")
class TestFirstResponse(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env, "fr_agent", groups="helpdesk_mgmt.group_helpdesk_user"
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Email customer", "email": "customer@example.com"}
        )

    def ticket(self, channel):
        return self.env["helpdesk.ticket"].create(
            {
                "name": f"{channel} question",
                "description": "<p>Hello</p>",
                "partner_id": self.customer.id,
                "channel_id": self.env["helpdesk.ticket.channel"]
                ._get_by_code(channel)
                .id,
                "team_id": self.team.id,
            }
        )

    def test_email_reply_sets_it_and_internal_note_does_not(self):
        ticket = self.ticket("email").with_user(self.agent)
        ticket.message_post(
            body="Customer's follow-up",
            author_id=self.customer.id,
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        ticket.message_post(
            body="Looking into it", subtype_xmlid="mail.mt_note", message_type="comment"
        )
        self.assertFalse(ticket.first_response_date)
        message = ticket.message_post(
            body="We refunded you.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(ticket.first_response_date, message.date)
        ticket.message_post(
            body="Anything else?",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(ticket.first_response_date, message.date, "the first stays")

    def test_phone_action_and_logged_call_set_it(self):
        ticket = self.ticket("phone").with_user(self.agent)
        ticket.action_responded_by_phone()
        self.assertTrue(ticket.first_response_date)
        other = self.ticket("phone")
        activity = other.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.agent.id
        )
        activity.with_user(self.agent).action_feedback(feedback="Called back")
        self.assertTrue(other.first_response_date)

    def test_social_reply_counts_only_when_published(self):
        item = demo_item("hi", author="u-60")
        self.deliver(item)
        target = self.message_of(item)
        reply = (
            self.env["social.reply"]
            .with_user(self.agent)
            ._queue(target, "public", "@u_60 hello")
        )
        self.assertFalse(target.ticket_id.first_response_date)
        reply.sudo()._deliver()
        self.assertEqual(target.ticket_id.first_response_date, reply.sent_date)


@tagged("post_install", "-at_install")
class TestRepliesX(SocialCase):
    """Delivery against the fake X API: failures, retries, idempotency.
    The API timeout is 1 s, but Odoo's test runner raises every HTTP timeout
    to 10 s, so the fake holds its answers a little longer than that."""

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(self.fake.stop)
        self.fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz")
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.api_timeout_seconds", "1"
        )
        self.x_account = x_account(self.env, self.fake, self.team)
        mention = self.fake.add_mention(CUSTOMER_ID, "my grinder is broken")
        self.x_account._poll()
        self.Event._cron_process()
        self.target = self.env["social.message"].search(
            [
                ("account_id", "=", self.x_account.id),
                ("external_id", "=", mention["id"]),
            ]
        )
        self.mention = mention

    def run_due(self, reply):
        reply.next_attempt_date = fields.Datetime.now() - timedelta(hours=1)
        self.env["social.reply"]._cron_send()

    def brand_replies(self):
        return [p for p in self.fake.posts_by(BRAND_ID)]

    def test_public_reply_is_published_on_x(self):
        reply = self.env["social.reply"]._queue(
            self.target, "public", "@maria_r On it!"
        )
        reply._deliver()
        self.assertEqual(reply.state, "sent")
        [post] = self.brand_replies()
        self.assertEqual(reply.external_id, post["id"])
        self.assertEqual(reply.url, f"https://x.com/CafeBrand/status/{post['id']}")
        self.assertIn(reply.url, str(reply.mail_message_id.body))

    def test_timeout_after_publishing_never_double_posts(self):
        self.fake.publish_then_time_out_next(CREATE_POST, HELD_ANSWER_SECONDS)
        reply = self.env["social.reply"]._queue(
            self.target, "public", "@maria_r Sorry!"
        )
        reply._deliver()
        self.assertEqual(reply.state, "queued")
        self.assertTrue(reply.may_be_published)
        self.run_due(reply)
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.brand_replies()), 1, "published exactly once")
        self.assertEqual(reply.external_id, self.brand_replies()[0]["id"])

    def test_server_errors_are_retried_then_fail_with_retry(self):
        self.fake.fail_next(CREATE_POST, status=500, times=5)
        reply = self.env["social.reply"]._queue(self.target, "public", "@maria_r Hi")
        reply._deliver()
        self.assertEqual((reply.state, reply.attempts), ("queued", 1))
        for _attempt in range(4):
            self.run_due(reply)
        self.assertEqual((reply.state, reply.attempts), ("failed", 5))
        self.assertIn("Failed", str(reply.mail_message_id.body))
        self.assertFalse(self.brand_replies())
        reply.action_retry()
        self.run_due(reply)
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.brand_replies()), 1)

    def test_rate_limit_waits_for_the_reset(self):
        reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=9)
        self.fake.rate_limit_next(CREATE_POST, reset_at=int(reset.timestamp()))
        reply = self.env["social.reply"]._queue(self.target, "public", "@maria_r Hi")
        reply._deliver()
        self.assertEqual(reply.state, "queued")
        self.assertEqual(reply.next_attempt_date, reset.replace(tzinfo=None))

    def test_an_old_identical_dm_is_not_taken_for_the_reply(self):
        """After a timeout, only a DM sent since the first attempt can be the
        reply: an identical answer from 20 days ago is another message."""
        now = datetime.now(timezone.utc)
        dm = self.fake.add_dm(
            CUSTOMER_ID, "Where is my refund?", created_at=now - timedelta(days=21)
        )
        self.x_account._poll()
        self.Event._cron_process()
        target = self.env["social.message"].search(
            [("account_id", "=", self.x_account.id), ("external_id", "=", dm["id"])]
        )
        self.assertTrue(target.ticket_id)
        old_answer = self.fake.add_dm(
            BRAND_ID,
            "Refund issued.",
            recipient_id=CUSTOMER_ID,
            created_at=now - timedelta(days=20),
        )
        self.fake.time_out_next(SEND_DM, HELD_ANSWER_SECONDS)
        reply = self.env["social.reply"]._queue(target, "private", "Refund issued.")
        reply._deliver()
        self.assertEqual((reply.state, reply.may_be_published), ("queued", True))
        self.run_due(reply)
        self.assertEqual(reply.state, "sent")
        self.assertNotEqual(reply.external_id, old_answer["id"], "not the old DM")
        self.assertEqual(len(self.fake.requests_to(SEND_DM)), 2, "sent after all")
        self.assertEqual(reply.external_id, self.fake.dm_events[-1]["id"])

    def test_an_image_reply_timing_out_is_published_once(self):
        """The post carries the uploaded media; X appends the media's link to
        its text, and the check after a timeout still recognises it. The
        upload may be repeated, the post never."""
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        self.fake.publish_then_time_out_next(CREATE_POST, HELD_ANSWER_SECONDS)
        reply = self.env["social.reply"]._queue(
            self.target, "public", "@maria_r The manual", image=(png, "manual.png")
        )
        reply._deliver()
        self.assertEqual((reply.state, reply.may_be_published), ("queued", True))
        self.run_due(reply)
        self.assertEqual(reply.state, "sent", reply.error)
        [post] = self.brand_replies()
        self.assertEqual(reply.external_id, post["id"])
        [upload] = self.fake.requests_to(MEDIA_UPLOAD)
        self.assertEqual(upload.files["media"][2], png)
        [media_id] = self.fake.uploads
        [create] = self.fake.requests_to(CREATE_POST)
        self.assertEqual(create.json["media"], {"media_ids": [media_id]})

    def test_a_dm_with_an_image(self):
        dm = self.fake.add_dm(CUSTOMER_ID, "Which cable?")
        self.x_account._poll()
        self.Event._cron_process()
        target = self.env["social.message"].search(
            [("account_id", "=", self.x_account.id), ("external_id", "=", dm["id"])]
        )
        gif = b"GIF89a" + b"\x00" * 32
        reply = self.env["social.reply"]._queue(
            target, "private", "This one", image=(gif, "cable.gif")
        )
        reply._deliver()
        self.assertEqual(reply.state, "sent", reply.error)
        [upload] = self.fake.requests_to(MEDIA_UPLOAD)
        self.assertEqual(upload.form["media_category"], "dm_image")
        self.assertEqual(upload.files["media"], ("cable.gif", "image/gif", gif))
        [media_id] = self.fake.uploads
        [send] = self.fake.requests_to(SEND_DM)
        self.assertEqual(send.json["attachments"], [{"media_id": media_id}])

    def test_plain_timeout_is_retried_and_published_once(self):
        self.fake.time_out_next(CREATE_POST, HELD_ANSWER_SECONDS)
        reply = self.env["social.reply"]._queue(self.target, "public", "@maria_r Hi!")
        reply._deliver()
        self.assertEqual(reply.state, "queued")
        self.run_due(reply)
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.brand_replies()), 1)


@tagged("post_install", "-at_install")
class TestComposerRequestRetried(HttpCase):
    """Odoo runs a JSON-RPC request again after a serialization failure: the
    composer's request must publish nothing itself, or each run would."""

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(self.fake.stop)
        self.fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz")
        team = self.env["helpdesk.ticket.team"].create({"name": "Retried care"})
        account = x_account(self.env, self.fake, team)
        mention = self.fake.add_mention(CUSTOMER_ID, "my grinder is broken")
        account._poll()
        self.env["social.event"]._cron_process()
        self.ticket = (
            self.env["social.message"]
            .search([("external_id", "=", mention["id"])])
            .ticket_id
        )
        self.agent = new_test_user(
            self.env,
            "retried_agent",
            groups="helpdesk_mgmt.group_helpdesk_manager",
            notification_type="inbox",
        )

    def test_retried_request_publishes_once(self):
        wizard = (
            self.env["social.reply.wizard"]
            .with_user(self.agent)
            .create({"ticket_id": self.ticket.id, "text": "@maria_r On it!"})
        )
        self.authenticate("retried_agent", "retried_agent")
        with first_run_fails(self.registry) as runs:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "social.reply.wizard",
                    "method": "action_send",
                    "args": [[wizard.id]],
                    "kwargs": {},
                },
            )
        self.assertEqual(len(runs), 2, "Odoo ran the request again")
        reply = self.ticket.social_reply_ids
        self.assertEqual(reply.state, "queued")
        self.assertIn("Queued", str(reply.mail_message_id.body))

        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.fake.requests_to(CREATE_POST)), 1)
        self.assertEqual(len(self.fake.posts_by(BRAND_ID)), 1, "published once")
        # The agent's open chatter shows it published, without a reload.
        self.env.cr.precommit.run()  # bus notifications are sent on commit
        self.assertTrue(
            self.env["bus.bus"].search(
                [
                    ("channel", "like", f'"res.partner",{self.agent.partner_id.id}]'),
                    ("message", "like", "Published"),
                ]
            )
        )
