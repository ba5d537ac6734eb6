"""X (formerly Twitter): API v2 through tweepy, and two webhook products.

Posts and direct messages reach the helpdesk three ways:

* polling ``GET /2/users/{id}/mentions`` and ``GET /2/dm_events`` (v2 objects);
* X Activity API webhooks, ``{"data": {"event_type", "payload", "includes"}}``:
  ``post.mention.create``, ``post.reply.create``, ``dm.received``,
  ``dm.sent`` (the brand's own, an echo) and ``chat.received`` (XChat,
  end-to-end encrypted: stored with its ciphertext, shown as a notice with
  its link);
* legacy Account Activity API webhooks, ``for_user_id`` with
  ``tweet_create_events`` and ``direct_message_events`` (v1.1 objects).

One X app's webhook delivers the events of every account subscribed to it;
each event's ``recipient_id`` is the user it is for (the XAA event's
``filter.user_id``, the AAA delivery's ``for_user_id``).

Each item becomes one :class:`InboundEvent` whose id is ``tweet:<id>``,
``dm:<id>``, ``chat:<id>`` or ``tweet_delete:<id>`` whichever way it came,
so a post seen by polling and by a webhook is stored once. Its payload is
self-contained (the item plus the users and media it refers to) and names
its shape in ``payload["source"]``, which :meth:`XAdapter.parse_event` dispatches on.

The package, by job:

* :mod:`.client`: API access (tweepy clients, credentials, errors mapping)
  and the connection check;
* :mod:`.webhook`: webhook registration, CRC handshake, signature, and the
  split of a delivery into events;
* :mod:`.parse`: items as stored events, stored events as messages;
* :mod:`.reads`: polling, history import and its estimate, billed reads;
* :mod:`.replies`: reply length, sending, and finding a sent reply;
* :mod:`.activity`: X Activity API subscriptions, the replay of a missed
  window, and the OAuth 2.0 user token refresh;
* :mod:`.adapter`: :class:`XAdapter`, made of the above.
"""

from .adapter import XAdapter
