# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""WhatsApp everywhere else: rules, the KPI report and dashboard, the demo
network's WhatsApp conversations."""

import json

from odoo.tests import tagged

from ..adapters.demo import DATASET
from .common import SocialCase, demo_item

NEUTRAL = "Hello team, I have a question about my account settings."


def whatsapp_item(text=NEUTRAL, author="34600000001", **kwargs):
    """A WhatsApp message as the demo network replays one: private, in the
    customer's own conversation."""
    return demo_item(
        text,
        author=author,
        channel="whatsapp",
        kind="private",
        conversation=author,
        **kwargs,
    )


@tagged("post_install", "-at_install")
class TestWhatsAppChannel(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.whatsapp = cls.env.ref("social_helpdesk.channel_whatsapp")

    def ticket_of(self, item):
        return self.message_of(item).ticket_id

    def test_a_rule_targets_the_whatsapp_channel(self):
        wa_team = self.env["helpdesk.ticket.team"].create({"name": "WhatsApp desk"})
        self.env["helpdesk.ticket.rule"].create(
            {
                "name": "WhatsApp to its desk",
                "sequence": 1,
                "channel_ids": [(6, 0, self.whatsapp.ids)],
                "team_id": wa_team.id,
                "priority": "2",
            }
        )
        on_whatsapp = whatsapp_item()
        on_messenger = demo_item(
            NEUTRAL, author="u-m", channel="messenger", kind="private"
        )
        self.deliver(on_whatsapp, on_messenger)
        ticket = self.ticket_of(on_whatsapp)
        self.assertEqual(ticket.channel_id, self.whatsapp)
        self.assertEqual(ticket.team_id, wa_team)
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.social_network, "whatsapp")
        self.assertIn("channel: whatsapp", str(ticket.message_ids.mapped("body")))
        self.assertNotEqual(self.ticket_of(on_messenger).team_id, wa_team)

    def test_the_chatter_shows_whatsapp_logo(self):
        item = whatsapp_item()
        self.deliver(item)
        body = str(self.message_of(item).mail_message_id.body)
        self.assertIn("fa-whatsapp", body)
        self.assertIn("o_social_icon_whatsapp", body)

    def test_kpi_report_and_dashboard_list_whatsapp(self):
        self.env.user.helpdesk_team_ids = [(4, self.team.id)]
        item = whatsapp_item()
        self.deliver(item)
        self.env.flush_all()
        rows = self.env["helpdesk.ticket.kpi.report"]._read_group(
            [("team_id", "=", self.team.id)], ["channel_id"], ["__count"]
        )
        self.assertIn((self.whatsapp, 1), rows)
        data = self.env["helpdesk.channel.kpi"].get_dashboard("7d")
        [tile] = [
            tile
            for tile in data["tiles"]
            if tile["channel_id"][0] == self.whatsapp.id
            and tile["company_id"][0] == self.env.company.id
        ]
        self.assertEqual(tile["channel_code"], "whatsapp")
        self.assertTrue(tile["is_social"])
        self.assertEqual(tile["open_count"], 1)
        self.assertIn(
            {"id": self.whatsapp.id, "name": "WhatsApp"},
            data["heatmap"]["channels"],
        )


@tagged("post_install", "-at_install")
class TestWhatsAppDemo(SocialCase):
    """The demo dataset's WhatsApp conversations become WhatsApp tickets, one
    per customer."""

    def test_the_demo_replays_whatsapp_conversations(self):
        with open(DATASET, encoding="utf-8") as file:
            items = [
                item
                for item in json.load(file)["messages"]
                if item["channel"] == "whatsapp"
            ]
        self.deliver(*items)
        messages = self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("channel_code", "=", "whatsapp")]
        )
        self.assertEqual(len(messages), len(items))
        tickets = messages.ticket_id
        customers = {item["author"]["id"] for item in items}
        self.assertEqual(len(tickets), len(customers), "one ticket per customer")
        self.assertEqual(set(tickets.mapped("social_network")), {"whatsapp"})
        self.assertEqual(set(tickets.mapped("social_kind")), {"private"})
        self.assertTrue(messages.filtered("from_ad"), "a conversation from an ad")
