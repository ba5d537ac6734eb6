# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""WhatsApp's delivery statuses update the agent's replies, end to end:
statuses in the documented shapes through Odoo's real webhook route, and
two workers with the statuses of one reply."""

import time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

from .fakes.fake_whatsapp import (
    FakeWhatsApp,
    inbound,
    service_pricing,
    status,
)
from .test_whatsapp_inbound import ANA, POLL_ERROR, WhatsAppCase


@tagged("post_install", "-at_install")
class TestWhatsAppStatuses(WhatsAppCase):
    def test_statuses_move_a_reply_forward_only(self):
        self.deliver(inbound("wamid.s-in", ANA, text="Help"))
        reply = self.reply_to(
            self.message("wamid.s-in"), state="sent", external_id="wamid.out1"
        )
        self.report(status("wamid.out1", "sent", ANA, pricing=service_pricing()))
        self.assertEqual(reply.delivery_state, "sent")
        self.report(
            status("wamid.out1", "read", ANA, timestamp=1765094520),
            status("wamid.out1", "delivered", ANA, timestamp=1765094500),
        )
        self.assertEqual(reply.delivery_state, "read")
        self.report(status("wamid.out1", "failed", ANA, errors=[POLL_ERROR]))
        self.assertEqual(reply.delivery_state, "read")
        self.assertEqual(reply.state, "sent")
        event = self.Event.search(
            [("external_id", "=", "wa:status:wamid.out1:delivered")]
        )
        self.assertEqual(event.state, "done")
        self.assertEqual(event.ticket_id, reply.ticket_id)

    def test_a_failed_reply_shows_on_the_ticket(self):
        self.deliver(
            inbound("wamid.g-in", ANA, text="Help", timestamp=int(time.time()))
        )
        target = self.message("wamid.g-in")
        reply = self.reply_to(target, state="sent", external_id="wamid.out2")
        reply.mail_message_id = target.ticket_id._message_log(
            body=reply._chatter_body()
        )
        error = {
            "code": 131026,
            "title": "Message undeliverable",
            "error_data": {"details": "The recipient is not on WhatsApp."},
        }
        self.report(status("wamid.out2", "failed", ANA, errors=[error]))
        self.assertEqual(reply.state, "failed")
        self.assertEqual(reply.delivery_state, "failed")
        self.assertIn("not on WhatsApp", reply.error)
        self.assertIn("Failed", str(reply.mail_message_id.body))
        notes = target.ticket_id.message_ids.filtered(
            lambda m: "did not deliver the reply" in str(m.body)
        )
        self.assertEqual(len(notes), 1)
        self.assertIn("131026", str(notes.body))
        self.report(status("wamid.out2", "delivered", ANA))
        self.assertEqual(reply.delivery_state, "failed")
        reply.action_retry()
        self.assertEqual(reply.state, "queued")
        self.assertFalse(reply.delivery_state)

    def test_a_timed_out_reply_is_found_by_its_key_once(self):
        self.deliver(inbound("wamid.j-in", ANA, text="Help"))
        target = self.message("wamid.j-in")
        reply = self.reply_to(target, state="queued", may_be_published=True)
        self.report(
            status("wamid.out3", "sent", ANA, reference=reply.idempotency_key),
            status("wamid.out3", "delivered", ANA, reference=reply.idempotency_key),
        )
        self.assertEqual(reply.state, "sent")
        self.assertEqual(reply.external_id, "wamid.out3")
        self.assertEqual(reply.delivery_state, "delivered")
        self.assertFalse(reply.may_be_published)
        self.assertTrue(target.ticket_id.first_response_date)
        self.report(status("wamid.out3", "read", ANA))
        self.assertEqual(reply.delivery_state, "read")
        self.assertEqual(
            self.env["social.reply"].search_count([("external_id", "=", "wamid.out3")]),
            1,
        )

    def test_a_status_of_an_unknown_message_is_kept_ignored(self):
        self.report(status("wamid.elsewhere", "delivered", ANA))
        event = self.Event.search(
            [("external_id", "=", "wa:status:wamid.elsewhere:delivered")]
        )
        self.assertEqual(event.state, "ignored")
        self.assertTrue(event.payload)


@tagged("post_install", "-at_install")
class TestWhatsAppStatusWorkers(BaseCase):
    """Two workers with the statuses of one reply, in real transactions
    committed through their own cursors (see test_concurrency)."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.fake = FakeWhatsApp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            team = env["helpdesk.ticket.team"].create({"name": "WA workers"})
            account = env["social.account"].create(
                {
                    "name": "WA workers",
                    "network": "whatsapp",
                    "state": "connected",
                    "team_id": team.id,
                    "whatsapp_phone_number_id": self.fake.phone_number_id,
                    "meta_app_secret": self.fake.app_secret,
                }
            )
            self.account_id, self.team_id = account.id, team.id
            self.store(
                env,
                self.fake.delivery_for_messages([inbound("wamid.cw", ANA, text="Hi")]),
            )
            env["social.event"].search([("account_id", "=", account.id)])._process()
            target = env["social.message"].search([("account_id", "=", account.id)])
            reply = (
                env["social.reply"]
                .sudo()
                .create(
                    {
                        "ticket_id": target.ticket_id.id,
                        "account_id": account.id,
                        "target_id": target.id,
                        "kind": "private",
                        "text": "On it",
                        "state": "sent",
                        "external_id": "wamid.cw-out",
                    }
                )
            )
            self.reply_id = reply.id
            self.store(
                env,
                self.fake.delivery_for_statuses(
                    [
                        status("wamid.cw-out", "delivered", ANA),
                        status("wamid.cw-out", "read", ANA),
                    ]
                ),
            )
        self.addCleanup(self._remove_data)

    def store(self, env, body):
        account = env["social.account"].browse(self.account_id)
        events = account._get_adapter().split_delivery(body)
        env["social.event"]._store(account, events)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            messages = env["social.message"].search(
                [("account_id", "=", self.account_id)]
            )
            partners = messages.partner_id
            env["social.reply"].browse(self.reply_id).unlink()
            tickets = messages.ticket_id
            messages.unlink()
            tickets.unlink()
            env["social.identity"].search([("partner_id", "in", partners.ids)]).unlink()
            partners.unlink()
            env["social.account"].browse(self.account_id).unlink()
            env["helpdesk.ticket.team"].browse(self.team_id).unlink()

    def test_a_reply_is_updated_by_one_worker_at_a_time(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            Event_a = api.Environment(cr_a, SUPERUSER_ID, {})["social.event"]
            Event_b = api.Environment(cr_b, SUPERUSER_ID, {})["social.event"]
            delivered = Event_a._claim_batch(limit=1)
            read = Event_b._claim_batch(limit=1)
            self.assertEqual(delivered.external_id, "wa:status:wamid.cw-out:delivered")
            self.assertEqual(read.external_id, "wa:status:wamid.cw-out:read")
            self.assertEqual(delivered._process(), delivered)
            self.assertFalse(read._process(), "the reply is busy: left queued")
            cr_a.commit()  # pylint: disable=invalid-commit
            cr_b.commit()  # pylint: disable=invalid-commit
            again = Event_b._claim_batch(limit=5)
            self.assertEqual(again, read)
            self.assertEqual(again._process(), read)
            cr_b.commit()  # pylint: disable=invalid-commit
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(
                env["social.reply"].browse(self.reply_id).delivery_state, "read"
            )
            events = env["social.event"].search([("account_id", "=", self.account_id)])
            self.assertEqual(set(events.mapped("state")), {"done"})
