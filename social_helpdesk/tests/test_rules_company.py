# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SocialCase, demo_item


@tagged("post_install", "-at_install")
class TestRulesCompany(SocialCase):
    """Rules run in the company of the message (its account's) or of the
    ticket, whatever company the processing cron runs in, and only route
    within that company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["helpdesk.ticket.rule"]
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Social company B"})
        cls.team_b = cls.env["helpdesk.ticket.team"].create(
            {"name": "Care B", "company_id": cls.company_b.id}
        )
        cls.account_b = cls.account.copy(
            {
                "name": "Company B's demo account",
                "company_id": cls.company_b.id,
                "team_id": cls.team_b.id,
            }
        )

    def message_in(self, item, account):
        return self.env["social.message"].search(
            [("account_id", "=", account.id), ("external_id", "=", item["id"])]
        )

    def test_a_company_rule_never_routes_another_companys_message(self):
        espresso = self.env["helpdesk.ticket.team"].create({"name": "Espresso A"})
        rule = self.Rule.create(
            {"name": "Espresso", "keywords": "espresso", "team_id": espresso.id}
        )
        self.assertEqual(rule.company_id, self.company_a)
        ours = demo_item("My espresso machine leaks", author="u-300")
        theirs = demo_item("My espresso machine leaks", author="u-301")
        self.deliver(ours)
        self.deliver(theirs, account=self.account_b)
        self.assertEqual(self.message_of(ours).ticket_id.team_id, espresso)
        ticket_b = self.message_in(theirs, self.account_b).ticket_id
        self.assertEqual(ticket_b.company_id, self.company_b)
        self.assertEqual(ticket_b.team_id, self.team_b)
        self.assertNotIn(rule, ticket_b.rule_ids)

    def test_a_companys_own_rule_applies_to_its_messages(self):
        grinders = self.env["helpdesk.ticket.team"].create(
            {"name": "Grinders B", "company_id": self.company_b.id}
        )
        rule = self.Rule.create(
            {
                "name": "Grinders B",
                "keywords": "grinder",
                "company_id": self.company_b.id,
                "team_id": grinders.id,
            }
        )
        theirs = demo_item("The grinder is stuck", author="u-302")
        ours = demo_item("The grinder is stuck", author="u-303")
        self.deliver(theirs, account=self.account_b)
        self.deliver(ours)
        ticket_b = self.message_in(theirs, self.account_b).ticket_id
        self.assertEqual(ticket_b.team_id, grinders)
        self.assertEqual(ticket_b.company_id, self.company_b)
        self.assertIn(rule, ticket_b.rule_ids)
        self.assertNotIn(rule, self.message_of(ours).ticket_id.rule_ids)

    def test_a_rule_without_company_applies_to_every_company(self):
        tag = self.env["helpdesk.ticket.tag"].create(
            {"name": "Kettles", "company_id": False}
        )
        self.Rule.create(
            {
                "name": "Kettles everywhere",
                "keywords": "kettle",
                "company_id": False,
                "tag_ids": [Command.set(tag.ids)],
            }
        )
        ours = demo_item("The kettle whistles", author="u-304")
        theirs = demo_item("The kettle whistles", author="u-305")
        self.deliver(ours)
        self.deliver(theirs, account=self.account_b)
        self.assertIn(tag, self.message_of(ours).ticket_id.tag_ids)
        ticket_b = self.message_in(theirs, self.account_b).ticket_id
        self.assertIn(tag, ticket_b.tag_ids)
        self.assertEqual(ticket_b.company_id, self.company_b)

    def test_a_rule_sets_only_what_its_company_can_use(self):
        with self.assertRaises(UserError):
            self.Rule.create(
                {
                    "name": "Cross-company",
                    "company_id": self.company_a.id,
                    "team_id": self.team_b.id,
                }
            )
        shared = self.Rule.create({"name": "Shared", "company_id": False})
        with self.assertRaises(UserError):
            shared.team_id = self.team
        category_b = self.env["helpdesk.ticket.category"].create(
            {"name": "Category B", "company_id": self.company_b.id}
        )
        with self.assertRaises(UserError):
            self.Rule.create({"name": "Category", "category_id": category_b.id})

    def test_email_ticket_is_routed_by_its_companys_rules(self):
        billing_a = self.env.ref("social_helpdesk.helpdesk_team_billing")
        ticket_b = self.env["helpdesk.ticket"].create(
            {
                "name": "Factura duplicada",
                "description": "<p>Me llegó la factura dos veces.</p>",
                "company_id": self.company_b.id,
            }
        )
        self.assertEqual(ticket_b.company_id, self.company_b)
        self.assertEqual(ticket_b.team_id.company_id, self.company_b)
        self.assertEqual(ticket_b.team_id.name, "Billing")
        self.assertNotEqual(ticket_b.team_id, billing_a)
        self.assertEqual(ticket_b.rule_ids.company_id, self.company_b)

    def test_new_company_gets_the_default_rules(self):
        self.env["res.lang"]._activate_lang("es_ES")
        template = self.env.ref("social_helpdesk.rule_billing")
        template.with_context(lang="es_ES").name = "Facturación"
        team_a = self.env.ref("social_helpdesk.helpdesk_team_billing")
        team_a.with_context(lang="es_ES").name = "Equipo de facturación"
        company = self.env["res.company"].create({"name": "Social company C"})
        rules = self.Rule.search([("company_id", "=", company.id)])
        self.assertEqual(len(rules), 5)
        billing = self.env.ref(f"social_helpdesk.{company.id}_rule_billing")
        self.assertEqual(billing.company_id, company)
        self.assertEqual(billing.keywords, template.keywords)
        self.assertEqual(billing.with_context(lang="es_ES").name, "Facturación")
        self.assertEqual(billing.team_id.company_id, company)
        self.assertEqual(billing.category_id.company_id, company)
        self.assertEqual(billing.category_id.name, "Billing")
        self.assertEqual(billing.team_id.name, "Billing")
        self.assertEqual(
            billing.team_id.with_context(lang="es_ES").name, "Equipo de facturación"
        )
        self.assertEqual(
            billing.team_id.resource_calendar_id, company.resource_calendar_id
        )
        # Idempotent, and no company is given a second copy of its own.
        count = self.Rule.with_context(active_test=False).search_count([])
        self.Rule._install_default_rules()
        self.assertEqual(
            self.Rule.with_context(active_test=False).search_count([]), count
        )
        self.assertFalse(
            self.env.ref(
                f"social_helpdesk.{self.company_a.id}_rule_billing",
                raise_if_not_found=False,
            ),
            "the main company has the shipped rules themselves",
        )

    def test_default_rules_of_each_company_route_its_messages(self):
        observed = demo_item("¡Muchas gracias!", author="u-306")
        billed = demo_item("Me cobraron dos veces", author="u-307")
        self.deliver(observed, billed, account=self.account_b)
        self.assertEqual(self.message_in(observed, self.account_b).outcome, "observed")
        ticket = self.message_in(billed, self.account_b).ticket_id
        self.assertEqual(ticket.company_id, self.company_b)
        self.assertEqual(
            ticket.rule_ids,
            self.env.ref(f"social_helpdesk.{self.company_b.id}_rule_billing"),
        )
        self.assertEqual(
            ticket.team_id,
            self.env.ref(f"social_helpdesk.{self.company_b.id}_helpdesk_team_billing"),
        )
        lead_item = demo_item("¿Precio de 20 cafeteras?", author="u-308")
        self.deliver(lead_item, account=self.account_b)
        self.assertEqual(
            self.message_in(lead_item, self.account_b).lead_id.company_id,
            self.company_b,
        )

    def test_out_of_hours_uses_the_message_companys_calendar(self):
        Calendar = self.env["resource.calendar"]
        self.company_a.resource_calendar_id = Calendar.create(
            {
                "name": "Always open",
                "tz": "UTC",
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": str(day),
                            "dayofweek": str(day),
                            "hour_from": 0,
                            "hour_to": 24,
                        }
                    )
                    for day in range(7)
                ],
            }
        )
        self.company_b.resource_calendar_id = Calendar.create(
            {
                "name": "Never open",
                "tz": "UTC",
                "attendance_ids": [Command.clear()],
                "company_id": self.company_b.id,
            }
        )
        night = self.env["helpdesk.ticket.tag"].create(
            {"name": "Night", "company_id": False}
        )
        self.Rule.create(
            {
                "name": "Out of hours",
                "company_id": False,
                "out_of_hours": "yes",
                "tag_ids": [Command.set(night.ids)],
            }
        )
        ours = demo_item("Hello?", author="u-309")
        theirs = demo_item("Hello?", author="u-310")
        self.deliver(ours)
        self.deliver(theirs, account=self.account_b)
        self.assertNotIn(night, self.message_of(ours).ticket_id.tag_ids)
        self.assertIn(night, self.message_in(theirs, self.account_b).ticket_id.tag_ids)

    def test_try_rules_wizard_runs_the_current_companys_rules(self):
        self.Rule.create(
            {
                "name": "Descaling B",
                "keywords": "descale",
                "company_id": self.company_b.id,
            }
        )
        Wizard = self.env["helpdesk.rule.try.wizard"]
        in_b = Wizard.with_company(self.company_b).create({"text": "How to descale?"})
        self.assertEqual(in_b.company_id, self.company_b)
        self.assertIn("Rules of Social company B", str(in_b.result))
        self.assertIn("Descaling B", str(in_b.result))
        in_a = Wizard.create({"text": "How to descale?"})
        self.assertNotIn("Descaling B", str(in_a.result))
        self.assertIn(f"Rules of {self.company_a.name}", str(in_a.result))
