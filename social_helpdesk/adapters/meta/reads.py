"""Meta reads: polling and the history import (backfill), rewriting what
the Graph API returns into webhook-shaped events with the webhook's ids.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import NamedTuple

from ..base import (
    NetworkAdapter,
    PollResult,
    aware_utc,
    backfill_cursors,
)
from .readers import (
    OBJECT_INSTAGRAM,
    OBJECT_PAGE,
    _cursor,
    _data,
    _dict_or_empty,
    _graph_time,
    _is_identifier,
    _path,
    _text,
)

FIRST_POLL_LOOKBACK = timedelta(days=1)
# A recovery reads a source to the start of its window, within this bound.
RECOVERY_MAX_PAGES = 200
FEED_FIELDS = (
    "id,message,created_time,from,"
    "comments.filter(stream).order(reverse_chronological)"
    "{id,message,created_time,from,parent}"
)
CONVERSATION_FIELDS = (
    "updated_time,messages{id,message,created_time,from,to,"
    "attachments{mime_type,name,file_url,image_data{url},video_data{url}}}"
)
MEDIA_FIELDS = (
    "id,media_product_type,comments{id,text,timestamp,from,username,parent_id,"
    "replies{id,text,timestamp,from,username,parent_id}}"
)


class PollSource(NamedTuple):
    """One Graph collection that :meth:`MetaAdapter.poll` reads."""

    cursor: str  # its key in the cursors
    path: str
    params: dict
    obj: str  # the webhook object its items belong to
    owner_id: str  # the entry id: the page or the Instagram account
    field: str | None  # the change field, or None for messaging items
    read: Callable  # Graph node -> [(epoch, webhook change value or item)]


class MetaReadsMixin(NetworkAdapter):
    """Polling and backfill of the page feed, conversations and Instagram."""

    # -- polling ----------------------------------------------------------
    def poll(self, cursors, start=None):
        """Read what webhooks may have missed since each cursor (epoch
        seconds; from ``start``, else a day back, on the first poll).

        Items of the cursor's second are read again on purpose: their event
        ids dedupe them, and nothing posted later in that second is lost.
        Paging stops at the first page with nothing at or after the cursor.
        A poll reads at most ``poll_max_pages`` pages of a source; when more
        remain, the cursor stays and the next poll resumes at the page where
        this one stopped (see :meth:`_poll_source`).
        """
        lookback = start or self.clock() - FIRST_POLL_LOOKBACK
        first_since = int(lookback.timestamp())
        events, new_cursors = [], dict(cursors)
        for source in self._poll_sources():
            events += self._poll_source(source, new_cursors, first_since)
        return PollResult(events=events, cursors=new_cursors)

    def recover_window(self, start, end):
        """What webhooks may have missed while the account was down or its
        webhook silent, from ``start`` to ``end`` (aware UTC): every source
        read from ``start``, all pages, as :meth:`poll` returns them (the
        cursors it returns are for the window only: keep the account's
        own). Items after ``end`` are left to the next poll; what webhooks
        did deliver is stored once, by its event id."""
        since = int(aware_utc(start).timestamp())
        until = int(aware_utc(end).timestamp())
        events, cursors = [], {}
        for source in self._poll_sources():
            cursors[source.cursor] = since
            read = self._poll_source(source, cursors, since, RECOVERY_MAX_PAGES)
            events += [event for event in read if _event_time(event) <= until]
        return PollResult(events=events, cursors=cursors)

    def _poll_source(self, source, cursors, first_since, max_pages=None):
        """The fresh events of one source, updating ``cursors`` in place.

        Pages come newest first, so the cursor may only move once the pass
        reached its end: until then ``<source>_resume`` keeps the ``after``
        cursor of the next page and the newest time read in the pass."""
        since = _cursor(cursors.get(source.cursor), first_since)
        resume = _dict_or_empty(cursors.pop(f"{source.cursor}_resume", None))
        newest = _cursor(resume.get("newest"), since)
        params = {**source.params, "limit": self.poll_page_size}
        if resume.get("after"):
            params["after"] = str(resume["after"])
        events, after = [], None
        for _page in range(max_pages or self.poll_max_pages):
            body = self._get(source.path, params)
            fresh = _fresh(source, _data(body), since)
            for created, item in fresh:
                events.append(self._source_event(source, created, item))
                newest = max(newest, created)
            after = _next_after(body) if fresh else None
            if not after:
                break
            params["after"] = after
        if after:
            cursors[f"{source.cursor}_resume"] = {"after": after, "newest": newest}
        else:
            cursors[source.cursor] = newest
        return events

    def _source_event(self, source, created, item):
        """The webhook-shaped event of a polled item: same id as a webhook's."""
        if source.field:
            return self._change_event(
                source.obj, source.owner_id, created, source.field, item
            )
        return self._messaging_event(source.obj, source.owner_id, created, item)

    # -- backfill ---------------------------------------------------------
    def backfill_sources(self):
        """feed and messenger, plus instagram_comments and instagram_dm when
        an Instagram account is configured."""
        return tuple(source.cursor for source in self._poll_sources())

    def backfill(self, source, since, cursor=None):
        """One page of ``source``, read from the endpoints :meth:`poll` reads
        (the page feed with its comments, conversations for Messenger or
        Instagram, the Instagram media with their comments), following
        Graph ``after`` cursors.

        Paging stops, as in :meth:`poll`, at the first page with nothing
        created at or after ``since``. Events carry the webhook event ids,
        so what a webhook or a poll already stored is not stored again.
        Meta does not bill reads: ``reads`` stays empty. Like polling, only
        what Meta embeds in each node is read (a conversation's latest
        messages, a post's first page of comments), not the rest of a long
        thread.
        """
        since_epoch = int(aware_utc(since).timestamp())
        sources = {item.cursor: item for item in self._poll_sources()}
        if source not in sources:
            raise ValueError(f"Meta has no backfill source {source!r} here.")
        source = sources[source]
        params = {**source.params, "limit": self.poll_page_size}
        if cursor:
            params["after"] = cursor
        body = self._get(source.path, params)
        fresh = _fresh(source, _data(body), since_epoch)
        events = [self._source_event(source, created, item) for created, item in fresh]
        return PollResult(
            events=events,
            cursors=backfill_cursors(_next_after(body) if fresh else None),
        )

    def _poll_sources(self):
        page, instagram = self.page_id, self.instagram_account_id
        conversations = _path(self.messaging_owner_id, "conversations")
        sources = (
            []
            if self.instagram_login
            else [
                PollSource(
                    cursor="feed",
                    path=_path(page, "feed"),
                    params={"fields": FEED_FIELDS},
                    obj=OBJECT_PAGE,
                    owner_id=page,
                    field="feed",
                    read=_polled_feed_values,
                ),
                PollSource(
                    cursor="messenger",
                    path=conversations,
                    params={"platform": "messenger", "fields": CONVERSATION_FIELDS},
                    obj=OBJECT_PAGE,
                    owner_id=page,
                    field=None,
                    read=partial(_polled_messaging_items, own_id=page),
                ),
            ]
        )
        if instagram:
            sources.append(
                PollSource(
                    cursor="instagram_comments",
                    path=_path(instagram, "media"),
                    params={"fields": MEDIA_FIELDS},
                    obj=OBJECT_INSTAGRAM,
                    owner_id=instagram,
                    field="comments",
                    read=_polled_instagram_comments,
                )
            )
            sources.append(
                PollSource(
                    cursor="instagram_dm",
                    path=conversations,
                    params={"platform": "instagram", "fields": CONVERSATION_FIELDS},
                    obj=OBJECT_INSTAGRAM,
                    owner_id=instagram,
                    field=None,
                    read=partial(_polled_messaging_items, own_id=instagram),
                )
            )
        return sources


# -- polled nodes rewritten as webhook items ---------------------------------
def _polled_feed_values(post):
    """(epoch, feed webhook value) for a post of /feed and each comment on it."""
    if not _is_identifier(post.get("id")):
        return
    post_id = str(post["id"])
    nodes = [(post, {"item": "post", "post_id": post_id})]
    for comment in _data(post.get("comments")):
        if _is_identifier(comment.get("id")):
            parent_id = _dict_or_empty(comment.get("parent")).get("id") or post_id
            value = {
                "item": "comment",
                "comment_id": str(comment["id"]),
                "post_id": post_id,
                "parent_id": str(parent_id),
            }
            nodes.append((comment, value))
    for node, value in nodes:
        created = _graph_time(node.get("created_time"))
        if created is None:
            continue
        value.update(
            verb="add", message=_text(node.get("message")), created_time=created
        )
        if isinstance(node.get("from"), dict):
            value["from"] = node["from"]
        yield created, value


def _polled_messaging_items(conversation, own_id):
    """(epoch, messaging webhook item) for the messages of a conversation."""
    for message in _data(conversation.get("messages")):
        created = _graph_time(message.get("created_time"))
        sender = _dict_or_empty(message.get("from"))
        ids = (message.get("id"), sender.get("id"))
        if created is None or not all(map(_is_identifier, ids)):
            continue
        author = {"id": str(sender["id"])}
        author.update(
            (key, sender[key]) for key in ("name", "username") if key in sender
        )
        body = {"mid": str(message["id"]), "text": _text(message.get("message"))}
        recipient_id = own_id
        if author["id"] == own_id:
            body["is_echo"] = True
            recipients = _data(message.get("to"))
            recipient_id = str(recipients[0].get("id") or "") if recipients else ""
        attachments = _polled_attachments(message.get("attachments"))
        if attachments:
            body["attachments"] = attachments
        item = {
            "sender": author,
            "recipient": {"id": recipient_id},
            "timestamp": created * 1000,
            "message": body,
        }
        yield created, item


def _polled_attachments(collection):
    """Conversation attachments in the webhook's {type, payload.url} form."""
    attachments = []
    for node in _data(collection):
        urls = [
            ("image", _dict_or_empty(node.get("image_data")).get("url")),
            ("video", _dict_or_empty(node.get("video_data")).get("url")),
            ("file", node.get("file_url")),
        ]
        for kind, url in urls:
            if isinstance(url, str):
                attachments.append({"type": kind, "payload": {"url": url}})
                break
    return attachments


def _polled_instagram_comments(media):
    """(epoch, comments webhook value) for each comment and reply of a media."""
    if not _is_identifier(media.get("id")):
        return
    media_ref = {"id": str(media["id"])}
    if isinstance(media.get("media_product_type"), str):
        media_ref["media_product_type"] = media["media_product_type"]
    for comment in _data(media.get("comments")):
        for node in [comment, *_data(comment.get("replies"))]:
            created = _graph_time(node.get("timestamp"))
            if created is None or not _is_identifier(node.get("id")):
                continue
            sender = _dict_or_empty(node.get("from"))
            value = {
                "id": str(node["id"]),
                "text": _text(node.get("text")),
                "from": {
                    "id": str(sender.get("id") or ""),
                    "username": node.get("username") or sender.get("username") or "",
                },
                "media": media_ref,
            }
            parent_id = node.get("parent_id") or (
                None if node is comment else comment.get("id")
            )
            if parent_id:
                value["parent_id"] = str(parent_id)
            yield created, value


def _event_time(event):
    """Epoch seconds of a polled event: its item's creation."""
    return event.payload["entry_time"]


def _fresh(source, nodes, since):
    """(epoch, item) of the nodes' items created at or after ``since``."""
    return [
        (created, item)
        for node in nodes
        for created, item in source.read(node)
        if created >= since
    ]


def _next_after(body):
    """The ``after`` cursor of a Graph page that has a next page, else None."""
    paging = _dict_or_empty(body.get("paging"))
    after = _dict_or_empty(paging.get("cursors")).get("after")
    if paging.get("next") and after:
        return str(after)
    return None
