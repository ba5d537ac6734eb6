"""A fake X API v2 on loopback, for tests and benchmarks; no Odoo import.

:class:`FakeXServer` serves the endpoints the X adapter calls, with X's JSON
shapes, field selection, pagination and rate-limit headers, from state a test
scripts (users, posts, DM events). It records every request, and can be told
to answer the next calls of a route with an error, a 429, or only after the
client has given up::

    with FakeXServer() as fake:
        customer = fake.add_user("2001", "customer")
        fake.add_mention(customer["id"], "my order is late")
        fake.rate_limit_next(MENTIONS, reset_at=1767225600)
        config = {"api_base_url": fake.base_url, "user_id": fake.me["id"], ...}

Like X's self-serve tiers, it refuses a reply to a post that does not
mention the account unless ``summoned_replies_only`` is turned off.

Onboarding endpoints are served too: X API v2 webhooks (``GET``/``POST
/2/webhooks``, ``PUT /2/webhooks/:id``), Account Activity subscriptions
(``GET``/``POST .../subscriptions/all``), ``GET /2/tweets/counts/recent``,
``GET /2/users/by/username/:username`` and ``POST /oauth2/token``; the X
Activity API, replay and OAuth 2.0 refresh are :mod:`.fake_x_activity`'s. Answers
to OAuth 1.0a calls carry ``x-access-level`` (``access_level``); a bearer
token equal to ``app_bearer_token`` is app-only, refused where X wants a
user, and the only one accepted where X wants the app. ``POST /2/webhooks``
runs a real CRC check against the URL when ``crc_secret`` is set.
"""

import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .fake_x_activity import OPEN_ROUTES, XActivityEndpoints
from .fake_x_api import (
    APP_ONLY_FORBIDDEN,
    APP_ONLY_REQUIRED,
    CONVERSATION_DM_EVENTS,
    COUNTS,
    CREATE_POST,
    CREATE_WEBHOOK,
    DM_EVENTS,
    FIRST_ID,
    ME,
    MEDIA_UPLOAD,
    MENTION,
    MENTIONS,
    POST_LOOKUP,
    RATE_LIMIT,
    SEND_DM,
    SHUTDOWN_POLL_SECONDS,
    SUBSCRIBE,
    SUBSCRIPTION,
    TOKEN,
    USER_BY_USERNAME,
    USER_POSTS,
    VALIDATE_WEBHOOK,
    WEBHOOKS,
    XEndpoints,
    _auth_kind,
    _iso,
    _pair,
    _Problem,
    _problem,
    _rate_headers,
    _unsupported_auth,
)
from .loopback import LoopbackServer
from .multipart import parse_multipart


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; ``route`` is "" when unknown."""

    method: str
    path: str
    route: str
    query: dict
    json: object
    headers: dict  # names lower-cased
    form: dict = field(default_factory=dict)  # a form-encoded or multipart body
    files: dict = field(default_factory=dict)  # multipart files: name, type, bytes


@dataclass
class _Script:
    """A scripted answer for one call of a route."""

    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    act_first: bool = False  # do the work (publish, say) before the delay


class FakeXServer(LoopbackServer, XActivityEndpoints, XEndpoints):
    """A fake X API v2 on 127.0.0.1; use it as a context manager."""

    def __init__(self, me_id="1111111111111111111", me_username="HelpdeskBrand"):
        self.users = {}
        self.tweets = {}
        self.dm_events = []
        self.media = {}  # media_key -> X media object
        self.uploads = {}  # uploaded media by id: category and content
        self.requests = []
        self.summoned_replies_only = True
        # Onboarding: the token's permission reported in x-access-level (None
        # sends no header), the app's bearer token and consumer credentials,
        # the app's webhooks and their subscribed user ids, and what the
        # app's plan allows.
        self.access_level = "read-write-directmessages"
        self.app_bearer_token = "fake-app-bearer-token"
        self.consumer_key = None  # None accepts any key and secret
        self.consumer_secret = None
        self.crc_secret = None  # set: POST /2/webhooks runs a real CRC check
        self.crc_passes = True  # the CRC outcome when crc_secret is None
        self.allow_insecure_urls = False  # http:// and ports, for loopback
        self.webhook_limit = 1
        self.webhooks_enabled = True
        self.counts_enabled = True
        self.webhooks = {}
        self.subscriptions = defaultdict(set)
        self._last_id = FIRST_ID
        self._scripts = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._init_activity()
        self.me = self.add_user(me_id, me_username, "Helpdesk Brand")
        self._routes = [
            (ME, re.compile(r"/2/users/me"), self._get_me),
            (MENTIONS, re.compile(r"/2/users/(\d+)/mentions"), self._get_mentions),
            (USER_POSTS, re.compile(r"/2/users/(\d+)/tweets"), self._get_user_posts),
            (CREATE_POST, re.compile(r"/2/tweets"), self._create_post),
            (POST_LOOKUP, re.compile(r"/2/tweets/(\d+)"), self._get_post),
            (MEDIA_UPLOAD, re.compile(r"/2/media/upload"), self._upload_media),
            (DM_EVENTS, re.compile(r"/2/dm_events"), self._get_dm_events),
            (
                CONVERSATION_DM_EVENTS,
                re.compile(r"/2/dm_conversations/with/(\d+)/dm_events"),
                self._get_conversation_dm_events,
            ),
            (
                SEND_DM,
                re.compile(r"/2/dm_conversations/with/(\d+)/messages"),
                self._send_dm,
            ),
            (
                USER_BY_USERNAME,
                re.compile(r"/2/users/by/username/(\w+)"),
                self._get_user_by_username,
            ),
            (WEBHOOKS, re.compile(r"/2/webhooks"), self._get_webhooks),
            (CREATE_WEBHOOK, re.compile(r"/2/webhooks"), self._create_webhook),
            (
                VALIDATE_WEBHOOK,
                re.compile(r"/2/webhooks/(\d+)"),
                self._validate_webhook,
            ),
            (
                SUBSCRIPTION,
                re.compile(r"/2/account_activity/webhooks/(\d+)/subscriptions/all"),
                self._get_subscription,
            ),
            (
                SUBSCRIBE,
                re.compile(r"/2/account_activity/webhooks/(\d+)/subscriptions/all"),
                self._subscribe,
            ),
            (COUNTS, re.compile(r"/2/tweets/counts/recent"), self._get_counts),
            (TOKEN, re.compile(r"/oauth2/token"), self._token),
            *self.activity_routes(re.compile),
        ]

    # -- lifecycle ----------------------------------------------------------
    thread_name = "fake-x"
    poll_interval = SHUTDOWN_POLL_SECONDS

    def _make_server(self):
        self._stopping.clear()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        return httpd

    def stop(self):
        """Stop serving; requests held by a scripted delay are let go."""
        self._stopping.set()
        return super().stop()

    # -- state ----------------------------------------------------------------
    def add_user(
        self, user_id, username, name=None, followers_count=0, profile_image_url=None
    ):
        user = {
            "id": str(user_id),
            "username": username,
            "name": name or username,
            "public_metrics": {
                "followers_count": followers_count,
                "following_count": 0,
                "tweet_count": 0,
                "listed_count": 0,
                "like_count": 0,
            },
        }
        if profile_image_url:
            user["profile_image_url"] = profile_image_url
        self.users[user["id"]] = user
        return user

    def add_post(
        self,
        author_id,
        text,
        *,
        post_id=None,
        reply_to=None,
        created_at=None,
        image_url=None,
    ):
        """Store a post; @usernames of known users become mention entities;
        ``image_url`` attaches a photo."""
        post_id = self._take_id(post_id)
        post = {
            "id": post_id,
            "text": text,
            "edit_history_tweet_ids": [post_id],
            "author_id": str(author_id),
            "conversation_id": post_id,
            "created_at": _iso(created_at),
            "lang": "en",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
            },
        }
        mentions = [
            {
                "start": match.start(),
                "end": match.end(),
                "username": match[1],
                "id": user["id"],
            }
            for match in MENTION.finditer(text)
            for user in self.users.values()
            if user["username"].lower() == match[1].lower()
        ]
        if mentions:
            post["entities"] = {"mentions": mentions}
        if reply_to:
            parent = self.tweets[str(reply_to)]
            post["conversation_id"] = parent["conversation_id"]
            post["in_reply_to_user_id"] = parent["author_id"]
            post["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
        if image_url:
            key = f"3_{post_id}"
            self.media[key] = {"media_key": key, "type": "photo", "url": image_url}
            post["attachments"] = {"media_keys": [key]}
        self.tweets[post_id] = post
        return post

    def add_mention(self, author_id, text, **kwargs):
        """A post by ``author_id`` that mentions the connected account."""
        return self.add_post(author_id, f"@{self.me['username']} {text}", **kwargs)

    def add_dm(
        self, sender_id, text, *, recipient_id=None, event_id=None, created_at=None
    ):
        """A one-to-one DM between the connected account and someone."""
        other = recipient_id if str(sender_id) == self.me["id"] else sender_id
        event = {
            "id": self._take_id(event_id),
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": str(sender_id),
            "dm_conversation_id": _pair(self.me["id"], other),
            "created_at": _iso(created_at),
        }
        self.dm_events.append(event)
        return event

    def add_webhook(self, url, *, valid=True, webhook_id=None, subscribed=()):
        """A webhook the app registered earlier, with its subscribed users."""
        webhook = {
            "id": self._take_id(webhook_id),
            "url": url,
            "valid": valid,
            "created_at": _iso(),
        }
        self.webhooks[webhook["id"]] = webhook
        self.subscriptions[webhook["id"]].update(str(uid) for uid in subscribed)
        return webhook

    def posts_by(self, user_id):
        return [
            post for post in self.tweets.values() if post["author_id"] == str(user_id)
        ]

    # -- scripted answers ---------------------------------------------------
    def respond_next(self, route, body, *, status=200, times=1):
        """Answer the next ``times`` calls of ``route`` with ``body`` as is."""
        self._script(route, times, _Script(status=status, body=body))

    def fail_next(self, route, *, status=500, detail=None, times=1):
        """Answer with an X problem document of ``status``."""
        self._script(
            route, times, _Script(status=status, body=_problem(status, detail))
        )

    def rate_limit_next(self, route, *, reset_at, times=1):
        """Answer 429 with ``x-rate-limit-reset`` = ``reset_at`` (epoch s)."""
        headers = {
            "x-rate-limit-limit": str(RATE_LIMIT),
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(reset_at)),
        }
        body = _problem(HTTPStatus.TOO_MANY_REQUESTS)
        self._script(route, times, _Script(status=429, body=body, headers=headers))

    def time_out_next(self, route, seconds, *, times=1):
        """Hold the call ``seconds`` (past the client's timeout), then answer
        503 without doing anything."""
        body = _problem(HTTPStatus.SERVICE_UNAVAILABLE)
        self._script(route, times, _Script(status=503, body=body, delay=seconds))

    def publish_then_time_out_next(self, route, seconds, *, times=1):
        """Do the work (publish the post, send the DM) at once, but hold the
        answer ``seconds``: the client times out on a reply that exists."""
        self._script(route, times, _Script(delay=seconds, act_first=True))

    def requests_to(self, route):
        return [request for request in self.requests if request.route == route]

    def _script(self, route, times, script):
        with self._lock:
            self._scripts[route].extend([script] * times)

    # -- serving --------------------------------------------------------------
    def _serve(self, method, target, headers, raw_body):
        """Record one request and compute its answer: (status, body, headers)."""
        parts = urlsplit(target)
        route, handler, path_id = self._match(method, parts.path)
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        lowered = {name.lower(): value for name, value in headers.items()}
        form = {}
        if "x-www-form-urlencoded" in lowered.get("content-type", ""):
            form = dict(parse_qsl(raw_body.decode("utf-8", "replace")))
        fields, files = parse_multipart(raw_body, lowered.get("content-type"))
        form = form or fields
        request = RecordedRequest(
            method=method,
            path=parts.path,
            route=route,
            query=dict(parse_qsl(parts.query)),
            json=body,
            headers=lowered,
            form=form,
            files=files,
        )
        with self._lock:
            self.requests.append(request)
            scripts = self._scripts[route]
            script = scripts.popleft() if scripts else None
        if script is None:
            return self._answer(request, handler, path_id)
        if script.act_first:
            answer = self._answer(request, handler, path_id)
            self._stopping.wait(script.delay)
            return answer
        self._stopping.wait(script.delay)
        headers = {**self._headers(request), **script.headers}
        return script.status, script.body, headers

    def _match(self, method, path):
        for route, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route.startswith(method + " "):
                return route, handler, (match.groups() or (None,))[0]
        return "", None, None

    def _answer(self, request, handler, path_id):
        try:
            if handler is None:
                raise _Problem(404, "Sorry, that page does not exist.")
            if request.route not in OPEN_ROUTES and not request.headers.get(
                "authorization"
            ):
                raise _Problem(401)
            with self._lock:
                status, body = handler(request, path_id)
        except _Problem as problem:
            status = problem.status
            body = problem.body or _problem(problem.status, problem.detail)
        return status, body, self._headers(request)

    def _headers(self, request):
        """Rate-limit headers, and x-access-level on OAuth 1.0a answers."""
        headers = _rate_headers()
        if _auth_kind(request, self.app_bearer_token) == "oauth1" and (
            self.access_level
        ):
            headers["x-access-level"] = self.access_level
        return headers

    def _require_user(self, request):
        """Refuse an app-only token, as X's user-context endpoints do, and
        an OAuth 2.0 user token that expired."""
        if _auth_kind(request, self.app_bearer_token) == "app":
            raise _Problem(403, body=_unsupported_auth(APP_ONLY_FORBIDDEN))
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer in self.oauth2_expired_tokens:
            raise _Problem(401, "Unauthorized")

    def _require_app(self, request):
        """Refuse user tokens, as X's app-only endpoints do."""
        kind = _auth_kind(request, self.app_bearer_token)
        if kind == "oauth1":
            detail = APP_ONLY_REQUIRED.format(kind="OAuth 1.0a User Context")
            raise _Problem(403, body=_unsupported_auth(detail))
        if kind != "app":
            raise _Problem(401)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._respond()

    def do_POST(self):
        self._respond()

    def do_PUT(self):
        self._respond()

    def do_DELETE(self):
        self._respond()

    def _respond(self):
        length = int(self.headers.get("content-length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        status, body, headers = self.server.fake._serve(
            self.command, self.path, self.headers, raw_body
        )
        data = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting, as a timeout test means it to.
            self.close_connection = True

    def log_message(self, format, *args):
        """Stay quiet: tests read ``FakeXServer.requests`` instead."""
