"""Webhook deliveries of the real networks, in their documented shapes, for
the ingestion benchmark: one private message from each of N distinct
customers, so that every event makes a ticket, parsed by the network's own
adapter (X's Account Activity direct messages, Messenger, WhatsApp Cloud
API). Each network's account ids are the sample payloads' of
``tests/payloads``."""

import zlib

X_BRAND_ID = "4337869213"
META_PAGE_ID = "448242228374517"
WHATSAPP_WABA_ID = "102290129340398"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
# Any network call the processing would make fails at once (nothing listens):
# the benchmark measures our work, not a network's.
DEAD_API = "http://127.0.0.1:9"
EPOCH_MS = 1765094400000


def _digits(prefix):
    """Digits of their own for the ids of a ``prefix``'s customers."""
    return f"{zlib.crc32(prefix.encode()) % 10**6:06d}"


def x_delivery(prefix, count, text):
    """X Account Activity API: ``direct_message_events`` with their users."""
    senders = [f"{_digits(prefix)}{n:07d}" for n in range(count)]
    return {
        "for_user_id": X_BRAND_ID,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": f"{prefix}{n}",
                "created_timestamp": str(EPOCH_MS + n),
                "message_create": {
                    "target": {"recipient_id": X_BRAND_ID},
                    "sender_id": sender,
                    "message_data": {"text": text(f"{prefix}{n}"), "entities": {}},
                },
            }
            for n, sender in enumerate(senders)
        ],
        "users": {
            sender: {
                "id": sender,
                "name": f"Customer {sender}",
                "screen_name": f"customer_{sender}",
                "followers_count": 10,
            }
            for sender in senders
        },
    }


def messenger_delivery(prefix, count, text):
    """Meta Messenger: one ``messaging`` item per customer (a page-scoped id)."""
    return {
        "object": "page",
        "entry": [
            {
                "id": META_PAGE_ID,
                "time": EPOCH_MS,
                "messaging": [
                    {
                        "sender": {"id": f"{prefix}-psid-{n}"},
                        "recipient": {"id": META_PAGE_ID},
                        "timestamp": EPOCH_MS + n,
                        "message": {
                            "mid": f"m_{prefix}-{n}",
                            "text": text(f"{prefix}{n}"),
                        },
                    }
                    for n in range(count)
                ],
            }
        ],
    }


def whatsapp_delivery(prefix, count, text):
    """WhatsApp Cloud API: a ``messages`` change with each customer's contact
    (business-scoped user id and phone number) and text message."""
    customers = [
        (f"{prefix.upper()}.{n:012d}", f"55{_digits(prefix)}{n:06d}")
        for n in range(count)
    ]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WHATSAPP_WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": f"Customer {user_id}"},
                                    "wa_id": wa_id,
                                    "user_id": user_id,
                                }
                                for user_id, wa_id in customers
                            ],
                            "messages": [
                                {
                                    "id": f"wamid.{prefix}-{n}",
                                    "timestamp": str(EPOCH_MS // 1000 + n),
                                    "type": "text",
                                    "text": {"body": text(f"{prefix}{n}")},
                                    "from": wa_id,
                                    "from_user_id": user_id,
                                }
                                for n, (user_id, wa_id) in enumerate(customers)
                            ],
                        },
                    }
                ],
            }
        ],
    }


# network: (account values, delivery builder)
NETWORKS = {
    "x": (
        {"network": "x", "x_user_id": X_BRAND_ID, "x_username": "bench_brand"},
        x_delivery,
    ),
    "messenger": (
        {"network": "meta", "meta_page_id": META_PAGE_ID},
        messenger_delivery,
    ),
    "whatsapp": (
        {
            "network": "whatsapp",
            "whatsapp_business_account_id": WHATSAPP_WABA_ID,
            "whatsapp_phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
        },
        whatsapp_delivery,
    ),
}


def setup_network_accounts(env, team):
    """One connected account a network, its API unreachable."""
    return {
        name: env["social.account"].create(
            {
                "name": f"Bench {name}",
                "team_id": team.id,
                "state": "connected",
                "poll_enabled": False,
                "api_base_url": DEAD_API,
                **values,
            }
        )
        for name, (values, _builder) in NETWORKS.items()
    }


def network_events(account, name, prefix, count, text):
    """The events of a delivery of ``count`` messages on network ``name``."""
    return account._get_adapter().split_delivery(NETWORKS[name][1](prefix, count, text))
