# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The security model (README.md, "Security model"), tried over the real
JSON-RPC API as attackers would: real users of every role, in two companies
and two teams, call what any logged-in user can call. Each object and each
public action is tried by a role that may and by one that may not."""

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import demo_item, execute_kw

ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"
VALIDATION_ERROR = "odoo.exceptions.ValidationError"

# Every public method of the addon's models that a user can call over RPC, and
# the test that tries it allowed and denied.
RPC_ACTIONS = {
    ("social.account", "action_test_connection"): "test_admin_only_account_actions",
    ("social.account", "action_open_setup"): "test_admin_only_account_actions",
    ("social.account", "action_backfill"): "test_admin_only_account_actions",
    ("social.account", "action_meta_subscribe"): "test_admin_only_account_actions",
    ("social.account", "action_rotate_webhook_token"): (
        "test_admin_only_account_actions"
    ),
    ("social.account", "action_retry_error_events"): (
        "test_admin_only_account_actions"
    ),
    ("social.account", "action_sync_now"): "test_poll_on_demand",
    ("social.account", "action_x_check_subscriptions"): "test_x_subscription_actions",
    ("social.account", "action_x_subscribe"): "test_x_subscription_actions",
    ("social.account", "action_x_unsubscribe"): "test_x_subscription_actions",
    ("social.account", "action_view_events"): "test_admin_only_account_actions",
    # tests/test_whatsapp_outbound.py
    ("social.account", "action_whatsapp_sync_templates"): (
        "test_company_b_cannot_sync_or_use_company_a_templates"
    ),
    ("social.event", "action_retry"): "test_raw_events_are_admin_only",
    ("social.reply", "action_retry"): "test_retry_a_reply",
    ("social.identity", "action_block"): "test_block_and_unblock",
    ("social.identity", "action_unblock"): "test_block_and_unblock",
    ("social.identity.link.wizard", "action_link"): "test_link_wizard",
    ("social.reply.wizard", "action_send"): "test_composer",
    ("helpdesk.ticket", "action_social_reply"): "test_composer",
    ("helpdesk.ticket", "action_responded_by_phone"): "test_ticket_actions",
    ("helpdesk.ticket", "action_social_to_lead"): "test_move_a_conversation",
    ("crm.lead", "action_social_to_ticket"): "test_move_a_conversation",
    ("helpdesk.channel.kpi", "action_open_tickets"): "test_dashboard",
    ("helpdesk.channel.kpi", "action_open_at_risk"): "test_dashboard",
    ("helpdesk.channel.kpi", "action_open_breached"): "test_dashboard",
    ("social.account.setup.wizard", "*"): "test_admin_only_wizards",
    ("social.account.backfill.wizard", "*"): "test_admin_only_wizards",
}


@tagged("post_install", "-at_install")
class TestSecurityMatrix(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_a = env.company
        cls.company_b = env["res.company"].create({"name": "Company B (security)"})
        Team = env["helpdesk.ticket.team"]
        cls.team_a1 = Team.create({"name": "A1", "company_id": cls.company_a.id})
        cls.team_a2 = Team.create({"name": "A2", "company_id": cls.company_a.id})
        cls.team_b1 = Team.create({"name": "B1", "company_id": cls.company_b.id})
        Account = env["social.account"]

        def account(name, company, team):
            return Account.create(
                {
                    "name": name,
                    "network": "demo",
                    "state": "connected",
                    "company_id": company.id,
                    "team_id": team.id,
                    "x_api_secret": f"secret-{name}",
                }
            )

        cls.account_a1 = account("A1 brand", cls.company_a, cls.team_a1)
        cls.account_a2 = account("A2 brand", cls.company_a, cls.team_a2)
        cls.account_b1 = account("B1 brand", cls.company_b, cls.team_b1)

        def user(login, groups, company=None, teams=()):
            company = company or cls.company_a
            created = new_test_user(
                env,
                login,
                groups=groups,
                password=login,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )
            for team in teams:
                team.user_ids = [Command.link(created.id)]
            return created

        cls.users = {
            "portal": user("sec_portal", "base.group_portal"),
            "own_a1": user(
                "sec_own_a1",
                "helpdesk_mgmt.group_helpdesk_user_own",
                teams=[cls.team_a1],
            ),
            "team_a1": user(
                "sec_team_a1",
                "helpdesk_mgmt.group_helpdesk_user_team",
                teams=[cls.team_a1],
            ),
            "all_a": user("sec_all_a", "helpdesk_mgmt.group_helpdesk_user"),
            "manager_a": user(
                "sec_manager_a",
                "helpdesk_mgmt.group_helpdesk_manager,base.group_allow_export",
            ),
            "manager_b": user(
                "sec_manager_b",
                "helpdesk_mgmt.group_helpdesk_manager,base.group_allow_export",
                company=cls.company_b,
            ),
            "team_b1": user(
                "sec_team_b1",
                "helpdesk_mgmt.group_helpdesk_user_team",
                company=cls.company_b,
                teams=[cls.team_b1],
            ),
            "sales_a": user("sec_sales_a", "sales_team.group_sale_salesman"),
            "admin_a": user(
                "sec_admin_a",
                "base.group_system,helpdesk_mgmt.group_helpdesk_manager",
            ),
        }
        cls.messages = {
            "a1": cls._receive(cls.account_a1, "A1: my parcel", "u-a1"),
            "a1_taken": cls._receive(cls.account_a1, "A1: taken by team", "u-a1b"),
            "a2": cls._receive(cls.account_a2, "A2: DM me", "u-a2", kind="private"),
            "b1": cls._receive(
                cls.account_b1, "B1: where is my order", "u-b1", kind="private"
            ),
        }
        cls.messages["a1_taken"].ticket_id.user_id = cls.users["team_a1"]
        cls.tickets = {key: msg.ticket_id for key, msg in cls.messages.items()}
        Reply = env["social.reply"]
        cls.replies = {
            key: Reply._queue(cls.messages[key], kind, f"Answer {key}")
            for key, kind in (("a1", "public"), ("a2", "private"), ("b1", "private"))
        }
        cls.replies["a1"].write({"state": "failed", "error": "network down"})
        Rule = env["helpdesk.ticket.rule"]
        cls.rule_a = Rule.create({"name": "A rule", "company_id": cls.company_a.id})
        cls.rule_b = Rule.create({"name": "B rule", "company_id": cls.company_b.id})
        cls.rule_shared = Rule.create({"name": "Shared rule", "company_id": False})

    @classmethod
    def _receive(cls, account, text, author, kind="public"):
        item = demo_item(text, author=author, kind=kind, conversation=f"c-{author}")
        events = account._get_adapter().split_delivery({"messages": [item]})
        cls.env["social.event"]._store(account, events)
        cls.env["social.event"]._cron_process()
        return cls.env["social.message"].search(
            [("account_id", "=", account.id), ("external_id", "=", item["id"])]
        )

    # -- JSON-RPC ------------------------------------------------------------
    def rpc(self, who, model, method, *args, **kwargs):
        """``execute_kw`` on /jsonrpc as user ``who``: (result, error name)."""
        with mute_logger("odoo.http"):  # refusals are logged as warnings
            answer = execute_kw(
                self, self.users[who], model, method, list(args), kwargs
            ).json()
        if "error" in answer:
            return None, answer["error"]["data"]["name"]
        return answer.get("result"), None

    def allowed(self, who, model, method, *args, **kwargs):
        result, error = self.rpc(who, model, method, *args, **kwargs)
        self.assertIsNone(error, f"{who}: {model}.{method} refused")
        return result

    def denied(self, who, model, method, *args, errors=(ACCESS_ERROR,), **kwargs):
        if method == "export_data" and not self.users[who].has_group(
            "base.group_allow_export"
        ):
            errors = (*errors, USER_ERROR)  # refused before any access check
        result, error = self.rpc(who, model, method, *args, **kwargs)
        self.assertIn(error, errors, f"{who}: {model}.{method} answered {result}")

    def visible(self, who, model, domain=None):
        return {
            row["id"]
            for row in self.allowed(who, model, "search_read", domain or [], ["id"])
        }

    # -- reading ------------------------------------------------------------
    def test_messages_are_visible_where_their_ticket_is(self):
        ids = {key: message.id for key, message in self.messages.items()}
        expected = {
            "own_a1": {"a1"},
            "team_a1": {"a1", "a1_taken"},
            "all_a": {"a1", "a1_taken", "a2"},
            "manager_a": {"a1", "a1_taken", "a2"},
            "manager_b": {"b1"},
            "team_b1": {"b1"},
        }
        for who, keys in expected.items():
            seen = self.visible(who, "social.message") & set(ids.values())
            self.assertEqual(seen, {ids[key] for key in keys}, who)
            tickets = self.visible(who, "helpdesk.ticket")
            for key in keys:
                self.assertIn(self.tickets[key].id, tickets, f"{who} ticket {key}")
        self.denied("portal", "social.message", "search_read", [], ["text"])
        # A direct read of another team's DM is refused, not emptied.
        self.denied("own_a1", "social.message", "read", [ids["a2"]], ["text"])
        self.denied("manager_b", "social.message", "read", [ids["a1"]], ["text"])
        # Nor does grouping or exporting reach them.
        groups = self.allowed(
            "manager_b",
            "social.message",
            "read_group",
            [],
            ["text"],
            ["text"],
            lazy=False,
        )
        self.assertEqual([g["text"] for g in groups], ["B1: where is my order"])
        exported = self.allowed(
            "manager_b", "social.message", "export_data", [ids["b1"]], ["text"]
        )
        self.assertEqual(exported["datas"], [["B1: where is my order"]])
        self.denied("manager_b", "social.message", "export_data", [ids["a1"]], ["text"])

    def test_replies_are_visible_where_their_ticket_is(self):
        ids = {key: reply.id for key, reply in self.replies.items()}
        expected = {
            "own_a1": {"a1"},
            "team_a1": {"a1"},
            "all_a": {"a1", "a2"},
            "manager_b": {"b1"},
        }
        for who, keys in expected.items():
            seen = self.visible(who, "social.reply") & set(ids.values())
            self.assertEqual(seen, {ids[key] for key in keys}, who)
        self.denied("portal", "social.reply", "search_read", [], ["text"])

    # -- replies: only through the composer ---------------------------------
    def test_replies_cannot_be_created_or_written(self):
        target = self.messages["b1"]
        values = {
            "ticket_id": target.ticket_id.id,
            "account_id": target.account_id.id,
            "target_id": target.id,
            "kind": "private",
            "text": "Spoken for company B",
        }
        other_post = self.tickets["a2"].message_ids[-1:]
        for who in ("own_a1", "all_a", "manager_a", "manager_b", "admin_a"):
            self.denied(who, "social.reply", "create", values)
        for who in ("own_a1", "manager_a", "admin_a"):
            self.denied(
                who,
                "social.reply",
                "write",
                [self.replies["a1"].id],
                {"mail_message_id": other_post.id, "state": "queued"},
            )
            self.denied(who, "social.reply", "unlink", [self.replies["a1"].id])
        self.assertEqual(self.replies["a1"].state, "failed")
        self.assertEqual(
            self.replies["a1"].mail_message_id.res_id, self.tickets["a1"].id
        )

    def test_retry_a_reply(self):
        reply_a1, reply_b1 = self.replies["a1"], self.replies["b1"]
        reply_b1.write({"state": "failed"})
        self.denied("manager_b", "social.reply", "action_retry", [reply_a1.id])
        self.denied("own_a1", "social.reply", "action_retry", [reply_b1.id])
        self.denied("team_a1", "social.reply", "action_retry", [self.replies["a2"].id])
        self.assertEqual(reply_a1.state, "failed")
        self.allowed("own_a1", "social.reply", "action_retry", [reply_a1.id])
        self.assertEqual(reply_a1.state, "queued")
        # Its chatter message shows the new state, and no other message moved.
        self.assertIn("Queued", str(reply_a1.mail_message_id.body))

    def test_a_reply_updates_only_its_own_chatter_message(self):
        reply = self.replies["a1"]
        foreign = self.tickets["a2"].message_ids[-1:]
        before = foreign.body
        reply.sudo().mail_message_id = foreign  # e.g. data imported by hand
        reply.sudo().action_retry()
        self.assertEqual(foreign.body, before)

    def test_composer(self):
        ticket_a1, ticket_b1 = self.tickets["a1"], self.tickets["b1"]
        self.allowed("own_a1", "helpdesk.ticket", "action_social_reply", [ticket_a1.id])
        self.denied("own_a1", "helpdesk.ticket", "action_social_reply", [ticket_b1.id])
        # Refused, and nothing queued: another company's ticket and message,
        # another team's ticket, and another company's message answered from
        # one's own ticket.
        attempts = [
            (ticket_b1, self.messages["b1"], "Hijacked", (ACCESS_ERROR,)),
            (self.tickets["a2"], self.messages["a2"], "Not my team", (ACCESS_ERROR,)),
            (
                ticket_a1,
                self.messages["b1"],
                "Through mine",
                (ACCESS_ERROR, USER_ERROR),
            ),
        ]
        for ticket, target, text, errors in attempts:
            values = {
                "ticket_id": ticket.id,
                "target_id": target.id,
                "kind": "private",
                "text": text,
            }
            wizard_id = self.allowed("own_a1", "social.reply.wizard", "create", values)
            self.denied(
                "own_a1",
                "social.reply.wizard",
                "action_send",
                [wizard_id],
                errors=errors,
            )
        Reply = self.env["social.reply"]
        texts = [text for _ticket, _target, text, _errors in attempts]
        self.assertFalse(Reply.search([("text", "in", texts)]))
        # The agent's own ticket: published, as the agent.
        wizard_id = self.allowed(
            "own_a1",
            "social.reply.wizard",
            "create",
            {"ticket_id": ticket_a1.id, "kind": "public", "text": "On it!"},
        )
        self.allowed("own_a1", "social.reply.wizard", "action_send", [wizard_id])
        sent = Reply.search([("text", "=", "On it!")])
        self.assertEqual(sent.state, "queued")
        sent._deliver()
        self.assertEqual(sent.state, "sent")
        self.assertEqual(sent.user_id, self.users["own_a1"])
        self.denied(
            "portal", "social.reply.wizard", "create", {"ticket_id": ticket_a1.id}
        )

    def test_a_reply_image_is_read_as_its_reply(self):
        """The image kept for the send job is readable where its reply is:
        by the team's agents, not another team's or company's, nor a portal
        user; and nobody writes the reply to swap it."""
        reply = self.replies["a1"]
        image = self.env["ir.attachment"].create(
            {
                "name": "fix.png",
                "raw": b"\x89PNG\r\n\x1a\n",
                "res_model": "social.reply",
                "res_id": reply.id,
            }
        )
        reply.image_id = image
        for who in ("own_a1", "team_a1", "all_a", "manager_a"):
            [row] = self.allowed(who, "ir.attachment", "read", [image.id], ["name"])
            self.assertEqual(row["name"], "fix.png")
        for who in ("team_b1", "manager_b", "portal", "sales_a"):
            self.denied(who, "ir.attachment", "read", [image.id], ["name"])
        self.denied("own_a1", "social.reply", "write", [reply.id], {"image_id": False})

    def test_send_job_checks_again_at_delivery(self):
        reply = self.replies["a2"]
        self.assertEqual(reply.state, "queued")
        # Between queueing and sending, the account moved to company B.
        self.account_a2.write({"company_id": self.company_b.id, "team_id": False})
        reply.sudo().invalidate_recordset()
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("does not answer for this ticket", reply.error)
        # A disconnected account sends nothing either.
        self.account_a2.company_id = self.company_a
        self.account_b1.state = "error"
        self.env["social.reply"]._cron_send()
        self.assertEqual(self.replies["b1"].state, "failed")
        self.assertIn("not connected", self.replies["b1"].error)

    def test_send_job_checks_length_at_delivery(self):
        reply = self.replies["a2"]
        reply.sudo().text = "x" * 5000  # e.g. written by a bad migration
        self.env["social.reply"]._cron_send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("characters long", reply.error)

    # -- accounts -----------------------------------------------------------
    def test_poll_on_demand(self):
        account = self.account_a1.id
        for who in ("own_a1", "team_a1", "all_a", "portal"):
            self.denied(who, "social.account", "action_sync_now", [account])
        self.denied("manager_b", "social.account", "action_sync_now", [account])
        self.allowed("manager_a", "social.account", "action_sync_now", [account])

    def test_admin_only_account_actions(self):
        account = self.account_a1.id
        for method in (
            "action_test_connection",
            "action_open_setup",
            "action_backfill",
            "action_meta_subscribe",
            "action_rotate_webhook_token",
            "action_retry_error_events",
        ):
            for who in ("all_a", "manager_a", "manager_b"):
                self.denied(who, "social.account", method, [account])
        token = self.account_a1.webhook_token
        self.allowed(
            "admin_a", "social.account", "action_rotate_webhook_token", [account]
        )
        self.assertNotEqual(self.account_a1.webhook_token, token)
        self.allowed(
            "admin_a", "social.account", "action_retry_error_events", [account]
        )
        self.allowed("admin_a", "social.account", "action_backfill", [account])
        # Opening the events list is harmless; the events themselves are not.
        self.allowed("manager_a", "social.account", "action_view_events", [account])
        self.denied("manager_a", "social.event", "search_read", [], ["payload"])

    def test_x_subscription_actions(self):
        """Checking, creating and deleting an account's X subscriptions are
        the administrators' (they change what X delivers)."""
        account = self.account_a1.id
        methods = (
            "action_x_check_subscriptions",
            "action_x_subscribe",
            "action_x_unsubscribe",
        )
        for method in methods:
            for who in ("all_a", "manager_a", "manager_b"):
                self.denied(who, "social.account", method, [account])
            # A demo account has no X subscriptions: allowed, and nothing to do.
            self.allowed("admin_a", "social.account", method, [account])
        for who in ("manager_a", "all_a"):
            for field in ("x_oauth2_refresh_token", "x_oauth2_client_secret"):
                self.denied(who, "social.account", "read", [account], [field])
        self.denied(
            "manager_a",
            "social.account",
            "write",
            [account],
            {"x_webhook_product": "aaa"},
        )
        self.allowed(
            "manager_a",
            "social.account",
            "write",
            [account],
            {"recovery_after_minutes": 45},
        )

    def test_account_fields(self):
        account = self.account_a1.id
        self.allowed(
            "manager_a",
            "social.account",
            "write",
            [account],
            {"poll_interval_minutes": 9},
        )
        for values in (
            {"company_id": self.company_b.id},
            {"meta_page_id": "123"},
            {"state": "connected"},
            {"poll_cursors": {"x": 1}},
            {"x_api_secret": "mine"},
        ):
            self.denied("manager_a", "social.account", "write", [account], values)
        self.denied(
            "manager_b",
            "social.account",
            "write",
            [account],
            {"poll_interval_minutes": 1},
        )
        self.denied(
            "manager_a", "social.account", "create", {"name": "x", "network": "demo"}
        )
        for who in ("manager_a", "all_a"):
            self.denied(
                who,
                "social.account",
                "read_group",
                [],
                ["x_api_secret"],
                ["x_api_secret"],
            )
            self.denied(
                who, "social.account", "export_data", [account], ["x_api_secret"]
            )
        # Another company's account is out of sight.
        self.assertNotIn(account, self.visible("manager_b", "social.account"))
        self.allowed(
            "admin_a", "social.account", "write", [account], {"meta_page_id": "123"}
        )

    def test_raw_events_are_admin_only(self):
        events = (
            self.env["social.event"]
            .search([("account_id", "=", self.account_a1.id)])
            .ids
        )
        for who in ("own_a1", "all_a", "manager_a", "portal"):
            self.denied(who, "social.event", "search_read", [], ["payload"])
            self.denied(who, "social.event", "action_retry", events[:1])
        self.assertTrue(self.visible("admin_a", "social.event"))
        self.allowed("admin_a", "social.event", "action_retry", events[:1])

    def test_api_reads_and_prices(self):
        for who in ("all_a", "manager_a"):
            self.denied(who, "social.api.read", "search_read", [], ["resource_key"])
        self.allowed("manager_a", "social.api.price", "search_read", [], ["name"])
        self.denied("all_a", "social.api.price", "search_read", [], ["name"])
        price = self.env["social.api.price"].search([], limit=1).id
        self.denied(
            "manager_a", "social.api.price", "write", [price], {"unit_price": 0}
        )
        self.allowed("admin_a", "social.api.price", "write", [price], {"unit_price": 0})

    # -- customers ----------------------------------------------------------
    def test_block_and_unblock(self):
        identity = self.messages["a1"].identity_id
        for who in ("own_a1", "team_a1", "all_a"):
            self.denied(who, "social.identity", "action_block", [identity.id])
            self.denied(
                who, "social.identity", "write", [identity.id], {"blocked": True}
            )
        # A company-B manager cannot silence company A's customer.
        self.denied("manager_b", "social.identity", "action_block", [identity.id])
        self.assertFalse(identity.blocked)
        self.allowed("manager_a", "social.identity", "action_block", [identity.id])
        self.assertTrue(identity.blocked)
        trace = identity.partner_id.message_ids[:1]
        self.assertIn("was blocked", str(trace.body))
        self.assertEqual(trace.author_id, self.users["manager_a"].partner_id)
        self.allowed("manager_a", "social.identity", "action_unblock", [identity.id])
        self.assertFalse(identity.blocked)
        self.assertIn("was unblocked", str(identity.partner_id.message_ids[:1].body))

    def test_link_wizard(self):
        identity = self.messages["a1"].identity_id
        contact = self.env["res.partner"].create({"name": "Ana, who also phoned"})
        values = {"identity_id": identity.id, "partner_id": contact.id}
        for who in ("own_a1", "team_a1"):
            self.denied(who, "social.identity.link.wizard", "create", values)
        self.denied(
            "manager_b",
            "social.identity.link.wizard",
            "action_link",
            [
                self.allowed(
                    "manager_b", "social.identity.link.wizard", "create", values
                )
            ],
        )
        self.assertNotEqual(identity.partner_id, contact)
        wizard = self.allowed("all_a", "social.identity.link.wizard", "create", values)
        self.allowed("all_a", "social.identity.link.wizard", "action_link", [wizard])
        self.assertEqual(identity.partner_id, contact)
        self.assertEqual(self.tickets["a1"].partner_id, contact)
        self.assertIn("was linked to this contact", str(contact.message_ids[:1].body))

    # -- rules --------------------------------------------------------------
    def test_rules_per_company(self):
        rules = {
            "a": self.rule_a.id,
            "b": self.rule_b.id,
            "shared": self.rule_shared.id,
        }
        seen_b = self.visible("manager_b", "helpdesk.ticket.rule")
        self.assertIn(rules["b"], seen_b)
        self.assertIn(rules["shared"], seen_b)
        self.assertNotIn(rules["a"], seen_b)
        self.denied(
            "manager_b",
            "helpdesk.ticket.rule",
            "write",
            [rules["a"]],
            {"ack_public_text": "Spoken by B"},
        )
        self.allowed(
            "manager_b", "helpdesk.ticket.rule", "write", [rules["b"]], {"sequence": 3}
        )
        self.denied(
            "manager_b",
            "helpdesk.ticket.rule",
            "write",
            [rules["shared"]],
            {"sequence": 3},
        )
        self.denied(
            "manager_b",
            "helpdesk.ticket.rule",
            "create",
            {"name": "Into A", "company_id": self.company_a.id},
        )
        self.denied("manager_b", "helpdesk.ticket.rule", "unlink", [rules["shared"]])
        self.allowed(
            "admin_a",
            "helpdesk.ticket.rule",
            "write",
            [rules["shared"]],
            {"sequence": 4},
        )
        self.denied("all_a", "helpdesk.ticket.rule", "create", {"name": "Mine"})
        self.denied(
            "all_a", "helpdesk.ticket.rule", "write", [rules["a"]], {"sequence": 1}
        )
        self.denied("all_a", "helpdesk.rule.try.wizard", "create", {"text": "hola"})
        wizard = self.allowed(
            "manager_a", "helpdesk.rule.try.wizard", "create", {"text": "hola"}
        )
        result = self.allowed(
            "manager_a", "helpdesk.rule.try.wizard", "read", [wizard], ["outcome"]
        )
        self.assertTrue(result[0]["outcome"])
        # The sentiment lexicon is shared by every company: administrators edit it.
        term = self.env["helpdesk.sentiment.term"].search([], limit=1).id
        self.denied(
            "manager_a", "helpdesk.sentiment.term", "write", [term], {"term": "hola"}
        )
        self.allowed("all_a", "helpdesk.sentiment.term", "search_read", [], ["term"])

    def test_canned_responses_per_company(self):
        """Agents read their companies' canned responses and the shared ones
        and see them in the composer; managers change their companies';
        only administrators the shared ones."""
        Canned = self.env["social.canned.response"]
        ours = Canned.create(
            {"name": "A", "shortcut": "a", "body": "A", "company_id": self.company_a.id}
        ).id
        theirs = Canned.create(
            {"name": "B", "shortcut": "b", "body": "B", "company_id": self.company_b.id}
        ).id
        shared = self.env.ref("social_helpdesk.canned_response_on_it").id
        seen = self.visible("own_a1", "social.canned.response")
        self.assertIn(ours, seen)
        self.assertIn(shared, seen)
        self.assertNotIn(theirs, seen)
        self.denied("own_a1", "social.canned.response", "read", [theirs], ["body"])
        self.denied(
            "all_a", "social.canned.response", "write", [ours], {"body": "Mine"}
        )
        self.denied(
            "all_a", "social.canned.response", "create", {"name": "x", "body": "x"}
        )
        self.denied("portal", "social.canned.response", "search_read", [], ["body"])
        self.allowed(
            "manager_a", "social.canned.response", "write", [ours], {"body": "Ours"}
        )
        for record in (theirs, shared):
            self.denied(
                "manager_a",
                "social.canned.response",
                "write",
                [record],
                {"body": "Spoken by A"},
            )
        self.denied(
            "manager_a",
            "social.canned.response",
            "create",
            {"name": "Into B", "shortcut": "x", "body": "x", "company_id": False},
        )
        self.allowed(
            "manager_a",
            "social.canned.response",
            "create",
            {"name": "New", "shortcut": "new", "body": "New"},
        )
        self.allowed(
            "admin_a", "social.canned.response", "write", [shared], {"sequence": 5}
        )
        # The composer offers what the agent may read, nothing of company B.
        wizard = self.allowed(
            "own_a1",
            "social.reply.wizard",
            "create",
            {"ticket_id": self.tickets["a1"].id},
        )
        [values] = self.allowed(
            "own_a1", "social.reply.wizard", "read", [wizard], ["canned_responses"]
        )
        offered = {response["id"] for response in values["canned_responses"]}
        self.assertIn(ours, offered)
        self.assertIn(shared, offered)
        self.assertNotIn(theirs, offered)

    # -- reports ------------------------------------------------------------
    def test_dashboard(self):
        rows = self.allowed(
            "manager_b",
            "helpdesk.channel.kpi",
            "search_read",
            [],
            ["company_id", "open_count"],
        )
        self.assertEqual({row["company_id"][0] for row in rows}, {self.company_b.id})
        self.assertEqual(sum(row["open_count"] for row in rows), 1)
        self.denied("all_a", "helpdesk.channel.kpi", "search_read", [], ["open_count"])
        row = next(row for row in rows if row["open_count"])
        for method in (
            "action_open_tickets",
            "action_open_at_risk",
            "action_open_breached",
        ):
            action = self.allowed(
                "manager_b", "helpdesk.channel.kpi", method, [row["id"]]
            )
            self.assertIn(
                ("company_id", "=", self.company_b.id),
                [tuple(t) for t in action["domain"] if isinstance(t, list)],
            )
        self.denied(
            "manager_a", "helpdesk.channel.kpi", "action_open_tickets", [row["id"]]
        )
        # The dashboard's client action: its tiles and heatmap, own company only.
        data = self.allowed("manager_b", "helpdesk.channel.kpi", "get_dashboard", "30d")
        self.assertEqual(
            {tile["company_id"][0] for tile in data["tiles"]}, {self.company_b.id}
        )
        self.assertEqual(sum(tile["open_count"] for tile in data["tiles"]), 1)
        self.assertLessEqual(sum(cell["count"] for cell in data["heatmap"]["cells"]), 1)
        self.denied("all_a", "helpdesk.channel.kpi", "get_dashboard", "30d")

    def test_kpi_report(self):
        tickets = {key: ticket.id for key, ticket in self.tickets.items()}
        rows = self.allowed(
            "own_a1", "helpdesk.ticket.kpi.report", "search_read", [], ["ticket_id"]
        )
        seen = {row["ticket_id"][0] for row in rows if row["ticket_id"]}
        self.assertEqual(seen & set(tickets.values()), {tickets["a1"]})
        rows = self.allowed(
            "manager_b", "helpdesk.ticket.kpi.report", "search_read", [], ["ticket_id"]
        )
        seen = {row["ticket_id"][0] for row in rows if row["ticket_id"]}
        self.assertEqual(seen & set(tickets.values()), {tickets["b1"]})
        self.denied("portal", "helpdesk.ticket.kpi.report", "search_read", [], ["name"])

    def test_frequent_questions(self):
        """Its rows are their tickets': an agent's own, a manager's company's."""
        Topic = "helpdesk.ticket.topic.report"
        delivery = self.env["helpdesk.ticket.category"].create({"name": "Delivery"})
        for ticket in self.tickets.values():
            ticket.category_id = delivery
        tickets = {key: ticket.id for key, ticket in self.tickets.items()}
        for who, key in (("own_a1", "a1"), ("manager_b", "b1")):
            rows = self.allowed(who, Topic, "search_read", [], ["ticket_id"])
            seen = {row["ticket_id"][0] for row in rows}
            self.assertEqual(seen & set(tickets.values()), {tickets[key]}, who)
        groups = self.allowed(
            "manager_b", Topic, "read_group", [], ["topic"], ["company_id"]
        )
        self.assertEqual(
            {group["company_id"][0] for group in groups}, {self.company_b.id}
        )
        self.denied("portal", Topic, "search_read", [], ["topic"])

    def test_a_ticket_is_never_given_another_conversation(self):
        """A company-B agent who may write their ticket cannot tie it to
        company A's account and thread, which would route A's customer there."""
        ticket_b1, ticket_a1 = self.tickets["b1"], self.tickets["a1"]
        for values in (
            {"social_account_id": self.account_a1.id},
            {"social_thread_key": ticket_a1.social_thread_key},
            {"first_response_date": "2026-01-01 00:00:00"},
        ):
            self.denied("team_b1", "helpdesk.ticket", "write", [ticket_b1.id], values)
            self.denied(
                "manager_a",
                "helpdesk.ticket",
                "create",
                dict(values, name="Forged"),
            )
        self.assertEqual(ticket_b1.social_account_id, self.account_b1)
        self.allowed(
            "team_b1", "helpdesk.ticket", "write", [ticket_b1.id], {"priority": "2"}
        )

    def test_ticket_actions(self):
        self.denied(
            "own_a1",
            "helpdesk.ticket",
            "action_responded_by_phone",
            [self.tickets["a2"].id],
        )
        self.allowed(
            "own_a1",
            "helpdesk.ticket",
            "action_responded_by_phone",
            [self.tickets["a1"].id],
        )

    def test_move_a_conversation(self):
        """An agent who may write the ticket moves its conversation to a lead;
        a salesperson who may write the lead moves it back."""
        ticket, message = self.tickets["a1"], self.messages["a1"]
        for who, key in (("own_a1", "a2"), ("manager_b", "a1"), ("portal", "a1")):
            self.denied(
                who, "helpdesk.ticket", "action_social_to_lead", [self.tickets[key].id]
            )
        self.assertEqual(message.ticket_id, ticket)
        self.allowed("team_a1", "helpdesk.ticket", "action_social_to_lead", [ticket.id])
        lead = message.lead_id
        self.assertTrue(lead)
        self.assertFalse(message.ticket_id)
        self.denied("all_a", "crm.lead", "action_social_to_ticket", [lead.id])
        lead.user_id = self.users["admin_a"]
        self.denied("sales_a", "crm.lead", "action_social_to_ticket", [lead.id])
        lead.user_id = self.users["sales_a"]
        self.allowed("sales_a", "crm.lead", "action_social_to_ticket", [lead.id])
        self.assertEqual(message.ticket_id.social_account_id, self.account_a1)
        self.assertFalse(message.lead_id)

    def test_admin_only_wizards(self):
        for model in ("social.account.setup.wizard", "social.account.backfill.wizard"):
            self.denied("manager_a", model, "create", {})
        self.denied(
            "manager_a",
            "social.account.setup.wizard",
            "action_open",
            self.account_a1.id,
        )

    def test_every_public_action_is_in_the_matrix(self):
        """A new public method must be added to the matrix above."""
        found = set()
        models = {model for model, _method in RPC_ACTIONS}
        for model in models:
            Model = self.env[model]
            for name in dir(type(Model)):
                if not name.startswith("action_"):
                    continue
                method = getattr(type(Model), name)
                if getattr(method, "_api_private", False):
                    continue
                module = getattr(method, "__module__", "")
                if module.startswith("odoo.addons.social_helpdesk"):
                    found.add((model, name))
        covered = {
            (model, method)
            for model, method in found
            if (model, method) in RPC_ACTIONS or (model, "*") in RPC_ACTIONS
        }
        self.assertEqual(found - covered, set(), "public actions not in the matrix")
