"""Meta webhook payloads (page feed, Instagram comments, messaging items) as
:class:`SocialMessage`.
"""

import re

from ..base import (
    PRIVATE,
    PUBLIC,
    VERB_ADD,
    VERB_EDIT,
    VERB_HIDE,
    VERB_REMOVE,
    Attachment,
    Author,
    MalformedPayload,
    NetworkAdapter,
    ParentPost,
    SocialMessage,
)
from .readers import (
    OBJECT_INSTAGRAM,
    OBJECT_PAGE,
    _dict_or_empty,
    _expect_dict,
    _identifier,
    _number_or_none,
    _object,
    _optional_identifier,
    _strings,
    _text,
    _timestamp,
)

CHANNEL_FACEBOOK = "facebook"
CHANNEL_MESSENGER = "messenger"
CHANNEL_INSTAGRAM = "instagram"

# Feed items that are posts. All are keyed on their post_id, so a photo post
# announced both as "photo" and as "status" is stored once.
FEED_POST_ITEMS = ("post", "status", "photo", "video")
FEED_VERBS = {
    "add": VERB_ADD,
    "edit": VERB_EDIT,
    "edited": VERB_EDIT,
    "remove": VERB_REMOVE,
    "delete": VERB_REMOVE,
    "hide": VERB_HIDE,
}
INSTAGRAM_COMMENT_FIELDS = ("comments", "live_comments")
INSTAGRAM_USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
ATTACHMENT_KINDS = {
    "image": "image",
    "video": "video",
    "reel": "video",
    "ig_reel": "video",
    "audio": "audio",
    "file": "file",
    "sticker": "image",
    "story_mention": "image",
}
# Attachments that stand for the whole message: how it reads when it has no
# text (a sticker since 30 Aug 2026, an Instagram post share, a story
# mention) and the name of its link.
STICKER = "sticker"
SHARED_POSTS = ("ig_post", "share", "post")
STORY_MENTION = "story_mention"
MESSAGE_LABELS = {
    STICKER: "[Sticker]",
    "ig_post": "[Shared post]",
    "share": "[Shared post]",
    "post": "[Shared post]",
    STORY_MENTION: "[Story mention]",
}
ATTACHMENT_NAMES = {
    STICKER: "Sticker",
    "ig_post": "Shared post",
    "share": "Shared post",
    "post": "Shared post",
    STORY_MENTION: "Story",
}
# referral.source of a thread started from an ad (click to Messenger or
# Instagram Direct): such threads keep a 7-day standard window.
REFERRAL_FROM_AD = "ADS"


class MetaParseMixin(NetworkAdapter):
    """Stored payload -> :class:`SocialMessage` (no network call)."""

    # -- parsing ----------------------------------------------------------
    def parse_event(self, payload):
        payload = _expect_dict(payload, "the event")
        obj = _object(payload.get("object"))
        entry_time = _number_or_none(payload.get("entry_time"), "entry_time")
        if "change" in payload:
            change = _expect_dict(payload["change"], "the change")
            field = change.get("field")
            value = _expect_dict(change.get("value"), "the change value")
            if obj == OBJECT_PAGE and field == "feed":
                return self._parse_feed(value, entry_time, payload)
            if obj == OBJECT_INSTAGRAM and field in INSTAGRAM_COMMENT_FIELDS:
                return [self._parse_instagram_comment(value, entry_time, payload)]
            return []
        if "messaging" in payload:
            item = _expect_dict(payload["messaging"], "the messaging item")
            return self._parse_messaging(obj, item, entry_time, payload)
        raise MalformedPayload("The event has neither a change nor a messaging item.")

    def _parse_feed(self, value, entry_time, raw):
        item = value.get("item")
        verb = _feed_verb(value)
        if verb is None or not isinstance(item, str):
            return []
        if item == "comment":
            message_id = _identifier(value.get("comment_id"), "comment_id")
            post_id = _identifier(value.get("post_id"), "post_id")
            parent_id = _optional_identifier(value.get("parent_id")) or post_id
        elif item in FEED_POST_ITEMS:
            message_id = post_id = _identifier(value.get("post_id"), "post_id")
            parent_id = ""
        else:  # reactions, likes, shares: nothing for the helpdesk
            return []
        author = _facebook_author(value.get("from"))
        attachments, links = _feed_media(item, value)
        created_at = _timestamp(value.get("created_time")) or _timestamp(entry_time)
        message = SocialMessage(
            channel=CHANNEL_FACEBOOK,
            kind=PUBLIC,
            message_id=message_id,
            conversation_id=post_id,
            author=author,
            text=_text(value.get("message")),
            created_at=created_at,
            parent_id=parent_id,
            url=f"https://www.facebook.com/{message_id}",
            attachments=attachments,
            links=links,
            verb=verb,
            is_own=_is_own(author, self.page_id),
            # A comment on the post (not an answer to a comment) quotes it.
            parent_post=ParentPost(post_id)
            if parent_id == post_id != message_id
            else None,
            raw=raw,
        )
        return [message]

    def _parse_instagram_comment(self, value, entry_time, raw):
        """Instagram sends no comment time: the entry time stands in. Comments
        on albums come without their media; the thread is kept anyway."""
        comment_id = _identifier(value.get("id"), "comment id")
        parent_id = _optional_identifier(value.get("parent_id"))
        media_id = _optional_identifier(
            _expect_dict(value.get("media", {}), "media").get("id")
        )
        sender = _expect_dict(value.get("from", {}), "from")
        author = _instagram_author(sender.get("id"), sender.get("username"))
        return SocialMessage(
            channel=CHANNEL_INSTAGRAM,
            kind=PUBLIC,
            message_id=comment_id,
            conversation_id=media_id or parent_id or comment_id,
            author=author,
            text=_text(value.get("text")),
            created_at=_timestamp(entry_time),
            parent_id=parent_id,
            is_own=_is_own(author, self.instagram_account_id),
            parent_post=ParentPost(media_id) if media_id and not parent_id else None,
            raw=raw,
        )

    def _parse_messaging(self, obj, item, entry_time, raw):
        """A message, an echo of ours, an edit or an unsend, and a thread
        opened from an ad (``messaging_referrals``). Receipts, reactions,
        postbacks and other referrals carry nothing for the helpdesk."""
        if isinstance(item.get("message_edit"), dict):
            body, verb = item["message_edit"], VERB_EDIT
        elif isinstance(item.get("message"), dict):
            body = item["message"]
            verb = VERB_REMOVE if body.get("is_deleted") is True else VERB_ADD
        elif _from_ad(item.get("referral")):
            body, verb = _referral_body(item), VERB_ADD
        else:
            return []
        sender = _expect_dict(item.get("sender"), "sender")
        sender_id = _identifier(sender.get("id"), "sender.id")
        own_id = self.page_id if obj == OBJECT_PAGE else self.instagram_account_id
        is_own = body.get("is_echo") is True or sender_id == own_id
        # The thread is the customer's: the recipient of our own messages.
        customer_id = sender_id
        if is_own:
            recipient = _expect_dict(item.get("recipient"), "recipient")
            customer_id = _identifier(recipient.get("id"), "recipient.id")
        if obj == OBJECT_PAGE:
            author = Author(external_id=sender_id, name=_text(sender.get("name")))
        else:
            author = _instagram_author(
                sender_id, sender.get("username"), sender.get("name")
            )
        reply_to = _dict_or_empty(body.get("reply_to"))
        story = _dict_or_empty(reply_to.get("story"))
        attachments, label, url = _messaging_attachments(body.get("attachments"))
        if _text(story.get("url")):  # a reply to the account's story
            url = _text(story["url"])
            attachments += (Attachment(url=url, kind="image", name="Story"),)
            label = label or "[Story reply]"
        created_at = _timestamp(item.get("timestamp")) or _timestamp(entry_time)
        message = SocialMessage(
            channel=CHANNEL_MESSENGER if obj == OBJECT_PAGE else CHANNEL_INSTAGRAM,
            kind=PRIVATE,
            message_id=_identifier(body.get("mid"), "message mid"),
            conversation_id=customer_id,
            author=author,
            text=_text(body.get("text")) or label,
            created_at=created_at,
            parent_id=_optional_identifier(reply_to.get("mid")),
            url=url,
            attachments=attachments,
            links=(url,) if url else (),
            verb=verb,
            is_own=is_own,
            from_ad=any(
                _from_ad(node.get("referral"))
                for node in (item, body, _dict_or_empty(item.get("postback")))
            ),
            raw=raw,
        )
        return [message]


def _feed_verb(value):
    verb = value.get("verb")
    return FEED_VERBS.get(verb) if isinstance(verb, str) else None


def _is_own(author, own_id):
    return bool(own_id) and author.external_id == own_id


def _facebook_author(sender):
    """Meta leaves ``from`` out when the app lacks pages_read_user_content."""
    sender = _dict_or_empty(sender)
    return Author(
        external_id=_optional_identifier(sender.get("id")),
        name=_text(sender.get("name")),
    )


def _instagram_author(external_id, username, name=None):
    username = _text(username)
    is_username = INSTAGRAM_USERNAME.fullmatch(username)
    return Author(
        external_id=_optional_identifier(external_id),
        handle=username,
        name=_text(name),
        profile_url=f"https://www.instagram.com/{username}" if is_username else "",
    )


def _feed_media(item, value):
    """(attachments, links) of a feed value. Comments carry ``photo`` or
    ``video``; photo and video posts carry their media URL in ``link``."""
    media = [(value.get("photo"), "image"), (value.get("video"), "video")]
    media += [(url, "image") for url in _strings(value.get("photos"))]
    link = _text(value.get("link"))
    if item in ("photo", "video"):
        media.append((link, "image" if item == "photo" else "video"))
        link = ""
    attachments = tuple(
        Attachment(url=url, kind=kind) for url, kind in media if _text(url)
    )
    return attachments, ((link,) if link else ())


def _messaging_attachments(raw):
    """(attachments, label, url) of a message's attachments: those that have
    a URL (a fallback without payload is dropped), how the message reads
    without text, and the URL of what it shares or mentions. During Meta's
    sticker transition a sticker also came as an image of the same URL:
    that copy is dropped."""
    nodes = [_dict_or_empty(node) for node in raw] if isinstance(raw, list) else []
    typed = [
        (_text(node.get("type")), _text(_dict_or_empty(node.get("payload")).get("url")))
        for node in nodes
    ]
    stickers = {url for kind, url in typed if kind == STICKER}
    attachments, labels, url = [], [], ""
    for kind, link in typed:
        if kind in MESSAGE_LABELS:
            labels.append(MESSAGE_LABELS[kind])
            if kind != STICKER and link and not url:
                url = link
        if not link or (kind == "image" and link in stickers):
            continue
        attachments.append(
            Attachment(
                url=link,
                kind=ATTACHMENT_KINDS.get(kind, "link"),
                name=ATTACHMENT_NAMES.get(kind, ""),
            )
        )
    label = " ".join(dict.fromkeys(labels))
    if label and url:
        label = f"{label} {url}"
    return tuple(attachments), label, url


def _from_ad(referral):
    """Whether a ``referral`` object says the thread came from an ad."""
    return _dict_or_empty(referral).get("source") == REFERRAL_FROM_AD


def _referral_body(item):
    """A message body for a ``messaging_referrals`` event from an ad: the
    customer opened the thread from it, which agents see as a message
    naming the ad; its id is the referral's (customer and time)."""
    referral = item["referral"]
    sender = _dict_or_empty(item.get("sender")).get("id")
    title = _text(_dict_or_empty(referral.get("ads_context_data")).get("ad_title"))
    return {
        "mid": f"referral:{sender}:{item.get('timestamp')}",
        "text": f"[Opened from an ad] {title}".strip(),
        "referral": referral,
    }
