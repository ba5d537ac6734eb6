"""WhatsApp Business conversations through Meta's WhatsApp Cloud API.

One account is one business phone number (``phone_number_id``) of a
WhatsApp Business Account; its conversations become ``whatsapp`` tickets.
"""

from .adapter import WhatsAppAdapter
