# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Who wrote, and what they answer: customers' pictures stored once on their
contacts, and the brand's post a comment answers quoted above it; read from
fake X and Graph APIs and a fake CDN on loopback, by the media cron."""

import base64
import time
from datetime import datetime, timezone

from odoo.tests import TransactionCase, tagged

from .fakes.fake_meta import FakeMetaServer
from .fakes.fake_x import MENTIONS, POST_LOOKUP, FakeXServer
from .fakes.media_server import MediaServer

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)
BRAND_ID = "1111111111111111111"
PAGE_POST = "448242228374517_9001"


class ContextCase(TransactionCase):
    """A fake CDN for pictures, and the cron that downloads them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["social.event"]
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Context"})
        cls.cdn = MediaServer(
            {
                "/face.png": (PNG, "image/png"),
                "/face-as-html.png": (b"<html><script>1</script></html>", "image/png"),
                "/icon.svg": (b"<svg onload='alert(1)'/>", "image/svg+xml"),
                "/huge.png": (PNG + b"\0" * 5000, "image/png"),
                "/post.png": (PNG, "image/png"),
            }
        ).start()
        cls.addClassCleanup(cls.cdn.stop)

    def setUp(self):
        super().setUp()
        self.cdn.requests.clear()

    def run_cron(self):
        self.env["social.message"]._cron_fetch_media()

    def deliver(self, account, payload):
        events = account._get_adapter().split_delivery(payload)
        self.Event._store(account, events)
        self.Event._cron_process()


class MetaContextCase(ContextCase):
    """A page on a fake Graph API, its customers' DMs and comments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meta = FakeMetaServer().start()
        cls.addClassCleanup(cls.meta.stop)
        cls.account = cls.env["social.account"].create(
            {
                "name": "Acme page",
                "network": "meta",
                "state": "connected",
                "team_id": cls.team.id,
                "meta_page_id": cls.meta.page_id,
                "meta_page_access_token": cls.meta.access_token,
                "meta_app_secret": cls.meta.app_secret,
                "meta_verify_token": "fake-verify-token",
                "api_base_url": cls.meta.base_url,
            }
        )

    def setUp(self):
        super().setUp()
        self.meta.requests.clear()
        self.meta.posts.clear()

    def dm(self, sender, mid, text="Hello"):
        now_ms = int(time.time() * 1000)
        self.deliver(
            self.account,
            {
                "object": "page",
                "entry": [
                    {
                        "id": self.meta.page_id,
                        "time": now_ms,
                        "messaging": [
                            {
                                "sender": {"id": sender},
                                "recipient": {"id": self.meta.page_id},
                                "timestamp": now_ms,
                                "message": {"mid": mid, "text": text},
                            }
                        ],
                    }
                ],
            },
        )
        return self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("external_id", "=", mid)]
        )

    def profile_calls(self, user_id):
        return [r for r in self.meta.requests_to("GET node") if user_id in r.path]

    def comment(self, comment_id, author, text="Nice"):
        now = int(time.time())
        return {
            "object": "page",
            "entry": [
                {
                    "id": self.meta.page_id,
                    "time": now,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": comment_id,
                                "post_id": PAGE_POST,
                                "parent_id": PAGE_POST,
                                "from": author,
                                "message": text,
                                "created_time": now,
                            },
                        }
                    ],
                }
            ],
        }


@tagged("post_install", "-at_install")
class TestCustomerPictures(MetaContextCase):
    """A customer's picture, stored once on their contact."""

    def test_picture_stored_once_on_the_contact(self):
        """The profile API is asked once, by the cron, not while filing; the
        picture is the contact's, so the chatter shows it from Odoo."""
        self.meta.add_profile("7001", name="Ana", profile_pic=self.cdn.url("/face.png"))
        message = self.dm("7001", "m_a1")
        partner = message.partner_id
        self.assertFalse(self.profile_calls("7001"), "never in the filing step")
        self.assertFalse(partner.image_1920)
        self.run_cron()
        self.assertEqual(base64.b64decode(partner.image_1920)[:8], PNG[:8])
        self.assertEqual(message.mail_message_id.author_id, partner)
        self.assertFalse(message.identity_id.avatar_pending)
        self.dm("7001", "m_a2", "Still there?")
        self.run_cron()
        self.assertEqual(len(self.profile_calls("7001")), 1, "asked once")
        self.assertEqual(self.cdn.requests.count("/face.png"), 1, "downloaded once")

    def test_a_picture_someone_set_is_kept(self):
        self.meta.add_profile("7002", profile_pic=self.cdn.url("/post.png"))
        message = self.dm("7002", "m_b1")
        gif = base64.b64encode(
            base64.b64decode("R0lGODlhAQABAAAAACwAAAAAAQABAAACAkQBADs=")
        )
        message.partner_id.image_1920 = gif
        set_image = message.partner_id.image_1920
        self.run_cron()
        self.assertEqual(message.partner_id.image_1920, set_image)
        self.assertFalse(self.profile_calls("7002"), "no need to ask")

    def test_only_real_images_within_the_limit(self):
        """Content decides: markup or SVG served as a picture, or a file over
        social_helpdesk.avatar_max_bytes, never becomes an avatar."""
        self.env["ir.config_parameter"].set_param(
            "social_helpdesk.avatar_max_bytes", "1000"
        )
        for sender, path in (
            ("7003", "/face-as-html.png"),
            ("7004", "/icon.svg"),
            ("7005", "/huge.png"),
        ):
            self.meta.add_profile(sender, profile_pic=self.cdn.url(path))
        messages = [self.dm(sender, f"m_{sender}") for sender in ("7003", "7004")]
        messages.append(self.dm("7005", "m_7005"))
        self.run_cron()
        for message in messages:
            self.assertFalse(message.partner_id.image_1920)
            self.assertFalse(message.identity_id.avatar_pending, "not tried again")

    def test_failures_are_retried_a_few_times(self):
        self.meta.add_profile("7006", profile_pic=self.cdn.url("/gone.png"))
        identity = self.dm("7006", "m_c1").identity_id
        for _attempt in range(5):
            self.run_cron()
        self.assertFalse(identity.avatar_pending)
        self.assertEqual(identity.avatar_attempts, 3)
        self.assertEqual(self.cdn.requests.count("/gone.png"), 3)
        self.assertFalse(identity.partner_id.image_1920)

    def test_facebook_commenters_have_no_picture_to_ask_for(self):
        self.deliver(self.account, self.comment("9101_1", {"id": "7007", "name": "Bo"}))
        self.run_cron()
        self.assertFalse(self.profile_calls("7007"))


@tagged("post_install", "-at_install")
class TestQuotedPosts(MetaContextCase):
    """The brand's post a comment answers, above it in the chatter."""

    def test_comments_quote_the_page_post_read_once(self):
        self.meta.add_post(
            PAGE_POST,
            "Our <b>spring</b> menu <script>alert(1)</script>",
            datetime.now(timezone.utc),
            full_picture=self.cdn.url("/post.png"),
            permalink_url="https://www.facebook.com/acme/posts/9001",
        )
        self.deliver(self.account, self.comment("9001_1", {"id": "7101", "name": "A"}))
        self.deliver(self.account, self.comment("9001_2", {"id": "7102", "name": "B"}))
        first, second = self.env["social.message"].search(
            [("external_id", "in", ["9001_1", "9001_2"])], order="external_id"
        )
        self.assertEqual(first.parent_post_state, "lookup")
        self.assertNotEqual(first.ticket_id, second.ticket_id)
        self.run_cron()
        posts = [r for r in self.meta.requests_to("GET node") if PAGE_POST in r.path]
        self.assertEqual(len(posts), 1, "one read for the comments of a post")
        self.assertEqual(self.cdn.requests.count("/post.png"), 1)
        for message in (first, second):
            self.assertEqual(message.parent_post_state, "done")
            body = str(message.mail_message_id.body)
            self.assertIn('class="o_social_parent o_social_parent_post', body)
            self.assertIn("In reply to Acme page", body)
            self.assertIn("https://www.facebook.com/acme/posts/9001", body)
            self.assertIn("Our &lt;b&gt;spring&lt;/b&gt; menu", body)
            self.assertNotIn("<script>", body)
            self.assertLess(body.index("o_social_header"), body.index("Our &lt;b"))
            self.assertLess(body.index("Our &lt;b"), body.index("Nice"))
            image = message.parent_post_image_id
            self.assertIn(f'src="/web/image/{image.id}"', body)
            self.assertEqual(image.mimetype, "image/png")
            self.assertEqual(
                (image.res_model, image.res_id),
                ("helpdesk.ticket", message.ticket_id.id),
                "readable with the ticket",
            )
        self.assertNotEqual(first.parent_post_image_id, second.parent_post_image_id)
        # A later comment on the same post reads it from the earlier ones.
        self.deliver(self.account, self.comment("9001_3", {"id": "7103", "name": "C"}))
        self.run_cron()
        posts = [r for r in self.meta.requests_to("GET node") if PAGE_POST in r.path]
        self.assertEqual(len(posts), 1)
        third = self.env["social.message"].search([("external_id", "=", "9001_3")])
        self.assertIn("Our &lt;b&gt;spring", str(third.mail_message_id.body))

    def test_a_post_that_cannot_be_read_is_given_up(self):
        self.deliver(self.account, self.comment("9001_9", {"id": "7109", "name": "Z"}))
        message = self.env["social.message"].search([("external_id", "=", "9001_9")])
        for _attempt in range(5):
            self.run_cron()
        self.assertEqual(message.parent_post_state, "failed")
        self.assertEqual(message.parent_post_attempts, 3)
        self.assertNotIn("o_social_parent_post", str(message.mail_message_id.body))


@tagged("post_install", "-at_install")
class TestXContext(ContextCase):
    """X: pictures come with the users; the post a reply answers with the
    mentions, or from GET /2/tweets/:id for webhook deliveries, its read
    counted as X bills it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.account"].create(
            {
                "name": "Brand on X",
                "network": "x",
                "state": "connected",
                "team_id": cls.team.id,
                "x_api_key": "key",
                "x_api_secret": "secret",
                "x_access_token": "token",
                "x_access_token_secret": "token-secret",
                "x_user_id": BRAND_ID,
                "x_username": "CafeBrand",
            }
        )

    def setUp(self):
        super().setUp()
        self.fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(self.fake.stop)
        self.account.api_base_url = self.fake.base_url

    def reads(self):
        return set(
            self.env["social.api.read"]
            .search([("account_id", "=", self.account.id)])
            .mapped("resource_key")
        )

    def test_poll_quotes_the_brands_post_and_stores_the_picture(self):
        self.fake.add_user(
            "2001", "maria", "María", profile_image_url=self.cdn.url("/face.png")
        )
        brand = self.fake.add_post(
            BRAND_ID, "New <grinder> out", image_url=self.cdn.url("/post.png")
        )
        reply = self.fake.add_mention("2001", "mine is loud", reply_to=brand["id"])
        self.account._poll()
        self.Event._cron_process()
        message = self.env["social.message"].search([("external_id", "=", reply["id"])])
        self.assertEqual(message.parent_post_state, "download", "nothing to look up")
        self.assertIn(f"post:{brand['id']}", self.reads())
        self.run_cron()
        self.assertFalse(self.fake.requests_to(POST_LOOKUP))
        self.assertTrue(message.partner_id.image_1920)
        body = str(message.mail_message_id.body)
        self.assertIn("New &lt;grinder&gt; out", body)
        self.assertIn(f"/web/image/{message.parent_post_image_id.id}", body)
        self.assertEqual(len(self.fake.requests_to(MENTIONS)), 1)

    def test_webhook_reply_looks_the_post_up_once_metered(self):
        brand = self.fake.add_post(BRAND_ID, "Spring sale!")

        def reply(reply_id, user_id, screen_name):
            return {
                "for_user_id": BRAND_ID,
                "tweet_create_events": [
                    {
                        "created_at": "Thu May 10 17:41:57 +0000 2018",
                        "id_str": reply_id,
                        "text": "@CafeBrand is it online too?",
                        "in_reply_to_status_id_str": brand["id"],
                        "in_reply_to_user_id_str": BRAND_ID,
                        "user": {
                            "id_str": user_id,
                            "name": screen_name,
                            "screen_name": screen_name,
                            "profile_image_url_https": self.cdn.url("/face_normal.png"),
                        },
                    }
                ],
            }

        self.deliver(self.account, reply("1850000000000000001", "3001", "ana"))
        self.deliver(self.account, reply("1850000000000000002", "3002", "bo"))
        self.assertFalse(self.fake.requests_to(POST_LOOKUP), "not while filing")
        self.run_cron()
        self.assertEqual(len(self.fake.requests_to(POST_LOOKUP)), 1)
        self.assertIn(f"post:{brand['id']}", self.reads())
        for message in self.env["social.message"].search(
            [("account_id", "=", self.account.id)]
        ):
            self.assertIn("Spring sale!", str(message.mail_message_id.body))
            self.assertFalse(message.parent_post_image_id)
            # The picture at its original size: without X's "_normal".
            self.assertTrue(message.partner_id.image_1920)
        self.assertNotIn("/face_normal.png", self.cdn.requests)
