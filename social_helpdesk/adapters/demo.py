"""The demo network: replays a bundled dataset through the same store-and-
process path as the real networks, so a demo database shows tickets arriving
with no credentials at all."""

import hashlib
import json
import math
import mimetypes
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .base import (
    PRIVATE,
    AdapterError,
    Attachment,
    Author,
    InboundEvent,
    MalformedPayload,
    NetworkAdapter,
    PollResult,
    SentMessage,
    SignatureError,
    SocialMessage,
    aware_utc,
    backfill_cursors,
    hmac_sha256,
    signatures_match,
)
from .media import Media, MediaTooLarge

BACKFILL_SOURCE = "messages"
BACKFILL_PAGE_SIZE = 20
LABEL = "Demo data"
# The shortest time a replay of the dataset takes, after the first: its
# messages are spread over it, a few a poll, so the demo keeps going without
# flooding the helpdesk. The first replay is delivered at once (batch_size a
# poll) so that a new demo database fills in minutes.
LOOP_MINUTES = 60

DATASET = Path(__file__).resolve().parent.parent / "data" / "demo_messages.json"
# The dataset's WhatsApp photos, served by id as the Cloud API serves media:
# the same ``whatsapp-media:<id>`` address goes through the same download.
MEDIA_DIR = DATASET.parent / "demo_media"
MEDIA_PREFIX = "whatsapp-media:"
MEDIA_ID = re.compile(r"[\w.-]+")


class DemoAdapter(NetworkAdapter):
    """Config: ``batch_size`` (messages per poll, the pace), ``webhook_secret``
    (signs test deliveries), optionally ``dataset_path`` and ``loop_minutes``
    (:data:`LOOP_MINUTES`).

    Its webhook takes ``{"messages": [item, ...]}`` signed like Meta's:
    ``X-Demo-Signature: sha256=<hex HMAC-SHA256(webhook_secret, raw body)>``.
    Its items name no recipient: an account alone with its webhook secret
    receives them. An item's optional ``minutes_ago`` dates the message that
    long before it arrives, so that the dataset has SLA deadlines near and
    past, and reply windows about to close.
    """

    network = "demo"
    signature_header = "X-Demo-Signature"
    signing_secret_setting = "webhook_secret"

    def _dataset(self):
        with open(self.config.get("dataset_path") or DATASET, encoding="utf-8") as file:
            return json.load(file)

    def test_connection(self):
        """Nothing to check but the dataset; no permission applies."""
        count = len(self._dataset()["messages"])
        return {
            "messages": count,
            "label": LABEL,
            "granted": [],
            "missing": [],
            "required": [],
            "scopes_known": True,
            "detail": f"The demo network replays {count} bundled sample messages.",
        }

    def register_webhook(self, url):
        """The demo network sends nothing by itself: test deliveries are
        posted to the webhook by hand, signed with the webhook secret."""
        return (
            "The demo network needs no registration: its messages arrive by "
            "polling, and test deliveries can be posted to the webhook URL."
        )

    # -- backfill ---------------------------------------------------------
    def backfill_sources(self):
        return (BACKFILL_SOURCE,)

    def backfill(self, source, since, cursor=None):
        """The whole dataset, 20 messages a page, whatever ``since``: demo
        messages arrive "now", so all of them are recent. Event ids are those
        :meth:`poll` gives, so a message imported here is not stored again."""
        if source != BACKFILL_SOURCE:
            raise ValueError(f"The demo network has no backfill source {source!r}.")
        aware_utc(since)
        messages = self._dataset()["messages"]
        position = int(cursor or 0)
        batch = messages[position : position + BACKFILL_PAGE_SIZE]
        end = position + len(batch)
        return PollResult(
            events=self.split_delivery({"messages": batch}),
            cursors=backfill_cursors(end if batch and end < len(messages) else None),
        )

    def poll(self, cursors, start=None):
        """Replay the dataset, then replay it again, forever: each message as
        if it arrived now (``minutes_ago`` earlier), whatever ``start`` says.
        The first replay keeps the dataset's ids (those of :meth:`backfill`);
        each later one gives every message and conversation id a suffix of
        its own, so its messages are new ones in new threads, and spreads its
        messages over ``loop_minutes``. Cursors: the replay (``loop``), when
        it began (``loop_started``), its ids' ``suffix`` and the next message
        (``position``)."""
        messages = self._dataset()["messages"]
        if not messages:
            return PollResult(events=[], cursors=dict(cursors))
        now = self._now()
        loop = int(cursors.get("loop", 0))
        position = int(cursors.get("position", 0))
        suffix = cursors.get("suffix", "")
        started = cursors.get("loop_started")
        started = datetime.fromisoformat(started) if started else None
        period = timedelta(minutes=float(self.config.get("loop_minutes", LOOP_MINUTES)))
        if position >= len(messages):
            if started and now < started + period:
                return PollResult(events=[], cursors=dict(cursors))
            loop, position, started = loop + 1, 0, now
            suffix = f"~{loop}.{now:%Y%m%d%H%M%S}"
        started = started or now
        due = len(messages)
        if loop and period > timedelta(0):
            due = min(due, math.floor(len(messages) * ((now - started) / period)) + 1)
        batch = messages[
            position : min(due, position + int(self.config.get("batch_size", 5)))
        ]
        items = [self._replayed(item, suffix) for item in batch]
        return PollResult(
            events=self.split_delivery({"messages": items}),
            cursors={
                "loop": loop,
                "position": position + len(batch),
                "loop_started": started.isoformat(),
                "suffix": suffix,
            },
        )

    @staticmethod
    def _now():
        return datetime.now(timezone.utc)

    @staticmethod
    def _replayed(item, suffix):
        """``item`` as a replay delivers it: the first as is, later ones with
        their ``suffix`` on its message and thread ids (the event store's
        dedup key), from the same customers."""
        if not suffix:
            return item
        fresh = dict(item, id=item["id"] + suffix)
        for key in ("conversation_id", "parent_id"):
            if item.get(key):
                fresh[key] = item[key] + suffix
        return fresh

    def sign(self, raw_body):
        return "sha256=" + hmac_sha256(self.config["webhook_secret"], raw_body).hex()

    def verify_signature(self, raw_body, headers):
        if not self.config.get("webhook_secret"):
            raise SignatureError("This demo account has no webhook secret.")
        if not signatures_match(
            self.sign(raw_body), headers.get(self.signature_header)
        ):
            raise SignatureError("Missing or invalid X-Demo-Signature.")

    def split_delivery(self, payload):
        items = payload.get("messages")
        if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in items
        ):
            raise MalformedPayload('A demo delivery is {"messages": [{"id": ...}]}.')
        received_at = datetime.now(timezone.utc).isoformat()
        return [
            InboundEvent(
                event_id=f"demo:{item['id']}",
                payload={"source": "demo", "received_at": received_at, "item": item},
            )
            for item in items
        ]

    def parse_event(self, payload):
        try:
            item = payload["item"]
            author = item["author"]
            brand_id = self._dataset()["brand"]["id"]
            message = SocialMessage(
                channel=item["channel"],
                kind=item["kind"],
                message_id=item["id"],
                conversation_id=item["conversation_id"],
                parent_id=item.get("parent_id") or "",
                author=Author(
                    external_id=author["id"],
                    handle=author.get("handle", ""),
                    name=author.get("name", ""),
                    followers_count=author.get("followers"),
                    phone=author.get("phone", ""),
                ),
                text=item.get("text", ""),
                created_at=datetime.fromisoformat(payload["received_at"])
                - timedelta(minutes=float(item.get("minutes_ago") or 0)),
                lang=item.get("lang", ""),
                attachments=tuple(
                    Attachment(url=media["url"], kind=media["kind"], name=media["name"])
                    for media in item.get("attachments") or ()
                ),
                links=tuple(item.get("links") or ()),
                from_ad=bool(item.get("from_ad")),
                is_own=author["id"] == brand_id,
                raw=payload,
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise MalformedPayload(f"Not a demo message: {exc!r}") from exc
        return [message]

    def download_media(self, url, max_bytes, timeout):
        """The dataset's own media (its WhatsApp photos) from the addon's
        files; any other address as every network's."""
        if not url.startswith(MEDIA_PREFIX):
            return super().download_media(url, max_bytes, timeout)
        media_id = url[len(MEDIA_PREFIX) :]
        path = MEDIA_DIR / media_id
        if not MEDIA_ID.fullmatch(media_id) or not path.is_file():
            raise AdapterError(f"The demo data has no media {media_id!r}.")
        content = path.read_bytes()
        if len(content) > max_bytes:
            raise MediaTooLarge(f"{media_id} is larger than {max_bytes} bytes.")
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Media(content=content, mimetype=mimetype, name=path.name)

    def max_length(self, kind, message=None):
        return 1000 if kind == PRIVATE else 280

    def send_reply(
        self,
        message,
        text,
        kind,
        idempotency_key,
        last_customer_at=None,
        automatic=False,
    ):
        """Publishing is simulated; the id derives from the idempotency key, so
        a retry yields the same reply, as a real network's dedup would."""
        return self.find_sent(message, idempotency_key)

    def find_sent(self, message, idempotency_key, text="", kind=None, since=None):
        """The demo network publishes each key once, at once: always found."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        return SentMessage(external_id=f"demo-reply-{digest}")
