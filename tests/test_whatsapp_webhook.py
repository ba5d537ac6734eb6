"""WhatsApp webhooks without Odoo: the documented delivery shapes of
tests/payloads/whatsapp (every message type, statuses, other fields) split
into events and parsed into messages and delivery statuses, the signature,
the handshake, and malformed bodies."""

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_helpdesk.adapters.base import (
    PRIVATE,
    VERB_ADD,
    Attachment,
    HandshakeError,
    MalformedPayload,
    SignatureError,
    hmac_sha256,
    load_json,
)
from social_helpdesk.adapters.jsonb import jsonb_text
from social_helpdesk.adapters.whatsapp import WhatsAppAdapter
from social_helpdesk.adapters.whatsapp.countries import country_of
from social_helpdesk.tests.fakes.fake_whatsapp import (
    FakeWhatsApp,
    customer,
    inbound,
    service_pricing,
    status,
)

PAYLOADS = Path(__file__).parent / "payloads" / "whatsapp"
PHONE_ID = "106540352242922"
OTHER_PHONE_ID = "106540352242923"
LUCIA_BSUID = "ES.1502576394655843"
JOAO_BSUID = "BR.13491208655302741918"
SECRET = "fake-app-secret"
ADAPTER = WhatsAppAdapter(
    {
        "business_account_id": "102290129340398",
        "phone_number_id": PHONE_ID,
        "app_secret": SECRET,
        "verify_token": "fake-verify-token",
    }
)


def load(name):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def events(name):
    return ADAPTER.split_delivery(load(name))


def parsed(name):
    (event,) = events(name)
    return ADAPTER.parse_event(event.payload)


def only(name):
    (message,) = parsed(name)
    return message


# -- every fixture ------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_splits_parses_and_stores(path):
    body = json.loads(path.read_text())
    for event in ADAPTER.split_delivery(body):
        assert event.event_id.startswith("wa:")
        jsonb_text(event.payload)  # storable
        for message in ADAPTER.parse_event(json.loads(json.dumps(event.payload))):
            assert message.channel == "whatsapp" and message.kind == PRIVATE
            assert message.conversation_id == message.author.external_id
        ADAPTER.parse_statuses(event.payload)


# -- message types ------------------------------------------------------------
def test_text_message_keys_the_customer_by_bsuid_and_keeps_the_phone():
    message = only("text")
    assert message.text == "Hola, mi pedido #1234 no ha llegado"
    assert message.message_id.startswith("wamid.")
    assert message.author.external_id == LUCIA_BSUID
    assert message.conversation_id == LUCIA_BSUID
    assert message.author.phone == "+34600111222"
    assert message.author.name == "Lucía Pérez"
    assert message.created_at == datetime(2025, 12, 7, 8, 0, tzinfo=timezone.utc)
    assert message.thread_key == f"whatsapp:dm:{LUCIA_BSUID}"
    assert message.verb == VERB_ADD and not message.from_ad and not message.parent_id


@pytest.mark.parametrize(
    "name, kind, media_id, caption, filename",
    [
        ("image", "image", "1003383421387256", "La caja llegó rota", ""),
        ("audio_voice", "audio", "1003383421387257", "", ""),
        ("video", "video", "1003383421387258", "Mira el ruido", ""),
        ("document", "file", "1003383421387259", "Factura", "factura 2026-11.pdf"),
        ("sticker", "image", "1003383421387260", "", ""),
    ],
)
def test_media_messages_carry_the_media_id_to_download(
    name, kind, media_id, caption, filename
):
    message = only(name)
    assert message.text == caption
    assert message.attachments == (
        Attachment(url=f"whatsapp-media:{media_id}", kind=kind, name=filename),
    )
    assert not message.unsupported_type


def test_location_reads_as_place_and_coordinates_with_a_map_link():
    message = only("location")
    assert message.text == "Tienda Centro, Calle Mayor 1, Madrid (40.4168, -3.7038)"
    assert message.links == (
        "https://www.google.com/maps/search/?api=1&query=40.4168,-3.7038",
    )


def test_shared_contacts_read_as_names_and_phones():
    assert only("contacts").text == "Pedro Gómez: +34 600 333 444"


def test_interactive_and_template_button_replies_read_as_their_titles():
    button = only("interactive_button_reply")
    assert button.text == "Seguir mi pedido"
    assert button.parent_id == "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBUEVYX0JVVFRPTlMA"
    assert ADAPTER.rating_of(button) is None
    assert only("button_template_quick_reply").text == "Stop promotions"


def test_a_rating_answer_names_the_request_and_the_score():
    message = only("interactive_list_reply_csat")
    assert message.text == "4 ★★★★"
    assert ADAPTER.rating_of(message) == (
        "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJDU0FUX1JFUVVFU1RfMQA=",
        4,
    )


def test_a_reaction_is_its_emoji_and_keeps_the_message_it_reacts_to():
    message = only("reaction")
    assert message.text == "👍" and message.verb == VERB_ADD
    reacted = message.raw["message"]["reaction"]["message_id"]
    assert reacted == "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBR0VOVF9SRVBMWV8xAA=="


def test_unsupported_and_unknown_types_are_kept_and_named():
    unsupported = only("unsupported")
    assert unsupported.unsupported_type == "poll"
    assert unsupported.text == "Message type is currently not supported."
    future = only("future_type")
    assert future.unsupported_type == "hologram" and future.text == ""


def test_context_is_the_parent_and_a_referral_marks_a_free_entry_point():
    assert only("context_reply").parent_id == (
        "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBR0VOVF9SRVBMWV8xAA=="
    )
    ad = only("referral_ctwa")
    assert ad.from_ad and ad.raw["message"]["referral"]["source_type"] == "ad"


def test_a_system_message_files_nothing():
    assert parsed("system_user_changed_number") == []


def test_a_customer_without_phone_number_is_known_by_bsuid_and_username():
    message = only("bsuid_only_username")
    assert message.author.external_id == JOAO_BSUID
    assert message.author.phone == ""
    assert message.author.handle == "joaozinho"
    assert message.author.name == "João 🌴"
    assert message.text == "Oi! Meu pedido chegou errado 📦"


def test_a_customer_without_bsuid_is_known_by_phone_number():
    sender = customer("5215512345678", name="Ana")
    body = FakeWhatsApp().delivery_for_messages(
        [inbound("wamid.X1", sender, text="Hola")]
    )
    (event,) = ADAPTER.split_delivery(body)
    (message,) = ADAPTER.parse_event(event.payload)
    assert message.author.external_id == "5215512345678"
    assert message.author.phone == "+5215512345678"


def test_odd_unicode_is_kept_as_sent():
    message = only("odd_unicode")
    assert "z̷̢̛a̴l̸g̵o" in message.text and "\u202eRTL" in message.text
    assert "🏳️‍🌈" in message.text and "\x00" in message.text
    assert message.author.name == "\u202eLucía\u0301 🇪🇸"
    assert "\x00" not in jsonb_text(message.raw)


# -- statuses -----------------------------------------------------------------
def test_statuses_are_one_event_each_with_pricing_and_reference():
    split = events("statuses_sent_delivered_read")
    wamid = "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBR0VOVF9SRVBMWV8xAA=="
    assert [event.event_id for event in split] == [
        f"wa:status:{wamid}:sent",
        f"wa:status:{wamid}:delivered",
        f"wa:status:{wamid}:read",
    ]
    statuses = [ADAPTER.parse_statuses(event.payload)[0] for event in split]
    assert [item.status for item in statuses] == ["sent", "delivered", "read"]
    sent = statuses[0]
    assert sent.message_id == wamid
    assert sent.recipient_id == LUCIA_BSUID
    assert sent.reference == "reply-42-attempt"
    assert sent.pricing == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "service",
        "type": "regular",
    }
    assert sent.country == "ES"
    assert sent.at == datetime(2025, 12, 7, 8, 1, tzinfo=timezone.utc)
    assert statuses[2].pricing is None
    assert all(ADAPTER.parse_event(event.payload) == [] for event in split)


def test_a_failed_status_says_why():
    (event,) = events("statuses_failed")
    (failed,) = ADAPTER.parse_statuses(event.payload)
    assert failed.status == "failed" and failed.reference == "reply-43-attempt"
    assert failed.error.startswith("Re-engagement message: Message failed to send")
    assert failed.error.endswith("(code 131047)")
    assert failed.recipient_id == "34600111222" and failed.country == "ES"


def test_a_status_to_a_bsuid_only_customer_takes_the_bsuid_country():
    (event,) = events("statuses_template_marketing")
    (delivered,) = ADAPTER.parse_statuses(event.payload)
    assert delivered.recipient_id == JOAO_BSUID and delivered.country == "BR"
    assert delivered.pricing["category"] == "marketing"
    assert event.payload["contacts"][0]["user_id"] == JOAO_BSUID


def test_fake_builders_make_statuses_the_adapter_reads():
    fake = FakeWhatsApp()
    ana = customer("5511987654321", name="Ana")
    body = fake.delivery_for_statuses(
        [status("wamid.S1", "delivered", ana, pricing=service_pricing())]
    )
    (event,) = ADAPTER.split_delivery(body)
    (delivered,) = ADAPTER.parse_statuses(event.payload)
    assert (delivered.status, delivered.country) == ("delivered", "BR")


# -- splitting and routing ----------------------------------------------------
def test_duplicates_keep_one_event_id():
    first = [event.event_id for event in events("text")]
    again = [event.event_id for event in events("text")]
    assert (
        first
        == again
        == [
            f"wa:msg:{load('text')['entry'][0]['changes'][0]['value']['messages'][0]['id']}"
        ]
    )


def test_two_numbers_in_one_delivery_are_routed_by_phone_number_id():
    split = events("batch_two_numbers")
    assert [event.recipient_id for event in split] == [
        PHONE_ID,
        PHONE_ID,
        OTHER_PHONE_ID,
    ]
    senders = [ADAPTER.parse_event(event.payload)[0].author for event in split]
    assert [author.external_id for author in senders] == [
        LUCIA_BSUID,
        JOAO_BSUID,
        LUCIA_BSUID,
    ]
    # Each event carries its own sender's contact only.
    assert [len(event.payload["contacts"]) for event in split] == [1, 1, 1]
    assert ADAPTER.webhook_identity(ADAPTER.config) == (SECRET, frozenset({PHONE_ID}))


def test_other_fields_and_value_errors_are_stored_and_parse_to_nothing():
    (template,) = events("template_status_update")
    assert template.event_id.startswith("wa:message_template_status_update:")
    assert template.recipient_id is None
    assert ADAPTER.parse_event(template.payload) == []
    (errors,) = events("value_errors")
    assert errors.event_id.startswith("wa:messages:")
    assert errors.recipient_id == PHONE_ID
    assert ADAPTER.parse_event(errors.payload) == []
    assert ADAPTER.parse_statuses(errors.payload) == []


# -- malformed ----------------------------------------------------------------
def _mutations():
    base = load("text")
    value = ["entry", 0, "changes", 0, "value"]
    return {
        "not an object": [],
        "other object": {**base, "object": "page"},
        "no entry": {"object": "whatsapp_business_account"},
        "entry not a list": {**base, "entry": {}},
        "entry without id": _set(base, ["entry", 0, "id"], None),
        "changes not a list": _set(base, ["entry", 0, "changes"], "x"),
        "no field": _set(base, ["entry", 0, "changes", 0, "field"], None),
        "value not an object": _set(base, value, [1]),
        "no metadata": _set(base, [*value, "metadata"], None),
        "no phone number id": _set(base, [*value, "metadata", "phone_number_id"], True),
        "messages not a list": _set(base, [*value, "messages"], {"id": "x"}),
        "message not an object": _set(base, [*value, "messages", 0], "hello"),
        "message without id": _set(base, [*value, "messages", 0, "id"], None),
        "empty change": _set(base, [*value, "messages"], []),
        "status without name": {
            **base,
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": PHONE_ID},
                                "statuses": [{"id": "wamid.1"}],
                            },
                        }
                    ],
                }
            ],
        },
    }


def _set(document, path, new):
    document = copy.deepcopy(document)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return document


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_malformed_deliveries_raise_malformed_payload(name):
    with pytest.raises(MalformedPayload):
        ADAPTER.split_delivery(_mutations()[name])


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"message": "x"},
        {"message": {"type": "text"}},
        {"message": {"id": "wamid.1", "type": "text", "text": {"body": "no sender"}}},
        {"status": []},
        {"status": {"status": "read"}},
    ],
)
def test_malformed_stored_events_raise_malformed_payload(payload):
    with pytest.raises(MalformedPayload):
        ADAPTER.parse_event(payload)
        ADAPTER.parse_statuses(payload)


def test_statuses_a_reply_does_not_go_through_are_kept_stored_only():
    played = {"id": "wamid.1", "status": "played", "recipient_user_id": "US.1"}
    assert ADAPTER.parse_statuses({"status": played}) == []
    assert ADAPTER.parse_statuses({"status": {**played, "status": "new"}}) == []


def test_wrongly_typed_values_are_read_leniently():
    message = inbound(
        "wamid.T1",
        customer("34600111222", user_id=LUCIA_BSUID),
        kind="location",
        content={"latitude": "40", "longitude": None, "name": ["x"]},
        context="not an object",
        timestamp="yesterday",
    )
    body = FakeWhatsApp().delivery_for_messages([message])
    (event,) = ADAPTER.split_delivery(body)
    (parsed_message,) = ADAPTER.parse_event(event.payload)
    assert parsed_message.text == "" and parsed_message.links == ()
    assert parsed_message.created_at is None and parsed_message.parent_id == ""


# -- signature and handshake --------------------------------------------------
def test_signature_over_the_raw_body():
    raw, headers = FakeWhatsApp().signed(load("text"))
    ADAPTER.verify_signature(raw, {k.lower(): v for k, v in headers.items()})
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    with pytest.raises(SignatureError):
        ADAPTER.verify_signature(reserialized + b" ", headers)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        "sha1=abc",
        "sha256=" + "0" * 64,
        "sha256=" + hmac_sha256("other", b"{}").hex(),
    ],
)
def test_forged_signatures_are_refused(signature):
    with pytest.raises(SignatureError):
        ADAPTER.verify_signature(b"{}", {"X-Hub-Signature-256": signature})


def test_handshake_echoes_the_challenge_to_the_verify_token_only():
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "fake-verify-token",
        "hub.challenge": "1158201444",
    }
    assert ADAPTER.handshake(params) == ("1158201444", "text/plain")
    with pytest.raises(HandshakeError):
        ADAPTER.handshake({**params, "hub.verify_token": "guess"})
    with pytest.raises(HandshakeError):
        ADAPTER.handshake({**params, "hub.challenge": '{"json": 1}'})


def test_a_signed_fake_delivery_goes_through_the_whole_webhook_path():
    fake = FakeWhatsApp()
    sender = customer(user_id=JOAO_BSUID, name="João", username="joao")
    body = fake.delivery_for_messages(
        [
            inbound("wamid.F1", sender, text="Olá"),
            inbound("wamid.F1", sender, text="Olá"),
        ]
    )
    raw, headers = fake.signed(body)
    ADAPTER.verify_signature(raw, headers)
    split = ADAPTER.split_delivery(load_json(raw))
    assert {event.event_id for event in split} == {"wa:msg:wamid.F1"}
    assert "_contact" not in json.dumps(body)


# -- countries and odd message types --------------------------------------------
@pytest.mark.parametrize(
    "user_id, digits, country",
    [
        ("BR.13491208655302741918", "", "BR"),
        ("US.ENT.11815799212886844830", "34600111222", "US"),
        ("", "351912345678", "PT"),
        ("", "34600111222", "ES"),
        ("", "5215512345678", "MX"),
        ("", "15550783881", "US"),
        ("", "999", ""),
        ("lowercase.1", "", ""),
        ("", "", ""),
    ],
)
def test_the_country_comes_from_the_bsuid_else_the_calling_code(
    user_id, digits, country
):
    assert country_of(user_id, digits) == country


def _one_of(kind, content, **extra):
    sender = customer("34600111222", user_id=LUCIA_BSUID)
    body = FakeWhatsApp().delivery_for_messages(
        [inbound("wamid.K1", sender, kind=kind, content=content, **extra)]
    )
    (event,) = ADAPTER.split_delivery(body)
    return ADAPTER.parse_event(event.payload)


def test_a_flow_answer_reads_as_its_body_and_a_welcome_request_files_nothing():
    (flow,) = _one_of(
        "interactive",
        {"type": "nfm_reply", "nfm_reply": {"body": "Sent", "response_json": "{}"}},
    )
    assert flow.text == "Sent" and not flow.unsupported_type
    (odd,) = _one_of("interactive", {"type": "carousel_reply"})
    assert odd.unsupported_type == "interactive"
    assert _one_of("request_welcome", {}) == []


def test_a_removed_reaction_and_a_shared_contact_without_phone():
    (removed,) = _one_of("reaction", {"message_id": "wamid.R", "emoji": ""})
    assert removed.text == "" and removed.verb == VERB_ADD
    (card,) = _one_of("contacts", [{"name": {"formatted_name": "Pedro"}}])
    assert card.text == "Pedro"
