"""The endpoints of :class:`~.fake_meta.FakeMetaServer`: Graph API answers,
errors and rendering of the fake's state; no Odoo import.
"""

import json
import secrets
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

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


@dataclass
class _Conversation:
    id: str
    platform: str
    user: dict
    messages: list = field(default_factory=list)


class MetaEndpoints:
    """The Graph API endpoints the fake serves, on the server's state."""

    # -- endpoints --------------------------------------------------------
    def _get_me(self, _ids, _params):
        if self.instagram_host:
            return 200, {
                "id": f"app-scoped-{self.instagram_account_id}",
                "user_id": self.instagram_account_id,
                "username": self.instagram_username,
            }
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

    def _get_node(self, ids, params):
        node_id = ids[0]
        if node_id == self.page_id:
            return 200, {"id": self.page_id, "name": self.page_name}
        if node_id in self.comments:
            return 200, self._render_comment(self.comments[node_id])
        if node_id in self.posts:
            return 200, self._render_post(self.posts[node_id])
        if node_id in self.profiles:
            return 200, _fields(self.profiles[node_id], params)
        if node_id in self.media:
            return 200, _fields(self.media[node_id], params)
        return _unknown_object(node_id)

    def _get_subscribed_apps(self, ids, _params):
        owner, subscribed = self._subscriber()
        if ids[0] != owner:
            return _unknown_object(ids[0])
        if not subscribed:
            return 200, {"data": []}
        app = {
            "category": "Business",
            "link": "https://helpdesk.example.com/",
            "name": self.app_name,
            "id": self.app_id,
            "subscribed_fields": list(subscribed),
        }
        return 200, {"data": [app]}

    def _post_subscribed_apps(self, ids, params):
        fields = [
            name for name in params.get("subscribed_fields", "").split(",") if name
        ]
        owner, subscribed = self._subscriber()
        if ids[0] != owner or not fields:
            return 400, {
                "error": graph_error(100, "(#100) subscribed_fields is required")
            }
        fields = sorted(set(subscribed) | set(fields))
        if self.instagram_host:
            self.instagram_subscribed_fields = fields
        else:
            self.subscribed_fields = fields
        return 200, {"success": True}

    def _subscriber(self):
        """(id, subscribed fields) of who installs the app: the page, or on
        graph.instagram.com the Instagram account."""
        if self.instagram_host:
            return self.instagram_account_id, self.instagram_subscribed_fields
        return self.page_id, self.subscribed_fields

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
        if self.instagram_host and ids[0] != self.instagram_account_id:
            return _unknown_object(ids[0])
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
        if isinstance(params.get("source"), tuple):
            self.images[comment_id] = params["source"][2]
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
        sender = self.instagram_account_id if self.instagram_host else self.page_id
        if ids[0] not in (sender, "me") or not recipient or not message:
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
        if "attachment" in message:
            message = {**message, "filedata": params.get("filedata")}
        answer = self._deliver(conversation, message)
        if answer is None:
            return 400, {"error": graph_error(100, "(#100) Invalid attachment")}
        return 200, answer

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
        if answer is None:
            return 400, {"error": graph_error(100, "(#100) Invalid attachment")}
        self.private_replies[target] = answer["message_id"]
        return 200, answer

    def _deliver(self, conversation, message):
        message_id = f"m_{next(self._ids)}"
        if "attachment" in message:
            # An upload with the message (multipart filedata) is its image.
            filedata = message.get("filedata")
            if message["attachment"].get("type") != "image" or not filedata:
                return None
            self.images[message_id] = filedata[2]
            extra = {"attachments": {"data": [{"id": f"a_{message_id}"}]}}
        else:
            extra = {}
        conversation.messages.append(
            {
                "id": message_id,
                "message": message.get("text", ""),
                "created_time": _now(),
                "from": self._own_profile(conversation.platform),
                "to": {"data": [conversation.user]},
                **extra,
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
            **{
                key: post[key]
                for key in ("full_picture", "permalink_url")
                if key in post
            },
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


def _fields(node, params):
    """The node's ``fields`` asked for, with its id, as Graph answers."""
    wanted = {"id", *params.get("fields", "").split(",")}
    return {key: value for key, value in node.items() if key in wanted}


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
