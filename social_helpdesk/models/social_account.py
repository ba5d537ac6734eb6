# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
import secrets
from datetime import timedelta, timezone
from typing import NamedTuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..adapters.base import AdapterError, AuthError, RateLimited
from ..adapters.demo import DemoAdapter
from ..adapters.meta import MetaAdapter
from ..adapters.meta.client import CONNECTION_INSTAGRAM_LOGIN, CONNECTION_PAGE
from ..adapters.meta.replies import HUMAN_AGENT_WINDOW
from ..adapters.meta.versions import DEFAULT_GRAPH_VERSION, version_warning
from ..adapters.whatsapp import WhatsAppAdapter
from ..adapters.x import XAdapter
from .access import ADMIN, MANAGER, require_group

_logger = logging.getLogger(__name__)

ADAPTERS = {
    "x": XAdapter,
    "meta": MetaAdapter,
    "whatsapp": WhatsAppAdapter,
    "demo": DemoAdapter,
}
METERED_NETWORKS = ("x",)
DEFAULT_API_TIMEOUT_SECONDS = 15
DEFAULT_WEBHOOK_MAX_BYTES = 1024 * 1024
MAX_POLL_BACKOFF_MINUTES = 60


def _month_start():
    return fields.Date.today().replace(day=1)


# Adapter setting -> account field, per network (and for every network).
ADAPTER_FIELDS = {
    None: {"api_base_url": "api_base_url", "include_reposts": "include_reposts"},
    "x": {
        "user_id": "x_user_id",
        "username": "x_username",
        "api_key": "x_api_key",
        "api_secret": "x_api_secret",
        "access_token": "x_access_token",
        "access_token_secret": "x_access_token_secret",
        "oauth2_user_token": "x_oauth2_user_token",
        "oauth2_refresh_token": "x_oauth2_refresh_token",
        "oauth2_client_id": "x_oauth2_client_id",
        "oauth2_client_secret": "x_oauth2_client_secret",
        "bearer_token": "x_bearer_token",
        "webhook_product": "x_webhook_product",
    },
    "meta": {
        "page_id": "meta_page_id",
        "page_access_token": "meta_page_access_token",
        "app_secret": "meta_app_secret",
        "verify_token": "meta_verify_token",
        "instagram_account_id": "meta_instagram_account_id",
        "graph_version": "meta_graph_version",
        "graph_base_url": "api_base_url",
        "human_agent_tag": "meta_human_agent_tag",
        "connection": "meta_connection",
        "instagram_access_token": "meta_instagram_access_token",
        "instagram_app_secret": "meta_instagram_app_secret",
    },
    "whatsapp": {
        "business_account_id": "whatsapp_business_account_id",
        "phone_number_id": "whatsapp_phone_number_id",
        "access_token": "whatsapp_access_token",
        "app_secret": "meta_app_secret",
        "verify_token": "meta_verify_token",
        "graph_version": "meta_graph_version",
        "graph_base_url": "api_base_url",
    },
    "demo": {
        "batch_size": "demo_batch_size",
        "webhook_secret": "demo_webhook_secret",
    },
}


# What only administrators change on an account: where it belongs and what
# identifies it on the network (webhook entries are filed by these ids).
ADMIN_ONLY_FIELDS = {
    "company_id",
    "network",
    "state",
    "x_user_id",
    "x_username",
    "x_webhook_product",
    "meta_page_id",
    "meta_instagram_account_id",
    "meta_graph_version",
    "meta_connection",
    "meta_webhook_api_version",
    "whatsapp_business_account_id",
    "whatsapp_phone_number_id",
    "webhook_token",
}


def _adapter_settings(network):
    return {**ADAPTER_FIELDS[None], **ADAPTER_FIELDS[network]}


# Why a webhook event is addressed to no account its signature allows (see
# WebhookTarget.route).
UNADDRESSED = "unaddressed"  # it names none, and several accounts may receive it
UNKNOWN_RECIPIENT = "unknown"  # it names one that no such account owns
AMBIGUOUS_RECIPIENT = "ambiguous"  # it names one that several such accounts own


class WebhookPeers(NamedTuple):
    """The accounts of a network that share one webhook signing secret: a
    delivery signed with it may be addressed to any of them, and to no
    other account (the signature proves only that its sender holds it)."""

    owners: dict  # {recipient id: account id, or None when several own it}
    size: int
    # {account id: the Facebook-API-Version its deliveries last carried}
    api_versions: dict


class WebhookTarget(NamedTuple):
    """The account behind one webhook URL, and who its deliveries may be for."""

    account_id: int
    settings: dict  # the adapter's
    recipient_ids: frozenset  # the network ids that address this account
    peers: WebhookPeers

    def route(self, recipient_id):
        """(account id, None) of the account an event addressed to
        ``recipient_id`` goes to, else (None, why not): the URL's account when
        it owns the id, else the peer that does; an event that names no
        recipient goes to the URL's account only when it has no peer."""
        if recipient_id is None:
            if self.peers.size == 1:
                return self.account_id, None
            return None, UNADDRESSED
        if recipient_id in self.recipient_ids:
            return self.account_id, None
        if recipient_id not in self.peers.owners:
            return None, UNKNOWN_RECIPIENT
        owner = self.peers.owners[recipient_id]
        return (owner, None) if owner else (None, AMBIGUOUS_RECIPIENT)


# A Meta app may give every object it subscribes to one callback URL: its
# pages' and Instagram accounts' deliveries and its WhatsApp Business
# Accounts' then reach the URL of either network, and each is handled by the
# network its object belongs to.
NETWORK_OF_META_OBJECT = {
    "page": "meta",
    "instagram": "meta",
    "whatsapp_business_account": "whatsapp",
}


class WebhookEndpoint(NamedTuple):
    """What a webhook delivery of one network needs before it is stored."""

    max_body_bytes: int
    targets: dict  # {webhook token: WebhookTarget}


def _webhook_target_fields():
    """The fields :meth:`SocialAccount._webhook_endpoint` is cached from."""
    return {"active", "network", "webhook_token", "meta_webhook_api_version"}.union(
        *(settings.values() for settings in ADAPTER_FIELDS.values())
    )


class SocialAccount(models.Model):
    _name = "social.account"
    _description = "Social Account"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    network = fields.Selection(
        [
            ("x", "X (Twitter)"),
            ("meta", "Meta (Facebook, Messenger, Instagram)"),
            ("whatsapp", "WhatsApp Business"),
            ("demo", "Demo (replayed sample data)"),
        ],
        required=True,
        tracking=True,
    )
    is_demo = fields.Boolean(compute="_compute_is_demo")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        tracking=True,
        check_company=True,
        help="Helpdesk team that new tickets from this account go to.",
    )
    channel_id = fields.Many2one(
        "helpdesk.ticket.channel",
        string="Default channel",
        check_company=True,
        help="Channel for messages whose network channel has no helpdesk channel. "
        "Meta accounts otherwise file Facebook, Messenger and Instagram messages "
        "under their own channels.",
    )
    state = fields.Selection(
        [("draft", "Not connected"), ("connected", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        tracking=True,
    )
    last_error = fields.Text(readonly=True)
    last_sync_date = fields.Datetime("Last successful sync", readonly=True)
    last_event_date = fields.Datetime(
        "Last event received", compute="_compute_last_event_dates"
    )
    rate_limited_until = fields.Datetime(readonly=True)
    last_webhook_date = fields.Datetime(
        "Last webhook delivery", compute="_compute_last_event_dates"
    )
    webhook_grace_hours = fields.Integer(
        default=24,
        help="While webhooks have delivered within this many hours, polling of a "
        "metered network (X) pauses, so that nothing is read and billed twice.",
    )
    poll_failures = fields.Integer(readonly=True, copy=False)
    connection_info = fields.Text(readonly=True, copy=False)
    poll_enabled = fields.Boolean(
        "Polling",
        default=True,
        help="Fetch new messages periodically (works "
        "without a public URL; webhooks are faster).",
    )
    poll_interval_minutes = fields.Integer("Polling interval (minutes)", default=5)
    next_poll_date = fields.Datetime(readonly=True)
    poll_cursors = fields.Json(readonly=True, copy=False)
    include_reposts = fields.Boolean(
        help="Turn reposts (retweets) of the account's posts into tickets too."
    )
    reopen_window_days = fields.Integer(
        default=7,
        help="A new message on a ticket closed less than this many days ago "
        "reopens it; after that it opens a new ticket that references the old one.",
    )
    dm_joins_public_ticket = fields.Boolean(
        "Private messages join the public ticket",
        default=True,
        help="A customer's private message that starts a conversation joins "
        "their open public ticket on this account (or the one closed within the "
        "reopen window), instead of opening a new ticket.",
    )
    webhook_token = fields.Char(
        copy=False,
        readonly=True,
        groups="helpdesk_mgmt.group_helpdesk_manager",
        default=lambda self: secrets.token_urlsafe(32),
    )
    webhook_url = fields.Char(
        "Webhook URL",
        compute="_compute_webhook_url",
        groups="helpdesk_mgmt.group_helpdesk_manager",
    )
    event_count = fields.Integer(
        "Stored events",
        compute="_compute_store_size",
        help="Events in the raw store, pruned ones included (estimated from a "
        "sample once the store holds more than 50,000 events).",
    )
    event_payload_size = fields.Char(
        "Stored payloads",
        compute="_compute_store_size",
        groups="base.group_system",
        help="Space taken by the raw payloads this account's events keep "
        "(estimated from a sample on a large store). Processed events lose "
        "theirs after the retention period set in the Helpdesk settings.",
    )
    error_event_count = fields.Integer(
        "Events in error", compute="_compute_error_event_count"
    )
    connected_date = fields.Datetime(readonly=True, copy=False)
    silent_after_hours = fields.Integer(
        "Flag as silent after (hours)",
        default=24,
        help="A connected account that receives nothing for this many hours is "
        "flagged: its webhook or polling may have stopped. 0: never flag.",
    )
    is_silent = fields.Boolean(
        "Silent", compute="_compute_health", search="_search_is_silent"
    )
    is_rate_limited = fields.Boolean("Rate limited", compute="_compute_health")
    health = fields.Selection(
        [
            ("healthy", "Healthy"),
            ("warning", "Needs attention"),
            ("error", "Error"),
            ("draft", "Not connected"),
        ],
        compute="_compute_health",
        help="Healthy: connected, with no error since the last successful sync, "
        "not silent and not rate limited.",
    )
    last_error_summary = fields.Char(
        "Last error (short)", compute="_compute_last_error_summary"
    )

    # Backfill: the last days of history, imported through the event store
    backfill_days = fields.Integer(
        "Import the last (days)",
        default=7,
        help="On connection, import this many days of past mentions, comments "
        "and conversations (within what the network's API returns).",
    )
    backfill_state = fields.Selection(
        [
            ("none", "Not imported"),
            ("running", "Importing"),
            ("done", "Imported"),
            ("failed", "Import failed"),
        ],
        "History import",
        default="none",
        required=True,
        readonly=True,
        copy=False,
    )
    backfill_since = fields.Datetime(readonly=True, copy=False)
    backfill_sources = fields.Json(
        readonly=True, copy=False, help="Sources still to import, in order."
    )
    backfill_source_count = fields.Integer(readonly=True, copy=False)
    backfill_cursor = fields.Char(readonly=True, copy=False)
    backfill_event_count = fields.Integer("Imported events", readonly=True, copy=False)
    backfill_error = fields.Text(readonly=True, copy=False)
    backfill_progress = fields.Float(
        "Import progress", compute="_compute_backfill_progress"
    )

    # X (OAuth 1.0a user context, OAuth 2.0 user token, app bearer token)
    x_user_id = fields.Char("X user id", readonly=True)
    x_username = fields.Char("X handle", readonly=True)
    x_api_key = fields.Char("API key", groups="base.group_system")
    x_api_secret = fields.Char("API key secret", groups="base.group_system")
    x_access_token = fields.Char("Access token", groups="base.group_system")
    x_access_token_secret = fields.Char(
        "Access token secret", groups="base.group_system"
    )
    x_oauth2_user_token = fields.Char(
        "OAuth 2.0 user token", groups="base.group_system"
    )
    x_bearer_token = fields.Char("Bearer token", groups="base.group_system")
    x_monthly_budget = fields.Float(
        "Monthly API budget (USD)",
        help="Polling stops for the rest of the UTC month once the estimated spend "
        "reaches it. 0 means no budget.",
    )
    api_spend_month = fields.Float(
        "API spend this month (USD)", compute="_compute_api_spend", digits=(16, 3)
    )
    spend_currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_spend_currency",
        help="X bills its API in US dollars.",
    )

    # Meta (Graph API)
    meta_page_id = fields.Char("Facebook page id")
    meta_instagram_account_id = fields.Char("Instagram business account id")
    meta_connection = fields.Selection(
        [
            (CONNECTION_PAGE, "Facebook Page"),
            (CONNECTION_INSTAGRAM_LOGIN, "Instagram Login (no page)"),
        ],
        "Connection",
        default=CONNECTION_PAGE,
        help="Facebook Page: the page, its Messenger and its linked Instagram "
        "account, with a page token. Instagram Login: an Instagram professional "
        "account alone, with an Instagram user token (graph.instagram.com).",
    )
    meta_graph_version = fields.Char(
        "Graph API version",
        default=DEFAULT_GRAPH_VERSION,
        help="The version the helpdesk calls Meta with.",
    )
    meta_webhook_api_version = fields.Char(
        "Webhook API version",
        readonly=True,
        copy=False,
        help="The Facebook-API-Version header of the last webhook deliveries: "
        "the version Meta builds them with (set per field in the app dashboard).",
    )
    meta_version_warning = fields.Char(
        "Graph API version warning", compute="_compute_meta_version_warning"
    )
    meta_human_agent_tag = fields.Boolean(
        "Human agent tag",
        help="The app may answer Messenger and Instagram conversations up to 7 days "
        "after the customer's last message (HUMAN_AGENT tag).",
    )
    meta_page_access_token = fields.Char(
        "Page access token", groups="base.group_system"
    )
    meta_app_secret = fields.Char("App secret", groups="base.group_system")
    meta_instagram_access_token = fields.Char(
        "Instagram access token", groups="base.group_system"
    )
    meta_instagram_app_secret = fields.Char(
        "Instagram app secret", groups="base.group_system"
    )
    meta_verify_token = fields.Char("Verify token", groups="base.group_system")

    # WhatsApp (Cloud API); the app secret, verify token and Graph API
    # version are the Meta fields above: a WhatsApp number is served by a
    # Meta app too.
    whatsapp_business_account_id = fields.Char("WhatsApp Business Account id")
    whatsapp_phone_number_id = fields.Char(
        "Phone number id",
        help="The Cloud API's id of the business phone number, not the number "
        "itself: webhook deliveries name it.",
    )
    whatsapp_access_token = fields.Char(
        "System user access token", groups="base.group_system"
    )

    # Demo network
    demo_webhook_secret = fields.Char(
        "Demo webhook secret",
        groups="base.group_system",
        default=lambda self: secrets.token_hex(16),
        copy=False,
    )
    demo_batch_size = fields.Integer(
        "Demo messages per sync",
        default=5,
        help="How many sample messages each sync replays: the demo's pace.",
    )

    api_base_url = fields.Char(
        "API base URL",
        groups="base.group_system",
        help="Leave empty for the network's public API. Set it to route calls "
        "through a proxy or a test server.",
    )

    _sql_constraints = [
        (
            "webhook_token_uniq",
            "unique(webhook_token)",
            "Webhook tokens must be unique.",
        )
    ]

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # the webhook targets
        return super().create(vals_list)

    def write(self, vals):
        self._check_manager_write(vals)
        if vals.keys() & _webhook_target_fields():
            self.env.registry.clear_cache()
        result = super().write(vals)
        if "meta_human_agent_tag" in vals:
            self._update_open_windows()
        return result

    def _update_open_windows(self):
        """Store again the reply windows that may still be open on these
        accounts' conversations (the Human Agent tag lengthens or shortens
        them)."""
        since = fields.Datetime.now() - HUMAN_AGENT_WINDOW
        self.env["social.message"].sudo().search(
            [
                ("account_id", "in", self.ids),
                ("message_date", ">=", since),
                ("ticket_id", "!=", False),
            ]
        )._update_windows()

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    @api.model
    def _check_manager_write(self, vals):
        """Helpdesk managers tune an account (team, polling, windows); its
        company, network identity and state are the administrators'."""
        if self.env.su or self.env.user.has_group(ADMIN):
            return
        locked = sorted(
            name
            for name, field in self._fields.items()
            if name in vals
            and (name in ADMIN_ONLY_FIELDS or (field.readonly and not field.compute))
        )
        if locked:
            raise AccessError(
                _(
                    "Only administrators may change these account fields: %s",
                    ", ".join(locked),
                )
            )

    @api.model
    @tools.ormcache("network")
    def _webhook_endpoint(self, network):
        """The body limit and the active accounts of ``network``'s webhook,
        each with the peers that share its signing secret and the recipient
        ids they own, cached in every worker until an account's field above
        or a system parameter changes (both clear Odoo's cache, which it
        signals to every worker through the database): a delivery runs no
        lookup query and one cache lookup, and routes its events without
        one. Read-only: copy the settings before use."""
        accounts = self.sudo().search_fetch(
            [("network", "=", network), ("webhook_token", "!=", False)],
            [
                "webhook_token",
                "meta_webhook_api_version",
                *self._adapter_field_names(network),
            ],
        )
        max_body_bytes = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("social_helpdesk.webhook_max_bytes", DEFAULT_WEBHOOK_MAX_BYTES)
        )
        groups = {}
        for account in accounts:
            settings = account._adapter_config()
            secret, recipient_ids = ADAPTERS[network].webhook_identity(settings)
            # Without a secret, an account accepts no delivery: no peers.
            key = secret or ("no secret", account.id)
            groups.setdefault(key, []).append((account, settings, recipient_ids))
        targets = {}
        for group in groups.values():
            owners = {}
            for account, _settings, recipient_ids in group:
                for recipient_id in recipient_ids:
                    owners[recipient_id] = (
                        None if recipient_id in owners else account.id
                    )
            versions = {
                account.id: account.meta_webhook_api_version or None
                for account, _settings, _ids in group
            }
            peers = WebhookPeers(owners, len(group), versions)
            for account, settings, recipient_ids in group:
                targets[account.webhook_token] = WebhookTarget(
                    account.id, settings, recipient_ids, peers
                )
        return WebhookEndpoint(int(max_body_bytes), targets)

    @api.model
    def _webhook_sibling(self, network, url_network, url_target):
        """The target, among ``network``'s accounts, of a delivery of one of
        ``network``'s objects that came to the URL of ``url_target``, an
        account of ``url_network`` (see NETWORK_OF_META_OBJECT): an account
        holding the secret that signed it, whose peers it may be for. When
        none holds it, the URL's account, owning no recipient: the events are
        kept there, rejected, with the number or page they name."""
        secret = ADAPTERS[url_network].webhook_identity(url_target.settings)[0]
        sibling = ADAPTERS[network]
        for target in self._webhook_endpoint(network).targets.values():
            if secret and sibling.webhook_identity(target.settings)[0] == secret:
                return target
        return WebhookTarget(
            url_target.account_id, {}, frozenset(), WebhookPeers({}, 2, {})
        )

    @api.model
    def _record_api_version(self, target, account_ids, version):
        """Keep on each account the ``Facebook-API-Version`` its deliveries
        carry. Compared with the cached endpoint, so only a change writes
        (the write clears that cache for every worker)."""
        version = (version or "").strip()[:16]
        changed = [
            account_id
            for account_id in account_ids
            if version and target.peers.api_versions.get(account_id) != version
        ]
        if changed:
            self.browse(changed).sudo().write({"meta_webhook_api_version": version})

    @api.depends("network", "meta_graph_version", "meta_webhook_api_version")
    def _compute_meta_version_warning(self):
        today = fields.Date.context_today(self)
        for account in self:
            account.meta_version_warning = False
            if account.network != "meta":
                continue
            for webhook, version in (
                (False, account.meta_graph_version),
                (True, account.meta_webhook_api_version),
            ):
                warning = version_warning(version, today)
                if warning:
                    account.meta_version_warning = account._version_text(
                        webhook, version, *warning
                    )
                    break

    def _version_text(self, webhook, version, end, days_left):
        """The warning of a Graph API version ending ``end`` (None: over),
        for the calls, or for the webhook deliveries."""
        values = {
            "version": version,
            "end": end,
            "days": days_left,
            "default": DEFAULT_GRAPH_VERSION,
        }
        if days_left <= 0 and webhook:
            return _(
                "Webhooks arrive in Graph API %(version)s, which Meta no longer "
                "serves: choose %(default)s in the app dashboard.",
                **values,
            )
        if days_left <= 0:
            return _(
                "This account calls Graph API %(version)s, which Meta no longer "
                "serves: choose %(default)s.",
                **values,
            )
        if webhook:
            return _(
                "Webhooks arrive in Graph API %(version)s, which Meta serves until "
                "%(end)s (%(days)s days left): choose %(default)s in the app "
                "dashboard.",
                **values,
            )
        return _(
            "This account calls Graph API %(version)s, which Meta serves until "
            "%(end)s (%(days)s days left): move to %(default)s.",
            **values,
        )

    @api.depends("network")
    def _compute_is_demo(self):
        for account in self:
            account.is_demo = account.network == "demo"

    @api.depends("webhook_token", "network")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for account in self:
            account.webhook_url = (
                f"{base_url}/social_helpdesk/webhook/{account.network}/"
                f"{account.webhook_token}"
                if account.network and account.webhook_token
                else False
            )

    def _compute_api_spend(self):
        spend = self.env["social.api.read"].sudo()._spend(self, _month_start())
        for account in self:
            account.api_spend_month = spend.get(account.id, 0.0)

    def _compute_last_event_dates(self):
        """Read from the event store (an index gives each account's latest
        events), so that a webhook delivery writes nothing but its events.
        Events rejected at this account's URL were addressed to no account of
        its: they say nothing of its own traffic."""
        self.env["social.event"].flush_model(
            ["account_id", "via_webhook", "received_date", "state"]
        )
        self.env.cr.execute(
            """
            SELECT account.id, GREATEST(pushed.received_date, pulled.received_date),
                   pushed.received_date
            FROM unnest(%s::int[]) AS account (id)
            LEFT JOIN LATERAL (
                SELECT received_date FROM social_event
                WHERE account_id = account.id AND via_webhook
                  AND state != 'rejected'
                ORDER BY id DESC LIMIT 1
            ) AS pushed ON true
            LEFT JOIN LATERAL (
                SELECT received_date FROM social_event
                WHERE account_id = account.id AND NOT via_webhook
                  AND state != 'rejected'
                ORDER BY id DESC LIMIT 1
            ) AS pulled ON true
            """,
            [self.filtered("id").ids],
        )
        dates = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for account in self:
            account.last_event_date, account.last_webhook_date = dates.get(
                account.id, (False, False)
            )

    @api.depends(
        "state",
        "connected_date",
        "silent_after_hours",
        "rate_limited_until",
        "last_error",
    )
    def _compute_health(self):
        now = fields.Datetime.now()
        for account in self:
            account.is_rate_limited = bool(
                account.rate_limited_until and account.rate_limited_until > now
            )
            heard = account.last_event_date or account.connected_date
            account.is_silent = bool(
                account.state == "connected"
                and account.silent_after_hours
                and heard
                and heard < now - timedelta(hours=account.silent_after_hours)
            )
            if account.state != "connected":
                account.health = account.state
            elif account.last_error or account.is_silent or account.is_rate_limited:
                account.health = "warning"
            else:
                account.health = "healthy"

    @api.depends("last_error")
    def _compute_last_error_summary(self):
        """The first line of the last error, short enough for a card."""
        for account in self:
            line = (account.last_error or "").strip().split("\n", 1)[0]
            account.last_error_summary = (
                line if len(line) <= 80 else line[:79].rstrip() + "…"
            )

    def _compute_spend_currency(self):
        usd = self.env.ref("base.USD")
        for account in self:
            account.spend_currency_id = usd

    def _search_is_silent(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on the silent flag."))
        watched = self.search(
            [("state", "=", "connected"), ("silent_after_hours", ">", 0)]
        )
        silent_ids = watched.filtered("is_silent").ids
        wanted = (operator == "=") == value
        return [("id", "in" if wanted else "not in", silent_ids)]

    @api.depends("backfill_state", "backfill_sources", "backfill_source_count")
    def _compute_backfill_progress(self):
        for account in self:
            if account.backfill_state == "done":
                account.backfill_progress = 100.0
            elif account.backfill_state == "none" or not account.backfill_source_count:
                account.backfill_progress = 0.0
            else:
                left = len(account.backfill_sources or [])
                account.backfill_progress = (
                    100.0 * (account.backfill_source_count - left)
                ) / account.backfill_source_count

    def _compute_store_size(self):
        """The raw store's size: estimated on a large store, where counting
        would read every row (see ``social.event._store_size``)."""
        sizes = self.env["social.event"]._store_size(self.filtered("id").ids)
        for account in self:
            events, size = sizes.get(account.id, (0, 0))
            account.event_count = events
            account.event_payload_size = tools.misc.human_size(size) or _("none")

    def _compute_error_event_count(self):
        """Counted on the index of the events in error."""
        self.env["social.event"].flush_model(["account_id", "state"])
        self.env.cr.execute(
            "SELECT account_id, count(*) FROM social_event"
            " WHERE state = 'error' AND account_id = ANY(%s) GROUP BY account_id",
            [self.filtered("id").ids],
        )
        errors = dict(self.env.cr.fetchall())
        for account in self:
            account.error_event_count = errors.get(account.id, 0)

    # ------------------------------------------------------------------
    # Adapters
    # ------------------------------------------------------------------
    @api.model
    def _adapter_field_names(self, network):
        """The fields an adapter of ``network`` is built from, fetched in one
        query: the webhook reads them with the account lookup itself."""
        return ["network", *dict.fromkeys(_adapter_settings(network).values())]

    def _adapter_config(self):
        """Settings and credentials as the adapter expects them (read as
        superuser: agents trigger processing but never see the secrets)."""
        self.ensure_one()
        account = self.sudo()
        names = self._adapter_field_names(account.network)
        account.fetch(names)
        return self._adapter_config_from(
            account.network, {name: account[name] for name in names}
        )

    @api.model
    def _adapter_config_from(self, network, values):
        """The adapter's settings of ``network`` from account field values
        (missing ones unset): the setup wizard tests credentials with them
        before any account exists."""
        timeout = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "social_helpdesk.api_timeout_seconds", DEFAULT_API_TIMEOUT_SECONDS
            )
        )
        config = {
            setting: values.get(name)
            for setting, name in _adapter_settings(network).items()
        }
        base_url = values.get("api_base_url") or None
        config.update(timeout=float(timeout), api_base_url=base_url)
        if network == "meta":
            config.update(
                graph_version=values.get("meta_graph_version") or DEFAULT_GRAPH_VERSION,
                graph_base_url=base_url,
            )
        return {key: value for key, value in config.items() if value is not None}

    def _get_adapter(self):
        self.ensure_one()
        return ADAPTERS[self.network](self._adapter_config())

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_rotate_webhook_token(self):
        """Invalidate the current webhook URL, e.g. after it leaked."""
        require_group(self.env, ADMIN, _("rotate a webhook URL"))
        for account in self:
            account.sudo().webhook_token = secrets.token_urlsafe(32)
            account.message_post(body=_("The webhook URL was rotated."))

    def action_test_connection(self):
        self.ensure_one()
        require_group(self.env, ADMIN, _("test an account's credentials"))
        try:
            _info, description = self._connect()
        except AdapterError as exc:
            raise UserError(_("Connection failed: %s", exc)) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Connected"),
                "message": description,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _connect(self):
        """Test the credentials and record the outcome on the account. Returns
        the adapter's report and its description; an AdapterError propagates
        once the account is marked in error."""
        self.ensure_one()
        try:
            info = self._get_adapter().test_connection()
        except AdapterError as exc:
            self._set_error(str(exc))
            raise
        description = self._describe_connection(info)
        values = {
            "state": "connected",
            "last_error": False,
            "connection_info": description,
        }
        if self.state != "connected" or not self.connected_date:
            values["connected_date"] = fields.Datetime.now()
        if self.network == "x":
            values.update(x_user_id=info["user_id"], x_username=info["username"])
        self.write(values)
        return info, description

    def _describe_connection(self, info):
        if self.network == "x":
            return _("Connected as @%(username)s (user id %(user_id)s).", **info)
        if (
            self.network == "meta"
            and self.meta_connection == CONNECTION_INSTAGRAM_LOGIN
        ):
            return _(
                "Instagram account %(account)s, with Instagram Login.\n"
                "Webhook fields subscribed: %(fields)s.",
                account=info.get("label"),
                fields=", ".join(info.get("subscribed_fields") or [])
                or _("none (use Subscribe)"),
            )
        if self.network == "meta":
            return _(
                "Page %(page)s.\nGranted permissions: %(granted)s.\n"
                "Missing permissions: %(missing)s.\n"
                "Webhook fields subscribed: %(fields)s.",
                page=info.get("page_name"),
                granted=", ".join(info.get("granted") or []) or _("none"),
                missing=", ".join(info.get("missing") or []) or _("none"),
                fields=", ".join(info.get("subscribed_fields") or [])
                or _("none (use Subscribe)"),
            )
        if self.network == "whatsapp":
            return _(
                "Business number %(phone)s, shown as “%(name)s”.\n"
                "Quality rating: %(quality)s.\nMessaging limit: %(limit)s.\n"
                "%(subscribed)s",
                name=info.get("display_name") or info.get("label") or "?",
                phone=info.get("display_phone_number") or "?",
                quality=info.get("quality_rating") or _("unknown"),
                limit=info.get("messaging_limit") or _("unknown"),
                subscribed=_("The app is subscribed to the messages field.")
                if info.get("subscribed")
                else _(
                    "The app is not subscribed to the messages field yet: "
                    "register the webhook."
                ),
            )
        return _("The demo source replays bundled sample messages.")

    def action_meta_subscribe(self):
        """Subscribe the app to the page's feed and messages webhooks."""
        self.ensure_one()
        require_group(self.env, ADMIN, _("subscribe an account's webhooks"))
        try:
            self._get_adapter().subscribe_app()
        except AdapterError as exc:
            raise UserError(_("Subscription failed: %s", exc)) from exc
        return self.action_test_connection()

    def action_sync_now(self):
        """Poll at once. It spends the network's rate limits (and, on X,
        billed reads): helpdesk managers of the account's company only."""
        require_group(self.env, MANAGER, _("poll an account on demand"))
        self.check_access("write")
        self.sudo()._poll()
        self.env["social.event"].sudo()._trigger_processing()
        return True

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "social_helpdesk.social_event_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------
    def _set_error(self, message):
        """Put the account in error with a message for the admin; logged
        without credentials (adapters never put them in messages)."""
        _logger.warning("Social account %s: %s", self.id, message)
        self.sudo().write({"state": "error", "last_error": message})

    def _set_rate_limited(self, reset_at):
        """Reschedule at the network's reset time; never sleep in a worker."""
        until = (
            reset_at.astimezone(timezone.utc).replace(tzinfo=None)
            if reset_at
            else fields.Datetime.now() + timedelta(minutes=15)
        )
        self.sudo().write(
            {
                "rate_limited_until": until,
                "next_poll_date": until,
                "last_error": _("Rate limited until %s UTC.", until),
            }
        )

    # ------------------------------------------------------------------
    # Polling
    # ------------------------------------------------------------------
    @api.model
    def _cron_poll(self):
        """Poll every account that is due, each in its own transaction. Rows are
        claimed with SKIP LOCKED so several workers never poll one account."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("poll_enabled", "=", True),
                ("state", "!=", "error"),
                "|",
                ("next_poll_date", "=", False),
                ("next_poll_date", "<=", now),
            ]
        )
        for account_id in due.ids:
            account = self.browse(account_id)
            if account._x_token_due():
                # In a transaction of its own, before this one locks the row.
                account._x_refresh_token()
                self.env["social.event"]._commit()
            account = account._lock_for_poll()
            if account:
                account._poll()
                self.env["social.event"]._commit()

    def _lock_for_poll(self):
        """Claim the account for this poll. NO KEY UPDATE excludes the other
        pollers but not the webhook's deliveries, whose foreign-key check
        share-locks the account's key: they go on during the poll's calls to
        the network."""
        self.env.cr.execute(
            "SELECT id FROM social_account WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
            [self.id],
        )
        return self if self.env.cr.fetchone() else self.browse()

    def _poll(self):
        """Fetch what came after the stored cursors, store it, then move the
        cursors in the same transaction: they never get ahead of the events.
        Without cursors, polling starts at the connection: older history is
        the history import's. A failed poll still meters the reads it made."""
        for account in self:
            if not account._poll_allowed():
                continue
            adapter = account._get_adapter()
            start = None
            if account.connected_date:
                start = account.connected_date.replace(tzinfo=timezone.utc)
            try:
                result = adapter.poll(dict(account.poll_cursors or {}), start=start)
            except AdapterError as exc:
                account._meter_reads(exc.reads)
                if isinstance(exc, RateLimited):
                    account._set_rate_limited(exc.reset_at)
                elif isinstance(exc, AuthError) and not account._x_token_refused():
                    account._set_error(str(exc))
                elif isinstance(exc, AuthError):
                    account._poll_failed(str(exc))  # again, with the new token
                else:
                    account._poll_failed(str(exc))
                continue
            self.env["social.event"]._store(account, result.events)
            account._meter_reads(result.reads)
            interval = timedelta(minutes=max(account.poll_interval_minutes, 1))
            if adapter.should_slow_down():
                interval *= 4
            now = fields.Datetime.now()
            account.sudo().write(
                {
                    "poll_cursors": result.cursors,
                    "last_sync_date": now,
                    "next_poll_date": now + interval,
                    "state": "connected",
                    "last_error": False,
                    "rate_limited_until": False,
                    "poll_failures": 0,
                }
            )

    def _recover_missed(self, start, end):
        """Read again what the network sent between ``start`` and ``end``
        (aware UTC) while webhooks were not received, into the event store,
        whose unique key keeps each event once. Returns the number of new
        events; a network that cannot recover returns None."""
        self.ensure_one()
        adapter = self._get_adapter()
        if not hasattr(adapter, "recover_window"):
            return None
        result = adapter.recover_window(start, end)
        stored = self.env["social.event"]._store(self, result.events)
        self._meter_reads(result.reads)
        return stored

    def _poll_allowed(self):
        """Metered networks are not polled while webhooks deliver (nothing is
        read twice) nor once the month's budget is spent."""
        self.ensure_one()
        if self.network not in METERED_NETWORKS:
            return True
        now = fields.Datetime.now()
        grace = timedelta(hours=self.webhook_grace_hours)
        if self.last_webhook_date and now - self.last_webhook_date < grace:
            self.sudo().next_poll_date = self.last_webhook_date + grace
            return False
        if self.x_monthly_budget and self.api_spend_month >= self.x_monthly_budget:
            message = _(
                "The monthly API budget of %(budget)s USD is reached (estimated "
                "spend %(spend).2f USD): polling is paused until next month. "
                "Webhooks still deliver.",
                budget=self.x_monthly_budget,
                spend=self.api_spend_month,
            )
            if self.last_error != message:
                self.message_post(body=message)
            next_month = (_month_start() + timedelta(days=32)).replace(day=1)
            self.sudo().write(
                {
                    "last_error": message,
                    "next_poll_date": fields.Datetime.to_datetime(next_month),
                }
            )
            return False
        return True

    def _poll_failed(self, message):
        """A timeout or 5xx: retry with exponential backoff, capped."""
        failures = self.poll_failures + 1
        delay = min(2 ** (failures - 1), MAX_POLL_BACKOFF_MINUTES)
        self.sudo().write(
            {
                "last_error": message,
                "poll_failures": failures,
                "next_poll_date": fields.Datetime.now() + timedelta(minutes=delay),
            }
        )

    def _queue_poll(self):
        """Have the polling cron poll these accounts at once, outside the
        caller's request."""
        self.sudo().write({"next_poll_date": fields.Datetime.now()})
        self.env.ref("social_helpdesk.ir_cron_poll_social_accounts")._trigger()

    def _meter_reads(self, reads):
        """Record the billable reads of a poll, deduplicated per UTC day."""
        resource_ids = (reads or {}).get("resource_ids")
        if resource_ids:
            self.env["social.api.read"].sudo()._record(
                self, resource_ids, fields.Date.today()
            )
            self.invalidate_recordset(["api_spend_month"])

    # ------------------------------------------------------------------
    # History import (backfill)
    # ------------------------------------------------------------------
    def _estimate_backfill_cost(self, days):
        """Estimated reads and USD cost of importing ``days`` of history, for
        metered networks; None elsewhere."""
        self.ensure_one()
        since = self._backfill_start(days)
        estimate = self._get_adapter().estimate_backfill(since)
        if estimate is None:
            return None
        cost = self.env["social.api.price"]._estimate(self.network, estimate["reads"])
        return dict(estimate, cost=cost)

    @api.model
    def _backfill_start(self, days):
        return (fields.Datetime.now() - timedelta(days=days)).replace(
            tzinfo=timezone.utc
        )

    def _start_backfill(self, days):
        """Queue the import of the last ``days`` of history: the cron reads
        it page by page into the event store, where webhooks and polling
        deduplicate against it."""
        for account in self:
            if account.backfill_state == "running":
                raise UserError(
                    _("The history of %s is already being imported.", account.name)
                )
            sources = list(account._get_adapter().backfill_sources())
            account.write(
                {
                    "backfill_days": days,
                    "backfill_state": "running",
                    "backfill_since": account._backfill_start(days).replace(
                        tzinfo=None
                    ),
                    "backfill_sources": sources,
                    "backfill_source_count": len(sources),
                    "backfill_cursor": False,
                    "backfill_event_count": 0,
                    "backfill_error": False,
                }
            )
            account.message_post(body=_("Importing the last %s days of history.", days))
        self.env.ref("social_helpdesk.ir_cron_social_backfill")._trigger()

    @api.model
    def _cron_backfill(self, pages_per_run=20):
        """Import history pages of the accounts being backfilled, each page
        committed with its cursor, and report progress to the cron."""
        Event = self.env["social.event"]
        pages = 0
        for account_id in self.search([("backfill_state", "=", "running")]).ids:
            while pages < pages_per_run:
                account = self.browse(account_id)._lock_for_poll()
                if not account or account.backfill_state != "running":
                    break
                more = account._backfill_page()
                pages += 1
                Event._commit()
                if not more:
                    break
        remaining = self.search_count([("backfill_state", "=", "running")])
        self.env["ir.cron"]._notify_progress(done=pages, remaining=remaining)

    def _backfill_page(self):
        """Import one page of the current source. Returns whether to go on
        now (False when done, failed, or waiting for a rate limit)."""
        self.ensure_one()
        sources = list(self.backfill_sources or [])
        if not sources:
            return self._finish_backfill()
        if (
            self.network in METERED_NETWORKS
            and self.x_monthly_budget
            and self.api_spend_month >= self.x_monthly_budget
        ):
            return self._fail_backfill(
                _(
                    "The monthly API budget of %s USD is reached; the import stopped.",
                    self.x_monthly_budget,
                )
            )
        since = self.backfill_since.replace(tzinfo=timezone.utc)
        try:
            result = self._get_adapter().backfill(
                sources[0], since, self.backfill_cursor or None
            )
        except RateLimited as exc:
            self._meter_reads(exc.reads)
            self._set_rate_limited(exc.reset_at)
            self.env.ref("social_helpdesk.ir_cron_social_backfill")._trigger(
                self.rate_limited_until
            )
            return False
        except AdapterError as exc:
            self._meter_reads(exc.reads)
            return self._fail_backfill(str(exc))
        stored = self.env["social.event"]._store(self, result.events)
        self._meter_reads(result.reads)
        cursor = (result.cursors or {}).get("next")
        if not cursor:
            sources.pop(0)
        self.sudo().write(
            {
                "backfill_sources": sources,
                "backfill_cursor": cursor or False,
                "backfill_event_count": self.backfill_event_count + stored,
            }
        )
        return bool(sources) or self._finish_backfill()

    def _finish_backfill(self):
        self.sudo().write({"backfill_state": "done", "backfill_sources": []})
        self.message_post(
            body=_(
                "History imported: %(count)s new events from the last %(days)s days.",
                count=self.backfill_event_count,
                days=self.backfill_days,
            )
        )
        return False

    def _fail_backfill(self, reason):
        self.sudo().write({"backfill_state": "failed", "backfill_error": reason})
        self.message_post(body=_("The history import failed: %s", reason))
        return False

    def action_open_setup(self):
        self.ensure_one()
        require_group(self.env, ADMIN, _("set up an account"))
        return self.env["social.account.setup.wizard"].action_open(self.id)

    def action_retry_error_events(self):
        """Queue this account's failed events again."""
        require_group(self.env, ADMIN, _("retry an account's events"))
        self.env["social.event"].search(
            [("account_id", "in", self.ids), ("state", "=", "error")]
        ).action_retry()

    def action_backfill(self):
        """Ask how many days to import (and, for X, confirm the cost)."""
        self.ensure_one()
        require_group(self.env, ADMIN, _("import an account's history"))
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.account.backfill.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_account_id": self.id,
                "default_days": self.backfill_days or 7,
            },
        }
