"""X API access: tweepy clients and sessions, credentials, errors mapping.

:class:`XClient` is the base of :class:`~.adapter.XAdapter`: every call to
X goes through :meth:`XClient._call` (tweepy methods) or
:meth:`XClient._raw` / :meth:`XClient._app_call` (raw routes), which turn
tweepy's and requests' failures into the typed errors of :mod:`..base`.
"""

from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import quote

import requests
import tweepy

from ..base import (
    PRIVATE,
    AdapterError,
    AuthError,
    NetworkAdapter,
    NotSupported,
    RateLimited,
    ReplyNotAllowed,
    TransientError,
)
from .parse import _expect_shape, _post_url

# tweepy.Client hard-codes this host; _XSession routes requests to it.
TWEEPY_HOST = "https://api.twitter.com"
# X's current host, for the calls made without tweepy.
X_HOST = "https://api.x.com"
DEFAULT_TIMEOUT = 15

NO_CREDENTIALS = (
    "The X account has no credentials: set the OAuth 1.0a access token "
    "and secret, an OAuth 2.0 user token or a bearer token."
)

# -- onboarding ---------------------------------------------------------------
# Credential kinds, as test_connection reports them.
OAUTH1 = "oauth1"
OAUTH2_USER = "oauth2_user"
APP_ONLY = "app_only"

# What the helpdesk's features need, named after X's OAuth 2.0 scopes:
# reading mentions, replying, reading and answering direct messages.
TWEET_READ = "tweet.read"
TWEET_WRITE = "tweet.write"
DM_READ = "dm.read"
DM_WRITE = "dm.write"
FEATURE_SCOPES = (TWEET_READ, TWEET_WRITE, DM_READ, DM_WRITE)
# X reports an OAuth 1.0a token's permission in the x-access-level header of
# every answer made with it; these are its documented values.
ACCESS_LEVEL_HEADER = "x-access-level"
ACCESS_LEVEL_SCOPES = {
    "read": (TWEET_READ,),
    "read-write": (TWEET_READ, TWEET_WRITE),
    "read-write-directmessages": FEATURE_SCOPES,
}
ACCESS_LEVEL_NAMES = {
    "read": "Read",
    "read-write": "Read and write",
    "read-write-directmessages": "Read and write and Direct message",
}


# Self-serve apps may only reply to posts whose author summoned the account;
# X answers 403 with this detail otherwise.
REPLY_RESTRICTION_MARKERS = (
    "reply to this conversation is not allowed",
    "not been mentioned or otherwise engaged",
)
REPLY_RESTRICTED_MESSAGE = (
    "X does not let this account reply publicly to this post: API replies are "
    "only allowed when the post's author mentioned or quoted the account. "
    "Answer with a direct message instead."
)


class _XSession(requests.Session):
    """tweepy's session, with the account's timeout on every request (tweepy
    sets none) and, when ``api_base_url`` is configured, tweepy's hard-coded
    host (and X's current one) replaced before the request is prepared and signed."""

    def __init__(self, timeout, base_url=None):
        super().__init__()
        self.timeout = timeout
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        kwargs["timeout"] = self.timeout
        if self.base_url:
            for host in (TWEEPY_HOST, X_HOST):
                if url.startswith(host):
                    url = self.base_url + url[len(host) :]
        return super().request(method, url, *args, **kwargs)


class XClient(NetworkAdapter):
    """Credentials, clients and calls; the connection check."""

    # -- connection -------------------------------------------------------
    def test_connection(self):
        """Check the credentials and what they may do.

        Returns the account's ``user_id``, ``username`` and ``name`` as X
        knows them, ``label`` ("@handle"), ``credentials`` (oauth1,
        oauth2_user or app_only), ``granted`` and ``missing`` among
        tweet.read, tweet.write (replies), dm.read and dm.write (DMs),
        ``required`` (those four), ``scopes_known``, ``access_level`` and a
        plain-words ``detail``.

        X has no scope introspection for user tokens, but answers made with
        OAuth 1.0a carry the token's permission in ``x-access-level``. An
        OAuth 2.0 user token's scopes are not reported at all: they are left
        unknown (``scopes_known`` False) rather than guessed. An app-only
        bearer token can read public posts only; /2/users/me refuses it, so
        the account is looked up by its configured username instead.
        """
        action = "checking the connection"
        kind = self._credentials_kind
        params = {"user.fields": "username,name"}
        if kind == APP_ONLY:
            username = str(self.config.get("username") or "").lstrip("@")
            if not username:
                raise AdapterError(
                    "With only an app bearer token, X cannot tell which account "
                    "to follow: enter the account's username, or connect it with "
                    "its user access token and secret."
                )
            route = f"/2/users/by/username/{quote(username, safe='')}"
            body, headers = self._raw(action, "GET", route, params=params)
        else:
            body, headers = self._raw(action, "GET", "/2/users/me", params=params)
        with _expect_shape("X's answer"):
            me = _data(body, action)
            info = {"user_id": me["id"], "username": me["username"], "name": me["name"]}
        info["label"] = f"@{info['username']}"
        info.update(_permissions(kind, headers.get(ACCESS_LEVEL_HEADER)))
        return info

    # -- API access -------------------------------------------------------
    @cached_property
    def _client(self):
        config = self.config
        bearer_token = config.get("oauth2_user_token") or config.get("bearer_token")
        if not (self._uses_oauth1 or bearer_token):
            raise AuthError(NO_CREDENTIALS)
        client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=config.get("api_key"),
            consumer_secret=config.get("api_secret"),
            access_token=config.get("access_token"),
            access_token_secret=config.get("access_token_secret"),
            return_type=dict,
            wait_on_rate_limit=False,
        )
        client.session = self._session()
        return client

    def _session(self):
        return _XSession(
            self._timeout, (self.config.get("api_base_url") or "").rstrip("/")
        )

    @cached_property
    def _app_client(self):
        """A client authenticated as the app alone (OAuth 2.0 bearer token),
        as X's webhook management and counts endpoints require."""
        client = tweepy.Client(
            bearer_token=self._app_bearer_token,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        client.session = self._session()
        return client

    @cached_property
    def _app_bearer_token(self):
        """The configured app bearer token, or one obtained from the API key
        and secret (``POST /oauth2/token``, client credentials grant)."""
        token = self.config.get("bearer_token")
        if token:
            return token
        key, secret = self.config.get("api_key"), self.config.get("api_secret")
        if not (key and secret):
            raise NotSupported(
                "This needs the X app's bearer token, or its API key and secret: "
                "add them to the account, or do it in the X developer portal."
            )
        action = "getting the app's bearer token"
        try:
            response = self._session().post(
                f"{TWEEPY_HOST}/oauth2/token",
                auth=(key, secret),
                data={"grant_type": "client_credentials"},
            )
        except requests.Timeout as exc:
            raise TransientError(
                f"X did not answer within {self._timeout:g} s while {action}."
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(
                f"Could not reach X while {action} ({type(exc).__name__})."
            ) from exc
        if response.status_code in (401, 403):
            raise AuthError(
                f"X refused the app's API key and secret while {action} "
                f"({response.status_code}). Check them in the X developer portal."
            )
        if response.status_code >= 500:
            raise TransientError(f"X failed while {action} ({response.status_code}).")
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"X answered {response.status_code} without a token while {action}."
            ) from exc
        return token

    @property
    def _credentials_kind(self):
        if self._uses_oauth1:
            return OAUTH1
        if self.config.get("oauth2_user_token"):
            return OAUTH2_USER
        if self.config.get("bearer_token"):
            return APP_ONLY
        raise AuthError(NO_CREDENTIALS)

    @property
    def _handle(self):
        username = str(self.config.get("username") or "").lstrip("@")
        return f"@{username}" if username else "the account"

    @property
    def _uses_oauth1(self):
        keys = ("api_key", "api_secret", "access_token", "access_token_secret")
        return all(self.config.get(key) for key in keys)

    @property
    def _has_user_context(self):
        return self._uses_oauth1 or bool(self.config.get("oauth2_user_token"))

    @property
    def _uses_account_activity(self):
        """Whether the account's webhook is the legacy Account Activity API
        rather than the X Activity API."""
        return self.config.get("webhook_product") == "aaa"

    @property
    def _timeout(self):
        return float(self.config.get("timeout") or DEFAULT_TIMEOUT)

    @property
    def _own_id(self):
        user_id = self.config.get("user_id")
        if not user_id:
            raise AdapterError(
                "The X account has no user id: test the connection first."
            )
        return str(user_id)

    def _call(self, action, method, **params):
        """Run one tweepy call, turning its failures into typed errors."""
        return self._guard(action, method, user_auth=self._uses_oauth1, **params)

    def _raw(self, action, method, route, params=None, json=None, refine=None):
        """One call of ``route`` with the account's credentials: the JSON body
        and the headers of X's answer. ``refine(exc, problem)`` may return a
        more precise error for an HTTP refusal."""
        return self._raw_with(
            self._client, self._uses_oauth1, action, method, route, params, json, refine
        )

    def _app_call(self, action, method, route, params=None, json=None, refine=None):
        """One call with the app's bearer token (see :meth:`_raw`)."""
        body, _ = self._raw_with(
            self._app_client, False, action, method, route, params, json, refine
        )
        return body

    def _raw_with(self, client, user_auth, action, method, route, params, json, refine):
        try:
            response = self._guard(
                action,
                client.request,
                method,
                route,
                params=params,
                json=json,
                user_auth=user_auth,
            )
        except AdapterError as exc:
            cause = exc.__cause__
            if (
                refine
                and type(exc) is AdapterError
                and isinstance(cause, tweepy.HTTPException)
            ):
                better = refine(cause, _problem(cause))
                if better is not None:
                    raise better from cause
            raise
        with _expect_shape("X's answer"):
            body = response.json() if response.content else {}
            if not isinstance(body, dict):
                raise TypeError("not a JSON object")
        return body, response.headers

    def _upload_media(self, media, category):
        """Upload ``media`` (a :class:`~..media.Media`) as multipart
        ``POST /2/media/upload`` (tweepy sends JSON only): its media id. An
        upload repeated by a retry is harmless, an unused media expires."""
        action = "uploading the image"
        client = self._client

        def upload():
            headers = {"User-Agent": client.user_agent}
            auth = None
            if self._uses_oauth1:
                auth = tweepy.OAuth1UserHandler(
                    client.consumer_key,
                    client.consumer_secret,
                    client.access_token,
                    client.access_token_secret,
                ).apply_auth()
            else:
                headers["Authorization"] = f"Bearer {client.bearer_token}"
            response = client.session.post(
                f"{TWEEPY_HOST}/2/media/upload",
                data={"media_category": category},
                files={"media": (media.name, media.content, media.mimetype)},
                headers=headers,
                auth=auth,
            )
            _raise_for_status(response)
            return response

        response = self._guard(action, upload)
        with _expect_shape("X's answer"):
            return str(_data(response.json(), action)["id"])

    def _guard(self, action, function, *args, **kwargs):
        """Run ``function``, turning tweepy's and requests' failures into
        typed errors."""
        try:
            return function(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            reset_at = None
            if exc.reset_time:
                reset_at = datetime.fromtimestamp(exc.reset_time, timezone.utc)
            when = f"until {reset_at:%Y-%m-%d %H:%M:%S} UTC" if reset_at else "for now"
            raise RateLimited(
                f"X rate limit reached while {action}; calls are refused {when}.",
                reset_at=reset_at,
            ) from exc
        except tweepy.Unauthorized as exc:
            raise AuthError(
                f"X rejected the account's credentials while {action} "
                f"({_problem(exc)}). Reconnect the account."
            ) from exc
        except tweepy.Forbidden as exc:
            problem = _problem(exc)
            if any(marker in problem.lower() for marker in REPLY_RESTRICTION_MARKERS):
                raise ReplyNotAllowed(
                    f"{REPLY_RESTRICTED_MESSAGE} (X said: {problem})",
                    alternative=PRIVATE,
                ) from exc
            raise AdapterError(f"X refused {action}: {problem}") from exc
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X failed while {action} ({_problem(exc)}).") from exc
        except tweepy.HTTPException as exc:
            raise AdapterError(f"X rejected {action}: {_problem(exc)}") from exc
        except requests.Timeout as exc:
            raise TransientError(
                f"X did not answer within {self._timeout:g} s while {action}."
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(f"Could not reach X while {action}: {exc}") from exc

    def _post_url(self, post_id):
        return _post_url(self.config.get("username"), post_id)


def _data(response, action):
    """The ``data`` of a v2 answer; X may answer 200 with only ``errors``."""
    data = response.get("data")
    if data is None:
        problems = "; ".join(
            error.get("detail") or error.get("message") or str(error)
            for error in response.get("errors") or []
        )
        raise AdapterError(
            f"X returned no data while {action}: {problems or 'empty answer'}"
        )
    return data


def _raise_for_status(response):
    """tweepy's exception for a refusal, as ``tweepy.Client.request`` raises."""
    status = response.status_code
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(
            response, reset_time=int(reset) if reset and reset.isdigit() else None
        )
    errors = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    if not 200 <= status < 300:
        raise tweepy.HTTPException(response)


def _problem(exc):
    """The status and X's own explanation from a tweepy HTTP error."""
    status = exc.response.status_code
    detail = "; ".join(str(message) for message in exc.api_messages)
    return f"{status} {detail or exc.response.reason}"


def _permissions(kind, access_level):
    """What test_connection reports of the credentials' permissions."""
    report = {
        "credentials": kind,
        "required": list(FEATURE_SCOPES),
        "access_level": access_level or "",
    }
    if kind == APP_ONLY:
        granted = [TWEET_READ]
        detail = (
            "An app bearer token reads public mentions only: it cannot reply nor "
            "read or answer direct messages."
        )
    elif kind == OAUTH1 and access_level in ACCESS_LEVEL_SCOPES:
        granted = list(ACCESS_LEVEL_SCOPES[access_level])
        detail = f'The access token has the "{ACCESS_LEVEL_NAMES[access_level]}" '
        if access_level == "read-write-directmessages":
            detail += "permission: every feature works."
        else:
            detail += (
                "permission. To answer every message, set the app's permissions to "
                '"Read and write and Direct message" in the X developer portal, '
                "then regenerate the access token and secret."
            )
    else:
        report.update(granted=[], missing=[], scopes_known=False)
        report["detail"] = (
            "X does not say what this token may do. Make sure it was granted the "
            "tweet.read, tweet.write, users.read, dm.read and dm.write scopes."
        )
        return report
    missing = [scope for scope in FEATURE_SCOPES if scope not in granted]
    report.update(granted=granted, missing=missing, scopes_known=True, detail=detail)
    return report
