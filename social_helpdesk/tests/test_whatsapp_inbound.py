# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""WhatsApp conversations become tickets on the right contact, end to end:
deliveries in the documented shapes, signed as Meta signs them, through
Odoo's real webhook route, processed by the real cron; media fetched from
the fake Cloud API; customers matched to contacts by their number."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL

from ..models.social_message import MEDIA_ATTEMPTS
from .fakes.fake_whatsapp import (
    FakeWhatsApp,
    customer,
    inbound,
)

ANA = customer("34612345678", user_id="ES.1502576394655843", name="Ana Ruiz")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
POLL_ERROR = {
    "code": 131051,
    "title": "Message type unknown",
    "error_data": {"details": "Message type is currently not supported."},
}


class WhatsAppCase(HttpCase):
    """A WhatsApp account on the fake Cloud API, and helpers that post
    signed deliveries to the real webhook route and run the processing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fake = FakeWhatsApp()
        cls.spain = cls.env.ref("base.es")
        cls.env.company.country_id = cls.spain
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "WhatsApp care"})
        cls.account = cls.env["social.account"].create(
            {
                "name": "Acme WhatsApp",
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
        cls.Message = cls.env["social.message"]

    def setUp(self):
        super().setUp()
        self.fake = FakeWhatsApp().start()
        self.addCleanup(self.fake.stop)
        self.account.api_base_url = self.fake.base_url

    # -- helpers ----------------------------------------------------------
    def post(self, body, account=None):
        raw, headers = self.fake.signed(body)
        token = (account or self.account).webhook_token
        response = self.url_open(
            f"/social_helpdesk/webhook/whatsapp/{token}",
            data=raw,
            headers=headers,
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.Event._cron_process()
        return response.json()

    def deliver(self, *messages, phone_number_id=None, account=None):
        return self.post(
            self.fake.delivery_for_messages(
                list(messages), phone_number_id=phone_number_id
            ),
            account=account,
        )

    def report(self, *statuses):
        return self.post(self.fake.delivery_for_statuses(list(statuses)))

    def message(self, wamid, account=None):
        return self.Message.search(
            [
                ("account_id", "=", (account or self.account).id),
                ("external_id", "=", wamid),
            ]
        )

    def reply_to(self, target, **values):
        """An agent's reply as the send job leaves it."""
        return (
            self.env["social.reply"]
            .sudo()
            .create(
                {
                    "ticket_id": target.ticket_id.id,
                    "account_id": self.account.id,
                    "target_id": target.id,
                    "kind": "private",
                    "text": "We are on it",
                    **values,
                }
            )
        )


@tagged("post_install", "-at_install")
class TestWhatsAppInbound(WhatsAppCase):
    # -- messages -------------------------------------------------------------
    def test_every_message_type_files_one_ticket(self):
        """Each documented type files a readable message, all in the
        customer's one private ticket on the WhatsApp channel; a type the
        addon does not know is kept and shown as such."""
        self.deliver(inbound("wamid.t1", ANA, text="<b>My order</b> is late"))
        self.deliver(
            inbound(
                "wamid.i1",
                ANA,
                kind="image",
                content={"id": "m-img", "mime_type": "image/jpeg", "caption": "Box"},
            ),
            inbound("wamid.a1", ANA, kind="audio", content={"id": "m-aud"}),
            inbound("wamid.v1", ANA, kind="video", content={"id": "m-vid"}),
            inbound(
                "wamid.d1",
                ANA,
                kind="document",
                content={"id": "m-doc", "filename": "invoice.pdf"},
            ),
            inbound("wamid.s1", ANA, kind="sticker", content={"id": "m-stk"}),
        )
        self.deliver(
            inbound(
                "wamid.l1",
                ANA,
                kind="location",
                content={
                    "latitude": 40.4168,
                    "longitude": -3.7038,
                    "name": "Shop",
                    "address": "Gran Vía 1",
                },
            ),
            inbound(
                "wamid.c1",
                ANA,
                kind="contacts",
                content=[
                    {
                        "name": {"formatted_name": "Luis Ruiz"},
                        "phones": [{"phone": "+34 600 222 333"}],
                    }
                ],
            ),
            inbound(
                "wamid.b1",
                ANA,
                kind="interactive",
                content={
                    "type": "button_reply",
                    "button_reply": {"id": "yes", "title": "Yes, refund"},
                },
            ),
            inbound(
                "wamid.r1",
                ANA,
                kind="interactive",
                content={
                    "type": "list_reply",
                    "list_reply": {"id": "2", "title": "Delivery", "description": ""},
                },
            ),
            inbound(
                "wamid.q1",
                ANA,
                kind="button",
                content={"text": "Track my order", "payload": "track"},
            ),
            inbound(
                "wamid.x1",
                ANA,
                kind="reaction",
                content={"message_id": "wamid.t1", "emoji": "👍"},
            ),
            inbound(
                "wamid.u1",
                ANA,
                kind="unsupported",
                content={"type": "poll"},
                errors=[POLL_ERROR],
            ),
        )
        ticket = self.message("wamid.t1").ticket_id
        self.assertTrue(ticket)
        self.assertEqual(ticket.channel_id.code, "whatsapp")
        self.assertEqual(ticket.social_kind, "private")
        messages = self.Message.search([("account_id", "=", self.account.id)])
        self.assertEqual(len(messages), 13)
        self.assertEqual(messages.ticket_id, ticket)
        body = str(self.message("wamid.t1").mail_message_id.body)
        self.assertIn("&lt;b&gt;My order&lt;/b&gt; is late", body)
        self.assertNotIn("<b>My order", body)
        self.assertIn("fa-whatsapp", body)
        self.assertEqual(self.message("wamid.i1").text, "Box")
        self.assertEqual(
            [item["url"] for item in self.message("wamid.d1").media],
            ["whatsapp-media:m-doc"],
        )
        self.assertIn("invoice.pdf", str(self.message("wamid.d1").mail_message_id.body))
        self.assertTrue(self.message("wamid.s1").media_pending)
        location = self.message("wamid.l1")
        self.assertIn("Shop, Gran Vía 1", location.text)
        self.assertIn("google.com/maps", str(location.mail_message_id.body))
        self.assertIn("Luis Ruiz", self.message("wamid.c1").text)
        self.assertIn("+34 600 222 333", self.message("wamid.c1").text)
        self.assertEqual(self.message("wamid.b1").text, "Yes, refund")
        self.assertEqual(self.message("wamid.r1").text, "Delivery")
        self.assertEqual(self.message("wamid.q1").text, "Track my order")
        reaction = self.message("wamid.x1")
        self.assertEqual(reaction.text, "Reacted 👍")
        self.assertEqual(reaction.parent_id, self.message("wamid.t1"))
        self.assertIn("In reply to", str(reaction.mail_message_id.body))
        unsupported = self.message("wamid.u1")
        self.assertEqual(unsupported.unsupported_type, "poll")
        self.assertIn("[Unsupported WhatsApp message: poll]", unsupported.text)
        self.assertIn("not supported", unsupported.text)
        self.assertIn(
            "[Unsupported WhatsApp message: poll]",
            str(unsupported.mail_message_id.body),
        )

    def test_context_quotes_the_earlier_message_and_ads_are_noted(self):
        self.deliver(inbound("wamid.o1", ANA, text="Where is parcel 42?"))
        self.deliver(
            inbound("wamid.o2", ANA, text="Any news?", context={"id": "wamid.o1"})
        )
        answer = self.message("wamid.o2")
        self.assertEqual(answer.parent_id, self.message("wamid.o1"))
        self.assertIn("Where is parcel 42?", str(answer.mail_message_id.body))
        bea = customer("34699000111", name="Bea")
        referral = {
            "source_url": "https://fb.me/ad-1",
            "source_id": "120",
            "source_type": "ad",
            "headline": "Winter sale",
            "body": "Chat with us",
            "ctwa_clid": "ARA",
        }
        self.deliver(
            inbound("wamid.ad1", bea, text="Is it on sale?", referral=referral)
        )
        from_ad = self.message("wamid.ad1")
        self.assertTrue(from_ad.from_ad)
        body = str(from_ad.mail_message_id.body)
        self.assertIn("Winter sale", body)
        self.assertIn("https://fb.me/ad-1", body)

    def test_a_duplicate_delivery_files_once(self):
        body = self.fake.delivery_for_messages([inbound("wamid.dup", ANA, text="Hi")])
        self.post(body)
        again = self.post(body)
        self.assertEqual(again["duplicates"], 1)
        self.assertEqual(len(self.message("wamid.dup")), 1)
        self.assertEqual(
            self.env["helpdesk.ticket"].search_count(
                [("social_account_id", "=", self.account.id)]
            ),
            1,
        )

    def test_two_numbers_of_one_app_get_their_own_messages(self):
        """Both numbers' accounts hold the app secret: a delivery to either
        URL is filed under the number each entry names."""
        other = self.account.copy(
            {"name": "Acme México", "whatsapp_phone_number_id": "207000000000001"}
        )
        self.fake.add_phone_number("207000000000001", "525500000000")
        self.deliver(inbound("wamid.n1", ANA, text="Hola España"))
        self.deliver(
            inbound("wamid.n2", ANA, text="Hola México"),
            phone_number_id="207000000000001",
        )
        self.assertEqual(self.message("wamid.n1").account_id, self.account)
        self.assertEqual(self.message("wamid.n2", account=other).account_id, other)
        self.assertNotEqual(
            self.message("wamid.n1").ticket_id,
            self.message("wamid.n2", account=other).ticket_id,
        )
        self.assertEqual(
            self.message("wamid.n1").identity_id,
            self.message("wamid.n2", account=other).identity_id,
        )
        self.fake.add_phone_number("999000000000001", "447700900000")
        answer = self.deliver(
            inbound("wamid.n3", ANA, text="Hello UK"),
            phone_number_id="999000000000001",
        )
        self.assertEqual(answer["rejected"], 1)
        rejected = self.Event.search([("external_id", "=", "rejected:wa:msg:wamid.n3")])
        self.assertEqual(rejected.state, "rejected")
        self.assertIn(
            "WhatsApp phone number id 999000000000001", rejected.ignore_reason
        )

    def test_a_closed_ticket_reopens_within_the_window(self):
        self.deliver(inbound("wamid.w1", ANA, text="First"))
        ticket = self.message("wamid.w1").ticket_id
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.deliver(inbound("wamid.w2", ANA, text="Again"))
        self.assertEqual(self.message("wamid.w2").ticket_id, ticket)
        self.assertEqual(ticket.reopen_count, 1)

    def test_a_reaction_reopens_nothing(self):
        """A thumbs up to the answer that closed the ticket is noted on it;
        the ticket stays closed, and no one is made to wait."""
        self.deliver(inbound("wamid.y1", ANA, text="Thanks, solved"))
        ticket = self.message("wamid.y1").ticket_id
        ticket._social_answered()
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.deliver(
            inbound(
                "wamid.y2",
                ANA,
                kind="reaction",
                content={"message_id": "wamid.y1", "emoji": "❤️"},
            )
        )
        reaction = self.message("wamid.y2")
        self.assertEqual(reaction.ticket_id, ticket)
        self.assertTrue(ticket.stage_id.closed)
        self.assertEqual(ticket.reopen_count, 0)
        self.assertFalse(ticket.social_waiting_since)
        self.assertIn("Reacted ❤️", str(reaction.mail_message_id.body))

    # -- media ------------------------------------------------------------
    def test_media_are_fetched_by_id_within_the_size_limit(self):
        self.fake.add_media("m-photo", JPEG, "image/jpeg")
        self.fake.add_media("m-big", b"%PDF-" + b"x" * 4096, "application/pdf")
        self.deliver(
            inbound("wamid.p1", ANA, kind="image", content={"id": "m-photo"}),
            inbound(
                "wamid.p2",
                ANA,
                kind="document",
                content={"id": "m-big", "filename": "big.pdf"},
            ),
        )
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.media_max_bytes", 1024
        )
        self.Message._cron_fetch_media()
        photo = self.message("wamid.p1")
        self.assertFalse(photo.media_pending)
        attachments = photo.mail_message_id.attachment_ids
        self.assertEqual(len(attachments), 1)
        self.assertEqual(attachments.mimetype, "image/jpeg")
        self.assertEqual(attachments.raw, JPEG)
        self.assertTrue(self.fake.requests_to("GET cdn"))
        self.assertFalse(self.message("wamid.p2").mail_message_id.attachment_ids)
        self.assertFalse(self.message("wamid.p2").media_pending)

    def test_media_the_network_cannot_serve_yet_are_tried_again(self):
        """A CDN outage never loses the customer's photo: it is tried again
        later (not before), and kept once served; after MEDIA_ATTEMPTS
        failed tries it stays a label."""
        self.fake.add_media("m-later", JPEG, "image/jpeg")
        self.fake.add_media("m-never", JPEG, "image/jpeg")
        self.deliver(
            inbound("wamid.p3", ANA, kind="image", content={"id": "m-later"}),
        )
        self.fake.fail_next("GET cdn", 1, status=503)
        self.Message._cron_fetch_media()
        photo = self.message("wamid.p3")
        self.assertTrue(photo.media_pending)
        self.assertEqual(photo.media_attempts, 1)
        self.assertFalse(photo.mail_message_id.attachment_ids)
        self.Message._cron_fetch_media()
        self.assertEqual(
            len(self.fake.requests_to("GET cdn")), 1, "not before its time"
        )
        photo.media_next_attempt = fields.Datetime.now() - timedelta(seconds=1)
        self.Message._cron_fetch_media()
        self.assertFalse(photo.media_pending)
        self.assertEqual(photo.mail_message_id.attachment_ids.raw, JPEG)

        self.deliver(
            inbound("wamid.p4", ANA, kind="image", content={"id": "m-never"}),
        )
        lost = self.message("wamid.p4")
        self.fake.fail_next("GET cdn", 1, status=503, times=MEDIA_ATTEMPTS)
        for _attempt in range(MEDIA_ATTEMPTS):
            lost.media_next_attempt = False
            self.Message._cron_fetch_media()
        self.assertFalse(lost.media_pending)
        self.assertFalse(lost.mail_message_id.attachment_ids)

    # -- identity ---------------------------------------------------------
    def test_a_customer_without_a_phone_number(self):
        hidden = customer(user_id="ES.777", name="", username="@kiko")
        self.deliver(inbound("wamid.h1", hidden, text="Hello"))
        identity = self.message("wamid.h1").identity_id
        self.assertEqual(identity.network, "whatsapp")
        self.assertEqual(identity.external_id, "ES.777")
        self.assertFalse(identity.phone)
        self.assertEqual(identity.handle, "kiko")
        self.assertEqual(identity.partner_id.name, "kiko")
        self.assertFalse(identity.partner_id.phone)

    def test_a_number_on_one_contact_joins_its_history(self):
        """Stored without the country prefix, read in the company's
        country; a contact of another company is not a match."""
        contact = self.env["res.partner"].create(
            {"name": "Ana (phone)", "phone": "612 34 56 78"}
        )
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.env["res.partner"].create(
            {
                "name": "Ana elsewhere",
                "mobile": "+34612345678",
                "company_id": other_company.id,
            }
        )
        self.deliver(inbound("wamid.k1", ANA, text="It's Ana"))
        message = self.message("wamid.k1")
        self.assertEqual(message.partner_id, contact)
        self.assertEqual(message.ticket_id.partner_id, contact)
        self.assertEqual(message.identity_id.phone, "+34612345678")
        self.assertFalse(message.identity_id.suggested_partner_ids)

    def test_a_number_on_several_contacts_is_suggested(self):
        first = self.env["res.partner"].create(
            {"name": "Ana Home", "phone": "+34 612 345 678"}
        )
        second = self.env["res.partner"].create(
            {"name": "Ruiz Ltd", "mobile": "0034-612-345-678"}
        )
        third = self.env["res.partner"].create(
            {"name": "Ana (digits)", "phone": "34612345678"}
        )
        self.env["res.partner"].create(
            {"name": "Archived Ana", "phone": "612345678", "active": False}
        )
        self.deliver(inbound("wamid.m1", ANA, text="Hi"))
        message = self.message("wamid.m1")
        identity = message.identity_id
        self.assertNotIn(message.partner_id, first | second | third)
        self.assertEqual(message.partner_id.phone, "+34612345678")
        self.assertEqual(identity.suggested_partner_ids, first | second | third)
        ticket = message.ticket_id
        self.assertEqual(ticket.social_suggested_partner_ids, first | second | third)
        self.assertEqual(ticket.social_suggestion_identity_id, identity)
        wizard = self.env["social.identity.link.wizard"].create(
            {"identity_id": identity.id, "partner_id": first.id}
        )
        self.assertEqual(wizard.suggested_partner_ids, first | second | third)
        wizard.action_link()
        self.assertEqual(identity.partner_id, first)
        self.assertEqual(ticket.partner_id, first)
        self.assertFalse(identity.suggested_partner_ids)
        ticket.invalidate_recordset()
        self.assertFalse(ticket.social_suggested_partner_ids)

    def test_a_number_then_its_user_id_stay_one_customer(self):
        """Known first by the number only, the customer's key becomes their
        business-scoped user id; the conversation goes on in its ticket.
        A message with the number alone still finds them."""
        before = customer("34655000111", name="Carla")
        self.deliver(inbound("wamid.e1", before, text="Hi"))
        identity = self.message("wamid.e1").identity_id
        self.assertEqual(identity.external_id, "34655000111")
        ticket = self.message("wamid.e1").ticket_id
        after = customer("34655000111", user_id="ES.3141592", name="Carla")
        self.deliver(inbound("wamid.e2", after, text="Still me"))
        self.assertEqual(self.message("wamid.e2").identity_id, identity)
        self.assertEqual(identity.external_id, "ES.3141592")
        self.assertEqual(self.message("wamid.e2").ticket_id, ticket)
        self.assertEqual(ticket.social_thread_key, "whatsapp:dm:ES.3141592")
        self.assertEqual(self.message("wamid.e1").thread_key, "whatsapp:dm:ES.3141592")
        self.deliver(inbound("wamid.e3", before, text="Old app"))
        self.assertEqual(self.message("wamid.e3").identity_id, identity)
        self.assertEqual(self.message("wamid.e3").ticket_id, ticket)
        self.assertEqual(
            self.env["social.identity"].search_count([("phone", "=", "+34655000111")]),
            1,
        )

    def test_a_new_user_id_is_linked_by_the_agent(self):
        """Another user id is another WhatsApp user to the addon: with the
        same number, it joins the number's one contact; with a new number
        too, it gets a contact of its own, which the agent links."""
        self.deliver(inbound("wamid.f1", ANA, text="Hi"))
        old = self.message("wamid.f1").identity_id
        same_number = customer("34612345678", user_id="ES.2718281", name="Ana Ruiz")
        self.deliver(inbound("wamid.f2", same_number, text="Reinstalled"))
        again = self.message("wamid.f2").identity_id
        self.assertNotEqual(again, old)
        self.assertEqual(again.partner_id, old.partner_id)
        moved = customer("34677000222", user_id="ES.1414213", name="Ana Ruiz")
        self.deliver(inbound("wamid.f3", moved, text="New phone"))
        new = self.message("wamid.f3").identity_id
        self.assertNotEqual(new.partner_id, old.partner_id)
        self.env["social.identity.link.wizard"].create(
            {"identity_id": new.id, "partner_id": old.partner_id.id}
        ).action_link()
        self.assertEqual(new.partner_id, old.partner_id)
        self.assertEqual(self.message("wamid.f3").ticket_id.partner_id, old.partner_id)

    def test_stored_numbers_are_read_in_e164(self):
        Partner = self.env["res.partner"]
        france, italy = self.env.ref("base.fr"), self.env.ref("base.it")
        cases = [
            ("06 12 34 56 78", france, "+33612345678"),
            ("+33 (6) 12-34-56-78", france, "+33612345678"),
            ("0033 6 12 34 56 78", self.spain, "+33612345678"),
            ("612.345.678", self.spain, "+34612345678"),
            ("06 1234 5678", italy, "+390612345678"),
        ]
        for number, country, expected in cases:
            self.assertEqual(Partner._social_e164(number, country), expected, number)
        self.assertEqual(Partner._social_e164("call me", self.spain), "")

    def test_the_phone_lookup_uses_the_indexes(self):
        Partner = self.env["res.partner"]
        forms = sorted(Partner._social_phone_forms("+34612345678"))
        self.assertIn("612345678", forms)
        self.assertIn("0034612345678", forms)
        # The planner's choice on a large table, forced on a small one.
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(SQL("EXPLAIN %s", Partner._social_phone_query(forms)))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertNotIn("Seq Scan", plan)
        self.assertIn("res_partner_phone_partial_tgm", plan)
        self.assertIn("res_partner_mobile_partial_tgm", plan)

    # -- security -----------------------------------------------------------
    def test_an_agent_of_another_company_sees_nothing(self):
        contact = self.env["res.partner"].create(
            {
                "name": "Ana (A)",
                "phone": "+34612345678",
                "company_id": self.env.company.id,
            }
        )
        twin = self.env["res.partner"].create(
            {
                "name": "Ana twin (A)",
                "mobile": "+34612345678",
                "company_id": self.env.company.id,
            }
        )
        self.deliver(inbound("wamid.z1", ANA, text="Private matter"))
        message = self.message("wamid.z1")
        self.assertEqual(message.identity_id.suggested_partner_ids, contact | twin)
        company_b = self.env["res.company"].create({"name": "Company B (wa)"})
        agent = new_test_user(
            self.env,
            "wa_agent_b",
            groups="helpdesk_mgmt.group_helpdesk_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        env = self.env(user=agent)
        self.assertFalse(
            env["helpdesk.ticket"].search([("id", "=", message.ticket_id.id)])
        )
        self.assertFalse(env["social.message"].search([("id", "=", message.id)]))
        self.assertFalse(
            env["res.partner"].search([("id", "in", (contact | twin).ids)])
        )
        self.assertFalse(
            env["social.identity"]
            .search([("phone", "=", "+34612345678")])
            .suggested_partner_ids
        )
        self.assertFalse(
            env["social.reply"].search([("ticket_id", "=", message.ticket_id.id)])
        )
        agent_a = new_test_user(
            self.env,
            "wa_agent_a",
            groups="helpdesk_mgmt.group_helpdesk_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        ticket = message.ticket_id.with_user(agent_a)
        self.assertEqual(ticket.social_suggested_partner_ids, contact | twin)
        self.assertEqual(ticket.social_suggestion_identity_id, message.identity_id)
