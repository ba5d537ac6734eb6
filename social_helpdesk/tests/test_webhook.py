# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import json

from odoo.tests import HttpCase, tagged

from .common import demo_item, first_run_fails


@tagged("post_install", "-at_install")
class TestWebhook(HttpCase):
    """The public controller, through Odoo's real HTTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.account"].create(
            {"name": "Webhook demo", "network": "demo", "demo_webhook_secret": "s3cret"}
        )
        cls.url = f"/social_helpdesk/webhook/demo/{cls.account.webhook_token}"

    def post(self, body, signature=None, url=None, sign=True):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if sign:
            headers["X-Demo-Signature"] = signature or (
                self.account._get_adapter().sign(raw)
            )
        return self.url_open(url or self.url, data=raw, headers=headers)

    def events(self):
        return self.env["social.event"].search([("account_id", "=", self.account.id)])

    def test_signed_delivery_is_stored_and_acknowledged_without_processing(self):
        response = self.post({"messages": [demo_item("hi"), demo_item("again")]})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["received"], 2)
        events = self.events()
        self.assertEqual(len(events), 2)
        self.assertEqual(set(events.mapped("state")), {"new"}, "processed later")
        self.assertFalse(events.ticket_id)

    def test_duplicate_delivery_is_acknowledged_and_dropped(self):
        body = {"messages": [demo_item("only once")]}
        self.assertEqual(self.post(body).status_code, 200)
        response = self.post(body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["duplicates"], 1)
        self.assertEqual(len(self.events()), 1)

    def test_forged_and_unsigned_requests_are_refused(self):
        body = {"messages": [demo_item("forged")]}
        forged = "sha256=" + "0" * 64
        self.assertEqual(self.post(body, signature=forged).status_code, 403)
        self.assertEqual(self.post(body, sign=False).status_code, 403)
        raw = json.dumps(body).encode()
        tampered = raw.replace(b"forged", b"FORGED")
        signature = self.account._get_adapter().sign(raw)
        self.assertEqual(self.post(tampered, signature=signature).status_code, 403)
        self.assertFalse(self.events())

    def test_malformed_bodies_are_refused(self):
        self.assertEqual(self.post(b"{not json").status_code, 400)
        self.assertEqual(self.post(b"[1, 2]").status_code, 400)
        self.assertEqual(self.post({"messages": "nope"}).status_code, 400)
        self.assertEqual(self.post(b"\xff\xfe\x00garbage").status_code, 400)
        self.assertFalse(self.events())

    def test_oversized_body_is_refused(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.webhook_max_bytes", "2048"
        )
        big = {"messages": [demo_item("x" * 4096)]}
        self.assertEqual(self.post(big).status_code, 413)
        self.assertEqual(self.post({"messages": [demo_item("small")]}).status_code, 200)
        self.assertEqual(len(self.events()), 1)

    def post_chunked(self, body):
        """``body`` signed, sent with chunked transfer encoding (no length)."""
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Demo-Signature": self.account._get_adapter().sign(raw),
        }
        chunks = (raw[start : start + 500] for start in range(0, len(raw), 500))
        response = self.url_open(self.url, data=chunks, headers=headers)
        self.assertEqual(response.request.headers["Transfer-Encoding"], "chunked")
        self.assertNotIn("Content-Length", response.request.headers)
        return response

    def test_chunked_body_is_read_up_to_the_limit(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "social_helpdesk.webhook_max_bytes", "2048"
        )
        response = self.post_chunked({"messages": [demo_item("chunked " * 100)]})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["received"], 1)
        big = {"messages": [demo_item("x" * 4096)]}
        self.assertEqual(self.post_chunked(big).status_code, 413)
        self.assertEqual(len(self.events()), 1)

    def test_retried_chunked_delivery_verifies_the_same_body(self):
        """Odoo runs the request again after a serialization failure: the
        chunked body, read once from the socket, is still there."""
        with first_run_fails(self.registry) as runs:
            response = self.post_chunked({"messages": [demo_item("retried")]})
        self.assertEqual(len(runs), 2)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(self.events()), 1)

    def test_items_naming_no_account_need_an_account_alone_with_its_secret(self):
        """The demo network's items name no recipient: once another account
        holds the same secret, the signature can't tell which is meant."""
        twin = self.account.copy({"demo_webhook_secret": "s3cret"})
        response = self.post({"messages": [demo_item("whose?")]})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["rejected"], 1)
        self.assertEqual(self.events().state, "rejected")
        self.assertIn("does not say which account", self.events().ignore_reason)
        twin.demo_webhook_secret = "another-s3cret"
        response = self.post({"messages": [demo_item("mine")]})
        self.assertEqual(response.json()["rejected"], 0)

    def test_unknown_token_or_network_is_not_found(self):
        body = {"messages": [demo_item("lost")]}
        self.assertEqual(
            self.post(body, url="/social_helpdesk/webhook/demo/nope").status_code, 404
        )
        wrong_network = self.url.replace("/demo/", "/x/")
        self.assertEqual(self.post(body, url=wrong_network).status_code, 404)

    def test_rotated_token_stops_the_old_url(self):
        old_url = self.url
        self.account.action_rotate_webhook_token()
        body = {"messages": [demo_item("after rotation")]}
        self.assertEqual(self.post(body, url=old_url).status_code, 404)
        new_url = f"/social_helpdesk/webhook/demo/{self.account.webhook_token}"
        self.assertEqual(self.post(body, url=new_url).status_code, 200)

    def test_account_changes_reach_the_webhook_at_once(self):
        """The URL's account and secret are cached: a change must still apply
        to the very next delivery."""
        body = {"messages": [demo_item("signed with the old secret")]}
        old_signature = self.account._get_adapter().sign(json.dumps(body).encode())
        self.account.demo_webhook_secret = "new-s3cret"
        self.assertEqual(self.post(body, signature=old_signature).status_code, 403)
        self.assertEqual(self.post(body).status_code, 200)
        self.account.active = False
        later = {"messages": [demo_item("to an archived account")]}
        self.assertEqual(self.post(later).status_code, 404)
        self.assertEqual(len(self.events()), 1)

    def test_a_delivery_for_an_account_deleted_meanwhile_is_not_found(self):
        """Another worker may still have the URL of an account deleted a
        moment ago in its cache: the delivery gets 404, not an
        acknowledgement of events that were not kept."""
        self.assertEqual(
            self.post({"messages": [demo_item("before")]}).status_code, 200
        )
        raw = json.dumps({"messages": [demo_item("too late")]}).encode()
        signature = self.account._get_adapter().sign(raw)
        account_id, token = self.account.id, self.account.webhook_token
        # Deleted behind the cache's back, as by another worker.
        self.env.cr.execute("DELETE FROM social_account WHERE id = %s", [account_id])
        response = self.post(raw, signature=signature)
        self.assertEqual(response.status_code, 404)
        self.assertIn(
            token, self.env["social.account"]._webhook_endpoint("demo").targets
        )
        self.env.cr.execute(
            "SELECT count(*) FROM social_event WHERE account_id = %s", [account_id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_nul_characters_and_lone_surrogates_are_kept(self):
        """PostgreSQL refuses both in jsonb and text: the message is kept with
        U+FFFD in their place, not refused with an error the network would
        retry until it gives up."""
        item = demo_item("a\x00b \ud800 c", author="odd-chars")
        response = self.post(json.dumps({"messages": [item]}).encode())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["received"], 1)
        self.env["social.event"]._cron_process()
        message = self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("external_id", "=", item["id"])]
        )
        self.assertEqual(message.text, "a\ufffdb \ufffd c")
        self.assertEqual(message.event_id.state, "done")
        self.assertIn("a\ufffdb", message.ticket_id.description)
