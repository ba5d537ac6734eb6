"""The WhatsApp adapter: one class made of the package's parts."""

from .client import WhatsAppClient
from .parse import WhatsAppParseMixin
from .webhook import WhatsAppWebhookMixin


class WhatsAppAdapter(
    WhatsAppWebhookMixin,
    WhatsAppParseMixin,
    WhatsAppClient,
):
    """Webhooks, media, templates and replies for one WhatsApp business
    phone number."""

    network = "whatsapp"
    signature_header = "X-Hub-Signature-256"
    # One Meta app's webhook serves every number of its WhatsApp Business
    # Accounts: each change's metadata.phone_number_id names the number.
    signing_secret_setting = "app_secret"
    recipient_id_settings = ("phone_number_id",)
