"""The endpoints of :class:`~.fake_whatsapp.FakeWhatsApp`: Cloud API answers
and errors as Meta documents them, on the fake's state; no Odoo import.

Send message: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
Media: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media
Templates: https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview
"""

import re

from .fake_meta_api import _fields, _verify_callback, graph_error

WA_ERRORS = {
    100: "(#100) Invalid parameter",
    131009: "(#131009) Parameter value is not valid",
    131047: "Re-engagement message",
    131051: "Unsupported message type",
    131052: "Media download error",
    132000: "(#132000) Number of parameters does not match the expected number",
    132001: "(#132001) Template name does not exist in the translation",
}
SEND_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "template",
        "interactive",
        "reaction",
        "location",
        "contacts",
    }
)
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def wa_error(code, details=None, status=400):
    """A Cloud API error: Graph's object with WhatsApp's ``error_data``."""
    error = graph_error(code, WA_ERRORS.get(code))
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return status, {"error": error}


class WhatsAppEndpoints:
    """The Cloud API endpoints the fake serves, on the server's state."""

    # -- nodes ------------------------------------------------------------
    def _get_node(self, node_id, params):
        if node_id in self.phone_numbers:
            return 200, _fields(self.phone_numbers[node_id], params)
        if node_id in self.media:
            content, mime_type = self.media[node_id]
            return 200, {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/cdn/{node_id}?ext=1&hash=fake",
                "mime_type": mime_type,
                "sha256": "fake",
                "file_size": str(len(content)),
                "id": node_id,
            }
        message = f"Unsupported get request. Object with ID '{node_id}' does not exist."
        return 400, {"error": graph_error(100, message, subcode=33)}

    def _get_debug_token(self, _node, params):
        return 200, {
            "data": {
                "app_id": self.app_id,
                "type": "SYSTEM_USER",
                "application": self.app_name,
                "is_valid": params.get("input_token") == self.access_token
                and self.token_valid,
                "scopes": list(self.granted_scopes),
            }
        }

    # -- messages ---------------------------------------------------------
    def _post_messages(self, node_id, body):
        if node_id not in self.phone_numbers:
            return wa_error(100, f"Unknown phone number id {node_id}")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return wa_error(100, "messaging_product must be whatsapp")
        to, recipient = body.get("to"), body.get("recipient")
        if not to and not recipient:
            return wa_error(100, "The parameter to is required.")
        if to and not str(to).isdigit():
            return wa_error(100, "to must be a phone number")
        kind = body.get("type", "text")
        if kind not in SEND_TYPES or not isinstance(body.get(kind), dict):
            return wa_error(100, f"Invalid message type {kind!r} or missing object")
        reference = body.get("biz_opaque_callback_data")
        if reference is not None and (
            not isinstance(reference, str) or len(reference) > 512
        ):
            return wa_error(100, "biz_opaque_callback_data is at most 512 characters")
        who = str(to or recipient)
        if kind != "template" and who in self.closed_windows:
            return wa_error(
                131047,
                "Message failed to send because more than 24 hours have passed "
                "since the customer last replied to this number.",
            )
        problem = self._check_content(kind, body[kind])
        if problem:
            return problem
        wamid = f"wamid.FAKE{next(self._ids):08d}"
        self.sent.append({"id": wamid, "phone_number_id": node_id, **body})
        contact = (
            {"input": who, "wa_id": str(to)} if to else {"input": who, "user_id": who}
        )
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": wamid}],
        }

    def _check_content(self, kind, content):
        """The error Meta answers for a malformed message, or None."""
        if kind == "text":
            text = content.get("body")
            if not isinstance(text, str) or not text or len(text) > TEXT_LIMIT:
                return wa_error(100, f"text.body must be 1 to {TEXT_LIMIT} characters")
        if kind in MEDIA_TYPES:
            if content.get("id") not in self.media and not content.get("link"):
                return wa_error(131052, "Unknown media id")
            if len(content.get("caption") or "") > CAPTION_LIMIT:
                return wa_error(100, f"caption is at most {CAPTION_LIMIT} characters")
        if kind == "template":
            return self._check_template(content)
        if kind == "interactive":
            return _check_interactive(content)
        return None

    def _check_template(self, content):
        language = (content.get("language") or {}).get("code")
        template = next(
            (
                item
                for item in self.templates
                if item["name"] == content.get("name")
                and item["language"] == language
                and item["status"] == "APPROVED"
            ),
            None,
        )
        if template is None:
            return wa_error(
                132001,
                f"template name ({content.get('name')}) does not exist in {language}",
            )
        for component in template["components"]:
            wanted = len(set(PLACEHOLDER.findall(component.get("text") or "")))
            if not wanted or component["type"] not in ("HEADER", "BODY"):
                continue
            given = next(
                (
                    item.get("parameters", [])
                    for item in content.get("components") or []
                    if item.get("type") == component["type"].lower()
                ),
                [],
            )
            if len(given) != wanted:
                return wa_error(
                    132000,
                    f"{component['type'].lower()}: expected {wanted}, got {len(given)}",
                )
        return None

    # -- media ------------------------------------------------------------
    def _post_media(self, node_id, params):
        upload = params.get("file")
        if node_id not in self.phone_numbers or not isinstance(upload, tuple):
            return wa_error(100, "file is required")
        if params.get("messaging_product") != "whatsapp":
            return wa_error(100, "messaging_product must be whatsapp")
        name, mime_type, content = upload
        media_id = f"{next(self._ids) + 9000000000000000}"
        self.media[media_id] = (content, params.get("type") or mime_type)
        self.uploads[media_id] = name
        return 200, {"id": media_id}

    # -- templates --------------------------------------------------------
    def _get_message_templates(self, node_id, params):
        if node_id != self.waba_id:
            return wa_error(100, f"Unknown WhatsApp Business Account {node_id}")
        limit = int(params.get("limit") or 25)
        start = int(params.get("after") or 0)
        page = self.templates[start : start + limit]
        paging = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + limit < len(self.templates):
            paging["next"] = (
                f"{self.base_url}/{self.graph_version}/{node_id}/message_templates"
                f"?limit={limit}&after={start + limit}"
            )
        return 200, {"data": page, "paging": paging}

    # -- subscriptions ----------------------------------------------------
    def _get_subscribed_apps(self, node_id, _params):
        if node_id != self.waba_id:
            return wa_error(100, f"Unknown WhatsApp Business Account {node_id}")
        apps = [
            {
                "whatsapp_business_api_data": {
                    "id": self.app_id,
                    "name": self.app_name,
                    "link": f"https://www.facebook.com/games/?app_id={self.app_id}",
                }
            }
        ]
        return 200, {"data": apps if self.app_subscribed else []}

    def _post_subscribed_apps(self, node_id, _params):
        if node_id != self.waba_id:
            return wa_error(100, f"Unknown WhatsApp Business Account {node_id}")
        self.app_subscribed = True
        return 200, {"success": True}

    def _get_app_subscriptions(self, _node, _params):
        return 200, {"data": list(self.app_subscriptions.values())}

    def _post_app_subscription(self, node_id, params):
        if node_id != self.app_id:
            return wa_error(100, f"Unknown app {node_id}")
        url = params.get("callback_url") or ""
        if self.verify_callbacks:
            problem = _verify_callback(url, params.get("verify_token") or "")
            if problem:
                return 400, {
                    "error": graph_error(
                        2200, f"(#2200) Callback verification failed: {problem}"
                    )
                }
        obj = params.get("object")
        self.app_subscriptions[obj] = {
            "object": obj,
            "callback_url": url,
            "active": True,
            "fields": [
                {"name": name, "version": self.graph_version}
                for name in (params.get("fields") or "").split(",")
                if name
            ],
        }
        return 200, {"success": True}


def _check_interactive(content):
    kind = content.get("type")
    action = content.get("action") or {}
    if kind == "list":
        rows = [
            row
            for section in action.get("sections") or []
            for row in section.get("rows") or []
        ]
        if not rows or len(rows) > 10:
            return wa_error(131009, "A list has 1 to 10 rows")
        if not 0 < len(action.get("button") or "") <= 20:
            return wa_error(131009, "action.button is 1 to 20 characters")
        if any(
            not 0 < len(row.get("title") or "") <= 24 or len(row.get("id") or "") > 200
            for row in rows
        ):
            return wa_error(
                131009, "A row title is 1 to 24 characters, its id at most 200"
            )
    elif kind == "button":
        buttons = action.get("buttons") or []
        if not 0 < len(buttons) <= 3:
            return wa_error(131009, "Reply buttons are 1 to 3")
    else:
        return wa_error(131009, f"Unsupported interactive type {kind!r}")
    if not (content.get("body") or {}).get("text"):
        return wa_error(131009, "body.text is required")
    return None
