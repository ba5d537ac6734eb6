"""Meta replies: limits, messaging windows, sending, and finding a reply sent
by an attempt that timed out.
"""

import json
from datetime import datetime, timedelta, timezone

from ..base import (
    PRIVATE,
    PUBLIC,
    AdapterError,
    NetworkAdapter,
    ReplyNotAllowed,
    SentMessage,
    WindowClosed,
    sent_since,
)
from .parse import CHANNEL_FACEBOOK, CHANNEL_INSTAGRAM, CHANNEL_MESSENGER
from .readers import _data, _dict_or_empty, _graph_time, _is_identifier, _path, _text

# The channels whose private replies Meta's windows bound.
WINDOW_CHANNELS = (CHANNEL_FACEBOOK, CHANNEL_MESSENGER, CHANNEL_INSTAGRAM)
MESSAGING_WINDOW = timedelta(hours=24)
# The standard window of a thread started from an ad (referral source ADS).
AD_THREAD_WINDOW = timedelta(days=7)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)

# Longest reply by (channel of the message answered, kind of reply). A private
# reply to a Facebook comment is a Messenger message, one to an Instagram
# comment an Instagram DM; Instagram counts DMs in UTF-8 bytes.
REPLY_LIMITS = {
    (CHANNEL_FACEBOOK, PUBLIC): 8000,
    (CHANNEL_FACEBOOK, PRIVATE): 2000,
    (CHANNEL_MESSENGER, PRIVATE): 2000,
    (CHANNEL_INSTAGRAM, PUBLIC): 2200,
    (CHANNEL_INSTAGRAM, PRIVATE): 1000,
}
# Replies that may carry one image, and its largest size: Messenger and
# Instagram messages, Facebook comment replies; Instagram comments are text.
IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_REPLIES = frozenset(
    {
        (CHANNEL_FACEBOOK, PUBLIC, PUBLIC),
        (CHANNEL_MESSENGER, PRIVATE, PRIVATE),
        (CHANNEL_INSTAGRAM, PRIVATE, PRIVATE),
    }
)


class MetaRepliesMixin(NetworkAdapter):
    """Public comments, private replies and direct messages."""

    # -- replies ----------------------------------------------------------
    def max_length(self, kind, message=None):
        """Without ``message``, the strictest limit of this account's channels."""
        if message is not None:
            return REPLY_LIMITS.get((message.channel, kind), 0)
        channels = [] if self.instagram_login else [CHANNEL_FACEBOOK, CHANNEL_MESSENGER]
        if self.instagram_account_id:
            channels.append(CHANNEL_INSTAGRAM)
        return min(
            limit
            for (channel, reply_kind), limit in REPLY_LIMITS.items()
            if reply_kind == kind and channel in channels
        )

    def text_length(self, text, message=None, kind=None):
        """Instagram counts DMs in UTF-8 bytes, everything else in characters."""
        is_instagram_dm = (
            kind == PRIVATE
            and message is not None
            and message.channel == CHANNEL_INSTAGRAM
        )
        return len(text.encode()) if is_instagram_dm else len(text)

    def image_limit(self, message, kind):
        """By (channel, kind of the message, kind of the reply): a private
        reply to a comment is text only."""
        if (message.channel, message.kind, kind) in IMAGE_REPLIES:
            return IMAGE_MAX_BYTES
        return 0

    def window_closes_at(self, message, kind, last_customer_at=None, automatic=False):
        """Public replies have no window. A private reply to a comment or post
        goes within 7 days of it; an answer to a DM within the standard
        window of the customer's last message (24 hours, 7 days in a thread
        started from an ad), or 7 days with the Human Agent tag, which
        covers human-written replies only (never an ``automatic`` one)."""
        if kind == PUBLIC:
            return None
        if message.kind == PUBLIC:
            if message.created_at is None:
                return None
            return message.created_at + PRIVATE_REPLY_WINDOW
        since = last_customer_at or message.created_at
        if since is None:
            return None
        window = _standard_window(message)
        if self.human_agent_tag and not automatic:
            window = max(window, HUMAN_AGENT_WINDOW)
        return since + window

    def check_reply(self, message, kind, now, last_customer_at=None, automatic=False):
        if kind not in (PUBLIC, PRIVATE):
            raise ValueError(f"Unknown reply kind {kind!r}.")
        if kind == PUBLIC and message.kind == PRIVATE:
            raise ReplyNotAllowed(
                "A direct message can only be answered privately.",
                alternative=PRIVATE,
            )
        closes_at = self.window_closes_at(
            message, kind, last_customer_at, automatic=automatic
        )
        if closes_at is None or now < closes_at:
            return
        closed = f"that window closed at {closes_at:%Y-%m-%d %H:%M} UTC"
        if message.kind == PUBLIC:
            raise WindowClosed(
                "Meta accepts a private reply only within 7 days of the comment; "
                f"{closed}. Answer publicly instead.",
                closed_at=closes_at,
                alternative=PUBLIC,
            )
        if message.from_ad:
            reason = (
                "Meta accepts replies in a conversation started from an ad only "
                f"within 7 days of the customer's last message; {closed}."
            )
        elif self.human_agent_tag and not automatic:
            reason = (
                "Meta accepts Human Agent replies only within 7 days of the "
                f"customer's last message; {closed}."
            )
        elif automatic:
            reason = (
                "Meta accepts automatic replies only within 24 hours of the "
                f"customer's last message; {closed}."
            )
        else:
            reason = (
                "Meta accepts replies only within 24 hours of the customer's "
                f"last message; {closed}. The Human Agent permission extends "
                "this to 7 days."
            )
        raise WindowClosed(reason, closed_at=closes_at)

    def send_reply(
        self,
        message,
        text,
        kind,
        idempotency_key,
        last_customer_at=None,
        automatic=False,
        image=None,
    ):
        """The Graph API takes no idempotency key: after a timeout,
        :meth:`find_sent` looks for the reply by its text instead. Past the
        standard window, only a human-written reply goes, with the
        HUMAN_AGENT tag (``check_reply`` refuses an automatic one).
        ``image`` (a :class:`~..media.Media`) goes in the Facebook comment,
        or as a second message after the text (a Send API message is text
        or an attachment, never both)."""
        now = self.clock()
        self.check_reply(message, kind, now, last_customer_at, automatic=automatic)
        limit = self.max_length(kind, message)
        if self.text_length(text, message, kind) > limit:
            raise ReplyNotAllowed(f"Meta accepts at most {limit} characters here.")
        if image and len(image.content) > self.image_limit(message, kind):
            raise ReplyNotAllowed("Meta does not accept this image here.")
        if kind == PUBLIC:
            return self._reply_publicly(message, text, image)
        if message.kind == PUBLIC:
            return self._reply_privately_to_comment(message, text)
        routing = _routing(message, last_customer_at, now)
        answer = self._post(
            _path(self.messaging_owner_id, "messages"),
            json_body={
                "recipient": {"id": message.conversation_id},
                "message": {"text": text},
                **routing,
            },
        )
        sent = SentMessage(_answer_id(answer, "message_id"))
        if image:
            self._send_image(message, image, routing)
        return sent

    def _send_image(self, message, image, routing):
        """The image as a message of its own, uploaded with it (filedata)."""
        attachment = {"type": "image", "payload": {"is_reusable": False}}
        self._post(
            _path(self.messaging_owner_id, "messages"),
            data={
                "recipient": json.dumps({"id": message.conversation_id}),
                "message": json.dumps({"attachment": attachment}),
                **routing,
            },
            files={"filedata": (image.name, image.content, image.mimetype)},
        )

    def complete_sent(self, message, sent, image, last_customer_at=None):
        """A DM's image follows its text: when an attempt timed out after the
        text went, send the image unless one of ours came after the text."""
        if message.kind != PRIVATE:
            return
        for node in self._conversation_messages(message):
            if node.get("id") == sent.external_id:
                break
            if _sent_by_us(node, self._own_id(message)) and node.get("attachments"):
                return
        now = self.clock()
        self._send_image(message, image, _routing(message, last_customer_at, now))

    def _reply_publicly(self, message, text, image=None):
        if message.channel == CHANNEL_INSTAGRAM:
            # Instagram threads are one level deep: answer the top comment.
            target = message.parent_id or message.message_id
            answer = self._post(_path(target, "replies"), data={"message": text})
            return SentMessage(_answer_id(answer, "id"))
        files = image and {"source": (image.name, image.content, image.mimetype)}
        answer = self._post(
            _path(message.message_id, "comments"),
            data={"message": text},
            files=files or None,
        )
        comment_id = _answer_id(answer, "id")
        return SentMessage(comment_id, url=f"https://www.facebook.com/{comment_id}")

    def _reply_privately_to_comment(self, message, text):
        """Meta allows one private reply per comment or visitor post and
        refuses a second one with error 10900 (ReplyNotAllowed). An Instagram
        comment is always addressed by its id, even when it came without its
        media and so names its own thread."""
        is_post = (
            message.channel != CHANNEL_INSTAGRAM
            and message.message_id == message.conversation_id
        )
        recipient = {"post_id" if is_post else "comment_id": message.message_id}
        answer = self._post(
            _path(self.messaging_owner_id, "messages"),
            json_body={"recipient": recipient, "message": {"text": text}},
        )
        return SentMessage(_answer_id(answer, "message_id"))

    def find_sent(self, message, idempotency_key, text="", kind=None, since=None):
        """Find a reply of ``text`` we may have published before a timeout,
        created after ``since`` (the first attempt).

        ``kind`` defaults to the kind of ``message``. Private replies to
        comments are not searched: Meta refuses a second one (raised as
        ReplyNotAllowed), so retrying them cannot duplicate.
        """
        text = text.strip()
        kind = kind or message.kind
        if not text:
            return None
        if kind == PUBLIC and message.channel == CHANNEL_INSTAGRAM:
            return self._find_instagram_reply(message, text, since)
        if kind == PUBLIC:
            return self._find_facebook_reply(message, text, since)
        if message.kind == PRIVATE:
            return self._find_direct_message(message, text, since)
        return None

    def _find_facebook_reply(self, message, text, since):
        params = {
            "fields": "id,message,from,created_time",
            "order": "reverse_chronological",
            "limit": 50,
        }
        comments = _data(self._get(_path(message.message_id, "comments"), params))
        for comment in comments:
            if _sent_by(comment, self.page_id, "message", text, "created_time", since):
                url = f"https://www.facebook.com/{comment['id']}"
                return SentMessage(str(comment["id"]), url=url)
        return None

    def _find_instagram_reply(self, message, text, since):
        target = message.parent_id or message.message_id
        params = {"fields": "id,text,from,username,timestamp"}
        for reply in _data(self._get(_path(target, "replies"), params)):
            own_id = self.instagram_account_id
            if _sent_by(reply, own_id, "text", text, "timestamp", since):
                return SentMessage(str(reply["id"]))
        return None

    def _find_direct_message(self, message, text, since):
        own_id = self._own_id(message)
        for sent in self._conversation_messages(message):
            if _sent_by(sent, own_id, "message", text, "created_time", since):
                return SentMessage(str(sent["id"]))
        return None

    def _own_id(self, message):
        if message.channel == CHANNEL_INSTAGRAM:
            return self.instagram_account_id
        return self.page_id

    def _conversation_messages(self, message):
        """The latest messages of the DM conversation, newest first."""
        platform = "instagram" if message.channel == CHANNEL_INSTAGRAM else "messenger"
        params = {
            "platform": platform,
            "user_id": message.conversation_id,
            "fields": "messages.limit(20){id,message,from,created_time,attachments}",
        }
        conversations = _data(
            self._get(_path(self.messaging_owner_id, "conversations"), params)
        )
        return [
            node
            for conversation in conversations
            for node in _data(conversation.get("messages"))
        ]


def _standard_window(message):
    """24 hours; 7 days in a conversation started from an ad."""
    return AD_THREAD_WINDOW if message.from_ad else MESSAGING_WINDOW


def _routing(message, last_customer_at, now):
    """Within the standard window a RESPONSE; past it (``check_reply`` let
    a human reply through in the Human Agent window) the HUMAN_AGENT tag."""
    since = last_customer_at or message.created_at
    if since is None or now < since + _standard_window(message):
        return {"messaging_type": "RESPONSE"}
    return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


def _sent_by_us(node, own_id):
    return str(_dict_or_empty(node.get("from")).get("id") or "") == own_id


def _sent_by(node, own_id, text_key, text, time_key, since):
    """``node`` is our message of ``text``, created after ``since``."""
    sender = _dict_or_empty(node.get("from"))
    created = _graph_time(node.get(time_key))
    return (
        _is_identifier(node.get("id"))
        and str(sender.get("id") or "") == own_id
        and _text(node.get(text_key)).strip() == text
        and sent_since(
            None if created is None else datetime.fromtimestamp(created, timezone.utc),
            since,
        )
    )


def _answer_id(answer, key):
    if not _is_identifier(answer.get(key)):
        raise AdapterError("Meta accepted the reply but returned no id for it.")
    return str(answer[key])
