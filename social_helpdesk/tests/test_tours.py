# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .fakes.fake_x import FakeXServer
from .test_replies import BRAND_ID, CUSTOMER_ID, x_account


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """Browser tours in Chromium (skipped by Odoo where Chromium is absent)."""

    def test_agent_answers_a_social_ticket(self):
        """A personal-tickets agent answers an X mention: the cursor in the
        reply, the server's count (URLs 23, emoji 2), Send disabled past 280,
        a canned response by ::, Ctrl+Enter; the reply goes out on X."""
        fake = FakeXServer(me_id=BRAND_ID, me_username="CafeBrand").start()
        self.addCleanup(fake.stop)
        fake.add_user(CUSTOMER_ID, "maria_r", "María Ruiz")
        team = self.env["helpdesk.ticket.team"].create({"name": "Tour team"})
        agent = new_test_user(
            self.env,
            "tour_agent",
            name="Tour Agent",
            groups="helpdesk_mgmt.group_helpdesk_user_own,base.group_user",
        )
        team.user_ids = [Command.link(agent.id)]
        account = x_account(self.env, fake, team)
        fake.add_mention(CUSTOMER_ID, "my grinder is broken")
        account._poll()
        self.env["social.event"]._cron_process()
        ticket = (
            self.env["social.message"]
            .search([("account_id", "=", account.id)])
            .ticket_id
        )
        self.start_tour(
            f"/odoo/helpdesk.ticket/{ticket.id}",
            "social_helpdesk_reply_tour",
            login="tour_agent",
        )
        reply = ticket.social_reply_ids
        self.assertEqual(len(reply), 1, "the too long text was never queued")
        self.assertEqual(reply.state, "queued", "sent once the request is done")
        self.assertEqual(reply.kind, "public")
        self.assertEqual(reply.user_id, agent)
        self.assertTrue(
            reply.text.startswith("@maria_r Hi María Ruiz, thanks for reaching out!")
        )
        self.assertTrue(reply.text.endswith(" 👍"), "picked in the emoji picker")
        self.assertEqual(account._get_adapter().text_length(reply.text), 154)
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "sent")
        [post] = fake.posts_by(BRAND_ID)
        self.assertEqual(post["text"], reply.text)
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
