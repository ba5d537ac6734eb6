"""The demo network's WhatsApp conversations: a customer known by phone, a
photo served like the Cloud API's media, a location, an ad's free entry
point, in English, Spanish and Portuguese."""

import json

import pytest

from social_helpdesk.adapters.base import PRIVATE, AdapterError
from social_helpdesk.adapters.demo import DATASET, MEDIA_DIR, DemoAdapter
from social_helpdesk.adapters.media import MediaTooLarge

MESSAGES = json.loads(DATASET.read_text(encoding="utf-8"))["messages"]
WHATSAPP = [item for item in MESSAGES if item["channel"] == "whatsapp"]
# The demo contact of demo/res_partner_demo.xml, as the customer's number.
KNOWN_PHONE = "+34622112233"


@pytest.fixture
def adapter():
    return DemoAdapter({"batch_size": 100})


def parsed(adapter):
    events = adapter.split_delivery({"messages": WHATSAPP})
    return [adapter.parse_event(event.payload)[0] for event in events]


def test_whatsapp_conversations_in_three_languages():
    assert {item["lang"] for item in WHATSAPP} == {"en", "es", "pt"}
    assert all(item["kind"] == PRIVATE for item in WHATSAPP)


def test_authors_carry_their_phone_unless_hidden(adapter):
    messages = parsed(adapter)
    phones = {message.author.phone for message in messages}
    assert KNOWN_PHONE in phones
    hidden = [message for message in messages if not message.author.phone]
    assert hidden, "a customer known by username only (BSUID)"
    assert all(message.author.handle for message in hidden)


def test_one_thread_per_customer(adapter):
    messages = parsed(adapter)
    for message in messages:
        assert message.thread_key == f"whatsapp:dm:{message.author.external_id}"


def test_a_photo_a_location_and_an_ad(adapter):
    messages = parsed(adapter)
    photos = [a for m in messages for a in m.attachments if a.kind == "image"]
    assert photos and photos[0].url.startswith("whatsapp-media:")
    located = [m for m in messages if m.links]
    assert located and "maps" in located[0].links[0]
    assert any(message.from_ad for message in messages)


def test_the_photo_is_downloaded_from_the_addon(adapter):
    photo = next(
        a.url for m in parsed(adapter) for a in m.attachments if a.kind == "image"
    )
    media = adapter.download_media(photo, 1024 * 1024, 5)
    assert media.mimetype == "image/jpeg"
    assert media.content[:3] == b"\xff\xd8\xff"
    with pytest.raises(MediaTooLarge):
        adapter.download_media(photo, 100, 5)


@pytest.mark.parametrize(
    "media_id", ["missing.jpg", "../demo_messages.json", "a/../../x", ""]
)
def test_only_the_bundled_media_are_served(adapter, media_id):
    with pytest.raises(AdapterError):
        adapter.download_media(f"whatsapp-media:{media_id}", 1024 * 1024, 5)
    assert (MEDIA_DIR / "wa-photo-tank.jpg").is_file()
