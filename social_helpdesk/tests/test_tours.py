# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests import HttpCase, new_test_user, tagged

from .common import demo_item


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """Browser tours in Chromium (skipped by Odoo where Chromium is absent)."""

    def test_agent_answers_a_social_ticket(self):
        team = self.env["helpdesk.ticket.team"].create({"name": "Tour team"})
        account = self.env["social.account"].create(
            {
                "name": "Tour demo",
                "network": "demo",
                "state": "connected",
                "team_id": team.id,
            }
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
        self.assertEqual(reply.state, "queued", "sent once the request is done")
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(reply.user_id, self.env.ref("base.user_admin"))
        self.assertTrue(ticket.first_response_date)

    def test_admin_connects_the_demo_account_through_the_wizard(self):
        team = self.env["helpdesk.ticket.team"].create({"name": "Tour setup team"})
        # The company's demo account (demo data) would refuse a second one.
        self.env["social.account"].search([("network", "=", "demo")]).active = False
        self.start_tour(
            "/odoo/action-social_helpdesk.social_account_action",
            "social_helpdesk_setup_tour",
            login="admin",
        )
        account = self.env["social.account"].search([("name", "=", "Tour demo shop")])
        self.assertEqual(account.network, "demo")
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.team_id, team)
        self.assertTrue(account.poll_enabled)
        self.assertEqual(
            self.env["social.event"].search_count([("account_id", "=", account.id)]),
            1,
            "the wizard's test event went into the event store",
        )

    def test_manager_drills_into_breached_x_tickets(self):
        manager = new_test_user(
            self.env,
            "tour_kpi_manager",
            groups="helpdesk_mgmt.group_helpdesk_manager,base.group_user",
        )
        Ticket = self.env["helpdesk.ticket"]
        x = self.env.ref("social_helpdesk.channel_x")
        email = self.env.ref("helpdesk_mgmt.helpdesk_ticket_channel_email")
        tickets = {
            "Tour breached X ticket": (x, "breached"),
            "Tour on-track X ticket": (x, "on_track"),
            "Tour breached email ticket": (email, "breached"),
        }
        for name, (channel, status) in tickets.items():
            ticket = Ticket.create(
                {"name": name, "description": name, "channel_id": channel.id}
            )
            # The SLA cron's verdict, as it stores it.
            self.env.cr.execute(
                "UPDATE helpdesk_ticket SET sla_status = %s WHERE id = %s",
                [status, ticket.id],
            )
        self.start_tour(
            "/odoo/action-social_helpdesk.helpdesk_channel_dashboard_action",
            "social_helpdesk_kpi_tour",
            login=manager.login,
        )
