# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Answering on WhatsApp, end to end: customers' messages through the real
webhook route, the composer as an agent sees it (the 24-hour window, 72
hours from an ad, templates outside it), the real send job against the fake
Cloud API, replies carrying their context and reference, media, exactly
once after a timeout, and templates kept to their company over JSON-RPC."""

import base64
import hashlib
import hmac
import json
import time
import zipfile
from datetime import timedelta
from io import BytesIO
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import execute_kw
from .fakes.fake_whatsapp import FakeWhatsApp

PHONE = "34600111222"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TEMPLATES = [
    {
        "name": "order_follow_up",
        "language": "es",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Caso {{1}}",
                "example": {"header_text": ["HT0001"]},
            },
            {
                "type": "BODY",
                "text": "Hola {{1}}, sobre tu caso {{2}}: {{3}} te escribe.",
                "example": {"body_text": [["Lucía", "HT0001", "Ana"]]},
            },
            {"type": "FOOTER", "text": "Acme"},
        ],
    },
    {
        "name": "named_follow_up",
        "language": "en",
        "category": "UTILITY",
        "status": "APPROVED",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{customer_name}}, {{agent_name}} here about "
                "{{ticket_ref}} ({{eta}}).",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "customer_name", "example": "Lucía"},
                        {"param_name": "agent_name", "example": "Ana"},
                        {"param_name": "ticket_ref", "example": "HT0001"},
                        {"param_name": "eta", "example": "tomorrow"},
                    ]
                },
            }
        ],
    },
    {
        "name": "spring_sale",
        "language": "es",
        "category": "MARKETING",
        "status": "REJECTED",
        "components": [{"type": "BODY", "text": "¡Rebajas!"}],
    },
]


def pdf(size=200):
    return b"%PDF-1.7\n" + b"0" * (size - 9)


@tagged("post_install", "-at_install")
class TestWhatsAppOutbound(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B (wa)"})
        Team = cls.env["helpdesk.ticket.team"]
        cls.team = Team.create({"name": "WhatsApp care"})
        cls.team_b = Team.create({"name": "B care", "company_id": cls.company_b.id})
        cls.agent = new_test_user(
            cls.env,
            "wa_agent",
            name="Ana Agent",
            groups="helpdesk_mgmt.group_helpdesk_user_own",
            tz="America/Mexico_City",
            password="wa_agent",
        )
        cls.team.user_ids = [Command.link(cls.agent.id)]
        cls.agent_b = new_test_user(
            cls.env,
            "wa_agent_b",
            groups="helpdesk_mgmt.group_helpdesk_user_team",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            password="wa_agent_b",
        )
        cls.team_b.user_ids = [Command.link(cls.agent_b.id)]
        cls.manager_b = new_test_user(
            cls.env,
            "wa_manager_b",
            groups="helpdesk_mgmt.group_helpdesk_manager",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            password="wa_manager_b",
        )
        cls.manager_a = new_test_user(
            cls.env,
            "wa_manager_a",
            groups="helpdesk_mgmt.group_helpdesk_manager",
            password="wa_manager_a",
        )
        cls.Event = cls.env["social.event"]

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.api_timeout_seconds", "1"
        )
        self.fake = FakeWhatsApp().start()
        self.addCleanup(self.fake.stop)
        for template in TEMPLATES:
            self.fake.add_template(**template)
        self.account = self.make_account(self.fake, self.team, self.company_a)

    def make_account(self, fake, team, company, phone_number_id=None):
        return self.env["social.account"].create(
            {
                "name": f"WhatsApp {company.name}",
                "network": "whatsapp",
                "state": "connected",
                "team_id": team.id,
                "company_id": company.id,
                "whatsapp_business_account_id": fake.waba_id,
                "whatsapp_phone_number_id": phone_number_id or fake.phone_number_id,
                "whatsapp_access_token": fake.access_token,
                "meta_app_secret": fake.app_secret,
                "meta_verify_token": "wa-verify",
                "api_base_url": fake.base_url,
            }
        )

    # -- helpers ----------------------------------------------------------
    def deliver(self, change_value, account=None):
        """One signed delivery of ``change_value`` (a ``messages`` change)
        through the real webhook route, then the processing job."""
        account = account or self.account
        body = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": account.whatsapp_business_account_id,
                    "changes": [{"field": "messages", "value": change_value}],
                }
            ],
        }
        raw = json.dumps(body).encode()
        signature = hmac.new(
            self.fake.app_secret.encode(), raw, hashlib.sha256
        ).hexdigest()
        response = self.url_open(
            f"/social_helpdesk/webhook/whatsapp/{account.webhook_token}",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.Event._cron_process()

    def receive(
        self, wamid, text, hours_ago=0, referral=False, account=None, phone=PHONE
    ):
        """The customer of ``phone`` writes ``text``, ``hours_ago``; returns
        the stored message."""
        account = account or self.account
        message = {
            "from": phone,
            "id": wamid,
            "timestamp": str(int(time.time() - hours_ago * 3600)),
            "type": "text",
            "text": {"body": text},
        }
        if referral:
            message["referral"] = {
                "source_url": "https://fb.me/ad1",
                "source_type": "ad",
                "source_id": "120210",
                "headline": "Spring offer",
                "ctwa_clid": "ARAkLk",
            }
        self.deliver(
            {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": "15550001111",
                    "phone_number_id": account.whatsapp_phone_number_id,
                },
                "contacts": [{"profile": {"name": "Lucía Gómez"}, "wa_id": phone}],
                "messages": [message],
            },
            account=account,
        )
        return self.env["social.message"].search(
            [("account_id", "=", account.id), ("external_id", "=", wamid)]
        )

    def status(self, wamid, status, reference):
        self.deliver(
            {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": "15550001111",
                    "phone_number_id": self.account.whatsapp_phone_number_id,
                },
                "statuses": [
                    {
                        "id": wamid,
                        "status": status,
                        "timestamp": str(int(time.time())),
                        "recipient_id": PHONE,
                        "biz_opaque_callback_data": reference,
                    }
                ],
            }
        )

    def compose(self, ticket, user=None, **values):
        return (
            self.env["social.reply.wizard"]
            .with_user(user or self.agent)
            .create(dict(values, ticket_id=ticket.id))
        )

    def send_all(self):
        """The send job, once per due reply (under tests it stops after one:
        it cannot commit)."""
        Reply = self.env["social.reply"]
        for _reply in Reply.search([("state", "=", "queued")]):
            Reply._cron_send()

    def sync(self, account=None):
        (account or self.account).with_user(
            self.manager_a
        ).action_whatsapp_sync_templates()

    def template(self, name, account=None):
        return self.env["social.whatsapp.template"].search(
            [("account_id", "=", (account or self.account).id), ("name", "=", name)]
        )

    # -- free-form replies ------------------------------------------------
    def test_a_reply_in_the_window_carries_its_context_and_reference(self):
        """Within 24 hours of the customer's last message: free text, as a
        reply to the message answered, with the reply's idempotency key as
        its reference; the composer says until when, in the agent's zone."""
        target = self.receive("wamid.in1", "¿Dónde está mi pedido?", hours_ago=2)
        ticket = target.ticket_id
        self.assertTrue(ticket)
        wizard = self.compose(ticket)
        self.assertEqual(wizard.kind, "private")
        self.assertFalse(wizard.public_allowed)
        self.assertFalse(wizard.template_required)
        self.assertTrue(wizard.templates_allowed)
        closes = target.message_date + timedelta(hours=24)
        # 22 h left, shown in Mexico City's time (UTC-6, no summer time).
        local = closes - timedelta(hours=6)
        self.assertIn(local.strftime("%H:%M"), wizard.window_info)
        self.assertFalse(wizard.send_blocked)
        wizard.text = "Sale hoy mismo."
        wizard.action_send()
        reply = ticket.social_reply_ids
        self.send_all()
        self.assertEqual(reply.state, "sent", reply.error)
        [sent] = self.fake.sent
        self.assertEqual(sent["type"], "text")
        self.assertEqual(sent["text"]["body"], "Sale hoy mismo.")
        self.assertEqual(sent["context"], {"message_id": "wamid.in1"})
        self.assertEqual(sent["biz_opaque_callback_data"], reply.idempotency_key)
        self.assertEqual(sent["to"], PHONE)
        self.assertEqual(reply.external_id, sent["id"])

    def test_the_window_is_24_hours_and_72_from_an_ad(self):
        late = self.receive("wamid.late", "Hola", hours_ago=30)
        wizard = self.compose(late.ticket_id)
        self.assertTrue(wizard.template_required)
        self.assertTrue(wizard.send_blocked)
        self.assertIn("only an approved template", wizard.window_info)
        with self.assertRaises(UserError):
            self.env["social.reply"].with_user(self.agent)._queue(
                late, "private", "Hola de nuevo"
            )
        ad = self.receive(
            "wamid.ad", "Vi el anuncio", hours_ago=30, referral=True, phone="5215512"
        )
        self.assertNotEqual(ad.ticket_id, late.ticket_id)
        wizard = self.compose(ad.ticket_id)
        self.assertFalse(wizard.template_required, "72 hours from an ad")
        self.assertFalse(wizard.send_blocked)
        older = self.receive(
            "wamid.ad2", "Sigo aquí", hours_ago=73, referral=True, phone="5215513"
        )
        self.assertTrue(self.compose(older.ticket_id).template_required)

    def test_the_window_is_checked_again_when_sending(self):
        """A reply queued in time but sent after the window closed fails
        with the reason, and the agent can send a template instead."""
        target = self.receive("wamid.edge", "Hola", hours_ago=23.9)
        self.env["social.reply"].with_user(self.agent)._queue(
            target, "private", "Ya voy"
        )
        reply = target.ticket_id.social_reply_ids
        target.message_date -= timedelta(hours=1)
        self.send_all()
        self.assertEqual(reply.state, "failed")
        self.assertIn("window", reply.error)
        self.assertFalse(self.fake.sent)

    # -- templates ----------------------------------------------------------
    def test_templates_are_synchronised_and_only_approved_are_offered(self):
        self.sync()
        templates = self.env["social.whatsapp.template"].search(
            [("account_id", "=", self.account.id)]
        )
        self.assertEqual(
            sorted(templates.mapped("name")),
            ["named_follow_up", "order_follow_up", "spring_sale"],
        )
        self.assertTrue(self.account.whatsapp_templates_synced_date)
        follow_up = self.template("order_follow_up")
        self.assertEqual(follow_up.category, "UTILITY")
        self.assertIn("Hola {{1}}", follow_up.body)
        self.assertEqual(
            [(p["component"].upper(), str(p["index"])) for p in follow_up.parameters],
            [("HEADER", "1"), ("BODY", "1"), ("BODY", "2"), ("BODY", "3")],
        )
        self.assertFalse(self.template("spring_sale").approved)
        target = self.receive("wamid.t0", "Hola", hours_ago=30)
        offered = (
            self.env["social.whatsapp.template"]
            .with_user(self.agent)
            .search([("account_id", "=", self.account.id), ("approved", "=", True)])
        )
        self.assertEqual(
            sorted(offered.mapped("name")), ["named_follow_up", "order_follow_up"]
        )
        with self.assertRaisesRegex(UserError, "not an approved template"):
            self.env["social.reply"].with_user(self.agent)._queue(
                target, "private", "", template=self.template("spring_sale")
            )
        # A template the WABA no longer has is archived; the daily job
        # reads them again.
        self.fake.templates.pop()
        self.env["social.whatsapp.template"]._cron_sync()
        self.assertFalse(self.template("spring_sale"))
        self.assertFalse(
            self.env["social.whatsapp.template"]
            .with_context(active_test=False)
            .search([("name", "=", "spring_sale")])
            .active
        )

    def test_outside_the_window_a_template_is_prefilled_and_sent(self):
        """The composer offers templates only; their variables come from
        the ticket and stay editable; the send job sends the template, and
        the chatter shows what the customer reads."""
        self.sync()
        target = self.receive("wamid.t1", "Hola", hours_ago=30)
        ticket = target.ticket_id
        wizard = self.compose(ticket)
        self.assertTrue(wizard.template_required)
        self.assertFalse(wizard.template_preview)
        wizard.template_id = self.template("order_follow_up")
        self.assertFalse(wizard.send_blocked)
        values = wizard.template_param_ids.mapped("value")
        # The header's variable keeps Meta's example; positional body
        # variables are the customer, the ticket and the agent.
        self.assertEqual(values, ["HT0001", "Lucía Gómez", ticket.number, "Ana Agent"])
        wizard.template_param_ids[0].value = ticket.number
        wizard.template_param_ids[3].value = "Ana, de Acme"
        expected = (
            f"Caso {ticket.number}\n\nHola Lucía Gómez, sobre tu caso "
            f"{ticket.number}: Ana, de Acme te escribe.\n\nAcme"
        )
        self.assertEqual(wizard.template_preview, expected)
        wizard.action_send()
        reply = ticket.social_reply_ids
        self.assertEqual(reply.template_id, self.template("order_follow_up"))
        self.assertEqual(reply.text, expected)
        self.assertEqual(
            [p["value"] for p in reply.template_parameters],
            [ticket.number, "Lucía Gómez", ticket.number, "Ana, de Acme"],
        )
        self.fake.closed_windows.add(PHONE)  # free-form would be refused
        self.send_all()
        self.assertEqual(reply.state, "sent", reply.error)
        [sent] = self.fake.sent
        self.assertEqual(sent["type"], "template")
        self.assertEqual(sent["template"]["name"], "order_follow_up")
        self.assertEqual(sent["template"]["language"]["code"], "es")
        self.assertEqual(sent["biz_opaque_callback_data"], reply.idempotency_key)
        body = reply.mail_message_id.body
        self.assertIn("sobre tu caso", body)
        self.assertIn("order_follow_up", body)

    def test_named_variables_are_prefilled_by_their_names(self):
        self.sync()
        target = self.receive("wamid.t2", "Hola", hours_ago=30)
        wizard = self.compose(
            target.ticket_id, template_id=self.template("named_follow_up").id
        )
        values = dict(
            zip(
                wizard.template_param_ids.mapped("index"),
                wizard.template_param_ids.mapped("value"),
                strict=True,
            )
        )
        self.assertEqual(values["customer_name"], "Lucía Gómez")
        self.assertEqual(values["agent_name"], "Ana Agent")
        self.assertEqual(values["ticket_ref"], target.ticket_id.number)
        self.assertEqual(values["eta"], "tomorrow", "Meta's example")
        wizard.template_param_ids.filtered(
            lambda p: p.index == "eta"
        ).value = "line\nbreak"
        with self.assertRaisesRegex(UserError, "line breaks"):
            wizard.action_send()

    def test_a_template_paused_before_sending_fails_with_the_reason(self):
        self.sync()
        target = self.receive("wamid.t3", "Hola", hours_ago=30)
        wizard = self.compose(
            target.ticket_id, template_id=self.template("order_follow_up").id
        )
        wizard.action_send()
        self.fake.templates[0]["status"] = "PAUSED"
        self.sync()
        self.send_all()
        reply = target.ticket_id.social_reply_ids
        self.assertEqual(reply.state, "failed")
        self.assertIn("PAUSED", reply.error)
        self.assertFalse(self.fake.sent)

    # -- media --------------------------------------------------------------
    def test_image_and_document_replies(self):
        target = self.receive("wamid.m1", "¿Me ayudas?", hours_ago=1)
        wizard = self.compose(target.ticket_id)
        self.assertTrue(wizard.image_allowed)
        self.assertTrue(wizard.document_allowed)
        self.assertIn("MB", wizard.document_info)
        wizard.write(
            {
                "text": "Aquí la tienes",
                "document": base64.b64encode(pdf()),
                "document_name": "factura.pdf",
            }
        )
        wizard.action_send()
        wizard = self.compose(target.ticket_id)
        wizard.write(
            {
                "text": "Y la foto",
                "image": base64.b64encode(PNG),
                "image_name": "foto.png",
            }
        )
        wizard.action_send()
        self.send_all()
        replies = target.ticket_id.social_reply_ids.sorted("id")
        self.assertEqual(
            replies.mapped("state"), ["sent", "sent"], replies.mapped("error")
        )
        document, image = self.fake.sent
        self.assertEqual(document["type"], "document")
        self.assertEqual(document["document"]["caption"], "Aquí la tienes")
        self.assertEqual(document["document"]["filename"], "factura.pdf")
        self.assertEqual(document["context"], {"message_id": "wamid.m1"})
        self.assertEqual(self.fake.media[document["document"]["id"]][0], pdf())
        self.assertEqual(image["type"], "image")
        self.assertEqual(image["image"]["caption"], "Y la foto")
        self.assertEqual(self.fake.media[image["image"]["id"]][0], PNG)
        self.assertIn(replies[0].document_id, replies[0].mail_message_id.attachment_ids)

    def test_documents_are_checked_by_content_and_size(self):
        target = self.receive("wamid.m2", "Hola", hours_ago=1)
        Reply = self.env["social.reply"].with_user(self.agent)
        with self.assertRaisesRegex(UserError, "JPEG and PNG"):
            Reply._queue(target, "private", "x", image=(b"GIF89a" + PNG, "a.gif"))
        with self.assertRaisesRegex(UserError, "PDF, Word"):
            Reply._queue(
                target, "private", "x", document=(b"MZ\x90\x00binary", "manual.pdf")
            )
        limit = self.account._get_adapter().document_limit(
            target._to_adapter_message(), "private"
        )
        with (
            patch.object(
                type(self.account._get_adapter()), "document_limit", return_value=100
            ),
            self.assertRaisesRegex(UserError, "MB"),
        ):
            Reply._queue(target, "private", "x", document=(pdf(), "f.pdf"))
        self.assertGreaterEqual(limit, 100 * 2**20)
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("[Content_Types].xml", "<x/>")
            archive.writestr("word/document.xml", "<x/>")
        reply = Reply._queue(
            target, "private", "La carta", document=(buffer.getvalue(), "carta.docx")
        )
        self.assertEqual(
            reply.document_id.mimetype,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )

    # -- exactly once ---------------------------------------------------------
    def test_a_timeout_is_completed_by_the_status_and_never_resent(self):
        target = self.receive("wamid.x1", "Hola", hours_ago=1)
        self.fake.hang_next("POST messages", 10.5, publish=True)
        reply = (
            self.env["social.reply"]
            .with_user(self.agent)
            ._queue(target, "private", "Una vez")
        )
        with mute_logger("odoo.addons.social_helpdesk.models.social_reply"):
            self.send_all()
        self.assertEqual(reply.state, "queued")
        self.assertTrue(reply.may_be_published)
        [sent] = self.fake.sent
        # The send job comes back before any status: it waits for it.
        reply.sudo().next_attempt_date = False
        self.send_all()
        self.assertEqual(reply.state, "queued")
        self.assertEqual(len(self.fake.sent), 1)
        self.status(sent["id"], "sent", reply.idempotency_key)
        self.assertEqual(reply.state, "sent")
        self.assertEqual(reply.external_id, sent["id"])
        self.send_all()
        self.assertEqual(len(self.fake.sent), 1)

    def test_a_temporary_error_whatsapp_answered_is_simply_retried(self):
        """An error WhatsApp answered (code 131000) sent nothing: the reply is
        tried again, without waiting for a status."""
        target = self.receive("wamid.x3", "Hola", hours_ago=1)
        self.fake.fail_next("POST messages", 131000, "Something went wrong")
        reply = (
            self.env["social.reply"]
            .with_user(self.agent)
            ._queue(target, "private", "Otra vez")
        )
        self.send_all()
        self.assertEqual(reply.state, "queued")
        self.assertFalse(reply.may_be_published)
        reply.sudo().next_attempt_date = False
        self.send_all()
        self.assertEqual(reply.state, "sent", reply.error)
        self.assertEqual(len(self.fake.sent), 1)

    def test_an_unconfirmed_timeout_fails_then_retries_on_request(self):
        target = self.receive("wamid.x2", "Hola", hours_ago=1)
        self.fake.hang_next("POST messages", 10.5)
        reply = (
            self.env["social.reply"]
            .with_user(self.agent)
            ._queue(target, "private", "¿Llegó?")
        )
        with mute_logger("odoo.addons.social_helpdesk.models.social_reply"):
            self.send_all()
        self.assertEqual(reply.state, "queued")
        reply.sudo().write(
            {
                "first_attempt_date": fields.Datetime.now() - timedelta(minutes=11),
                "next_attempt_date": False,
            }
        )
        self.send_all()
        self.assertEqual(reply.state, "failed")
        self.assertIn("did not confirm", reply.error)
        self.assertFalse(self.fake.sent)
        reply.with_user(self.agent).action_retry()
        self.send_all()
        self.assertEqual(reply.state, "sent", reply.error)
        self.assertEqual(len(self.fake.sent), 1)

    # -- company and rights over JSON-RPC -------------------------------------
    def rpc(self, user, model, method, *args, **kwargs):
        with mute_logger("odoo.http"):
            answer = execute_kw(self, user, model, method, list(args), kwargs).json()
        if "error" in answer:
            return None, answer["error"]["data"]["name"]
        return answer.get("result"), None

    def test_company_b_cannot_sync_or_use_company_a_templates(self):
        self.sync()
        self.fake.add_phone_number("109000000000002", "15550002222")
        account_b = self.make_account(
            self.fake, self.team_b, self.company_b, phone_number_id="109000000000002"
        )
        target_b = self.receive("wamid.b1", "Hola B", hours_ago=30, account=account_b)
        template_a = self.template("order_follow_up")
        denied = "odoo.exceptions.AccessError"
        # Syncing: managers only, of the account's company.
        for user in (self.agent, self.agent_b, self.manager_b):
            _result, error = self.rpc(
                user,
                "social.account",
                "action_whatsapp_sync_templates",
                [self.account.id],
            )
            self.assertEqual(error, denied, user.login)
        _result, error = self.rpc(
            self.manager_a,
            "social.account",
            "action_whatsapp_sync_templates",
            [self.account.id],
        )
        self.assertIsNone(error)
        # Reading: company A's templates are invisible to company B.
        found, error = self.rpc(
            self.agent_b, "social.whatsapp.template", "search_read", [], ["name"]
        )
        self.assertEqual(found, [])
        _result, error = self.rpc(
            self.agent_b, "social.whatsapp.template", "read", [template_a.id], ["body"]
        )
        self.assertEqual(error, denied)
        # Using one: refused, and nothing is sent.
        wizard_id, error = self.rpc(
            self.agent_b,
            "social.reply.wizard",
            "create",
            {"ticket_id": target_b.ticket_id.id, "template_id": template_a.id},
        )
        if not error:
            _result, error = self.rpc(
                self.agent_b, "social.reply.wizard", "action_send", [wizard_id]
            )
        self.assertIn(error, (denied, "odoo.exceptions.UserError"))
        self.assertFalse(target_b.ticket_id.social_reply_ids)
        # Nobody writes templates but through the sync.
        _result, error = self.rpc(
            self.agent,
            "social.whatsapp.template",
            "write",
            [template_a.id],
            {"body": "x"},
        )
        self.assertEqual(error, denied)
        with self.assertRaises(AccessError):
            template_a.with_user(self.agent).unlink()
