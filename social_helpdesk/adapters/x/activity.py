"""X Activity API subscriptions, webhook replay, and OAuth 2.0 token refresh.

* X Activity API (XAA), which replaces the Account Activity API: one
  subscription per event type and user, ``POST /2/activity/subscriptions``
  (``event_type``, ``filter.user_id``, ``webhook_id``, ``tag``), listed with
  ``GET /2/activity/subscriptions`` (paginated) and deleted with ``DELETE
  /2/activity/subscriptions/:id``. Private events (``dm.*``, ``chat.*``)
  need the user's authorization, so subscriptions are created in the
  account's user context; listing and deleting use the app's bearer token.
  https://docs.x.com/x-api/activity/create-x-activity-subscription
* ``POST /2/webhooks/replay`` (``webhook_id``, ``from_date``, ``to_date`` in
  UTC ``yyyymmddhhmm``) has X deliver again, to the same webhook and signed
  as usual, up to 24 hours of events; it answers at once with a ``job_id``.
  https://docs.x.com/x-api/webhooks/create-replay-job-for-webhook (the
  legacy Account Activity API has its own, with the window in the query:
  https://docs.x.com/x-api/account-activity/create-replay-job).
* OAuth 2.0 user access tokens last two hours; with the ``offline.access``
  scope a refresh token gets a new pair (``grant_type=refresh_token`` at
  ``POST /2/oauth2/token``). Refresh tokens rotate: the old one stops
  working, so the caller must store the new pair before anyone refreshes
  again. https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
"""

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import requests

from ..base import (
    AdapterError,
    AuthError,
    NetworkAdapter,
    NotSupported,
    TransientError,
)
from .client import X_HOST
from .parse import _expect_shape, _id

TOKEN_ROUTE = "/2/oauth2/token"
SUBSCRIPTIONS_ROUTE = "/2/activity/subscriptions"
REPLAY_ROUTE = "/2/webhooks/replay"
# The legacy Account Activity API's own replay (same window, in the query).
AAA_REPLAY_ROUTE = "/2/account_activity/replay/webhooks/{webhook}/subscriptions/all"

# What the helpdesk subscribes to: mentions and replies of the account,
# legacy DMs both ways (dm.sent: the brand's own, an echo), and encrypted
# XChat messages received.
ACTIVITY_EVENT_TYPES = (
    "post.mention.create",
    "post.reply.create",
    "dm.received",
    "dm.sent",
    "chat.received",
)
SUBSCRIPTION_TAG = "social_helpdesk"
# X replays at most 24 hours per job.
MAX_REPLAY = timedelta(hours=24)
REPLAY_DATE_FORMAT = "%Y%m%d%H%M"
MAX_SUBSCRIPTION_PAGES = 20


class XActivityMixin(NetworkAdapter):
    """XAA subscriptions, replay of a missed window, token refresh."""

    # -- X Activity API subscriptions ---------------------------------------
    def list_activity_subscriptions(self):
        """The app's XAA subscriptions for this account's user: a list of
        ``{"subscription_id", "event_type", "webhook_id"}``."""
        own_id = self._own_id
        found, token = [], None
        for _page in range(MAX_SUBSCRIPTION_PAGES):
            params = {"max_results": 100}
            if token:
                params["pagination_token"] = token
            body = self._app_call(
                "listing the X Activity API subscriptions",
                "GET",
                SUBSCRIPTIONS_ROUTE,
                params=params,
            )
            with _expect_shape("X's answer"):
                for item in body.get("data") or []:
                    if str((item.get("filter") or {}).get("user_id")) != own_id:
                        continue
                    found.append(
                        {
                            "subscription_id": _id(item["subscription_id"]),
                            "event_type": item["event_type"],
                            "webhook_id": item.get("webhook_id") or "",
                        }
                    )
                token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
        return found

    def missing_activity_subscriptions(self, subscriptions=None):
        """The event types the helpdesk needs that have no subscription."""
        if subscriptions is None:
            subscriptions = self.list_activity_subscriptions()
        present = {item["event_type"] for item in subscriptions}
        return [kind for kind in ACTIVITY_EVENT_TYPES if kind not in present]

    def create_activity_subscriptions(self, webhook_id, event_types=None):
        """Subscribe the account's user to ``event_types`` (by default those
        missing), delivered to ``webhook_id``. Returns the types created."""
        if not self._has_user_context:
            raise NotSupported(
                "With only an app bearer token, X cannot subscribe the account "
                "to its private events: connect it with its user access token."
            )
        if event_types is None:
            event_types = self.missing_activity_subscriptions()
        own_id = self._own_id
        for event_type in event_types:
            self._raw(
                f"subscribing {self._handle} to {event_type}",
                "POST",
                SUBSCRIPTIONS_ROUTE,
                json={
                    "event_type": event_type,
                    "filter": {"user_id": own_id},
                    "webhook_id": _id(webhook_id),
                    "tag": SUBSCRIPTION_TAG,
                },
            )
        return list(event_types)

    def delete_activity_subscriptions(self, subscription_ids):
        """Delete subscriptions by id; returns how many were deleted."""
        for subscription_id in subscription_ids:
            self._app_call(
                "deleting an X Activity API subscription",
                "DELETE",
                f"{SUBSCRIPTIONS_ROUTE}/{quote(_id(subscription_id), safe='')}",
            )
        return len(subscription_ids)

    def webhook_id_for(self, url):
        """The id of the app's webhook registered for ``url``, or None."""
        webhook = self._find_webhook(url)
        return _id(webhook["id"]) if webhook else None

    # -- recovery -------------------------------------------------------------
    def replay(self, url, start, end):
        """Ask X to deliver again the events of ``[start, end)`` to the
        webhook registered for ``url``; at most the last 24 hours of the
        window. Returns ``{"job_id", "start", "end"}`` (the window asked)."""
        webhook_id = self.webhook_id_for(url)
        if webhook_id is None:
            raise NotSupported(
                "The X app has no webhook for this account's URL: nothing to replay."
            )
        start = max(start, end - MAX_REPLAY)
        # Whole minutes: from the minute of start, to the minute after end.
        start = start.astimezone(timezone.utc).replace(second=0, microsecond=0)
        end = end.astimezone(timezone.utc).replace(second=0, microsecond=0)
        end += timedelta(minutes=1)
        window = {
            "from_date": start.strftime(REPLAY_DATE_FORMAT),
            "to_date": end.strftime(REPLAY_DATE_FORMAT),
        }
        action = "asking X to replay the webhook's events"
        if self._uses_account_activity:
            route = AAA_REPLAY_ROUTE.format(webhook=quote(webhook_id, safe=""))
            body = self._app_call(action, "POST", route, params=window)
        else:
            body = self._app_call(
                action, "POST", REPLAY_ROUTE, json={"webhook_id": webhook_id, **window}
            )
        with _expect_shape("X's answer"):
            job = body.get("data") if isinstance(body.get("data"), dict) else body
            return {"job_id": _id(job["job_id"]), "start": start, "end": end}

    # -- OAuth 2.0 user token -------------------------------------------------
    def refresh_user_token(self):
        """A new OAuth 2.0 user token pair from the stored refresh token:
        ``{"access_token", "refresh_token", "expires_at"}`` (aware UTC).
        The refresh token sent is spent, whatever happens next."""
        refresh_token = self.config.get("oauth2_refresh_token")
        client_id = self.config.get("oauth2_client_id")
        if not (refresh_token and client_id):
            raise AuthError(
                "The X account has no OAuth 2.0 refresh token and client id: "
                "reconnect it with the offline.access scope."
            )
        secret = self.config.get("oauth2_client_secret")
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        }
        action = "refreshing the OAuth 2.0 user token"
        try:
            response = self._session().post(
                f"{X_HOST}{TOKEN_ROUTE}",
                data=data,
                # A confidential client authenticates with Basic auth.
                auth=(client_id, secret) if secret else None,
            )
        except requests.RequestException as exc:
            raise TransientError(
                f"Could not reach X while {action} ({type(exc).__name__})."
            ) from exc
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"X refused the refresh token while {action} "
                f"({response.status_code}): reconnect the account."
            )
        if response.status_code >= 500:
            raise TransientError(f"X failed while {action} ({response.status_code}).")
        try:
            body = response.json()
            access_token = body["access_token"]
            expires_in = int(body.get("expires_in") or 7200)
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"X answered {response.status_code} without a token while {action}."
            ) from exc
        return {
            "access_token": access_token,
            # Without a new one, the old refresh token stays valid.
            "refresh_token": body.get("refresh_token") or refresh_token,
            "expires_at": datetime.now(timezone.utc) + timedelta(seconds=expires_in),
        }
