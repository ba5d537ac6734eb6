"""X (formerly Twitter): API v2 through tweepy, and two webhook products.

Posts and direct messages reach the helpdesk three ways:

* polling ``GET /2/users/{id}/mentions`` and ``GET /2/dm_events`` (v2 objects);
* X Activity API webhooks, ``{"data": {"event_type", "payload", "includes"}}``;
* legacy Account Activity API webhooks, ``for_user_id`` with
  ``tweet_create_events`` and ``direct_message_events`` (v1.1 objects).

One X app's webhook delivers the events of every account subscribed to it;
each event's ``recipient_id`` is the user it is for (the XAA event's
``filter.user_id``, the AAA delivery's ``for_user_id``).

Each item becomes one :class:`InboundEvent` whose id is ``tweet:<id>``,
``dm:<id>`` or ``tweet_delete:<id>`` whichever way it came, so a post seen by
polling and by a webhook is stored once. Its payload is self-contained (the
item plus the users and media it refers to) and names its shape in
``payload["source"]``, which :meth:`XAdapter.parse_event` dispatches on.
"""

import base64
import hashlib
import json
import re
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import cached_property
from urllib.parse import quote

import requests
import tweepy

from .base import (
    PRIVATE,
    PUBLIC,
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
    aware_utc,
    backfill_cursors,
    handshake_token,
    hmac_sha256,
    sent_since,
    signatures_match,
)

CHANNEL = "x"
WEB_URL = "https://x.com"
# tweepy.Client hard-codes this host; _XSession routes requests to it.
TWEEPY_HOST = "https://api.twitter.com"
DEFAULT_TIMEOUT = 15

PUBLIC_MAX_LENGTH = 280
PRIVATE_MAX_LENGTH = 10000

PAGE_SIZE = 100
# X stops paging by itself (800 mentions, 30 days of DMs); this only guards
# against a server that keeps handing out next_token.
MAX_PAGES = 50
# How many of the account's latest posts or DMs find_sent looks through.
FIND_SENT_WINDOW = 20
FINDING_SENT = "looking for the sent reply"

TWEET_FIELDS = [
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "created_at",
    "lang",
    "public_metrics",
    "author_id",
    "entities",
    "attachments",
    "note_tweet",
]
TWEET_EXPANSIONS = ["author_id", "attachments.media_keys"]
DM_EVENT_FIELDS = [
    "id",
    "text",
    "event_type",
    "created_at",
    "sender_id",
    "dm_conversation_id",
    "participant_ids",
    "attachments",
    "entities",
]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys"]
USER_FIELDS = ["username", "name", "public_metrics"]
MEDIA_FIELDS = ["type", "url", "preview_image_url"]

# Values of payload["source"]: the shape of a stored event.
SOURCE_V2_TWEET = "x_v2_tweet"
SOURCE_V2_DM = "x_v2_dm_event"
SOURCE_V1_TWEET = "x_v1_tweet"
SOURCE_V1_DM = "x_v1_dm_event"
SOURCE_DELETE = "x_tweet_delete"
SOURCE_OTHER = "x_other"

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

NO_CREDENTIALS = (
    "The X account has no credentials: set the OAuth 1.0a access token "
    "and secret, an OAuth 2.0 user token or a bearer token."
)

# -- onboarding ---------------------------------------------------------------
# Credential kinds, as test_connection reports them.
OAUTH1 = "oauth1"
OAUTH2_USER = "oauth2_user"
APP_ONLY = "app_only"

# What the helpdesk's features need, named after X's OAuth 2.0 scopes:
# reading mentions, replying, reading and answering direct messages.
TWEET_READ = "tweet.read"
TWEET_WRITE = "tweet.write"
DM_READ = "dm.read"
DM_WRITE = "dm.write"
FEATURE_SCOPES = (TWEET_READ, TWEET_WRITE, DM_READ, DM_WRITE)
# X reports an OAuth 1.0a token's permission in the x-access-level header of
# every answer made with it; these are its documented values.
ACCESS_LEVEL_HEADER = "x-access-level"
ACCESS_LEVEL_SCOPES = {
    "read": (TWEET_READ,),
    "read-write": (TWEET_READ, TWEET_WRITE),
    "read-write-directmessages": FEATURE_SCOPES,
}
ACCESS_LEVEL_NAMES = {
    "read": "Read",
    "read-write": "Read and write",
    "read-write-directmessages": "Read and write and Direct message",
}

# Backfill sources.
SOURCE_MENTIONS = "mentions"
SOURCE_DMS = "dms"
# GET /2/users/:id/mentions reaches back 800 posts at most, and
# GET /2/dm_events 30 days; GET /2/tweets/counts/recent counts 7 days.
MENTIONS_LIMIT = 800
COUNTS_WINDOW = timedelta(days=7)
# X refuses a start_time out of its window by the time the call arrives.
COUNTS_MARGIN = timedelta(minutes=1)
# Direct messages cannot be counted in advance: a page is assumed.
DM_ESTIMATE = PAGE_SIZE

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

# Self-serve apps may only reply to posts whose author summoned the account;
# X answers 403 with this detail otherwise.
REPLY_RESTRICTION_MARKERS = (
    "reply to this conversation is not allowed",
    "not been mentioned or otherwise engaged",
)
REPLY_RESTRICTED_MESSAGE = (
    "X does not let this account reply publicly to this post: API replies are "
    "only allowed when the post's author mentioned or quoted the account. "
    "Answer with a direct message instead."
)

MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "video"}

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


# A poll's ``reads`` count resources by X price category: ``owned_post``
# (posts from the account's own mentions timeline, priced as Owned Reads when
# the account owns the developer app), ``dm_event`` and ``user`` (users
# returned by expansions). X bills a resource once per UTC day, so
# ``resource_ids`` lists every resource read (``post:<id>``, ``dm_event:<id>``,
# ``user:<id>``) for the caller to deduplicate.


class _XSession(requests.Session):
    """tweepy's session, with the account's timeout on every request (tweepy
    sets none) and, when ``api_base_url`` is configured, tweepy's hard-coded
    host replaced before the request is prepared and signed."""

    def __init__(self, timeout, base_url=None):
        super().__init__()
        self.timeout = timeout
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        kwargs["timeout"] = self.timeout
        if self.base_url and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        return super().request(method, url, *args, **kwargs)


class XAdapter(NetworkAdapter):
    """The X network.

    Config keys: ``user_id`` and ``username`` of the connected account;
    ``api_key`` and ``api_secret`` (the app's consumer key and secret; the
    secret also signs webhooks and CRC answers); ``access_token`` and
    ``access_token_secret`` (OAuth 1.0a user context, preferred), or
    ``oauth2_user_token`` (OAuth 2.0 user context), or ``bearer_token``
    (app-only: reads mentions, cannot read DMs nor reply); ``api_base_url``
    to reach X through a proxy or a fake server; ``timeout`` in seconds
    (default 15).
    """

    network = "x"
    signature_header = SIGNATURE_HEADER
    signing_secret_setting = "api_secret"
    recipient_id_settings = ("user_id",)

    # -- connection -------------------------------------------------------
    def test_connection(self):
        """Check the credentials and what they may do.

        Returns the account's ``user_id``, ``username`` and ``name`` as X
        knows them, ``label`` ("@handle"), ``credentials`` (oauth1,
        oauth2_user or app_only), ``granted`` and ``missing`` among
        tweet.read, tweet.write (replies), dm.read and dm.write (DMs),
        ``required`` (those four), ``scopes_known``, ``access_level`` and a
        plain-words ``detail``.

        X has no scope introspection for user tokens, but answers made with
        OAuth 1.0a carry the token's permission in ``x-access-level``. An
        OAuth 2.0 user token's scopes are not reported at all: they are left
        unknown (``scopes_known`` False) rather than guessed. An app-only
        bearer token can read public posts only; /2/users/me refuses it, so
        the account is looked up by its configured username instead.
        """
        action = "checking the connection"
        kind = self._credentials_kind
        params = {"user.fields": "username,name"}
        if kind == APP_ONLY:
            username = str(self.config.get("username") or "").lstrip("@")
            if not username:
                raise AdapterError(
                    "With only an app bearer token, X cannot tell which account "
                    "to follow: enter the account's username, or connect it with "
                    "its user access token and secret."
                )
            route = f"/2/users/by/username/{quote(username, safe='')}"
            body, headers = self._raw(action, "GET", route, params=params)
        else:
            body, headers = self._raw(action, "GET", "/2/users/me", params=params)
        with _expect_shape("X's answer"):
            me = _data(body, action)
            info = {"user_id": me["id"], "username": me["username"], "name": me["name"]}
        info["label"] = f"@{info['username']}"
        info.update(_permissions(kind, headers.get(ACCESS_LEVEL_HEADER)))
        return info

    # -- webhook registration ----------------------------------------------
    def register_webhook(self, url):
        """Register ``url`` as the app's webhook and subscribe the account.

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
        subscribed = self._subscribe(webhook_id)
        if reused:
            done = f"The app's webhook for {url} was already registered with X"
        else:
            done = f"Registered {url} as the app's webhook with X"
        if subscribed:
            return f"{done}; {own} was already subscribed to it."
        return f"{done}, and subscribed {own} to it."

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

    # -- backfill ---------------------------------------------------------
    def backfill_sources(self):
        """Mentions, and direct messages with user-context credentials."""
        if self._has_user_context:
            return (SOURCE_MENTIONS, SOURCE_DMS)
        return (SOURCE_MENTIONS,)

    def backfill(self, source, since, cursor=None):
        """One page of mentions (``GET /2/users/:id/mentions`` from
        ``start_time``) or of DMs (``GET /2/dm_events``, newest first, up to
        the first one older than ``since``).

        X serves only the 800 most recent mentions and 30 days of DMs,
        whatever ``since`` says. Events carry the ids of polling and
        webhooks; ``reads`` counts what X bills, as :meth:`poll` does.
        """
        since = aware_utc(since)
        if source not in (SOURCE_MENTIONS, SOURCE_DMS):
            raise ValueError(f"X has no backfill source {source!r}.")
        if source not in self.backfill_sources():
            raise NotSupported(
                "With only an app bearer token, X does not give access to direct "
                "messages: connect the account with its user access token."
            )
        reads = _new_reads()
        with _reporting_reads(reads), _expect_shape("X's answer"):
            if source == SOURCE_MENTIONS:
                found, next_token = self._backfill_mentions(since, cursor, reads)
            else:
                found, next_token = self._backfill_dms(since, cursor, reads)
        found.sort(key=lambda pair: pair[0])
        return PollResult(
            events=[event for _, event in found],
            cursors=backfill_cursors(next_token),
            reads=reads,
        )

    def _mentions_params(self):
        """The account's mentions, with the fields and expansions we parse."""
        return {
            "id": self._own_id,
            "max_results": PAGE_SIZE,
            "tweet_fields": TWEET_FIELDS,
            "expansions": TWEET_EXPANSIONS,
            "user_fields": USER_FIELDS,
            "media_fields": MEDIA_FIELDS,
        }

    def _backfill_mentions(self, since, cursor, reads):
        params = dict(self._mentions_params(), start_time=_x_time(since))
        if cursor:
            params["pagination_token"] = cursor
        page = self._call(
            "importing mentions", self._client.get_users_mentions, **params
        )
        includes = page.get("includes") or {}
        _count_users(reads, includes)
        found = []
        for tweet in page.get("data") or []:
            _count(reads, "owned_post", "post", tweet["id"])
            found.append(
                (int(tweet["id"]), _tweet_event(tweet, includes, self._own_id))
            )
        return found, (page.get("meta") or {}).get("next_token")

    def _backfill_dms(self, since, cursor, reads):
        params = _dm_params()
        if cursor:
            params["pagination_token"] = cursor
        page = self._call(
            "importing direct messages",
            self._client.get_direct_message_events,
            **params,
        )
        includes = page.get("includes") or {}
        _count_users(reads, includes)
        found, reached_since = [], False
        for dm in page.get("data") or []:
            _count(reads, "dm_event", "dm_event", dm["id"])
            created_at = _iso_datetime(dm.get("created_at"))
            if created_at is not None and created_at < since:
                reached_since = True
                continue
            found.append((int(dm["id"]), _v2_dm_event(dm, includes, self._own_id)))
        next_token = (page.get("meta") or {}).get("next_token")
        return found, None if reached_since else next_token

    def estimate_backfill(self, since):
        """Reads a backfill from ``since`` would cost, by price category.

        Mentions are counted with ``GET /2/tweets/counts/recent`` (query
        ``@username``, app bearer token, last 7 days): ``exact`` is True when
        X counted them and there are no DMs to import. When X refuses to
        count (lower tiers answer 401/403), ``since`` is older than 7 days or
        no app token is at hand, the upper bound is used: the 800 mentions X
        serves at most. DMs cannot be counted in advance: one page (100) is
        assumed. ``user`` reads are an upper bound (one author per item).
        ``detail`` says in plain words how the numbers were obtained.
        """
        since = aware_utc(since)
        counted, detail = self._count_mentions(since)
        if counted is None:
            mentions, exact = MENTIONS_LIMIT, False
        else:
            mentions, exact = min(counted, MENTIONS_LIMIT), True
            detail = f"X counted {counted} mentions since {since:%Y-%m-%d %H:%M} UTC."
            if counted > MENTIONS_LIMIT:
                detail += f" X serves only the latest {MENTIONS_LIMIT} of them."
        dms = 0
        if SOURCE_DMS in self.backfill_sources():
            dms, exact = DM_ESTIMATE, False
            detail += (
                f" Direct messages cannot be counted in advance: {dms} (one page) "
                "are assumed."
            )
        reads = {"owned_post": mentions, "dm_event": dms, "user": mentions + dms}
        return {"reads": reads, "exact": exact, "detail": detail}

    def _count_mentions(self, since):
        """(count, "") from X's counts, or (None, why not) for the fallback."""
        fallback = f"At most {MENTIONS_LIMIT} mentions are assumed (the most X serves)"
        if since < _now() - COUNTS_WINDOW + COUNTS_MARGIN:
            return None, f"{fallback}: X counts only the last 7 days."
        username = str(self.config.get("username") or "").lstrip("@")
        if not username:
            return None, f"{fallback}: the account's username is not known yet."
        params = {
            "query": f"@{username}",
            "start_time": _x_time(since),
            "granularity": "day",
        }
        try:
            body = self._app_call(
                "counting mentions",
                "GET",
                "/2/tweets/counts/recent",
                params=params,
            )
        except NotSupported:
            return None, (
                f"{fallback}: there is no app bearer token, nor API key and "
                "secret, to count them with."
            )
        except RateLimited:
            return None, f"{fallback}: X's limit on counting is reached for now."
        except TransientError:
            return None, f"{fallback}: X could not be reached to count them."
        except AdapterError:
            return None, (
                f"{fallback}: X does not let this app count posts (its plan or "
                "its credentials)."
            )
        with _expect_shape("X's answer"):
            total = (body.get("meta") or {}).get("total_tweet_count")
            if total is None:
                total = sum(int(b["tweet_count"]) for b in body.get("data") or [])
            return int(total), ""

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

    # -- parsing ----------------------------------------------------------
    def parse_event(self, payload):
        with _expect_shape("The stored X event"):
            parser = PARSERS.get(payload.get("source"))
            if parser is None:
                raise MalformedPayload("The stored X event has no known source marker.")
            own_id = self.config.get("user_id") or payload.get("for_user_id")
            return parser(payload, str(own_id) if own_id else None)

    # -- polling ----------------------------------------------------------
    def poll(self, cursors, start=None):
        """Fetch mentions after ``mentions_since_id`` and, with user-context
        credentials, DMs newer than ``dm_newest_id``; events come oldest
        first and the returned cursors point past the newest. Without a
        cursor, nothing created before ``start`` is taken. An error carries
        the reads of the pages fetched before it."""
        reads = _new_reads()
        cursors = dict(cursors)
        with _reporting_reads(reads), _expect_shape("X's answer"):
            found = self._poll_mentions(cursors, reads, start)
            if self._has_user_context:
                found += self._poll_dms(cursors, reads, start)
        found.sort(key=lambda pair: pair[0])
        return PollResult(
            events=[event for _, event in found], cursors=cursors, reads=reads
        )

    def _poll_mentions(self, cursors, reads, start):
        """Mentions newer than the cursor; X filters them with since_id, or
        with start_time (inclusive) until the first one arrives."""
        since_id = cursors.get("mentions_since_id")
        params = self._mentions_params()
        if since_id:
            params["since_id"] = since_id
        elif start is not None:
            params["start_time"] = _x_time(start)
        found = []
        for page in self._pages(
            "reading mentions", self._client.get_users_mentions, params
        ):
            includes = page.get("includes") or {}
            _count_users(reads, includes)
            for tweet in page.get("data") or []:
                _count(reads, "owned_post", "post", tweet["id"])
                found.append(
                    (int(tweet["id"]), _tweet_event(tweet, includes, self._own_id))
                )
                since_id = _newest(since_id, tweet["id"])
        if since_id:
            cursors["mentions_since_id"] = since_id
        return found

    def _poll_dms(self, cursors, reads, start):
        """DM events newer than the cursor. The endpoint has neither since_id
        nor start_time: pages come newest first, so paging stops at the first
        seen event, or without a cursor at the first one older than
        ``start``, which then becomes the cursor. Until a cursor exists the
        first page is a single event, so that an account with only older
        DMs reads one of them, not a page."""
        newest_seen = cursors.get("dm_newest_id")
        params = _dm_params()
        probe = not newest_seen and start is not None
        newest, found = newest_seen, []
        pages = self._pages(
            "reading direct messages",
            self._client.get_direct_message_events,
            params,
            first_page_size=1 if probe else None,
        )
        for page in pages:
            includes = page.get("includes") or {}
            _count_users(reads, includes)
            reached_seen = False
            for dm in page.get("data") or []:
                _count(reads, "dm_event", "dm_event", dm["id"])
                if newest_seen and int(dm["id"]) <= int(newest_seen):
                    reached_seen = True
                    continue
                created_at = _iso_datetime(dm.get("created_at"))
                if probe and created_at is not None and created_at < start:
                    reached_seen = True
                    newest = _newest(newest, dm["id"])
                    continue
                found.append((int(dm["id"]), _v2_dm_event(dm, includes, self._own_id)))
                newest = _newest(newest, dm["id"])
            if reached_seen:
                break
        if newest:
            cursors["dm_newest_id"] = newest
        return found

    def _pages(self, action, method, params, first_page_size=None):
        """Yield the pages of a paginated v2 endpoint, following next_token;
        the first page holds ``first_page_size`` items when given."""
        params = dict(params)
        page_size = params.get("max_results")
        if first_page_size:
            params["max_results"] = first_page_size
        for _ in range(MAX_PAGES):
            page = self._call(action, method, **params)
            yield page
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                return
            params.update(pagination_token=next_token, max_results=page_size)

    # -- replies ----------------------------------------------------------
    def max_length(self, kind, message=None):
        return PUBLIC_MAX_LENGTH if kind == PUBLIC else PRIVATE_MAX_LENGTH

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

    def send_reply(self, message, text, kind, idempotency_key, last_customer_at=None):
        """Reply on the thread (PUBLIC) or by DM to the author (PRIVATE).

        X has no idempotency header, so ``idempotency_key`` is not sent;
        :meth:`find_sent` recognises an earlier attempt by its target and text.
        """
        if kind == PUBLIC:
            action = "posting the reply"
            response = self._call(
                action,
                self._client.create_tweet,
                text=text,
                in_reply_to_tweet_id=message.message_id,
            )
            with _expect_shape("X's answer"):
                post_id = _id(_data(response, action)["id"])
                return SentMessage(post_id, self._post_url(post_id))
        action = "sending the direct message"
        response = self._call(
            action,
            self._client.create_direct_message,
            participant_id=message.author.external_id,
            text=text,
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

    # -- API access -------------------------------------------------------
    @cached_property
    def _client(self):
        config = self.config
        bearer_token = config.get("oauth2_user_token") or config.get("bearer_token")
        if not (self._uses_oauth1 or bearer_token):
            raise AuthError(NO_CREDENTIALS)
        client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=config.get("api_key"),
            consumer_secret=config.get("api_secret"),
            access_token=config.get("access_token"),
            access_token_secret=config.get("access_token_secret"),
            return_type=dict,
            wait_on_rate_limit=False,
        )
        client.session = self._session()
        return client

    def _session(self):
        return _XSession(
            self._timeout, (self.config.get("api_base_url") or "").rstrip("/")
        )

    @cached_property
    def _app_client(self):
        """A client authenticated as the app alone (OAuth 2.0 bearer token),
        as X's webhook management and counts endpoints require."""
        client = tweepy.Client(
            bearer_token=self._app_bearer_token,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        client.session = self._session()
        return client

    @cached_property
    def _app_bearer_token(self):
        """The configured app bearer token, or one obtained from the API key
        and secret (``POST /oauth2/token``, client credentials grant)."""
        token = self.config.get("bearer_token")
        if token:
            return token
        key, secret = self.config.get("api_key"), self.config.get("api_secret")
        if not (key and secret):
            raise NotSupported(
                "This needs the X app's bearer token, or its API key and secret: "
                "add them to the account, or do it in the X developer portal."
            )
        action = "getting the app's bearer token"
        try:
            response = self._session().post(
                f"{TWEEPY_HOST}/oauth2/token",
                auth=(key, secret),
                data={"grant_type": "client_credentials"},
            )
        except requests.Timeout as exc:
            raise TransientError(
                f"X did not answer within {self._timeout:g} s while {action}."
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(
                f"Could not reach X while {action} ({type(exc).__name__})."
            ) from exc
        if response.status_code in (401, 403):
            raise AuthError(
                f"X refused the app's API key and secret while {action} "
                f"({response.status_code}). Check them in the X developer portal."
            )
        if response.status_code >= 500:
            raise TransientError(f"X failed while {action} ({response.status_code}).")
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"X answered {response.status_code} without a token while {action}."
            ) from exc
        return token

    @property
    def _credentials_kind(self):
        if self._uses_oauth1:
            return OAUTH1
        if self.config.get("oauth2_user_token"):
            return OAUTH2_USER
        if self.config.get("bearer_token"):
            return APP_ONLY
        raise AuthError(NO_CREDENTIALS)

    @property
    def _handle(self):
        username = str(self.config.get("username") or "").lstrip("@")
        return f"@{username}" if username else "the account"

    @property
    def _uses_oauth1(self):
        keys = ("api_key", "api_secret", "access_token", "access_token_secret")
        return all(self.config.get(key) for key in keys)

    @property
    def _has_user_context(self):
        return self._uses_oauth1 or bool(self.config.get("oauth2_user_token"))

    @property
    def _timeout(self):
        return float(self.config.get("timeout") or DEFAULT_TIMEOUT)

    @property
    def _own_id(self):
        user_id = self.config.get("user_id")
        if not user_id:
            raise AdapterError(
                "The X account has no user id: test the connection first."
            )
        return str(user_id)

    def _call(self, action, method, **params):
        """Run one tweepy call, turning its failures into typed errors."""
        return self._guard(action, method, user_auth=self._uses_oauth1, **params)

    def _raw(self, action, method, route, params=None, json=None, refine=None):
        """One call of ``route`` with the account's credentials: the JSON body
        and the headers of X's answer. ``refine(exc, problem)`` may return a
        more precise error for an HTTP refusal."""
        return self._raw_with(
            self._client, self._uses_oauth1, action, method, route, params, json, refine
        )

    def _app_call(self, action, method, route, params=None, json=None, refine=None):
        """One call with the app's bearer token (see :meth:`_raw`)."""
        body, _ = self._raw_with(
            self._app_client, False, action, method, route, params, json, refine
        )
        return body

    def _raw_with(self, client, user_auth, action, method, route, params, json, refine):
        try:
            response = self._guard(
                action,
                client.request,
                method,
                route,
                params=params,
                json=json,
                user_auth=user_auth,
            )
        except AdapterError as exc:
            cause = exc.__cause__
            if (
                refine
                and type(exc) is AdapterError
                and isinstance(cause, tweepy.HTTPException)
            ):
                better = refine(cause, _problem(cause))
                if better is not None:
                    raise better from cause
            raise
        with _expect_shape("X's answer"):
            body = response.json() if response.content else {}
            if not isinstance(body, dict):
                raise TypeError("not a JSON object")
        return body, response.headers

    def _guard(self, action, function, *args, **kwargs):
        """Run ``function``, turning tweepy's and requests' failures into
        typed errors."""
        try:
            return function(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            reset_at = None
            if exc.reset_time:
                reset_at = datetime.fromtimestamp(exc.reset_time, timezone.utc)
            when = f"until {reset_at:%Y-%m-%d %H:%M:%S} UTC" if reset_at else "for now"
            raise RateLimited(
                f"X rate limit reached while {action}; calls are refused {when}.",
                reset_at=reset_at,
            ) from exc
        except tweepy.Unauthorized as exc:
            raise AuthError(
                f"X rejected the account's credentials while {action} "
                f"({_problem(exc)}). Reconnect the account."
            ) from exc
        except tweepy.Forbidden as exc:
            problem = _problem(exc)
            if any(marker in problem.lower() for marker in REPLY_RESTRICTION_MARKERS):
                raise ReplyNotAllowed(
                    f"{REPLY_RESTRICTED_MESSAGE} (X said: {problem})",
                    alternative=PRIVATE,
                ) from exc
            raise AdapterError(f"X refused {action}: {problem}") from exc
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X failed while {action} ({_problem(exc)}).") from exc
        except tweepy.HTTPException as exc:
            raise AdapterError(f"X rejected {action}: {_problem(exc)}") from exc
        except requests.Timeout as exc:
            raise TransientError(
                f"X did not answer within {self._timeout:g} s while {action}."
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(f"Could not reach X while {action}: {exc}") from exc

    def _sign(self, data):
        secret = self.config.get("api_secret")
        if not secret:
            raise SignatureError(
                "The X account has no API secret to check webhooks with."
            )
        return "sha256=" + base64.b64encode(hmac_sha256(secret, data)).decode()

    def _post_url(self, post_id):
        return _post_url(self.config.get("username"), post_id)


# -- webhook and poll items -> events ----------------------------------------
def _event(event_id, payload):
    """An event addressed to its ``for_user_id``: the account that owns it."""
    user_id = payload["for_user_id"]
    return InboundEvent(
        event_id, payload, recipient_id=None if user_id is None else _id(user_id)
    )


def _dm_params():
    """One-to-one DM events with the fields and expansions we parse."""
    return {
        "max_results": PAGE_SIZE,
        "event_types": ["MessageCreate"],
        "dm_event_fields": DM_EVENT_FIELDS,
        "expansions": DM_EXPANSIONS,
        "user_fields": USER_FIELDS,
        "media_fields": MEDIA_FIELDS,
    }


def _tweet_event(tweet, includes, for_user_id, event_type=None):
    """A v2 post with the users and media it refers to."""
    post_id = _id(tweet["id"])
    user_ids = {tweet.get("author_id"), tweet.get("in_reply_to_user_id")} - {None}
    payload = {
        "source": SOURCE_V2_TWEET,
        "for_user_id": for_user_id,
        "tweet": tweet,
        "includes": {
            "users": [u for u in _users(includes) if u.get("id") in user_ids],
            "media": _attached_media(includes, tweet),
        },
    }
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
            attachments=_v2_attachments(includes),
            links=_links(entities),
            is_own=author.external_id == own_id,
            is_repost="retweeted" in references,
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
            attachments=_v2_attachments(includes),
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
            is_own=sender_id == own_id,
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
    SOURCE_OTHER: _parse_other,
}


# -- small helpers --------------------------------------------------------
@contextmanager
def _reporting_reads(reads):
    """Attach the reads made so far to an adapter error: X bills them even
    when a later call fails."""
    try:
        yield
    except AdapterError as exc:
        exc.reads = reads
        raise


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


def _items(container, key):
    items = container[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedPayload(f"{key} must be a list of objects.")
    return items


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
    )


def _links(entities):
    """Expanded links, without those X adds for attached media."""
    return tuple(
        url.get("expanded_url") or url["url"]
        for url in entities.get("urls") or []
        if not url.get("media_key")
    )


def _v2_attachments(includes):
    return tuple(
        Attachment(
            url=media.get("url") or media.get("preview_image_url") or "",
            kind=MEDIA_KINDS.get(media.get("type"), "file"),
        )
        for media in includes.get("media") or []
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
    return _comparable(published) == _comparable(sent)


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


def _newest(current, candidate):
    if current is None or int(candidate) > int(current):
        return _id(candidate)
    return current


def _new_reads():
    return {"owned_post": 0, "dm_event": 0, "user": 0, "resource_ids": []}


def _count(reads, category, resource, resource_id):
    reads[category] += 1
    reads["resource_ids"].append(f"{resource}:{resource_id}")


def _count_users(reads, includes):
    for user in _users(includes):
        _count(reads, "user", "user", user["id"])


def _data(response, action):
    """The ``data`` of a v2 answer; X may answer 200 with only ``errors``."""
    data = response.get("data")
    if data is None:
        problems = "; ".join(
            error.get("detail") or error.get("message") or str(error)
            for error in response.get("errors") or []
        )
        raise AdapterError(
            f"X returned no data while {action}: {problems or 'empty answer'}"
        )
    return data


def _problem(exc):
    """The status and X's own explanation from a tweepy HTTP error."""
    status = exc.response.status_code
    detail = "; ".join(str(message) for message in exc.api_messages)
    return f"{status} {detail or exc.response.reason}"


def _now():
    return datetime.now(timezone.utc)


def _x_time(moment):
    """X's query timestamps: YYYY-MM-DDTHH:mm:ssZ."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook_route(webhook):
    return f"/2/webhooks/{quote(_id(webhook['id']), safe='')}"


def _permissions(kind, access_level):
    """What test_connection reports of the credentials' permissions."""
    report = {
        "credentials": kind,
        "required": list(FEATURE_SCOPES),
        "access_level": access_level or "",
    }
    if kind == APP_ONLY:
        granted = [TWEET_READ]
        detail = (
            "An app bearer token reads public mentions only: it cannot reply nor "
            "read or answer direct messages."
        )
    elif kind == OAUTH1 and access_level in ACCESS_LEVEL_SCOPES:
        granted = list(ACCESS_LEVEL_SCOPES[access_level])
        detail = f'The access token has the "{ACCESS_LEVEL_NAMES[access_level]}" '
        if access_level == "read-write-directmessages":
            detail += "permission: every feature works."
        else:
            detail += (
                "permission. To answer every message, set the app's permissions to "
                '"Read and write and Direct message" in the X developer portal, '
                "then regenerate the access token and secret."
            )
    else:
        report.update(granted=[], missing=[], scopes_known=False)
        report["detail"] = (
            "X does not say what this token may do. Make sure it was granted the "
            "tweet.read, tweet.write, users.read, dm.read and dm.write scopes."
        )
        return report
    missing = [scope for scope in FEATURE_SCOPES if scope not in granted]
    report.update(granted=granted, missing=missing, scopes_known=True, detail=detail)
    return report


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
