# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The WhatsApp cost meter, the price table and the monthly budget, on
PostgreSQL: each message is counted once however many of its statuses carry
its pricing, priced by the rate card in force in the customer's market, the
service allowance honoured; the budget warns once per level and month."""

import time
from datetime import datetime, timezone

from odoo import Command
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from ..adapters.base import DeliveryStatus
from .common import execute_kw
from .fakes.fake_whatsapp import customer, inbound, status
from .test_whatsapp_csat import WhatsAppCase

ACCESS_ERROR = "odoo.exceptions.AccessError"
DECEMBER = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
JANUARY = datetime(2027, 1, 3, 12, 0, tzinfo=timezone.utc)


def priced(
    wamid,
    category="service",
    status="delivered",
    billable=True,
    at=DECEMBER,
    recipient="5511987654321",
    country="BR",
):
    return DeliveryStatus(
        message_id=wamid,
        status=status,
        at=at,
        recipient_id=recipient,
        pricing={
            "billable": billable,
            "pricing_model": "PMP",
            "category": category,
            "type": "regular" if billable else "free_customer_service",
        },
        country=country,
    )


def whatsapp_account(env, name="WhatsApp care", company=None, **values):
    return env["social.account"].create(
        {
            "name": name,
            "network": "whatsapp",
            "state": "connected",
            "company_id": (company or env.company).id,
            "whatsapp_business_account_id": f"waba-{name}",
            "whatsapp_phone_number_id": f"pn-{name}",
            **values,
        }
    )


@tagged("post_install", "-at_install")
class TestWhatsappCost(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = whatsapp_account(cls.env)
        cls.Usage = cls.env["social.whatsapp.usage"]
        cls.Price = cls.env["social.whatsapp.price"]

    def price(self, category, market):
        return self.Price._lookup(
            self.Price._price_table(DECEMBER.date()), category, market
        )[0]

    def lines(self, account=None, month="2026-12-01"):
        return {
            line.category: line
            for line in self.Usage.search(
                [
                    ("account_id", "=", (account or self.account).id),
                    ("month", "=", month),
                ]
            )
        }

    def test_the_rate_card_is_data(self):
        """Every market of the card prices the four categories; an unknown
        market is priced as "other"; before the card nothing is billed."""
        self.assertEqual(self.price("marketing", "BR"), 0.0625)
        self.assertEqual(self.price("service", "BR"), self.price("utility", "BR"))
        self.assertEqual(
            self.price("marketing", "ZW"), self.price("marketing", "other")
        )
        self.assertEqual(self.price("referral_conversion", "BR"), 0.0)
        table = self.Price._price_table(datetime(2026, 9, 30).date())
        self.assertEqual(self.Price._lookup(table, "service", "BR"), (0.0, 0))
        service = self.Price._lookup(
            self.Price._price_table(DECEMBER.date()), "service", ""
        )
        self.assertEqual(service[1], 1000)

    def test_each_message_is_metered_once(self):
        """Sent, delivered and read each carry the pricing, and a delivery
        may come twice: the message counts once."""
        statuses = [
            priced("wamid.A", "marketing", status)
            for status in ("sent", "delivered", "read")
        ] + [priced("wamid.B", "utility", recipient="525512345678", country="MX")]
        self.assertEqual(self.Usage._meter(self.account, statuses), 2)
        self.assertEqual(self.Usage._meter(self.account, statuses), 0)
        lines = self.lines()
        self.assertEqual(lines["marketing"].message_count, 1)
        self.assertEqual(lines["marketing"].billable_count, 1)
        self.assertAlmostEqual(lines["marketing"].cost, self.price("marketing", "BR"))
        self.assertAlmostEqual(lines["utility"].cost, self.price("utility", "MX"))
        billed = self.env["social.whatsapp.billed"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(sorted(billed.mapped("message_id")), ["wamid.A", "wamid.B"])

    def test_failed_and_unpriced_statuses_are_not_metered(self):
        statuses = [
            priced("wamid.F", "marketing", "failed"),
            DeliveryStatus(message_id="wamid.N", status="delivered", at=DECEMBER),
        ]
        self.assertEqual(self.Usage._meter(self.account, statuses), 0)
        self.assertFalse(self.lines())

    def test_service_messages_are_free_within_the_allowance(self):
        """Since October 2026 service messages are billed after the month's
        free allowance; a message Meta says is not billable costs nothing."""
        self.env.ref(
            "social_helpdesk.whatsapp_price_other_service"
        ).free_monthly_allowance = 2
        self.env.ref(
            "social_helpdesk.whatsapp_price_br_service"
        ).free_monthly_allowance = 2
        self.Usage._meter(self.account, [priced("wamid.S1"), priced("wamid.S2")])
        self.Usage._meter(
            self.account,
            [
                priced("wamid.S3"),
                priced("wamid.S4", billable=False),
                priced("wamid.S5"),
            ],
        )
        service = self.lines()["service"]
        self.assertEqual(service.message_count, 5)
        self.assertEqual(service.billable_count, 4)
        self.assertEqual(service.free_count, 3)
        self.assertAlmostEqual(service.cost, 2 * self.price("service", "BR"))
        # A new month, a new allowance.
        self.Usage._meter(self.account, [priced("wamid.S6", at=JANUARY)])
        self.assertEqual(self.lines(month="2027-01-01")["service"].cost, 0.0)

    def test_free_entry_points_cost_nothing(self):
        self.Usage._meter(self.account, [priced("wamid.R", "referral_conversion")])
        line = self.lines()["referral_conversion"]
        self.assertEqual((line.message_count, line.cost), (1, 0.0))

    def test_accounts_are_metered_apart(self):
        other = whatsapp_account(self.env, "Second number")
        self.Usage._meter(self.account, [priced("wamid.X", "marketing")])
        self.Usage._meter(other, [priced("wamid.X", "marketing")])
        self.assertEqual(self.lines()["marketing"].message_count, 1)
        self.assertEqual(self.lines(other)["marketing"].message_count, 1)

    def test_the_budget_warns_once_per_level_and_month(self):
        """At 80% and at 100% the account's followers are told, once each
        per month; automatic messages stop at 100%."""
        price = self.price("marketing", "BR")
        leader = new_test_user(
            self.env, "wa_leader", groups="helpdesk_mgmt.group_helpdesk_manager"
        )
        self.account.team_id = self.env["helpdesk.ticket.team"].create(
            {"name": "WhatsApp leaders", "user_id": leader.id}
        )
        self.account.whatsapp_monthly_budget = 5 * price
        now = datetime.now(timezone.utc)
        Event = self.env["social.event"]

        def meter(*wamids):
            Event._meter_statuses(
                self.account, [priced(wamid, "marketing", at=now) for wamid in wamids]
            )

        def warnings():
            return self.account.message_ids.filtered(
                lambda message: "WhatsApp spend this month" in (message.body or "")
            )

        meter("m1", "m2", "m3")
        self.assertFalse(warnings())
        self.assertEqual(self.account.whatsapp_budget_state, "ok")
        self.assertFalse(self.account._whatsapp_budget_reached())
        meter("m4")
        self.assertEqual(len(warnings()), 1)
        self.assertIn("80%", warnings()[0].body)
        self.assertIn(leader.partner_id, warnings()[0].partner_ids)
        self.assertEqual(self.account.whatsapp_budget_state, "warning")
        meter("m4", "m4")  # the same message again: no new cost, no warning
        self.assertEqual(len(warnings()), 1)
        meter("m5")
        self.assertEqual(len(warnings()), 2)
        self.assertEqual(self.account.whatsapp_budget_state, "reached")
        self.assertIn("budget", self.account._whatsapp_budget_reached())
        meter("m6")
        self.assertEqual(len(warnings()), 2)
        self.assertAlmostEqual(self.account.whatsapp_spend_month, 6 * price)


@tagged("post_install", "-at_install")
class TestWhatsappCostSecurity(HttpCase):
    """Prices and usage over JSON-RPC, as restricted users of two companies
    call them: managers read their companies' usage and the prices, agents
    neither, and only administrators change prices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_a = env.company
        cls.company_b = env["res.company"].create({"name": "Company B (WhatsApp)"})
        cls.account_a = whatsapp_account(env, "A number")
        cls.account_b = whatsapp_account(env, "B number", company=cls.company_b)
        Usage = env["social.whatsapp.usage"]
        Usage._meter(cls.account_a, [priced("wamid.a", "marketing")])
        Usage._meter(cls.account_b, [priced("wamid.b", "marketing")])

        def user(login, groups, company):
            return new_test_user(
                env,
                login,
                groups=groups,
                password=login,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.users = {
            "agent_a": user(
                "wa_agent_a", "helpdesk_mgmt.group_helpdesk_user", cls.company_a
            ),
            "manager_a": user(
                "wa_manager_a", "helpdesk_mgmt.group_helpdesk_manager", cls.company_a
            ),
            "manager_b": user(
                "wa_manager_b", "helpdesk_mgmt.group_helpdesk_manager", cls.company_b
            ),
            "admin_a": user(
                "wa_admin_a",
                "base.group_system,helpdesk_mgmt.group_helpdesk_manager",
                cls.company_a,
            ),
        }

    def rpc(self, who, model, method, *args, **kwargs):
        answer = execute_kw(
            self, self.users[who], model, method, list(args), kwargs
        ).json()
        if "error" in answer:
            return None, answer["error"]["data"]["name"]
        return answer["result"], None

    def test_usage_is_read_by_the_managers_of_its_company(self):
        fields = ["account_id", "cost"]
        rows, error = self.rpc(
            "manager_a", "social.whatsapp.usage", "search_read", [], fields
        )
        self.assertIsNone(error)
        self.assertEqual({row["account_id"][0] for row in rows}, {self.account_a.id})
        rows, error = self.rpc(
            "manager_b", "social.whatsapp.usage", "search_read", [], fields
        )
        self.assertEqual({row["account_id"][0] for row in rows}, {self.account_b.id})
        line_b = self.env["social.whatsapp.usage"].search(
            [("account_id", "=", self.account_b.id)]
        )
        _rows, error = self.rpc(
            "manager_a", "social.whatsapp.usage", "read", line_b.ids, fields
        )
        self.assertEqual(error, ACCESS_ERROR)
        _rows, error = self.rpc(
            "agent_a", "social.whatsapp.usage", "search_read", [], fields
        )
        self.assertEqual(error, ACCESS_ERROR)
        _rows, error = self.rpc(
            "manager_a", "social.whatsapp.usage", "write", line_b.ids, {"cost": 0}
        )
        self.assertEqual(error, ACCESS_ERROR)
        for who in ("manager_a", "admin_a"):
            _rows, error = self.rpc(
                who, "social.whatsapp.billed", "search_read", [], ["cost"]
            )
            self.assertEqual(error, None if who == "admin_a" else ACCESS_ERROR, who)

    def test_the_account_form_shows_the_spend(self):
        fields = ["whatsapp_spend_month", "whatsapp_budget_state"]
        rows, error = self.rpc(
            "agent_a", "social.account", "read", self.account_a.ids, fields
        )
        self.assertIsNone(error)
        rows, error = self.rpc(
            "manager_a",
            "social.account",
            "read",
            self.account_a.ids,
            ["whatsapp_usage_ids"],
        )
        self.assertIsNone(error)
        self.assertEqual(len(rows[0]["whatsapp_usage_ids"]), 1)
        _rows, error = self.rpc(
            "manager_a",
            "social.account",
            "write",
            self.account_a.ids,
            {"whatsapp_monthly_budget": 50},
        )
        self.assertIsNone(error)
        _rows, error = self.rpc(
            "manager_a",
            "social.account",
            "write",
            self.account_a.ids,
            {"whatsapp_budget_warned_pct": 0},
        )
        self.assertEqual(error, ACCESS_ERROR)

    def test_prices_are_read_by_managers_and_changed_by_admins(self):
        price = self.env.ref("social_helpdesk.whatsapp_price_br_marketing")
        for who in ("manager_a", "manager_b", "admin_a"):
            rows, error = self.rpc(
                who, "social.whatsapp.price", "search_read", [], ["price"]
            )
            self.assertIsNone(error, who)
            self.assertTrue(rows)
        _rows, error = self.rpc(
            "agent_a", "social.whatsapp.price", "search_read", [], ["price"]
        )
        self.assertEqual(error, ACCESS_ERROR)
        _rows, error = self.rpc(
            "manager_a", "social.whatsapp.price", "write", price.ids, {"price": 0}
        )
        self.assertEqual(error, ACCESS_ERROR)
        _rows, error = self.rpc(
            "admin_a", "social.whatsapp.price", "write", price.ids, {"price": 0.07}
        )
        self.assertIsNone(error)
        self.assertEqual(price.price, 0.07)


@tagged("post_install", "-at_install")
class TestWhatsappCostWebhook(WhatsAppCase):
    """Statuses with their pricing through the real webhook route."""

    def test_statuses_meter_each_message_once(self):
        """An agent's reply and a message sent from the phone are each
        metered once, whatever statuses and redeliveries report them."""
        ticket = self.write_in("wamid.meter1", customer("5511900001111", name="Bia"))
        reply = self.Reply._queue(
            ticket.social_message_ids[:1], "private", "Your parcel left today"
        )
        self.send_queued()
        self.assertEqual(reply.state, "sent", reply.error)
        pricing = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "service",
            "type": "regular",
        }
        now = int(time.time())
        sent = self.fake.sent[-1]
        statuses = [
            self.fake.status_of(sent, name, timestamp=now, pricing=pricing)
            for name in ("sent", "delivered", "read")
        ]
        phone = status(
            "wamid.fromphone",
            "delivered",
            customer("5215512345678"),
            timestamp=now,
            pricing=dict(pricing, category="marketing"),
        )
        delivery = self.fake.delivery_for_statuses([*statuses, phone])
        self.post(delivery)
        self.post(delivery)  # Meta redelivers
        lines = {
            line.category: line
            for line in self.env["social.whatsapp.usage"].search(
                [("account_id", "=", self.account.id)]
            )
        }
        self.assertEqual(lines["service"].message_count, 1)
        self.assertEqual(lines["service"].cost, 0.0)  # within the allowance
        self.assertEqual(lines["marketing"].message_count, 1)
        mx = self.env.ref("social_helpdesk.whatsapp_price_mx_marketing").price
        self.assertAlmostEqual(lines["marketing"].cost, mx)
        self.assertAlmostEqual(self.account.whatsapp_spend_month, mx)
        self.assertEqual(reply.delivery_state, "read")

    def composer_cost(self, ticket):
        wizard = self.env["social.reply.wizard"].create({"ticket_id": ticket.id})
        return wizard.cost_info

    def test_the_composer_says_what_a_reply_costs(self):
        """Free within the service allowance, then the price in the
        customer's country; free after an ad (free entry point)."""
        self.env.ref("social_helpdesk.whatsapp_price_other_service").write(
            {"free_monthly_allowance": 1}
        )
        self.env.ref("social_helpdesk.whatsapp_price_br_service").write(
            {"free_monthly_allowance": 1}
        )
        bia = customer("5511900002222", name="Bia")
        ticket = self.write_in("wamid.cost1", bia)
        self.assertIn("Free", self.composer_cost(ticket))
        self.assertIn("0 of 1", self.composer_cost(ticket))
        self.assertNotIn("budget", self.composer_cost(ticket))
        self.env["social.whatsapp.usage"]._meter(
            self.account,
            [
                DeliveryStatus(
                    "wamid.svc",
                    "delivered",
                    at=datetime.now(timezone.utc),
                    pricing={"billable": True, "category": "service"},
                    country="BR",
                )
            ],
        )
        self.account.whatsapp_monthly_budget = 100
        cost = self.composer_cost(ticket)
        self.assertIn("0.0068 USD", cost)
        self.assertIn("BR", cost)
        self.assertIn("of 100.00 USD spent this month", cost)

        ad = inbound(
            "wamid.cost2",
            customer("5511900003333", name="Caio"),
            timestamp=int(time.time()),
            text="Vi o anúncio",
            referral={"source_type": "ad", "source_id": "120210"},
        )
        self.deliver(ad)
        ad_ticket = (
            self.env["social.message"]
            .search([("external_id", "=", "wamid.cost2")])
            .ticket_id
        )
        self.assertIn("free entry point", self.composer_cost(ad_ticket))
