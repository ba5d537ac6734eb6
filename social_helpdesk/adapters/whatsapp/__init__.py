"""WhatsApp Business conversations through Meta's WhatsApp Cloud API.

One account is one business phone number (``phone_number_id``) of a
WhatsApp Business Account; its conversations become ``whatsapp`` tickets,
one per customer, keyed by the customer's business-scoped user id.

The package, by job:

* :mod:`.client`: configuration, Graph calls and errors mapping, the
  connection check;
* :mod:`.webhook`: handshake and signature (Meta's), the split of a delivery
  into one event per message and per status, the app's subscription;
* :mod:`.parse`: stored events as messages and delivery statuses, ratings;
* :mod:`.media`: media download by id, upload for replies;
* :mod:`.replies`: the 24-hour window, replies, templates, rating requests;
* :mod:`.templates`: the account's templates and their parameters;
* :mod:`.countries`: a customer's country, which prices depend on (data);
* :mod:`.adapter`: :class:`WhatsAppAdapter`, made of the above.
"""

from .adapter import WhatsAppAdapter
