# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
from datetime import timedelta, timezone

from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import PRIVATE, AdapterError, AuthError
from ..adapters.x import XAdapter
from ..adapters.x.activity import ACTIVITY_EVENT_TYPES
from ..adapters.x.replies import URLS
from .access import ADMIN, require_group

_logger = logging.getLogger(__name__)

# Refresh an OAuth 2.0 user token with less than this left (X's last 2 hours).
TOKEN_REFRESH_MARGIN = timedelta(minutes=10)
# Per transaction: the tokens refreshed by a side transaction, which this
# one's snapshot may predate.
FRESH_TOKENS = "social_helpdesk_x_fresh_tokens"

RECOVERED_NETWORKS = ("x", "meta")
# X replays at most a day; a longer silence loses what came before.
MAX_WINDOW = timedelta(hours=24)
# The window starts a little before the last delivery: the store drops what
# was already received, and nothing at the edge is missed.
WINDOW_OVERLAP = timedelta(minutes=5)
# X replays asynchronously: what arrived is counted this long after asking.
REPORT_AFTER = timedelta(minutes=10)
# Traffic is expected when deliveries came in the same hours of these days.
EXPECTED_TRAFFIC_DAYS = 7


class SocialAccount(models.Model):
    """Keeping an account current with its network: on X the webhook
    product (X Activity API or the legacy Account Activity API) and its
    subscriptions, the OAuth 2.0 user token kept fresh, the writes metered;
    and, for X and Meta, the recovery of what a downtime missed: when Odoo
    was down or the webhook silent longer than the account's threshold
    while traffic was expected, the missed window is asked again (X's
    webhook replay, a Meta poll of the window). The event store's unique
    key keeps each event once; the chatter says what was recovered."""

    _inherit = "social.account"  # pylint: disable=consider-merging-classes-inherited

    x_webhook_product = fields.Selection(
        [
            ("xaa", "X Activity API"),
            ("aaa", "Account Activity API (legacy)"),
        ],
        "X webhooks",
        default="xaa",
        help="X Activity API: the current webhooks, one subscription per event "
        "type (mentions, replies, direct messages, encrypted chats). Account "
        "Activity API: the deprecated product, kept for apps still subscribed "
        "to it.",
    )
    x_oauth2_refresh_token = fields.Char(
        "OAuth 2.0 refresh token", groups="base.group_system", copy=False
    )
    x_oauth2_client_id = fields.Char("OAuth 2.0 client id", groups="base.group_system")
    x_oauth2_client_secret = fields.Char(
        "OAuth 2.0 client secret", groups="base.group_system"
    )
    x_oauth2_token_expires_at = fields.Datetime(
        "OAuth 2.0 token expires at",
        readonly=True,
        copy=False,
        help="The user token is refreshed when less than 10 minutes are left.",
    )
    x_subscriptions_missing = fields.Char(
        "Missing X subscriptions",
        readonly=True,
        copy=False,
        help="X Activity API events the account is not subscribed to, as of the "
        "last check: they do not reach the helpdesk by webhook.",
    )
    x_subscriptions_checked_date = fields.Datetime(
        "X subscriptions checked", readonly=True, copy=False
    )

    recovery_after_minutes = fields.Integer(
        "Recover after silence (minutes)",
        default=30,
        help="When the webhook has delivered nothing for this long while the "
        "account usually receives messages at that time (or Odoo was down), "
        "ask the network for the missed events (X replays up to 24 hours). "
        "0: never.",
    )
    recovered_until = fields.Datetime(
        "Recovered until",
        readonly=True,
        copy=False,
        help="The end of the last window asked again.",
    )
    recovery_requested_date = fields.Datetime(
        "Replay requested", readonly=True, copy=False
    )
    recovery_window_start = fields.Datetime("Replayed from", readonly=True, copy=False)
    recovery_job = fields.Char("Replay job", readonly=True, copy=False)

    # ------------------------------------------------------------------
    # X Activity API subscriptions
    # ------------------------------------------------------------------
    def action_x_check_subscriptions(self):
        """List the account's X Activity API subscriptions; keep the missing."""
        require_group(self.env, ADMIN, self.env._("check an account's subscriptions"))
        for account in self.filtered(lambda a: a.network == "x"):
            try:
                missing = account._get_adapter().missing_activity_subscriptions()
            except AdapterError as exc:
                raise self._user_error(exc) from exc
            account._set_subscriptions_missing(missing)
        return True

    def action_x_subscribe(self):
        """Create the missing subscriptions, delivered to the account's URL."""
        require_group(self.env, ADMIN, self.env._("subscribe an account's webhooks"))
        for account in self.filtered(lambda a: a.network == "x"):
            adapter = account._get_adapter()
            try:
                webhook_id = adapter.webhook_id_for(account.sudo().webhook_url)
                if not webhook_id:
                    raise self._user_error(
                        self.env._(
                            "X has no webhook for this account's URL: register it "
                            "first (Setup)."
                        )
                    )
                created = adapter.create_activity_subscriptions(webhook_id)
                missing = adapter.missing_activity_subscriptions()
            except AdapterError as exc:
                raise self._user_error(exc) from exc
            account._set_subscriptions_missing(missing)
            if created:
                account.message_post(
                    body=self.env._(
                        "Subscribed to the X Activity API events: %s.",
                        ", ".join(created),
                    )
                )
        return True

    def action_x_unsubscribe(self):
        """Delete the account's X Activity API subscriptions (before
        disconnecting it, say): X stops delivering its events."""
        require_group(self.env, ADMIN, self.env._("unsubscribe an account"))
        for account in self.filtered(lambda a: a.network == "x"):
            adapter = account._get_adapter()
            try:
                subscriptions = adapter.list_activity_subscriptions()
                adapter.delete_activity_subscriptions(
                    [item["subscription_id"] for item in subscriptions]
                )
            except AdapterError as exc:
                raise self._user_error(exc) from exc
            account._set_subscriptions_missing(list(ACTIVITY_EVENT_TYPES))
            account.message_post(
                body=self.env._(
                    "Deleted %s X Activity API subscriptions.", len(subscriptions)
                )
            )
        return True

    def _set_subscriptions_missing(self, missing):
        self.sudo().write(
            {
                "x_subscriptions_missing": ", ".join(missing) or False,
                "x_subscriptions_checked_date": fields.Datetime.now(),
            }
        )

    @api.model
    def _user_error(self, error):
        return UserError(self.env._("X refused: %s", error))

    # ------------------------------------------------------------------
    # Metering
    # ------------------------------------------------------------------
    def _meter_write(self, kind, text, key):
        """Record one billed write (a reply posted: X bills each request;
        a public one with a link costs more), once per ``key``."""
        self.ensure_one()
        if self.network != "x":
            return
        if kind == PRIVATE:
            resource = "dm_create"
        else:
            resource = (
                "content_create_url" if URLS.search(text or "") else "content_create"
            )
        self.env["social.api.read"].sudo()._record(
            self, [f"{resource}:{key}"], fields.Date.today()
        )
        self.invalidate_recordset(["api_spend_month"])

    # ------------------------------------------------------------------
    # OAuth 2.0 user token
    # ------------------------------------------------------------------
    def _adapter_config(self):
        config = super()._adapter_config()
        fresh = self.env.cr.cache.get(FRESH_TOKENS, {}).get(self.id)
        if fresh:
            config["oauth2_user_token"] = fresh
        return config

    def _get_adapter(self):
        self.ensure_one()
        if self._x_token_due():
            self._x_refresh_token()
        return super()._get_adapter()

    def _x_token_due(self):
        """Whether the OAuth 2.0 user token has less than the margin left."""
        account = self.sudo()
        if account.network != "x" or not account.x_oauth2_refresh_token:
            return False
        if self.id in self.env.cr.cache.get(FRESH_TOKENS, {}):
            return False
        expires = account.x_oauth2_token_expires_at
        return not expires or expires - fields.Datetime.now() < TOKEN_REFRESH_MARGIN

    def _x_refresh_token(self):
        """Get a new OAuth 2.0 user token pair, exactly once across workers.

        X's refresh tokens rotate: the one sent is spent, so the new pair
        must be stored before anyone refreshes again, and must survive
        whatever the caller's transaction does next. The refresh therefore
        runs in a transaction of its own, committed at once, holding the
        account's row (NOWAIT: when another worker holds it, that one is
        refreshing or polling, and this one goes on with the token it has);
        under the lock, the row is read again, as committed: a worker whose
        snapshot predates a refresh sees the new pair and does not refresh.
        Returns whether the account has a fresh token."""
        self.ensure_one()
        self.flush_recordset()  # under tests, the side cursor is this one
        with self.env.registry.cursor() as cr:
            if not self.env.registry.in_test_mode():
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            try:
                cr.execute(
                    """
                    SELECT x_oauth2_user_token, x_oauth2_token_expires_at
                    FROM social_account WHERE id = %s
                    FOR NO KEY UPDATE NOWAIT
                    """,
                    [self.id],
                    log_exceptions=False,  # a busy row is expected, not an error
                )
            except (LockNotAvailable, SerializationFailure):
                cr.rollback()
                return False
            token, expires = cr.fetchone()
            if expires and expires - fields.Datetime.now() >= TOKEN_REFRESH_MARGIN:
                self._remember_token(token)
                return True
            account = self.env(cr=cr, su=True)["social.account"].browse(self.id)
            try:
                pair = XAdapter(account._adapter_config()).refresh_user_token()
            except AuthError as exc:
                account._set_error(str(exc))
                return False
            except AdapterError as exc:
                _logger.warning("Social account %s: %s", self.id, exc)
                return False
            account.write(
                {
                    "x_oauth2_user_token": pair["access_token"],
                    "x_oauth2_refresh_token": pair["refresh_token"],
                    "x_oauth2_token_expires_at": pair["expires_at"]
                    .astimezone(timezone.utc)
                    .replace(tzinfo=None),
                }
            )
        self._remember_token(pair["access_token"])
        return True

    def _x_token_refused(self):
        """X answered 401 to the OAuth 2.0 user token: mark it expired, so
        that the next attempt refreshes it first (outside the caller's
        transaction, which may hold the account's row). Returns whether
        there is a refresh to try."""
        account = self.sudo()
        if account.network != "x" or not account.x_oauth2_refresh_token:
            return False
        account.x_oauth2_token_expires_at = False
        self.env.cr.cache.get(FRESH_TOKENS, {}).pop(self.id, None)
        return True

    def _remember_token(self, token):
        self.env.cr.cache.setdefault(FRESH_TOKENS, {})[self.id] = token

    # ------------------------------------------------------------------
    # Recovery after downtime
    # ------------------------------------------------------------------
    @api.model
    def _cron_recover(self):
        """Recover the accounts whose webhook went silent, each in its own
        transaction, claimed with SKIP LOCKED as polls are; report X's
        replays once they had time to arrive."""
        Event = self.env["social.event"]
        accounts = self.search(
            [
                ("state", "=", "connected"),
                ("network", "in", RECOVERED_NETWORKS),
                ("recovery_after_minutes", ">", 0),
            ]
        )
        for account_id in accounts.ids:
            account = self.browse(account_id)._lock_for_poll()
            if not account:
                continue
            if account.recovery_requested_date:
                if fields.Datetime.now() >= (
                    account.recovery_requested_date + REPORT_AFTER
                ):
                    account._report_replay()
            else:
                window = account._recovery_window()
                if window:
                    account._recover(*window)
            Event._commit()

    def _recovery_window(self):
        """(start, end) of what the webhook may have missed, naive UTC, or
        None: it delivered recently, never did, or nothing was expected."""
        self.ensure_one()
        last = self.last_webhook_date
        if not last:
            return None  # no webhook: polling covers the account
        heard = max(last, self.recovered_until or last)
        now = fields.Datetime.now()
        if now - heard < timedelta(minutes=self.recovery_after_minutes):
            return None
        if not self._expects_traffic(heard, now):
            return None
        return max(heard - WINDOW_OVERLAP, now - MAX_WINDOW), now

    def _expects_traffic(self, start, end):
        """Whether webhook deliveries came in the same hours of one of the
        previous days: then a silence is an outage, not a quiet night."""
        self.env["social.event"].flush_model(
            ["account_id", "via_webhook", "received_date", "state"]
        )
        self.env.cr.execute(
            """
            SELECT 1 FROM generate_series(1, %s) AS day
            WHERE EXISTS (
                SELECT 1 FROM social_event
                WHERE account_id = %s AND via_webhook AND state != 'rejected'
                  AND received_date >= %s - make_interval(days => day)
                  AND received_date < %s - make_interval(days => day)
            )
            LIMIT 1
            """,
            [EXPECTED_TRAFFIC_DAYS, self.id, start, end],
        )
        return bool(self.env.cr.fetchone())

    def _recover(self, start, end):
        """Ask the network for ``[start, end)``. Meta is polled for it at
        once; X is asked to replay it to the webhook, which it does on its
        own time: the report follows (see ``_report_replay``)."""
        self.ensure_one()
        adapter = self._get_adapter()
        aware_start = start.replace(tzinfo=timezone.utc)
        aware_end = end.replace(tzinfo=timezone.utc)
        try:
            if self.network == "x":
                job = adapter.replay(self.sudo().webhook_url, aware_start, aware_end)
            elif hasattr(adapter, "recover_window"):
                result = adapter.recover_window(aware_start, aware_end)
            else:
                result = adapter.poll({}, start=aware_start)
        except AdapterError as exc:
            _logger.warning("Social account %s: recovery failed: %s", self.id, exc)
            self.sudo().last_error = self.env._(
                "The recovery of the missed events failed: %s", exc
            )
            return
        if self.network == "x":
            self.sudo().write(
                {
                    "recovered_until": end,
                    "recovery_requested_date": fields.Datetime.now(),
                    "recovery_window_start": job["start"]
                    .astimezone(timezone.utc)
                    .replace(tzinfo=None),
                    "recovery_job": job["job_id"],
                }
            )
            return
        events = getattr(result, "events", result)
        stored = self.env["social.event"]._store(self, events)
        self.sudo().recovered_until = end
        self.message_post(
            body=self.env._(
                "The webhook was silent from %(start)s to %(end)s (UTC): the "
                "network was polled for that window. %(new)s new events "
                "recovered, %(known)s already received.",
                start=start,
                end=end,
                new=stored,
                known=len(events) - stored,
            )
        )

    def _report_replay(self):
        """Post what X's replay brought: the events stored since it was
        asked (replayed ones, and any that came live meanwhile; those
        already received were dropped by the store's unique key)."""
        self.ensure_one()
        self.env["social.event"].flush_model(["account_id", "received_date"])
        self.env.cr.execute(
            """
            SELECT count(*) FROM social_event
            WHERE account_id = %s AND via_webhook AND state != 'rejected'
              AND received_date >= %s
            """,
            [self.id, self.recovery_requested_date],
        )
        count = self.env.cr.fetchone()[0]
        self.message_post(
            body=self.env._(
                "The webhook was silent from %(start)s to %(end)s (UTC): X was "
                "asked to deliver that window again (replay job %(job)s). "
                "%(count)s new events arrived since, each stored once.",
                start=self.recovery_window_start,
                end=self.recovered_until,
                job=self.recovery_job,
                count=count,
            )
        )
        self.sudo().write(
            {
                "recovery_requested_date": False,
                "recovery_window_start": False,
                "recovery_job": False,
            }
        )
