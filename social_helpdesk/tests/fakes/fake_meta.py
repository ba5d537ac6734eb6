"""A fake Meta Graph API on loopback, for tests and benchmarks.

It answers the endpoints :class:`~social_helpdesk.adapters.meta.MetaAdapter`
calls with the JSON and headers Meta documents, keeps the state a test
scripts (page posts and comments, Messenger and Instagram conversations,
Instagram media and comments), records every request, and makes the next
calls of a route fail, throttle or hang on demand::

    with FakeMetaServer() as meta:
        meta.add_post("p1", "Our new shop", created_time=when)
        adapter = MetaAdapter(meta.config())
        meta.fail_next("GET feed", Fault.graph_error(4))
        meta.usage_headers["X-App-Usage"] = {"call_count": 85}

Routes are named ``"<METHOD> <edge>"``: ``GET me``, ``GET permissions``,
``GET debug_token``, ``GET node`` (``/{id}``), ``GET|POST subscribed_apps``,
``GET feed``, ``GET conversations``, ``GET media``, ``GET|POST comments``,
``GET|POST replies``, ``POST messages`` (``/{page-id}`` or ``/me``) and
``GET|POST subscriptions`` (``/{app-id}/subscriptions``, the app's webhook
settings, with the app access token ``{app-id}|{app-secret}`` only). With
``verify_callbacks`` set, ``POST subscriptions`` verifies the callback URL
over HTTP as Meta does (``hub.mode``, ``hub.challenge``,
``hub.verify_token``).

The same server is graph.instagram.com for the Instagram API with Instagram
Login: a request with the Instagram user token (``instagram_token``, or a
``Host: graph.instagram.com`` header) gets that host's shapes: ``GET me``
answers ``user_id`` and ``username``, ``GET|POST subscribed_apps``,
``POST messages`` and ``GET conversations`` are the Instagram account's
(``/{ig-id}/...``), page edges are refused, and no appsecret_proof is
asked. :meth:`FakeMetaServer.instagram_login_config` points an adapter at
it that way.
"""

import contextlib
import itertools
import json
import sys
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from ...adapters.base import hmac_sha256
from ...adapters.meta.client import INSTAGRAM_PERMISSIONS, PAGE_PERMISSIONS
from ...adapters.meta.versions import DEFAULT_GRAPH_VERSION
from .fake_meta_api import MetaEndpoints, _edge, _parse_body, graph_error
from .loopback import LoopbackServer
from .multipart import parse_multipart


@dataclass(frozen=True)
class RecordedRequest:
    route: str
    method: str
    path: str
    query: dict
    body: object  # JSON or form fields as a dict, other text as str, or None
    headers: dict
    files: dict = field(default_factory=dict)  # multipart: name, type, bytes


@dataclass(frozen=True)
class Fault:
    """How one call of a route misbehaves instead of answering normally.

    ``error`` is a Graph error object (None sends a plain-text body);
    ``delay`` hangs that many seconds first; ``publish`` carries the call out
    before hanging, as when Meta publishes and the answer is lost.
    """

    status: int = 400
    error: dict | None = None
    delay: float = 0.0
    publish: bool = False

    @classmethod
    def graph_error(cls, code, message=None, subcode=None, status=400):
        return cls(status=status, error=graph_error(code, message, subcode))

    @classmethod
    def server_error(cls, status=500):
        """Meta's usual 5xx answer, a transient Graph error."""
        error = graph_error(
            2, "An unexpected error has occurred. Please retry your request later."
        )
        return cls(status=status, error={**error, "is_transient": True})

    @classmethod
    def timeout(cls, seconds, publish=False):
        """Hang ``seconds``, beyond the client's timeout; with ``publish``,
        after carrying the call out."""
        return cls(status=504, delay=seconds, publish=publish)


class FakeMetaServer(LoopbackServer, MetaEndpoints):
    """A Graph API for one page and its Instagram account; a context manager.

    Times given to the ``add_*`` methods are aware datetimes.
    """

    def __init__(
        self,
        page_id="448242228374517",
        page_name="Acme Support",
        instagram_account_id="17841405822304914",
        instagram_username="acme",
        app_id="1517776481860111",
        app_name="Acme Helpdesk",
        access_token="fake-page-token",
        app_secret="fake-app-secret",
        graph_version=DEFAULT_GRAPH_VERSION,
        instagram_token="fake-instagram-token",
        instagram_app_secret="fake-instagram-app-secret",
    ):
        self.page_id = page_id
        self.page_name = page_name
        self.instagram_account_id = instagram_account_id
        self.instagram_username = instagram_username
        self.app_id = app_id
        self.app_name = app_name
        self.access_token = access_token
        self.app_secret = app_secret
        self.graph_version = graph_version
        self.instagram_token = instagram_token
        self.instagram_app_secret = instagram_app_secret
        self.instagram_subscribed_fields = []
        self.instagram_host = False  # the request being answered is Instagram's
        self.token_valid = True
        self.granted_scopes = list(PAGE_PERMISSIONS + INSTAGRAM_PERMISSIONS)
        self.subscribed_fields = []  # the app is not installed on the page yet
        self.usage_headers = {}  # header name -> JSON value, sent on every answer
        self.requests = []
        self.posts = {}
        self.comments = {}
        self.conversations = {}  # (platform, user id) -> _Conversation
        self.media = {}
        self.instagram_comments = {}
        self.profiles = {}  # PSID or IGSID -> User Profile API fields
        self.private_replies = {}  # comment or post id -> message id
        self.images = {}  # comment or message id -> the image bytes it carries
        self.app_subscriptions = {}  # object -> the app's webhook settings
        self.verify_callbacks = False  # True: check callback URLs over HTTP
        self._ids = itertools.count(1)
        self._faults = defaultdict(deque)
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._routes = {
            "GET me": self._get_me,
            "GET permissions": self._get_permissions,
            "GET debug_token": self._get_debug_token,
            "GET node": self._get_node,
            "GET subscribed_apps": self._get_subscribed_apps,
            "POST subscribed_apps": self._post_subscribed_apps,
            "GET feed": self._get_feed,
            "GET conversations": self._get_conversations,
            "GET media": self._get_media,
            "GET comments": self._get_comments,
            "POST comments": self._post_comment,
            "GET replies": self._get_replies,
            "POST replies": self._post_reply,
            "POST messages": self._post_message,
            "GET subscriptions": self._get_app_subscriptions,
            "POST subscriptions": self._post_app_subscription,
        }

    # -- lifecycle --------------------------------------------------------
    thread_name = "fake-meta"
    poll_interval = 0.05

    def _make_server(self):
        return _Server(self)

    def stop(self):
        self._closing.set()  # wakes the handlers hanging on a delay fault
        return super().stop()

    def config(self, **overrides):
        """A MetaAdapter config pointing at this server."""
        return {
            "page_id": self.page_id,
            "page_access_token": self.access_token,
            "app_secret": self.app_secret,
            "verify_token": "fake-verify-token",
            "instagram_account_id": self.instagram_account_id,
            "graph_version": self.graph_version,
            "graph_base_url": self.base_url,
            "timeout": 2,
            "human_agent_tag": False,
            **overrides,
        }

    def instagram_login_config(self, **overrides):
        """A MetaAdapter config of an Instagram Login account on this server."""
        return {
            "connection": "instagram_login",
            "instagram_account_id": self.instagram_account_id,
            "instagram_access_token": self.instagram_token,
            "instagram_app_secret": self.instagram_app_secret,
            "verify_token": "fake-verify-token",
            "graph_version": self.graph_version,
            "graph_base_url": self.base_url,
            "timeout": 2,
            **overrides,
        }

    # -- scripting --------------------------------------------------------
    def fail_next(self, route, fault, times=1):
        """Make the next ``times`` calls of ``route`` answer with ``fault``."""
        with self._lock:
            self._faults[route].extend([fault] * times)

    def requests_to(self, route):
        with self._lock:
            return [request for request in self.requests if request.route == route]

    @property
    def app_access_token(self):
        """The app access token Meta accepts: ``{app-id}|{app-secret}``."""
        return f"{self.app_id}|{self.app_secret}"

    def add_post(self, post_id, message, created_time, author=None, **extra):
        """A post on the page feed, by the page unless ``author`` is given;
        ``extra`` adds Graph fields such as ``full_picture``."""
        with self._lock:
            self.posts[post_id] = {
                "id": post_id,
                "message": message,
                "created_time": created_time,
                "from": author or {"id": self.page_id, "name": self.page_name},
                **extra,
            }

    def add_profile(self, user_id, **fields):
        """What the User Profile API answers for a PSID or an IGSID
        (``name``, ``username``, ``profile_pic``)."""
        with self._lock:
            self.profiles[user_id] = {"id": user_id, **fields}

    def add_comment(
        self, comment_id, post_id, message, created_time, author, parent_id=None
    ):
        """A comment on a post, or a reply to the comment ``parent_id``."""
        with self._lock:
            self.comments[comment_id] = {
                "id": comment_id,
                "post_id": post_id,
                "on": parent_id or post_id,
                "message": message,
                "created_time": created_time,
                "from": author,
            }

    def add_message(
        self, platform, user, message_id, text, created_time, from_page=False, **extra
    ):
        """A message in the ``platform`` (messenger or instagram) conversation
        with ``user`` ({"id", "name"} or {"id", "username"}); ``extra`` adds
        Graph fields such as ``attachments``."""
        with self._lock:
            conversation = self._conversation(platform, user)
            own = self._own_profile(platform)
            conversation.messages.append(
                {
                    "id": message_id,
                    "message": text,
                    "created_time": created_time,
                    "from": own if from_page else user,
                    "to": {"data": [user if from_page else own]},
                    **extra,
                }
            )

    def add_media(self, media_id, timestamp, product_type="FEED", **extra):
        """An Instagram media; ``extra`` adds fields such as ``caption``."""
        with self._lock:
            self.media[media_id] = {
                "id": media_id,
                "timestamp": timestamp,
                "media_product_type": product_type,
                **extra,
            }

    def add_instagram_comment(
        self, comment_id, media_id, text, timestamp, author, parent_id=None
    ):
        """A comment on a media, or a reply to ``parent_id``; ``author`` is
        {"id", "username"}."""
        with self._lock:
            self.instagram_comments[comment_id] = {
                "id": comment_id,
                "media_id": media_id,
                "parent_id": parent_id,
                "text": text,
                "timestamp": timestamp,
                "from": author,
            }

    # -- request handling -------------------------------------------------
    def handle(self, handler, method):
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        content_type = handler.headers.get("Content-Type", "")
        fields, files = parse_multipart(raw, content_type)
        body = fields if files or fields else _parse_body(raw, content_type)
        segments = [unquote(part) for part in url.path.strip("/").split("/")]
        route = f"{method} {_edge(segments[1:])}"
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    route,
                    method,
                    url.path,
                    query,
                    body,
                    dict(handler.headers.items()),
                    files,
                )
            )
            fault = self._faults[route].popleft() if self._faults[route] else None
        if fault is not None and not fault.publish:
            self._closing.wait(fault.delay)
            answer = HTTPStatus(fault.status).phrase
            if fault.error is not None:
                answer = {"error": fault.error}
            return self._send(handler, fault.status, answer)
        status, answer = self._answer(
            route, segments, query, body, handler.headers, files
        )
        if fault is not None:
            self._closing.wait(fault.delay)
        return self._send(handler, status, answer)

    def _answer(self, route, segments, query, body, headers, files=None):
        if segments[0] != self.graph_version:
            return 400, {"error": graph_error(2500, "Unknown path components")}
        instagram = _token(query, headers, body) == self.instagram_token or (
            headers.get("Host", "").startswith("graph.instagram.com")
        )
        if instagram:
            denied = self._check_instagram_credentials(query, headers, route, body)
        else:
            denied = self._check_credentials(query, headers, route, body)
        if denied:
            return denied
        answer = self._routes.get(route)
        if answer is None:
            return 400, {"error": graph_error(100, f"Unsupported request {route}")}
        params = {**query, **(body if isinstance(body, dict) else {})}
        params.update({name: file for name, file in (files or {}).items()})
        with self._lock:
            self.instagram_host = instagram
            return answer(segments[1:], params)

    def _check_instagram_credentials(self, query, headers, route, body):
        """graph.instagram.com: the Instagram user token, on the account's
        edges (no page edge there)."""
        if _token(query, headers, body) != self.instagram_token:
            return 400, {"error": graph_error(190, subcode=460)}
        if route in INSTAGRAM_HOST_ROUTES:
            return None
        return 400, {"error": graph_error(100, f"Unsupported request {route}")}

    def _check_credentials(self, query, headers, route="", body=None):
        """The page token everywhere but on the app's own edges, which take
        the app access token only; from the header, query or form body."""
        token = _token(query, headers, body)
        if not token:
            message = "An active access token must be used to query information."
            return 400, {"error": graph_error(2500, message)}
        app_route = route.endswith(" subscriptions")
        if token == self.app_access_token and self.app_secret:
            if not app_route:
                return 400, {"error": graph_error(210)}
        elif token != self.access_token or not self.token_valid:
            return 400, {"error": graph_error(190, subcode=460)}
        elif app_route:
            return 400, {"error": graph_error(15)}
        proof = query.get("appsecret_proof")
        if self.app_secret and proof != hmac_sha256(self.app_secret, token).hex():
            message = "Invalid appsecret_proof provided in the API argument"
            return 400, {"error": graph_error(100, message)}
        return None

    def _send(self, handler, status, answer):
        if isinstance(answer, str):
            content_type, payload = "text/plain", answer.encode()
        else:
            content_type, payload = "application/json", json.dumps(answer).encode()
        # A client that timed out has left: what a delay fault is for.
        with contextlib.suppress(ConnectionError):
            handler.send_response(status)
            handler.send_header("Content-Type", f"{content_type}; charset=UTF-8")
            for name, value in self.usage_headers.items():
                handler.send_header(name, json.dumps(value))
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)


# What graph.instagram.com serves an Instagram Login account.
INSTAGRAM_HOST_ROUTES = frozenset(
    {
        "GET me",
        "GET subscribed_apps",
        "POST subscribed_apps",
        "GET conversations",
        "GET media",
        "GET replies",
        "POST replies",
        "POST messages",
    }
)


def _token(query, headers, body):
    """The access token of a request: header, query or form body."""
    form = body if isinstance(body, dict) else {}
    return (
        headers.get("Authorization", "").removeprefix("Bearer ")
        or query.get("access_token")
        or form.get("access_token")
    )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.fake.handle(self, "GET")

    def do_POST(self):
        self.server.fake.handle(self, "POST")

    def log_message(self, *args):
        """Silent: tests read FakeMetaServer.requests instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request, client_address):
        """A client gone after a timeout is expected; anything else is a bug
        of the fake and is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            return super().handle_error(request, client_address)
        return None
