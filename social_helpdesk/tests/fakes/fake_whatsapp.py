"""A fake WhatsApp Cloud API on loopback, for tests and benchmarks.

It answers what :class:`~social_helpdesk.adapters.whatsapp.WhatsAppAdapter`
calls, with the JSON Meta documents: the phone number node, ``debug_token``,
``POST /{phone-number-id}/messages`` (recorded in :attr:`FakeWhatsApp.sent`),
``POST /{phone-number-id}/media`` (uploads), media lookup ``GET /{media-id}``
and its download URL (``/cdn/{media-id}``, Bearer token required, as on
Meta's lookaside host), ``GET /{waba-id}/message_templates`` (paged),
``GET|POST /{waba-id}/subscribed_apps`` and the app's
``GET|POST /{app-id}/subscriptions`` (app access token). It also builds
webhook deliveries in the documented shapes, signed with the app secret::

    with FakeWhatsApp() as wa:
        adapter = WhatsAppAdapter(wa.config())
        ana = customer("34600111222", user_id="ES.1502576394655843", name="Ana")
        body = wa.delivery_for_messages([inbound("wamid.1", ana, text="Hola")])
        raw, headers = wa.signed(body)

Routes are named ``"<METHOD> <edge>"`` (``GET node``, ``POST messages``,
``GET cdn``...); :meth:`FakeWhatsApp.fail_next` makes the next calls of one
fail with a Graph error, :meth:`FakeWhatsApp.hang_next` hang past the
client's timeout (after carrying the call out, or not), and
``closed_windows`` (recipients) makes free-form messages to them fail with
error 131047, as after 24 hours.
"""

import contextlib
import itertools
import json
import sys
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from ...adapters.base import hmac_sha256
from ...adapters.meta.versions import DEFAULT_GRAPH_VERSION
from .fake_meta import RecordedRequest
from .fake_meta_api import _parse_body, graph_error
from .fake_whatsapp_api import WhatsAppEndpoints
from .loopback import LoopbackServer
from .multipart import parse_multipart

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"


class FakeWhatsApp(LoopbackServer, WhatsAppEndpoints):
    """A Cloud API for one WhatsApp Business Account; a context manager."""

    thread_name = "fake-whatsapp"

    def __init__(
        self,
        waba_id=WABA_ID,
        phone_number_id=PHONE_NUMBER_ID,
        display_phone_number=DISPLAY_PHONE_NUMBER,
        verified_name="Acme Support",
        access_token="fake-whatsapp-token",
        app_id="1517776481860111",
        app_name="Acme Helpdesk",
        app_secret="fake-app-secret",
        graph_version=DEFAULT_GRAPH_VERSION,
    ):
        self.waba_id = waba_id
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.app_id = app_id
        self.app_name = app_name
        self.app_secret = app_secret
        self.graph_version = graph_version
        self.token_valid = True
        self.requests = []
        self._ids = itertools.count(1)
        self._faults = defaultdict(deque)
        self._hangs = defaultdict(deque)
        self._closing = threading.Event()
        self._lock = threading.RLock()
        self.granted_scopes = [
            "whatsapp_business_messaging",
            "whatsapp_business_management",
        ]
        self.phone_numbers = {}
        self.add_phone_number(phone_number_id, display_phone_number, verified_name)
        self.media = {}  # media id -> (bytes, mime type)
        self.uploads = {}  # media id -> file name, of media the adapter uploaded
        self.templates = []
        self.sent = []  # the messages sent, as posted, with their "id"
        self.closed_windows = set()  # recipients (to or recipient) past 24 hours
        self.app_subscribed = False
        self.app_subscriptions = {}
        self.verify_callbacks = False

    def _make_server(self):
        return _Server(self)

    def config(self, **overrides):
        """A WhatsAppAdapter config pointing at this server."""
        return {
            "business_account_id": self.waba_id,
            "phone_number_id": self.phone_number_id,
            "access_token": self.access_token,
            "app_secret": self.app_secret,
            "verify_token": "fake-verify-token",
            "graph_version": self.graph_version,
            "graph_base_url": self.base_url,
            "timeout": 2,
            **overrides,
        }

    # -- scripting --------------------------------------------------------
    def add_phone_number(
        self,
        phone_number_id,
        display_phone_number,
        verified_name="Acme Support",
        quality_rating="GREEN",
        messaging_limit="TIER_2K",
    ):
        with self._lock:
            self.phone_numbers[phone_number_id] = {
                "id": phone_number_id,
                "display_phone_number": display_phone_number,
                "verified_name": verified_name,
                "quality_rating": quality_rating,
                "whatsapp_business_manager_messaging_limit": messaging_limit,
            }

    def add_media(self, media_id, content, mime_type):
        """A customer's media, served by id for a few minutes on Meta."""
        with self._lock:
            self.media[str(media_id)] = (content, mime_type)

    def add_template(
        self, name, language, components, category="UTILITY", status="APPROVED", **extra
    ):
        """A message template of the WhatsApp Business Account, as the
        message_templates edge lists it (``extra``: parameter_format...)."""
        with self._lock:
            self.templates.append(
                {
                    "name": name,
                    "language": language,
                    "category": category,
                    "status": status,
                    "components": components,
                    "id": str(next(self._ids) + 594425479261000),
                    **extra,
                }
            )

    def fail_next(self, route, code, message=None, status=400, times=1, **extra):
        """Make the next ``times`` calls of ``route`` answer Graph error ``code``."""
        error = {**graph_error(code, message), **extra}
        with self._lock:
            self._faults[route].extend([(status, {"error": error})] * times)

    def hang_next(self, route, seconds, publish=False):
        """Make the next call of ``route`` hang ``seconds`` (past the client's
        timeout) and answer 504; with ``publish``, after carrying it out, as
        when Meta sends the message and the answer is lost."""
        with self._lock:
            self._hangs[route].append((seconds, publish))

    def stop(self):
        self._closing.set()
        return super().stop()

    def requests_to(self, route):
        with self._lock:
            return [request for request in self.requests if request.route == route]

    @property
    def app_access_token(self):
        return f"{self.app_id}|{self.app_secret}"

    # -- webhook deliveries -------------------------------------------------
    def delivery_for_messages(self, messages, contacts=None, phone_number_id=None):
        """A ``messages`` webhook body of ``messages`` (see :func:`inbound`),
        with ``contacts`` (default: each sender's, from :func:`inbound`)."""
        senders = []
        for message in messages:
            contact = message.pop("_contact", None)
            if contact and contact not in senders:
                senders.append(contact)
        value = {
            "contacts": senders if contacts is None else contacts,
            "messages": messages,
        }
        return self._delivery(value, phone_number_id)

    def delivery_for_statuses(self, statuses, contacts=None, phone_number_id=None):
        """A ``messages`` webhook body of ``statuses`` (see :func:`status`)."""
        value = {"statuses": statuses}
        if contacts:
            value["contacts"] = contacts
        return self._delivery(value, phone_number_id)

    def status_of(self, sent, name, timestamp=1765094460, pricing=None, errors=None):
        """A ``statuses`` item about ``sent`` (an item of :attr:`sent`), as
        Meta reports it: to its recipient, with its reference."""
        recipient = {}
        if sent.get("to"):
            recipient["wa_id"] = sent["to"]
        if sent.get("recipient"):
            recipient["user_id"] = sent["recipient"]
        return status(
            sent["id"],
            name,
            recipient,
            timestamp=timestamp,
            pricing=pricing,
            errors=errors,
            reference=sent.get("biz_opaque_callback_data"),
        )

    def _delivery(self, value, phone_number_id):
        phone_number_id = phone_number_id or self.phone_number_id
        number = self.phone_numbers.get(phone_number_id, {})
        metadata = {
            "display_phone_number": number.get("display_phone_number", ""),
            "phone_number_id": phone_number_id,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": metadata,
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def signed(self, body):
        """``(raw bytes, headers)`` of a delivery, signed as Meta signs it."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signature = "sha256=" + hmac_sha256(self.app_secret, raw).hex()
        return raw, {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature,
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
        route = f"{method} {_edge(segments)}"
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
            hang = self._hangs[route].popleft() if self._hangs[route] else None
            if fault is not None:
                status, answer = fault
            elif hang is None or hang[1]:
                status, answer = self._answer(
                    route, segments, query, body, handler, files
                )
        if hang is not None:
            self._closing.wait(hang[0])
            status, answer = 504, "Gateway Timeout"
        self._send(handler, status, answer)

    def _answer(self, route, segments, query, body, handler, files):
        token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
        if route == "GET cdn":
            return self._download(segments[1], token)
        if segments[0] != self.graph_version:
            return 400, {"error": graph_error(2500, "Unknown path components")}
        denied = self._check_credentials(route, token, query)
        if denied:
            return denied
        params = {**query, **(body if isinstance(body, dict) else {})}
        params.update(files or {})
        node = segments[1] if len(segments) > 1 else ""
        routes = {
            "GET node": lambda: self._get_node(node, params),
            "GET debug_token": lambda: self._get_debug_token(node, params),
            "POST messages": lambda: self._post_messages(node, body),
            "POST media": lambda: self._post_media(node, params),
            "GET message_templates": lambda: self._get_message_templates(node, params),
            "GET subscribed_apps": lambda: self._get_subscribed_apps(node, params),
            "POST subscribed_apps": lambda: self._post_subscribed_apps(node, params),
            "GET subscriptions": lambda: self._get_app_subscriptions(node, params),
            "POST subscriptions": lambda: self._post_app_subscription(node, params),
        }
        answer = routes.get(route)
        if answer is None:
            return 400, {"error": graph_error(100, f"Unsupported request {route}")}
        return answer()

    def _check_credentials(self, route, token, query):
        """The system user token everywhere but on the app's subscriptions,
        which take the app access token; appsecret_proof checked when sent."""
        app_route = route.endswith(" subscriptions")
        if app_route:
            if token != self.app_access_token:
                return 400, {"error": graph_error(15)}
        elif token != self.access_token or not self.token_valid:
            return 401, {"error": graph_error(190, subcode=463)}
        proof = query.get("appsecret_proof")
        if proof is not None and proof != hmac_sha256(self.app_secret, token).hex():
            message = "Invalid appsecret_proof provided in the API argument"
            return 400, {"error": graph_error(100, message)}
        return None

    def _download(self, media_id, token):
        if token != self.access_token:
            return 401, "Unauthorized"
        if media_id not in self.media:
            return 404, "Not found"
        return 200, self.media[media_id]

    def _send(self, handler, status, answer):
        if isinstance(answer, tuple):  # media bytes and their type
            payload, content_type = answer
        elif isinstance(answer, str):
            payload, content_type = answer.encode(), "text/plain"
        else:
            payload, content_type = json.dumps(answer).encode(), "application/json"
        with contextlib.suppress(ConnectionError):
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)


# -- payload builders ----------------------------------------------------------
def customer(wa_id=None, user_id=None, name="", username=None):
    """A ``contacts`` item: the phone number (``wa_id``) may be withheld,
    the business-scoped user id (``user_id``) may be absent before 2026."""
    contact = {"profile": {"name": name}}
    if username:
        contact["profile"]["username"] = username
    if wa_id:
        contact["wa_id"] = wa_id
    if user_id:
        contact["user_id"] = user_id
    return contact


def inbound(
    wamid, sender, timestamp=1765094400, text=None, kind=None, content=None, **extra
):
    """A message from ``sender`` (a :func:`customer`): a text, or ``kind``
    with its ``content`` object (``image``, ``location``...); ``extra`` adds
    ``context``, ``referral``, ``errors``..."""
    kind = kind or "text"
    message = {"id": wamid, "timestamp": str(timestamp), "type": kind, **extra}
    if kind == "contacts":
        message["contacts"] = content
    else:
        message[kind] = {"body": text} if content is None else content
    if sender.get("wa_id"):
        message["from"] = sender["wa_id"]
    if sender.get("user_id"):
        message["from_user_id"] = sender["user_id"]
    message["_contact"] = sender  # taken out by delivery_for_messages
    return message


def status(
    wamid,
    name,
    recipient,
    timestamp=1765094460,
    pricing=None,
    errors=None,
    reference=None,
):
    """A ``statuses`` item about our message ``wamid`` to ``recipient`` (a
    :func:`customer`); a failed one carries ``errors``."""
    item = {"id": wamid, "status": name, "timestamp": str(timestamp)}
    if recipient.get("wa_id"):
        item["recipient_id"] = recipient["wa_id"]
    if recipient.get("user_id"):
        item["recipient_user_id"] = recipient["user_id"]
    if reference:
        item["biz_opaque_callback_data"] = reference
    if pricing:
        item["pricing"] = pricing
    if errors:
        item["errors"] = errors
    return item


def service_pricing(category="service", billable=True):
    return {
        "billable": billable,
        "pricing_model": "PMP",
        "category": category,
        "type": "regular" if billable else "free_customer_service",
    }


def _edge(segments):
    """The route's edge for a path (its version first, but for the CDN)."""
    if segments[0] == "cdn" and len(segments) == 2:
        return "cdn"
    rest = segments[1:]
    if rest == ["debug_token"]:
        return "debug_token"
    if len(rest) == 1:
        return "node"
    if len(rest) == 2:
        return rest[1]
    return "unknown"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.fake.handle(self, "GET")

    def do_POST(self):
        self.server.fake.handle(self, "POST")

    def log_message(self, *args):
        """Silent: tests read FakeWhatsApp.requests instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            return super().handle_error(request, client_address)
        return None
