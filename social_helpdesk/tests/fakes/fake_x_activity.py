"""The X Activity API side of :class:`~.fake_x.FakeXServer`: subscriptions,
deliveries to the webhook, their replay, and OAuth 2.0 token refresh; no
Odoo import.

A test makes X events happen with :meth:`XActivityEndpoints.emit_mention`,
:meth:`~XActivityEndpoints.emit_dm` and :meth:`~XActivityEndpoints.emit_chat`:
each is logged with its time and, when the account's user is subscribed to
its type with a webhook and ``webhook_down`` is off, POSTed at once to the
webhook's URL in X Activity API shape, signed with ``crc_secret`` (the
app's consumer secret) as X signs deliveries. ``POST /2/webhooks/replay``
sends again, the same way, every logged event of its window, whatever was
delivered before: an outage is ``webhook_down`` on, events, then off.

The token endpoint implements the refresh grant with rotation: each refresh
token works once; ``oauth2_refreshes`` counts the refreshes granted.
"""

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timezone

from .fake_x_api import _auth_kind, _invalid_request, _Problem

ACTIVITY_SUBSCRIPTIONS = "GET /2/activity/subscriptions"
CREATE_ACTIVITY_SUBSCRIPTION = "POST /2/activity/subscriptions"
DELETE_ACTIVITY_SUBSCRIPTION = "DELETE /2/activity/subscriptions/:id"
REPLAY = "POST /2/webhooks/replay"
AAA_REPLAY = "POST /2/account_activity/replay/webhooks/:id/subscriptions/all"
OAUTH2_TOKEN = "POST /2/oauth2/token"
# Routes that authenticate in their body (a public OAuth 2.0 client).
OPEN_ROUTES = {OAUTH2_TOKEN}

PRIVATE_EVENT_PREFIXES = ("dm.", "chat.")
REPLAY_DATE_FORMAT = "%Y%m%d%H%M"
DELIVERY_TIMEOUT_SECONDS = 10


class XActivityEndpoints:
    """X Activity API subscriptions, deliveries, replay; OAuth 2.0 refresh."""

    def _init_activity(self):
        self.activity_subscriptions = {}  # id -> X's subscription object
        self.activity_log = []  # (time, delivery) of every event emitted
        self.webhook_down = False
        self.deliveries = []  # (status, delivery) of each POST to a webhook
        self.oauth2_client_id = "fake-oauth2-client"
        self.oauth2_refresh_tokens = set()  # valid refresh tokens
        self.oauth2_expired_tokens = set()  # user access tokens now refused
        self.oauth2_refreshes = 0
        self.oauth2_expires_in = 7200

    def activity_routes(self, compile_):
        return [
            (
                ACTIVITY_SUBSCRIPTIONS,
                compile_(r"/2/activity/subscriptions"),
                self._get_activity_subscriptions,
            ),
            (
                CREATE_ACTIVITY_SUBSCRIPTION,
                compile_(r"/2/activity/subscriptions"),
                self._create_activity_subscription,
            ),
            (
                DELETE_ACTIVITY_SUBSCRIPTION,
                compile_(r"/2/activity/subscriptions/(\d+)"),
                self._delete_activity_subscription,
            ),
            (REPLAY, compile_(r"/2/webhooks/replay"), self._replay),
            (
                AAA_REPLAY,
                compile_(
                    r"/2/account_activity/replay/webhooks/(\d+)/subscriptions/all"
                ),
                self._replay,
            ),
            (OAUTH2_TOKEN, compile_(r"/2/oauth2/token"), self._oauth2_token),
        ]

    # -- scripting ------------------------------------------------------------
    def add_refresh_token(self, token=None):
        token = token or secrets.token_urlsafe(16)
        self.oauth2_refresh_tokens.add(token)
        return token

    def emit_mention(self, author_id, text, *, at=None, reply_to=None):
        """A post mentioning the account (a reply to the post ``reply_to``)."""
        post = self.add_mention(author_id, text, reply_to=reply_to, created_at=at)
        event_type = "post.reply.create" if reply_to else "post.mention.create"
        author = self.users[author_id]
        return self._emit(event_type, dict(post), at, includes={"users": [author]})

    def emit_dm(self, sender_id, text, *, at=None, recipient_id=None):
        """A legacy DM, received (or sent, when the account is the sender)."""
        self._last_id += 1
        recipient_id = recipient_id or self.me["id"]
        moment = at or datetime.now(timezone.utc)
        dm = {
            "type": "message_create",
            "id": str(self._last_id),
            "created_timestamp": str(int(moment.timestamp() * 1000)),
            "message_create": {
                "target": {"recipient_id": recipient_id},
                "sender_id": sender_id,
                "message_data": {"text": text, "entities": {"urls": []}},
            },
        }
        users = {
            uid: {"data": self.users[uid]}
            for uid in (sender_id, recipient_id)
            if uid in self.users
        }
        event_type = "dm.sent" if sender_id == self.me["id"] else "dm.received"
        body = {"direct_message_events": [dm], "users": users}
        return self._emit(event_type, body, at)

    def emit_chat(self, sender_id, *, at=None):
        """An encrypted XChat message: ciphertext nobody here can read."""
        moment = at or datetime.now(timezone.utc)
        body = {
            "id": secrets.token_hex(16),
            "created_at_msec": str(int(moment.timestamp() * 1000)),
            "sender_id": sender_id,
            "conversation_id": f"{sender_id}:{self.me['id']}",
            "encoded_event": base64.b64encode(secrets.token_bytes(48)).decode(),
        }
        return self._emit("chat.received", body, at)

    def deliver(self, delivery):
        """POST ``delivery`` to the webhooks subscribed to it, signed."""
        data = delivery["data"]
        for subscription in list(self.activity_subscriptions.values()):
            if (
                subscription["event_type"] != data["event_type"]
                or subscription["filter"]["user_id"] != data["filter"]["user_id"]
            ):
                continue
            webhook = self.webhooks.get(subscription.get("webhook_id"))
            if webhook:
                self.deliveries.append((self._post(webhook["url"], delivery), delivery))

    def _emit(self, event_type, payload, at, includes=None):
        moment = at or datetime.now(timezone.utc)
        self._last_id += 1
        data = {
            "event_uuid": str(self._last_id),
            "filter": {"user_id": self.me["id"]},
            "event_type": event_type,
            "tag": "social_helpdesk",
            "payload": payload,
        }
        if includes:
            data["includes"] = includes
        delivery = {"data": data}
        self.activity_log.append((moment, delivery))
        if not self.webhook_down:
            self.deliver(delivery)
        return delivery

    def _post(self, url, delivery):
        raw = json.dumps(delivery).encode()
        secret = (self.crc_secret or "").encode()
        signature = base64.b64encode(hmac.new(secret, raw, hashlib.sha256).digest())
        request = urllib.request.Request(
            url,
            data=raw,
            method="POST",
            headers={
                "content-type": "application/json",
                "x-twitter-webhooks-signature": "sha256=" + signature.decode(),
            },
        )
        try:
            with urllib.request.urlopen(
                request, timeout=DELIVERY_TIMEOUT_SECONDS
            ) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    # -- endpoints ------------------------------------------------------------
    def _get_activity_subscriptions(self, request, _):
        self._require_app(request)
        items = sorted(
            self.activity_subscriptions.values(), key=lambda s: s["subscription_id"]
        )
        size = int(request.query.get("max_results") or 100)
        start = int(request.query.get("pagination_token") or 0)
        body = {"data": items[start : start + size]}
        body["meta"] = {"total_subscriptions": len(items)}
        if start + size < len(items):
            body["meta"]["next_token"] = str(start + size)
        return 200, body

    def _create_activity_subscription(self, request, _):
        body = request.json if isinstance(request.json, dict) else {}
        event_type = body.get("event_type")
        user_id = (body.get("filter") or {}).get("user_id")
        kind = _auth_kind(request, self.app_bearer_token)
        if str(event_type).startswith(PRIVATE_EVENT_PREFIXES) and kind not in (
            "oauth1",
            "oauth2_user",
        ):
            raise _Problem(403, "Private events need the user's authorization.")
        if not event_type or not user_id:
            raise _Problem(400, body=_invalid_request("InvalidRequest"))
        if body.get("webhook_id") and body["webhook_id"] not in self.webhooks:
            raise _Problem(400, body=_invalid_request("WebhookIdInvalid"))
        for existing in self.activity_subscriptions.values():
            if (existing["event_type"], existing["filter"]["user_id"]) == (
                event_type,
                user_id,
            ):
                raise _Problem(409, body=_invalid_request("DuplicateSubscription"))
        self._last_id += 1
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        subscription = {
            "subscription_id": str(self._last_id),
            "event_type": event_type,
            "filter": {"user_id": user_id},
            "webhook_id": body.get("webhook_id"),
            "tag": body.get("tag"),
            "created_at": now,
            "updated_at": now,
        }
        self.activity_subscriptions[subscription["subscription_id"]] = subscription
        data = {"subscription": subscription, "total_subscriptions_for_instance_id": 1}
        return 200, {"data": data}

    def _delete_activity_subscription(self, request, subscription_id):
        self._require_app(request)
        if self.activity_subscriptions.pop(subscription_id, None) is None:
            raise _Problem(404, "Subscription not found")
        total = len(self.activity_subscriptions)
        return 200, {"data": {"deleted": True}, "meta": {"total_subscriptions": total}}

    def _replay(self, request, webhook_id=None):
        """Send again every logged event of ``[from_date, to_date)``."""
        self._require_app(request)
        source = request.query if webhook_id else (request.json or {})
        webhook_id = webhook_id or source.get("webhook_id")
        if webhook_id not in self.webhooks:
            raise _Problem(400, body=_invalid_request("WebhookIdInvalid"))
        try:
            start, end = (
                datetime.strptime(source[key], REPLAY_DATE_FORMAT).replace(
                    tzinfo=timezone.utc
                )
                for key in ("from_date", "to_date")
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _Problem(400, "from_date and to_date are yyyymmddhhmm.") from exc
        if (end - start).total_seconds() > 24 * 3600 + 120:
            raise _Problem(400, "A replay covers at most 24 hours.")
        for moment, delivery in list(self.activity_log):
            if start <= moment < end:
                self.deliver(delivery)
        self._last_id += 1
        created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        return 200, {"created_at": created, "job_id": str(self._last_id)}

    def _oauth2_token(self, request, _):
        """The refresh grant; each refresh token works once (rotation)."""
        form = request.form
        if form.get("grant_type") != "refresh_token":
            raise _Problem(400, "unsupported grant_type")
        if form.get("client_id") != self.oauth2_client_id:
            raise _Problem(401, "invalid client")
        token = form.get("refresh_token")
        if token not in self.oauth2_refresh_tokens:
            return 400, {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            }
        self.oauth2_refresh_tokens.discard(token)
        self.oauth2_refreshes += 1
        return 200, {
            "token_type": "bearer",
            "expires_in": self.oauth2_expires_in,
            "access_token": f"user-token-{self.oauth2_refreshes}",
            "scope": "tweet.read tweet.write dm.read dm.write offline.access",
            "refresh_token": self.add_refresh_token(),
        }
