# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).

from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import execute_kw

RAW = """From: Client <{sender}>
To: support@example.com
Subject: Refund for order {order}
Message-ID: <order-{order}@example.com>
Date: Mon, 16 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

Please refund order {order}.
"""


@tagged("post_install", "-at_install")
class TestEmailChannel(HttpCase):
    """Every incoming email becomes a ticket of the Email channel, whatever
    the path (fetchmail, odoo-mailgate, message_process over RPC), so that the
    email-scoped rules and SLA policies apply to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_email")
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Refunds by email", "use_sla": True}
        )
        cls.rule = cls.env["helpdesk.ticket.rule"].create(
            {
                "name": "Email refunds",
                "company_id": cls.env.company.id,
                "channel_ids": [Command.set(cls.email.ids)],
                "keywords": "refund",
                "team_id": cls.team.id,
            }
        )
        cls.policy = cls.env.ref("social_helpdesk.sla_email_web_first_response")

    def assertEmailTicket(self, ticket_id):
        ticket = self.env["helpdesk.ticket"].browse(ticket_id)
        self.assertEqual(ticket.channel_id, self.email)
        self.assertEqual(ticket.team_id, self.team, "the email-scoped rule applied")
        self.assertIn(self.rule, ticket.rule_ids)
        self.assertIn(self.policy, ticket.sla_ids, "the email SLA policy applies")
        self.assertTrue(ticket.sla_first_response_deadline)

    def test_mail_gateway(self):
        """What odoo-mailgate and fetchmail do: message_process on the raw
        email."""
        ticket_id = self.env["mail.thread"].message_process(
            "helpdesk.ticket", RAW.format(sender="gateway@example.com", order=71)
        )
        self.assertEmailTicket(ticket_id)

    def test_message_process_over_json_rpc(self):
        response = execute_kw(
            self,
            self.env.ref("base.user_admin"),
            "mail.thread",
            "message_process",
            ["helpdesk.ticket", RAW.format(sender="rpc@example.com", order=72)],
        ).json()
        self.assertNotIn("error", response)
        self.assertEmailTicket(response["result"])

    def test_given_channel_is_kept(self):
        phone = self.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_phone")
        ticket = self.env["helpdesk.ticket"].message_new(
            {"subject": "Called about a refund", "body": "<p>Refund</p>"},
            custom_values={"channel_id": phone.id},
        )
        self.assertEqual(ticket.channel_id, phone)
