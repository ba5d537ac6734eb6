"""X webhooks: registration and subscription, CRC handshake, signature,
and the split of a delivery into events.

Two webhook products deliver here: the X Activity API
(``{"data": {"event_type", "payload", "includes"}}``, one event per
delivery) and the legacy Account Activity API (``for_user_id`` with
``*_events`` lists). Each item becomes an event built by :mod:`.parse`.
"""

import base64
import json
from urllib.parse import quote

from ..base import (
    AdapterError,
    AuthError,
    HandshakeError,
    MalformedPayload,
    NetworkAdapter,
    NotSupported,
    RateLimited,
    SignatureError,
    TransientError,
    WebhookRejected,
    handshake_token,
    hmac_sha256,
    signatures_match,
)
from .client import _data
from .parse import (
    _chat_event,
    _delete_event,
    _expect_shape,
    _id,
    _other_event,
    _tweet_event,
    _v1_dm_event,
    _v1_tweet_event,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# Reasons X gives when it refuses a webhook URL (POST /2/webhooks).
WEBHOOK_REFUSALS = {
    "crcvalidationfailed": (
        "X could not verify the webhook URL: it did not answer X's security "
        "check (CRC) correctly. Make sure the address is reachable from the "
        "internet and the account's API secret is the app's consumer secret."
    ),
    "urlvalidationfailed": (
        "X refused the webhook URL: it must be a public https:// address "
        "without a port number."
    ),
    "webhooklimitexceeded": (
        "The X app already has as many webhooks as its plan allows: delete an "
        "unused one in the X developer portal, then try again."
    ),
}
DUPLICATE_WEBHOOK = "duplicateurlfailed"
DUPLICATE_SUBSCRIPTION = "duplicatesubscriptionfailed"

ACTIVITY_POST_EVENTS = {
    "post.create",
    "post.mention.create",
    "post.reply.create",
    "post.quote.create",
    "post.repost.create",
}
ACTIVITY_DM_EVENTS = {"dm.received", "dm.sent"}
ACTIVITY_CHAT_EVENTS = {"chat.received", "chat.sent"}


class XWebhookMixin(NetworkAdapter):
    """Webhook registration and the webhook protocol."""

    # -- webhook registration ----------------------------------------------
    def register_webhook(self, url):
        """Register ``url`` as the app's webhook and subscribe the account:
        to the X Activity API events it needs (see :mod:`.activity`), or,
        with ``webhook_product`` "aaa", to the legacy Account Activity API.

        X API v2 webhooks: ``GET /2/webhooks`` finds one already registered
        for ``url`` (re-checked with ``PUT /2/webhooks/:id`` if X marked it
        invalid), else ``POST /2/webhooks`` registers it (X runs its CRC
        check on the spot); all three with the app's bearer token. Then
        ``POST /2/account_activity/webhooks/:id/subscriptions/all``, in the
        account's user context, subscribes it, unless ``GET`` on the same
        path says it already is.
        """
        if not self._has_user_context:
            raise NotSupported(
                "With only an app bearer token, X cannot subscribe the account to "
                "a webhook: connect it with its user access token and secret, or "
                "subscribe it in the X developer portal."
            )
        own = self._handle
        webhook_id, reused = self._webhook_for(url)
        if reused:
            done = f"The app's webhook for {url} was already registered with X"
        else:
            done = f"Registered {url} as the app's webhook with X"
        if self._uses_account_activity:
            if self._subscribe(webhook_id):
                return f"{done}; {own} was already subscribed to it."
            return f"{done}, and subscribed {own} to it."
        created = self.create_activity_subscriptions(webhook_id)
        if not created:
            return f"{done}; {own} was already subscribed to its X Activity events."
        return f"{done}, and subscribed {own} to: {', '.join(created)}."

    def _webhook_for(self, url):
        """(id, reused) of the app's webhook for ``url``, registered if need be."""
        webhook = self._find_webhook(url)
        if webhook is not None:
            if webhook.get("valid") is False:
                self._app_call(
                    "re-checking the webhook",
                    "PUT",
                    _webhook_route(webhook),
                    refine=_webhook_error,
                )
            return _id(webhook["id"]), True
        try:
            body = self._app_call(
                "registering the webhook",
                "POST",
                "/2/webhooks",
                json={"url": url},
                refine=_webhook_error,
            )
        except WebhookRejected as exc:
            if exc.reason != DUPLICATE_WEBHOOK:
                raise
            # Registered meanwhile, by another attempt: use that one.
            webhook = self._find_webhook(url)
            if webhook is None:
                raise
            return _id(webhook["id"]), True
        with _expect_shape("X's answer"):
            created = body.get("data") if isinstance(body.get("data"), dict) else body
            return _id(created["id"]), False

    def _find_webhook(self, url):
        body = self._app_call(
            "listing the app's webhooks", "GET", "/2/webhooks", refine=_webhook_error
        )
        with _expect_shape("X's answer"):
            return next(
                (hook for hook in body.get("data") or [] if hook.get("url") == url),
                None,
            )

    def _already_subscribed(self, route):
        """Whether X says the account is subscribed; False when it won't say
        (the subscription call then decides)."""
        try:
            body, _ = self._raw(f"checking {self._handle}'s subscription", "GET", route)
        except (AuthError, RateLimited, TransientError):
            raise
        except AdapterError:
            return False
        return (body.get("data") or {}).get("subscribed") is True

    def _subscribe(self, webhook_id):
        """Subscribe the account; True when it already was."""
        webhook = quote(webhook_id, safe="")
        route = f"/2/account_activity/webhooks/{webhook}/subscriptions/all"
        action = f"subscribing {self._handle} to the webhook"
        if self._already_subscribed(route):
            return True
        try:
            body, _ = self._raw(
                action, "POST", route, json={}, refine=_subscription_error
            )
        except WebhookRejected as exc:
            if exc.reason == DUPLICATE_SUBSCRIPTION:
                return True
            raise
        with _expect_shape("X's answer"):
            if _data(body, action).get("subscribed") is not True:
                raise AdapterError(
                    f"X did not confirm the subscription of {self._handle} to the "
                    "webhook; try again, or subscribe it in the X developer portal."
                )
        return False

    # -- webhooks ---------------------------------------------------------
    def handshake(self, params):
        """Answer X's CRC check: the token's HMAC under the consumer secret.

        That is the key and format of a delivery's signature, so an answer
        to any token would sign any body for whoever knows the URL: send it
        as ``crc_token``, then post it with the answer as its signature.
        Only a token shaped like X's is answered (X sends the base64 of a
        random id, 48 characters; see HANDSHAKE_TOKEN): no JSON body fits.
        """
        crc_token = params.get("crc_token")
        if not crc_token:
            raise HandshakeError("The CRC request has no crc_token.")
        handshake_token(crc_token, "crc_token")
        body = json.dumps({"response_token": self._sign(crc_token)})
        return body, "application/json"

    def verify_signature(self, raw_body, headers):
        received = next(
            (
                value
                for name, value in headers.items()
                if name.lower() == SIGNATURE_HEADER
            ),
            None,
        )
        if not signatures_match(self._sign(raw_body), received):
            raise SignatureError(
                f"The {SIGNATURE_HEADER} header is missing or does not match."
            )

    def split_delivery(self, payload):
        with _expect_shape("The X webhook body"):
            if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
                return self._split_activity(payload["data"])
            if isinstance(payload, dict) and "for_user_id" in payload:
                return self._split_account_activity(payload)
        raise MalformedPayload(
            "The X webhook body is neither an X Activity API event nor an "
            "Account Activity API delivery."
        )

    def _split_activity(self, data):
        """One X Activity API event: a post, legacy DMs, or something else."""
        event_type = data["event_type"]
        body = data["payload"]
        if not isinstance(event_type, str) or not isinstance(body, dict):
            raise MalformedPayload(
                "An X Activity API event needs an event_type and a payload."
            )
        for_user_id = (data.get("filter") or {}).get("user_id")
        if event_type in ACTIVITY_POST_EVENTS:
            includes = data.get("includes") or {}
            return [_tweet_event(body, includes, for_user_id, event_type=event_type)]
        if event_type == "post.delete":
            return [_delete_event(body["id"], body.get("author_id"), for_user_id)]
        if event_type in ACTIVITY_DM_EVENTS:
            users = body.get("users") or {}
            return [
                _v1_dm_event(dm, users, for_user_id, event_type=event_type)
                for dm in _items(body, "direct_message_events")
            ]
        if event_type in ACTIVITY_CHAT_EVENTS:
            return [_chat_event(data, for_user_id, event_type)]
        return [_other_event(event_type, data, for_user_id, data.get("event_uuid"))]

    def _split_account_activity(self, payload):
        """One Account Activity API delivery: every ``*_events`` item."""
        for_user_id = _id(payload["for_user_id"])
        users = payload.get("users") or {}
        keys = [
            key for key in payload if key.endswith("_events") or key == "user_event"
        ]
        if not keys:
            raise MalformedPayload("The Account Activity delivery carries no events.")
        events = []
        for key in keys:
            if key == "tweet_create_events":
                events += [
                    _v1_tweet_event(t, for_user_id) for t in _items(payload, key)
                ]
            elif key == "direct_message_events":
                events += [
                    _v1_dm_event(dm, users, for_user_id) for dm in _items(payload, key)
                ]
            elif key == "tweet_delete_events":
                events += [
                    _delete_event(
                        item["status"]["id"], item["status"].get("user_id"), for_user_id
                    )
                    for item in _items(payload, key)
                ]
            else:
                items = [payload[key]] if key == "user_event" else _items(payload, key)
                events += [
                    _other_event(key, item, for_user_id, item.get("id"))
                    for item in items
                ]
        return events

    def _sign(self, data):
        secret = self.config.get("api_secret")
        if not secret:
            raise SignatureError(
                "The X account has no API secret to check webhooks with."
            )
        return "sha256=" + base64.b64encode(hmac_sha256(secret, data)).decode()


def _items(container, key):
    items = container[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedPayload(f"{key} must be a list of objects.")
    return items


def _webhook_route(webhook):
    return f"/2/webhooks/{quote(_id(webhook['id']), safe='')}"


def _webhook_error(exc, problem):
    """A typed error for X's refusal of a webhook management call."""
    status = exc.response.status_code
    lowered = problem.lower()
    for reason, message in WEBHOOK_REFUSALS.items():
        if reason in lowered:
            return WebhookRejected(f"{message} (X said: {problem})", reason=reason)
    if DUPLICATE_WEBHOOK in lowered:
        return WebhookRejected(
            "X already has a webhook for this URL.", reason=DUPLICATE_WEBHOOK
        )
    if status == 403:
        return NotSupported(
            "The X app's plan does not include webhooks (the Account Activity "
            "API): messages will be fetched by polling instead. To receive them "
            "in real time, upgrade the plan in the X developer portal. "
            f"(X said: {problem})"
        )
    if status in (400, 404):
        return WebhookRejected(f"X refused the webhook: {problem}")
    return None


def _subscription_error(exc, problem):
    """A typed error for X's refusal to subscribe the account."""
    status = exc.response.status_code
    if status == 409 or DUPLICATE_SUBSCRIPTION in problem.lower():
        return WebhookRejected(
            "The account is already subscribed.", reason=DUPLICATE_SUBSCRIPTION
        )
    if status == 403 and "permission" in problem.lower():
        return AuthError(
            "X refused to subscribe the account: its access token lacks the "
            '"Read and write and Direct message" permission. Set it in the X '
            "developer portal, regenerate the access token and secret, and "
            f"reconnect the account. (X said: {problem})"
        )
    return _webhook_error(exc, problem)
