# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import SocialCase, demo_item

PRICE_QUESTION = "Does the price include shipping to Lisbon?"


@tagged("post_install", "-at_install")
class TestPublicThenPrivate(SocialCase):
    """A customer asked to "send us a DM" goes on in the same ticket."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env, "threads_agent", groups="helpdesk_mgmt.group_helpdesk_user"
        )

    def mention_then_dm(self, author, dm_conversation):
        mention = demo_item("@brand my order never came", author=author)
        self.deliver(mention)
        dm = demo_item(
            "Order 1234, as asked",
            author=author,
            kind="private",
            conversation=dm_conversation,
        )
        return mention, dm

    def test_dm_joins_the_open_public_ticket(self):
        mention, dm = self.mention_then_dm("u-300", "dm-300")
        ticket = self.message_of(mention).ticket_id
        answered = fields.Datetime.now() - timedelta(hours=1)
        ticket._set_first_response(answered)
        deadlines = (ticket.sla_first_response_deadline, ticket.sla_resolution_deadline)
        self.deliver(dm)
        self.assertEqual(self.message_of(dm).ticket_id, ticket)
        self.assertEqual(ticket.first_response_date, answered)
        self.assertEqual(
            (ticket.sla_first_response_deadline, ticket.sla_resolution_deadline),
            deadlines,
        )
        follow_up = demo_item(
            "Any news?", author="u-300", kind="private", conversation="dm-300"
        )
        self.deliver(follow_up)
        self.assertEqual(self.message_of(follow_up).ticket_id, ticket)
        self.assertEqual(len(ticket.social_message_ids), 3)

    def test_each_reply_goes_to_the_thread_it_answers(self):
        mention, dm = self.mention_then_dm("u-301", "dm-301")
        self.deliver(dm)
        ticket = self.message_of(mention).ticket_id
        Wizard = self.env["social.reply.wizard"].with_user(self.agent)
        wizard = Wizard.create({"ticket_id": ticket.id})
        self.assertEqual(wizard.target_id, self.message_of(dm))
        self.assertEqual(
            Wizard.env["social.message"].search([("ticket_id", "=", ticket.id)]),
            self.message_of(mention) | self.message_of(dm),
        )
        self.assertEqual(wizard.kind, "private")
        wizard.text = "Thanks, we are on it."
        wizard.action_send()
        self.env["social.reply"]._cron_send()  # one reply a run under tests
        wizard = Wizard.create(
            {"ticket_id": ticket.id, "target_id": self.message_of(mention).id}
        )
        self.assertEqual(wizard.kind, "public")
        wizard.text = "@u_301 We have sent you a DM."
        wizard.action_send()
        self.env["social.reply"]._cron_send()
        replies = ticket.social_reply_ids.sorted("id")
        self.assertEqual(replies.mapped("state"), ["sent", "sent"])
        self.assertEqual(
            [(reply.kind, reply.target_id) for reply in replies],
            [
                ("private", self.message_of(dm)),
                ("public", self.message_of(mention)),
            ],
        )

    def test_setting_off_opens_a_new_ticket(self):
        self.account.dm_joins_public_ticket = False
        mention, dm = self.mention_then_dm("u-302", "dm-302")
        self.deliver(dm)
        ticket = self.message_of(dm).ticket_id
        self.assertTrue(ticket)
        self.assertNotEqual(ticket, self.message_of(mention).ticket_id)
        self.assertEqual(ticket.social_kind, "private")

    def test_closed_public_ticket_within_window_reopens(self):
        mention, dm = self.mention_then_dm("u-303", "dm-303")
        ticket = self.message_of(mention).ticket_id
        ticket.stage_id = self.done_stage
        self.deliver(dm)
        self.assertEqual(self.message_of(dm).ticket_id, ticket)
        self.assertFalse(ticket.closed)
        self.assertEqual(ticket.reopen_count, 1)

    def test_closed_public_ticket_past_window_stays_closed(self):
        mention, dm = self.mention_then_dm("u-304", "dm-304")
        ticket = self.message_of(mention).ticket_id
        ticket.stage_id = self.done_stage
        ticket.closed_date = fields.Datetime.now() - timedelta(days=8)
        self.deliver(dm)
        self.assertNotEqual(self.message_of(dm).ticket_id, ticket)
        self.assertTrue(ticket.closed)

    def test_another_customers_dm_has_its_own_ticket(self):
        mention, _dm = self.mention_then_dm("u-305", "dm-305")
        other = demo_item(
            "Order 999", author="u-306", kind="private", conversation="dm-306"
        )
        self.deliver(other)
        ticket = self.message_of(other).ticket_id
        self.assertTrue(ticket)
        self.assertNotEqual(ticket, self.message_of(mention).ticket_id)


@tagged("post_install", "-at_install")
class TestLeadConversations(SocialCase):
    """A conversation diverted to a CRM lead stays whole."""

    def test_follow_ups_are_logged_on_the_lead(self):
        first = demo_item(
            PRICE_QUESTION, author="u-310", kind="private", conversation="dm-310"
        )
        self.deliver(first)
        lead = self.message_of(first).lead_id
        self.assertTrue(lead)
        second = demo_item(
            "And to Porto?", author="u-310", kind="private", conversation="dm-310"
        )
        self.deliver(second)
        message = self.message_of(second)
        self.assertEqual(message.lead_id, lead)
        self.assertEqual(message.outcome, "lead")
        self.assertFalse(message.ticket_id)
        self.assertFalse(
            self.env["helpdesk.ticket"].search(
                [("partner_id", "=", message.partner_id.id)]
            )
        )
        self.assertEqual(message.mail_message_id.model, "crm.lead")
        self.assertEqual(message.mail_message_id.res_id, lead.id)
        self.assertIn("And to Porto?", str(message.mail_message_id.body))

    def test_customer_with_an_open_ticket_is_not_diverted(self):
        complaint = demo_item(
            "My coffee maker leaks", author="u-311", kind="private", conversation="a"
        )
        self.deliver(complaint)
        ticket = self.message_of(complaint).ticket_id
        question = demo_item(
            PRICE_QUESTION, author="u-311", kind="private", conversation="b"
        )
        self.deliver(question)
        message = self.message_of(question)
        self.assertEqual(message.outcome, "ticket")
        self.assertFalse(message.lead_id)
        self.assertTrue(message.ticket_id)
        self.assertNotEqual(message.ticket_id, ticket)
        self.assertIn("No CRM lead", message.rule_log)
        self.assertIn(ticket.display_name, message.rule_log)
        self.assertIn("No CRM lead", self.bodies(message.ticket_id))

    def bodies(self, record):
        return " ".join(str(body) for body in record.message_ids.mapped("body"))

    def assertLinksTo(self, record, target):
        """``record``'s chatter says where the conversation went (or came from)."""
        self.assertTrue(
            any(
                f'data-oe-model="{target._name}"' in str(body)
                and f'data-oe-id="{target.id}"' in str(body)
                for body in record.message_ids.mapped("body")
            ),
            f"{record} does not link to {target}",
        )

    def test_conversation_moves_to_a_ticket_and_back(self):
        sales = new_test_user(
            self.env, "threads_sales", groups="sales_team.group_sale_salesman_all_leads"
        )
        agent = new_test_user(
            self.env, "threads_agent2", groups="helpdesk_mgmt.group_helpdesk_user"
        )
        first = demo_item(
            PRICE_QUESTION, author="u-312", kind="private", conversation="dm-312"
        )
        second = demo_item(
            "Actually it arrived broken",
            author="u-312",
            kind="private",
            conversation="dm-312",
        )
        self.deliver(first)
        self.deliver(second)
        lead = self.message_of(first).lead_id
        messages = self.message_of(first) | self.message_of(second)
        self.assertEqual(messages.lead_id, lead)

        lead.with_user(sales).action_social_to_ticket()
        ticket = messages.ticket_id
        self.assertEqual(len(ticket), 1)
        self.assertFalse(messages.lead_id)
        self.assertEqual(set(messages.mapped("outcome")), {"ticket"})
        self.assertEqual(ticket.social_account_id, self.account)
        self.assertEqual(ticket.social_kind, "private")
        self.assertEqual(ticket.partner_id, messages.partner_id)
        self.assertEqual(
            messages.mail_message_id.mapped("model"), ["helpdesk.ticket"] * 2
        )
        self.assertIn("Lisbon", self.bodies(ticket))
        self.assertIn("arrived broken", self.bodies(ticket))
        self.assertIn("Lisbon", self.bodies(lead), "the lead keeps its history")
        self.assertLinksTo(lead, ticket)
        self.assertLinksTo(ticket, lead)
        third = demo_item(
            "Any news?", author="u-312", kind="private", conversation="dm-312"
        )
        self.deliver(third)
        self.assertEqual(self.message_of(third).ticket_id, ticket)

        ticket.with_user(agent).action_social_to_lead()
        messages |= self.message_of(third)
        new_lead = messages.lead_id
        self.assertEqual(len(new_lead), 1)
        self.assertNotEqual(new_lead, lead)
        self.assertFalse(messages.ticket_id)
        self.assertEqual(new_lead.partner_id, ticket.partner_id)
        self.assertIn("Any news?", self.bodies(new_lead))
        self.assertLinksTo(ticket, new_lead)
        self.assertLinksTo(new_lead, ticket)
        fourth = demo_item(
            "Hello?", author="u-312", kind="private", conversation="dm-312"
        )
        self.deliver(fourth)
        self.assertEqual(self.message_of(fourth).lead_id, new_lead)
        self.assertFalse(self.message_of(fourth).ticket_id)
