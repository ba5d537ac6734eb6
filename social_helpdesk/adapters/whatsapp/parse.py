"""Stored WhatsApp events as :class:`SocialMessage` and
:class:`DeliveryStatus`, with no network call.

Message types and their fields:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(text, image, audio, video, document, sticker, location, contacts,
interactive, button, reaction, unsupported, system; ``context``,
``referral``); statuses with ``pricing``, ``errors`` and
``biz_opaque_callback_data``:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
"""

import math
import re
from datetime import datetime, timezone

from ..base import (
    PRIVATE,
    Attachment,
    Author,
    DeliveryStatus,
    MalformedPayload,
    NetworkAdapter,
    SocialMessage,
)
from ..meta.readers import (
    _dict_or_empty,
    _expect_dict,
    _identifier,
    _is_identifier,
    _optional_identifier,
    _text,
)
from .countries import country_of

CHANNEL = "whatsapp"
# A media attachment's address: the media id, looked up (with the token) when
# downloaded, since the URL Meta gives for it expires within minutes.
MEDIA_SCHEME = "whatsapp-media:"
MEDIA_KINDS = {
    "image": "image",
    "sticker": "image",
    "video": "video",
    "audio": "audio",
    "document": "file",
}
# What an interactive reply chose: the row or button's title is its text.
INTERACTIVE_REPLIES = ("button_reply", "list_reply")
# Ids of the rating request's choices (see replies.send_rating_request).
RATING_PREFIX = "csat:"
RATING_ID = re.compile(r"csat:([1-5])")
# The statuses a reply goes through; others (a voice note "played", or one
# added later) change nothing of it and are kept stored only.
STATUS_NAMES = frozenset({"sent", "delivered", "read", "failed"})
PRICING_KEYS = ("billable", "pricing_model", "category", "type")
MAPS_URL = "https://www.google.com/maps/search/?api=1&query={lat},{long}"
# Types that say nothing to an agent: an identity change is reported to
# the contact's links, not filed as a customer message.
SILENT_TYPES = frozenset({"system", "request_welcome"})


class WhatsAppParseMixin(NetworkAdapter):
    """Stored events as messages and delivery statuses."""

    def parse_event(self, payload):
        payload = _expect_dict(payload, "the event")
        message = payload.get("message")
        if message is None:
            return []  # a status, another field, or errors: nothing to file
        return _parse_message(_expect_dict(message, "the message"), payload)

    def parse_statuses(self, payload):
        payload = _expect_dict(payload, "the event")
        status = payload.get("status")
        if status is None:
            return []
        status = _expect_dict(status, "the status")
        if _text(status.get("status")) not in STATUS_NAMES:
            return []
        return [_parse_status(status)]

    @staticmethod
    def rating_of(message):
        """``(rated message id, score)`` when ``message`` answers a rating
        request (an interactive choice ``csat:<1-5>``), else None. The rated
        id is the request's wamid the answer quotes (``context.id``), "" when
        the customer's app did not say."""
        raw = _dict_or_empty(message.raw.get("message"))
        interactive = _dict_or_empty(raw.get("interactive"))
        choice = _dict_or_empty(interactive.get(_text(interactive.get("type"))))
        match = RATING_ID.fullmatch(_text(choice.get("id")))
        if not match:
            return None
        context = _dict_or_empty(raw.get("context"))
        return _optional_identifier(context.get("id")), int(match.group(1))


def _parse_message(message, payload):
    wamid = _identifier(message.get("id"), "message id")
    kind = _text(message.get("type"))
    if kind in SILENT_TYPES:
        return []
    author = _author(message, payload.get("contacts"))
    context = _dict_or_empty(message.get("context"))
    content = _dict_or_empty(message.get(kind)) if kind else {}
    text, attachments, links, unsupported = _content(kind, content, message)
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PRIVATE,
            message_id=wamid,
            conversation_id=author.external_id,
            author=author,
            text=text,
            created_at=_epoch(message.get("timestamp")),
            parent_id=_optional_identifier(context.get("id")),
            attachments=attachments,
            links=links,
            from_ad=isinstance(message.get("referral"), dict),
            unsupported_type=unsupported,
            raw=payload,
        )
    ]


def _author(message, contacts):
    """The customer: their business-scoped user id (BSUID) when Meta sends
    one, since a user with a username may withhold the phone number; else
    the phone number's digits (wa_id)."""
    contact = {}
    if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict):
        contact = contacts[0]
    profile = _dict_or_empty(contact.get("profile"))
    user_id = _optional_identifier(contact.get("user_id")) or _optional_identifier(
        message.get("from_user_id")
    )
    wa_id = _digits(contact.get("wa_id")) or _digits(message.get("from"))
    external_id = user_id or wa_id
    if not external_id:
        raise MalformedPayload("The message names no sender (user id or number).")
    return Author(
        external_id=external_id,
        handle=_text(profile.get("username")).lstrip("@"),
        name=_text(profile.get("name")),
        phone=f"+{wa_id}" if wa_id else "",
    )


def _content(kind, content, message):
    """(text, attachments, links, unsupported type) of a message."""
    if kind == "text":
        return _text(content.get("body")), (), (), ""
    if kind in MEDIA_KINDS:
        media_id = _optional_identifier(content.get("id"))
        attachments = ()
        if media_id:
            attachments = (
                Attachment(
                    url=f"{MEDIA_SCHEME}{media_id}",
                    kind=MEDIA_KINDS[kind],
                    name=_text(content.get("filename")),
                ),
            )
        return _text(content.get("caption")), attachments, (), ""
    if kind == "location":
        return (*_location(content), "")
    if kind == "contacts":
        return _shared_contacts(message.get("contacts")), (), (), ""
    if kind == "interactive":
        choice = _dict_or_empty(content.get(_text(content.get("type"))))
        if _text(content.get("type")) in INTERACTIVE_REPLIES:
            return _text(choice.get("title")), (), (), ""
        # A flow's answer (nfm_reply) says what it is in its body.
        if _text(choice.get("body")):
            return _text(choice.get("body")), (), (), ""
    if kind == "button":
        return _text(content.get("text")), (), (), ""
    if kind == "reaction":
        return _text(content.get("emoji")), (), (), ""
    return _unsupported(kind, content, message)


def _unsupported(kind, content, message):
    """Kept and shown as such: the type (the inner one Meta names for an
    ``unsupported`` message, such as ``edit`` or ``poll``) and what Meta
    said about it."""
    inner = _text(content.get("type")) if kind == "unsupported" else ""
    said = []
    errors = message.get("errors")
    for error in errors if isinstance(errors, list) else ():
        error = _dict_or_empty(error)
        details = _text(_dict_or_empty(error.get("error_data")).get("details"))
        said.append(details or _text(error.get("message")) or _text(error.get("title")))
    return "\n".join(part for part in said if part), (), (), inner or kind or "unknown"


def _location(content):
    lat, long = content.get("latitude"), content.get("longitude")
    if not (_is_number(lat) and _is_number(long)):
        return _text(content.get("name")), (), ()
    place = ", ".join(
        part
        for part in (_text(content.get("name")), _text(content.get("address")))
        if part
    )
    text = f"{place} ({lat}, {long})" if place else f"({lat}, {long})"
    links = [MAPS_URL.format(lat=lat, long=long)]
    if _text(content.get("url")).startswith(("https://", "http://")):
        links.append(content["url"])
    return text, (), tuple(links)


def _shared_contacts(cards):
    """One line per shared contact: name, then phone numbers."""
    lines = []
    for card in cards if isinstance(cards, list) else ():
        card = _dict_or_empty(card)
        name = _text(_dict_or_empty(card.get("name")).get("formatted_name"))
        phones = [
            _text(_dict_or_empty(phone).get("phone"))
            for phone in (
                card.get("phones") if isinstance(card.get("phones"), list) else ()
            )
        ]
        phones = [phone for phone in phones if phone]
        line = ": ".join(part for part in (name, ", ".join(phones)) if part)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _parse_status(status):
    recipient = _optional_identifier(
        status.get("recipient_user_id")
    ) or _optional_identifier(status.get("recipient_id"))
    pricing = _pricing(status.get("pricing"))
    return DeliveryStatus(
        message_id=_identifier(status.get("id"), "status id"),
        status=status["status"],
        at=_epoch(status.get("timestamp")),
        recipient_id=recipient,
        error=_status_error(status.get("errors")),
        reference=_text(status.get("biz_opaque_callback_data")),
        pricing=pricing,
        country=country_of(
            _text(status.get("recipient_user_id")), _digits(status.get("recipient_id"))
        ),
    )


def _pricing(pricing):
    """The billing of a message: ``billable`` a bool, the others strings
    (``pricing_model`` PMP, ``category`` service / utility / marketing /
    authentication..., ``type`` regular / free_customer_service /
    free_entry_point); None when Meta sent none."""
    if not isinstance(pricing, dict):
        return None
    billing = {
        key: pricing[key] is True if key == "billable" else _text(pricing[key])
        for key in PRICING_KEYS
        if key in pricing
    }
    return billing or None


def _status_error(errors):
    """A failure as an agent reads it: '<title>: <details> (code <n>)'."""
    if not isinstance(errors, list) or not errors:
        return ""
    error = _dict_or_empty(errors[0])
    title = _text(error.get("title")) or _text(error.get("message"))
    details = _text(_dict_or_empty(error.get("error_data")).get("details"))
    parts = [title] + ([details] if details and details != title else [])
    text = ": ".join(part for part in parts if part)
    code = error.get("code")
    if _is_identifier(code):
        text = f"{text} (code {code})" if text else f"code {code}"
    return text or "failed"


def _epoch(value):
    """WhatsApp times are epoch seconds, as a string."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        value = int(value)
    if not _is_number(value) or not 0 <= value < 1e11:
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _is_number(value):
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _digits(value):
    """A phone number as WhatsApp writes it (digits only), or ""."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 20
    ):
        return value
    return ""
