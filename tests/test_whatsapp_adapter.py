"""WhatsAppAdapter without Odoo, over real HTTP against the fake Cloud API
(social_helpdesk.tests.fakes.fake_whatsapp) on loopback: replies in and out
of the 24-hour window, media, templates, rating requests, the connection
check, webhook registration and the mapping of errors."""

from datetime import datetime, timedelta, timezone

import pytest

from social_helpdesk.adapters.base import (
    PRIVATE,
    PUBLIC,
    AdapterError,
    AuthError,
    NotSupported,
    RateLimited,
    ReplyNotAllowed,
    TransientError,
    WebhookRejected,
    WindowClosed,
)
from social_helpdesk.adapters.media import Media, MediaTooLarge
from social_helpdesk.adapters.whatsapp import WhatsAppAdapter
from social_helpdesk.adapters.whatsapp.templates import template_parameters
from social_helpdesk.tests.fakes.callback_server import CallbackServer
from social_helpdesk.tests.fakes.fake_whatsapp import (
    FakeWhatsApp,
    customer,
    inbound,
    service_pricing,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64
LUCIA = customer("34600111222", user_id="ES.1502576394655843", name="Lucía")
JOAO = customer(user_id="BR.13491208655302741918", name="João", username="joao")


@pytest.fixture
def wa():
    with FakeWhatsApp() as fake:
        yield fake


def adapter_for(fake, now=NOW, **overrides):
    return WhatsAppAdapter(fake.config(**overrides), clock=lambda: now)


def customer_message(fake, sender=LUCIA, wamid="wamid.IN1", at=NOW, **extra):
    """The message a customer sent, parsed as the helpdesk stores it."""
    adapter = adapter_for(fake)
    message = inbound(
        wamid, sender, timestamp=int(at.timestamp()), text="Hola", **extra
    )
    (event,) = adapter.split_delivery(fake.delivery_for_messages([message]))
    (parsed,) = adapter.parse_event(event.payload)
    return parsed


# -- replies ----------------------------------------------------------------------
def test_a_reply_quotes_the_message_and_carries_the_idempotency_key(wa):
    message = customer_message(wa)
    sent = adapter_for(wa, now=NOW + timedelta(hours=2)).send_reply(
        message, "Lo miramos ahora mismo", PRIVATE, "reply-7"
    )
    (posted,) = wa.sent
    assert sent.external_id == posted["id"]
    assert posted["to"] == "34600111222" and "recipient" not in posted
    assert posted["type"] == "text"
    assert posted["text"] == {"body": "Lo miramos ahora mismo"}
    assert posted["context"] == {"message_id": "wamid.IN1"}
    assert posted["biz_opaque_callback_data"] == "reply-7"
    (request,) = wa.requests_to("POST messages")
    assert request.headers["Authorization"] == "Bearer fake-whatsapp-token"
    assert "access_token" not in request.query


def test_a_customer_without_phone_number_is_answered_by_bsuid(wa):
    message = customer_message(wa, sender=JOAO)
    adapter_for(wa).send_reply(message, "Olá!", PRIVATE, "reply-8")
    (posted,) = wa.sent
    assert posted["recipient"] == "BR.13491208655302741918" and "to" not in posted


def test_outside_the_window_only_a_template_goes(wa):
    message = customer_message(wa)
    late = adapter_for(wa, now=NOW + timedelta(hours=24))
    with pytest.raises(WindowClosed) as caught:
        late.send_reply(message, "¿Sigue ahí?", PRIVATE, "reply-9")
    assert caught.value.alternative == "template"
    assert caught.value.closed_at == NOW + timedelta(hours=24)
    assert wa.sent == []
    # The latest customer message reopens it.
    later = NOW + timedelta(hours=23)
    late.send_reply(message, "¿Sigue ahí?", PRIVATE, "reply-9", last_customer_at=later)
    assert len(wa.sent) == 1


def test_a_free_entry_point_keeps_the_window_open_72_hours(wa):
    referral = {"source_type": "ad", "source_id": "1202"}
    message = customer_message(wa, referral=referral)
    assert message.from_ad
    assert adapter_for(wa).window_closes_at(message, PRIVATE) == NOW + timedelta(
        hours=72
    )
    adapter_for(wa, now=NOW + timedelta(hours=71)).send_reply(
        message, "Hola", PRIVATE, "k"
    )
    with pytest.raises(WindowClosed):
        adapter_for(wa, now=NOW + timedelta(hours=72)).check_reply(
            message, PRIVATE, NOW + timedelta(hours=72)
        )


def test_public_replies_do_not_exist_and_long_texts_are_refused(wa):
    message = customer_message(wa)
    adapter = adapter_for(wa)
    with pytest.raises(ReplyNotAllowed) as caught:
        adapter.send_reply(message, "x", PUBLIC, "k")
    assert caught.value.alternative == PRIVATE
    assert adapter.max_length(PRIVATE, message) == 4096
    with pytest.raises(ReplyNotAllowed):
        adapter.send_reply(message, "x" * 4097, PRIVATE, "k")
    adapter.send_reply(message, "ñ" * 4096, PRIVATE, "k")


def test_meta_refusing_for_the_window_is_a_window_closed(wa):
    message = customer_message(wa)
    wa.closed_windows.add("34600111222")
    with pytest.raises(WindowClosed) as caught:
        adapter_for(wa).send_reply(message, "Hola", PRIVATE, "k")
    assert caught.value.alternative == "template"


def test_image_and_document_are_uploaded_then_sent_with_the_caption(wa):
    message = customer_message(wa)
    image = Media(PNG, "image/png", "foto.png")
    document = Media(PDF, "application/pdf", "factura.pdf")
    sent = adapter_for(wa).send_reply(
        message, "Aquí tiene", PRIVATE, "k-1", image=image, document=document
    )
    uploads = wa.requests_to("POST media")
    assert [request.files["file"][0] for request in uploads] == [
        "foto.png",
        "factura.pdf",
    ]
    assert uploads[0].body["messaging_product"] == "whatsapp"
    photo, pdf = wa.sent
    assert sent.external_id == photo["id"]
    assert photo["image"]["caption"] == "Aquí tiene"
    assert wa.media[photo["image"]["id"]] == (PNG, "image/png")
    assert (
        pdf["document"]["filename"] == "factura.pdf"
        and "caption" not in pdf["document"]
    )
    assert photo["context"] == pdf["context"] == {"message_id": "wamid.IN1"}


def test_a_text_too_long_for_a_caption_goes_first(wa):
    message = customer_message(wa)
    adapter_for(wa).send_reply(
        message, "x" * 2000, PRIVATE, "k", image=Media(PNG, "image/png", "a.png")
    )
    text, photo = wa.sent
    assert text["type"] == "text" and "caption" not in photo["image"]


def test_images_whatsapp_refuses_are_refused_up_front(wa):
    message = customer_message(wa)
    with pytest.raises(ReplyNotAllowed):
        adapter_for(wa).send_reply(
            message, "x", PRIVATE, "k", image=Media(b"GIF89a", "image/gif", "a.gif")
        )
    assert wa.sent == [] and wa.requests_to("POST media") == []


# -- templates ----------------------------------------------------------------------
ORDER_UPDATE = [
    {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Pedido {{1}}",
        "example": {"header_text": ["#1234"]},
    },
    {
        "type": "BODY",
        "text": "Hola {{1}}, su pedido {{2}} está en camino. {{1}}, gracias.",
        "example": {"body_text": [["Lucía", "#1234"]]},
    },
    {"type": "FOOTER", "text": "Acme"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Parar"},
            {
                "type": "URL",
                "text": "Seguir",
                "url": "https://acme.example/t/{{1}}",
                "example": ["https://acme.example/t/1234"],
            },
        ],
    },
]
NAMED_FOLLOW_UP = [
    {
        "type": "BODY",
        "text": "Hola {{customer_name}}, ¿podemos cerrar el ticket {{ticket_ref}}?",
        "example": {
            "body_text_named_params": [
                {"param_name": "customer_name", "example": "Ana"},
                {"param_name": "ticket_ref", "example": "HT0042"},
            ]
        },
    }
]


def test_templates_are_listed_with_their_parameters_across_pages(wa):
    wa.add_template("order_update", "es", ORDER_UPDATE)
    wa.add_template("follow_up", "pt_BR", NAMED_FOLLOW_UP, parameter_format="NAMED")
    for number in range(103):
        wa.add_template(
            f"promo_{number}", "en", [], category="MARKETING", status="PAUSED"
        )
    templates = adapter_for(wa).list_templates()
    assert len(templates) == 105 and len(wa.requests_to("GET message_templates")) == 2
    order = templates[0]
    assert (order["name"], order["language"], order["category"], order["status"]) == (
        "order_update",
        "es",
        "UTILITY",
        "APPROVED",
    )
    assert order["parameters"] == [
        {"component": "header", "index": "1", "example": "#1234"},
        {"component": "body", "index": "1", "example": "Lucía"},
        {"component": "body", "index": "2", "example": "#1234"},
        {
            "component": "button:1",
            "index": "1",
            "example": "https://acme.example/t/1234",
        },
    ]
    assert templates[1]["parameters"] == [
        {"component": "body", "index": "customer_name", "example": "Ana"},
        {"component": "body", "index": "ticket_ref", "example": "HT0042"},
    ]


def test_a_template_goes_outside_the_window_with_its_parameters(wa):
    wa.add_template("order_update", "es", ORDER_UPDATE)
    wa.add_template("follow_up", "pt_BR", NAMED_FOLLOW_UP, parameter_format="NAMED")
    message = customer_message(wa)
    late = adapter_for(wa, now=NOW + timedelta(days=5))
    values = ["#77", "Lucía", "#77", "77"]
    parameters = [
        {**parameter, "value": value}
        for parameter, value in zip(
            template_parameters(ORDER_UPDATE), values, strict=True
        )
    ]
    sent = late.send_template(message, "order_update", "es", parameters, "tpl-1")
    posted = wa.sent[0]
    assert sent.external_id == posted["id"] and posted["type"] == "template"
    assert posted["biz_opaque_callback_data"] == "tpl-1" and "context" not in posted
    assert posted["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "#77"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Lucía"},
                {"type": "text", "text": "#77"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "1",
            "parameters": [{"type": "text", "text": "77"}],
        },
    ]
    named = [
        {**parameter, "value": value}
        for parameter, value in zip(
            template_parameters(NAMED_FOLLOW_UP), ["João", "HT9"], strict=True
        )
    ]
    late.send_template(
        customer_message(wa, sender=JOAO), "follow_up", "pt_BR", named, "tpl-2"
    )
    assert wa.sent[1]["recipient"] == "BR.13491208655302741918"
    assert wa.sent[1]["template"]["components"][0]["parameters"][0] == {
        "type": "text",
        "text": "João",
        "parameter_name": "customer_name",
    }


def test_a_template_meta_refuses_says_why(wa):
    wa.add_template("order_update", "es", ORDER_UPDATE)
    message = customer_message(wa)
    with pytest.raises(AdapterError, match="does not exist"):
        adapter_for(wa).send_template(message, "order_update", "en", [], "k")
    with pytest.raises(AdapterError, match="expected 1, got 0"):
        adapter_for(wa).send_template(message, "order_update", "es", [], "k")


# -- ratings ------------------------------------------------------------------------
def test_a_rating_request_is_a_list_of_five_and_its_answer_reads_back(wa):
    message = customer_message(wa)
    adapter = adapter_for(wa, now=NOW + timedelta(hours=1))
    sent = adapter.send_rating_request(message, "¿Qué tal le atendimos?", "csat-HT1")
    (posted,) = wa.sent
    rows = posted["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [
        "csat:1",
        "csat:2",
        "csat:3",
        "csat:4",
        "csat:5",
    ]
    assert posted["interactive"]["body"]["text"] == "¿Qué tal le atendimos?"
    answer = inbound(
        "wamid.IN2",
        LUCIA,
        kind="interactive",
        content={
            "type": "list_reply",
            "list_reply": {"id": "csat:5", "title": rows[4]["title"]},
        },
        context={"from": "15550783881", "id": sent.external_id},
    )
    (event,) = adapter.split_delivery(wa.delivery_for_messages([answer]))
    (rating,) = adapter.parse_event(event.payload)
    assert adapter.rating_of(rating) == (sent.external_id, 5)
    with pytest.raises(WindowClosed):
        adapter_for(wa, now=NOW + timedelta(days=2)).send_rating_request(
            message, "?", "k"
        )


# -- media -----------------------------------------------------------------------
def test_customer_media_is_downloaded_by_id_with_the_token(wa):
    wa.add_media("1003383421387256", PNG, "image/png")
    adapter = adapter_for(wa)
    media = adapter.download_media("whatsapp-media:1003383421387256", 1024, 2)
    assert media.content == PNG and media.mimetype == "image/png"
    assert media.name == "whatsapp-1003383421387256.png"
    (lookup,) = wa.requests_to("GET node")
    assert lookup.path.endswith("/1003383421387256")
    (download,) = wa.requests_to("GET cdn")
    assert download.headers["Authorization"] == "Bearer fake-whatsapp-token"


def test_media_over_the_limit_or_unknown_is_refused(wa):
    wa.add_media("42", PDF, "application/pdf")
    adapter = adapter_for(wa)
    with pytest.raises(MediaTooLarge):
        adapter.download_media("whatsapp-media:42", 10, 2)
    assert wa.requests_to("GET cdn") == []  # refused on the announced size
    with pytest.raises(AdapterError):
        adapter.download_media("whatsapp-media:404", 1024, 2)


# -- connection and webhook ----------------------------------------------------------
def test_the_connection_check_shows_the_number_and_the_subscription(wa):
    adapter = adapter_for(wa)
    info = adapter.test_connection()
    assert info["label"] == "Acme Support 15550783881"
    assert info["display_name"] == "Acme Support"
    assert info["display_phone_number"] == "15550783881"
    assert info["quality_rating"] == "GREEN"
    assert info["messaging_limit"] == "TIER_2K"
    assert info["missing"] == [] and info["subscribed"] is False
    wa.granted_scopes = ["whatsapp_business_messaging"]
    wa.app_subscribed = True
    info = adapter.test_connection()
    assert info["missing"] == ["whatsapp_business_management"] and info["subscribed"]


def test_a_revoked_token_asks_for_a_new_one(wa):
    wa.token_valid = False
    with pytest.raises(AuthError, match="system user token"):
        adapter_for(wa).test_connection()
    with pytest.raises(AuthError):
        WhatsAppAdapter(wa.config(access_token="")).test_connection()


def test_register_webhook_sets_the_callback_and_subscribes_the_app(wa):
    adapter = adapter_for(wa)
    wa.verify_callbacks = True
    with CallbackServer(adapter.handshake) as callback:
        summary = adapter.register_webhook(callback.url)
    assert "subscribed the app" in summary
    subscription = wa.app_subscriptions["whatsapp_business_account"]
    assert subscription["callback_url"] == callback.url
    assert [field["name"] for field in subscription["fields"]] == ["messages"]
    assert wa.app_subscribed and adapter.test_connection()["subscribed"]


def test_register_webhook_refused_by_meta_says_why(wa):
    adapter = adapter_for(wa, verify_token="other-token")
    wa.verify_callbacks = True
    with CallbackServer(adapter_for(wa).handshake) as callback:
        with pytest.raises(WebhookRejected):
            adapter.register_webhook(callback.url)


def test_without_the_app_secret_the_url_is_entered_by_hand(wa):
    adapter = adapter_for(wa, app_secret="")
    with pytest.raises(NotSupported, match="Meta app dashboard"):
        adapter.register_webhook("https://helpdesk.example/hook")
    assert wa.app_subscribed and wa.app_subscriptions == {}


# -- errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "code, error",
    [
        (130429, RateLimited),
        (131056, RateLimited),
        (4, RateLimited),
        (190, AuthError),
        (10, AuthError),
        (131000, TransientError),
        (131026, AdapterError),
        (131047, WindowClosed),
        (131062, ReplyNotAllowed),
    ],
)
def test_errors_are_typed(wa, code, error):
    wa.fail_next("POST messages", code, error_data={"details": "details of it"})
    with pytest.raises(error) as caught:
        adapter_for(wa).send_reply(customer_message(wa), "x", PRIVATE, "k")
    if code == 131026:  # not one of the specific kinds
        assert type(caught.value) is AdapterError
        assert "details of it" in str(caught.value)
    if error is RateLimited:
        wait = timedelta(minutes=1 if code > 100000 else 15)
        assert caught.value.reset_at == NOW + wait


def test_an_unreachable_api_is_transient(wa):
    adapter = WhatsAppAdapter(wa.config(graph_base_url="http://127.0.0.1:9"))
    with pytest.raises(TransientError):
        adapter.test_connection()


def test_a_failed_reply_status_comes_back_with_its_reference(wa):
    message = customer_message(wa)
    adapter = adapter_for(wa)
    sent = adapter.send_reply(message, "Hola", PRIVATE, "reply-11")
    failure = {
        "code": 131026,
        "title": "Message undeliverable",
        "error_data": {"details": "Receiver is incapable of receiving this message"},
    }
    body = wa.delivery_for_statuses(
        [wa.status_of(wa.sent[0], "failed", errors=[failure])]
    )
    (event,) = adapter.split_delivery(body)
    (failed,) = adapter.parse_statuses(event.payload)
    assert (failed.message_id, failed.reference) == (sent.external_id, "reply-11")
    assert failed.error == (
        "Message undeliverable: Receiver is incapable of receiving this message "
        "(code 131026)"
    )


def test_statuses_of_a_reply_to_a_bsuid_carry_it_and_the_pricing(wa):
    adapter = adapter_for(wa)
    sent = adapter.send_reply(customer_message(wa, sender=JOAO), "Olá", PRIVATE, "r-12")
    pricing = service_pricing()
    body = wa.delivery_for_statuses(
        [wa.status_of(wa.sent[0], name, pricing=pricing) for name in ("sent", "read")]
    )
    statuses = [
        adapter.parse_statuses(e.payload)[0] for e in adapter.split_delivery(body)
    ]
    assert [(item.message_id, item.status) for item in statuses] == [
        (sent.external_id, "sent"),
        (sent.external_id, "read"),
    ]
    assert {item.recipient_id for item in statuses} == {"BR.13491208655302741918"}
    assert {item.country for item in statuses} == {"BR"}
    assert statuses[0].pricing == pricing and statuses[0].reference == "r-12"
