"""Facebook Pages, Messenger and Instagram through Meta's Graph API.

One Meta app serves three helpdesk channels: comments and posts on the page
feed (``facebook``), the page's conversations (``messenger``) and the linked
Instagram professional account's comments and direct messages
(``instagram``); or, with Instagram Login, an Instagram professional account
alone, through graph.instagram.com. Webhooks are the primary source;
:meth:`MetaAdapter.poll` is the fallback and rewrites what it reads into the
webhook shapes, with the same event ids, so a change seen both ways is stored
once.

The package, by job:

* :mod:`.graph`: one Graph API call (token, appsecret_proof, failures as
  typed errors), shared with WhatsApp's client;
* :mod:`.client`: configuration, usage headers, Graph error codes and the
  connection check;
* :mod:`.webhook`: app and page subscriptions, the verification handshake,
  signature, and the split of a delivery into events;
* :mod:`.parse`: stored events as messages;
* :mod:`.reads`: polling and history import (backfill);
* :mod:`.replies`: limits, messaging windows, sending, finding a sent reply;
* :mod:`.readers`: checked readers of Graph JSON, shared by the above;
* :mod:`.versions`: Graph API versions and their end dates (data);
* :mod:`.adapter`: :class:`MetaAdapter`, made of the above.
"""

from .adapter import MetaAdapter
