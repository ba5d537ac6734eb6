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
"""

import contextlib
import itertools
import json
import secrets
import sys
import threading
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from ..adapters.base import hmac_sha256
from ..adapters.meta import INSTAGRAM_PERMISSIONS, PAGE_PERMISSIONS

GRAPH_ERROR_MESSAGES = {
    4: "(#4) Application request limit reached",
    10: "(#10) This message is sent outside of allowed window.",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    190: (
        "Error validating access token: The session has been invalidated "
        "because the user changed their password or Facebook has changed the "
        "session for security reasons."
    ),
    15: "(#15) This method must be called with an app access_token.",
    200: "(#200) Requires pages_messaging permission to manage the object",
    210: "(#210) A page access token is required to request this resource.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    10900: "(#10900) Activity already replied to",
    80001: (
        "(#80001) There have been too many calls to this Page account. "
        "Wait a bit and try again."
    ),
}


def graph_error(code, message=None, subcode=None):
    """A Graph error object as Meta sends it."""
    error = {
        "message": message or GRAPH_ERROR_MESSAGES.get(code, f"(#{code}) Error"),
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AFakeTraceId",
    }
    if subcode:
        error["error_subcode"] = subcode
    return error


@dataclass(frozen=True)
class RecordedRequest:
    route: str
    method: str
    path: str
    query: dict
    body: object  # JSON or form fields as a dict, other text as str, or None
    headers: dict


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


@dataclass
class _Conversation:
    id: str
    platform: str
    user: dict
    messages: list = field(default_factory=list)


class FakeMetaServer:
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
        graph_version="v23.0",
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
        self.private_replies = {}  # comment or post id -> message id
        self.app_subscriptions = {}  # object -> the app's webhook settings
        self.verify_callbacks = False  # True: check callback URLs over HTTP
        self._ids = itertools.count(1)
        self._faults = defaultdict(deque)
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._httpd = None
        self._thread = None
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
    def start(self):
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-meta",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        self._closing.set()  # wakes the handlers hanging on a delay fault
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

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

    def add_post(self, post_id, message, created_time, author=None):
        """A post on the page feed, by the page unless ``author`` is given."""
        with self._lock:
            self.posts[post_id] = {
                "id": post_id,
                "message": message,
                "created_time": created_time,
                "from": author or {"id": self.page_id, "name": self.page_name},
            }

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

    def add_media(self, media_id, timestamp, product_type="FEED"):
        with self._lock:
            self.media[media_id] = {
                "id": media_id,
                "timestamp": timestamp,
                "media_product_type": product_type,
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
        body = _parse_body(raw, handler.headers.get("Content-Type", ""))
        segments = [unquote(part) for part in url.path.strip("/").split("/")]
        route = f"{method} {_edge(segments[1:])}"
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    route, method, url.path, query, body, dict(handler.headers.items())
                )
            )
            fault = self._faults[route].popleft() if self._faults[route] else None
        if fault is not None and not fault.publish:
            self._closing.wait(fault.delay)
            answer = HTTPStatus(fault.status).phrase
            if fault.error is not None:
                answer = {"error": fault.error}
            return self._send(handler, fault.status, answer)
        status, answer = self._answer(route, segments, query, body, handler.headers)
        if fault is not None:
            self._closing.wait(fault.delay)
        return self._send(handler, status, answer)

    def _answer(self, route, segments, query, body, headers):
        if segments[0] != self.graph_version:
            return 400, {"error": graph_error(2500, "Unknown path components")}
        denied = self._check_credentials(query, headers, route, body)
        if denied:
            return denied
        answer = self._routes.get(route)
        if answer is None:
            return 400, {"error": graph_error(100, f"Unsupported request {route}")}
        params = {**query, **(body if isinstance(body, dict) else {})}
        with self._lock:
            return answer(segments[1:], params)

    def _check_credentials(self, query, headers, route="", body=None):
        """The page token everywhere but on the app's own edges, which take
        the app access token only; from the header, query or form body."""
        authorization = headers.get("Authorization", "")
        form = body if isinstance(body, dict) else {}
        token = (
            authorization.removeprefix("Bearer ")
            or query.get("access_token")
            or form.get("access_token")
        )
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

    # -- endpoints --------------------------------------------------------
    def _get_me(self, _ids, _params):
        return 200, {"id": self.page_id, "name": self.page_name}

    def _get_permissions(self, _ids, _params):
        granted = [{"permission": p, "status": "granted"} for p in self.granted_scopes]
        return 200, {"data": granted}

    def _get_debug_token(self, _ids, params):
        is_valid = params.get("input_token") == self.access_token and self.token_valid
        return 200, {
            "data": {
                "app_id": self.app_id,
                "type": "PAGE",
                "application": self.app_name,
                "data_access_expires_at": 0,
                "expires_at": 0,
                "is_valid": is_valid,
                "profile_id": self.page_id,
                "scopes": list(self.granted_scopes),
                "user_id": "10211885744794461",
            }
        }

    def _get_node(self, ids, _params):
        node_id = ids[0]
        if node_id == self.page_id:
            return 200, {"id": self.page_id, "name": self.page_name}
        if node_id in self.comments:
            return 200, self._render_comment(self.comments[node_id])
        if node_id in self.posts:
            return 200, self._render_post(self.posts[node_id])
        return _unknown_object(node_id)

    def _get_subscribed_apps(self, ids, _params):
        if ids[0] != self.page_id:
            return _unknown_object(ids[0])
        if not self.subscribed_fields:
            return 200, {"data": []}
        app = {
            "category": "Business",
            "link": "https://helpdesk.example.com/",
            "name": self.app_name,
            "id": self.app_id,
            "subscribed_fields": list(self.subscribed_fields),
        }
        return 200, {"data": [app]}

    def _post_subscribed_apps(self, ids, params):
        fields = [
            name for name in params.get("subscribed_fields", "").split(",") if name
        ]
        if ids[0] != self.page_id or not fields:
            return 400, {
                "error": graph_error(100, "(#100) subscribed_fields is required")
            }
        self.subscribed_fields = sorted(set(self.subscribed_fields) | set(fields))
        return 200, {"success": True}

    def _get_app_subscriptions(self, ids, _params):
        if ids[0] != self.app_id:
            return _unknown_object(ids[0])
        return 200, {"data": [dict(item) for item in self.app_subscriptions.values()]}

    def _post_app_subscription(self, ids, params):
        """Set the app's webhook for an object, checking the callback first."""
        if ids[0] != self.app_id:
            return _unknown_object(ids[0])
        obj = params.get("object")
        url = params.get("callback_url")
        fields = [name for name in params.get("fields", "").split(",") if name]
        if obj not in ("page", "instagram", "user", "permissions") or not url:
            message = "(#100) object and callback_url are required"
            return 400, {"error": graph_error(100, message)}
        if not fields:
            return 400, {"error": graph_error(100, "(#100) fields is required")}
        if self.verify_callbacks:
            problem = _verify_callback(url, params.get("verify_token", ""))
            if problem:
                message = f"(#2200) callback verification failed: {problem}"
                return 400, {"error": graph_error(2200, message)}
        current = self.app_subscriptions.get(obj, {}).get("fields", [])
        names = sorted({item["name"] for item in current} | set(fields))
        self.app_subscriptions[obj] = {
            "object": obj,
            "callback_url": url,
            "active": True,
            "fields": [{"name": name, "version": self.graph_version} for name in names],
        }
        return 200, {"success": True}

    def _get_feed(self, ids, params):
        if ids[0] != self.page_id:
            return _unknown_object(ids[0])
        posts = sorted(self.posts.values(), key=_created, reverse=True)
        rendered = [self._render_post(post) for post in posts]
        return 200, self._collection(rendered, params, ids)

    def _get_conversations(self, ids, params):
        platform = params.get("platform", "messenger")
        conversations = [
            conversation
            for conversation in self.conversations.values()
            if conversation.platform == platform
            and params.get("user_id") in (None, conversation.user["id"])
            and conversation.messages
        ]
        conversations.sort(key=lambda c: max(map(_created, c.messages)), reverse=True)
        rendered = [self._render_conversation(c) for c in conversations]
        return 200, self._collection(rendered, params, ids)

    def _get_media(self, ids, params):
        if ids[0] != self.instagram_account_id:
            return _unknown_object(ids[0])
        media = sorted(self.media.values(), key=lambda m: m["timestamp"], reverse=True)
        return 200, self._collection(
            [self._render_media(m) for m in media], params, ids
        )

    def _get_comments(self, ids, params):
        if ids[0] not in self.posts and ids[0] not in self.comments:
            return _unknown_object(ids[0])
        comments = [c for c in self.comments.values() if c["on"] == ids[0]]
        newest_first = params.get("order") == "reverse_chronological"
        comments.sort(key=_created, reverse=newest_first)
        rendered = [self._render_comment(comment) for comment in comments]
        return 200, self._collection(rendered, params, ids)

    def _post_comment(self, ids, params):
        target = self.comments.get(ids[0]) or self.posts.get(ids[0])
        if target is None:
            return _unknown_object(ids[0])
        if not params.get("message"):
            return 400, {"error": graph_error(100, "(#100) message is required")}
        post_id = target.get("post_id", target["id"])
        comment_id = f"{post_id.rsplit('_', 1)[-1]}_{next(self._ids)}"
        self.add_comment(
            comment_id,
            post_id,
            params["message"],
            _now(),
            {"id": self.page_id, "name": self.page_name},
            parent_id=ids[0] if ids[0] in self.comments else None,
        )
        return 200, {"id": comment_id}

    def _get_replies(self, ids, params):
        if ids[0] not in self.instagram_comments:
            return _unknown_object(ids[0])
        replies = [
            self._render_instagram_comment(reply)
            for reply in sorted(
                self.instagram_comments.values(), key=lambda c: c["timestamp"]
            )
            if reply["parent_id"] == ids[0]
        ]
        return 200, self._collection(replies, params, ids)

    def _post_reply(self, ids, params):
        parent = self.instagram_comments.get(ids[0])
        if parent is None:
            return _unknown_object(ids[0])
        if not params.get("message"):
            return 400, {"error": graph_error(100, "(#100) message is required")}
        reply_id = str(17870000000000000 + next(self._ids))
        author = {"id": self.instagram_account_id, "username": self.instagram_username}
        self.add_instagram_comment(
            reply_id, parent["media_id"], params["message"], _now(), author, ids[0]
        )
        return 200, {"id": reply_id}

    def _post_message(self, ids, params):
        """The Send API: to a user (``recipient.id``) in an open conversation,
        or a private reply (``recipient.comment_id``/``post_id``), once."""
        recipient = _json_param(params, "recipient")
        message = _json_param(params, "message")
        if ids[0] not in (self.page_id, "me") or not recipient or not message:
            return 400, {
                "error": graph_error(100, "(#100) Invalid recipient or message")
            }
        target = recipient.get("comment_id") or recipient.get("post_id")
        if target:
            return self._private_reply(target, message)
        if params.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return 400, {"error": graph_error(100, "(#100) messaging_type is required")}
        if params["messaging_type"] == "MESSAGE_TAG" and not params.get("tag"):
            return 400, {"error": graph_error(100, "(#100) tag is required")}
        conversation = next(
            (
                conversation
                for (_platform, user_id), conversation in self.conversations.items()
                if user_id == recipient.get("id")
            ),
            None,
        )
        if conversation is None:
            message = "(#100) No matching user found"
            return 400, {"error": graph_error(100, message, subcode=2018001)}
        return 200, self._deliver(conversation, message)

    def _private_reply(self, target, message):
        if target in self.private_replies:
            return 400, {"error": graph_error(10900)}
        platform, node = (
            "messenger",
            self.comments.get(target) or self.posts.get(target),
        )
        if node is None and target in self.instagram_comments:
            platform, node = "instagram", self.instagram_comments[target]
        if node is None:
            return _unknown_object(target)
        conversation = self._conversation(platform, node["from"])
        answer = self._deliver(conversation, message)
        self.private_replies[target] = answer["message_id"]
        return 200, answer

    def _deliver(self, conversation, message):
        message_id = f"m_{next(self._ids)}"
        conversation.messages.append(
            {
                "id": message_id,
                "message": message.get("text", ""),
                "created_time": _now(),
                "from": self._own_profile(conversation.platform),
                "to": {"data": [conversation.user]},
            }
        )
        return {"recipient_id": conversation.user["id"], "message_id": message_id}

    # -- rendering --------------------------------------------------------
    def _collection(self, nodes, params, ids):
        """A Graph page of ``nodes`` with cursor paging (``limit``/``after``)."""
        limit = int(params.get("limit") or 25)
        start = int(params.get("after") or 0)
        page = nodes[start : start + limit]
        body = {"data": page}
        if page:
            end = start + len(page)
            body["paging"] = {"cursors": {"before": str(start), "after": str(end)}}
            if end < len(nodes):
                path = "/".join([self.graph_version, *ids])
                query = f"limit={limit}&after={end}"
                body["paging"]["next"] = f"{self.base_url}/{path}?{query}"
        return body

    def _render_post(self, post):
        comments = [c for c in self.comments.values() if c["post_id"] == post["id"]]
        comments.sort(key=_created, reverse=True)
        return {
            "id": post["id"],
            "message": post["message"],
            "created_time": _graph_time(post["created_time"]),
            "from": post["from"],
            "comments": {"data": [self._render_comment(c) for c in comments]},
        }

    def _render_comment(self, comment):
        rendered = {
            "id": comment["id"],
            "message": comment["message"],
            "created_time": _graph_time(comment["created_time"]),
            "from": comment["from"],
        }
        parent = self.comments.get(comment["on"])
        if parent is not None:
            rendered["parent"] = {
                "id": parent["id"],
                "message": parent["message"],
                "created_time": _graph_time(parent["created_time"]),
                "from": parent["from"],
            }
        return rendered

    def _render_conversation(self, conversation):
        messages = sorted(conversation.messages, key=_created, reverse=True)
        return {
            "id": conversation.id,
            "updated_time": _graph_time(messages[0]["created_time"]),
            "messages": {
                "data": [
                    {**message, "created_time": _graph_time(message["created_time"])}
                    for message in messages
                ]
            },
        }

    def _render_media(self, media):
        comments = [
            comment
            for comment in self.instagram_comments.values()
            if comment["media_id"] == media["id"] and not comment["parent_id"]
        ]
        comments.sort(key=lambda c: c["timestamp"])
        rendered = []
        for comment in comments:
            node = self._render_instagram_comment(comment)
            replies = [
                self._render_instagram_comment(reply)
                for reply in self.instagram_comments.values()
                if reply["parent_id"] == comment["id"]
            ]
            if replies:
                node["replies"] = {"data": replies}
            rendered.append(node)
        return {
            "id": media["id"],
            "timestamp": _graph_time(media["timestamp"]),
            "media_product_type": media["media_product_type"],
            "comments": {"data": rendered},
        }

    def _render_instagram_comment(self, comment):
        rendered = {
            "id": comment["id"],
            "text": comment["text"],
            "timestamp": _graph_time(comment["timestamp"]),
            "from": comment["from"],
            "username": comment["from"].get("username", ""),
        }
        if comment["parent_id"]:
            rendered["parent_id"] = comment["parent_id"]
        return rendered

    def _conversation(self, platform, user):
        key = (platform, user["id"])
        if key not in self.conversations:
            self.conversations[key] = _Conversation(
                id=f"t_{next(self._ids)}", platform=platform, user=dict(user)
            )
        return self.conversations[key]

    def _own_profile(self, platform):
        if platform == "instagram":
            return {
                "id": self.instagram_account_id,
                "username": self.instagram_username,
            }
        return {"id": self.page_id, "name": self.page_name}


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


def _edge(segments):
    """The route's edge name for a path without its version."""
    if segments in (["me"], ["debug_token"]):
        return segments[0]
    if segments == ["me", "permissions"]:
        return "permissions"
    if len(segments) == 1:
        return "node"
    if len(segments) == 2:
        return segments[1]
    return "unknown"


def _parse_body(raw, content_type):
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    return text


def _json_param(params, name):
    """A dict parameter, sent as JSON in the body or JSON-encoded in a form."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _verify_callback(url, verify_token):
    """Meta's verification request; the problem found, or "" when it passed."""
    challenge = secrets.token_hex(8)
    query = urlencode(
        {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
    )
    separator = "&" if "?" in url else "?"
    try:
        with urllib.request.urlopen(f"{url}{separator}{query}", timeout=3) as answer:
            received = answer.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"URL couldn't be validated ({type(exc).__name__})"
    if received != challenge:
        return (
            "Response does not match challenge, expected value="
            f'"{challenge}", received="{received[:40]}"'
        )
    return ""


def _unknown_object(object_id):
    message = (
        f"Unsupported request. Object with ID '{object_id}' does not exist, cannot "
        "be loaded due to missing permissions, or does not support this operation."
    )
    return 400, {"error": graph_error(100, message, subcode=33)}


def _created(node):
    return node["created_time"]


def _graph_time(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _now():
    return datetime.now(timezone.utc)
