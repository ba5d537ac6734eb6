# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Public webhook endpoint of every network.

It verifies the signature over the raw body, stores the events and answers
at once: no network API call and no ticket creation happen in the request,
so the networks' delivery deadlines (Meta: 20 s) are always met.

A Meta app has one callback URL for all its pages, and an X app's webhook
serves every account subscribed to it: each event is filed under the account
it is addressed to, among those that share the signing secret of the URL's
account; the others are kept apart, rejected (see ``social.event``).
"""

import json
import logging

from psycopg2.errors import ForeignKeyViolation
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..adapters.base import (
    HandshakeError,
    MalformedPayload,
    SignatureError,
    load_json,
)
from ..models.social_account import ADAPTERS, NETWORK_OF_META_OBJECT

_logger = logging.getLogger(__name__)

# The Graph API version Meta built a webhook delivery with.
API_VERSION_HEADER = "Facebook-API-Version"


class SocialWebhookController(http.Controller):
    @http.route(
        "/social_helpdesk/webhook/<string:network>/<string:token>",
        type="http",
        # No user: the network proves itself by the signature, and a delivery
        # runs no query but the one that stores it.
        auth="none",
        readonly=False,  # auth="none" routes are read-only by default
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def webhook(self, network, token, **_query):
        if not request.db or network not in ADAPTERS:
            raise NotFound()
        # One superuser environment serves the whole delivery.
        env = request.env(su=True)
        endpoint = env["social.account"]._webhook_endpoint(network)
        target = endpoint.targets.get(token)
        if not target:
            raise NotFound()
        adapter = ADAPTERS[network](dict(target.settings))
        if request.httprequest.method == "GET":
            return self._handshake(adapter)
        return self._receive(env, network, target, adapter, endpoint.max_body_bytes)

    @staticmethod
    def _read_body(limit):
        """The raw body, or None past ``limit`` bytes. A declared length is
        checked before anything is read; a chunked body (no length) is read
        up to one byte past the limit. Either way the body is cached: when
        Odoo retries the request after a serialization failure, the same body
        is verified again, not an empty one."""
        httprequest = request.httprequest
        length = httprequest.content_length
        if length is not None:
            return httprequest.get_data() if length <= limit else None
        # Odoo's request does not expose werkzeug's stream (bus/websocket.py
        # reaches the environ alike); get_data() would read it unbounded.
        wrapped = httprequest._HTTPRequest__wrapped
        if getattr(wrapped, "_cached_data", None) is None:
            wrapped._cached_data = _read_at_most(wrapped.stream, limit + 1)
        body = wrapped._cached_data
        return body if len(body) <= limit else None

    def _handshake(self, adapter):
        try:
            body, content_type = adapter.handshake(request.httprequest.args.to_dict())
        except HandshakeError as exc:
            return self._reply(403, str(exc))
        return request.make_response(body, [("Content-Type", content_type)])

    def _receive(self, env, network, target, adapter, limit):
        raw_body = self._read_body(limit)
        if raw_body is None:
            return self._reply(413, f"The body exceeds {limit} bytes.")
        try:
            adapter.verify_signature(raw_body, request.httprequest.headers)
        except SignatureError as exc:
            _logger.info("Social webhook %s refused: %s", target.account_id, exc)
            return self._reply(403, str(exc))
        try:
            payload = load_json(raw_body)
            network, target, adapter = self._object_network(
                env, network, target, adapter, payload
            )
            events = adapter.split_delivery(payload)
        except MalformedPayload as exc:
            return self._reply(400, str(exc))
        try:
            stored, rejected = env["social.event"]._store_delivery(
                network,
                target,
                events,
                api_version=request.httprequest.headers.get(API_VERSION_HEADER),
            )
        except ForeignKeyViolation:
            # Deleted while this worker's cache still knew its URL.
            request.env.cr.rollback()
            raise NotFound() from None
        # Rejected events are acknowledged too, even when all are: the
        # signature shows that the network sent them, a refusal would not
        # make them any account's, and Meta and X retry refused deliveries,
        # then disable the app's webhook, which is every account's.
        return self._reply(
            200,
            "ok",
            received=len(events),
            duplicates=len(events) - rejected - stored,
            rejected=rejected,
        )

    @staticmethod
    def _object_network(env, network, target, adapter, payload):
        """(network, target, adapter) of a Meta app's delivery: the network
        its ``object`` belongs to, which may be the other one of the app when
        the app gives all its objects one callback URL (a WhatsApp delivery
        on a page's URL, say); the signature was checked with the URL's
        secret, so only accounts holding that secret may receive it."""
        owner = NETWORK_OF_META_OBJECT.get(payload.get("object"))
        if network not in NETWORK_OF_META_OBJECT.values() or owner in (None, network):
            return network, target, adapter
        sibling = env["social.account"]._webhook_sibling(owner, network, target)
        return owner, sibling, ADAPTERS[owner](dict(sibling.settings))

    def _reply(self, status, message, **extra):
        body = json.dumps(dict(extra, status=status, message=message))
        return request.make_response(
            body, [("Content-Type", "application/json")], status=status
        )


def _read_at_most(stream, size):
    """Up to ``size`` bytes of ``stream``: a chunked stream returns less than
    asked at each chunk's end."""
    chunks = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
