"""Cloud API access: configuration, calls with the system user token, the
mapping of Graph and WhatsApp errors, and the connection check.

Error codes: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
Phone number fields (``quality_rating``, and the portfolio's messaging limit
``whatsapp_business_manager_messaging_limit``, which replaced the deprecated
``messaging_limit_tier``):
https://developers.facebook.com/documentation/business-messaging/whatsapp/messaging-limits
"""

from datetime import timedelta

from ..base import (
    AdapterError,
    AuthError,
    RateLimited,
    ReplyNotAllowed,
    TransientError,
    WindowClosed,
)
from ..meta.client import (
    EXPIRED_TOKEN_CODES,
    PERMISSION_CODES,
    TEMPORARY_CODES,
    THROTTLING_CODES,
)
from ..meta.graph import GraphCaller
from ..meta.readers import _data, _dict_or_empty, _number, _path, _strings, _text
from ..meta.versions import DEFAULT_GRAPH_VERSION

GRAPH_HOST = "https://graph.facebook.com"
PERMISSIONS = ("whatsapp_business_messaging", "whatsapp_business_management")
PHONE_FIELDS = (
    "display_phone_number,verified_name,quality_rating,"
    "whatsapp_business_manager_messaging_limit,messaging_limit_tier"
)
# WhatsApp's own codes, beside Graph's (meta.client): throughput and pair
# rate limits pass within a minute, spam limits and app limits take longer.
WA_THROTTLING_WAITS = {
    130429: timedelta(minutes=1),
    131056: timedelta(minutes=1),
    131048: timedelta(minutes=15),
}
REENGAGEMENT_CODE = 131047  # more than 24 hours since the customer wrote
BSUID_REFUSED_CODE = 131062  # this message can't go to a business-scoped id
WA_TEMPORARY_CODES = frozenset({131000, 131016, 133004})
DEFAULT_THROTTLE_WAIT = timedelta(minutes=15)
EXPIRED_TOKEN_MESSAGE = (
    "The WhatsApp access token expired or was revoked; enter a new system user token."
)


class WhatsAppClient(GraphCaller):
    """Configuration, Graph calls and their errors; the connection check.

    ``session`` (a ``requests.Session``) and ``clock`` (the aware UTC now)
    let tests drive it; ``timeout`` may also come in the config."""

    service = "WhatsApp"

    def __init__(self, config, session=None, clock=None, timeout=None):
        super().__init__(config, session=session, clock=clock)
        self._timeout = timeout

    # -- configuration ----------------------------------------------------
    @property
    def business_account_id(self):
        return str(self.config.get("business_account_id") or "")

    @property
    def phone_number_id(self):
        return str(self.config.get("phone_number_id") or "")

    @property
    def graph_url(self):
        base = self.config.get("graph_base_url") or GRAPH_HOST
        version = self.config.get("graph_version") or DEFAULT_GRAPH_VERSION
        return f"{base.rstrip('/')}/{version}"

    @property
    def timeout(self):
        return self._timeout or self.config.get("timeout") or 15

    # -- connection -------------------------------------------------------
    def test_connection(self):
        """What an admin checks: the number (display name and number, quality
        rating, messaging limit), the token's permissions, and whether the
        app gets the WhatsApp Business Account's ``messages`` webhooks."""
        phone = self._get(_path(self.phone_number_id), {"fields": PHONE_FIELDS})
        token = self._debug_token()
        granted = sorted(_strings(token.get("scopes")))
        missing = [name for name in PERMISSIONS if name not in granted]
        app_id = str(token.get("app_id") or self.config.get("app_id") or "")
        apps = _data(self._get(_path(self.business_account_id, "subscribed_apps")))
        app_ids = {
            str(_dict_or_empty(app.get("whatsapp_business_api_data")).get("id") or "")
            for app in apps
        }
        name = _text(phone.get("verified_name"))
        number = _text(phone.get("display_phone_number"))
        limit = phone.get("whatsapp_business_manager_messaging_limit")
        if isinstance(limit, dict):  # documented as a tier name; be lenient
            limit = limit.get("tier") or limit.get("value")
        return {
            "label": " ".join(part for part in (name, number) if part)
            or self.phone_number_id,
            "granted": granted,
            "missing": missing,
            "required": list(PERMISSIONS),
            "app_id": app_id,
            "display_name": name,
            "display_phone_number": number,
            "quality_rating": _text(phone.get("quality_rating")),
            "messaging_limit": _text(limit) or _text(phone.get("messaging_limit_tier")),
            "subscribed": (app_id in app_ids) if app_id else bool(apps),
        }

    def _debug_token(self):
        token = self._get("debug_token", {"input_token": self._token()}).get("data")
        token = token if isinstance(token, dict) else {}
        if token.get("is_valid") is False:
            raise AuthError(EXPIRED_TOKEN_MESSAGE)
        return token

    # -- HTTP -------------------------------------------------------------
    def _token(self):
        token = self.config.get("access_token")
        if not token:
            raise AuthError("The WhatsApp access token is missing; enter it first.")
        return token

    def _graph_error(self, error, status):
        """The typed error a Graph or WhatsApp error object calls for."""
        code = _number(error.get("code"))
        details = _text(_dict_or_empty(error.get("error_data")).get("details"))
        detail = (
            _text(error.get("error_user_msg"))
            or details
            or _text(error.get("message"))
            or "unknown error"
        )
        if code in THROTTLING_CODES or code in WA_THROTTLING_WAITS:
            wait = WA_THROTTLING_WAITS.get(code, DEFAULT_THROTTLE_WAIT)
            return RateLimited(
                f"WhatsApp is throttling this number: {detail}",
                reset_at=self.clock() + wait,
            )
        if code in EXPIRED_TOKEN_CODES or code == 0:
            return AuthError(EXPIRED_TOKEN_MESSAGE)
        if code == REENGAGEMENT_CODE:
            return WindowClosed(
                "More than 24 hours passed since the customer's last message: "
                f"only an approved template can be sent. ({detail})",
                alternative="template",
            )
        if code == BSUID_REFUSED_CODE:
            return ReplyNotAllowed(
                "WhatsApp does not send this kind of message to a customer known "
                f"only by their user id, without a phone number. ({detail})"
            )
        if code in PERMISSION_CODES:
            return AuthError(
                f"WhatsApp refused the request for lack of rights: {detail}"
            )
        if (
            code in TEMPORARY_CODES
            or code in WA_TEMPORARY_CODES
            or status >= 500
            or error.get("is_transient")
        ):
            return TransientError(f"WhatsApp had a temporary problem: {detail}")
        return AdapterError(f"WhatsApp refused the request: {detail} (code {code})")
