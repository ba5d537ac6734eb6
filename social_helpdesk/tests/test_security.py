# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SocialCase, demo_item


@tagged("post_install", "-at_install")
class TestCredentialsAccess(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.sudo().write({"x_api_secret": "do-not-leak"})
        cls.agent = new_test_user(
            cls.env,
            "social_agent",
            groups="helpdesk_mgmt.group_helpdesk_user,base.group_allow_export",
        )
        cls.manager = new_test_user(
            cls.env,
            "social_manager",
            groups="helpdesk_mgmt.group_helpdesk_manager,base.group_allow_export",
        )
        cls.credentials = [
            name
            for name, field in cls.env["social.account"]._fields.items()
            if field.groups == "base.group_system"
        ]

    def test_credential_fields_are_admin_only(self):
        self.assertIn("x_api_secret", self.credentials)
        self.assertIn("meta_page_access_token", self.credentials)
        self.assertIn("demo_webhook_secret", self.credentials)

    def test_agent_and_manager_cannot_read_credentials(self):
        for user in (self.agent, self.manager):
            account = self.account.with_user(user)
            self.assertEqual(account.name, "Test demo account")
            for name in self.credentials:
                with self.assertRaises(AccessError, msg=f"{user.login} {name}"):
                    account.read([name])
            with self.assertRaises(AccessError):
                account.search_read([], ["x_api_secret"])
            with self.assertRaises(AccessError):
                account.export_data(["x_api_secret"])

    def test_agent_cannot_read_raw_events(self):
        self.deliver(demo_item("hello"))
        with self.assertRaises(AccessError):
            self.env["social.event"].with_user(self.agent).search([])

    def test_agent_sees_the_social_ticket(self):
        item = demo_item("visible to agents")
        self.deliver(item)
        ticket = self.message_of(item).ticket_id.with_user(self.manager)
        self.assertTrue(ticket.social_message_ids)
        self.assertEqual(ticket.social_account_id.name, "Test demo account")

    def test_admin_reads_credentials(self):
        self.assertEqual(self.account.sudo().x_api_secret, "do-not-leak")

    def test_credentials_are_not_tracked(self):
        self.account.sudo().write({"meta_app_secret": "tracked?"})
        bodies = " ".join(
            str(v)
            for v in self.account.message_ids.tracking_value_ids.mapped(
                lambda t: (t.old_value_char, t.new_value_char)
            )
        )
        self.assertNotIn("tracked?", bodies)

    def test_events_follow_their_accounts_company(self):
        """Each company's administrators see its own accounts' raw events
        only (the event's company is its account's, not a copy)."""
        other = self.env["res.company"].create({"name": "Other social company"})
        elsewhere = self.account.copy(
            {
                "name": "Other company's account",
                "company_id": other.id,
                "team_id": False,
            }
        )
        self.store(demo_item("ours"))
        self.store(demo_item("theirs"), account=elsewhere)
        admin = new_test_user(
            self.env,
            "social_other_admin",
            groups="base.group_system",
            company_id=other.id,
            company_ids=[(6, 0, [other.id])],
        )
        events = self.env["social.event"].with_user(admin).search([])
        self.assertEqual(events.account_id, elsewhere)
        self.assertEqual(events.company_id, other)
