# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests import HttpCase, tagged

from .common import demo_item


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """Browser tours in Chromium (skipped by Odoo where Chromium is absent)."""

    def test_agent_answers_a_social_ticket(self):
        team = self.env["helpdesk.ticket.team"].create({"name": "Tour team"})
        account = self.env["social.account"].create(
            {"name": "Tour demo", "network": "demo", "team_id": team.id}
        )
        item = demo_item(
            "My espresso machine leaks", author="u-tour", handle="tour_customer"
        )
        events = account._get_adapter().split_delivery({"messages": [item]})
        self.env["social.event"]._store(account, events)
        self.env["social.event"]._cron_process()
        ticket = (
            self.env["social.message"]
            .search([("account_id", "=", account.id)])
            .ticket_id
        )
        self.start_tour(
            f"/odoo/helpdesk.ticket/{ticket.id}",
            "social_helpdesk_reply_tour",
            login="admin",
        )
        reply = ticket.social_reply_ids
        self.assertEqual(reply.state, "sent")
        self.assertEqual(reply.user_id, self.env.ref("base.user_admin"))
        self.assertTrue(ticket.first_response_date)
