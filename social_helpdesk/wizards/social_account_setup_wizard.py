# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import ipaddress
import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import AdapterError, NotSupported
from ..models.social_account import ADAPTERS

STEPS = [
    ("network", "Network"),
    ("credentials", "Credentials"),
    ("routing", "Routing"),
    ("webhook", "Webhook"),
    ("check", "Test event"),
]
STEP_ORDER = [code for code, _label in STEPS]
SYSTEM = "base.group_system"
TEST_EVENT_PREFIX = "setup-check-"
# What the wizard copies to the account it creates or sets up.
ACCOUNT_FIELDS = (
    "name",
    "network",
    "x_api_key",
    "x_api_secret",
    "x_access_token",
    "x_access_token_secret",
    "x_oauth2_user_token",
    "x_bearer_token",
    "x_username",
    "x_user_id",
    "meta_page_id",
    "meta_instagram_account_id",
    "meta_page_access_token",
    "meta_app_secret",
    "meta_connection",
    "meta_instagram_access_token",
    "meta_instagram_app_secret",
    "meta_verify_token",
    "whatsapp_business_account_id",
    "whatsapp_phone_number_id",
    "whatsapp_access_token",
    "api_base_url",
    "team_id",
    "channel_id",
    "poll_interval_minutes",
)
# Networks served by a Meta app: its webhook is verified with a verify token.
VERIFIED_NETWORKS = ("meta", "whatsapp")
# The Cloud API reads no past messages: webhooks are the only way in.
WEBHOOK_ONLY_NETWORKS = ("whatsapp",)
LOCAL_HOSTS = ("localhost", "localhost.localdomain")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def webhook_url_problem(url):
    """Why the networks can't deliver to ``url``, or None: they post only to
    public HTTPS addresses."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return "http"
    if not host or host in LOCAL_HOSTS or host.endswith(LOCAL_SUFFIXES):
        return "local"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "local" if "." not in host else None
    return None if address.is_global else "local"


class SocialAccountSetupWizard(models.TransientModel):
    """Connect an account in a few guided steps: credentials and their
    permissions, routing, the webhook, and a final check that an event
    arrives. The wizard holds what is entered: the account is created once
    its credentials work and its team is chosen (the webhook and the test
    event need it), and Cancel removes it again."""

    _name = "social.account.setup.wizard"
    _inherit = ["social.account.setup.credentials"]
    _description = "Connect a Social Account"

    step = fields.Selection(STEPS, default="network", required=True)
    name = fields.Char("Account name")
    network = fields.Selection(
        # The account's list, repeated so that its labels are translated here.
        [
            ("x", "X (Twitter)"),
            ("meta", "Meta (Facebook, Messenger, Instagram)"),
            ("whatsapp", "WhatsApp Business"),
            ("demo", "Demo (replayed sample data)"),
        ],
        default="demo",
        required=True,
    )
    account_id = fields.Many2one("social.account", ondelete="cascade", readonly=True)
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, readonly=True
    )
    created_account = fields.Boolean(
        readonly=True, help="The account was created by this wizard."
    )
    finished = fields.Boolean(readonly=True)
    connection_ok = fields.Boolean(readonly=True)
    connection_report = fields.Text(readonly=True)
    # Webhook
    webhook_url = fields.Char(related="account_id.webhook_url", groups=SYSTEM)
    webhook_warning = fields.Text(compute="_compute_webhook_warning")
    webhook_report = fields.Text(readonly=True)
    # Routing
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        default=lambda self: self._default_team(),
        domain="[('company_id', 'in', (False, company_id))]",
        help="Helpdesk team that new tickets from this account go to.",
    )
    channel_id = fields.Many2one(
        "helpdesk.ticket.channel",
        "Default channel",
        domain="[('company_id', 'in', (False, company_id))]",
        help="Channel for messages whose network channel has no helpdesk channel.",
    )
    poll_enabled = fields.Boolean(
        "Poll as a fallback",
        default=True,
        help="Fetch new messages every few minutes, in case a webhook delivery "
        "is missed or the server has no public URL.",
    )
    poll_interval_minutes = fields.Integer("Polling interval (minutes)", default=5)
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

    @api.model
    def _default_team(self):
        """The user's first helpdesk team in the current company, else the
        company's first team."""
        company = self.env.company
        teams = self.env.user.helpdesk_team_ids.filtered(
            lambda team: team.company_id in (company, team.browse())
        )
        return teams[:1] or self.env["helpdesk.ticket.team"].search(
            [("company_id", "in", (company.id, False))], limit=1
        )

    @api.depends("account_id", "network")
    def _compute_webhook_warning(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        messages = {
            "http": self.env._(
                "This server's address (%s) is not HTTPS: X and Meta deliver "
                "webhooks to HTTPS URLs only. Serve Odoo over HTTPS (and set "
                "web.base.url), or keep polling on.",
                base_url,
            ),
            "local": self.env._(
                "This server's address (%s) is not reachable from the internet "
                "(localhost or a private network): X and Meta can't deliver to "
                "it. Use a public HTTPS address (and set web.base.url), or keep "
                "polling on.",
                base_url,
            ),
        }
        problem = webhook_url_problem(base_url)
        for wizard in self:
            wizard.webhook_warning = (
                problem and wizard.network != "demo" and messages[problem]
            )

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
        if self.network == "demo":
            other = self.env["social.account"].search(
                [
                    ("network", "=", "demo"),
                    ("company_id", "=", self.company_id.id),
                    ("id", "!=", self.account_id.id),
                ],
                limit=1,
            )
            if other:
                return self.env._(
                    "This company already has a demo account, “%s”. A second "
                    "one would replay the same sample customers and open their "
                    "tickets again: use it (Social Accounts), or archive it first.",
                    other.name,
                )
        return False

    def _leave_credentials(self):
        if not self.connection_ok:
            return self.env._(
                "Test the connection first: the account can't receive anything "
                "until the network accepts these credentials."
            )
        return False

    def _leave_routing(self):
        if not self.team_id:
            return self.env._("Choose the helpdesk team that gets the new tickets.")
        if self.network in WEBHOOK_ONLY_NETWORKS:
            self.write({"poll_enabled": False, "backfill_days": 0})
        if self.poll_enabled and self.poll_interval_minutes < 1:
            return self.env._("Poll at least every minute, or turn polling off.")
        self._save_account()
        last = self.env["social.event"].search(
            [("account_id", "=", self.account_id.id)], order="id desc", limit=1
        )
        self.events_before_check = last.id
        return False

    def _leave_webhook(self):
        return False

    def _account_values(self):
        values = {name: self[name] for name in ACCOUNT_FIELDS}
        for name in ("team_id", "channel_id"):
            values[name] = values[name].id
        values["name"] = values["name"].strip()
        if self.network not in VERIFIED_NETWORKS:
            values["meta_verify_token"] = False
        return values

    def _save_account(self):
        """Create the account (or update the one being set up), connected:
        its credentials were tested in this wizard."""
        values = self._account_values()
        values.update(state="connected", last_error=False)
        values["connection_info"] = self.connection_report
        if self.account_id:
            if self.account_id.state != "connected":
                values["connected_date"] = fields.Datetime.now()
            self.account_id.write(values)
        else:
            values["connected_date"] = fields.Datetime.now()
            values["company_id"] = self.company_id.id
            # The demo replays its dataset once polled: only once the setup
            # ends, so that a cancelled setup never leaves tickets behind.
            values["poll_enabled"] = self.poll_enabled and self.network != "demo"
            self.write(
                {
                    "account_id": self.env["social.account"].create(values).id,
                    "created_account": True,
                }
            )

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    def action_test_connection(self):
        """Ask the network who these credentials are, and what they may do.
        Nothing is saved: the account is created at the routing step."""
        self.ensure_one()
        missing = self._missing_credentials()
        if missing:
            self.write(
                {
                    "connection_ok": False,
                    "connection_report": False,
                    "error": self.env._(
                        "Fill in the required credentials first: %s.",
                        ", ".join(missing),
                    ),
                }
            )
            return self._reopen()
        Account = self.env["social.account"]
        values = {name: self[name] for name in ACCOUNT_FIELDS}
        config = Account._adapter_config_from(self.network, values)
        try:
            info = ADAPTERS[self.network](config).test_connection()
        except AdapterError as exc:
            self.write(
                {
                    "connection_ok": False,
                    "connection_report": False,
                    "error": self.env._("The network refused the connection: %s", exc),
                }
            )
            return self._reopen()
        lines = [Account.new({"network": self.network})._describe_connection(info)]
        if info.get("missing"):
            lines.append(
                self.env._(
                    "Missing permissions: %s. Tickets still arrive, but what needs "
                    "them will fail until you grant them in the developer portal.",
                    ", ".join(info["missing"]),
                )
            )
        values = {
            "connection_ok": True,
            "connection_report": "\n".join(lines),
            "error": False,
        }
        if self.network == "x":
            values.update(x_user_id=info["user_id"], x_username=info["username"])
        self.write(values)
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
            "id": f"{TEST_EVENT_PREFIX}{account.id}-{secrets.token_hex(4)}",
            "channel": "x",
            "kind": "public",
            "conversation_id": f"{TEST_EVENT_PREFIX}{account.id}",
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
        if self.account_id.network == "whatsapp":
            return self.env._(
                "Nothing has arrived yet. Send a WhatsApp message to the "
                "business number from a phone, then check again. If it never "
                "arrives, check that the app is subscribed to the messages "
                "field (register the webhook again)."
            )
        return self.env._("Nothing has arrived yet. Send a test event.")

    def action_finish(self):
        """Close the wizard on the account, importing its history if asked."""
        self.ensure_one()
        if not self.account_id:
            problem = self._leave_credentials() or self._leave_routing()
            if problem:
                raise UserError(problem)
        account = self.account_id
        account.poll_enabled = self.poll_enabled
        self.finished = True
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

    def action_cancel(self):
        """Leave nothing behind: the account this wizard created goes, with
        its events and the ticket of the wizard's test event. An account
        that existed before is left as it was."""
        self._discard_created_accounts()
        return {"type": "ir.actions.act_window_close"}

    def _discard_created_accounts(self):
        accounts = self.filtered(
            lambda wizard: wizard.created_account and not wizard.finished
        ).account_id
        if not accounts:
            return
        tests = self.env["social.message"].search(
            [
                ("account_id", "in", accounts.ids),
                ("external_id", "=like", f"{TEST_EVENT_PREFIX}%"),
            ]
        )
        tests.ticket_id.unlink()
        accounts.unlink()

    def unlink(self):
        """A wizard closed without Cancel is vacuumed within the hour: its
        unfinished account goes with it."""
        self._discard_created_accounts()
        return super(SocialAccountSetupWizard, self.exists()).unlink()

    @api.model
    def action_open(self, account_id=None):
        """Start the wizard, on an existing account if given (its form's
        Setup button)."""
        values = {}
        if account_id:
            account = self.env["social.account"].browse(account_id)
            values = {name: account[name] for name in ACCOUNT_FIELDS}
            for name in ("team_id", "channel_id"):
                values[name] = values[name].id
            values.update(
                account_id=account.id,
                company_id=account.company_id.id,
                poll_enabled=account.poll_enabled,
                step="credentials",
            )
        return self.create(values)._reopen()
