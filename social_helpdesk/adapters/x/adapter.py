"""The X adapter: one class made of the package's parts."""

from .activity import XActivityMixin
from .client import XClient
from .lookups import XLookupsMixin
from .parse import XParseMixin
from .reads import XReadsMixin
from .replies import XRepliesMixin
from .webhook import SIGNATURE_HEADER, XWebhookMixin


class XAdapter(
    XActivityMixin,
    XWebhookMixin,
    XParseMixin,
    XReadsMixin,
    XRepliesMixin,
    XLookupsMixin,
    XClient,
):
    """The X network.

    Config keys: ``user_id`` and ``username`` of the connected account;
    ``api_key`` and ``api_secret`` (the app's consumer key and secret; the
    secret also signs webhooks and CRC answers); ``access_token`` and
    ``access_token_secret`` (OAuth 1.0a user context, preferred), or
    ``oauth2_user_token`` (OAuth 2.0 user context, refreshed with
    ``oauth2_refresh_token``, ``oauth2_client_id`` and
    ``oauth2_client_secret``), or ``bearer_token``
    (app-only: reads mentions, cannot read DMs nor reply); ``api_base_url``
    to reach X through a proxy or a fake server; ``timeout`` in seconds
    (default 15); ``webhook_product``, "xaa" (X Activity API, the default)
    or "aaa" (the legacy Account Activity API).
    """

    network = "x"
    signature_header = SIGNATURE_HEADER
    signing_secret_setting = "api_secret"
    recipient_id_settings = ("user_id",)
