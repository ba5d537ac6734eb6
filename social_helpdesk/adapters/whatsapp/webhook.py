"""WhatsApp webhooks: the verification handshake and the signature (Meta's,
shared with :mod:`..meta.webhook`), the split of a delivery into one event
per message and per status, and the app's subscription to the WhatsApp
Business Account.

Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(incoming messages and ``statuses``), .../webhooks/reference/messages/status
and the business-scoped user ids guide,
https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
(``user_id``, ``from_user_id``, ``recipient_user_id``, ``parent_user_id``,
``profile.username``).
"""

import hashlib
import json

from ..base import (
    AdapterError,
    InboundEvent,
    MalformedPayload,
    NetworkAdapter,
    NotSupported,
)
from ..meta.readers import (
    _expect_dict,
    _expect_list,
    _identifier,
    _is_identifier,
    _path,
)
from ..meta.webhook import MetaWebhookMixin

OBJECT_WABA = "whatsapp_business_account"
FIELD_MESSAGES = "messages"


class WhatsAppWebhookMixin(NetworkAdapter):
    """Webhook registration and the webhook protocol."""

    # Meta's protocol, word for word: hub.* handshake, X-Hub-Signature-256
    # over the raw body with the app secret.
    handshake = MetaWebhookMixin.handshake
    verify_signature = MetaWebhookMixin.verify_signature

    def split_delivery(self, payload):
        """One event per message and per status of a ``messages`` change,
        each carrying what it needs to parse alone (the number's metadata,
        the sender's contact), addressed to the business phone number; any
        other field, and value-level ``errors``, one event each."""
        body = _expect_dict(payload, "the delivery")
        if body.get("object") != OBJECT_WABA:
            raise MalformedPayload(f"Unexpected object {body.get('object')!r}.")
        events = []
        for entry in _expect_list(body.get("entry"), "entry"):
            entry = _expect_dict(entry, "an entry")
            waba_id = _identifier(entry.get("id"), "entry.id")
            for change in _expect_list(entry.get("changes"), "changes"):
                change = _expect_dict(change, "a change")
                field = change.get("field")
                if not isinstance(field, str) or not field:
                    raise MalformedPayload("A change has no field name.")
                value = _expect_dict(change.get("value"), "a change value")
                if field == FIELD_MESSAGES:
                    events += _message_events(waba_id, value)
                else:
                    events.append(
                        InboundEvent(
                            event_id=f"wa:{field}:{_digest(value)}",
                            payload={
                                "field": field,
                                "waba_id": waba_id,
                                "value": value,
                            },
                        )
                    )
        return events

    # -- registration -----------------------------------------------------
    def subscribe_app(self):
        """Install the token's app on the WhatsApp Business Account."""
        answer = self._post(_path(self.business_account_id, "subscribed_apps"))
        return answer.get("success") in (True, "true")

    def register_webhook(self, url):
        """Subscribe the app to the WhatsApp Business Account, then, with the
        app secret and the app id (``app_id``, else ``debug_token``'s
        answer), point the app's ``whatsapp_business_account`` webhook,
        field ``messages``, at ``url`` (``POST /{app-id}/subscriptions``
        with the app access token; Meta checks the URL on the spot)."""
        verify_token = str(self.config.get("verify_token") or "")
        if not verify_token:
            raise AdapterError(
                "The account has no verify token: set one before registering the "
                "webhook, since Meta sends it back to prove the URL is ours."
            )
        secret = self.config.get("app_secret")
        app_id = str(self.config.get("app_id") or "")
        if secret and not app_id:
            app_id = str(self._debug_token().get("app_id") or "")
        done = []
        if secret and app_id:
            self._set_app_webhook(
                app_id, secret, OBJECT_WABA, (FIELD_MESSAGES,), url, verify_token
            )
            done.append(f"Set {url} as the Meta app's WhatsApp webhook")
        if not self.subscribe_app():
            raise AdapterError(
                "Meta did not confirm the app's subscription to the WhatsApp "
                "Business Account; try again."
            )
        done.append(
            "subscribed the app to the WhatsApp Business Account"
            if done
            else "Subscribed the app to the WhatsApp Business Account"
        )
        summary = ", and ".join(done) + "."
        if not (secret and app_id):
            raise NotSupported(
                f"{summary} The webhook URL itself can only be set with the app "
                f"secret: enter {url} and the verify token in the Meta app "
                "dashboard (WhatsApp, Configuration) and subscribe to the messages "
                "field, or add the app secret and try again."
            )
        return summary


def _message_events(waba_id, value):
    """The events of one ``messages`` change value."""
    metadata = _expect_dict(value.get("metadata"), "metadata")
    phone_number_id = _identifier(metadata.get("phone_number_id"), "phone_number_id")
    contacts = [
        contact
        for contact in _expect_list(value.get("contacts", []), "contacts")
        if isinstance(contact, dict)
    ]
    base = {"field": FIELD_MESSAGES, "waba_id": waba_id, "metadata": metadata}
    events = []
    for message in _expect_list(value.get("messages", []), "messages"):
        message = _expect_dict(message, "a message")
        wamid = _identifier(message.get("id"), "message id")
        events.append(
            InboundEvent(
                event_id=f"wa:msg:{wamid}",
                recipient_id=phone_number_id,
                payload={
                    **base,
                    "contacts": sender_contacts(message, contacts),
                    "message": message,
                },
            )
        )
    for status in _expect_list(value.get("statuses", []), "statuses"):
        status = _expect_dict(status, "a status")
        wamid = _identifier(status.get("id"), "status id")
        name = status.get("status")
        if not isinstance(name, str) or not name:
            raise MalformedPayload("A status has no status name.")
        events.append(
            InboundEvent(
                event_id=f"wa:status:{wamid}:{name}",
                recipient_id=phone_number_id,
                payload={
                    **base,
                    "contacts": recipient_contacts(status, contacts),
                    "status": status,
                },
            )
        )
    if "errors" in value:
        errors = _expect_list(value["errors"], "errors")
        events.append(
            InboundEvent(
                event_id=f"wa:{FIELD_MESSAGES}:{_digest(errors)}",
                recipient_id=phone_number_id,
                payload={**base, "errors": errors},
            )
        )
    if not events:
        raise MalformedPayload("A messages change has no messages, statuses or errors.")
    return events


def sender_contacts(message, contacts):
    """The contact of the message's sender (by BSUID, else phone number): a
    delivery may batch several senders' messages."""
    return _matching(contacts, message.get("from_user_id"), message.get("from"))


def recipient_contacts(status, contacts):
    return _matching(
        contacts, status.get("recipient_user_id"), status.get("recipient_id")
    )


def _matching(contacts, user_id, wa_id):
    for contact in contacts:
        if _is_identifier(user_id) and str(contact.get("user_id")) == str(user_id):
            return [contact]
        if _is_identifier(wa_id) and str(contact.get("wa_id")) == str(wa_id):
            return [contact]
    return []


def _digest(value):
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
