"""X items as stored events, and stored events as messages.

A webhook delivery or a polled page yields items (v2 posts and DM events,
v1.1 posts and DM events, deletions, anything else); each is stored as one
self-contained payload naming its shape in ``payload["source"]``, which
:meth:`XParseMixin.parse_event` dispatches on. The helpers that read X's
JSON (ids, texts, times, users, media) live here too.
"""

import hashlib
import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from ..base import (
    PRIVATE,
    PUBLIC,
    VERB_REMOVE,
    Attachment,
    Author,
    InboundEvent,
    MalformedPayload,
    NetworkAdapter,
    ParentPost,
    SocialMessage,
)

CHANNEL = "x"
WEB_URL = "https://x.com"

# Values of payload["source"]: the shape of a stored event.
SOURCE_V2_TWEET = "x_v2_tweet"
SOURCE_V2_DM = "x_v2_dm_event"
SOURCE_V1_TWEET = "x_v1_tweet"
SOURCE_V1_DM = "x_v1_dm_event"
SOURCE_DELETE = "x_tweet_delete"
SOURCE_CHAT = "x_chat"
SOURCE_OTHER = "x_other"

# X Activity API events sent by the account itself: echoes of its own.
OWN_EVENT_TYPES = {"dm.sent", "chat.sent"}

MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "video"}

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# Errors that a payload of the wrong shape raises while being read.
SHAPE_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    OverflowError,
)


class XParseMixin(NetworkAdapter):
    """Stored payload -> :class:`SocialMessage` (no network call)."""

    # -- parsing ----------------------------------------------------------
    def parse_event(self, payload):
        with _expect_shape("The stored X event"):
            parser = PARSERS.get(payload.get("source"))
            if parser is None:
                raise MalformedPayload("The stored X event has no known source marker.")
            own_id = self.config.get("user_id") or payload.get("for_user_id")
            return parser(payload, str(own_id) if own_id else None)


# -- webhook and poll items -> events ----------------------------------------
def _event(event_id, payload):
    """An event addressed to its ``for_user_id``: the account that owns it."""
    user_id = payload["for_user_id"]
    return InboundEvent(
        event_id, payload, recipient_id=None if user_id is None else _id(user_id)
    )


def _tweet_event(tweet, includes, for_user_id, event_type=None):
    """A v2 post with the users and media it refers to."""
    post_id = _id(tweet["id"])
    user_ids = {tweet.get("author_id"), tweet.get("in_reply_to_user_id")} - {None}
    referenced = _referenced_posts(includes, tweet)
    payload = {
        "source": SOURCE_V2_TWEET,
        "for_user_id": for_user_id,
        "tweet": tweet,
        "includes": {
            "users": [u for u in _users(includes) if u.get("id") in user_ids],
            "media": _attached_media(includes, tweet),
        },
    }
    if referenced:  # the post it answers, and that post's media
        payload["includes"]["tweets"] = referenced
        for post in referenced:
            payload["includes"]["media"] += _attached_media(includes, post)
    if event_type:
        payload["event_type"] = event_type
    return _event(f"tweet:{post_id}", payload)


def _v2_dm_event(dm, includes, for_user_id):
    """A v2 DM event with its sender and media."""
    payload = {
        "source": SOURCE_V2_DM,
        "for_user_id": for_user_id,
        "dm_event": dm,
        "includes": {
            "users": [
                u for u in _users(includes) if u.get("id") == dm.get("sender_id")
            ],
            "media": _attached_media(includes, dm),
        },
    }
    return _event(f"dm:{_id(dm['id'])}", payload)


def _v1_tweet_event(tweet, for_user_id):
    """A v1.1 post; its author is embedded in it."""
    payload = {"source": SOURCE_V1_TWEET, "for_user_id": for_user_id, "tweet": tweet}
    return _event(f"tweet:{_v1_id(tweet)}", payload)


def _v1_dm_event(dm, users, for_user_id, event_type=None):
    """A v1.1 DM event with its sender and recipient from the users map."""
    create = dm.get("message_create") or {}
    ids = {create.get("sender_id"), (create.get("target") or {}).get("recipient_id")}
    payload = {
        "source": SOURCE_V1_DM,
        "for_user_id": for_user_id,
        "dm_event": dm,
        "users": {uid: user for uid, user in users.items() if uid in ids},
    }
    if event_type:
        payload["event_type"] = event_type
    return _event(f"dm:{_id(dm['id'])}", payload)


def _chat_event(data, for_user_id, event_type):
    """An X Activity API ``chat.*`` event: XChat's ciphertext
    (``payload.encoded_event``) and what X tells in clear: the message id,
    its sender, conversation and time. Named by the message id (else the
    event's, else a digest of the ciphertext): a redelivery dedups."""
    body = data["payload"]
    sender = body.get("sender_id")
    if sender is None:
        raise MalformedPayload("An XChat event needs its sender_id.")
    chat_id = body.get("id") or data.get("event_uuid")
    if chat_id is None:
        ciphertext = json.dumps(body.get("encoded_event"), sort_keys=True)
        chat_id = hashlib.sha256(ciphertext.encode()).hexdigest()[:24]
    payload = {
        "source": SOURCE_CHAT,
        "for_user_id": for_user_id,
        "event_type": event_type,
        "chat_id": _id(chat_id),
        "chat": {
            "sender_id": _id(sender),
            "conversation_id": body.get("conversation_id"),
            "created_at_msec": body.get("created_at_msec"),
            "encoded_event": body.get("encoded_event"),
        },
    }
    return _event(f"chat:{payload['chat_id']}", payload)


def _delete_event(post_id, author_id, for_user_id):
    payload = {
        "source": SOURCE_DELETE,
        "for_user_id": for_user_id,
        "tweet_id": _id(post_id),
        "author_id": _id(author_id) if author_id is not None else None,
    }
    return _event(f"tweet_delete:{payload['tweet_id']}", payload)


def _other_event(kind, item, for_user_id, item_id=None):
    """Anything else (likes, follows, typing...): stored, parsed to nothing.
    Items without an id are named by a digest, so a redelivery dedups."""
    if item_id is None:
        canonical = json.dumps(item, sort_keys=True, default=str)
        item_id = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    item_id = _id(item_id)
    payload = {
        "source": SOURCE_OTHER,
        "for_user_id": for_user_id,
        "kind": kind,
        "item": item,
    }
    return _event(f"{kind}:{item_id}", payload)


# -- stored payloads -> messages -------------------------------------------
def _parse_v2_tweet(payload, own_id):
    tweet = payload["tweet"]
    post_id = _id(tweet["id"])
    includes = payload.get("includes") or {}
    author_id = tweet["author_id"]
    author = _author(_find_user(includes, author_id), author_id)
    note = tweet.get("note_tweet") or {}  # posts longer than 280 characters
    entities = note.get("entities") or tweet.get("entities") or {}
    references = {
        ref["type"]: _id(ref["id"]) for ref in tweet.get("referenced_tweets") or []
    }
    parent_id = references.get("replied_to") or tweet.get("in_reply_to_tweet_id") or ""
    answers_us = own_id and str(tweet.get("in_reply_to_user_id") or "") == own_id
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PUBLIC,
            message_id=post_id,
            conversation_id=_id(tweet.get("conversation_id") or post_id),
            author=author,
            text=_text(note.get("text") or tweet.get("text")),
            created_at=_iso_datetime(tweet.get("created_at")),
            parent_id=_id(parent_id),
            url=_post_url(author.handle, post_id),
            lang=_lang(tweet.get("lang")),
            attachments=_v2_attachments(_attached_media(includes, tweet)),
            links=_links(entities),
            is_own=author.external_id == own_id,
            is_repost="retweeted" in references,
            parent_post=_v2_parent_post(includes, _id(parent_id))
            if answers_us
            else None,
            raw=payload,
        )
    ]


def _parse_v2_dm(payload, own_id):
    dm = payload["dm_event"]
    if dm.get("event_type", "MessageCreate") != "MessageCreate":
        return []
    sender_id = _id(dm["sender_id"])
    includes = payload.get("includes") or {}
    conversation_id = _id(dm.get("dm_conversation_id") or _pair(sender_id, own_id))
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PRIVATE,
            message_id=_id(dm["id"]),
            conversation_id=conversation_id,
            author=_author(_find_user(includes, sender_id), sender_id),
            text=_text(dm.get("text")),
            created_at=_iso_datetime(dm.get("created_at")),
            url=_dm_url(conversation_id),
            attachments=_v2_attachments(includes.get("media") or []),
            links=_links(dm.get("entities") or {}),
            is_own=sender_id == own_id,
            raw=payload,
        )
    ]


def _parse_v1_tweet(payload, own_id):
    """v1.1 posts: ``*_str`` ids (the numbers exceed 2**53) and the full
    text of ``extended_tweet``. v1.1 has no conversation id: a reply is
    filed under the post it replies to, which may not be the thread root."""
    tweet = payload["tweet"]
    post_id = _v1_id(tweet)
    extended = tweet.get("extended_tweet") or {}
    author = _author(tweet["user"], None)
    parent_id = _id(tweet.get("in_reply_to_status_id_str") or "")
    media = (
        extended.get("extended_entities") or tweet.get("extended_entities") or {}
    ).get("media")
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PUBLIC,
            message_id=post_id,
            conversation_id=parent_id or post_id,
            author=author,
            text=_text(
                extended.get("full_text") or tweet.get("full_text") or tweet.get("text")
            ),
            created_at=_v1_datetime(tweet.get("created_at")),
            parent_id=parent_id,
            url=_post_url(author.handle, post_id),
            lang=_lang(tweet.get("lang")),
            attachments=tuple(_v1_attachment(item) for item in media or []),
            links=_links(extended.get("entities") or tweet.get("entities") or {}),
            is_own=author.external_id == own_id,
            is_repost="retweeted_status" in tweet,
            # v1.1 never embeds the post a reply answers: it is looked up.
            parent_post=ParentPost(parent_id)
            if parent_id and own_id and _v1_reply_user(tweet) == own_id
            else None,
            raw=payload,
        )
    ]


def _parse_v1_dm(payload, own_id):
    """v1.1 DMs (legacy webhooks, and X Activity API dm.* events). A 1:1
    conversation is named like v2's ``dm_conversation_id``, "<low>-<high>"."""
    dm = payload["dm_event"]
    if dm.get("type") != "message_create":
        return []
    create = dm["message_create"]
    sender_id = _id(create["sender_id"])
    conversation_id = _pair(sender_id, create["target"]["recipient_id"])
    data = create.get("message_data") or {}
    attachment = (data.get("attachment") or {}).get("media")
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PRIVATE,
            message_id=_id(dm["id"]),
            conversation_id=conversation_id,
            author=_author((payload.get("users") or {}).get(sender_id), sender_id),
            text=_text(data.get("text")),
            created_at=_ms_datetime(dm.get("created_timestamp")),
            url=_dm_url(conversation_id),
            attachments=(_v1_attachment(attachment),) if attachment else (),
            links=_links(data.get("entities") or {}),
            is_own=sender_id == own_id or payload.get("event_type") in OWN_EVENT_TYPES,
            raw=payload,
        )
    ]


def _parse_chat(payload, own_id):
    """An XChat message: end-to-end encrypted, so stored with its ciphertext
    and shown as a notice with the link to the conversation on X."""
    chat = payload["chat"]
    sender_id = _id(chat["sender_id"])
    conversation_id = _id(chat.get("conversation_id") or _pair(sender_id, own_id))
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PRIVATE,
            message_id=payload["chat_id"],
            conversation_id=conversation_id,
            author=_author(None, sender_id),
            created_at=_ms_datetime(chat.get("created_at_msec")),
            url=f"{WEB_URL}/i/chat/{quote(conversation_id, safe='')}",
            is_own=sender_id == own_id or payload.get("event_type") in OWN_EVENT_TYPES,
            encrypted=True,
            raw=payload,
        )
    ]


def _parse_delete(payload, own_id):
    """A deleted post: the helpdesk must remove its copy (X's terms)."""
    author_id = payload.get("author_id") or ""
    return [
        SocialMessage(
            channel=CHANNEL,
            kind=PUBLIC,
            message_id=_id(payload["tweet_id"]),
            conversation_id="",
            author=Author(external_id=_id(author_id)),
            verb=VERB_REMOVE,
            is_own=author_id == own_id,
            raw=payload,
        )
    ]


def _parse_other(_payload, _own_id):
    """Likes, follows, typing and the like: kept, but nothing for the helpdesk."""
    return []


PARSERS = {
    SOURCE_V2_TWEET: _parse_v2_tweet,
    SOURCE_V2_DM: _parse_v2_dm,
    SOURCE_V1_TWEET: _parse_v1_tweet,
    SOURCE_V1_DM: _parse_v1_dm,
    SOURCE_DELETE: _parse_delete,
    SOURCE_CHAT: _parse_chat,
    SOURCE_OTHER: _parse_other,
}


@contextmanager
def _expect_shape(what):
    """Report JSON of the wrong shape as MalformedPayload, never as a
    KeyError or TypeError from deep inside the parsing."""
    try:
        yield
    except SHAPE_ERRORS as exc:
        raise MalformedPayload(f"{what} has an unexpected shape: {exc!r}") from exc


def _id(value):
    """An X id as a string; ids are strings in v2 and *_str fields."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedPayload(f"Not an X id: {value!r}")
    return str(value)


def _v1_id(item):
    return _id(item["id_str"] if "id_str" in item else item["id"])


def _text(value):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"Not a text: {value!r}")
    return value


def _users(includes):
    """includes.users; the X Activity API sometimes wraps each in "data"."""
    return [user.get("data", user) for user in includes.get("users") or []]


def _attached_media(includes, item):
    """The includes.media entries that ``item`` has attached."""
    keys = set((item.get("attachments") or {}).get("media_keys") or [])
    return [m for m in includes.get("media") or [] if m.get("media_key") in keys]


def _find_user(includes, user_id):
    return next((user for user in _users(includes) if user.get("id") == user_id), None)


def _author(user, fallback_id):
    """An Author from a v2 user, a v1.1 user, or nothing but an id."""
    user = (user or {}).get("data", user) or {}
    username = user.get("username") or user.get("screen_name") or ""
    followers = (user.get("public_metrics") or {}).get("followers_count")
    if followers is None:
        followers = user.get("followers_count")
    return Author(
        external_id=_v1_id(user) if user else _id(fallback_id),
        handle=username,
        name=_text(user.get("name")),
        profile_url=f"{WEB_URL}/{username}" if username else "",
        followers_count=int(followers) if followers is not None else None,
        avatar_url=_avatar_url(user),
    )


def _links(entities):
    """Expanded links, without those X adds for attached media."""
    return tuple(
        url.get("expanded_url") or url["url"]
        for url in entities.get("urls") or []
        if not url.get("media_key")
    )


def _v2_attachments(media_items):
    return tuple(
        Attachment(
            url=media.get("url") or media.get("preview_image_url") or "",
            kind=MEDIA_KINDS.get(media.get("type"), "file"),
        )
        for media in media_items
    )


def _v1_attachment(media):
    return Attachment(
        url=media["media_url_https"], kind=MEDIA_KINDS.get(media.get("type"), "file")
    )


def _pair(user_id, other_id):
    """X's id of a one-to-one DM conversation: the two user ids, low first."""
    return "-".join(sorted((_id(user_id), _id(other_id)), key=int))


def _iso_datetime(value):
    if not value:
        return None
    # Python 3.10 (Odoo 18's minimum) does not read a "Z" suffix.
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _v1_datetime(value):
    """v1.1's "Thu May 10 17:41:57 +0000 2018", read without the process
    locale (which %a and %b would follow)."""
    if not value:
        return None
    _, month, day, clock, offset, year = value.split()
    month_number = MONTHS.index(month) + 1
    moment = datetime.strptime(
        f"{year}-{month_number:02d}-{day} {clock} {offset}", "%Y-%m-%d %H:%M:%S %z"
    )
    return moment.astimezone(timezone.utc)


def _ms_datetime(value):
    if value is None:
        return None
    return EPOCH + timedelta(milliseconds=int(value))


def _lang(value):
    """X's language code, empty when X could not tell ("und")."""
    return "" if value in (None, "und") else _text(value)


def _post_url(username, post_id):
    if username:
        return f"{WEB_URL}/{username}/status/{post_id}"
    return f"{WEB_URL}/i/web/status/{post_id}"


def _dm_url(conversation_id):
    return f"{WEB_URL}/messages/{conversation_id}"


def _referenced_posts(includes, tweet):
    """The includes.tweets entries that ``tweet`` references."""
    ids = {str(ref.get("id")) for ref in tweet.get("referenced_tweets") or []}
    return [post for post in includes.get("tweets") or [] if post.get("id") in ids]


def _v2_parent_post(includes, post_id):
    """The brand's post a reply answers, from includes.tweets when X sent it
    (expansion ``referenced_tweets.id``); else only its id, to look up."""
    post = next(
        (p for p in includes.get("tweets") or [] if _id(p.get("id", "")) == post_id),
        None,
    )
    if post is None:
        return ParentPost(post_id)
    return parent_post_of(post, includes)


def parent_post_of(post, includes):
    """A :class:`ParentPost` of a v2 post and the media it has attached."""
    note = post.get("note_tweet") or {}
    images = [
        media.get("url") or media.get("preview_image_url") or ""
        for media in _attached_media(includes, post)
    ]
    return ParentPost(
        post_id=_id(post["id"]),
        text=_text(note.get("text") or post.get("text")),
        url=_post_url("", _id(post["id"])),
        image_url=next((url for url in images if url), ""),
    )


def _v1_reply_user(tweet):
    return str(tweet.get("in_reply_to_user_id_str") or "")


def _avatar_url(user):
    """The user's picture at its original size: X's addresses end in
    ``_normal`` (48 pixels); without the suffix they serve the original."""
    url = _text(user.get("profile_image_url") or user.get("profile_image_url_https"))
    if not url.startswith(("https://", "http://")):
        return ""
    path, _, name = url.rpartition("/")
    return f"{path}/{name.replace('_normal.', '.')}"
