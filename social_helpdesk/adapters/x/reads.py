"""X reads: polling mentions and direct messages, the history import
(backfill) and its cost estimate, with the reads X bills counted.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from ..base import (
    AdapterError,
    NetworkAdapter,
    NotSupported,
    PollResult,
    RateLimited,
    TransientError,
    aware_utc,
    backfill_cursors,
)
from .parse import _expect_shape, _id, _iso_datetime, _tweet_event, _users, _v2_dm_event

PAGE_SIZE = 100
# X stops paging by itself (800 mentions, 30 days of DMs); this only guards
# against a server that keeps handing out next_token.
MAX_PAGES = 50

TWEET_FIELDS = [
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "created_at",
    "lang",
    "public_metrics",
    "author_id",
    "entities",
    "attachments",
    "note_tweet",
]
TWEET_EXPANSIONS = [
    "author_id",
    "attachments.media_keys",
    # The post a reply answers, with its media: quoted above the reply.
    "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys",
]
DM_EVENT_FIELDS = [
    "id",
    "text",
    "event_type",
    "created_at",
    "sender_id",
    "dm_conversation_id",
    "participant_ids",
    "attachments",
    "entities",
]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys"]
USER_FIELDS = ["username", "name", "public_metrics", "profile_image_url"]
MEDIA_FIELDS = ["type", "url", "preview_image_url"]

# Backfill sources.
SOURCE_MENTIONS = "mentions"
SOURCE_DMS = "dms"
# GET /2/users/:id/mentions reaches back 800 posts at most, and
# GET /2/dm_events 30 days; GET /2/tweets/counts/recent counts 7 days.
MENTIONS_LIMIT = 800
COUNTS_WINDOW = timedelta(days=7)
# X refuses a start_time out of its window by the time the call arrives.
COUNTS_MARGIN = timedelta(minutes=1)
# Direct messages cannot be counted in advance: a page is assumed.
DM_ESTIMATE = PAGE_SIZE

# A poll's ``reads`` count resources by X price category: ``owned_post``
# (posts from the account's own mentions timeline, priced as Owned Reads when
# the account owns the developer app), ``dm_event`` and ``user`` (users
# returned by expansions). X bills a resource once per UTC day, so
# ``resource_ids`` lists every resource read (``post:<id>``, ``dm_event:<id>``,
# ``user:<id>``) for the caller to deduplicate.


class XReadsMixin(NetworkAdapter):
    """Polling and backfill of mentions and direct messages."""

    # -- backfill ---------------------------------------------------------
    def backfill_sources(self):
        """Mentions, and direct messages with user-context credentials."""
        if self._has_user_context:
            return (SOURCE_MENTIONS, SOURCE_DMS)
        return (SOURCE_MENTIONS,)

    def backfill(self, source, since, cursor=None):
        """One page of mentions (``GET /2/users/:id/mentions`` from
        ``start_time``) or of DMs (``GET /2/dm_events``, newest first, up to
        the first one older than ``since``).

        X serves only the 800 most recent mentions and 30 days of DMs,
        whatever ``since`` says. Events carry the ids of polling and
        webhooks; ``reads`` counts what X bills, as :meth:`poll` does.
        """
        since = aware_utc(since)
        if source not in (SOURCE_MENTIONS, SOURCE_DMS):
            raise ValueError(f"X has no backfill source {source!r}.")
        if source not in self.backfill_sources():
            raise NotSupported(
                "With only an app bearer token, X does not give access to direct "
                "messages: connect the account with its user access token."
            )
        reads = _new_reads()
        with _reporting_reads(reads), _expect_shape("X's answer"):
            if source == SOURCE_MENTIONS:
                found, next_token = self._backfill_mentions(since, cursor, reads)
            else:
                found, next_token = self._backfill_dms(since, cursor, reads)
        found.sort(key=lambda pair: pair[0])
        return PollResult(
            events=[event for _, event in found],
            cursors=backfill_cursors(next_token),
            reads=reads,
        )

    def _mentions_params(self):
        """The account's mentions, with the fields and expansions we parse."""
        return {
            "id": self._own_id,
            "max_results": PAGE_SIZE,
            "tweet_fields": TWEET_FIELDS,
            "expansions": TWEET_EXPANSIONS,
            "user_fields": USER_FIELDS,
            "media_fields": MEDIA_FIELDS,
        }

    def _backfill_mentions(self, since, cursor, reads):
        params = dict(self._mentions_params(), start_time=_x_time(since))
        if cursor:
            params["pagination_token"] = cursor
        page = self._call(
            "importing mentions", self._client.get_users_mentions, **params
        )
        includes = page.get("includes") or {}
        _count_users(reads, includes)
        count_referenced_posts(reads, includes, self._own_id)
        found = []
        for tweet in page.get("data") or []:
            _count(reads, "owned_post", "post", tweet["id"])
            found.append(
                (int(tweet["id"]), _tweet_event(tweet, includes, self._own_id))
            )
        return found, (page.get("meta") or {}).get("next_token")

    def _backfill_dms(self, since, cursor, reads):
        params = _dm_params()
        if cursor:
            params["pagination_token"] = cursor
        page = self._call(
            "importing direct messages",
            self._client.get_direct_message_events,
            **params,
        )
        includes = page.get("includes") or {}
        _count_users(reads, includes)
        found, reached_since = [], False
        for dm in page.get("data") or []:
            _count(reads, "dm_event", "dm_event", dm["id"])
            created_at = _iso_datetime(dm.get("created_at"))
            if created_at is not None and created_at < since:
                reached_since = True
                continue
            found.append((int(dm["id"]), _v2_dm_event(dm, includes, self._own_id)))
        next_token = (page.get("meta") or {}).get("next_token")
        return found, None if reached_since else next_token

    def estimate_backfill(self, since):
        """Reads a backfill from ``since`` would cost, by price category.

        Mentions are counted with ``GET /2/tweets/counts/recent`` (query
        ``@username``, app bearer token, last 7 days): ``exact`` is True when
        X counted them and there are no DMs to import. When X refuses to
        count (lower tiers answer 401/403), ``since`` is older than 7 days or
        no app token is at hand, the upper bound is used: the 800 mentions X
        serves at most. DMs cannot be counted in advance: one page (100) is
        assumed. ``user`` reads are an upper bound (one author per item).
        ``detail`` says in plain words how the numbers were obtained.
        """
        since = aware_utc(since)
        counted, detail = self._count_mentions(since)
        if counted is None:
            mentions, exact = MENTIONS_LIMIT, False
        else:
            mentions, exact = min(counted, MENTIONS_LIMIT), True
            detail = f"X counted {counted} mentions since {since:%Y-%m-%d %H:%M} UTC."
            if counted > MENTIONS_LIMIT:
                detail += f" X serves only the latest {MENTIONS_LIMIT} of them."
        dms = 0
        if SOURCE_DMS in self.backfill_sources():
            dms, exact = DM_ESTIMATE, False
            detail += (
                f" Direct messages cannot be counted in advance: {dms} (one page) "
                "are assumed."
            )
        reads = {"owned_post": mentions, "dm_event": dms, "user": mentions + dms}
        return {"reads": reads, "exact": exact, "detail": detail}

    def _count_mentions(self, since):
        """(count, "") from X's counts, or (None, why not) for the fallback."""
        fallback = f"At most {MENTIONS_LIMIT} mentions are assumed (the most X serves)"
        if since < _now() - COUNTS_WINDOW + COUNTS_MARGIN:
            return None, f"{fallback}: X counts only the last 7 days."
        username = str(self.config.get("username") or "").lstrip("@")
        if not username:
            return None, f"{fallback}: the account's username is not known yet."
        params = {
            "query": f"@{username}",
            "start_time": _x_time(since),
            "granularity": "day",
        }
        try:
            body = self._app_call(
                "counting mentions",
                "GET",
                "/2/tweets/counts/recent",
                params=params,
            )
        except NotSupported:
            return None, (
                f"{fallback}: there is no app bearer token, nor API key and "
                "secret, to count them with."
            )
        except RateLimited:
            return None, f"{fallback}: X's limit on counting is reached for now."
        except TransientError:
            return None, f"{fallback}: X could not be reached to count them."
        except AdapterError:
            return None, (
                f"{fallback}: X does not let this app count posts (its plan or "
                "its credentials)."
            )
        with _expect_shape("X's answer"):
            total = (body.get("meta") or {}).get("total_tweet_count")
            if total is None:
                total = sum(int(b["tweet_count"]) for b in body.get("data") or [])
            return int(total), ""

    # -- polling ----------------------------------------------------------
    def poll(self, cursors, start=None):
        """Fetch mentions after ``mentions_since_id`` and, with user-context
        credentials, DMs newer than ``dm_newest_id``; events come oldest
        first and the returned cursors point past the newest. Without a
        cursor, nothing created before ``start`` is taken. An error carries
        the reads of the pages fetched before it."""
        reads = _new_reads()
        cursors = dict(cursors)
        with _reporting_reads(reads), _expect_shape("X's answer"):
            found = self._poll_mentions(cursors, reads, start)
            if self._has_user_context:
                found += self._poll_dms(cursors, reads, start)
        found.sort(key=lambda pair: pair[0])
        return PollResult(
            events=[event for _, event in found], cursors=cursors, reads=reads
        )

    def _poll_mentions(self, cursors, reads, start):
        """Mentions newer than the cursor; X filters them with since_id, or
        with start_time (inclusive) until the first one arrives."""
        since_id = cursors.get("mentions_since_id")
        params = self._mentions_params()
        if since_id:
            params["since_id"] = since_id
        elif start is not None:
            params["start_time"] = _x_time(start)
        found = []
        for page in self._pages(
            "reading mentions", self._client.get_users_mentions, params
        ):
            includes = page.get("includes") or {}
            _count_users(reads, includes)
            count_referenced_posts(reads, includes, self._own_id)
            for tweet in page.get("data") or []:
                _count(reads, "owned_post", "post", tweet["id"])
                found.append(
                    (int(tweet["id"]), _tweet_event(tweet, includes, self._own_id))
                )
                since_id = _newest(since_id, tweet["id"])
        if since_id:
            cursors["mentions_since_id"] = since_id
        return found

    def _poll_dms(self, cursors, reads, start):
        """DM events newer than the cursor. The endpoint has neither since_id
        nor start_time: pages come newest first, so paging stops at the first
        seen event, or without a cursor at the first one older than
        ``start``, which then becomes the cursor. Until a cursor exists the
        first page is a single event, so that an account with only older
        DMs reads one of them, not a page."""
        newest_seen = cursors.get("dm_newest_id")
        params = _dm_params()
        probe = not newest_seen and start is not None
        newest, found = newest_seen, []
        pages = self._pages(
            "reading direct messages",
            self._client.get_direct_message_events,
            params,
            first_page_size=1 if probe else None,
        )
        for page in pages:
            includes = page.get("includes") or {}
            _count_users(reads, includes)
            reached_seen = False
            for dm in page.get("data") or []:
                _count(reads, "dm_event", "dm_event", dm["id"])
                if newest_seen and int(dm["id"]) <= int(newest_seen):
                    reached_seen = True
                    continue
                created_at = _iso_datetime(dm.get("created_at"))
                if probe and created_at is not None and created_at < start:
                    reached_seen = True
                    newest = _newest(newest, dm["id"])
                    continue
                found.append((int(dm["id"]), _v2_dm_event(dm, includes, self._own_id)))
                newest = _newest(newest, dm["id"])
            if reached_seen:
                break
        if newest:
            cursors["dm_newest_id"] = newest
        return found

    def _pages(self, action, method, params, first_page_size=None):
        """Yield the pages of a paginated v2 endpoint, following next_token;
        the first page holds ``first_page_size`` items when given."""
        params = dict(params)
        page_size = params.get("max_results")
        if first_page_size:
            params["max_results"] = first_page_size
        for _ in range(MAX_PAGES):
            page = self._call(action, method, **params)
            yield page
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                return
            params.update(pagination_token=next_token, max_results=page_size)


def _dm_params():
    """One-to-one DM events with the fields and expansions we parse."""
    return {
        "max_results": PAGE_SIZE,
        "event_types": ["MessageCreate"],
        "dm_event_fields": DM_EVENT_FIELDS,
        "expansions": DM_EXPANSIONS,
        "user_fields": USER_FIELDS,
        "media_fields": MEDIA_FIELDS,
    }


@contextmanager
def _reporting_reads(reads):
    """Attach the reads made so far to an adapter error: X bills them even
    when a later call fails."""
    try:
        yield
    except AdapterError as exc:
        exc.reads = reads
        raise


def _newest(current, candidate):
    if current is None or int(candidate) > int(current):
        return _id(candidate)
    return current


def _new_reads():
    return {"owned_post": 0, "dm_event": 0, "user": 0, "resource_ids": []}


def _count(reads, category, resource, resource_id):
    reads[category] += 1
    reads["resource_ids"].append(f"{resource}:{resource_id}")


def _count_users(reads, includes):
    for user in _users(includes):
        _count(reads, "user", "user", user["id"])


def count_referenced_posts(reads, includes, own_id):
    """Posts in includes.tweets (the posts replies answer) are billed as
    reads too: the account's own as owned reads, others' as post reads."""
    for post in includes.get("tweets") or []:
        if str(post.get("author_id")) == str(own_id):
            _count(reads, "owned_post", "post", post["id"])
        else:  # a category of its own, only when there are some
            reads.setdefault("post", 0)
            _count(reads, "post", "tweet", post["id"])


def _now():
    return datetime.now(timezone.utc)


def _x_time(moment):
    """X's query timestamps: YYYY-MM-DDTHH:mm:ssZ."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
