# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import SocialCase, demo_item

RULE_LOGGER = "odoo.addons.social_helpdesk.models.helpdesk_ticket_rule"


@tagged("post_install", "-at_install")
class TestRules(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_rule = cls.env.ref("social_helpdesk.rule_billing")
        cls.billing_team = cls.env.ref("social_helpdesk.helpdesk_team_billing")
        cls.billing_category = cls.env.ref("social_helpdesk.helpdesk_category_billing")

    def test_email_and_social_tickets_routed_by_the_same_rule(self):
        email = self.env["helpdesk.ticket"].create(
            {
                "name": "Factura duplicada",
                "description": "<p>Me llegó la factura dos veces.</p>",
                "channel_id": self.env.ref(
                    "helpdesk_mgmt.helpdesk_ticket_channel_email"
                ).id,
            }
        )
        self.assertEqual(email.team_id, self.billing_team)
        self.assertEqual(email.category_id, self.billing_category)
        self.assertIn(self.billing_rule, email.rule_ids)
        notes = email.message_ids.filtered(lambda m: "Rules applied" in str(m.body))
        self.assertIn("keywords: factura", str(notes.body))
        item = demo_item("¡Me cobraron dos veces la FACTÚRA!", author="u-70")
        self.deliver(item)
        social = self.message_of(item).ticket_id
        self.assertEqual(social.team_id, self.billing_team)
        self.assertEqual(social.category_id, self.billing_category)
        self.assertIn(self.billing_rule, social.rule_ids)

    def test_mail_gateway_ticket_is_routed(self):
        self.env["helpdesk.ticket"].with_context(
            fetchmail_cron_running=True
        ).message_new(
            {
                "subject": "Invoice 2231 is wrong",
                "body": "<p>Please check the invoice.</p>",
                "email_from": "client@example.com",
            }
        )
        ticket = self.env["helpdesk.ticket"].search(
            [("name", "=", "Invoice 2231 is wrong")]
        )
        self.assertEqual(ticket.channel_id.code, "email")
        self.assertEqual(ticket.team_id, self.billing_team)

    def test_observe_only_creates_no_ticket_and_stays_visible(self):
        item = demo_item("¡Muchas gracias! 🙏", author="u-71")
        self.deliver(item)
        message = self.message_of(item)
        self.assertEqual(message.outcome, "observed")
        self.assertFalse(message.ticket_id)
        self.assertIn("Thanks only", message.rule_log)
        action = self.env.ref("social_helpdesk.social_message_action_observed")
        self.assertIn(
            message, self.env["social.message"].search(safe_eval(action.domain))
        )
        self.assertEqual(self.event_of(item).state, "done")

    def test_purchase_intent_becomes_a_lead_on_the_partner(self):
        item = demo_item(
            "Quiero comprar 20 cafeteras para la oficina, ¿precio?",
            author="u-72",
            name="Oficinas Norte",
        )
        self.deliver(item)
        message = self.message_of(item)
        self.assertEqual(message.outcome, "lead")
        self.assertFalse(message.ticket_id)
        lead = message.lead_id
        self.assertEqual(lead.partner_id, message.partner_id)
        self.assertEqual(lead.partner_id.name, "Oficinas Norte")
        self.assertIn(
            "20 cafeteras",
            " ".join(str(body) for body in lead.message_ids.mapped("body")),
        )

    def test_angry_public_complaint_from_influencer_is_urgent(self):
        item = demo_item(
            "Servicio pésimo, es una estafa", author="u-73", followers=250000, lang="es"
        )
        self.deliver(item)
        self.assertEqual(self.message_of(item).ticket_id.priority, "3")
        calm = demo_item(
            "Servicio pésimo, es una estafa", author="u-74", followers=10, lang="es"
        )
        self.deliver(calm)
        self.assertEqual(self.message_of(calm).ticket_id.priority, "2")

    def test_try_rules_wizard_explains(self):
        self.env["helpdesk.ticket.rule"].create(
            {"name": "Any thanks", "keywords": "gracias", "sequence": 50}
        )
        wizard = self.env["helpdesk.rule.try.wizard"].create(
            {
                "text": "Gracias!",
                "channel_id": self.env.ref("social_helpdesk.channel_x").id,
            }
        )
        self.assertIn("observed only", wizard.outcome)
        result = str(wizard.result)
        self.assertIn("Thanks only: observe", result)
        self.assertIn("fires", result)
        self.assertIn("skipped", result, "stop skips the later matching rules")
        wizard.text = "Necesito la factura de marzo"
        self.assertIn("Billing", wizard.outcome)
        self.assertIn("keywords: factura", str(wizard.result))

    def test_invalid_regex_is_refused_on_save(self):
        with self.assertRaisesRegex(ValidationError, "Invalid regular expression"):
            self.env["helpdesk.ticket.rule"].create({"name": "Bad", "regex": "([a-"})

    def test_rules_cache_follows_edits(self):
        item = demo_item("My grinder is squeaky", author="u-75")
        tag = self.env["helpdesk.ticket.tag"].create({"name": "Grinder"})
        self.env["helpdesk.ticket.rule"].create(
            {"name": "Grinders", "keywords": "grinder", "tag_ids": [(4, tag.id)]}
        )
        self.deliver(item)
        self.assertIn(tag, self.message_of(item).ticket_id.tag_ids)
        self.env["helpdesk.sentiment.term"].create(
            {"lang": "en", "term": "squeaky", "kind": "negative"}
        )
        other = demo_item("My grinder is squeaky", author="u-76")
        self.deliver(other)
        self.assertEqual(self.message_of(other).ticket_id.priority, "2")


@tagged("post_install", "-at_install")
class TestAcknowledgement(SocialCase):
    """A rule's automatic acknowledgement: a public "we've sent you a DM",
    then the private message, through the replies' queue and rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["helpdesk.ticket.rule"].create(
            {
                "name": "Broken machines",
                "keywords": "broken, roto",
                "ack_public_text": "Thanks {name}, we've sent you a DM.",
                "ack_private_text": "Hi {handle}, your ticket is {ticket}.",
            }
        )
        cls.Reply = cls.env["social.reply"]

    def replies_of(self, item):
        return self.Reply.search(
            [("target_id", "=", self.message_of(item).id)], order="id"
        )

    def test_public_message_gets_public_then_private_acknowledgement(self):
        item = demo_item("My coffee machine is broken", author="u-80", name="Ana")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id
        replies = self.replies_of(item)
        self.assertEqual(replies.mapped("kind"), ["public", "private"])
        self.assertEqual(
            replies.mapped("text"),
            [
                "Thanks Ana, we've sent you a DM.",
                f"Hi @u_80, your ticket is {ticket.number}.",
            ],
        )
        self.assertTrue(all(replies.mapped("automatic")))
        self.assertFalse(replies.user_id)
        self.assertEqual(replies.mapped("state"), ["queued", "queued"])
        chatter = " ".join(str(body) for body in ticket.message_ids.mapped("body"))
        self.assertIn("Automatic acknowledgement", chatter)
        self.Reply._cron_send()  # one reply per run under the test runner,
        self.Reply._cron_send()  # which forbids commits
        self.assertEqual(replies.mapped("state"), ["sent", "sent"])
        self.assertTrue(all(replies.mapped("external_id")))
        self.assertFalse(
            ticket.first_response_date,
            "an automatic acknowledgement is not the agent's first response",
        )

    def test_private_message_gets_only_the_private_acknowledgement(self):
        item = demo_item("The grinder arrived broken", author="u-81", kind="private")
        self.deliver(item)
        self.assertEqual(self.replies_of(item).mapped("kind"), ["private"])

    def test_continuing_conversation_is_not_acknowledged_again(self):
        first = demo_item("Broken lid", author="u-82", conversation="c-82")
        again = demo_item(
            "Still broken", author="u-82", conversation="c-82", parent=first["id"]
        )
        self.deliver(first)
        self.deliver(again)
        self.assertEqual(
            self.message_of(again).ticket_id, self.message_of(first).ticket_id
        )
        self.assertEqual(len(self.replies_of(first)), 2)
        self.assertFalse(self.replies_of(again))

    def test_refused_acknowledgement_is_noted_and_the_message_filed(self):
        self.rule.ack_public_text = "Thanks {name}! " + "x" * 300
        item = demo_item("Broken again", author="u-83", name="Bea")
        self.deliver(item)
        message = self.message_of(item)
        self.assertEqual(self.event_of(item).state, "done")
        self.assertTrue(message.ticket_id)
        self.assertEqual(self.replies_of(item).mapped("kind"), ["private"])
        notes = message.ticket_id.message_ids.filtered(
            lambda m: "not sent" in str(m.body)
        )
        self.assertIn("allows 280", str(notes.body))

    def test_acknowledgement_speaks_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.rule.with_context(
            lang="es_ES"
        ).ack_public_text = "Gracias {name}, te hemos escrito por mensaje privado."
        spanish = demo_item(
            "Mi molinillo está roto", author="u-84", name="Luz", lang="es"
        )
        english = demo_item("My kettle is broken", author="u-85", name="Tom")
        self.deliver(spanish, english)
        self.assertEqual(
            self.replies_of(spanish)[0].text,
            "Gracias Luz, te hemos escrito por mensaje privado.",
        )
        self.assertEqual(
            self.replies_of(english)[0].text, "Thanks Tom, we've sent you a DM."
        )

    def test_leads_and_observed_messages_are_not_acknowledged(self):
        self.rule.outcome = "observe"
        item = demo_item("Broken but fine, thanks", author="u-86")
        self.deliver(item)
        self.assertEqual(self.message_of(item).outcome, "observed")
        self.assertFalse(self.replies_of(item))

    def test_unknown_placeholder_is_refused_on_save(self):
        with self.assertRaisesRegex(ValidationError, r"Unknown placeholder \{email\}"):
            self.rule.ack_private_text = "We'll write to {email}"
        with self.assertRaisesRegex(ValidationError, "Unknown placeholder"):
            self.rule.ack_private_text = "{name.__class__}"

    def test_try_rules_wizard_mentions_the_acknowledgement(self):
        wizard = self.env["helpdesk.rule.try.wizard"].create(
            {
                "text": "It's broken",
                "channel_id": self.env.ref("social_helpdesk.channel_x").id,
            }
        )
        self.assertIn("acknowledged as rule Broken machines says", wizard.outcome)


@tagged("post_install", "-at_install")
class TestRuleRegexTimeLimit(SocialCase):
    """A pattern that can backtrack for ages is refused at save where the
    probes find it; one that still times out on a real message is skipped
    for that message, flagged on the rule, and the message is filed."""

    def test_catastrophic_pattern_is_refused_on_save(self):
        with self.assertRaisesRegex(ValidationError, "catastrophic backtracking"):
            self.env["helpdesk.ticket.rule"].create(
                {"name": "Words", "regex": r"^(\w|\w\w)+$"}
            )
        with self.assertRaisesRegex(ValidationError, "at most 500 characters"):
            self.env["helpdesk.ticket.rule"].create(
                {"name": "Long", "regex": "a" * 501}
            )

    def test_nested_repeat_runs_in_time(self):
        """The issue's example: seconds with re, instant with regex."""
        rule = self.env["helpdesk.ticket.rule"].create(
            {"name": "Words", "regex": r"^(\w+\s?)+$", "priority": "3"}
        )
        item = demo_item("aaaaaaaaaaaaaaaaaaaaaaaa!", author="u-320")
        self.deliver(item)
        self.assertEqual(self.event_of(item).state, "done")
        self.assertNotIn(rule, self.message_of(item).ticket_id.rule_ids)
        self.assertFalse(rule.regex_error)

    def test_pattern_timing_out_on_a_message_is_flagged_and_the_message_filed(self):
        tag = self.env["helpdesk.ticket.tag"].create({"name": "Laughter"})
        rule = self.env["helpdesk.ticket.rule"].create(
            {"name": "Laughs", "regex": r"^(ja|j|a)+$", "tag_ids": [(4, tag.id)]}
        )
        item = demo_item("ja" * 30 + "!", author="u-321")
        with mute_logger(RULE_LOGGER):
            self.deliver(item)
        self.assertEqual(self.event_of(item).state, "done")
        ticket = self.message_of(item).ticket_id
        self.assertTrue(ticket)
        self.assertNotIn(tag, ticket.tag_ids)
        self.assertIn("took too long", rule.regex_error)
        self.assertTrue(rule.regex_error_date)
        self.deliver(demo_item("jajaja", author="u-322"))
        self.assertIn("took too long", rule.regex_error, "kept until changed")
        rule.regex = r"^(ja)+$"
        self.assertFalse(rule.regex_error)
        self.assertFalse(rule.regex_error_date)

    def test_flagging_a_rule_keeps_the_compiled_rules(self):
        rule = self.env["helpdesk.ticket.rule"].create({"name": "Plain", "regex": "x"})
        registry = type(self.env.registry)
        with patch.object(registry, "clear_cache") as clear_cache:
            rule.sudo().write({"regex_error_date": "2026-01-01"})
        clear_cache.assert_not_called()
        with patch.object(registry, "clear_cache") as clear_cache:
            rule.regex = "y"
        clear_cache.assert_called()
