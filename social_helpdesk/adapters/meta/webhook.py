"""Meta webhooks: app and page subscriptions, the verification handshake,
signature, and the split of a delivery into events with stable ids.
"""

import hashlib
import hmac
import json

from ..base import (
    VERB_EDIT,
    AdapterError,
    HandshakeError,
    InboundEvent,
    MalformedPayload,
    NetworkAdapter,
    NotSupported,
    SignatureError,
    handshake_token,
    hmac_sha256,
    signatures_match,
)
from .client import (
    CONNECTION_INSTAGRAM_LOGIN,
    INSTAGRAM_SUBSCRIBED_FIELDS,
    SUBSCRIBED_FIELDS,
)
from .parse import FEED_POST_ITEMS, INSTAGRAM_COMMENT_FIELDS, _feed_verb
from .readers import (
    OBJECT_INSTAGRAM,
    OBJECT_PAGE,
    _expect_dict,
    _expect_list,
    _identifier,
    _is_identifier,
    _number_or_none,
    _object,
    _path,
)

# The app-level webhook subscriptions (POST /{app-id}/subscriptions): the
# fields of each object the adapter parses.
APP_SUBSCRIPTIONS = {
    "page": ("feed", "messages"),
    "instagram": ("comments", "messages"),
}


class MetaWebhookMixin(NetworkAdapter):
    """Webhook registration and the webhook protocol."""

    @classmethod
    def webhook_identity(cls, config):
        """With Instagram Login, the Instagram app's secret signs the
        deliveries, addressed to the Instagram account; else the Meta app's
        secret, addressed to the page or its Instagram account."""
        if config.get("connection") != CONNECTION_INSTAGRAM_LOGIN:
            return super().webhook_identity(config)
        account_id = config.get("instagram_account_id")
        return (
            config.get("instagram_app_secret") or None,
            frozenset({str(account_id)} if account_id else ()),
        )

    def subscribe_app(self):
        """Install the app on the page (with Instagram Login, on the
        Instagram account) for the webhook fields we parse."""
        if self.instagram_login:
            answer = self._post(
                _path(self.instagram_account_id, "subscribed_apps"),
                data={"subscribed_fields": ",".join(INSTAGRAM_SUBSCRIBED_FIELDS)},
            )
            return answer.get("success") is True
        answer = self._post(
            _path(self.page_id, "subscribed_apps"),
            data={"subscribed_fields": ",".join(SUBSCRIBED_FIELDS)},
        )
        return answer.get("success") is True

    def register_webhook(self, url):
        """Point the app's webhooks at ``url``, then subscribe the page.

        With the app secret configured and the app id known (``app_id`` in
        the config, else ``debug_token``'s answer), ``POST /{app-id}/
        subscriptions`` with the app access token sets the callback URL and
        verify token for the page object (and the Instagram one when an
        Instagram account is configured); Meta checks the URL on the spot.
        Then :meth:`subscribe_app` installs the app on the page. Without the
        secret, the page is still subscribed and :class:`NotSupported` says
        to enter the URL in the app dashboard.
        """
        verify_token = str(self.config.get("verify_token") or "")
        if not verify_token:
            raise AdapterError(
                "The account has no verify token: set one before registering the "
                "webhook, since Meta sends it back to prove the URL is ours."
            )
        if self.instagram_login:
            if not self.subscribe_app():
                raise AdapterError(
                    "Meta did not confirm the Instagram account's subscription; "
                    "try again."
                )
            raise NotSupported(
                "Subscribed the Instagram account to the app. With Instagram "
                f"Login the webhook URL is set in the app dashboard: enter {url} "
                "and the verify token under Instagram, Webhooks."
            )
        secret = self.config.get("app_secret")
        app_id = str(self.config.get("app_id") or "")
        if secret and not app_id:
            app_id = str(self._debug_token().get("app_id") or "")
        done = []
        if secret and app_id:
            for obj, fields in self._app_subscriptions():
                self._set_app_webhook(app_id, secret, obj, fields, url, verify_token)
            done.append(f"Set {url} as the Meta app's webhook")
        if not self.subscribe_app():
            raise AdapterError(
                "Meta did not confirm the page's subscription to the app; try again."
            )
        done.append("subscribed the page to it" if done else "Subscribed the page")
        summary = ", and ".join(done) + "."
        if not (secret and app_id):
            raise NotSupported(
                f"{summary} The webhook URL itself can only be set with the app "
                f"secret: enter {url} and the verify token in the Meta app "
                "dashboard (Webhooks, Page object), or add the app secret and try "
                "again."
            )
        return summary

    def _app_subscriptions(self):
        objects = [OBJECT_PAGE]
        if self.instagram_account_id:
            objects.append(OBJECT_INSTAGRAM)
        return [(obj, APP_SUBSCRIPTIONS[obj]) for obj in objects]

    def handshake(self, params):
        expected = str(self.config.get("verify_token") or "").encode()
        received = str(params.get("hub.verify_token") or "").encode()
        if params.get("hub.mode") != "subscribe":
            raise HandshakeError("The verification request is not a subscription.")
        if not expected or not hmac.compare_digest(expected, received):
            raise HandshakeError("The verify token does not match this account.")
        if not params.get("hub.challenge"):
            raise HandshakeError("The verification request has no challenge.")
        # Echoed as sent, and only to the verify token's holder: no oracle,
        # but bounded all the same (Meta's challenge is a number).
        return handshake_token(params["hub.challenge"], "hub.challenge"), "text/plain"

    def verify_signature(self, raw_body, headers):
        """Meta signs the exact bytes it sends. Re-serialized JSON would not
        match (escaping of non-ASCII text differs), so only raw bytes count."""
        secret, _recipients = self.webhook_identity(self.config)
        if not secret:
            raise SignatureError("No app secret is configured for this account.")
        wanted = self.signature_header.lower()
        received = next(
            (value for name, value in headers.items() if name.lower() == wanted), ""
        )
        expected = "sha256=" + hmac_sha256(secret, raw_body).hex()
        if not signatures_match(expected, received):
            raise SignatureError("Missing or invalid X-Hub-Signature-256.")

    def split_delivery(self, payload):
        """One event per change and per messaging item, each payload carrying
        its object and entry so that it parses on its own, and addressed to
        the entry's id: the page, or the Instagram professional account for
        ``object: "instagram"``."""
        obj = _object(_expect_dict(payload, "the delivery").get("object"))
        events = []
        for entry in _expect_list(payload.get("entry"), "entry"):
            entry = _expect_dict(entry, "an entry")
            entry_id = _identifier(entry.get("id"), "entry.id")
            entry_time = _number_or_none(entry.get("time"), "entry.time")
            if not {"changes", "messaging", "standby"} & entry.keys():
                raise MalformedPayload("An entry has neither changes nor messaging.")
            for change in _expect_list(entry.get("changes", []), "changes"):
                change = _expect_dict(change, "a change")
                field = change.get("field")
                if not isinstance(field, str):
                    raise MalformedPayload("A change has no field name.")
                value = _expect_dict(change.get("value"), "a change value")
                events.append(
                    self._change_event(obj, entry_id, entry_time, field, value)
                )
            # standby: messages that came while another app owned the thread.
            for key in ("messaging", "standby"):
                for item in _expect_list(entry.get(key, []), key):
                    item = _expect_dict(item, "a messaging item")
                    events.append(
                        self._messaging_event(obj, entry_id, entry_time, item)
                    )
        return events

    def _change_event(self, obj, entry_id, entry_time, field, value):
        return InboundEvent(
            event_id=_change_event_id(obj, field, value),
            recipient_id=entry_id,
            payload={
                "object": obj,
                "entry_id": entry_id,
                "entry_time": entry_time,
                "change": {"field": field, "value": value},
            },
        )

    def _messaging_event(self, obj, entry_id, entry_time, item):
        return InboundEvent(
            event_id=_messaging_event_id(obj, item),
            recipient_id=entry_id,
            payload={
                "object": obj,
                "entry_id": entry_id,
                "entry_time": entry_time,
                "messaging": item,
            },
        )


# -- event ids ----------------------------------------------------------------
def _change_event_id(obj, field, value):
    """Feed changes dedupe per target and verb, edits also per content (each
    successive edit is new, a redelivered one is not). Instagram comments are
    only ever added. Anything else is keyed by a hash of itself."""
    if obj == OBJECT_PAGE and field == "feed":
        item, verb = value.get("item"), _feed_verb(value)
        if item == "comment":
            target = value.get("comment_id")
        elif isinstance(item, str) and item in FEED_POST_ITEMS:
            target = value.get("post_id")
        else:
            target = None
        if verb and _is_identifier(target):
            if verb == VERB_EDIT:
                content = [value.get(key) for key in ("message", "photo", "video")]
                return f"feed:{target}:{verb}:{_digest(content)[:16]}"
            return f"feed:{target}:{verb}"
    if (
        obj == OBJECT_INSTAGRAM
        and field in INSTAGRAM_COMMENT_FIELDS
        and _is_identifier(value.get("id"))
    ):
        return f"igc:{value['id']}"
    return f"{obj}:{field}:{_digest(value)}"


def _messaging_event_id(obj, item):
    edit = item.get("message_edit")
    if isinstance(edit, dict) and _is_identifier(edit.get("mid")):
        revision = _digest([edit.get("num_edit"), edit.get("text")])[:16]
        return f"msg:{edit['mid']}:edit:{revision}"
    message = item.get("message")
    if isinstance(message, dict) and _is_identifier(message.get("mid")):
        if message.get("is_deleted") is True:
            return f"msg:{message['mid']}:remove"
        return f"msg:{message['mid']}"
    return f"{obj}:messaging:{_digest(item)}"


def _digest(value):
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
