"""X replies: length as X counts it, sending, and finding a reply sent by an
attempt that timed out.
"""

import re
import unicodedata

from ..base import (
    PUBLIC,
    NetworkAdapter,
    SentMessage,
    sent_since,
)
from .client import _data
from .parse import _dm_url, _expect_shape, _id, _iso_datetime

PUBLIC_MAX_LENGTH = 280
PRIVATE_MAX_LENGTH = 10000
# X's limit for an image in a post or a DM (media_category *_image).
IMAGE_MAX_BYTES = 5 * 1024 * 1024

# How many of the account's latest posts or DMs find_sent looks through.
FIND_SENT_WINDOW = 20
FINDING_SENT = "looking for the sent reply"

# Weighted length, twitter-text v3: these code points weigh 1, any other 2;
# a URL weighs 23 and an emoji sequence 2, however many code points it has.
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL_WEIGHT = 23
EMOJI_WEIGHT = 2
_URL_END = r"\S*[^\s.,:;!?'\")\]]"
_URL = (
    rf"https?://{_URL_END}"
    r"|(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
    rf"(?![\w-])(?:[/?#]{_URL_END})?"
)
_PICTOGRAPH = "\u2300-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
_EMOJI_MODIFIER = "\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI = (
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # a keycap
    f"|[{_PICTOGRAPH}][{_EMOJI_MODIFIER}]*"
    f"(?:\u200d[{_PICTOGRAPH}][{_EMOJI_MODIFIER}]*)*"
)
WEIGHTED_TOKENS = re.compile(f"(?P<url>{_URL})|(?P<emoji>{_EMOJI})", re.IGNORECASE)
URLS = re.compile(_URL, re.IGNORECASE)
LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


class XRepliesMixin(NetworkAdapter):
    """Public replies and direct messages."""

    # -- replies ----------------------------------------------------------
    def max_length(self, kind, message=None):
        return PUBLIC_MAX_LENGTH if kind == PUBLIC else PRIVATE_MAX_LENGTH

    def image_limit(self, message, kind):
        return IMAGE_MAX_BYTES

    def text_length(self, text, message=None, kind=None):
        """Length as X counts it (twitter-text v3): NFC code points weighing
        1 or 2, 23 per URL, 2 per emoji sequence.

        URLs without a scheme are recognised by shape rather than against the
        list of top-level domains, which can only overcount.
        """
        text = unicodedata.normalize("NFC", text)
        length, position = 0, 0
        for match in WEIGHTED_TOKENS.finditer(text):
            length += _plain_weight(text[position : match.start()])
            length += URL_WEIGHT if match.lastgroup == "url" else EMOJI_WEIGHT
            position = match.end()
        return length + _plain_weight(text[position:])

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
        """Reply on the thread (PUBLIC) or by DM to the author (PRIVATE),
        with ``image`` (a :class:`~..media.Media`) uploaded first.

        X has no idempotency header, so ``idempotency_key`` is not sent;
        :meth:`find_sent` recognises an earlier attempt by its target and text.
        """
        if kind == PUBLIC:
            action = "posting the reply"
            media = {}
            if image:
                media["media_ids"] = [self._upload_media(image, "tweet_image")]
            response = self._call(
                action,
                self._client.create_tweet,
                text=text,
                in_reply_to_tweet_id=message.message_id,
                **media,
            )
            with _expect_shape("X's answer"):
                post_id = _id(_data(response, action)["id"])
                return SentMessage(post_id, self._post_url(post_id))
        action = "sending the direct message"
        media = {}
        if image:
            media["media_id"] = self._upload_media(image, "dm_image")
        response = self._call(
            action,
            self._client.create_direct_message,
            participant_id=message.author.external_id,
            text=text,
            **media,
        )
        with _expect_shape("X's answer"):
            sent = _data(response, action)
            return SentMessage(
                _id(sent["dm_event_id"]), _dm_url(sent["dm_conversation_id"])
            )

    def find_sent(self, message, idempotency_key, text="", kind=None, since=None):
        """Look for a reply of ``text`` published by an attempt that timed out.

        X cannot carry ``idempotency_key``, so the reply is recognised by its
        target, text and time: the account's newest post replying to
        ``message`` (or, for ``kind`` PRIVATE, newest DM to its author sent
        after it; ``kind`` defaults to the message's) whose text matches,
        ignoring the @mentions X puts in front of replies and its t.co
        rewriting of links, created after ``since`` (the first attempt).
        Returns a :class:`SentMessage`, or None (always, without ``text``).
        """
        if not text.strip():
            return None
        if (kind or message.kind) == PUBLIC:
            return self._find_public_reply(message, text, since)
        return self._find_direct_message(message, text, since)

    def _find_public_reply(self, message, text, since):
        # Our reply is newer than its target, and ids grow with time.
        response = self._call(
            FINDING_SENT,
            self._client.get_users_tweets,
            id=self._own_id,
            since_id=message.message_id,
            max_results=FIND_SENT_WINDOW,
            tweet_fields=["referenced_tweets", "created_at"],
            exclude=["retweets"],
        )
        with _expect_shape("X's answer"):
            for post in response.get("data") or []:
                replies_to_message = _replied_to(post) == message.message_id
                if (
                    replies_to_message
                    and _same_text(post["text"], text)
                    and sent_since(_iso_datetime(post.get("created_at")), since)
                ):
                    return SentMessage(post["id"], self._post_url(post["id"]))
        return None

    def _find_direct_message(self, message, text, since):
        response = self._call(
            FINDING_SENT,
            self._client.get_direct_message_events,
            participant_id=message.author.external_id,
            max_results=FIND_SENT_WINDOW,
            event_types=["MessageCreate"],
            dm_event_fields=[
                "id",
                "text",
                "sender_id",
                "dm_conversation_id",
                "created_at",
            ],
        )
        with _expect_shape("X's answer"):
            for dm in response.get("data") or []:
                ours = dm.get("sender_id") == self._own_id
                after_message = int(dm["id"]) > int(message.message_id)
                if (
                    ours
                    and after_message
                    and _same_text(dm.get("text", ""), text)
                    and sent_since(_iso_datetime(dm.get("created_at")), since)
                ):
                    return SentMessage(dm["id"], _dm_url(dm["dm_conversation_id"]))
        return None


def _replied_to(post):
    return next(
        (
            ref["id"]
            for ref in post.get("referenced_tweets") or []
            if ref["type"] == "replied_to"
        ),
        None,
    )


def _same_text(published, sent):
    """X ends the text of a post or DM carrying media with the media's
    link: our text, then one more link, is ours too."""
    published, sent = _comparable(published), _comparable(sent)
    return published in (sent, f"{sent} <url>".lstrip())


def _comparable(text):
    """Text as X may echo it back: leading @mentions and links differ."""
    text = unicodedata.normalize("NFC", text).strip()
    text = URLS.sub("<url>", LEADING_MENTIONS.sub("", text))
    return " ".join(text.split())


def _plain_weight(text):
    return sum(
        1 if any(low <= ord(char) <= high for low, high in LIGHT_RANGES) else 2
        for char in text
    )
