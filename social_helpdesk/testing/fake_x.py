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
"""

import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ME = "GET /2/users/me"
MENTIONS = "GET /2/users/:id/mentions"
USER_POSTS = "GET /2/users/:id/tweets"
CREATE_POST = "POST /2/tweets"
DM_EVENTS = "GET /2/dm_events"
CONVERSATION_DM_EVENTS = "GET /2/dm_conversations/with/:id/dm_events"
SEND_DM = "POST /2/dm_conversations/with/:id/messages"

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


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; ``route`` is "" when unknown."""

    method: str
    path: str
    route: str
    query: dict
    json: object
    headers: dict  # names lower-cased


@dataclass
class _Script:
    """A scripted answer for one call of a route."""

    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    act_first: bool = False  # do the work (publish, say) before the delay


class _Problem(Exception):
    """An error answer in X's problem shape."""

    def __init__(self, status, detail=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class FakeXServer:
    """A fake X API v2 on 127.0.0.1; use it as a context manager."""

    def __init__(self, me_id="1111111111111111111", me_username="HelpdeskBrand"):
        self.users = {}
        self.tweets = {}
        self.dm_events = []
        self.requests = []
        self.summoned_replies_only = True
        self._last_id = FIRST_ID
        self._scripts = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = None
        self._thread = None
        self.me = self.add_user(me_id, me_username, "Helpdesk Brand")
        self._routes = [
            (ME, re.compile(r"/2/users/me"), self._get_me),
            (MENTIONS, re.compile(r"/2/users/(\d+)/mentions"), self._get_mentions),
            (USER_POSTS, re.compile(r"/2/users/(\d+)/tweets"), self._get_user_posts),
            (CREATE_POST, re.compile(r"/2/tweets"), self._create_post),
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
        ]

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="fake-x",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        """Stop serving; requests held by a scripted delay are let go."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- state ----------------------------------------------------------------
    def add_user(self, user_id, username, name=None, followers_count=0):
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
        self.users[user["id"]] = user
        return user

    def add_post(
        self, author_id, text, *, post_id=None, reply_to=None, created_at=None
    ):
        """Store a post; @usernames of known users become mention entities."""
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
        request = RecordedRequest(
            method=method,
            path=parts.path,
            route=route,
            query=dict(parse_qsl(parts.query)),
            json=body,
            headers={name.lower(): value for name, value in headers.items()},
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
        return script.status, script.body, {**_rate_headers(), **script.headers}

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
            if not request.headers.get("authorization"):
                raise _Problem(401)
            with self._lock:
                status, body = handler(request, path_id)
        except _Problem as problem:
            status, body = problem.status, _problem(problem.status, problem.detail)
        return status, body, _rate_headers()

    # -- endpoints ------------------------------------------------------------
    def _get_me(self, request, _):
        return 200, {
            "data": _shape(self.me, USER_DEFAULT_FIELDS, request, "user.fields")
        }

    def _get_mentions(self, request, user_id):
        posts = [
            post
            for post in self._newest_first(self.tweets.values())
            if user_id
            in {m["id"] for m in post.get("entities", {}).get("mentions", [])}
            and _in_id_range(post["id"], request)
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

    def _create_post(self, request, _):
        body = request.json if isinstance(request.json, dict) else {}
        text = body.get("text")
        if not text:
            raise _Problem(400, "The text of the post is missing.")
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
        event = self.add_dm(self.me["id"], body["text"], recipient_id=participant_id)
        data = {
            "dm_conversation_id": event["dm_conversation_id"],
            "dm_event_id": event["id"],
        }
        return 201, {"data": data}

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
        return self._page_body(data, request, user_ids, meta, next_token)

    def _dm_page(self, events, request):
        wanted_types = _csv(request, "event_types")
        events = [
            event
            for event in self._newest_first(events)
            if not wanted_types or event["event_type"] in wanted_types
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


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._respond()

    def do_POST(self):
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


def _problem(status, detail=None):
    status = HTTPStatus(status)
    return {
        "title": status.phrase,
        "detail": detail or status.phrase,
        "type": "about:blank",
        "status": int(status),
    }


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


def _pair(user_id, other_id):
    return "-".join(sorted((str(user_id), str(other_id)), key=int))


def _iso(moment=None):
    """X's timestamps: UTC, milliseconds, a "Z"."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
