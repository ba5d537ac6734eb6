"""X lookups for the conversation on a ticket: the brand's post a reply
answers, read once per post (a billed read, counted as polls count theirs).

Avatars need no call on X: the users of posts and DMs carry their
``profile_image_url``.
"""

from dataclasses import replace

from ..base import MalformedPayload, NetworkAdapter
from .parse import _expect_shape, _id, parent_post_of
from .reads import MEDIA_FIELDS, _new_reads, count_referenced_posts

LOOKUP_TWEET_FIELDS = ["author_id", "attachments", "note_tweet"]


class XLookupsMixin(NetworkAdapter):
    """``GET /2/tweets/:id`` for the post a reply answers."""

    def fetch_post(self, channel, post_id):
        body = self._call(
            "reading the post a reply answers",
            self._client.get_tweet,
            id=_id(post_id),
            tweet_fields=LOOKUP_TWEET_FIELDS,
            expansions=["attachments.media_keys"],
            media_fields=MEDIA_FIELDS,
        )
        with _expect_shape("X's answer"):
            post = body.get("data")
            if not isinstance(post, dict):
                raise MalformedPayload("X returned no post.")
            reads = _new_reads()
            count_referenced_posts(reads, {"tweets": [post]}, self._own_id)
            found = parent_post_of(post, body.get("includes") or {})
        return replace(found, reads=reads)
