"""Facebook Pages, Messenger and Instagram through Meta's Graph API.

One Meta app serves three helpdesk channels: comments and posts on the page
feed (``facebook``), the page's conversations (``messenger``) and the linked
Instagram professional account's comments and direct messages
(``instagram``). Webhooks are the primary source; :meth:`MetaAdapter.poll` is
the fallback and rewrites what it reads into the webhook shapes, with the same
event ids, so a change seen both ways is stored once.
"""

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import NamedTuple
from urllib.parse import quote

import requests

from .base import (
    PRIVATE,
    PUBLIC,
    VERB_ADD,
    VERB_EDIT,
    VERB_HIDE,
    VERB_REMOVE,
    AdapterError,
    Attachment,
    AuthError,
    Author,
    HandshakeError,
    InboundEvent,
    MalformedPayload,
    NetworkAdapter,
    NotSupported,
    PollResult,
    RateLimited,
    ReplyNotAllowed,
    SentMessage,
    SignatureError,
    SocialMessage,
    TransientError,
    WebhookRejected,
    WindowClosed,
    aware_utc,
    backfill_cursors,
    handshake_token,
    hmac_sha256,
    sent_since,
    signatures_match,
)

CHANNEL_FACEBOOK = "facebook"
CHANNEL_MESSENGER = "messenger"
CHANNEL_INSTAGRAM = "instagram"

OBJECT_PAGE = "page"
OBJECT_INSTAGRAM = "instagram"

PAGE_PERMISSIONS = (
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
    "pages_manage_metadata",
)
INSTAGRAM_PERMISSIONS = (
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_manage_messages",
)
SUBSCRIBED_FIELDS = ("feed", "messages")
# The app-level webhook subscriptions (POST /{app-id}/subscriptions): the
# fields of each object the adapter parses.
APP_SUBSCRIPTIONS = {
    "page": ("feed", "messages"),
    "instagram": ("comments", "messages"),
}

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
}

# https://developers.facebook.com/docs/graph-api/guides/error-handling
THROTTLING_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
EXPIRED_TOKEN_CODES = frozenset({102, 190})
TEMPORARY_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
ALREADY_REPLIED_CODE = 10900  # "Activity already replied to"
CANNOT_REPLY_CODES = frozenset({551, 10903})
CALLBACK_VERIFICATION_FAILED = 2200
INVALID_PARAMETER = 100
PERMISSION_NAME = re.compile(r"\b(?:pages|instagram|business)_[a-z_]+\b")
EXPIRED_TOKEN_MESSAGE = (
    "The page access token expired or was revoked; reconnect the page."
)

# The usage headers give percentages of a quota. Past this one, back off
# before Meta refuses every call for up to an hour.
SLOW_DOWN_AT = 80
DEFAULT_THROTTLE_WAIT = timedelta(minutes=15)

MESSAGING_WINDOW = timedelta(hours=24)
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

FIRST_POLL_LOOKBACK = timedelta(days=1)
FEED_FIELDS = (
    "id,message,created_time,from,"
    "comments.filter(stream).order(reverse_chronological)"
    "{id,message,created_time,from,parent}"
)
CONVERSATION_FIELDS = (
    "updated_time,messages{id,message,created_time,from,to,"
    "attachments{mime_type,name,file_url,image_data{url},video_data{url}}}"
)
MEDIA_FIELDS = (
    "id,media_product_type,comments{id,text,timestamp,from,username,parent_id,"
    "replies{id,text,timestamp,from,username,parent_id}}"
)
GRAPH_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class PollSource(NamedTuple):
    """One Graph collection that :meth:`MetaAdapter.poll` reads."""

    cursor: str  # its key in the cursors
    path: str
    params: dict
    obj: str  # the webhook object its items belong to
    owner_id: str  # the entry id: the page or the Instagram account
    field: str | None  # the change field, or None for messaging items
    read: Callable  # Graph node -> [(epoch, webhook change value or item)]


class MetaAdapter(NetworkAdapter):
    """Webhooks, polling and replies for one Facebook page and, optionally,
    the Instagram professional account linked to it.

    ``session`` (a ``requests.Session``) and ``clock`` (returns the aware UTC
    now) let tests and benchmarks drive it; the defaults suit production.
    """

    network = "meta"
    signature_header = "X-Hub-Signature-256"
    # A Meta app has one callback URL for all its pages: each entry's id
    # names the page, or the Instagram account, it is for.
    signing_secret_setting = "app_secret"
    recipient_id_settings = ("page_id", "instagram_account_id")
    poll_page_size = 25
    poll_max_pages = 5

    def __init__(self, config, session=None, clock=None):
        super().__init__(config)
        self.session = session or requests.Session()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # Highest quota percentage in Meta's last usage headers; None until
        # Meta sends some (it omits them while usage is low).
        self.last_usage = None
        self.regain_access_minutes = 0

    # -- configuration ----------------------------------------------------
    @property
    def page_id(self):
        return str(self.config.get("page_id") or "")

    @property
    def instagram_account_id(self):
        return str(self.config.get("instagram_account_id") or "")

    @property
    def human_agent_tag(self):
        return bool(self.config.get("human_agent_tag"))

    @property
    def graph_url(self):
        base = self.config.get("graph_base_url") or "https://graph.facebook.com"
        version = self.config.get("graph_version") or "v23.0"
        return f"{base.rstrip('/')}/{version}"

    @property
    def timeout(self):
        return self.config.get("timeout") or 15

    def required_permissions(self):
        """Permissions the page token needs for the channels configured."""
        if self.instagram_account_id:
            return PAGE_PERMISSIONS + INSTAGRAM_PERMISSIONS
        return PAGE_PERMISSIONS

    # -- connection -------------------------------------------------------
    def test_connection(self):
        """Check the token, its permissions and the webhook subscription, so
        an admin sees at once what is missing.

        Returns ``page_name`` and ``label`` (both the page's name),
        ``granted`` and ``missing`` permissions (from ``debug_token``),
        ``required``, ``scopes_known`` (True), ``app_id``,
        ``subscribed_fields``, ``subscribed`` and a plain-words ``detail``.
        """
        page = self._get("me", {"fields": "id,name"})
        if str(page.get("id")) != self.page_id:
            raise AuthError(
                f"The access token is for {page.get('name') or page.get('id')!r}, "
                f"not for page {self.page_id}; reconnect the right page."
            )
        token = self._debug_token()
        granted = sorted(_strings(token.get("scopes")))
        missing = [name for name in self.required_permissions() if name not in granted]
        app_id = str(token.get("app_id") or "")
        apps = _data(self._get(_path(self.page_id, "subscribed_apps")))
        ours = next((app for app in apps if str(app.get("id")) == app_id), {})
        fields = sorted(_strings(ours.get("subscribed_fields")))
        name = page.get("name") or ""
        if missing:
            detail = (
                f"The page token lacks {', '.join(missing)}: reconnect the page and "
                "accept every permission asked."
            )
        else:
            detail = "The page token has every permission the helpdesk needs."
        return {
            "page_name": name,
            "label": name or self.page_id,
            "granted": granted,
            "missing": missing,
            "required": list(self.required_permissions()),
            "scopes_known": True,
            "app_id": app_id,
            "subscribed_fields": fields,
            "subscribed": all(field in fields for field in SUBSCRIBED_FIELDS),
            "detail": detail,
        }

    def _debug_token(self):
        token = self._get("debug_token", {"input_token": self._token()}).get("data")
        token = token if isinstance(token, dict) else {}
        if token.get("is_valid") is False:
            raise AuthError(EXPIRED_TOKEN_MESSAGE)
        return token

    def subscribe_app(self):
        """Install the app on the page for the webhook fields we parse."""
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
        secret = self.config.get("app_secret")
        app_id = str(self.config.get("app_id") or "")
        if secret and not app_id:
            app_id = str(self._debug_token().get("app_id") or "")
        done = []
        if secret and app_id:
            for obj, fields in self._app_subscriptions():
                self._subscribe_app_object(app_id, secret, obj, fields, url)
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

    def _subscribe_app_object(self, app_id, secret, obj, fields, url):
        """One ``POST /{app-id}/subscriptions`` with the app access token."""
        try:
            answer = self._call(
                "POST",
                _path(app_id, "subscriptions"),
                data={
                    "object": obj,
                    "callback_url": url,
                    "verify_token": self.config["verify_token"],
                    "fields": ",".join(fields),
                },
                token=f"{app_id}|{secret}",
            )
        except AuthError as exc:
            raise AuthError(
                "Meta refused the app's credentials while setting the webhook: "
                "check the app secret, and that the page token belongs to this app."
            ) from exc
        except AdapterError as exc:
            code = getattr(exc, "graph_code", None)
            if code == CALLBACK_VERIFICATION_FAILED:
                raise WebhookRejected(
                    "Meta could not verify the webhook URL: it did not answer Meta's "
                    "check with the verify token. Make sure the address is public "
                    f"https and reachable from the internet. ({exc})",
                    reason="callback_verification_failed",
                ) from exc
            if code == INVALID_PARAMETER:
                raise WebhookRejected(
                    f"Meta refused the webhook URL: {exc}", reason="invalid_parameter"
                ) from exc
            raise
        if answer.get("success") not in (True, "true"):
            raise AdapterError(
                f"Meta did not confirm the webhook for {obj} events; try again."
            )

    # -- webhooks ---------------------------------------------------------
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
        secret = self.config.get("app_secret")
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
            raw=raw,
        )

    def _parse_messaging(self, obj, item, entry_time, raw):
        """A message, an echo of ours, an edit or an unsend. Receipts,
        reactions and postbacks carry nothing for the helpdesk."""
        if isinstance(item.get("message_edit"), dict):
            body, verb = item["message_edit"], VERB_EDIT
        elif isinstance(item.get("message"), dict):
            body = item["message"]
            verb = VERB_REMOVE if body.get("is_deleted") is True else VERB_ADD
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
        reply_to = body.get("reply_to")
        reply_to = reply_to if isinstance(reply_to, dict) else {}
        created_at = _timestamp(item.get("timestamp")) or _timestamp(entry_time)
        message = SocialMessage(
            channel=CHANNEL_MESSENGER if obj == OBJECT_PAGE else CHANNEL_INSTAGRAM,
            kind=PRIVATE,
            message_id=_identifier(body.get("mid"), "message mid"),
            conversation_id=customer_id,
            author=author,
            text=_text(body.get("text")),
            created_at=created_at,
            parent_id=_optional_identifier(reply_to.get("mid")),
            attachments=_messaging_attachments(body.get("attachments")),
            verb=verb,
            is_own=is_own,
            raw=raw,
        )
        return [message]

    # -- polling ----------------------------------------------------------
    def poll(self, cursors, start=None):
        """Read what webhooks may have missed since each cursor (epoch
        seconds; from ``start``, else a day back, on the first poll).

        Items of the cursor's second are read again on purpose: their event
        ids dedupe them, and nothing posted later in that second is lost.
        Paging stops at the first page with nothing at or after the cursor.
        A poll reads at most ``poll_max_pages`` pages of a source; when more
        remain, the cursor stays and the next poll resumes at the page where
        this one stopped (see :meth:`_poll_source`).
        """
        lookback = start or self.clock() - FIRST_POLL_LOOKBACK
        first_since = int(lookback.timestamp())
        events, new_cursors = [], dict(cursors)
        for source in self._poll_sources():
            events += self._poll_source(source, new_cursors, first_since)
        return PollResult(events=events, cursors=new_cursors)

    def _poll_source(self, source, cursors, first_since):
        """The fresh events of one source, updating ``cursors`` in place.

        Pages come newest first, so the cursor may only move once the pass
        reached its end: until then ``<source>_resume`` keeps the ``after``
        cursor of the next page and the newest time read in the pass."""
        since = _cursor(cursors.get(source.cursor), first_since)
        resume = _dict_or_empty(cursors.pop(f"{source.cursor}_resume", None))
        newest = _cursor(resume.get("newest"), since)
        params = {**source.params, "limit": self.poll_page_size}
        if resume.get("after"):
            params["after"] = str(resume["after"])
        events, after = [], None
        for _page in range(self.poll_max_pages):
            body = self._get(source.path, params)
            fresh = _fresh(source, _data(body), since)
            for created, item in fresh:
                events.append(self._source_event(source, created, item))
                newest = max(newest, created)
            after = _next_after(body) if fresh else None
            if not after:
                break
            params["after"] = after
        if after:
            cursors[f"{source.cursor}_resume"] = {"after": after, "newest": newest}
        else:
            cursors[source.cursor] = newest
        return events

    def _source_event(self, source, created, item):
        """The webhook-shaped event of a polled item: same id as a webhook's."""
        if source.field:
            return self._change_event(
                source.obj, source.owner_id, created, source.field, item
            )
        return self._messaging_event(source.obj, source.owner_id, created, item)

    # -- backfill ---------------------------------------------------------
    def backfill_sources(self):
        """feed and messenger, plus instagram_comments and instagram_dm when
        an Instagram account is configured."""
        return tuple(source.cursor for source in self._poll_sources())

    def backfill(self, source, since, cursor=None):
        """One page of ``source``, read from the endpoints :meth:`poll` reads
        (the page feed with its comments, conversations for Messenger or
        Instagram, the Instagram media with their comments), following
        Graph ``after`` cursors.

        Paging stops, as in :meth:`poll`, at the first page with nothing
        created at or after ``since``. Events carry the webhook event ids,
        so what a webhook or a poll already stored is not stored again.
        Meta does not bill reads: ``reads`` stays empty. Like polling, only
        what Meta embeds in each node is read (a conversation's latest
        messages, a post's first page of comments), not the rest of a long
        thread.
        """
        since_epoch = int(aware_utc(since).timestamp())
        sources = {item.cursor: item for item in self._poll_sources()}
        if source not in sources:
            raise ValueError(f"Meta has no backfill source {source!r} here.")
        source = sources[source]
        params = {**source.params, "limit": self.poll_page_size}
        if cursor:
            params["after"] = cursor
        body = self._get(source.path, params)
        fresh = _fresh(source, _data(body), since_epoch)
        events = [self._source_event(source, created, item) for created, item in fresh]
        return PollResult(
            events=events,
            cursors=backfill_cursors(_next_after(body) if fresh else None),
        )

    def _poll_sources(self):
        page, instagram = self.page_id, self.instagram_account_id
        conversations = _path(page, "conversations")
        sources = [
            PollSource(
                cursor="feed",
                path=_path(page, "feed"),
                params={"fields": FEED_FIELDS},
                obj=OBJECT_PAGE,
                owner_id=page,
                field="feed",
                read=_polled_feed_values,
            ),
            PollSource(
                cursor="messenger",
                path=conversations,
                params={"platform": "messenger", "fields": CONVERSATION_FIELDS},
                obj=OBJECT_PAGE,
                owner_id=page,
                field=None,
                read=partial(_polled_messaging_items, own_id=page),
            ),
        ]
        if instagram:
            sources.append(
                PollSource(
                    cursor="instagram_comments",
                    path=_path(instagram, "media"),
                    params={"fields": MEDIA_FIELDS},
                    obj=OBJECT_INSTAGRAM,
                    owner_id=instagram,
                    field="comments",
                    read=_polled_instagram_comments,
                )
            )
            sources.append(
                PollSource(
                    cursor="instagram_dm",
                    path=conversations,
                    params={"platform": "instagram", "fields": CONVERSATION_FIELDS},
                    obj=OBJECT_INSTAGRAM,
                    owner_id=instagram,
                    field=None,
                    read=partial(_polled_messaging_items, own_id=instagram),
                )
            )
        return sources

    # -- replies ----------------------------------------------------------
    def max_length(self, kind, message=None):
        """Without ``message``, the strictest limit of this account's channels."""
        if message is not None:
            return REPLY_LIMITS.get((message.channel, kind), 0)
        channels = [CHANNEL_FACEBOOK, CHANNEL_MESSENGER]
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

    def window_closes_at(self, message, kind, last_customer_at=None):
        """Public replies have no window. A private reply to a comment or post
        goes within 7 days of it; an answer to a DM within 24 hours of the
        customer's last message, 7 days with the Human Agent tag."""
        if kind == PUBLIC:
            return None
        if message.kind == PUBLIC:
            if message.created_at is None:
                return None
            return message.created_at + PRIVATE_REPLY_WINDOW
        since = last_customer_at or message.created_at
        if since is None:
            return None
        return since + (
            HUMAN_AGENT_WINDOW if self.human_agent_tag else MESSAGING_WINDOW
        )

    def check_reply(self, message, kind, now, last_customer_at=None):
        if kind not in (PUBLIC, PRIVATE):
            raise ValueError(f"Unknown reply kind {kind!r}.")
        if kind == PUBLIC and message.kind == PRIVATE:
            raise ReplyNotAllowed(
                "A direct message can only be answered privately.",
                alternative=PRIVATE,
            )
        closes_at = self.window_closes_at(message, kind, last_customer_at)
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
        if self.human_agent_tag:
            reason = (
                "Meta accepts Human Agent replies only within 7 days of the "
                f"customer's last message; {closed}."
            )
        else:
            reason = (
                "Meta accepts replies only within 24 hours of the customer's "
                f"last message; {closed}. The Human Agent permission extends "
                "this to 7 days."
            )
        raise WindowClosed(reason, closed_at=closes_at)

    def send_reply(self, message, text, kind, idempotency_key, last_customer_at=None):
        """The Graph API takes no idempotency key: after a timeout,
        :meth:`find_sent` looks for the reply by its text instead."""
        now = self.clock()
        self.check_reply(message, kind, now, last_customer_at)
        limit = self.max_length(kind, message)
        if self.text_length(text, message, kind) > limit:
            raise ReplyNotAllowed(f"Meta accepts at most {limit} characters here.")
        if kind == PUBLIC:
            return self._reply_publicly(message, text)
        if message.kind == PUBLIC:
            return self._reply_privately_to_comment(message, text)
        since = last_customer_at or message.created_at
        if since is None or now < since + MESSAGING_WINDOW:
            routing = {"messaging_type": "RESPONSE"}
        else:  # past 24 hours, check_reply only lets Human Agent replies by
            routing = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        answer = self._post(
            _path(self.page_id, "messages"),
            json_body={
                "recipient": {"id": message.conversation_id},
                "message": {"text": text},
                **routing,
            },
        )
        return SentMessage(_answer_id(answer, "message_id"))

    def _reply_publicly(self, message, text):
        if message.channel == CHANNEL_INSTAGRAM:
            # Instagram threads are one level deep: answer the top comment.
            target = message.parent_id or message.message_id
            answer = self._post(_path(target, "replies"), data={"message": text})
            return SentMessage(_answer_id(answer, "id"))
        answer = self._post(
            _path(message.message_id, "comments"), data={"message": text}
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
            _path(self.page_id, "messages"),
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
        if message.channel == CHANNEL_INSTAGRAM:
            platform, own_id = "instagram", self.instagram_account_id
        else:
            platform, own_id = "messenger", self.page_id
        params = {
            "platform": platform,
            "user_id": message.conversation_id,
            "fields": "messages.limit(20){id,message,from,created_time}",
        }
        conversations = _data(self._get(_path(self.page_id, "conversations"), params))
        for conversation in conversations:
            for sent in _data(conversation.get("messages")):
                if _sent_by(sent, own_id, "message", text, "created_time", since):
                    return SentMessage(str(sent["id"]))
        return None

    # -- rate limits ------------------------------------------------------
    def should_slow_down(self):
        """True once Meta reports a quota used at SLOW_DOWN_AT percent."""
        return (self.last_usage or 0) >= SLOW_DOWN_AT

    def _record_usage(self, headers):
        """Keep the highest percentage and wait of the usage headers. A
        response without them leaves the last reading in place."""
        reports = [
            report
            for name in ("X-App-Usage", "X-Page-Usage")
            if isinstance(report := _json_header(headers.get(name)), dict)
        ]
        business = _json_header(headers.get("X-Business-Use-Case-Usage"))
        for entries in _dict_or_empty(business).values():
            if isinstance(entries, list):
                reports += [entry for entry in entries if isinstance(entry, dict)]
        if not reports:
            return
        self.last_usage = max(
            _number(report.get(key))
            for report in reports
            for key in ("call_count", "total_time", "total_cputime")
        )
        self.regain_access_minutes = max(
            _number(report.get("estimated_time_to_regain_access")) for report in reports
        )

    # -- HTTP -------------------------------------------------------------
    def _token(self):
        token = self.config.get("page_access_token")
        if not token:
            raise AuthError("The page access token is missing; connect the page.")
        return token

    def _get(self, path, params=None):
        return self._call("GET", path, params=params)

    def _post(self, path, data=None, json_body=None):
        return self._call("POST", path, data=data, json_body=json_body)

    def _call(self, method, path, params=None, data=None, json_body=None, token=None):
        """One Graph call. The token (the page's unless ``token`` is given)
        goes in the Authorization header, not in the URL that ends up in
        logs, with the appsecret_proof Meta asks of server calls when the app
        secret is known."""
        token = token or self._token()
        query = dict(params or {})
        if self.config.get("app_secret"):
            proof = hmac_sha256(self.config["app_secret"], token).hex()
            query["appsecret_proof"] = proof
        try:
            response = self.session.request(
                method,
                f"{self.graph_url}/{path}",
                params=query,
                data=data,
                json=json_body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise TransientError(
                f"Meta did not answer within {self.timeout} seconds."
            ) from exc
        except requests.RequestException as exc:
            # Its text may quote the URL with its query: keep that out.
            raise TransientError(
                f"Could not reach Meta ({type(exc).__name__})."
            ) from exc
        self._record_usage(response.headers)
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            exc = self._graph_error(error, status)
            exc.graph_code = _number(error.get("code"))
            raise exc
        if status >= 500:
            raise TransientError(f"Meta answered HTTP {status}; try again later.")
        if status >= 400 or not isinstance(body, dict):
            raise AdapterError(f"Meta answered HTTP {status} with no usable body.")
        return body

    def _graph_error(self, error, status):
        """The typed error a Graph error object calls for."""
        code = _number(error.get("code"))
        subcode = _number(error.get("error_subcode"))
        detail = (
            _text(error.get("error_user_msg"))
            or _text(error.get("message"))
            or "unknown error"
        )
        if code in THROTTLING_CODES:
            wait = DEFAULT_THROTTLE_WAIT
            if self.regain_access_minutes:
                wait = timedelta(minutes=self.regain_access_minutes)
            return RateLimited(
                f"Meta is throttling this app: {detail}",
                reset_at=self.clock() + wait,
            )
        if code in EXPIRED_TOKEN_CODES:
            return AuthError(EXPIRED_TOKEN_MESSAGE)
        if subcode in OUTSIDE_WINDOW_SUBCODES:
            return WindowClosed(f"The messaging window is closed: {detail}")
        if code == ALREADY_REPLIED_CODE:
            return ReplyNotAllowed(
                "This comment already had its one private reply; answer publicly.",
                alternative=PUBLIC,
            )
        if code in CANNOT_REPLY_CODES:
            return ReplyNotAllowed(f"Meta refused the reply: {detail}")
        if code in PERMISSION_CODES:
            permission = PERMISSION_NAME.search(detail)
            if permission:
                return AuthError(
                    f"The page has not granted the {permission.group(0)} "
                    "permission; reconnect it and accept every permission asked."
                )
            return AuthError(f"Meta refused the request for lack of rights: {detail}")
        if code in TEMPORARY_CODES or status >= 500 or error.get("is_transient"):
            return TransientError(f"Meta had a temporary problem: {detail}")
        return AdapterError(f"Meta refused the request: {detail}")


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


# -- polled nodes rewritten as webhook items ---------------------------------
def _polled_feed_values(post):
    """(epoch, feed webhook value) for a post of /feed and each comment on it."""
    if not _is_identifier(post.get("id")):
        return
    post_id = str(post["id"])
    nodes = [(post, {"item": "post", "post_id": post_id})]
    for comment in _data(post.get("comments")):
        if _is_identifier(comment.get("id")):
            parent_id = _dict_or_empty(comment.get("parent")).get("id") or post_id
            value = {
                "item": "comment",
                "comment_id": str(comment["id"]),
                "post_id": post_id,
                "parent_id": str(parent_id),
            }
            nodes.append((comment, value))
    for node, value in nodes:
        created = _graph_time(node.get("created_time"))
        if created is None:
            continue
        value.update(
            verb="add", message=_text(node.get("message")), created_time=created
        )
        if isinstance(node.get("from"), dict):
            value["from"] = node["from"]
        yield created, value


def _polled_messaging_items(conversation, own_id):
    """(epoch, messaging webhook item) for the messages of a conversation."""
    for message in _data(conversation.get("messages")):
        created = _graph_time(message.get("created_time"))
        sender = _dict_or_empty(message.get("from"))
        ids = (message.get("id"), sender.get("id"))
        if created is None or not all(map(_is_identifier, ids)):
            continue
        author = {"id": str(sender["id"])}
        author.update(
            (key, sender[key]) for key in ("name", "username") if key in sender
        )
        body = {"mid": str(message["id"]), "text": _text(message.get("message"))}
        recipient_id = own_id
        if author["id"] == own_id:
            body["is_echo"] = True
            recipients = _data(message.get("to"))
            recipient_id = str(recipients[0].get("id") or "") if recipients else ""
        attachments = _polled_attachments(message.get("attachments"))
        if attachments:
            body["attachments"] = attachments
        item = {
            "sender": author,
            "recipient": {"id": recipient_id},
            "timestamp": created * 1000,
            "message": body,
        }
        yield created, item


def _polled_attachments(collection):
    """Conversation attachments in the webhook's {type, payload.url} form."""
    attachments = []
    for node in _data(collection):
        urls = [
            ("image", _dict_or_empty(node.get("image_data")).get("url")),
            ("video", _dict_or_empty(node.get("video_data")).get("url")),
            ("file", node.get("file_url")),
        ]
        for kind, url in urls:
            if isinstance(url, str):
                attachments.append({"type": kind, "payload": {"url": url}})
                break
    return attachments


def _polled_instagram_comments(media):
    """(epoch, comments webhook value) for each comment and reply of a media."""
    if not _is_identifier(media.get("id")):
        return
    media_ref = {"id": str(media["id"])}
    if isinstance(media.get("media_product_type"), str):
        media_ref["media_product_type"] = media["media_product_type"]
    for comment in _data(media.get("comments")):
        for node in [comment, *_data(comment.get("replies"))]:
            created = _graph_time(node.get("timestamp"))
            if created is None or not _is_identifier(node.get("id")):
                continue
            sender = _dict_or_empty(node.get("from"))
            value = {
                "id": str(node["id"]),
                "text": _text(node.get("text")),
                "from": {
                    "id": str(sender.get("id") or ""),
                    "username": node.get("username") or sender.get("username") or "",
                },
                "media": media_ref,
            }
            parent_id = node.get("parent_id") or (
                None if node is comment else comment.get("id")
            )
            if parent_id:
                value["parent_id"] = str(parent_id)
            yield created, value


def _fresh(source, nodes, since):
    """(epoch, item) of the nodes' items created at or after ``since``."""
    return [
        (created, item)
        for node in nodes
        for created, item in source.read(node)
        if created >= since
    ]


def _next_after(body):
    """The ``after`` cursor of a Graph page that has a next page, else None."""
    paging = _dict_or_empty(body.get("paging"))
    after = _dict_or_empty(paging.get("cursors")).get("after")
    if paging.get("next") and after:
        return str(after)
    return None


# -- readers ------------------------------------------------------------------
def _expect_dict(value, what):
    if not isinstance(value, dict):
        raise MalformedPayload(f"Expected an object for {what}.")
    return value


def _expect_list(value, what):
    if not isinstance(value, list):
        raise MalformedPayload(f"Expected a list for {what}.")
    return value


def _dict_or_empty(value):
    return value if isinstance(value, dict) else {}


def _object(value):
    if value not in (OBJECT_PAGE, OBJECT_INSTAGRAM):
        raise MalformedPayload(f"Unexpected object {value!r}: not page or instagram.")
    return value


def _is_identifier(value):
    """Graph ids are strings, sometimes sent as numbers; never booleans."""
    if isinstance(value, str):
        return 0 < len(value) <= 512
    return isinstance(value, int) and not isinstance(value, bool)


def _identifier(value, what):
    if not _is_identifier(value):
        raise MalformedPayload(f"Missing or invalid {what}.")
    return str(value)


def _optional_identifier(value):
    return str(value) if _is_identifier(value) else ""


def _text(value):
    return value if isinstance(value, str) else ""


def _strings(value):
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _number(value):
    """A JSON number, anything else as 0."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return 0


def _number_or_none(value, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedPayload(f"{what} is not a number.")
    if not math.isfinite(value):
        raise MalformedPayload(f"{what} is not a finite number.")
    return value


def _timestamp(value):
    """Webhook times are epoch seconds, messaging ones milliseconds."""
    if isinstance(value, str):
        value = _graph_time(value)
    value = _number_or_none(value, "A time")
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(
            value / 1000 if value > 1e11 else value, tz=timezone.utc
        )
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedPayload(f"Time out of range: {value!r}.") from exc


def _graph_time(value):
    """Epoch seconds of a Graph time such as 2025-03-22T18:20:04+0000."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.strptime(value, GRAPH_TIME_FORMAT).timestamp())
    except (ValueError, OverflowError):
        return None


def _cursor(value, default):
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _data(body):
    """The objects of a Graph ``{"data": [...]}`` collection."""
    data = _dict_or_empty(body).get("data")
    if not isinstance(data, list):
        return []
    return [node for node in data if isinstance(node, dict)]


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


def _json_header(value):
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _path(*parts):
    """Quote each part: ids come from payloads and must not reshape the path."""
    return "/".join(quote(str(part), safe="") for part in parts)


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
    """Attachments that have a URL; a fallback without payload is dropped."""
    attachments = []
    for node in raw if isinstance(raw, list) else ():
        node = _dict_or_empty(node)
        url = _text(_dict_or_empty(node.get("payload")).get("url"))
        if url:
            kind = ATTACHMENT_KINDS.get(_text(node.get("type")), "link")
            attachments.append(Attachment(url=url, kind=kind))
    return tuple(attachments)
