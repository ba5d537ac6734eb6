"""One Graph API call, shared by the networks Meta serves through it: pages
and Instagram (:mod:`.client`) and WhatsApp (:mod:`..whatsapp.client`).

The token goes in the Authorization header, never in a URL that ends up in
logs, with the appsecret_proof Meta asks of server calls when the app secret
is known; every failure becomes a typed error of :mod:`..base`, each network
mapping its own error codes (``_graph_error``).
"""

from datetime import datetime, timezone

import requests

from ..base import (
    AdapterError,
    AuthError,
    NetworkAdapter,
    TransientError,
    WebhookRejected,
    hmac_sha256,
)
from .readers import _number, _path

CALLBACK_VERIFICATION_FAILED = 2200
INVALID_PARAMETER = 100


class GraphCaller(NetworkAdapter):
    """Graph calls and their failures. Subclasses give ``service`` (how
    messages name the API), ``graph_url``, ``timeout``, :meth:`_token` and
    :meth:`_graph_error`."""

    service = "Meta"

    def __init__(self, config, session=None, clock=None):
        super().__init__(config)
        self.session = session or requests.Session()
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def _token(self):
        raise NotImplementedError

    def _proof_secret(self):
        """The app secret that signs the token (appsecret_proof), if known."""
        return self.config.get("app_secret")

    def _record_usage(self, headers):
        """Read the answer's usage headers (Meta's pages: see .client)."""

    def _graph_error(self, error, status):
        """The typed error a Graph error object calls for."""
        raise NotImplementedError

    def _get(self, path, params=None):
        return self._call("GET", path, params=params)

    def _post(self, path, data=None, json_body=None, files=None):
        return self._call("POST", path, data=data, json_body=json_body, files=files)

    def _call(
        self,
        method,
        path,
        params=None,
        data=None,
        json_body=None,
        token=None,
        files=None,
    ):
        """One Graph call with ``token`` (by default :meth:`_token`); its
        JSON object, or the typed error of its failure."""
        token = token or self._token()
        query = dict(params or {})
        secret = self._proof_secret()
        if secret:
            query["appsecret_proof"] = hmac_sha256(secret, token).hex()
        try:
            response = self.session.request(
                method,
                f"{self.graph_url}/{path}",
                params=query,
                data=data,
                json=json_body,
                files=files,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise TransientError(
                f"{self.service} did not answer within {self.timeout} seconds."
            ) from exc
        except requests.RequestException as exc:
            # Its text may quote the URL with its query: keep that out.
            raise TransientError(
                f"Could not reach {self.service} ({type(exc).__name__})."
            ) from exc
        self._record_usage(response.headers)
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            exc = self._graph_error(error, status)
            exc.graph_code = _number(error.get("code"))
            raise exc
        if status >= 500:
            raise TransientError(
                f"{self.service} answered HTTP {status}; try again later."
            )
        if status >= 400 or not isinstance(body, dict):
            raise AdapterError(
                f"{self.service} answered HTTP {status} with no usable body."
            )
        return body

    def _set_app_webhook(self, app_id, secret, obj, fields, url, verify_token):
        """Point the app's webhook for ``obj`` (page, instagram,
        whatsapp_business_account) and its ``fields`` at ``url``: one
        ``POST /{app-id}/subscriptions`` with the app access token, which
        Meta answers after checking the URL with ``verify_token``."""
        try:
            answer = self._call(
                "POST",
                _path(app_id, "subscriptions"),
                data={
                    "object": obj,
                    "callback_url": url,
                    "verify_token": verify_token,
                    "fields": ",".join(fields),
                },
                token=f"{app_id}|{secret}",
            )
        except AuthError as exc:
            raise AuthError(
                "Meta refused the app's credentials while setting the webhook: "
                "check the app secret, and that the access token belongs to this "
                "app."
            ) from exc
        except AdapterError as exc:
            code = getattr(exc, "graph_code", None)
            if code == CALLBACK_VERIFICATION_FAILED:
                raise WebhookRejected(
                    "Meta could not verify the webhook URL: it did not answer Meta's "
                    "check with the verify token. Make sure the address is public "
                    f"https and reachable from the internet. ({exc})",
                    reason="callback_verification_failed",
                ) from exc
            if code == INVALID_PARAMETER:
                raise WebhookRejected(
                    f"Meta refused the webhook URL: {exc}", reason="invalid_parameter"
                ) from exc
            raise
        if answer.get("success") not in (True, "true"):
            raise AdapterError(
                f"Meta did not confirm the webhook for {obj} events; try again."
            )
