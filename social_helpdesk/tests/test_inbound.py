# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields

from .common import SocialCase, demo_item


class TestInbound(SocialCase):
    def test_message_becomes_ticket_on_new_partner(self):
        item = demo_item("My order #42 never arrived", author="u-10", name="Ana Gil")
        self.deliver(item)
        message = self.message_of(item)
        ticket = message.ticket_id
        self.assertEqual(ticket.partner_id.name, "Ana Gil")
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.channel_id, self.env.ref("social_helpdesk.channel_x"))
        self.assertEqual(ticket.social_account_id, self.account)
        self.assertEqual(ticket.social_kind, "public")
        self.assertEqual(ticket.social_author_handle, "u_10")
        self.assertIn("never arrived", ticket.name)
        self.assertEqual(message.mail_message_id.author_id, ticket.partner_id)
        self.assertEqual(message.mail_message_id.message_type, "comment")
        # The customer's message, after the system's creation note (see
        # test_ticket_ui); the cron's user does not follow the ticket.
        self.assertEqual(
            message.mail_message_id.subtype_id, self.env.ref("mail.mt_comment")
        )
        self.assertEqual(
            ticket.message_ids.mapped("subtype_id"),
            self.env.ref("mail.mt_comment")
            | self.env.ref("helpdesk_mgmt.hlp_tck_created"),
        )
        self.assertFalse(ticket.message_partner_ids - ticket.partner_id)
        self.assertEqual(message.identity_id.partner_id, ticket.partner_id)
        again = demo_item("Any news?", author="u-10", message_id=None)
        self.deliver(again)
        self.assertEqual(self.message_of(again).ticket_id, ticket)
        self.assertEqual(
            self.message_of(again).mail_message_id.subtype_id,
            self.env.ref("mail.mt_comment"),
        )

    def test_a_demo_ticket_is_dated_from_an_old_message_only(self):
        """The demo dates a ticket from a message of hours ago; seconds in the
        queue leave the ticket's own date (its SLA is not made twice)."""
        recent = dict(demo_item("Just now", author="u-31"), minutes_ago=0.5)
        old = dict(
            demo_item("Two hours ago", author="u-32", conversation="c-32"),
            minutes_ago=120,
        )
        # Tickets dated by the wall clock, not the test's transaction.
        with patch.object(self.env.cr, "now", fields.Datetime.now):
            self.deliver(recent, old)
        recent, old = self.message_of(recent), self.message_of(old)
        self.assertEqual(old.ticket_id.create_date, old.message_date)
        self.assertGreater(recent.ticket_id.create_date, recent.message_date)

    def test_duplicate_delivery_gives_one_message(self):
        item = demo_item("Charged twice!")
        self.assertEqual(self.store(item), 1)
        self.assertEqual(self.store(item, item), 0)
        self.Event._cron_process()
        message = self.message_of(item)
        self.assertEqual(len(message), 1)
        comments = message.ticket_id.message_ids.filtered(
            lambda m: m.message_type == "comment"
        )
        self.assertEqual(len(comments), 1)

    def test_thread_continues_in_its_ticket_per_customer(self):
        first = demo_item("The app crashes", author="u-1", conversation="conv-9")
        again = demo_item(
            "Still crashing", author="u-1", conversation="conv-9", parent=first["id"]
        )
        other = demo_item(
            "Me too", author="u-2", conversation="conv-9", parent=first["id"]
        )
        self.deliver(first, again, other)
        ticket = self.message_of(first).ticket_id
        self.assertEqual(self.message_of(again).ticket_id, ticket)
        self.assertEqual(self.message_of(again).parent_id, self.message_of(first))
        self.assertEqual(len(ticket.social_message_ids), 2)
        other_ticket = self.message_of(other).ticket_id
        self.assertNotEqual(other_ticket, ticket, "another customer, another case")
        self.assertEqual(self.message_of(other).parent_external_id, first["id"])

    def test_one_batch_keeps_each_customers_order(self):
        """One claimed batch, filed in waves: a customer's messages land in
        their ticket in the order they were written, and an answer finds its
        parent even when both arrived in the same batch."""
        a1 = demo_item("first from a", author="ord-a", conversation="ord")
        b1 = demo_item("question from b", author="ord-b", conversation="ord-b")
        a2 = demo_item("second from a", author="ord-a", conversation="ord")
        c1 = demo_item(
            "c answers a", author="ord-c", conversation="ord", parent=a1["id"]
        )
        a3 = demo_item("third from a", author="ord-a", conversation="ord")
        self.deliver(a1, b1, a2, c1, a3)
        ticket = self.message_of(a1).ticket_id
        posts = ticket.message_ids.filtered(
            lambda post: post.author_id == ticket.partner_id
        ).sorted("id")
        self.assertEqual(
            [post.body.striptags().split("ord_a")[-1].strip() for post in posts],
            ["first from a", "second from a", "third from a"],
        )
        self.assertEqual(
            ticket.social_message_ids.sorted("id").mapped("text"),
            ["first from a", "second from a", "third from a"],
        )
        self.assertEqual(self.message_of(c1).parent_id, self.message_of(a1))
        tickets = (self.message_of(b1) | self.message_of(c1)).ticket_id
        self.assertEqual(len(tickets | ticket), 3, "a ticket per customer")
        events = self.Event.search([("account_id", "=", self.account.id)])
        self.assertEqual(set(events.mapped("state")), {"done"})

    def test_dm_thread_is_one_ticket(self):
        first = demo_item("Hi", kind="private", conversation="dm-a", author="u-3")
        second = demo_item(
            "Are you there?", kind="private", conversation="dm-a", author="u-3"
        )
        self.deliver(first, second)
        ticket = self.message_of(first).ticket_id
        self.assertEqual(self.message_of(second).ticket_id, ticket)
        self.assertEqual(ticket.social_kind, "private")
        self.assertEqual(ticket.social_thread_key, "x:dm:dm-a")

    def test_closed_ticket_reopens_within_window(self):
        first = demo_item("Broken lid", author="u-4")
        self.deliver(first)
        ticket = self.message_of(first).ticket_id
        ticket.stage_id = self.done_stage
        self.assertTrue(ticket.closed)
        self.deliver(demo_item("It broke again", author="u-4"))
        self.assertFalse(ticket.closed)
        self.assertEqual(ticket.reopen_count, 1)
        self.assertEqual(len(ticket.social_message_ids), 2)

    def test_closed_ticket_past_window_opens_new_one(self):
        first = demo_item("Broken lid", author="u-5")
        self.deliver(first)
        ticket = self.message_of(first).ticket_id
        ticket.stage_id = self.done_stage
        ticket.closed_date = fields.Datetime.now() - timedelta(days=8)
        later = demo_item("Broken again", author="u-5")
        self.deliver(later)
        new_ticket = self.message_of(later).ticket_id
        self.assertNotEqual(new_ticket, ticket)
        self.assertEqual(new_ticket.social_previous_ticket_id, ticket)
        self.assertTrue(ticket.closed)
        self.assertEqual(new_ticket.partner_id, ticket.partner_id)

    def test_own_posts_are_stored_as_ignored(self):
        own = demo_item("Thanks for writing!", author="brand-0")
        self.deliver(own)
        event = self.event_of(own)
        self.assertEqual(event.state, "ignored")
        self.assertIn("account itself", event.ignore_reason)
        self.assertFalse(self.message_of(own))

    def test_blocked_identity_is_ignored(self):
        first = demo_item("spam spam", author="u-spam")
        self.deliver(first)
        self.message_of(first).identity_id.blocked = True
        second = demo_item("more spam", author="u-spam")
        self.deliver(second)
        event = self.event_of(second)
        self.assertEqual(event.state, "ignored")
        self.assertFalse(self.message_of(second))

    def test_hostile_text_and_names_render_escaped(self):
        item = demo_item(
            "<b>hola</b> <script>alert(1)</script> see https://example.com/a?b=1",
            name="Tom <img src=x onerror=alert(1)>",
        )
        self.deliver(item)
        message = self.message_of(item)
        body = str(message.mail_message_id.body)
        self.assertNotIn("<script", body)
        self.assertNotIn("<b>", body)
        self.assertIn("&lt;script&gt;", body)
        self.assertIn('href="https://example.com/a?b=1"', body)
        description = str(message.ticket_id.description)
        self.assertNotIn("<script", description)
        self.assertEqual(
            message.ticket_id.partner_id.name, "Tom <img src=x onerror=alert(1)>"
        )

    def test_odd_unicode_survives(self):
        text = "Ñandú ☕ 🇪🇸 \u200b zero-width, RTL \u202e txet, 日本語"
        item = demo_item(text)
        self.deliver(item)
        self.assertEqual(self.message_of(item).text, text)

    def test_meta_channels_file_under_their_own_channel(self):
        item = demo_item("Hola", channel="messenger", kind="private", conversation="p")
        self.deliver(item)
        self.assertEqual(
            self.message_of(item).ticket_id.channel_id,
            self.env.ref("social_helpdesk.channel_messenger"),
        )
