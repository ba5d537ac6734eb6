"""Graph API access: configuration, the connection check, calls with the
page token and appsecret_proof, usage headers and errors mapping.

:class:`MetaClient` is the base of :class:`~.adapter.MetaAdapter`: every
call to Meta goes through :meth:`MetaClient._call`, which turns Graph
errors into the typed errors of :mod:`..base`.
"""

import re
from datetime import timedelta

from ..base import (
    PUBLIC,
    AdapterError,
    AuthError,
    RateLimited,
    ReplyNotAllowed,
    TransientError,
    WindowClosed,
)
from .graph import GraphCaller
from .readers import (
    _data,
    _dict_or_empty,
    _json_header,
    _number,
    _path,
    _strings,
    _text,
)
from .versions import DEFAULT_GRAPH_VERSION

PAGE_PERMISSIONS = (
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
    "pages_manage_metadata",
)
INSTAGRAM_PERMISSIONS = (
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_manage_messages",
)
# Instagram API with Instagram Login: a professional account without a page.
INSTAGRAM_LOGIN_PERMISSIONS = (
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
)
SUBSCRIBED_FIELDS = ("feed", "messages")
INSTAGRAM_SUBSCRIBED_FIELDS = ("comments", "messages")

# How the account is connected: through its Facebook page (Graph API, page
# token), or the Instagram account alone with Instagram Login.
CONNECTION_PAGE = "page"
CONNECTION_INSTAGRAM_LOGIN = "instagram_login"
GRAPH_HOSTS = {
    CONNECTION_PAGE: "https://graph.facebook.com",
    CONNECTION_INSTAGRAM_LOGIN: "https://graph.instagram.com",
}

# https://developers.facebook.com/docs/graph-api/guides/error-handling
THROTTLING_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
EXPIRED_TOKEN_CODES = frozenset({102, 190})
TEMPORARY_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
ALREADY_REPLIED_CODE = 10900  # "Activity already replied to"
CANNOT_REPLY_CODES = frozenset({551, 10903})

PERMISSION_NAME = re.compile(r"\b(?:pages|instagram|business)_[a-z_]+\b")
EXPIRED_TOKEN_MESSAGE = (
    "The page access token expired or was revoked; reconnect the page."
)

# The usage headers give percentages of a quota. Past this one, back off
# before Meta refuses every call for up to an hour.
SLOW_DOWN_AT = 80
DEFAULT_THROTTLE_WAIT = timedelta(minutes=15)


class MetaClient(GraphCaller):
    """Configuration, Graph calls and their errors; the connection check."""

    service = "Meta"

    def __init__(self, config, session=None, clock=None):
        super().__init__(config, session=session, clock=clock)
        # Highest quota percentage in Meta's last usage headers; None until
        # Meta sends some (it omits them while usage is low).
        self.last_usage = None
        self.regain_access_minutes = 0

    # -- configuration ----------------------------------------------------
    @property
    def page_id(self):
        return str(self.config.get("page_id") or "")

    @property
    def instagram_account_id(self):
        return str(self.config.get("instagram_account_id") or "")

    @property
    def human_agent_tag(self):
        return bool(self.config.get("human_agent_tag"))

    @property
    def connection(self):
        """CONNECTION_PAGE, or CONNECTION_INSTAGRAM_LOGIN."""
        if self.config.get("connection") == CONNECTION_INSTAGRAM_LOGIN:
            return CONNECTION_INSTAGRAM_LOGIN
        return CONNECTION_PAGE

    @property
    def instagram_login(self):
        return self.connection == CONNECTION_INSTAGRAM_LOGIN

    @property
    def messaging_owner_id(self):
        """Who sends and holds the conversations: the page, or with
        Instagram Login the Instagram account itself."""
        return self.instagram_account_id if self.instagram_login else self.page_id

    @property
    def graph_url(self):
        base = self.config.get("graph_base_url") or GRAPH_HOSTS[self.connection]
        version = self.config.get("graph_version") or DEFAULT_GRAPH_VERSION
        return f"{base.rstrip('/')}/{version}"

    @property
    def timeout(self):
        return self.config.get("timeout") or 15

    def required_permissions(self):
        """Permissions the token needs for the channels configured."""
        if self.instagram_login:
            return INSTAGRAM_LOGIN_PERMISSIONS
        if self.instagram_account_id:
            return PAGE_PERMISSIONS + INSTAGRAM_PERMISSIONS
        return PAGE_PERMISSIONS

    # -- connection -------------------------------------------------------
    def test_connection(self):
        """Check the token, its permissions and the webhook subscription, so
        an admin sees at once what is missing.

        Returns ``page_name`` and ``label`` (both the page's name),
        ``granted`` and ``missing`` permissions (from ``debug_token``),
        ``required``, ``scopes_known`` (True), ``app_id``,
        ``subscribed_fields``, ``subscribed`` and a plain-words ``detail``.
        """
        if self.instagram_login:
            return self._test_instagram_login()
        page = self._get("me", {"fields": "id,name"})
        if str(page.get("id")) != self.page_id:
            raise AuthError(
                f"The access token is for {page.get('name') or page.get('id')!r}, "
                f"not for page {self.page_id}; reconnect the right page."
            )
        token = self._debug_token()
        granted = sorted(_strings(token.get("scopes")))
        missing = [name for name in self.required_permissions() if name not in granted]
        app_id = str(token.get("app_id") or "")
        apps = _data(self._get(_path(self.page_id, "subscribed_apps")))
        ours = next((app for app in apps if str(app.get("id")) == app_id), {})
        fields = sorted(_strings(ours.get("subscribed_fields")))
        name = page.get("name") or ""
        if missing:
            detail = (
                f"The page token lacks {', '.join(missing)}: reconnect the page and "
                "accept every permission asked."
            )
        else:
            detail = "The page token has every permission the helpdesk needs."
        return {
            "page_name": name,
            "label": name or self.page_id,
            "granted": granted,
            "missing": missing,
            "required": list(self.required_permissions()),
            "scopes_known": True,
            "app_id": app_id,
            "subscribed_fields": fields,
            "subscribed": all(field in fields for field in SUBSCRIBED_FIELDS),
            "detail": detail,
        }

    def _test_instagram_login(self):
        """The Instagram Login check: the token is the account's (``/me``
        on graph.instagram.com) and the app gets its webhooks. That host
        has no ``debug_token``: the scopes granted are not known."""
        me = self._get("me", {"fields": "user_id,username"})
        if str(me.get("user_id")) != self.instagram_account_id:
            owner = me.get("username") or me.get("user_id")
            raise AuthError(
                f"The Instagram token is for {owner!r}, not for account "
                f"{self.instagram_account_id}; log in with the right Instagram "
                "account."
            )
        apps = _data(self._get(_path(self.instagram_account_id, "subscribed_apps")))
        fields = sorted(
            {name for app in apps for name in _strings(app.get("subscribed_fields"))}
        )
        username = _text(me.get("username"))
        return {
            "page_name": f"@{username}" if username else self.instagram_account_id,
            "label": f"@{username}" if username else self.instagram_account_id,
            "username": username,
            "granted": [],
            "missing": [],
            "required": list(INSTAGRAM_LOGIN_PERMISSIONS),
            "scopes_known": False,
            "app_id": "",
            "subscribed_fields": fields,
            "subscribed": all(field in fields for field in INSTAGRAM_SUBSCRIBED_FIELDS),
            "detail": (
                "Instagram Login: the token works for this account. Make sure it "
                f"was granted {', '.join(INSTAGRAM_LOGIN_PERMISSIONS)}."
            ),
        }

    def _debug_token(self):
        token = self._get("debug_token", {"input_token": self._token()}).get("data")
        token = token if isinstance(token, dict) else {}
        if token.get("is_valid") is False:
            raise AuthError(EXPIRED_TOKEN_MESSAGE)
        return token

    # -- rate limits ------------------------------------------------------
    def should_slow_down(self):
        """True once Meta reports a quota used at SLOW_DOWN_AT percent."""
        return (self.last_usage or 0) >= SLOW_DOWN_AT

    def _record_usage(self, headers):
        """Keep the highest percentage and wait of the usage headers. A
        response without them leaves the last reading in place."""
        reports = [
            report
            for name in ("X-App-Usage", "X-Page-Usage")
            if isinstance(report := _json_header(headers.get(name)), dict)
        ]
        business = _json_header(headers.get("X-Business-Use-Case-Usage"))
        for entries in _dict_or_empty(business).values():
            if isinstance(entries, list):
                reports += [entry for entry in entries if isinstance(entry, dict)]
        if not reports:
            return
        self.last_usage = max(
            _number(report.get(key))
            for report in reports
            for key in ("call_count", "total_time", "total_cputime")
        )
        self.regain_access_minutes = max(
            _number(report.get("estimated_time_to_regain_access")) for report in reports
        )

    # -- HTTP -------------------------------------------------------------
    def _token(self):
        if self.instagram_login:
            token = self.config.get("instagram_access_token")
            if not token:
                raise AuthError(
                    "The Instagram access token is missing; log in with Instagram."
                )
            return token
        token = self.config.get("page_access_token")
        if not token:
            raise AuthError("The page access token is missing; connect the page.")
        return token

    def _proof_secret(self):
        """Instagram Login's calls carry no appsecret_proof."""
        return None if self.instagram_login else super()._proof_secret()

    def _graph_error(self, error, status):
        """The typed error a Graph error object calls for."""
        code = _number(error.get("code"))
        subcode = _number(error.get("error_subcode"))
        detail = (
            _text(error.get("error_user_msg"))
            or _text(error.get("message"))
            or "unknown error"
        )
        if code in THROTTLING_CODES:
            wait = DEFAULT_THROTTLE_WAIT
            if self.regain_access_minutes:
                wait = timedelta(minutes=self.regain_access_minutes)
            return RateLimited(
                f"Meta is throttling this app: {detail}",
                reset_at=self.clock() + wait,
            )
        if code in EXPIRED_TOKEN_CODES:
            return AuthError(EXPIRED_TOKEN_MESSAGE)
        if subcode in OUTSIDE_WINDOW_SUBCODES:
            return WindowClosed(f"The messaging window is closed: {detail}")
        if code == ALREADY_REPLIED_CODE:
            return ReplyNotAllowed(
                "This comment already had its one private reply; answer publicly.",
                alternative=PUBLIC,
            )
        if code in CANNOT_REPLY_CODES:
            return ReplyNotAllowed(f"Meta refused the reply: {detail}")
        if code in PERMISSION_CODES:
            permission = PERMISSION_NAME.search(detail)
            if permission:
                return AuthError(
                    f"The page has not granted the {permission.group(0)} "
                    "permission; reconnect it and accept every permission asked."
                )
            return AuthError(f"Meta refused the request for lack of rights: {detail}")
        if code in TEMPORARY_CODES or status >= 500 or error.get("is_transient"):
            return TransientError(f"Meta had a temporary problem: {detail}")
        return AdapterError(f"Meta refused the request: {detail}")
