# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import base64
from datetime import datetime, timezone

from lxml import etree

from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..adapters.base import Attachment, Author
from ..adapters.base import SocialMessage as AdapterMessage
from .common import SocialCase, demo_item
from .fakes.media_server import MediaServer

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestTicketConversation(SocialCase):
    """What an agent reads on a social ticket: its title, its chatter, and
    whether the customer is waiting for us."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            "ui_agent",
            groups="helpdesk_mgmt.group_helpdesk_user",
            email="ui_agent@example.com",
        )
        cls.Ticket = cls.env["helpdesk.ticket"]

    def ticket_of(self, item):
        return self.message_of(item).ticket_id

    def compose(self, ticket, text):
        wizard = (
            self.env["social.reply.wizard"]
            .with_user(self.agent)
            .create({"ticket_id": ticket.id, "text": text})
        )
        wizard.action_send()

    # -- titles ------------------------------------------------------------
    def test_title_is_the_customers_words(self):
        """No "@handle: " before them, nor the @handles an X reply starts
        with; mentions inside the text stay."""
        reply = demo_item(
            "@cafebrand @other_user, my Fjord stopped heating. Thanks @cafebrand!",
            handle="sarah",
        )
        long = demo_item("word " * 40, author="u-long")
        mentions_only = demo_item("@cafebrand @support", author="u-empty", handle="ed")
        self.deliver(reply, long, mentions_only)
        self.assertEqual(
            self.ticket_of(reply).name, "my Fjord stopped heating. Thanks @cafebrand!"
        )
        title = self.ticket_of(long).name
        self.assertLessEqual(len(title), 80)
        self.assertTrue(title.startswith("word word") and title.endswith("…"), title)
        self.assertEqual(self.ticket_of(mentions_only).name, "Message from @ed on X")

    # -- chatter -----------------------------------------------------------
    def test_creation_note_is_the_systems_not_the_customers(self):
        """The customer's message is theirs alone; "Ticket created" is a
        system note, which still tells the team's followers."""
        follower = new_test_user(
            self.env,
            "ui_team_follower",
            groups="helpdesk_mgmt.group_helpdesk_user",
            notification_type="inbox",
        )
        self.team.message_subscribe(partner_ids=follower.partner_id.ids)
        item = demo_item("My order #42 never arrived", author="u-10", handle="ana")
        self.deliver(item)
        message = self.message_of(item)
        ticket = message.ticket_id
        created = self.env.ref("helpdesk_mgmt.hlp_tck_created")
        customer_post = message.mail_message_id
        self.assertEqual(customer_post.author_id, ticket.partner_id)
        self.assertEqual(customer_post.subtype_id, self.env.ref("mail.mt_comment"))
        note = ticket.message_ids.filtered(lambda post: post.subtype_id == created)
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(note.message_type, "notification")
        self.assertIn("@ana on X", str(note.body))
        self.assertLess(note.id, customer_post.id, "the note first, then the words")
        self.assertIn(follower.partner_id, note.notified_partner_ids)
        self.assertFalse(
            ticket.message_ids.filtered(
                lambda post: (
                    post.author_id == ticket.partner_id and post.subtype_id == created
                )
            )
        )
        self.deliver(demo_item("Any news?", author="u-10"))
        self.assertEqual(len(ticket.message_ids.filtered("subtype_id.internal")), 0)
        self.assertEqual(
            len(ticket.message_ids.filtered(lambda post: post.subtype_id == created)),
            1,
            "one creation note per ticket",
        )

    def test_creation_note_nobody_follows_reads_the_same(self):
        """Without followers to tell, the note is logged with the batch: the
        same entry as a posted one, notifying no one."""
        item = demo_item("My order #42 never arrived", author="u-11", handle="bea")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        created = self.env.ref("helpdesk_mgmt.hlp_tck_created")
        note = ticket.message_ids.filtered(lambda post: post.subtype_id == created)
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(note.message_type, "notification")
        self.assertFalse(note.is_internal)
        self.assertEqual(str(note.body), "<p>From a message by @bea on X.</p>")
        self.assertFalse(note.notified_partner_ids)
        self.assertLess(note.id, self.message_of(item).mail_message_id.id)

    def test_customer_message_shows_network_author_and_escaped_text(self):
        item = demo_item(
            "<b>hola</b> <script>alert(1)</script>",
            handle="<i>eve</i>",
            channel="instagram",
        )
        self.deliver(item)
        body = str(self.message_of(item).mail_message_id.body)
        self.assertIn(
            'class="fa fa-instagram o_social_icon o_social_icon_instagram"', body
        )
        self.assertIn("@&lt;i&gt;eve&lt;/i&gt;", body)
        self.assertIn("&lt;b&gt;hola&lt;/b&gt; &lt;script&gt;alert(1)", body)
        for live in ("<b>", "<script", "<i>"):
            self.assertNotIn(live, body)

    def test_rendering_links_only_web_addresses(self):
        """The original post, the author's profile and media are linked when
        they are http(s) addresses; anything else is shown as text or left
        out."""
        Message = self.env["social.message"]
        message = AdapterMessage(
            channel="x",
            kind="public",
            message_id="1",
            conversation_id="1",
            author=Author(
                external_id="9",
                handle="ana",
                profile_url="https://x.com/ana",
            ),
            text="look",
            url="https://x.com/ana/status/1",
            attachments=(
                Attachment(url="https://pbs.example/1.jpg", kind="image"),
                Attachment(url="javascript:alert(1)", kind="video"),
            ),
        )
        body = Message._render_inbound_body(message)
        self.assertIn('<a href="https://x.com/ana"', body)
        self.assertIn('href="https://x.com/ana/status/1"', body)
        self.assertIn(">View on X</a>", body)
        self.assertIn('href="https://pbs.example/1.jpg"', body)
        self.assertIn(">Image</a>", body)
        self.assertNotIn("javascript", body)
        hostile = AdapterMessage(
            channel="x",
            kind="public",
            message_id="2",
            conversation_id="2",
            author=Author(external_id="9", handle="ana", profile_url="javascript:x"),
            url='https://x.com/"><script>',
        )
        body = Message._render_inbound_body(hostile)
        self.assertNotIn("javascript", body)
        self.assertNotIn("<script>", body)
        self.assertIn("&lt;script&gt;", body)

    def test_a_comment_quotes_what_it_answers(self):
        """A customer's answer quotes the message it answers, whether theirs
        or ours, escaped."""
        first = demo_item("The lid <b>cracked</b>", author="u-20", handle="bo")
        self.deliver(first)
        ticket = self.ticket_of(first)
        self.compose(ticket, "@bo Sorry! A new lid is on its way.")
        self.env["social.reply"]._cron_send()
        reply = ticket.social_reply_ids
        self.assertEqual(reply.state, "sent")
        answer = demo_item(
            "Thanks, got the tracking number",
            author="u-20",
            handle="bo",
            parent=reply.external_id,
        )
        again = demo_item(
            "And the old one?", author="u-20", handle="bo", parent=first["id"]
        )
        self.deliver(answer)
        self.deliver(again)
        quoted_reply = str(self.message_of(answer).mail_message_id.body)
        self.assertIn('class="o_social_parent', quoted_reply)
        self.assertIn("In reply to Test demo account", quoted_reply)
        self.assertIn("A new lid is on its way.", quoted_reply)
        quoted_first = str(self.message_of(again).mail_message_id.body)
        self.assertIn("In reply to @bo", quoted_first)
        self.assertIn("The lid &lt;b&gt;cracked&lt;/b&gt;", quoted_first)
        self.assertNotIn("<b>", quoted_first)

    # -- waiting for us ------------------------------------------------------
    def test_waiting_since_follows_the_conversation(self):
        first = demo_item("Where is my parcel?", author="u-30", handle="cy")
        self.deliver(first)
        ticket = self.ticket_of(first)
        written = self.message_of(first).message_date
        self.assertEqual(ticket.social_waiting_since, written)
        self.assertEqual(ticket.social_last_customer_date, written)

        self.deliver(demo_item("Hello??", author="u-30"))
        self.assertEqual(ticket.social_waiting_since, written, "since the first one")
        latest = ticket.social_message_ids.sorted("id")[-1].message_date
        self.assertEqual(ticket.social_last_customer_date, latest)

        self.compose(ticket, "@cy Checking it now.")
        self.assertFalse(ticket.social_waiting_since, "answered once queued")
        self.assertEqual(ticket.social_last_customer_date, latest)

        follow_up = demo_item("Thanks, and the invoice?", author="u-30")
        self.deliver(follow_up)
        self.assertEqual(
            ticket.social_waiting_since, self.message_of(follow_up).message_date
        )

        # A reply that fails leaves the customer waiting.
        self.compose(ticket, "@cy Attached.")
        self.assertFalse(ticket.social_waiting_since)
        self.account.state = "error"
        self.env["social.reply"]._cron_send()
        self.env["social.reply"]._cron_send()
        failed = ticket.social_reply_ids.filtered(lambda reply: reply.state == "failed")
        self.assertEqual(len(failed), 2, ticket.social_reply_ids.mapped("error"))
        self.assertEqual(ticket.social_waiting_since, ticket.social_last_customer_date)

        # An email from the ticket answers too.
        ticket.with_user(self.agent).message_post(
            body="Your invoice is attached.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertFalse(ticket.social_waiting_since)

    def test_automatic_acknowledgement_is_no_answer(self):
        self.env["helpdesk.ticket.rule"].create(
            {
                "name": "Broken",
                "keywords": "broken",
                "ack_public_text": "Thanks {name}, we've sent you a DM.",
            }
        )
        item = demo_item("My grinder is broken", author="u-40")
        self.deliver(item)
        ticket = self.ticket_of(item)
        self.assertTrue(ticket.social_reply_ids.automatic)
        self.assertEqual(
            ticket.social_waiting_since, self.message_of(item).message_date
        )

    def test_reopened_ticket_waits_since_the_new_message(self):
        first = demo_item("Broken lid", author="u-41")
        self.deliver(first)
        ticket = self.ticket_of(first)
        ticket.stage_id = self.done_stage
        again = demo_item("It broke again", author="u-41")
        self.deliver(again)
        self.assertFalse(ticket.closed)
        self.assertEqual(
            ticket.social_waiting_since, self.message_of(again).message_date
        )

    # -- lists and search ----------------------------------------------------
    def search_filter(self, name):
        """A filter or group-by of the tickets' search view, as the user
        clicks it: its domain and context."""
        arch = self.Ticket.get_views([(False, "search")])["views"]["search"]["arch"]
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")[0]
        context = {"uid": self.env.uid}
        return (
            safe_eval(node.get("domain", "[]"), context),
            safe_eval(node.get("context", "{}"), context),
        )

    def test_network_filters_and_group_by_channel(self):
        items = {
            network: demo_item(f"Hello from {network}", channel=network, author=network)
            for network in ("x", "facebook", "messenger", "instagram")
        }
        self.deliver(*items.values())
        tickets = self.Ticket.browse()
        for network, item in items.items():
            ticket = self.ticket_of(item)
            tickets |= ticket
            self.assertEqual(ticket.social_network, network)
            domain, _context = self.search_filter(f"network_{network}")
            self.assertEqual(
                self.Ticket.search(domain + [("id", "in", tickets.ids)]), ticket
            )
        _domain, context = self.search_filter("group_channel")
        groups = self.Ticket._read_group(
            [("id", "in", tickets.ids)], [context["group_by"]], ["__count"]
        )
        self.assertEqual(
            {channel.code: count for channel, count in groups},
            dict.fromkeys(items, 1),
        )

    def test_customer_wrote_last_filter(self):
        waiting = demo_item("Still nothing?", author="u-50")
        answered = demo_item("Where is it?", author="u-51", handle="dee")
        closed = demo_item("Never mind", author="u-52")
        self.deliver(waiting, answered, closed)
        self.compose(self.ticket_of(answered), "@dee On its way.")
        self.ticket_of(closed).stage_id = self.done_stage
        domain, _context = self.search_filter("social_waiting")
        ours = (
            self.ticket_of(waiting) | self.ticket_of(answered) | self.ticket_of(closed)
        )
        self.assertEqual(
            self.Ticket.search(domain + [("id", "in", ours.ids)]),
            self.ticket_of(waiting),
        )
        self.assertLess(
            self.ticket_of(waiting).social_waiting_since,
            datetime.now(timezone.utc).replace(tzinfo=None),
        )


@tagged("post_install", "-at_install")
class TestIncomingMedia(SocialCase):
    """Customers' photos and files are downloaded once, after the message is
    filed, into the ticket: the chatter previews them from Odoo."""

    def ingest(self, attachments):
        """File a customer message carrying ``attachments`` through the
        processing step, as a parsed network event."""
        self.store(demo_item("see attached", author="u-media"))
        event = self.Event.search([("account_id", "=", self.account.id)], limit=1)
        message = AdapterMessage(
            channel="messenger",
            kind="private",
            message_id="m-media",
            conversation_id="dm-media",
            author=Author(external_id="u-media", name="Mia"),
            text="see attached",
            attachments=tuple(attachments),
        )
        return self.env["social.message"]._ingest([(event, message)])[0]

    def test_media_are_downloaded_into_the_ticket(self):
        self.env["ir.config_parameter"].set_param(
            "social_helpdesk.media_max_bytes", "1000"
        )
        files = {
            "/photo.png": (PNG, "image/jpeg"),
            "/page.html": (b"<script>alert(1)</script>", "text/html"),
            "/big.mp4": (b"0" * 2000, "video/mp4"),
        }
        with MediaServer(files) as cdn:
            message = self.ingest(
                [
                    Attachment(url=cdn.url("/photo.png"), kind="image"),
                    Attachment(url=cdn.url("/page.html"), kind="file"),
                    Attachment(url=cdn.url("/big.mp4"), kind="video"),
                    Attachment(url=cdn.url("/gone.jpg"), kind="image"),
                    Attachment(url=cdn.url("/shared-link"), kind="link"),
                ]
            )
            self.assertTrue(message.media_pending)
            body = str(message.mail_message_id.body)
            self.assertIn(cdn.url("/big.mp4"), body, "listed at once, as links")
            self.env["social.message"]._cron_fetch_media()
            asked = list(cdn.requests)
        self.assertNotIn("/shared-link", asked, "a shared link is never fetched")
        self.assertFalse(message.media_pending)
        post = message.mail_message_id
        attachments = post.attachment_ids.sorted("name")
        self.assertEqual(attachments.mapped("name"), ["page.html", "photo.png"])
        self.assertEqual(
            attachments.mapped("mimetype"),
            ["text/plain", "image/png"],
            "the content decides; markup is never served as a page",
        )
        self.assertEqual(attachments.mapped("raw")[1], PNG)
        self.assertEqual(set(attachments.mapped("res_model")), {"helpdesk.ticket"})
        self.assertEqual(set(attachments.mapped("res_id")), {message.ticket_id.id})
        self.env["social.message"]._cron_fetch_media()
        self.assertEqual(len(post.attachment_ids), 2, "downloaded once")

    def test_a_message_without_media_waits_for_nothing(self):
        message = self.ingest([])
        self.assertFalse(message.media_pending)
        self.assertFalse(message.mail_message_id.attachment_ids)
