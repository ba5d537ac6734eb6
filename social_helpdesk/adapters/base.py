"""The contract a network implements, its data types and its errors.

Nothing under ``adapters/`` imports Odoo: adapters are plain Python, tested
without a registry (``tests/`` at the repository root). The Odoo models
orchestrate (store events, file tickets, queue replies); the adapters talk
to the network and translate its JSON.

Adding a network
================

1. **Package.** Create ``adapters/<network>/``, one module per job (see
   ``adapters/x/`` and ``adapters/meta/``), none over about 600 lines:

   * ``client.py``: ``<Network>Client(NetworkAdapter)``, the API access:
     sessions and credentials, and one place that every request goes
     through, turning the network's failures into the errors below (Meta's
     ``_call``, X's ``_guard``); also :meth:`NetworkAdapter.test_connection`.
   * ``webhook.py``: a ``NetworkAdapter`` subclass (a mixin) with
     :meth:`~NetworkAdapter.handshake`, :meth:`~NetworkAdapter.verify_signature`,
     :meth:`~NetworkAdapter.split_delivery` and
     :meth:`~NetworkAdapter.register_webhook`.
   * ``parse.py``: :meth:`~NetworkAdapter.parse_event`, stored payload ->
     :class:`SocialMessage`, with no network call.
   * ``reads.py``: :meth:`~NetworkAdapter.poll`,
     :meth:`~NetworkAdapter.backfill_sources`, :meth:`~NetworkAdapter.backfill`
     and, on a network that bills reads, :meth:`~NetworkAdapter.estimate_backfill`.
   * ``replies.py``: :meth:`~NetworkAdapter.max_length`,
     :meth:`~NetworkAdapter.text_length`, :meth:`~NetworkAdapter.check_reply`
     (or :meth:`~NetworkAdapter.window_closes_at`),
     :meth:`~NetworkAdapter.send_reply` and :meth:`~NetworkAdapter.find_sent`.
   * ``adapter.py``: the class, made of those parts
     (``class <Network>Adapter(<Network>WebhookMixin, ..., <Network>Client)``),
     with the class attributes ``network``, ``signature_header``,
     ``signing_secret_setting`` and ``recipient_id_settings``.
   * ``__init__.py``: says what the package does and re-exports the class.

   What a network lacks keeps this class's default (no webhook, no backfill,
   no replies...). Helpers shared by several modules go in a small module
   of their own (``adapters/meta/readers.py``). Import nothing from Odoo, nor
   from the addon's ``tests``.
2. **Fake server.** A fake of the network's API on loopback in
   ``social_helpdesk/tests/fakes/fake_<network>.py`` (split in
   ``fake_<network>_api.py`` past 600 lines), and pure tests in ``tests/``
   that drive the adapter against it: the fakes never ship as production
   code (``tests/test_layout.py`` checks it).
3. **Registration.** In ``models/social_account.py``: add the network to
   the ``network`` selection, its class to ``ADAPTERS`` (the webhook route
   ``/social_helpdesk/webhook/<network>/<token>`` and ``_get_adapter`` both
   look it up there), its settings to ``ADAPTER_FIELDS`` (adapter config key
   -> account field; credential fields with ``groups="base.group_system"``),
   and its channel codes to the ``helpdesk.ticket.channel`` data and to
   ``SOCIAL_CHANNEL_CODES`` (``models/helpdesk_ticket_channel.py``).

What the methods return and raise
=================================

Each method of :class:`NetworkAdapter` documents its contract. In short:
webhooks yield :class:`InboundEvent` items whose ``event_id`` is the same
however the item came (webhook, poll or backfill), so the store keeps it
once; ``payload`` must parse on its own later. ``parse_event`` returns a
list of :class:`SocialMessage` (empty: nothing for the helpdesk). Polling
and backfill return a :class:`PollResult`; replies a :class:`SentMessage`.

Every failure is an :class:`AdapterError`, whose message an administrator
reads: :class:`AuthError` (credentials; the account needs reconnecting),
:class:`RateLimited` (with ``reset_at``), :class:`TransientError` (retry
later: timeouts, 5xx), :class:`ReplyNotAllowed` / :class:`WindowClosed`
(with the ``alternative`` kind that would work), :class:`NotSupported` (do
it by hand), :class:`WebhookRejected`, and on the webhook path
:class:`SignatureError`, :class:`HandshakeError` and
:class:`MalformedPayload` (never a KeyError or TypeError from a payload of
the wrong shape). Only a caller's mistake (an unknown backfill source or
reply kind) raises something else: ValueError.
"""

# The interface's default implementations ignore some of their arguments.
# pylint: disable=unused-argument

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

PUBLIC = "public"
PRIVATE = "private"

# What a change does to a message (Meta sends edits and removals of comments).
VERB_ADD = "add"
VERB_EDIT = "edit"
VERB_REMOVE = "remove"
VERB_HIDE = "hide"

# What a webhook handshake may echo or sign: a short opaque token of base64
# or URL-safe characters, as the networks send (X's crc_token is 48, Meta's
# hub.challenge a number). A JSON body needs "{", '"' and ":", which it
# excludes: no handshake answer is ever a delivery body or its signature.
HANDSHAKE_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")

# How far a network's clock may run behind ours when find_sent compares the
# time a message was created with the reply's first attempt.
CLOCK_SKEW = timedelta(minutes=2)


class AdapterError(Exception):
    """Base of every error an adapter raises; its message is shown to users.
    ``reads`` holds the billable reads (as :attr:`PollResult.reads`) a poll
    or import made before it failed: the network bills them all the same."""

    reads = None


class SignatureError(AdapterError):
    """The request is unsigned or its signature does not match (HTTP 403)."""


class HandshakeError(AdapterError):
    """A webhook verification handshake failed (HTTP 403)."""


class MalformedPayload(AdapterError):
    """The body is not the JSON shape the network documents (HTTP 400)."""


class AuthError(AdapterError):
    """Credentials are missing, expired or revoked: the account needs an admin."""


class RateLimited(AdapterError):
    """The network throttles us until ``reset_at`` (aware UTC datetime or None)."""

    def __init__(self, message, reset_at=None):
        super().__init__(message)
        self.reset_at = reset_at


class TransientError(AdapterError):
    """A timeout or a 5xx answer: worth retrying later with backoff."""


class ReplyNotAllowed(AdapterError):
    """The network refuses this kind of reply here; ``alternative`` may say
    what is allowed instead (for example ``"private"``)."""

    def __init__(self, message, alternative=None):
        super().__init__(message)
        self.alternative = alternative


class NotSupported(AdapterError):
    """The network, or these credentials, can't do this through the API: the
    admin does it by hand (e.g. pastes the webhook URL in a developer portal)."""


class WebhookRejected(AdapterError):
    """The network refused the webhook URL: it did not pass the network's
    check, is not a public https address, or the app has no webhook left.
    The message says which, so the admin can fix it and try again;
    ``reason`` is the network's own code for it, when it gave one."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


class WindowClosed(ReplyNotAllowed):
    """The platform's messaging window closed at ``closed_at``."""

    def __init__(self, message, closed_at=None, alternative=None):
        super().__init__(message, alternative=alternative)
        self.closed_at = closed_at


@dataclass(frozen=True)
class Author:
    """Who wrote a message, as the network identifies them."""

    external_id: str
    handle: str = ""
    name: str = ""
    profile_url: str = ""
    followers_count: int | None = None
    # The picture the network serves for the user, downloaded once onto the
    # contact (never shown from the network: it would learn who reads).
    avatar_url: str = ""
    # The phone number in E.164 form (+ and digits), where the network
    # identifies users by one (WhatsApp, when the user has not hidden it).
    phone: str = ""


@dataclass(frozen=True)
class Attachment:
    url: str
    kind: str = "file"  # image, video, audio, file, link
    name: str = ""


@dataclass(frozen=True)
class ParentPost:
    """The post a comment answers (the brand's post), quoted above it.
    ``text`` None: the payload did not carry the post, which
    :meth:`NetworkAdapter.fetch_post` then reads."""

    post_id: str
    text: str | None = None
    url: str = ""
    image_url: str = ""
    reads: dict = field(default_factory=dict, compare=False)


@dataclass
class SocialMessage:
    """One customer-visible message, normalized across networks.

    ``channel`` is the helpdesk channel code (x, facebook, messenger,
    instagram); ``conversation_id`` is the network's thread (X
    conversation_id, Facebook/Instagram post id, DM thread id).
    """

    channel: str
    kind: str  # PUBLIC or PRIVATE
    message_id: str
    conversation_id: str
    author: Author
    text: str = ""
    created_at: datetime | None = None
    parent_id: str = ""
    url: str = ""
    lang: str = ""
    attachments: tuple = ()
    links: tuple = ()
    verb: str = VERB_ADD
    is_own: bool = False  # written by the connected account itself (or an echo)
    is_repost: bool = False
    # The thread was started from an ad (Meta's referral, source ADS): the
    # network keeps a longer standard reply window for it.
    from_ad: bool = False
    parent_post: ParentPost | None = None
    # Its content is end-to-end encrypted (X's XChat): the helpdesk shows a
    # notice and the link to read it on the network instead of a text.
    encrypted: bool = False
    # A message type the adapter does not know (WhatsApp's "unsupported", or
    # a type added after this code): kept and shown as such, never dropped.
    unsupported_type: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def thread_key(self):
        """One ticket per customer per conversation.

        Public threads are keyed by conversation and author, so many customers
        replying under one brand post get separate tickets. A private thread is
        already one customer's (``dm``): its conversation id names it, whoever
        wrote the message, so the brand's own echoes file with it too.
        """
        if self.kind == PRIVATE:
            return f"{self.channel}:dm:{self.conversation_id}"
        return f"{self.channel}:{self.conversation_id}:{self.author.external_id}"


@dataclass(frozen=True)
class InboundEvent:
    """One item to store: a webhook delivery is split into these, and polling
    yields them too. ``event_id`` is unique per account and per change.

    ``recipient_id`` is the network's id of the account a webhook item is
    addressed to (Meta's page or Instagram account, X's user), or None when
    the delivery does not say: one webhook URL may receive the items of
    every account of an app, and each is filed under the account whose
    :meth:`NetworkAdapter.webhook_identity` holds its recipient."""

    event_id: str
    payload: dict
    recipient_id: str | None = None


@dataclass(frozen=True)
class DeliveryStatus:
    """What became of a message the helpdesk sent, as the network reports it
    (WhatsApp's ``statuses``): ``message_id`` is the
    :attr:`SentMessage.external_id` it is about, ``status`` one of sent,
    delivered, read or failed, ``error`` the reason of a failure as an agent
    reads it; ``reference`` the opaque reference the reply was sent with
    (WhatsApp's ``biz_opaque_callback_data``: the reply's idempotency key),
    which identifies a reply whose sending timed out. ``pricing`` is the
    network's billing of the message (WhatsApp: ``{"billable",
    "pricing_model", "category", "type"}``), None when unbilled or unsaid;
    ``country`` the recipient's ISO country code, when known."""

    message_id: str
    status: str
    at: datetime | None = None
    recipient_id: str = ""
    error: str = ""
    reference: str = ""
    pricing: dict | None = None
    country: str = ""


@dataclass
class PollResult:
    """Events fetched after the stored cursors, and the cursors to save once
    those events are committed. ``reads`` counts billable reads by resource
    type, with ``resource_ids`` listing each resource (``type:id``) read."""

    events: list
    cursors: dict
    reads: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SentMessage:
    """What the network answered when a reply was published."""

    external_id: str
    url: str = ""


class NetworkAdapter:
    """Interface of one network. Subclasses override what their network has.

    ``config`` is a plain dict of the account's settings and credentials.
    """

    network = None
    signature_header = None
    # The config keys of the secret that signs webhook deliveries, and of the
    # ids deliveries address an account by (see webhook_identity).
    signing_secret_setting = None
    recipient_id_settings = ()

    def __init__(self, config):
        self.config = config

    @classmethod
    def webhook_identity(cls, config):
        """(signing secret, recipient ids) of the account ``config`` sets up.
        A valid signature proves only that the sender holds the secret, so a
        delivery may be addressed to any account holding it, and to no other;
        an item goes to the account whose recipient ids hold its own."""
        secret = config.get(cls.signing_secret_setting) or None
        recipient_ids = frozenset(
            str(config[key]) for key in cls.recipient_id_settings if config.get(key)
        )
        return secret, recipient_ids

    # -- onboarding -------------------------------------------------------
    def test_connection(self):
        """Check the credentials. Returns a dict with at least ``label`` (how
        the account is named to an admin), ``granted`` and ``missing``
        (permissions the helpdesk's features need that the credentials
        lack); networks add their own keys."""
        raise NotImplementedError

    def register_webhook(self, url):
        """Make the network send its events to ``url``; returns a short
        sentence saying what was done. Raises :class:`NotSupported` when it
        must be done by hand, other :class:`AdapterError` on failure."""
        raise NotSupported(
            "This network cannot be told about the webhook automatically: "
            f"enter {url} in its developer portal."
        )

    def backfill_sources(self):
        """Names of what :meth:`backfill` can import for this account."""
        return ()

    def backfill(self, source, since, cursor=None):
        """One page of ``source``'s items created at or after ``since`` (an
        aware UTC datetime), as a :class:`PollResult` whose events carry the
        same ids as webhooks and polling (so nothing is stored twice) and
        whose cursors are ``{"next": <str>}`` to continue from, or ``{}``
        once the source is exhausted."""
        raise NotSupported("This network cannot import past messages.")

    def estimate_backfill(self, since):
        """What a backfill from ``since`` would cost on a metered network:
        ``{"reads": {category: count}, "exact": bool}``; None when the
        network does not bill reads."""
        return None

    # -- webhooks ---------------------------------------------------------
    def handshake(self, params):
        """Answer a GET verification request: return ``(body, content_type)``
        or raise :class:`HandshakeError`."""
        raise HandshakeError("This network has no webhook handshake.")

    def verify_signature(self, raw_body, headers):
        """Check the signature over the raw bytes, or raise SignatureError."""
        raise SignatureError("This network does not accept webhooks.")

    def split_delivery(self, payload):
        """Split one webhook body into :class:`InboundEvent` items."""
        raise MalformedPayload("This network does not accept webhooks.")

    # -- parsing ----------------------------------------------------------
    def parse_event(self, payload):
        """Turn one stored event payload into a list of :class:`SocialMessage`.

        An empty list means the event carries nothing for the helpdesk
        (a read receipt, say); it is stored as ignored.
        """
        raise NotImplementedError

    def parse_statuses(self, payload):
        """The :class:`DeliveryStatus` items one stored event payload carries
        (WhatsApp's ``statuses``); empty on networks that report none."""
        return []

    # -- polling ----------------------------------------------------------
    def poll(self, cursors, start=None):
        """Fetch what came after ``cursors``; returns a :class:`PollResult`.
        A source without a cursor starts at ``start`` (an aware UTC datetime,
        the account's connection): older history is the backfill's, after
        its cost estimate."""
        return PollResult(events=[], cursors=dict(cursors))

    def should_slow_down(self):
        """Whether the network's usage headers say we near its rate limit."""
        return False

    # -- profiles and posts -----------------------------------------------
    def profile_picture_url(self, channel, user_id):
        """The address of the picture of the user ``user_id`` of ``channel``,
        read from the network's profile API; "" when it gives none. Called
        once per new customer by a cron, never in a webhook request."""
        return ""

    def fetch_post(self, channel, post_id):
        """The post ``post_id`` that comments answer, as a :class:`ParentPost`
        whose ``reads`` are the billable reads it cost (as
        :attr:`PollResult.reads`). Called once per post by a cron."""
        raise NotSupported("This network cannot look up a post.")

    def download_media(self, url, max_bytes, timeout):
        """The content of an attachment ``url`` a parsed message carries, as a
        :class:`~.media.Media`; networks whose media need an authenticated
        lookup first (WhatsApp's media ids) override it."""
        from .media import fetch_media  # media imports this module

        return fetch_media(url, max_bytes, timeout)

    # -- replies ----------------------------------------------------------
    def max_length(self, kind, message=None):
        """Longest text allowed for a reply of ``kind`` (PUBLIC/PRIVATE) to
        ``message`` (limits may differ per channel of one network)."""
        return 2000

    def text_length(self, text, message=None, kind=None):
        """Length of ``text`` as the network counts it."""
        return len(text)

    def image_limit(self, message, kind):
        """Largest image (bytes) a reply of ``kind`` to ``message`` may
        carry; 0 where the network takes text only."""
        return 0

    def window_closes_at(self, message, kind, last_customer_at=None, automatic=False):
        """When the platform stops accepting a reply of ``kind`` to ``message``
        (aware UTC datetime), or None when there is no window.
        ``last_customer_at`` is the customer's latest message in the thread;
        ``automatic``: a reply no human wrote (a rule's acknowledgement),
        which no human-agent extension covers."""
        return None

    def check_reply(self, message, kind, now, last_customer_at=None, automatic=False):
        """Refuse up front, with the reason, a reply the network would reject
        (:class:`ReplyNotAllowed` or :class:`WindowClosed`)."""
        closes_at = self.window_closes_at(  # pylint: disable=assignment-from-none
            message, kind, last_customer_at, automatic=automatic
        )
        if closes_at and now >= closes_at:
            raise WindowClosed(
                f"The reply window closed at {closes_at:%Y-%m-%d %H:%M} UTC.",
                closed_at=closes_at,
            )

    def send_reply(
        self,
        message,
        text,
        kind,
        idempotency_key,
        last_customer_at=None,
        automatic=False,
    ):
        """Publish ``text`` in answer to the :class:`SocialMessage` ``message``.

        ``kind`` is PUBLIC (a reply on the thread) or PRIVATE (a direct
        message); ``automatic``: no human wrote it (see
        :meth:`window_closes_at`). Adapters whose :meth:`image_limit` allows
        one also take ``image=``, a :class:`~.media.Media` sent with the text.
        Returns a :class:`SentMessage`.
        """
        raise ReplyNotAllowed("This network cannot send replies.")

    def find_sent(self, message, idempotency_key, text="", kind=None, since=None):
        """After a timeout, look on the network for the reply ``text`` we may
        already have published; return its :class:`SentMessage` or None.
        ``since`` (aware): the reply's first attempt; an older message with
        the same text is another answer, not this reply (see
        :func:`sent_since`)."""
        return None

    def complete_sent(self, message, sent, image, last_customer_at=None):
        """After :meth:`find_sent` found the text ``sent``, send ``image`` (a
        :class:`~.media.Media`) where the network sends it as a message of
        its own and it is not there yet. Where the image goes in the same
        post as the text, there is nothing to do."""
        return None


def handshake_token(value, name):
    """``value`` when it is shaped like a network's handshake token (see
    HANDSHAKE_TOKEN), else HandshakeError naming the parameter ``name``."""
    if not isinstance(value, str) or not HANDSHAKE_TOKEN.fullmatch(value):
        raise HandshakeError(
            f"The {name} is not a token as the network sends: at most 128 "
            "letters, digits and + / = _ - characters."
        )
    return value


def backfill_cursors(next_value):
    """A backfill page's cursors: where the next page starts, or ``{}`` when
    the source is exhausted."""
    return {"next": str(next_value)} if next_value else {}


def sent_since(created_at, since):
    """Whether a message created at ``created_at`` may be a reply first tried
    at ``since`` (both aware; ``since`` None: any time). A message of unknown
    time never is, when ``since`` is given."""
    if since is None:
        return True
    return created_at is not None and created_at >= aware_utc(since) - CLOCK_SKEW


def aware_utc(moment):
    """``moment`` in UTC; a naive datetime is refused, its zone unknown."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"Expected an aware datetime, got {moment!r}.")
    return moment.astimezone(timezone.utc)


def hmac_sha256(secret, data):
    """Raw HMAC-SHA256 digest; both arguments may be str or bytes."""
    if isinstance(secret, str):
        secret = secret.encode()
    if isinstance(data, str):
        data = data.encode()
    return hmac.new(secret, data, hashlib.sha256).digest()


def signatures_match(expected, received):
    """Constant-time comparison of two signature strings."""
    if not received:
        return False
    return hmac.compare_digest(expected.encode(), received.strip().encode())


def load_json(raw_body):
    """Decode a webhook body into a dict, or raise MalformedPayload."""
    try:
        payload = json.loads(raw_body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload("The body must be a JSON object.")
    return payload


def _refuse_constant(name):
    """NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them."""
    raise ValueError(f"{name} is not valid JSON")
