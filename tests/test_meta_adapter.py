"""MetaAdapter without Odoo: webhook payloads from tests/payloads/meta (shaped
after Meta's documented examples) and real HTTP against the fake Graph API
of social_helpdesk.tests.fakes.fake_meta on loopback."""

import copy
import json
import socket
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from meta_samples import (
    COMMENT_ID,
    IG_COMMENT_ID,
    IG_ID,
    IGSID,
    JANE,
    MEDIA_ID,
    MID,
    PAGE_ID,
    PAYLOADS,
    POST_ID,
    PSID,
    UTC,
    at,
    load,
)

from social_helpdesk.adapters.base import (
    PRIVATE,
    PUBLIC,
    VERB_ADD,
    VERB_EDIT,
    VERB_REMOVE,
    AdapterError,
    Attachment,
    AuthError,
    Author,
    HandshakeError,
    MalformedPayload,
    RateLimited,
    ReplyNotAllowed,
    SignatureError,
    SocialMessage,
    TransientError,
    WindowClosed,
    hmac_sha256,
)
from social_helpdesk.adapters.meta import MetaAdapter
from social_helpdesk.adapters.meta.versions import DEFAULT_GRAPH_VERSION
from social_helpdesk.tests.fakes.fake_meta import FakeMetaServer, Fault

APP_SECRET = "fake-app-secret"
CONFIG = {
    "page_id": PAGE_ID,
    "page_access_token": "fake-page-token",
    "app_secret": APP_SECRET,
    "verify_token": "fake-verify-token",
    "instagram_account_id": IG_ID,
}
NOW = datetime(2025, 3, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def adapter():
    return MetaAdapter(dict(CONFIG), clock=lambda: NOW)


def only_event(adapter, name):
    (event,) = adapter.split_delivery(load(name))
    return event


def only_message(adapter, name):
    (message,) = adapter.parse_event(only_event(adapter, name).payload)
    return message


# -- handshake ------------------------------------------------------------------
def test_handshake_answers_the_challenge(adapter):
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "fake-verify-token",
        "hub.challenge": "1158201444",
    }
    assert adapter.handshake(params) == ("1158201444", "text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "fake-verify-token"},
        {"hub.verify_token": "fake-verify-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "fake-verify-token"},
    ],
    ids=["wrong token", "wrong mode", "no mode", "no challenge"],
)
def test_handshake_refuses(adapter, params):
    with pytest.raises(HandshakeError):
        adapter.handshake(params)


@pytest.mark.parametrize(
    "challenge",
    ["1" * 129, '{"object":"page","entry":[]}', "<script>"],
    ids=["too long", "json", "markup"],
)
def test_handshake_echoes_only_a_bounded_token(adapter, challenge):
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "fake-verify-token",
        "hub.challenge": challenge,
    }
    with pytest.raises(HandshakeError, match="hub.challenge"):
        adapter.handshake(params)


def test_handshake_refuses_when_no_verify_token_is_configured():
    adapter = MetaAdapter({**CONFIG, "verify_token": ""})
    with pytest.raises(HandshakeError):
        adapter.handshake({"hub.mode": "subscribe", "hub.challenge": "1"})


# -- signatures -----------------------------------------------------------------
ESCAPED_BODY = b'{"object":"page","entry":[{"message":"caf\\u00e9 \\ud83d\\ude00"}]}'
RAW_UTF8_BODY = '{"object":"page","entry":[{"message":"café 😀"}]}'.encode()


def sign(body, secret=APP_SECRET):
    return "sha256=" + hmac_sha256(secret, body).hex()


@pytest.mark.parametrize("body", [ESCAPED_BODY, RAW_UTF8_BODY], ids=["escaped", "utf8"])
def test_signature_accepts_the_exact_bytes(adapter, body):
    adapter.verify_signature(body, {"X-Hub-Signature-256": sign(body)})


def test_signature_header_name_is_case_insensitive(adapter):
    adapter.verify_signature(
        RAW_UTF8_BODY, {"x-hub-signature-256": sign(RAW_UTF8_BODY)}
    )


def test_signature_is_over_raw_bytes_not_the_decoded_json(adapter):
    # Both bodies decode to the same JSON; only the signed bytes are accepted.
    assert json.loads(ESCAPED_BODY) == json.loads(RAW_UTF8_BODY)
    with pytest.raises(SignatureError):
        adapter.verify_signature(
            RAW_UTF8_BODY, {"X-Hub-Signature-256": sign(ESCAPED_BODY)}
        )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature": "sha1=" + hmac_sha256(APP_SECRET, b"x").hex()},
        {"X-Hub-Signature-256": sign(RAW_UTF8_BODY, secret="another-secret")},
        {"X-Hub-Signature-256": "sha256=zz"},
    ],
    ids=["missing", "sha1 only", "other secret", "garbage"],
)
def test_signature_rejects_bad_headers(adapter, headers):
    with pytest.raises(SignatureError):
        adapter.verify_signature(RAW_UTF8_BODY, headers)


def test_signature_rejects_a_tampered_body(adapter):
    tampered = RAW_UTF8_BODY.replace(b"caf", b"CAF")
    with pytest.raises(SignatureError):
        adapter.verify_signature(tampered, {"X-Hub-Signature-256": sign(RAW_UTF8_BODY)})


def test_signature_refuses_without_an_app_secret():
    adapter = MetaAdapter({**CONFIG, "app_secret": ""})
    with pytest.raises(SignatureError):
        adapter.verify_signature(b"{}", {"X-Hub-Signature-256": sign(b"{}", "")})


# -- splitting deliveries -----------------------------------------------------------
def test_split_makes_one_self_contained_event_per_change_and_messaging(adapter):
    events = adapter.split_delivery(load("delivery_multi"))

    assert len(events) == 4
    comment, reaction, message, receipt = events
    assert comment.event_id == "feed:122131676912594941_1213590099999999:add"
    assert reaction.event_id.startswith("page:feed:")
    assert message.event_id.startswith("msg:m_Ae4rT0b")
    assert receipt.event_id.startswith("page:messaging:")
    assert comment.payload == {
        "object": "page",
        "entry_id": PAGE_ID,
        "entry_time": 1742674000,
        "change": load("delivery_multi")["entry"][0]["changes"][0],
    }
    assert message.payload["entry_time"] == 1742674001000
    assert [len(adapter.parse_event(event.payload)) for event in events] == [1, 0, 1, 0]


def test_split_addresses_each_event_to_its_entry(adapter):
    """One callback URL serves every page of the app: the entry's id says
    which page, or which Instagram account, an event is for."""
    delivery = load("delivery_multi")
    delivery["entry"][1]["id"] = "another-page"
    events = adapter.split_delivery(delivery)
    assert [event.recipient_id for event in events] == [
        PAGE_ID,
        PAGE_ID,
        "another-page",
        "another-page",
    ]
    assert only_event(adapter, "instagram_dm").recipient_id == IG_ID


def test_webhook_identity_is_the_app_secret_and_the_page_and_instagram_ids():
    assert MetaAdapter.webhook_identity(CONFIG) == (
        APP_SECRET,
        frozenset({PAGE_ID, IG_ID}),
    )
    page_only = {**CONFIG, "instagram_account_id": False}
    assert MetaAdapter.webhook_identity(page_only)[1] == frozenset({PAGE_ID})


def test_split_event_ids_are_stable_across_redeliveries(adapter):
    first = adapter.split_delivery(load("delivery_multi"))
    again = adapter.split_delivery(load("delivery_multi"))
    assert [e.event_id for e in first] == [e.event_id for e in again]


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "user", "entry": []},
        {"object": "page"},
        {"object": "page", "entry": {}},
        {"object": "page", "entry": [{"id": PAGE_ID, "time": 1}]},
        {"object": "page", "entry": [{"time": 1, "changes": []}]},
        {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"value": {}}]}]},
        {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed"}]}]},
        {"object": "page", "entry": [{"id": PAGE_ID, "messaging": ["text"]}]},
        {"object": "page", "entry": [{"id": PAGE_ID, "time": "now", "messaging": []}]},
    ],
)
def test_split_rejects_undocumented_shapes(adapter, payload):
    with pytest.raises(MalformedPayload):
        adapter.split_delivery(payload)


# -- parsing ------------------------------------------------------------------------
def test_parse_feed_comment(adapter):
    message = only_message(adapter, "feed_comment_add")

    assert message.channel == "facebook"
    assert message.kind == PUBLIC
    assert message.verb == VERB_ADD
    assert message.message_id == COMMENT_ID
    assert message.conversation_id == POST_ID
    assert message.parent_id == POST_ID
    assert message.author == Author(external_id=JANE["id"], name="Jane Doe")
    assert message.text == "My order #1042 never arrived. Merci d'avance, l'équipe !"
    assert message.created_at == datetime(2025, 3, 22, 18, 20, 4, tzinfo=UTC)
    assert message.url == f"https://www.facebook.com/{COMMENT_ID}"
    assert not message.is_own
    assert message.thread_key == f"facebook:{POST_ID}:{JANE['id']}"


def test_parse_reply_to_a_comment_keeps_its_parent(adapter):
    comment, _reaction, _message, _receipt = adapter.split_delivery(
        load("delivery_multi")
    )
    (message,) = adapter.parse_event(comment.payload)
    assert message.parent_id == COMMENT_ID
    assert message.conversation_id == POST_ID


def test_parse_feed_comment_edit_keeps_the_message_id(adapter):
    message = only_message(adapter, "feed_comment_edited")
    assert message.verb == VERB_EDIT
    assert message.message_id == COMMENT_ID
    assert message.text.endswith("(ordered on March 3rd).")


def test_parse_feed_comment_remove(adapter):
    message = only_message(adapter, "feed_comment_remove")
    assert message.verb == VERB_REMOVE
    assert message.message_id == COMMENT_ID
    assert message.text == ""


def test_parse_feed_hide(adapter):
    delivery = load("feed_comment_remove")
    delivery["entry"][0]["changes"][0]["value"]["verb"] = "hide"
    (event,) = adapter.split_delivery(delivery)
    (message,) = adapter.parse_event(event.payload)
    assert event.event_id == f"feed:{COMMENT_ID}:hide"
    assert message.verb == "hide"


def test_parse_visitor_photo_post(adapter):
    message = only_message(adapter, "feed_post_add")

    assert message.kind == PUBLIC
    assert message.message_id == message.conversation_id
    assert message.conversation_id == "448242228374517_122131700000000001"
    assert message.parent_id == ""
    assert message.author.name == "Sam Rivera"
    assert message.attachments == (
        Attachment(
            url="https://scontent.xx.fbcdn.net/v/t39.30808-6/broken-mug.jpg",
            kind="image",
        ),
    )


def test_parse_comment_by_the_page_itself_is_own(adapter):
    delivery = load("feed_comment_add")
    delivery["entry"][0]["changes"][0]["value"]["from"] = {
        "id": PAGE_ID,
        "name": "Acme Support",
    }
    (event,) = adapter.split_delivery(delivery)
    (message,) = adapter.parse_event(event.payload)
    assert message.is_own


def test_parse_comment_without_author_when_meta_withholds_it(adapter):
    delivery = load("feed_comment_add")
    del delivery["entry"][0]["changes"][0]["value"]["from"]
    (event,) = adapter.split_delivery(delivery)
    (message,) = adapter.parse_event(event.payload)
    assert message.author.external_id == ""
    assert not message.is_own


def test_parse_messenger_text(adapter):
    message = only_message(adapter, "messenger_text")

    assert (message.channel, message.kind, message.verb) == (
        "messenger",
        PRIVATE,
        "add",
    )
    assert message.message_id == MID
    assert message.conversation_id == PSID
    assert message.author.external_id == PSID
    assert message.text == "Hi, where is my parcel? Tracking says delivered."
    assert message.created_at == datetime(2025, 3, 22, 19, 16, 40, tzinfo=UTC)
    assert message.thread_key == f"messenger:dm:{PSID}"


def test_parse_messenger_attachments_drop_the_fallback_without_url(adapter):
    message = only_message(adapter, "messenger_attachment")
    assert message.text == ""
    assert [(a.kind, a.url.rsplit("/", 1)[-1]) for a in message.attachments] == [
        ("image", "receipt.png"),
        ("file", "invoice.pdf"),
    ]


def test_parse_messenger_echo_is_own_in_the_customer_thread(adapter):
    message = only_message(adapter, "messenger_echo")
    assert message.is_own
    assert message.author.external_id == PAGE_ID
    assert message.conversation_id == PSID


def test_parse_messenger_delivery_receipt_is_ignored(adapter):
    assert adapter.parse_event(only_event(adapter, "messenger_delivery").payload) == []


def test_parse_messenger_message_edit(adapter):
    event = only_event(adapter, "messenger_message_edit")
    (message,) = adapter.parse_event(event.payload)
    assert message.verb == VERB_EDIT
    assert message.message_id == MID
    assert event.event_id.startswith(f"msg:{MID}:edit:")


def test_parse_instagram_comment(adapter):
    message = only_message(adapter, "instagram_comment")

    assert (message.channel, message.kind) == ("instagram", PUBLIC)
    assert message.message_id == IG_COMMENT_ID
    assert message.conversation_id == MEDIA_ID
    assert message.parent_id == ""
    assert message.author == Author(
        external_id="17841401234567890",
        handle="jane.doe",
        profile_url="https://www.instagram.com/jane.doe",
    )
    assert message.text == "Is the blue one back in stock?"
    assert message.created_at == at(1742672000)


def test_parse_instagram_dm(adapter):
    message = only_message(adapter, "instagram_dm")
    assert (message.channel, message.kind, message.verb) == (
        "instagram",
        PRIVATE,
        "add",
    )
    assert message.conversation_id == IGSID
    assert message.author.external_id == IGSID
    assert message.text == "Can I change the size of my order?"


def test_parse_instagram_unsent_dm_is_a_removal(adapter):
    delivery = load("instagram_dm")
    message = delivery["entry"][0]["messaging"][0]["message"]
    delivery["entry"][0]["messaging"][0]["message"] = {
        "mid": message["mid"],
        "is_deleted": True,
    }
    (event,) = adapter.split_delivery(delivery)
    (parsed,) = adapter.parse_event(event.payload)
    assert parsed.verb == VERB_REMOVE
    assert event.event_id == f"msg:{message['mid']}:remove"


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "messaging": {"message": {"mid": "m_1"}}},
        {"object": "page", "messaging": {"sender": {"id": "1"}, "message": {}}},
        {"object": "page", "change": {"field": "feed", "value": []}},
        {
            "object": "page",
            "change": {"field": "feed", "value": {"item": "comment", "verb": "add"}},
        },
        {
            "object": "page",
            "entry_time": 1e300,
            "messaging": {"sender": {"id": PSID}, "message": {"mid": MID}},
        },
        {"object": "instagram"},
    ],
)
def test_parse_rejects_broken_events(adapter, payload):
    with pytest.raises(MalformedPayload):
        adapter.parse_event(payload)


# -- event ids ----------------------------------------------------------------------
def test_event_ids_tell_add_edit_and_remove_of_one_comment_apart(adapter):
    add = only_event(adapter, "feed_comment_add").event_id
    edit = only_event(adapter, "feed_comment_edited").event_id
    remove = only_event(adapter, "feed_comment_remove").event_id
    second_edit = load("feed_comment_edited")
    second_edit["entry"][0]["changes"][0]["value"]["message"] = "Found it, thanks!"
    (second,) = adapter.split_delivery(second_edit)

    assert len({add, edit, remove, second.event_id}) == 4
    assert only_event(adapter, "feed_comment_edited").event_id == edit


# -- reply windows (fixed datetimes) ---------------------------------------------
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def direct_message(created_at=T0, channel="messenger"):
    return SocialMessage(
        channel=channel,
        kind=PRIVATE,
        message_id="m_1",
        conversation_id=PSID,
        author=Author(external_id=PSID),
        created_at=created_at,
    )


def comment(created_at=T0, channel="facebook"):
    return SocialMessage(
        channel=channel,
        kind=PUBLIC,
        message_id=COMMENT_ID,
        conversation_id=POST_ID,
        author=Author(external_id=JANE["id"]),
        created_at=created_at,
        parent_id=POST_ID,
    )


def test_dm_answer_is_open_for_24_hours(adapter):
    adapter.check_reply(direct_message(), PRIVATE, T0 + timedelta(hours=23, minutes=59))
    with pytest.raises(WindowClosed) as closed:
        adapter.check_reply(direct_message(), PRIVATE, T0 + timedelta(hours=24))
    assert closed.value.closed_at == T0 + timedelta(hours=24)
    assert "24 hours" in str(closed.value)


def test_dm_window_runs_from_the_customers_last_message(adapter):
    later = T0 + timedelta(days=3)
    adapter.check_reply(direct_message(), PRIVATE, later + timedelta(hours=2), later)
    closes_at = adapter.window_closes_at(direct_message(), PRIVATE, later)
    assert closes_at == later + timedelta(hours=24)


def test_human_agent_tag_extends_the_dm_window_to_7_days():
    adapter = MetaAdapter({**CONFIG, "human_agent_tag": True})
    adapter.check_reply(direct_message(), PRIVATE, T0 + timedelta(days=6, hours=23))
    with pytest.raises(WindowClosed) as closed:
        adapter.check_reply(direct_message(), PRIVATE, T0 + timedelta(days=7))
    assert closed.value.closed_at == T0 + timedelta(days=7)


def test_private_reply_to_a_comment_is_open_for_7_days(adapter):
    adapter.check_reply(comment(), PRIVATE, T0 + timedelta(days=6, hours=23))
    with pytest.raises(WindowClosed) as closed:
        adapter.check_reply(comment(), PRIVATE, T0 + timedelta(days=7))
    assert closed.value.closed_at == T0 + timedelta(days=7)
    assert closed.value.alternative == PUBLIC


def test_public_replies_have_no_window(adapter):
    assert adapter.window_closes_at(comment(), PUBLIC) is None
    adapter.check_reply(comment(), PUBLIC, T0 + timedelta(days=365))


def test_a_dm_cannot_be_answered_publicly(adapter):
    with pytest.raises(ReplyNotAllowed) as refused:
        adapter.check_reply(direct_message(), PUBLIC, T0)
    assert refused.value.alternative == PRIVATE


@pytest.mark.parametrize(
    ("message", "kind", "limit"),
    [
        (comment(), PUBLIC, 8000),
        (comment(), PRIVATE, 2000),
        (direct_message(), PRIVATE, 2000),
        (comment(channel="instagram"), PUBLIC, 2200),
        (direct_message(channel="instagram"), PRIVATE, 1000),
    ],
)
def test_reply_length_limits(adapter, message, kind, limit):
    assert adapter.max_length(kind, message) == limit


def test_instagram_dm_length_counts_utf8_bytes(adapter):
    message = direct_message(channel="instagram")
    assert adapter.text_length("é" * 600, message, PRIVATE) == 1200
    assert adapter.text_length("é" * 600, comment(), PUBLIC) == 600
    assert adapter.max_length(PRIVATE) == 1000  # strictest channel of the account


# -- through the fake Graph API ---------------------------------------------------
@pytest.fixture
def meta():
    with FakeMetaServer() as server:
        yield server


def graph_adapter(meta, **config):
    return MetaAdapter(meta.config(timeout=0.5, **config), clock=lambda: NOW)


@pytest.fixture
def graph(meta):
    return graph_adapter(meta)


def script_webhook_state(meta):
    """The fake holds what the webhook fixtures describe."""
    meta.add_post(POST_ID, "Spring sale!", at(1742660000))
    meta.add_comment(
        COMMENT_ID,
        POST_ID,
        "My order #1042 never arrived. Merci d'avance, l'équipe !",
        at(1742667604),
        JANE,
    )
    meta.add_message(
        "messenger",
        {"id": PSID, "name": "Jane Doe", "email": f"{PSID}@facebook.com"},
        MID,
        "Hi, where is my parcel? Tracking says delivered.",
        at(1742671000),
    )
    meta.add_media(MEDIA_ID, at(1742600000))
    meta.add_instagram_comment(
        IG_COMMENT_ID,
        MEDIA_ID,
        "Is the blue one back in stock?",
        at(1742672000),
        {"id": "17841401234567890", "username": "jane.doe"},
    )
    meta.add_message(
        "instagram",
        {"id": IGSID, "username": "sam.rivera"},
        load("instagram_dm")["entry"][0]["messaging"][0]["message"]["mid"],
        "Can I change the size of my order?",
        at(1742673000),
    )


def test_test_connection_reports_permissions_and_subscription(meta, graph):
    meta.granted_scopes.remove("pages_messaging")

    report = graph.test_connection()

    assert report["page_name"] == "Acme Support"
    assert "pages_read_engagement" in report["granted"]
    assert report["missing"] == ["pages_messaging"]
    assert report["subscribed_fields"] == []
    assert not report["subscribed"]


def test_subscribe_app_installs_feed_and_messages(meta, graph):
    assert graph.subscribe_app()

    (request,) = meta.requests_to("POST subscribed_apps")
    assert request.body == {"subscribed_fields": "feed,messages"}
    report = graph.test_connection()
    assert report["subscribed_fields"] == ["feed", "messages"]
    assert report["subscribed"]


def test_test_connection_refuses_a_token_of_another_page(meta):
    adapter = graph_adapter(meta, page_id="1234567890")
    with pytest.raises(AuthError, match="not for page 1234567890"):
        adapter.test_connection()


def test_calls_carry_the_token_in_a_header_with_an_appsecret_proof(meta, graph):
    graph.test_connection()

    request = meta.requests_to("GET me")[0]
    assert request.headers["Authorization"] == "Bearer fake-page-token"
    assert "access_token" not in request.query
    assert request.query["appsecret_proof"] == (
        hmac_sha256(APP_SECRET, "fake-page-token").hex()
    )


def test_polled_items_carry_the_webhook_event_ids(meta, graph, adapter):
    script_webhook_state(meta)

    polled = {event.event_id: event for event in graph.poll({}).events}

    for name in (
        "feed_comment_add",
        "messenger_text",
        "instagram_comment",
        "instagram_dm",
    ):
        webhook_event = only_event(adapter, name)
        assert webhook_event.event_id in polled, name
        (from_webhook,) = adapter.parse_event(webhook_event.payload)
        (from_poll,) = adapter.parse_event(polled[webhook_event.event_id].payload)
        for attribute in (
            "channel",
            "kind",
            "verb",
            "message_id",
            "conversation_id",
            "parent_id",
            "text",
            "is_own",
        ):
            assert getattr(from_poll, attribute) == getattr(from_webhook, attribute)
        assert from_poll.author.external_id == from_webhook.author.external_id


def test_poll_reads_posts_replies_echoes_and_attachments(meta, graph):
    meta.add_post(POST_ID, "Spring sale!", at(1742660000))
    meta.add_comment(COMMENT_ID, POST_ID, "Where is it?", at(1742667604), JANE)
    meta.add_comment(
        "122131676912594941_7",
        POST_ID,
        "We are on it.",
        at(1742667700),
        {"id": PAGE_ID, "name": "Acme Support"},
        parent_id=COMMENT_ID,
    )
    customer = {"id": PSID, "name": "Jane Doe"}
    receipt = {"mime_type": "image/png", "image_data": {"url": "https://cdn/r.png"}}
    meta.add_message(
        "messenger",
        customer,
        "m_1",
        "",
        at(1742671000),
        attachments={"data": [receipt]},
    )
    meta.add_message("messenger", customer, "m_2", "Hello!", at(1742671100), True)

    messages = {
        message.message_id: message
        for event in graph.poll({}).events
        for message in graph.parse_event(event.payload)
    }

    assert messages[POST_ID].is_own
    reply = messages["122131676912594941_7"]
    assert (reply.parent_id, reply.is_own) == (COMMENT_ID, True)
    assert messages["m_1"].attachments == (
        Attachment(url="https://cdn/r.png", kind="image"),
    )
    echo = messages["m_2"]
    assert (echo.is_own, echo.conversation_id) == (True, PSID)
    assert echo.created_at == at(1742671100)


def test_poll_advances_cursors_and_rereads_only_the_cursor_second(meta, graph):
    script_webhook_state(meta)
    first = graph.poll({})
    assert first.cursors == {
        "feed": 1742667604,
        "messenger": 1742671000,
        "instagram_comments": 1742672000,
        "instagram_dm": 1742673000,
    }
    meta.add_comment("122131676912594941_9", POST_ID, "Any news?", at(1742680000), JANE)

    second = graph.poll(first.cursors)

    assert sorted(event.event_id for event in second.events) == sorted(
        [
            "feed:122131676912594941_9:add",
            f"feed:{COMMENT_ID}:add",  # the cursor second, deduped by its id
            f"msg:{MID}",
            f"igc:{IG_COMMENT_ID}",
            f"msg:{load('instagram_dm')['entry'][0]['messaging'][0]['message']['mid']}",
        ]
    )
    assert second.cursors["feed"] == 1742680000


def test_poll_follows_pages_and_stops_at_a_stale_one(meta, graph):
    graph.poll_page_size = 2
    for number in range(5):
        meta.add_post(
            f"{PAGE_ID}_{number}", f"post {number}", NOW - timedelta(hours=number)
        )
    for number in range(5, 9):  # older than the first poll looks back
        meta.add_post(f"{PAGE_ID}_{number}", f"post {number}", NOW - timedelta(days=3))

    result = graph.poll({})

    assert len([e for e in result.events if e.event_id.startswith("feed:")]) == 5
    assert [r.query.get("after") for r in meta.requests_to("GET feed")] == [
        None,
        "2",
        "4",
        "6",
    ]


def test_poll_without_instagram_account_reads_only_the_page(meta):
    adapter = graph_adapter(meta, instagram_account_id="")
    assert set(adapter.poll({}).cursors) == {"feed", "messenger"}
    assert not meta.requests_to("GET media")


# -- replies through the fake ----------------------------------------------------
def test_public_reply_to_a_facebook_comment(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "feed_comment_add")

    sent = graph.send_reply(target, "Sorry Jane, we are on it.", PUBLIC, "key-1")

    (request,) = meta.requests_to("POST comments")
    assert request.path == f"/{DEFAULT_GRAPH_VERSION}/{COMMENT_ID}/comments"
    assert request.body == {"message": "Sorry Jane, we are on it."}
    assert meta.comments[sent.external_id]["from"]["id"] == PAGE_ID
    assert sent.url == f"https://www.facebook.com/{sent.external_id}"


def test_public_reply_on_instagram_answers_the_top_comment(meta, graph, adapter):
    script_webhook_state(meta)
    reply = replace(
        only_message(adapter, "instagram_comment"),
        message_id="17900000000000001",
        parent_id=IG_COMMENT_ID,
    )

    sent = graph.send_reply(reply, "Back next week!", PUBLIC, "key-2")

    (request,) = meta.requests_to("POST replies")
    assert request.path == f"/{DEFAULT_GRAPH_VERSION}/{IG_COMMENT_ID}/replies"
    assert meta.instagram_comments[sent.external_id]["parent_id"] == IG_COMMENT_ID


def test_private_reply_to_a_comment_goes_once(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "feed_comment_add")

    sent = graph.send_reply(
        target, "Could you send us your order number?", PRIVATE, "k"
    )

    request = meta.requests_to("POST messages")[0]
    assert request.body["recipient"] == {"comment_id": COMMENT_ID}
    assert meta.private_replies[COMMENT_ID] == sent.external_id
    with pytest.raises(ReplyNotAllowed) as refused:
        graph.send_reply(target, "Hello again?", PRIVATE, "k2")
    assert refused.value.alternative == PUBLIC


def test_dm_answer_within_24_hours_is_a_response(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "messenger_text")

    sent = graph.send_reply(target, "It is on its way.", PRIVATE, "k")

    body = meta.requests_to("POST messages")[0].body
    assert body == {
        "recipient": {"id": PSID},
        "message": {"text": "It is on its way."},
        "messaging_type": "RESPONSE",
    }
    assert sent.external_id.startswith("m_")


def test_dm_answer_after_24_hours_uses_the_human_agent_tag(meta, adapter):
    script_webhook_state(meta)
    graph = graph_adapter(meta, human_agent_tag=True)
    target = only_message(adapter, "messenger_text")

    graph.send_reply(
        target, "Sorry for the wait.", PRIVATE, "k", NOW - timedelta(days=3)
    )

    body = meta.requests_to("POST messages")[0].body
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_closed_window_is_refused_before_any_call(meta, graph, adapter):
    target = only_message(adapter, "messenger_text")
    with pytest.raises(WindowClosed):
        graph.send_reply(target, "Hi", PRIVATE, "k", NOW - timedelta(days=2))
    assert not meta.requests


def test_too_long_instagram_dm_is_refused_before_any_call(meta, graph, adapter):
    target = only_message(adapter, "instagram_dm")
    with pytest.raises(ReplyNotAllowed, match="1000"):
        graph.send_reply(target, "é" * 600, PRIVATE, "k", NOW)
    assert not meta.requests


def test_find_sent_recovers_a_comment_published_before_a_timeout(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "feed_comment_add")
    meta.fail_next("POST comments", Fault.timeout(2, publish=True))

    with pytest.raises(TransientError):
        graph.send_reply(target, "We are on it.", PUBLIC, "key-3")

    found = graph.find_sent(target, "key-3", text="We are on it.")
    (published,) = [
        c for c in meta.comments.values() if c["message"] == "We are on it."
    ]
    assert found.external_id == published["id"]


def test_find_sent_recovers_a_dm_published_before_a_timeout(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "messenger_text")
    meta.fail_next("POST messages", Fault.timeout(2, publish=True))

    with pytest.raises(TransientError):
        graph.send_reply(target, "It ships today.", PRIVATE, "key-4", NOW)

    found = graph.find_sent(target, "key-4", text="It ships today.")
    assert found.external_id == meta.conversations["messenger", PSID].messages[-1]["id"]


def test_find_sent_recovers_an_instagram_reply(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "instagram_comment")
    meta.fail_next("POST replies", Fault.timeout(2, publish=True))

    with pytest.raises(TransientError):
        graph.send_reply(target, "Back next week!", PUBLIC, "key-5")

    assert graph.find_sent(target, "key-5", text="Back next week!") is not None


def test_find_sent_finds_nothing_when_the_call_never_landed(meta, graph, adapter):
    script_webhook_state(meta)
    target = only_message(adapter, "feed_comment_add")
    meta.fail_next("POST comments", Fault.timeout(2))

    with pytest.raises(TransientError):
        graph.send_reply(target, "We are on it.", PUBLIC, "key-6")

    assert graph.find_sent(target, "key-6", text="We are on it.") is None


def test_find_sent_ignores_an_identical_answer_older_than_the_first_attempt(
    meta, graph, adapter
):
    script_webhook_state(meta)
    target = only_message(adapter, "messenger_text")
    first_attempt = at(1742671000) + timedelta(days=20)
    meta.add_message(
        "messenger",
        {"id": PSID, "name": "Jane Doe"},
        "m_old_answer",
        "It ships today.",
        at(1742671100),
        from_page=True,
    )
    meta.add_comment(
        "old_comment_answer",
        POST_ID,
        "We are on it.",
        first_attempt - timedelta(minutes=3),
        {"id": meta.page_id, "name": meta.page_name},
        parent_id=COMMENT_ID,
    )
    comment = only_message(adapter, "feed_comment_add")

    assert (
        graph.find_sent(target, "k", text="It ships today.", since=first_attempt)
        is None
    )
    assert (
        graph.find_sent(comment, "k", text="We are on it.", since=first_attempt) is None
    )
    found = graph.find_sent(
        comment,
        "k",
        text="We are on it.",
        since=first_attempt - timedelta(seconds=90),
    )
    assert found.external_id == "old_comment_answer", "within the clock skew"
    found = graph.find_sent(target, "k", text="It ships today.")
    assert found.external_id == "m_old_answer", "no first attempt: any time"


# -- errors and rate limits through the fake ---------------------------------------
BUSINESS_USAGE = {
    PAGE_ID: [
        {
            "type": "pages",
            "call_count": 100,
            "total_cputime": 12,
            "total_time": 35,
            "estimated_time_to_regain_access": 7,
        }
    ]
}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_throttling_raises_rate_limited_until_meta_regains_access(meta, graph, code):
    meta.usage_headers["X-Business-Use-Case-Usage"] = BUSINESS_USAGE
    meta.fail_next("GET feed", Fault.graph_error(code))

    with pytest.raises(RateLimited) as throttled:
        graph.poll({})

    assert throttled.value.reset_at == NOW + timedelta(minutes=7)
    assert graph.last_usage == 100
    assert graph.should_slow_down()


def test_throttling_without_an_estimate_waits_the_default(meta, graph):
    meta.fail_next("GET feed", Fault.graph_error(4))
    with pytest.raises(RateLimited) as throttled:
        graph.poll({})
    assert throttled.value.reset_at == NOW + timedelta(minutes=15)


def test_usage_headers_tell_when_to_slow_down(meta, graph):
    meta.usage_headers["X-App-Usage"] = {
        "call_count": 28,
        "total_time": 25,
        "total_cputime": 25,
    }
    graph.test_connection()
    assert (graph.last_usage, graph.should_slow_down()) == (28, False)

    meta.usage_headers["X-App-Usage"] = {"call_count": 81, "total_time": 9}
    graph.test_connection()
    assert (graph.last_usage, graph.should_slow_down()) == (81, True)


def test_expired_token_asks_an_admin_to_reconnect(meta, graph):
    meta.token_valid = False
    with pytest.raises(AuthError, match="expired or was revoked; reconnect the page"):
        graph.poll({})


def test_missing_permission_is_named(meta, graph, adapter):
    script_webhook_state(meta)
    meta.fail_next("POST messages", Fault.graph_error(200, status=403))
    with pytest.raises(AuthError, match="pages_messaging"):
        graph.send_reply(only_message(adapter, "messenger_text"), "Hi", PRIVATE, "k")


def test_meta_closing_the_window_is_window_closed(meta, graph, adapter):
    script_webhook_state(meta)
    meta.fail_next("POST messages", Fault.graph_error(10, subcode=2018278))
    with pytest.raises(WindowClosed):
        graph.send_reply(only_message(adapter, "messenger_text"), "Hi", PRIVATE, "k")


@pytest.mark.parametrize(
    "fault",
    [
        Fault.server_error(500),
        Fault.server_error(503),
        Fault(status=502),
        Fault.timeout(2),
    ],
    ids=["500", "503", "502 html", "timeout"],
)
def test_server_errors_and_timeouts_are_transient(meta, graph, fault):
    meta.fail_next("GET feed", fault)
    with pytest.raises(TransientError):
        graph.poll({})


def test_unreachable_graph_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = MetaAdapter({**CONFIG, "graph_base_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(TransientError, match="Could not reach Meta"):
        adapter.poll({})


def test_other_graph_errors_keep_metas_message(meta, graph):
    meta.fail_next("GET me", Fault.graph_error(100, "(#100) Unknown fields: nme."))
    with pytest.raises(AdapterError) as refused:
        graph.test_connection()
    assert type(refused.value) is AdapterError
    assert "Unknown fields: nme." in str(refused.value)


# -- random payloads --------------------------------------------------------------
# The real payloads with a few values replaced by random JSON or removed, so
# random input reaches deep into parsing; and free-form JSON besides.
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(), max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
FUZZ_ADAPTER = MetaAdapter(dict(CONFIG))
DELIVERIES = [load(path.stem) for path in sorted(PAYLOADS.glob("*.json"))]
EVENTS = [
    event.payload
    for delivery in DELIVERIES
    for event in FUZZ_ADAPTER.split_delivery(delivery)
]


def slots(node):
    """(container, key) of every value of a JSON tree."""
    if isinstance(node, dict):
        pairs = list(node.items())
    elif isinstance(node, list):
        pairs = list(enumerate(node))
    else:
        pairs = []
    for key, value in pairs:
        yield node, key
        yield from slots(value)


@st.composite
def corrupted(draw, originals):
    payload = copy.deepcopy(draw(st.sampled_from(originals)))
    for _change in range(draw(st.integers(1, 3))):
        places = list(slots(payload))
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        if draw(st.booleans()):
            container[key] = draw(JSONISH)
        else:
            del container[key]
    return payload


def parsed_or_typed_error(parse, payload):
    try:
        result = parse(payload)
    except AdapterError:
        return []
    assert isinstance(result, list)
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=corrupted(DELIVERIES) | corrupted(EVENTS) | JSONISH)
def test_random_payloads_give_lists_or_typed_errors(payload):
    events = parsed_or_typed_error(FUZZ_ADAPTER.split_delivery, payload)
    for event in events:
        assert isinstance(event.event_id, str) and event.event_id
        for message in parsed_or_typed_error(FUZZ_ADAPTER.parse_event, event.payload):
            assert isinstance(message, SocialMessage)
    parsed_or_typed_error(FUZZ_ADAPTER.parse_event, payload)
