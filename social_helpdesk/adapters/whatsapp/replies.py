"""WhatsApp replies: the customer service window, free-form messages (text,
image, document) answering a customer's message, templates outside the
window, and the rating request.

Send API: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
(``context.message_id``, ``biz_opaque_callback_data``; ``recipient``, a
business-scoped user id, for a customer whose number Meta withholds:
https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/),
interactive list messages (at most 10 rows; reply buttons allow only 3):
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages
"""

from datetime import timedelta

from ..base import (
    PRIVATE,
    AdapterError,
    NetworkAdapter,
    ReplyNotAllowed,
    SentMessage,
    WindowClosed,
)
from ..meta.readers import _dict_or_empty, _is_identifier, _path
from .parse import RATING_PREFIX
from .templates import template_components

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
# The customer service window, and the longer one of a free entry point (a
# Click-to-WhatsApp ad or a Page's call-to-action button: a referral).
SERVICE_WINDOW = timedelta(hours=24)
FREE_ENTRY_WINDOW = timedelta(hours=72)
TEMPLATE = "template"
RATING_SCORES = range(1, 6)
RATING_BUTTON = "★ 1-5"


class WhatsAppRepliesMixin(NetworkAdapter):
    """Free-form replies in the window, templates and rating requests."""

    def max_length(self, kind, message=None):
        return TEXT_LIMIT

    def image_limit(self, message, kind):
        return IMAGE_MAX_BYTES

    def window_closes_at(self, message, kind, last_customer_at=None, automatic=False):
        """24 hours after the customer's last message; 72 hours when the
        conversation came from a free entry point (``message.from_ad``)."""
        since = last_customer_at or message.created_at
        if since is None:
            return None
        return since + (FREE_ENTRY_WINDOW if message.from_ad else SERVICE_WINDOW)

    def check_reply(self, message, kind, now, last_customer_at=None, automatic=False):
        if kind != PRIVATE:
            raise ReplyNotAllowed(
                "A WhatsApp message can only be answered privately.",
                alternative=PRIVATE,
            )
        closes_at = self.window_closes_at(message, kind, last_customer_at, automatic)
        if closes_at is not None and now >= closes_at:
            hours = 72 if message.from_ad else 24
            raise WindowClosed(
                f"WhatsApp accepts free-form replies only within {hours} hours of "
                f"the customer's last message; that window closed at "
                f"{closes_at:%Y-%m-%d %H:%M} UTC. Send an approved template instead.",
                closed_at=closes_at,
                alternative=TEMPLATE,
            )

    def send_reply(
        self,
        message,
        text,
        kind,
        idempotency_key,
        last_customer_at=None,
        automatic=False,
        image=None,
        document=None,
    ):
        """``text`` in answer to ``message`` (quoted: ``context``), with an
        optional ``image`` and ``document`` (:class:`~..media.Media`),
        uploaded then sent by id with the text as caption when it fits.
        WhatsApp keeps no list of sent messages to search after a timeout:
        the idempotency key goes as ``biz_opaque_callback_data``, which the
        message's statuses bring back."""
        self.check_reply(message, kind, self.clock(), last_customer_at, automatic)
        if len(text) > TEXT_LIMIT:
            raise ReplyNotAllowed(f"WhatsApp accepts at most {TEXT_LIMIT} characters.")
        files = _reply_files(image, document)
        if not files:
            return self._send(message, "text", {"body": text}, idempotency_key)
        first = None
        if text and len(text) > CAPTION_LIMIT:
            first = self._send(message, "text", {"body": text}, idempotency_key)
            text = ""
        for kind_name, media in files:
            content = {"id": self.upload_media(media)}
            if text:
                content["caption"] = text
                text = ""
            if kind_name == "document":
                content["filename"] = media.name
            sent = self._send(message, kind_name, content, idempotency_key)
            first = first or sent
        return first

    def send_template(
        self, message, template_name, language, parameters, idempotency_key
    ):
        """The approved template ``template_name`` in ``language``, its
        placeholders filled by ``parameters`` (entries of
        :func:`~.templates.template_parameters` with a ``value``); allowed
        outside the window."""
        template = {"name": template_name, "language": {"code": language}}
        components = template_components(parameters or [])
        if components:
            template["components"] = components
        return self._send(message, TEMPLATE, template, idempotency_key, quote=False)

    def send_rating_request(
        self,
        message,
        body,
        idempotency_key,
        last_customer_at=None,
        button=RATING_BUTTON,
    ):
        """Ask the customer to rate the conversation from 1 to 5: an
        interactive list, since reply buttons allow only three. Each row's
        id is ``csat:<score>``, which :meth:`rating_of` reads back. An
        automatic message: only within the window."""
        self.check_reply(message, PRIVATE, self.clock(), last_customer_at, True)
        rows = [
            {"id": f"{RATING_PREFIX}{score}", "title": f"{score} {'★' * score}"}
            for score in RATING_SCORES
        ]
        interactive = {
            "type": "list",
            "body": {"text": body[:TEXT_LIMIT]},
            "action": {
                "button": button[:20],
                "sections": [{"title": button[:24], "rows": rows}],
            },
        }
        return self._send(
            message, "interactive", interactive, idempotency_key, quote=False
        )

    def _send(self, message, kind, content, idempotency_key, quote=True):
        """One ``POST /{phone-number-id}/messages``. The phone number when
        known, else the business-scoped user id (``recipient``)."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **_recipient(message),
            "type": kind,
            kind: content,
        }
        if quote and message.message_id:
            payload["context"] = {"message_id": message.message_id}
        if idempotency_key:
            payload["biz_opaque_callback_data"] = str(idempotency_key)[:512]
        answer = self._post(_path(self.phone_number_id, "messages"), json_body=payload)
        sent = answer.get("messages")
        first = _dict_or_empty(sent[0]) if isinstance(sent, list) and sent else {}
        if not _is_identifier(first.get("id")):
            raise AdapterError(
                "WhatsApp accepted the message but returned no id for it."
            )
        return SentMessage(str(first["id"]))


def _recipient(message):
    phone = message.author.phone.lstrip("+")
    if phone:
        return {"to": phone}
    return {"recipient": message.author.external_id}


def _reply_files(image, document):
    """(message type, media) to send; refuses what WhatsApp would."""
    files = []
    if image is not None:
        if image.mimetype not in IMAGE_TYPES:
            raise ReplyNotAllowed("WhatsApp accepts JPEG and PNG images only.")
        if len(image.content) > IMAGE_MAX_BYTES:
            raise ReplyNotAllowed("WhatsApp accepts images of at most 5 MB.")
        files.append(("image", image))
    if document is not None:
        if len(document.content) > DOCUMENT_MAX_BYTES:
            raise ReplyNotAllowed("WhatsApp accepts documents of at most 100 MB.")
        files.append(("document", document))
    return files
