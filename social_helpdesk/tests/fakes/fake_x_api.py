"""The endpoints of :class:`~.fake_x.FakeXServer`: X's routes, answers and
error shapes, field selection and pagination; no Odoo import.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

ME = "GET /2/users/me"
MENTIONS = "GET /2/users/:id/mentions"
USER_POSTS = "GET /2/users/:id/tweets"
CREATE_POST = "POST /2/tweets"
POST_LOOKUP = "GET /2/tweets/:id"
DM_EVENTS = "GET /2/dm_events"
CONVERSATION_DM_EVENTS = "GET /2/dm_conversations/with/:id/dm_events"
SEND_DM = "POST /2/dm_conversations/with/:id/messages"
USER_BY_USERNAME = "GET /2/users/by/username/:username"
WEBHOOKS = "GET /2/webhooks"
CREATE_WEBHOOK = "POST /2/webhooks"
VALIDATE_WEBHOOK = "PUT /2/webhooks/:id"
SUBSCRIPTION = "GET /2/account_activity/webhooks/:id/subscriptions/all"
SUBSCRIBE = "POST /2/account_activity/webhooks/:id/subscriptions/all"
COUNTS = "GET /2/tweets/counts/recent"
TOKEN = "POST /oauth2/token"
MEDIA_UPLOAD = "POST /2/media/upload"
MEDIA_CATEGORIES = ("tweet_image", "dm_image")

APP_ONLY_FORBIDDEN = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
    "endpoint.  Supported authentication types are [OAuth 1.0a User Context, "
    "OAuth 2.0 User Context]."
)
APP_ONLY_REQUIRED = (
    "Authenticating with {kind} is forbidden for this endpoint.  Supported "
    "authentication types are [OAuth 2.0 Application-Only]."
)
CLIENT_FORBIDDEN_DETAIL = (
    "When authenticating requests to the Twitter API v2 endpoints, you must use "
    "keys and tokens from a Twitter developer App that is attached to a Project "
    "with the appropriate level of API access."
)
DM_PERMISSION_DETAIL = (
    "Your client app is not configured with the appropriate oauth1 app "
    "permissions for this endpoint."
)
# What X serves at most: the latest 800 mentions, 30 days of DM events, and
# counts of the last 7 days.
MENTIONS_CAP = 800
DM_HISTORY = timedelta(days=30)
COUNTS_HISTORY = timedelta(days=7)
CRC_TIMEOUT_SECONDS = 3

REPLY_NOT_ALLOWED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been "
    "mentioned or otherwise engaged by the author of the post you are replying to."
)
DUPLICATE_CONTENT_DETAIL = (
    "You are not allowed to create a Tweet with duplicate content."
)
REPLY_TARGET_MISSING_DETAIL = (
    "You attempted to reply to a Tweet that is deleted or not visible to you."
)

# Snowflake-sized ids: above 2**53, as X's are.
FIRST_ID = 1_900_000_000_000_000_000
RATE_LIMIT = 900
RATE_WINDOW_SECONDS = 900
# How often the serving loop checks for stop(): short, so tests end fast.
SHUTDOWN_POLL_SECONDS = 0.02

TWEET_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT_FIELDS = ("id", "name", "username")
DM_DEFAULT_FIELDS = ("id", "event_type", "text")
MENTION = re.compile(r"@(\w+)")


class _Problem(Exception):
    """An error answer in X's problem shape."""

    def __init__(self, status, detail=None, body=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body


class XEndpoints:
    """The X API v2 endpoints the fake serves, on the server's state."""

    # -- endpoints ------------------------------------------------------------
    def _get_me(self, request, _):
        self._require_user(request)
        return 200, {
            "data": _shape(self.me, USER_DEFAULT_FIELDS, request, "user.fields")
        }

    def _get_mentions(self, request, user_id):
        posts = [
            post
            for post in self._newest_first(self.tweets.values())
            if user_id
            in {m["id"] for m in post.get("entities", {}).get("mentions", [])}
        ][:MENTIONS_CAP]
        posts = [
            post
            for post in posts
            if _in_id_range(post["id"], request) and _in_time_range(post, request)
        ]
        return 200, self._posts_page(posts, request)

    def _get_user_posts(self, request, user_id):
        excluded = set(filter(None, request.query.get("exclude", "").split(",")))
        posts = [
            post
            for post in self._newest_first(self.tweets.values())
            if post["author_id"] == user_id
            and _in_id_range(post["id"], request)
            and not ("replies" in excluded and "in_reply_to_user_id" in post)
            and not (
                "retweets" in excluded
                and any(
                    r["type"] == "retweeted" for r in post.get("referenced_tweets", [])
                )
            )
        ]
        return 200, self._posts_page(posts, request)

    def _get_post(self, request, post_id):
        """One post, with its media when ``attachments.media_keys`` is asked."""
        post = self.tweets.get(post_id)
        if post is None:
            raise _Problem(404, f"Could not find tweet with id: [{post_id}].")
        body = {"data": _shape(post, TWEET_DEFAULT_FIELDS, request, "tweet.fields")}
        if "attachments.media_keys" in _csv(request, "expansions"):
            media = self._media_of([post])
            if media:
                body["includes"] = {"media": media}
        return 200, body

    def _upload_media(self, request, _):
        """The one-shot image upload: multipart ``media`` and
        ``media_category``; the media is kept, by id, in ``self.uploads``."""
        self._require_user(request)
        media = request.files.get("media")
        category = request.form.get("media_category")
        if media is None or category not in MEDIA_CATEGORIES:
            raise _Problem(400, "media and a valid media_category are required.")
        media_id = self._take_id()
        self.uploads[media_id] = {"category": category, "content": media[2]}
        return 200, {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(media[2]),
            }
        }

    def _media_link(self, media_ids):
        """X ends the text of a post or DM with media with the media's link."""
        for media_id in media_ids:
            if str(media_id) not in self.uploads:
                raise _Problem(400, f"Invalid media id {media_id}.")
        return f" https://t.co/m{media_ids[0]}" if media_ids else ""

    def _create_post(self, request, _):
        body = request.json if isinstance(request.json, dict) else {}
        text = body.get("text")
        if not text:
            raise _Problem(400, "The text of the post is missing.")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        text += self._media_link(media_ids)
        if any(post["text"] == text for post in self.posts_by(self.me["id"])):
            raise _Problem(403, DUPLICATE_CONTENT_DETAIL)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to:
            parent = self.tweets.get(reply_to)
            if parent is None:
                raise _Problem(403, REPLY_TARGET_MISSING_DETAIL)
            mentioned = {
                m["id"] for m in parent.get("entities", {}).get("mentions", [])
            }
            if self.summoned_replies_only and self.me["id"] not in mentioned:
                raise _Problem(403, REPLY_NOT_ALLOWED_DETAIL)
        post = self.add_post(self.me["id"], text, reply_to=reply_to)
        data = {key: post[key] for key in TWEET_DEFAULT_FIELDS}
        return 201, {"data": data}

    def _get_dm_events(self, request, _):
        self._require_user(request)
        return 200, self._dm_page(self.dm_events, request)

    def _get_conversation_dm_events(self, request, participant_id):
        conversation_id = _pair(self.me["id"], participant_id)
        events = [
            e for e in self.dm_events if e["dm_conversation_id"] == conversation_id
        ]
        return 200, self._dm_page(events, request)

    def _send_dm(self, request, participant_id):
        body = request.json if isinstance(request.json, dict) else {}
        if not body.get("text"):
            raise _Problem(400, "The text of the message is missing.")
        if participant_id not in self.users:
            raise _Problem(400, f"Could not find user with id [{participant_id}].")
        media_ids = [a.get("media_id") for a in body.get("attachments") or []]
        text = body["text"] + self._media_link(media_ids)
        event = self.add_dm(self.me["id"], text, recipient_id=participant_id)
        data = {
            "dm_conversation_id": event["dm_conversation_id"],
            "dm_event_id": event["id"],
        }
        return 201, {"data": data}

    def _get_user_by_username(self, request, username):
        user = next(
            (
                u
                for u in self.users.values()
                if u["username"].lower() == username.lower()
            ),
            None,
        )
        if user is None:
            body = {
                "errors": [
                    {
                        "value": username,
                        "detail": f"Could not find user with username: [{username}].",
                        "title": "Not Found Error",
                        "resource_type": "user",
                        "parameter": "username",
                        "resource_id": username,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            }
            return 200, body
        return 200, {"data": _shape(user, USER_DEFAULT_FIELDS, request, "user.fields")}

    # -- onboarding endpoints -------------------------------------------------
    def _check_webhooks_access(self, request):
        self._require_app(request)
        if not self.webhooks_enabled:
            raise _Problem(403, body=_client_forbidden())

    def _get_webhooks(self, request, _):
        self._check_webhooks_access(request)
        hooks = sorted(self.webhooks.values(), key=lambda hook: int(hook["id"]))
        body = {"data": hooks} if hooks else {}
        body["meta"] = {"result_count": len(hooks)}
        return 200, body

    def _create_webhook(self, request, _):
        self._check_webhooks_access(request)
        url = (
            (request.json or {}).get("url") if isinstance(request.json, dict) else None
        )
        if not isinstance(url, str) or not 1 <= len(url) <= 200:
            raise _Problem(400, body=_invalid_request("UrlValidationFailed"))
        parts = urlsplit(url)
        if not self.allow_insecure_urls and (
            parts.scheme != "https" or parts.port is not None or not parts.hostname
        ):
            raise _Problem(400, body=_invalid_request("UrlValidationFailed"))
        if any(hook["url"] == url for hook in self.webhooks.values()):
            raise _Problem(400, body=_invalid_request("DuplicateUrlFailed"))
        if len(self.webhooks) >= self.webhook_limit:
            raise _Problem(400, body=_invalid_request("WebhookLimitExceeded"))
        if not self._crc_check(url):
            raise _Problem(400, body=_invalid_request("CrcValidationFailed"))
        webhook = self.add_webhook(url)
        return 200, {"data": dict(webhook)}

    def _validate_webhook(self, request, webhook_id):
        self._check_webhooks_access(request)
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise _Problem(400, body=_invalid_request("WebhookIdInvalid"))
        webhook["valid"] = self._crc_check(webhook["url"])
        if not webhook["valid"]:
            raise _Problem(400, body=_invalid_request("CrcValidationFailed"))
        return 200, {"data": {"attempted": True}}

    def _subscribed_webhook(self, request, webhook_id):
        self._require_user(request)
        if not self.webhooks_enabled:
            raise _Problem(403, body=_client_forbidden())
        if webhook_id not in self.webhooks:
            raise _Problem(404, "Webhook ID not found")
        return self.subscriptions[webhook_id]

    def _get_subscription(self, request, webhook_id):
        subscribed = self._subscribed_webhook(request, webhook_id)
        return 200, {"data": {"subscribed": self.me["id"] in subscribed}}

    def _subscribe(self, request, webhook_id):
        subscribed = self._subscribed_webhook(request, webhook_id)
        oauth1 = _auth_kind(request, self.app_bearer_token) == "oauth1"
        if oauth1 and self.access_level != "read-write-directmessages":
            raise _Problem(403, DM_PERMISSION_DETAIL)
        if self.me["id"] in subscribed:
            raise _Problem(409, body=_invalid_request("DuplicateSubscriptionFailed"))
        subscribed.add(self.me["id"])
        return 200, {"data": {"subscribed": True}}

    def _get_counts(self, request, _):
        """Counts of posts mentioning ``@username`` (the one query supported)."""
        self._require_app(request)
        if not self.counts_enabled:
            raise _Problem(403, body=_client_forbidden())
        match = re.fullmatch(r"@(\w+)", request.query.get("query", "").strip())
        if not match:
            raise _Problem(400, "The fake counts only queries of one @username.")
        now = datetime.now(timezone.utc)
        start = _parse_time(request.query.get("start_time")) or now - COUNTS_HISTORY
        end = _parse_time(request.query.get("end_time")) or now
        if start < now - COUNTS_HISTORY - timedelta(minutes=1):
            raise _Problem(
                400,
                f"Invalid 'start_time':'{request.query['start_time']}'. "
                "'start_time' must be within the last 7 days.",
            )
        step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}.get(
            request.query.get("granularity", "hour"), timedelta(days=1)
        )
        times = [
            _parse_time(post["created_at"])
            for post in self.tweets.values()
            if match[1].lower()
            in {
                m["username"].lower()
                for m in post.get("entities", {}).get("mentions", [])
            }
        ]
        buckets, bucket_start = [], start
        while bucket_start < end:
            bucket_end = min(_floor(bucket_start, step) + step, end)
            count = sum(1 for moment in times if bucket_start <= moment < bucket_end)
            buckets.append(
                {
                    "end": _iso(bucket_end),
                    "start": _iso(bucket_start),
                    "tweet_count": count,
                }
            )
            bucket_start = bucket_end
        total = sum(bucket["tweet_count"] for bucket in buckets)
        return 200, {"data": buckets, "meta": {"total_tweet_count": total}}

    def _token(self, request, _):
        """The client credentials grant: the app's bearer token."""
        auth = request.headers.get("authorization", "")
        try:
            key, _colon, secret = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            key = secret = None
        known = self.consumer_key is None or (
            key == self.consumer_key and secret == self.consumer_secret
        )
        if not auth.startswith("Basic ") or not known:
            body = {
                "errors": [
                    {
                        "code": 99,
                        "message": "Unable to verify your credentials",
                        "label": "authenticity_token_error",
                    }
                ]
            }
            raise _Problem(403, body=body)
        if request.form.get("grant_type") != "client_credentials":
            raise _Problem(400, "grant_type must be client_credentials")
        return 200, {"token_type": "bearer", "access_token": self.app_bearer_token}

    def _crc_check(self, url):
        """X's Challenge-Response Check: GET ``url?crc_token=...``, whose JSON
        answer must carry the token's HMAC-SHA256 under the consumer secret."""
        if self.crc_secret is None:
            return self.crc_passes
        token = secrets.token_urlsafe(24)
        separator = "&" if "?" in url else "?"
        try:
            with urllib.request.urlopen(
                f"{url}{separator}{urlencode({'crc_token': token})}",
                timeout=CRC_TIMEOUT_SECONDS,
            ) as answer:
                received = json.loads(answer.read()).get("response_token")
        except (OSError, ValueError, AttributeError):
            return False
        digest = hmac.new(self.crc_secret.encode(), token.encode(), hashlib.sha256)
        expected = "sha256=" + base64.b64encode(digest.digest()).decode()
        return isinstance(received, str) and hmac.compare_digest(received, expected)

    # -- response building ----------------------------------------------------
    def _posts_page(self, posts, request):
        page, next_token = _paginate(posts, request, default=10, low=5, high=100)
        expanded = "author_id" in _csv(request, "expansions")
        user_ids = {post["author_id"] for post in page} if expanded else ()
        meta = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        data = [
            _shape(post, TWEET_DEFAULT_FIELDS, request, "tweet.fields") for post in page
        ]
        body = self._page_body(data, request, user_ids, meta, next_token)
        self._expand_posts(body, page, request)
        return body

    def _expand_posts(self, body, page, request):
        """includes.tweets (``referenced_tweets.id``) and includes.media of
        the posts and of those they reference, as asked."""
        expansions = _csv(request, "expansions")
        referenced = []
        if "referenced_tweets.id" in expansions:
            ids = {r["id"] for post in page for r in post.get("referenced_tweets", [])}
            referenced = [self.tweets[i] for i in sorted(ids) if i in self.tweets]
        media = []
        if "attachments.media_keys" in expansions:
            media += self._media_of(page)
        if "referenced_tweets.id.attachments.media_keys" in expansions:
            media += self._media_of(referenced)
        includes = body.setdefault("includes", {})
        if referenced:
            includes["tweets"] = [
                _shape(post, TWEET_DEFAULT_FIELDS, request, "tweet.fields")
                for post in referenced
            ]
        if media:
            includes["media"] = media
        if not includes:
            del body["includes"]

    def _media_of(self, posts):
        keys = [
            k for p in posts for k in p.get("attachments", {}).get("media_keys", [])
        ]
        return [self.media[key] for key in keys if key in self.media]

    def _dm_page(self, events, request):
        wanted_types = _csv(request, "event_types")
        oldest = _iso(datetime.now(timezone.utc) - DM_HISTORY)
        events = [
            event
            for event in self._newest_first(events)
            if (not wanted_types or event["event_type"] in wanted_types)
            and event["created_at"] >= oldest
        ]
        page, next_token = _paginate(events, request, default=100, low=1, high=100)
        expanded = "sender_id" in _csv(request, "expansions")
        user_ids = {event["sender_id"] for event in page} if expanded else ()
        data = [_shape(e, DM_DEFAULT_FIELDS, request, "dm_event.fields") for e in page]
        meta = {"result_count": len(page)}
        return self._page_body(data, request, user_ids, meta, next_token)

    def _page_body(self, data, request, user_ids, meta, next_token):
        """A list answer as X writes it: no ``data`` key when it is empty."""
        body = {"data": data} if data else {}
        users = [self.users[uid] for uid in sorted(user_ids) if uid in self.users]
        if users:
            body["includes"] = {
                "users": [
                    _shape(user, USER_DEFAULT_FIELDS, request, "user.fields")
                    for user in users
                ]
            }
        if next_token:
            meta["next_token"] = next_token
        body["meta"] = meta
        return body

    def _newest_first(self, items):
        return sorted(items, key=lambda item: int(item["id"]), reverse=True)

    def _take_id(self, wanted=None):
        """``wanted`` if given, else a fresh id above every one used so far."""
        with_id = int(wanted) if wanted is not None else self._last_id + 1
        self._last_id = max(self._last_id, with_id)
        return str(with_id)


def _problem(status, detail=None):
    status = HTTPStatus(status)
    return {
        "title": status.phrase,
        "detail": detail or status.phrase,
        "type": "about:blank",
        "status": int(status),
    }


def _invalid_request(reason):
    """X's refusal of a webhook call: the documented reason as the message."""
    return {
        "errors": [{"message": reason}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _unsupported_auth(detail):
    return {
        "title": "Unsupported Authentication",
        "detail": detail,
        "type": "https://api.twitter.com/2/problems/unsupported-authentication",
        "status": 403,
    }


def _client_forbidden():
    """The problem X answers when the app's plan lacks an endpoint."""
    return {
        "client_id": "12345678",
        "detail": CLIENT_FORBIDDEN_DETAIL,
        "registration_url": "https://developer.x.com/en/portal/products",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    }


def _auth_kind(request, app_bearer_token):
    """oauth1, app (the app-only bearer token), oauth2_user, basic or None."""
    auth = request.headers.get("authorization", "")
    if auth.startswith("OAuth "):
        return "oauth1"
    if auth.startswith("Bearer "):
        return "app" if auth[len("Bearer ") :] == app_bearer_token else "oauth2_user"
    if auth.startswith("Basic "):
        return "basic"
    return None


def _rate_headers():
    return {
        "x-rate-limit-limit": str(RATE_LIMIT),
        "x-rate-limit-remaining": str(RATE_LIMIT - 1),
        "x-rate-limit-reset": str(int(time.time()) + RATE_WINDOW_SECONDS),
    }


def _csv(request, name):
    return set(filter(None, request.query.get(name, "").split(",")))


def _shape(item, defaults, request, fields_param):
    """Only the default fields and those asked for, as X returns them."""
    wanted = set(defaults) | _csv(request, fields_param)
    return {key: value for key, value in item.items() if key in wanted}


def _paginate(items, request, *, default, low, high):
    """One page of ``items`` and the token of the next page, if any."""
    try:
        size = int(request.query.get("max_results", default))
        offset = int(request.query.get("pagination_token", "0").lstrip("p") or 0)
    except ValueError as exc:
        raise _Problem(400, "Invalid max_results or pagination_token.") from exc
    if not low <= size <= high:
        raise _Problem(400, f"max_results must be between {low} and {high}.")
    page = items[offset : offset + size]
    more = offset + size < len(items)
    return page, f"p{offset + size:016d}" if more else None


def _in_id_range(item_id, request):
    since_id = request.query.get("since_id")
    until_id = request.query.get("until_id")
    return (not since_id or int(item_id) > int(since_id)) and (
        not until_id or int(item_id) < int(until_id)
    )


def _in_time_range(item, request):
    """start_time (inclusive) and end_time (exclusive), as X filters them."""
    created_at = _parse_time(item.get("created_at"))
    start = _parse_time(request.query.get("start_time"))
    end = _parse_time(request.query.get("end_time"))
    return (start is None or created_at >= start) and (end is None or created_at < end)


def _parse_time(value):
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Problem(400, f"Invalid time {value!r}.") from exc


def _floor(moment, step):
    """``moment`` rounded down to a whole ``step`` (minute, hour or day)."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return epoch + (moment - epoch) // step * step


def _pair(user_id, other_id):
    return "-".join(sorted((str(user_id), str(other_id)), key=int))


def _iso(moment=None):
    """X's timestamps: UTC, milliseconds, a "Z"."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
