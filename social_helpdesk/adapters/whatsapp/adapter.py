"""The WhatsApp adapter: one class made of the package's parts."""

from .client import WhatsAppClient
from .media import WhatsAppMediaMixin
from .parse import WhatsAppParseMixin
from .replies import WhatsAppRepliesMixin
from .templates import WhatsAppTemplatesMixin
from .webhook import WhatsAppWebhookMixin


class WhatsAppAdapter(
    WhatsAppWebhookMixin,
    WhatsAppParseMixin,
    WhatsAppRepliesMixin,
    WhatsAppTemplatesMixin,
    WhatsAppMediaMixin,
    WhatsAppClient,
):
    """Webhooks, media, templates and replies for one WhatsApp business
    phone number.

    ``session`` (a ``requests.Session``), ``clock`` (returns the aware UTC
    now) and ``timeout`` let tests drive it; the defaults suit production.
    """

    network = "whatsapp"
    signature_header = "X-Hub-Signature-256"
    # One Meta app's webhook serves every number of its WhatsApp Business
    # Accounts: each change's metadata.phone_number_id names the number.
    signing_secret_setting = "app_secret"
    recipient_id_settings = ("phone_number_id",)
