"""The Meta adapter: one class made of the package's parts."""

from .client import MetaClient
from .lookups import MetaLookupsMixin
from .parse import MetaParseMixin
from .reads import MetaReadsMixin
from .replies import MetaRepliesMixin
from .webhook import MetaWebhookMixin


class MetaAdapter(
    MetaWebhookMixin,
    MetaParseMixin,
    MetaReadsMixin,
    MetaRepliesMixin,
    MetaLookupsMixin,
    MetaClient,
):
    """Webhooks, polling and replies for one Facebook page and, optionally,
    the Instagram professional account linked to it.

    ``session`` (a ``requests.Session``) and ``clock`` (returns the aware UTC
    now) let tests and benchmarks drive it; the defaults suit production.
    """

    network = "meta"
    signature_header = "X-Hub-Signature-256"
    # A Meta app has one callback URL for all its pages: each entry's id
    # names the page, or the Instagram account, it is for.
    signing_secret_setting = "app_secret"
    recipient_id_settings = ("page_id", "instagram_account_id")
    poll_page_size = 25
    poll_max_pages = 5
