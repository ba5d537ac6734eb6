# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Customer satisfaction on WhatsApp, end to end: customers write through
Odoo's real webhook route (deliveries signed as Meta signs them), closing
their ticket sends the rating request to the fake Cloud API through the
real send job, and their answer comes back through the webhook, rates the
ticket and shows in the KPI views; the window and the budget apply."""

import time
from datetime import timedelta

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.helpdesk_ticket_csat import CSAT_TEXTS, csat_text
from .common import execute_kw
from .fakes.fake_whatsapp import FakeWhatsApp, customer, inbound, status

ANA = customer("34612345678", user_id="ES.1502576394655843", name="Ana Ruiz")
JOAO = customer("5511987654321", user_id="BR.1802576394655111", name="João Lima")
KIM = customer("14155550123", name="Kim Lee")


def rating_answer(wamid, sender, score, request_wamid=None):
    """The customer's pick in the rating request's list."""
    extra = {"context": {"id": request_wamid}} if request_wamid else {}
    return inbound(
        wamid,
        sender,
        timestamp=int(time.time()),
        kind="interactive",
        content={
            "type": "list_reply",
            "list_reply": {"id": f"csat:{score}", "title": f"{score} stars"},
        },
        **extra,
    )


class WhatsAppCase(HttpCase):
    """A WhatsApp account on the fake Cloud API, and customers who write
    through the real webhook route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fake = FakeWhatsApp()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "WhatsApp CSAT"})
        cls.account = cls.env["social.account"].create(
            {
                "name": "Acme WhatsApp (CSAT)",
                "network": "whatsapp",
                "state": "connected",
                "team_id": cls.team.id,
                "whatsapp_business_account_id": fake.waba_id,
                "whatsapp_phone_number_id": fake.phone_number_id,
                "whatsapp_access_token": fake.access_token,
                "meta_app_secret": fake.app_secret,
                "meta_verify_token": "fake-verify-token",
            }
        )
        cls.Event = cls.env["social.event"]
        cls.Reply = cls.env["social.reply"]
        cls.done = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        cls.new = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_new")

    def setUp(self):
        super().setUp()
        self.fake = FakeWhatsApp().start()
        self.addCleanup(self.fake.stop)
        self.account.api_base_url = self.fake.base_url

    # -- helpers ----------------------------------------------------------
    def post(self, body):
        raw, headers = self.fake.signed(body)
        response = self.url_open(
            f"/social_helpdesk/webhook/whatsapp/{self.account.webhook_token}",
            data=raw,
            headers=headers,
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.Event._cron_process()

    def deliver(self, *messages):
        self.post(self.fake.delivery_for_messages(list(messages)))

    def write_in(self, wamid, sender, text="Where is my order?", at=None):
        """A customer message; returns its ticket."""
        self.deliver(
            inbound(wamid, sender, timestamp=at or int(time.time()), text=text)
        )
        message = self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("external_id", "=", wamid)]
        )
        self.assertTrue(message.ticket_id, wamid)
        return message.ticket_id

    def requests(self, ticket):
        return self.Reply.search(
            [("ticket_id", "=", ticket.id), ("csat_request", "=", True)]
        )

    def send_queued(self):
        self.Reply._cron_send()


@tagged("post_install", "-at_install")
class TestWhatsappCsat(WhatsAppCase):
    def test_closing_asks_once_and_the_answer_rates_without_reopening(self):
        ticket = self.write_in("wamid.ana1", ANA)
        ticket.stage_id = self.done
        request = self.requests(ticket)
        self.assertEqual(len(request), 1)
        self.assertTrue(request.automatic)
        self.assertEqual(request.text, CSAT_TEXTS["es"])  # ES: Spanish
        self.send_queued()
        self.assertEqual(request.state, "sent", request.error)
        sent = self.fake.sent[-1]
        self.assertEqual(sent["type"], "interactive")
        self.assertEqual(sent["interactive"]["type"], "list")
        rows = sent["interactive"]["action"]["sections"][0]["rows"]
        self.assertEqual(
            [row["id"] for row in rows], [f"csat:{n}" for n in range(1, 6)]
        )
        self.assertEqual(request.external_id, sent["id"])

        # Closed again without being reopened: no second request.
        ticket.stage_id = self.done
        self.assertEqual(len(self.requests(ticket)), 1)

        tickets_before = self.env["helpdesk.ticket"].search_count([])
        self.deliver(rating_answer("wamid.ana2", ANA, 4, request.external_id))
        self.assertEqual(ticket.social_rating, 4)
        self.assertTrue(ticket.social_rating_date)
        self.assertEqual(ticket.stage_id, self.done)
        self.assertEqual(ticket.reopen_count, 0)
        self.assertEqual(self.env["helpdesk.ticket"].search_count([]), tickets_before)
        self.assertIn(
            "rated this conversation 4 out of 5",
            ticket.message_ids[:1].body,
        )
        event = self.Event.search(
            [
                ("account_id", "=", self.account.id),
                ("external_id", "=", "wa:msg:wamid.ana2"),
            ]
        )
        self.assertEqual((event.state, event.ticket_id), ("done", ticket))

        # Reopened and closed again: a new closing, a new request.
        ticket.stage_id = self.new
        ticket.stage_id = self.done
        self.assertEqual(len(self.requests(ticket)), 2)

    def test_an_answer_without_its_request_id_rates_the_last_request(self):
        ticket = self.write_in("wamid.joao1", JOAO)
        ticket.stage_id = self.done
        request = self.requests(ticket)
        self.assertEqual(request.text, CSAT_TEXTS["pt_BR"])
        self.send_queued()
        self.deliver(rating_answer("wamid.joao2", JOAO, 5))
        self.assertEqual(ticket.social_rating, 5)
        self.assertEqual(ticket.stage_id, self.done)

    def test_no_request_once_the_window_is_closed(self):
        two_days_ago = int(time.time()) - 48 * 3600
        ticket = self.write_in("wamid.kim1", KIM, at=two_days_ago)
        ticket.stage_id = self.done
        self.assertFalse(self.requests(ticket))
        self.assertIn("Satisfaction request not sent", ticket.message_ids[0].body)
        self.assertFalse(self.fake.sent)

    def test_over_budget_the_request_is_refused_but_agents_still_answer(self):
        """Automatic messages stop at the budget, kept with the reason; an
        agent's reply is queued and sent, the composer tells its cost."""
        self.account.whatsapp_monthly_budget = 0.01
        self.post(
            self.fake.delivery_for_statuses(
                [
                    status(
                        f"wamid.mkt{n}",
                        "delivered",
                        ANA,
                        timestamp=int(time.time()),
                        pricing={
                            "billable": True,
                            "pricing_model": "PMP",
                            "category": "marketing",
                            "type": "regular",
                        },
                    )
                    for n in range(2)
                ]
            )
        )
        self.assertEqual(self.account.whatsapp_budget_state, "reached")
        self.env["helpdesk.ticket.rule"].create(
            {"name": "Orders", "keywords": "order", "ack_private_text": "Got it!"}
        )
        ticket = self.write_in("wamid.ana3", ANA)
        acknowledgement = self.Reply.search(
            [("ticket_id", "=", ticket.id), ("automatic", "=", True)]
        )
        self.assertEqual(acknowledgement.state, "refused")
        self.assertIn("budget", acknowledgement.error)
        wizard = (
            self.env["social.reply.wizard"]
            .with_context(default_ticket_id=ticket.id)
            .create({"ticket_id": ticket.id})
        )
        self.assertIn("Free", wizard.cost_info)
        self.assertIn("budget", wizard.cost_info)
        agent_reply = self.Reply._queue(wizard.target_id, "private", "On its way")
        self.assertEqual(agent_reply.state, "queued")
        ticket.stage_id = self.done
        request = self.requests(ticket)
        self.assertEqual(request.state, "refused")
        self.assertIn("budget", request.error)
        self.assertIn("Not sent", request.mail_message_id.body)
        self.send_queued()
        self.assertEqual(agent_reply.state, "sent", agent_reply.error)
        self.assertEqual([sent["type"] for sent in self.fake.sent], ["text"])

    def test_the_kpi_views_show_satisfaction_per_channel(self):
        ticket = self.write_in("wamid.ana4", ANA)
        ticket.stage_id = self.done
        self.send_queued()
        self.deliver(
            rating_answer("wamid.ana5", ANA, 3, self.requests(ticket).external_id)
        )
        channel = ticket.channel_id
        self.assertEqual(channel.code, "whatsapp")
        self.env.flush_all()  # the reports read the tables
        report = self.env["helpdesk.ticket.kpi.report"]
        [(csat, count)] = report._read_group(
            [("channel_id", "=", channel.id)], [], ["csat:avg", "csat_count:sum"]
        )
        self.assertEqual((csat, count), (3.0, 1))
        # The dashboard's period ends at the transaction's start, which the
        # whole test shares: the rating was given before it, as it would be.
        ticket.social_rating_date = ticket.create_date - timedelta(seconds=1)
        self.env.flush_all()
        tiles = self.env["helpdesk.channel.kpi"].search_read(
            [
                ("channel_id", "=", channel.id),
                ("company_id", "=", ticket.company_id.id),
            ],
            ["csat", "csat_count"],
        )
        self.assertEqual((tiles[0]["csat"], tiles[0]["csat_count"]), (3.0, 1))

    def test_texts_in_the_customers_language(self):
        self.assertEqual(csat_text("es_MX"), CSAT_TEXTS["es"])
        self.assertEqual(csat_text("pt_PT"), CSAT_TEXTS["pt_BR"])
        self.assertEqual(csat_text("fr_FR"), CSAT_TEXTS["en"])
        self.assertEqual(csat_text(), CSAT_TEXTS["en"])

    def test_an_agent_closing_over_rpc_sends_the_request(self):
        """The request goes out whoever closes the ticket: an agent, over
        JSON-RPC, who never sees the account's credentials; an agent of
        another company cannot close it."""
        agent = new_test_user(
            self.env, "wa_csat_agent", groups="helpdesk_mgmt.group_helpdesk_user"
        )
        company_b = self.env["res.company"].create({"name": "Company B (CSAT)"})
        outsider = new_test_user(
            self.env,
            "wa_csat_outsider",
            groups="helpdesk_mgmt.group_helpdesk_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        ticket = self.write_in("wamid.ana6", ANA)
        answer = execute_kw(
            self,
            outsider,
            "helpdesk.ticket",
            "write",
            [ticket.ids, {"stage_id": self.done.id}],
        ).json()
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        answer = execute_kw(
            self,
            agent,
            "helpdesk.ticket",
            "write",
            [ticket.ids, {"stage_id": self.done.id}],
        ).json()
        self.assertTrue(answer.get("result"), answer)
        request = self.requests(ticket)
        self.assertEqual((len(request), request.state), (1, "queued"))
        self.send_queued()
        self.assertEqual(request.state, "sent", request.error)
