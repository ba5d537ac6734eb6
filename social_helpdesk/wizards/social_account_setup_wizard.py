# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import AdapterError, NotSupported

STEPS = [
    ("network", "Network"),
    ("credentials", "Credentials"),
    ("webhook", "Webhook"),
    ("routing", "Routing"),
    ("check", "Test event"),
]
STEP_ORDER = [code for code, _label in STEPS]
SYSTEM = "base.group_system"


def _credential(field_name):
    """A credential of the account, edited in place from the wizard."""
    return fields.Char(
        related=f"account_id.{field_name}", readonly=False, groups=SYSTEM
    )


class SocialAccountSetupWizard(models.TransientModel):
    """Connect an account in a few guided steps: credentials and their
    permissions, the webhook, routing, and a final check that an event
    arrives. Each step says in plain words what is wrong."""

    _name = "social.account.setup.wizard"
    _description = "Connect a Social Account"

    step = fields.Selection(STEPS, default="network", required=True)
    name = fields.Char("Account name")
    network = fields.Selection(
        # The account's list, repeated so that its labels are translated here.
        [
            ("x", "X (Twitter)"),
            ("meta", "Meta (Facebook, Messenger, Instagram)"),
            ("demo", "Demo (replayed sample data)"),
        ],
        default="demo",
        required=True,
    )
    account_id = fields.Many2one("social.account", ondelete="cascade", readonly=True)
    # Credentials
    x_api_key = _credential("x_api_key")
    x_api_secret = _credential("x_api_secret")
    x_access_token = _credential("x_access_token")
    x_access_token_secret = _credential("x_access_token_secret")
    x_oauth2_user_token = _credential("x_oauth2_user_token")
    x_bearer_token = _credential("x_bearer_token")
    x_username = fields.Char(
        related="account_id.x_username",
        readonly=False,
        help="Only needed with just a bearer token: X then can't tell whose "
        "account it is.",
    )
    meta_connection = fields.Selection(
        related="account_id.meta_connection", readonly=False, groups=SYSTEM
    )
    meta_page_id = _credential("meta_page_id")
    meta_instagram_account_id = _credential("meta_instagram_account_id")
    meta_page_access_token = _credential("meta_page_access_token")
    meta_app_secret = _credential("meta_app_secret")
    meta_instagram_access_token = _credential("meta_instagram_access_token")
    meta_instagram_app_secret = _credential("meta_instagram_app_secret")
    meta_verify_token = _credential("meta_verify_token")
    connection_ok = fields.Boolean(readonly=True)
    connection_report = fields.Text(readonly=True)
    # Webhook
    webhook_url = fields.Char(related="account_id.webhook_url", groups=SYSTEM)
    webhook_report = fields.Text(readonly=True)
    # Routing
    team_id = fields.Many2one(related="account_id.team_id", readonly=False)
    channel_id = fields.Many2one(related="account_id.channel_id", readonly=False)
    poll_enabled = fields.Boolean(
        "Poll as a fallback",
        default=True,
        help="Fetch new messages every few minutes, in case a webhook delivery "
        "is missed or the server has no public URL.",
    )
    poll_interval_minutes = fields.Integer(
        related="account_id.poll_interval_minutes", readonly=False
    )
    backfill_days = fields.Integer(
        "Import the last (days)",
        default=7,
        help="After the setup, import this many days of history. 0: none.",
    )
    # Final check
    events_before_check = fields.Integer(
        readonly=True, help="Highest event id of the account when the check began."
    )
    check_ok = fields.Boolean(readonly=True)
    check_report = fields.Text(readonly=True)
    error = fields.Text(readonly=True, help="What is wrong with this step.")

    # ------------------------------------------------------------------
    # Navigation
    # ------------------------------------------------------------------
    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Connect a social account"),
        }

    def _go(self, step):
        self.write({"step": step, "error": False})
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        index = STEP_ORDER.index(self.step)
        return self._go(STEP_ORDER[max(index - 1, 0)])

    def action_next(self):
        self.ensure_one()
        problem = getattr(self, f"_leave_{self.step}")()
        if problem:
            self.error = problem
            return self._reopen()
        return self._go(STEP_ORDER[STEP_ORDER.index(self.step) + 1])

    def _leave_network(self):
        if not (self.name or "").strip():
            return self.env._("Give the account a name, e.g. “Brand on X”.")
        values = {"name": self.name.strip(), "network": self.network}
        if self.account_id:
            self.account_id.write(values)
        else:
            # Not polled before the setup says so: half-entered credentials
            # would only put the account in error.
            values["poll_enabled"] = False
            if self.network == "meta":
                values["meta_verify_token"] = secrets.token_urlsafe(24)
            self.account_id = self.env["social.account"].create(values)
        return False

    def _leave_credentials(self):
        if not self.connection_ok:
            return self.env._(
                "Test the connection first: the account can't receive anything "
                "until the network accepts these credentials."
            )
        return False

    def _leave_webhook(self):
        return False

    def _leave_routing(self):
        if not self.team_id:
            return self.env._("Choose the helpdesk team that gets the new tickets.")
        if self.poll_enabled and self.poll_interval_minutes < 1:
            return self.env._("Poll at least every minute, or turn polling off.")
        self.account_id.poll_enabled = self.poll_enabled
        last = self.env["social.event"].search(
            [("account_id", "=", self.account_id.id)], order="id desc", limit=1
        )
        self.events_before_check = last.id
        return False

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    def action_test_connection(self):
        """Ask the network who these credentials are, and what they may do."""
        self.ensure_one()
        try:
            info, description = self.account_id._connect()
        except AdapterError as exc:
            self.write(
                {
                    "connection_ok": False,
                    "connection_report": False,
                    "error": self.env._("The network refused the connection: %s", exc),
                }
            )
            return self._reopen()
        lines = [description]
        if info.get("missing"):
            lines.append(
                self.env._(
                    "Missing permissions: %s. Tickets still arrive, but what needs "
                    "them will fail until you grant them in the developer portal.",
                    ", ".join(info["missing"]),
                )
            )
        self.write(
            {
                "connection_ok": True,
                "connection_report": "\n".join(lines),
                "error": False,
            }
        )
        return self._reopen()

    def action_register_webhook(self):
        """Have the network send events to our webhook URL, where its API
        allows it; otherwise say what to paste in the developer portal."""
        self.ensure_one()
        try:
            report = self.account_id._get_adapter().register_webhook(
                self.account_id.sudo().webhook_url
            )
        except NotSupported as exc:
            self.write(
                {
                    "webhook_report": self.env._(
                        "%s Paste the webhook URL above in the network's "
                        "developer portal.",
                        exc,
                    ),
                    "error": False,
                }
            )
            return self._reopen()
        except AdapterError as exc:
            self.write(
                {
                    "webhook_report": False,
                    "error": self.env._("The webhook could not be registered: %s", exc),
                }
            )
            return self._reopen()
        self.write({"webhook_report": report, "error": False})
        return self._reopen()

    def action_send_test_event(self):
        """Demo network: deliver one sample message, as its webhook would."""
        self.ensure_one()
        account = self.account_id
        if account.network != "demo":
            raise UserError(self.env._("Only the demo network can simulate events."))
        item = {
            "id": f"setup-check-{account.id}-{secrets.token_hex(4)}",
            "channel": "x",
            "kind": "public",
            "conversation_id": f"setup-check-{account.id}",
            "author": {
                "id": "setup-check",
                "handle": "setup_check",
                "name": self.env._("Setup check"),
                "followers": 0,
            },
            "text": self.env._("Test message from the setup wizard."),
            "lang": (self.env.lang or "en")[:2],
        }
        events = account._get_adapter().split_delivery({"messages": [item]})
        self.env["social.event"]._store(account, events, via_webhook=True)
        return self.action_check_event()

    def action_check_event(self):
        """Look for an event received since this step began. When polling is
        on, a poll is queued to the cron: it may read many pages (and, on X,
        billed reads), which this request must not wait for."""
        self.ensure_one()
        account = self.account_id
        if account.poll_enabled and account.network != "demo":
            account._queue_poll()
        events = self.env["social.event"].search(
            [
                ("account_id", "=", account.id),
                ("id", ">", self.events_before_check),
            ],
            order="id desc",
        )
        if not events:
            self.write(
                {
                    "check_ok": False,
                    "check_report": False,
                    "error": self._no_event_hint(),
                }
            )
            return self._reopen()
        self.env["social.event"]._trigger_processing()
        received = fields.Datetime.context_timestamp(
            self, events[0].received_date
        ).strftime("%H:%M:%S")
        report = (
            self.env._("An event arrived at %s. Everything works.", received)
            if len(events) == 1
            else self.env._(
                "%(count)s events arrived, the last at %(time)s. Everything works.",
                count=len(events),
                time=received,
            )
        )
        self.write({"check_ok": True, "error": False, "check_report": report})
        return self._reopen()

    def _no_event_hint(self):
        if self.account_id.network == "x":
            return self.env._(
                "Nothing has arrived yet. Mention @%s from another X account, "
                "then check again. If it never arrives, check the webhook "
                "registration, or keep polling on.",
                self.account_id.x_username or "…",
            )
        if self.account_id.network == "meta":
            return self.env._(
                "Nothing has arrived yet. Comment on a post of the page or send "
                "it a message from another Facebook account, then check again. "
                "If it never arrives, check the app's webhook subscription."
            )
        return self.env._("Nothing has arrived yet. Send a test event.")

    def action_finish(self):
        """Close the wizard on the account, importing its history if asked."""
        self.ensure_one()
        account = self.account_id
        if not account:
            raise UserError(self.env._("Create the account first."))
        if self.backfill_days > 0:
            if account.network == "x":
                action = account.action_backfill()
                action["context"]["default_days"] = self.backfill_days
                return action
            account._start_backfill(self.backfill_days)
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.account",
            "res_id": account.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def action_open(self, account_id=None):
        """Start the wizard, on an existing account if given (its form's
        Setup button)."""
        values = {}
        if account_id:
            account = self.env["social.account"].browse(account_id)
            values = {
                "account_id": account.id,
                "name": account.name,
                "network": account.network,
                "poll_enabled": account.poll_enabled,
                "step": "credentials",
            }
        return self.create(values)._reopen()
