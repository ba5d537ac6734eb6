# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Credentials and raw payloads stay with administrators, through the real
JSON-RPC API that any logged-in user can call, not only through the ORM: a
helpdesk user, a helpdesk manager and a portal user can neither read,
search, group by nor export them, and the answer never carries a secret.
Secrets never reach the server log during webhook deliveries and processing,
nor chatter tracking."""

import base64
import hashlib
import hmac
import json
import logging

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import demo_item, execute_kw

# One distinct value per credential field, so a leak names its field.
SECRETS = {
    "x_api_key": "leak-x-api-key-3f9a1c",
    "x_api_secret": "leak-x-api-secret-77b2e0",
    "x_access_token": "leak-x-access-token-5d41aa",
    "x_access_token_secret": "leak-x-token-secret-c0ffee",
    "x_oauth2_user_token": "leak-x-oauth2-token-8e2b19",
    "x_oauth2_refresh_token": "leak-x-oauth2-refresh-token-a4c7d1",
    "x_oauth2_client_id": "leak-x-oauth2-client-id-5f0e3b",
    "x_oauth2_client_secret": "leak-x-oauth2-client-secret-93bd27",
    "x_bearer_token": "leak-x-bearer-token-41d7f3",
    "meta_page_access_token": "leak-meta-page-token-9a0b6c",
    "meta_app_secret": "leak-meta-app-secret-2c5e88",
    "meta_verify_token": "leak-meta-verify-token-e71d04",
    "meta_instagram_access_token": "leak-meta-instagram-token-4a8d21",
    "meta_instagram_app_secret": "leak-meta-instagram-secret-b93e07",
    "demo_webhook_secret": "leak-demo-webhook-secret-6b3f52",
}
# Only in a raw event payload: a key no parser reads.
PAYLOAD_SECRET = "leak-raw-payload-0d9c2e"
ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"


class _Recorder(logging.Handler):
    """Every log line, formatted with its traceback, as the log file has it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@tagged("post_install", "-at_install")
class TestSecretsRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Secrets care"})
        cls.account = cls.env["social.account"].create(
            dict(SECRETS, name="Every credential", network="demo", team_id=cls.team.id)
        )
        cls.x_account = cls.env["social.account"].create(
            {
                "name": "Brand on X",
                "network": "x",
                "team_id": cls.team.id,
                "x_user_id": "1111111111111111111",
                **{k: v for k, v in SECRETS.items() if k.startswith("x_")},
            }
        )
        cls.meta_account = cls.env["social.account"].create(
            {
                "name": "Brand on Meta",
                "network": "meta",
                "team_id": cls.team.id,
                "meta_page_id": "448242228374517",
                **{k: v for k, v in SECRETS.items() if k.startswith("meta_")},
            }
        )
        item = dict(demo_item("my order is late"), internal_note=PAYLOAD_SECRET)
        events = cls.account._get_adapter().split_delivery({"messages": [item]})
        cls.env["social.event"]._store(cls.account, events)
        cls.event = cls.env["social.event"].search(
            [("account_id", "=", cls.account.id)]
        )
        cls.env["social.event"]._cron_process()
        cls.message = cls.event.social_message_ids
        cls.users = {
            login: new_test_user(cls.env, login, groups=groups, password=login)
            for login, groups in [
                (
                    "rpc_agent_user",
                    "helpdesk_mgmt.group_helpdesk_user,base.group_allow_export",
                ),
                (
                    "rpc_manager_user",
                    "helpdesk_mgmt.group_helpdesk_manager,base.group_allow_export",
                ),
                ("rpc_portal_user", "base.group_portal"),
            ]
        }

    # -- JSON-RPC ------------------------------------------------------------
    def call_kw(self, model, method, args, kwargs=None):
        """A /web/dataset/call_kw request in the authenticated session;
        returns the raw answer text and its decoded JSON."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs or {},
            },
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return response.text, response.json()

    def execute_kw(self, login, model, method, args, kwargs=None):
        """The external API: /jsonrpc, object service, execute_kw."""
        response = execute_kw(self, self.users[login], model, method, args, kwargs)
        return response.text, response.json()

    def assertRefused(self, answer, secret, what, refusals=(ACCESS_ERROR,)):
        text, decoded = answer
        self.assertNotIn("result", decoded, f"{what} answered")
        self.assertIn(decoded["error"]["data"]["name"], refusals, what)
        self.assertNotIn(secret, text, f"{what} leaked the secret")

    def refusals(self, login, label):
        """AccessError; but an export by a user without the export right (the
        portal user) is refused before any access check, with a UserError."""
        if label.startswith("export") and not self.users[login].has_group(
            "base.group_allow_export"
        ):
            return (ACCESS_ERROR, USER_ERROR)
        return (ACCESS_ERROR,)

    def credential_calls(self, field, secret):
        """Every way a caller may try to get at ``field``: (label, model,
        method, args, kwargs)."""
        ids = [self.account.id]
        guess = [(field, "=like", secret[:8] + "%")]  # an oracle on its prefix
        return [
            ("read", "social.account", "read", [ids, [field]], {}),
            (
                "web_read",
                "social.account",
                "web_read",
                [ids],
                {"specification": {field: {}}},
            ),
            ("search_read", "social.account", "search_read", [guess, ["name"]], {}),
            ("search_count", "social.account", "search_count", [guess], {}),
            ("sort", "social.account", "search_read", [[], ["name"]], {"order": field}),
            (
                "read_group",
                "social.account",
                "read_group",
                [[], [field], [field]],
                {"lazy": False},
            ),
            (
                "web_read_group",
                "social.account",
                "web_read_group",
                [[], ["__count"], [field]],
                {},
            ),
            ("export_data", "social.account", "export_data", [ids, [field]], {}),
        ]

    def payload_calls(self):
        event_ids = [self.event.id]
        through_message = [("event_id.payload", "ilike", PAYLOAD_SECRET)]
        return [
            ("read", "social.event", "read", [event_ids, ["payload"]], {}),
            (
                "search_read",
                "social.event",
                "search_read",
                [[("payload", "ilike", PAYLOAD_SECRET)], ["external_id"]],
                {},
            ),
            (
                "read_group",
                "social.event",
                "read_group",
                [[], ["payload"], ["payload"]],
                {"lazy": False},
            ),
            (
                "export_data",
                "social.event",
                "export_data",
                [event_ids, ["payload"]],
                {},
            ),
            (
                "search through a message",
                "social.message",
                "search_count",
                [through_message],
                {},
            ),
            (
                "export through a message",
                "social.message",
                "export_data",
                [[self.message.id], ["event_id/payload"]],
                {},
            ),
        ]

    # -- tests --------------------------------------------------------------
    @mute_logger("odoo.http")  # each refusal is logged as a warning
    def test_rpc_cannot_reach_credentials(self):
        for login in self.users:
            self.authenticate(login, login)
            for field, secret in SECRETS.items():
                for label, model, method, args, kwargs in self.credential_calls(
                    field, secret
                ):
                    with self.subTest(user=login, field=field, call=label):
                        self.assertRefused(
                            self.call_kw(model, method, args, kwargs),
                            secret,
                            f"{login} {label} {field}",
                            self.refusals(login, label),
                        )
            with self.subTest(user=login, call="execute_kw"):
                self.assertRefused(
                    self.execute_kw(
                        login,
                        "social.account",
                        "read",
                        [[self.account.id], list(SECRETS)],
                    ),
                    SECRETS["x_api_secret"],
                    f"{login} execute_kw read",
                )

    @mute_logger("odoo.http")
    def test_rpc_cannot_reach_raw_payloads(self):
        self.assertTrue(self.message, "the event was processed")
        for login in self.users:
            self.authenticate(login, login)
            for label, model, method, args, kwargs in self.payload_calls():
                with self.subTest(user=login, call=label):
                    self.assertRefused(
                        self.call_kw(model, method, args, kwargs),
                        PAYLOAD_SECRET,
                        f"{login} {label}",
                        self.refusals(login, label),
                    )
            with self.subTest(user=login, call="execute_kw"):
                self.assertRefused(
                    self.execute_kw(
                        login, "social.event", "read", [[self.event.id], ["payload"]]
                    ),
                    PAYLOAD_SECRET,
                    f"{login} execute_kw read payload",
                )

    def test_agent_still_works_with_the_account_and_its_messages(self):
        """The refusals above are about secrets, not about the records."""
        self.authenticate("rpc_agent_user", "rpc_agent_user")
        text, decoded = self.call_kw(
            "social.account", "read", [[self.account.id], ["name", "network"]]
        )
        self.assertEqual(decoded["result"][0]["name"], "Every credential")
        text, decoded = self.call_kw(
            "social.message", "read", [[self.message.id], ["text", "ticket_id"]]
        )
        self.assertEqual(decoded["result"][0]["text"], "my order is late")
        for secret in [*SECRETS.values(), PAYLOAD_SECRET]:
            self.assertNotIn(secret, text)

    def test_secrets_stay_out_of_the_log(self):
        """Deliveries signed right and wrong, handshakes and processing, with
        the addon's loggers at DEBUG: no line carries a credential."""
        recorder = _Recorder()
        root = logging.getLogger()
        addon_logger = logging.getLogger("odoo.addons.social_helpdesk")
        level = addon_logger.level
        root.addHandler(recorder)
        addon_logger.setLevel(logging.DEBUG)
        try:
            self._deliver_everything()
            self.env["social.event"]._cron_process()
        finally:
            root.removeHandler(recorder)
            addon_logger.setLevel(level)
        self.assertTrue(recorder.lines, "the deliveries were logged")
        log = "\n".join(recorder.lines)
        for field, secret in SECRETS.items():
            self.assertNotIn(secret, log, f"{field} in the log")
        self.assertFalse(
            self.env["social.event"].search(
                [("account_id", "=", self.account.id), ("state", "!=", "done")]
            ),
            "every delivered event was processed",
        )

    def _deliver_everything(self):
        demo_url = f"/social_helpdesk/webhook/demo/{self.account.webhook_token}"
        raw = json.dumps({"messages": [demo_item("where is my parcel?")]}).encode()
        signature = hmac.new(
            SECRETS["demo_webhook_secret"].encode(), raw, hashlib.sha256
        ).hexdigest()
        for header in (f"sha256={signature}", "sha256=" + "0" * 64):
            self.url_open(
                demo_url,
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Demo-Signature": header,
                },
            )
        x_url = f"/social_helpdesk/webhook/x/{self.x_account.webhook_token}"
        self.url_open(f"{x_url}?crc_token=challenge")
        x_raw = json.dumps({"for_user_id": "1", "favorite_events": [{}]}).encode()
        x_digest = hmac.new(
            SECRETS["x_api_secret"].encode(), x_raw, hashlib.sha256
        ).digest()
        for header in ("sha256=" + base64.b64encode(x_digest).decode(), "sha256=no"):
            self.url_open(
                x_url,
                data=x_raw,
                headers={"x-twitter-webhooks-signature": header},
            )
        meta_url = f"/social_helpdesk/webhook/meta/{self.meta_account.webhook_token}"
        self.url_open(
            f"{meta_url}?hub.mode=subscribe&hub.challenge=42&hub.verify_token=wrong"
        )
        self.url_open(meta_url, data=b'{"object": "page", "entry": []}', headers={})

    def test_secrets_stay_out_of_chatter(self):
        """Rotating every credential (with a tracked field in the same write)
        leaves no trace of old or new values in tracking or messages."""
        rotated = {field: secret + "-rotated" for field, secret in SECRETS.items()}
        self.account.write(dict(rotated, name="Every credential, rotated"))
        self.account.action_rotate_webhook_token()
        self.env.cr.precommit.run()  # tracking values are written at commit
        Tracking = self.env["mail.tracking.value"].sudo()
        Message = self.env["mail.message"].sudo()
        self.assertTrue(
            Tracking.search([("mail_message_id.res_id", "=", self.account.id)]),
            "the name change was tracked",
        )
        for secret in [*SECRETS.values(), *rotated.values()]:
            leaks = Tracking.search(
                [
                    "|",
                    ("old_value_char", "ilike", secret),
                    ("new_value_char", "ilike", secret),
                ]
            )
            self.assertFalse(leaks, f"{secret} tracked")
            self.assertFalse(Message.search([("body", "ilike", secret)]))
        tracked_fields = Tracking.search(
            [("mail_message_id.model", "=", "social.account")]
        ).field_id.mapped("name")
        self.assertFalse(set(tracked_fields) & set(SECRETS), "credentials tracked")
