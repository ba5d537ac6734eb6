"""XAdapter on X's documented payloads, and against a fake X API on loopback.

Payload fixtures in payloads/x/ are X's documented examples: the X Activity
API ones verbatim, the Account Activity and v2 REST ones assembled from the
documented object shapes. Error, polling and reply tests go through real
HTTP to :class:`FakeXServer`; nothing of the adapter is mocked.
"""

import base64
import contextlib
import copy
import functools
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from social_helpdesk.adapters.base import (
    PRIVATE,
    PUBLIC,
    VERB_REMOVE,
    AdapterError,
    Attachment,
    AuthError,
    Author,
    HandshakeError,
    MalformedPayload,
    PollResult,
    RateLimited,
    ReplyNotAllowed,
    SignatureError,
    SocialMessage,
    TransientError,
)
from social_helpdesk.adapters.x import XAdapter
from social_helpdesk.adapters.x import reads as x_reads
from social_helpdesk.tests.fakes.fake_x import (
    CREATE_POST,
    DM_EVENTS,
    ME,
    MENTIONS,
    SEND_DM,
    FakeXServer,
)

PAYLOADS = Path(__file__).parent / "payloads" / "x"
SECRET = "consumer-secret-of-the-app"
OWN_ID = "1111111111111111111"  # the filtered user of X's XAA examples
UTC = timezone.utc


def load(name, **json_options):
    return json.loads((PAYLOADS / f"{name}.json").read_text(), **json_options)


@functools.cache
def load_once(name):
    """A fixture for tests that never change it."""
    return load(name)


def make_adapter(fake=None, **overrides):
    config = {
        "user_id": OWN_ID,
        "username": "HelpdeskBrand",
        "api_key": "consumer-key",
        "api_secret": SECRET,
        "access_token": "access-token",
        "access_token_secret": "access-token-secret",
        "timeout": 2,
    }
    if fake:
        config["api_base_url"] = fake.base_url
    config.update(overrides)
    return XAdapter({k: v for k, v in config.items() if v is not None})


def messages_of(adapter, events):
    return [
        message for event in events for message in adapter.parse_event(event.payload)
    ]


@pytest.fixture
def fake():
    with FakeXServer(me_id=OWN_ID) as server:
        yield server


@pytest.fixture
def customer(fake):
    return fake.add_user("2001", "customer", "A Customer", followers_count=42)


# -- X Activity API webhooks --------------------------------------------------
def test_activity_mention_becomes_public_message():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_post_mention_create"))
    assert event.event_id == "tweet:2080765813578191303"
    assert event.payload["source"] == "x_v2_tweet"
    assert event.payload["event_type"] == "post.mention.create"
    assert [u["id"] for u in event.payload["includes"]["users"]] == [
        "2222222222222222222"
    ]

    [message] = adapter.parse_event(event.payload)
    assert message.channel == "x"
    assert message.kind == PUBLIC
    assert message.message_id == "2080765813578191303"
    assert message.conversation_id == "2080765813578191303"
    assert message.parent_id == ""
    assert message.text == "hey @ExampleUser"
    assert message.author.external_id == "2222222222222222222"
    assert message.author.handle == "OtherUser"
    assert message.author.profile_url == "https://x.com/OtherUser"
    assert message.author.followers_count == 97
    assert message.url == "https://x.com/OtherUser/status/2080765813578191303"
    assert message.created_at == datetime(2026, 7, 24, 21, 23, 23, tzinfo=UTC)
    assert message.lang == ""  # X says "und"
    assert not message.is_own and not message.is_repost
    assert message.thread_key == "x:2080765813578191303:2222222222222222222"


def test_activity_reply_carries_parent_and_thread():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_post_reply_create"))
    [message] = adapter.parse_event(event.payload)
    assert event.event_id == "tweet:2090000000000000001"
    assert message.parent_id == "2080761390344937796"
    assert message.conversation_id == "2080761390344937796"
    assert message.lang == "en"
    # The example has empty includes: the author is known by id only.
    assert message.author.external_id == "2222222222222222222"
    assert message.author.handle == ""
    assert message.url == "https://x.com/i/web/status/2090000000000000001"


def test_activity_repost_is_flagged():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_post_repost_create"))
    [message] = adapter.parse_event(event.payload)
    assert message.is_repost


def test_activity_dm_received_becomes_private_message():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_dm_received"))
    assert event.event_id == "dm:2080765901528535096"
    assert set(event.payload["users"]) == {"2222222222222222222", OWN_ID}

    [message] = adapter.parse_event(event.payload)
    assert message.kind == PRIVATE
    assert message.text == "hello!"
    assert message.conversation_id == f"{OWN_ID}-2222222222222222222"
    assert message.author.handle == "OtherUser"
    assert message.author.followers_count == 97
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert message.created_at == epoch + timedelta(milliseconds=1784928224372)
    assert message.url == f"https://x.com/messages/{OWN_ID}-2222222222222222222"
    assert not message.is_own
    assert message.thread_key == f"x:dm:{OWN_ID}-2222222222222222222"


def test_activity_dm_sent_is_our_own_echo():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_dm_sent"))
    [message] = adapter.parse_event(event.payload)
    assert message.is_own
    assert message.author.handle == "ExampleUser"
    assert message.conversation_id == f"2244994945-{OWN_ID}"


def test_activity_post_delete_removes_the_stored_copy():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_post_delete"))
    assert event.event_id == "tweet_delete:2080761269309813134"
    [message] = adapter.parse_event(event.payload)
    assert message.verb == VERB_REMOVE
    assert message.message_id == "2080761269309813134"
    assert message.is_own


def test_activity_encrypted_chat_is_a_message_with_a_link():
    adapter = make_adapter()
    [event] = adapter.split_delivery(load("xaa_chat_received"))
    assert event.event_id == "chat:e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6"
    assert event.recipient_id == OWN_ID
    assert event.payload["chat"]["encoded_event"].startswith("CwAB")
    [message] = adapter.parse_event(event.payload)
    assert message.encrypted and message.kind == PRIVATE
    assert message.text == ""  # the helpdesk shows its notice instead
    assert message.author.external_id == "2222222222222222222"
    assert message.conversation_id == "2222222222222222222:1111111111111111111"
    assert message.url == (
        "https://x.com/i/chat/2222222222222222222%3A1111111111111111111"
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert message.created_at == epoch + timedelta(milliseconds=1784841183370)
    assert not message.is_own


def test_activity_chat_sent_and_a_redelivery_are_ours_and_the_same():
    adapter = make_adapter()
    delivery = load("xaa_chat_received")
    [first] = adapter.split_delivery(delivery)
    [again] = adapter.split_delivery(load("xaa_chat_received"))
    assert first.event_id == again.event_id
    delivery["data"]["event_type"] = "chat.sent"
    delivery["data"]["payload"]["sender_id"] = OWN_ID
    [sent] = adapter.split_delivery(delivery)
    [message] = adapter.parse_event(sent.payload)
    assert message.is_own


def test_activity_chat_without_sender_is_malformed():
    delivery = load("xaa_chat_received")
    del delivery["data"]["payload"]["sender_id"]
    with pytest.raises(MalformedPayload):
        make_adapter().split_delivery(delivery)


def test_activity_dm_sent_is_own_even_without_the_user_id():
    # Routed by filter.user_id before the account's id is known: the event
    # type alone says it is the brand's.
    adapter = make_adapter(user_id=None)
    [event] = adapter.split_delivery(load("xaa_dm_sent"))
    event.payload["for_user_id"] = None
    [message] = adapter.parse_event(event.payload)
    assert message.is_own


# -- Account Activity API webhooks (v1.1 objects) -----------------------------
def test_legacy_tweet_uses_str_ids_and_extended_text():
    # A decoder that reads numbers as floats loses the ids' last digits;
    # only the *_str fields keep them.
    delivery = load("aaa_tweet_create_events", parse_int=float)
    assert delivery["tweet_create_events"][0]["id"] != 1850000000000000001
    adapter = make_adapter(user_id="2244994945")

    events = adapter.split_delivery(delivery)
    assert [e.event_id for e in events] == [
        "tweet:1850000000000000001",
        "tweet:1850000000000000009",
    ]
    reply, retweet = messages_of(adapter, events)
    assert reply.message_id == "1850000000000000001"
    assert reply.parent_id == "1849999999999999999"
    assert reply.conversation_id == "1849999999999999999"
    assert reply.text.endswith(
        "tracking here: https://t.co/e9yhQTJSIA https://t.co/Pic8AbCdEf"
    )
    assert "…" not in reply.text
    assert reply.links == ("https://track.example.com/parcel/4521",)
    assert reply.attachments == (
        Attachment(url="https://pbs.twimg.com/media/DcyHdqAVMAAw0Xn.jpg", kind="image"),
    )
    assert reply.author.external_id == "1750000000000000003"
    assert reply.author.handle == "furiouscamper"
    assert reply.author.followers_count == 22
    assert reply.created_at == datetime(2018, 5, 10, 17, 41, 57, tzinfo=UTC)
    assert reply.url == "https://x.com/furiouscamper/status/1850000000000000001"
    assert not reply.is_own and not reply.is_repost

    assert retweet.is_repost
    assert retweet.conversation_id == "1850000000000000009"


def test_legacy_direct_messages_including_our_echo():
    adapter = make_adapter(user_id="4337869213")
    events = adapter.split_delivery(load("aaa_direct_message_events"))
    assert [e.event_id for e in events] == [
        "dm:954491830116155396",
        "dm:954491830116155397",
    ]
    incoming, echo = messages_of(adapter, events)

    assert incoming.kind == PRIVATE
    assert incoming.author.handle == "furiouscamper"
    assert incoming.conversation_id == "3001969357-4337869213"
    assert incoming.links == ("https://shop.example.com/orders/4521",)
    assert not incoming.is_own

    assert echo.is_own
    assert echo.author.external_id == "4337869213"
    assert echo.conversation_id == incoming.conversation_id


def test_legacy_other_events_are_stored_but_ignored():
    adapter = make_adapter(user_id="4337869213")
    delivery = load("aaa_favorite_and_typing_events")
    events = adapter.split_delivery(delivery)
    assert events[0].event_id == "favorite_events:a7ba59eab0bfcba386f7acedac279542"
    assert events[1].event_id.startswith("direct_message_indicate_typing_events:")
    # Items without an id are named by their content: a redelivery dedups.
    assert [e.event_id for e in adapter.split_delivery(delivery)] == [
        e.event_id for e in events
    ]
    assert messages_of(adapter, events) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": {"event_type": 3, "payload": {}}},
        {"data": {"event_type": "post.mention.create"}},
        {"data": {"event_type": "post.mention.create", "payload": {"text": "no id"}}},
        {"data": {"event_type": "dm.received", "payload": {"users": {}}}},
        {"for_user_id": "1"},
        {"for_user_id": "1", "tweet_create_events": "not a list"},
        {"for_user_id": ["1"], "tweet_create_events": []},
    ],
)
def test_malformed_deliveries_are_refused(body):
    with pytest.raises(MalformedPayload):
        make_adapter().split_delivery(body)


def test_unknown_stored_payload_is_refused():
    with pytest.raises(MalformedPayload):
        make_adapter().parse_event({"source": "somewhere"})


# -- webhook security -----------------------------------------------------------
def test_crc_response_token():
    body, content_type = make_adapter().handshake({"crc_token": "challenge_string"})
    digest = hmac.new(SECRET.encode(), b"challenge_string", hashlib.sha256).digest()
    assert content_type == "application/json"
    assert json.loads(body) == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }


def test_crc_without_token_fails():
    with pytest.raises(HandshakeError):
        make_adapter().handshake({})


# The crc_token of a real CRC (the base64 of a UUID), from an X app's logs.
REAL_CRC_TOKEN = "M2RkODJkZmMtYjlkYi00NmQ4LTk0MGUtM2JjYzkwM2Q4MjQ0"


@pytest.mark.parametrize(
    "crc_token", [REAL_CRC_TOKEN, "challenge_string", "a+b/c=-_", "A" * 128]
)
def test_crc_answers_tokens_shaped_like_xs(crc_token):
    body, _content_type = make_adapter().handshake({"crc_token": crc_token})
    digest = hmac.new(SECRET.encode(), crc_token.encode(), hashlib.sha256).digest()
    assert json.loads(body)["response_token"] == (
        "sha256=" + base64.b64encode(digest).decode()
    )


@pytest.mark.parametrize(
    "crc_token",
    [
        pytest.param((PAYLOADS / "xaa_dm_received.json").read_text(), id="delivery"),
        pytest.param('{"for_user_id":"1"}', id="small-json"),
        pytest.param("A" * 129, id="too-long"),
        pytest.param("two words", id="space"),
        pytest.param("token\n", id="newline"),
    ],
)
def test_crc_refuses_what_would_make_it_a_signing_oracle(crc_token):
    """The answer is a delivery signature: answering a body would let anyone
    who knows the URL sign deliveries."""
    with pytest.raises(HandshakeError, match="crc_token"):
        make_adapter().handshake({"crc_token": crc_token})


def test_events_are_addressed_to_the_user_they_are_for():
    adapter = make_adapter()
    [activity] = adapter.split_delivery(load("xaa_dm_received"))
    assert activity.recipient_id == OWN_ID  # data.filter.user_id
    legacy = adapter.split_delivery(load("aaa_direct_message_events"))
    assert {event.recipient_id for event in legacy} == {
        load_once("aaa_direct_message_events")["for_user_id"]
    }
    unfiltered = load("xaa_post_mention_create")
    del unfiltered["data"]["filter"]
    [event] = adapter.split_delivery(unfiltered)
    assert event.recipient_id is None


def test_webhook_identity_is_the_consumer_secret_and_the_user():
    assert XAdapter.webhook_identity(make_adapter().config) == (
        SECRET,
        frozenset({OWN_ID}),
    )
    unconnected = make_adapter(user_id=None).config
    assert XAdapter.webhook_identity(unconnected) == (SECRET, frozenset())


def signed(body, secret=SECRET):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


@pytest.mark.parametrize(
    "header", ["x-twitter-webhooks-signature", "X-Twitter-Webhooks-Signature"]
)
def test_signature_accepted_whatever_the_header_case(header):
    body = (PAYLOADS / "xaa_dm_received.json").read_bytes()
    make_adapter().verify_signature(body, {header: signed(body)})


@pytest.mark.parametrize(
    "headers_for",
    [
        pytest.param(
            lambda body: {"x-twitter-webhooks-signature": signed(body + b" ")},
            id="tampered",
        ),
        pytest.param(
            lambda body: {"x-twitter-webhooks-signature": signed(body, "other-secret")},
            id="wrong-secret",
        ),
        pytest.param(lambda body: {"content-type": "application/json"}, id="missing"),
    ],
)
def test_signature_rejected(headers_for):
    body = (PAYLOADS / "xaa_dm_received.json").read_bytes()
    with pytest.raises(SignatureError):
        make_adapter().verify_signature(body, headers_for(body))


# -- weighted length --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("a" * 280, 280),
        ("a" * 281, 281),
        ("Hi http://test.co", 26),  # a URL counts 23, however long
        ("see https://example.com/a/very/long/path?with=query&and=more.", 4 + 23 + 1),
        ("example.com/path", 23),
        ("x" * 64 + ".com", 68),  # a 64-character label is no domain
        ("故人西辞黄鹤楼", 14),
        ("😷👾😡🔥💩", 10),
        ("H🐱☺👨\u200d👩\u200d👧\u200d👦", 7),  # a ZWJ family is one emoji
        ("🙋🏽👨\u200d🎤", 4),
        ("🇫🇷", 2),
        ("1\u20e3", 2),
        ("A\u0301B", 2),  # NFC makes "Á" one character
    ],
)
def test_weighted_length(text, length):
    assert make_adapter().text_length(text) == length


def test_length_limits():
    adapter = make_adapter()
    assert adapter.max_length(PUBLIC) == 280
    assert adapter.max_length(PRIVATE) == 10000


# -- connection and errors, over HTTP -------------------------------------------------
def test_connection_reports_the_account(fake):
    info = make_adapter(fake).test_connection()
    assert {key: info[key] for key in ("user_id", "username", "name", "label")} == {
        "user_id": OWN_ID,
        "username": "HelpdeskBrand",
        "name": "Helpdesk Brand",
        "label": "@HelpdeskBrand",
    }
    [request] = fake.requests_to(ME)
    assert request.headers["authorization"].startswith("OAuth ")


def test_revoked_credentials_raise_auth_error(fake):
    fake.fail_next(ME, status=401)
    with pytest.raises(
        AuthError,
        match=r"credentials while checking the connection \(401 Unauthorized\)",
    ):
        make_adapter(fake).test_connection()


def test_missing_credentials_raise_auth_error():
    adapter = make_adapter(access_token=None, access_token_secret=None)
    with pytest.raises(AuthError, match="no credentials"):
        adapter.test_connection()


def public_message(post):
    """The SocialMessage of a post the fake holds, as polling would build it."""
    return SocialMessage(
        channel="x",
        kind=PUBLIC,
        message_id=post["id"],
        conversation_id=post["conversation_id"],
        author=Author(external_id=post["author_id"]),
        text=post["text"],
    )


def private_message(event):
    return SocialMessage(
        channel="x",
        kind=PRIVATE,
        message_id=event["id"],
        conversation_id=event["dm_conversation_id"],
        author=Author(external_id=event["sender_id"]),
        text=event["text"],
    )


def test_unsummoned_reply_is_not_allowed(fake, customer):
    post = fake.add_post(customer["id"], "Nobody answers at this brand")
    with pytest.raises(ReplyNotAllowed) as caught:
        make_adapter(fake).send_reply(
            public_message(post), "We can help!", PUBLIC, "k1"
        )
    assert caught.value.alternative == PRIVATE
    assert "Answer with a direct message instead" in str(caught.value)
    assert "not been mentioned or otherwise engaged" in str(caught.value)
    assert fake.posts_by(OWN_ID) == []


def test_other_refusals_keep_x_detail(fake, customer):
    adapter = make_adapter(fake)
    message = public_message(fake.add_mention(customer["id"], "where is my parcel?"))
    adapter.send_reply(message, "It ships today.", PUBLIC, "k1")
    with pytest.raises(AdapterError, match="duplicate content") as caught:
        adapter.send_reply(message, "It ships today.", PUBLIC, "k2")
    assert not isinstance(caught.value, ReplyNotAllowed)


def test_rate_limit_carries_the_reset_time(fake):
    fake.rate_limit_next(MENTIONS, reset_at=1767225600)
    with pytest.raises(RateLimited) as caught:
        make_adapter(fake).poll({})
    assert caught.value.reset_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert "2026-01-01 00:00:00 UTC" in str(caught.value)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(fake, status):
    fake.fail_next(MENTIONS, status=status)
    with pytest.raises(TransientError, match=str(status)):
        make_adapter(fake).poll({})


def test_timeout_is_transient_and_publishes_nothing(fake, customer):
    message = public_message(fake.add_mention(customer["id"], "hello?"))
    fake.time_out_next(CREATE_POST, 1.5)
    with pytest.raises(TransientError, match="did not answer within 0.3 s"):
        make_adapter(fake, timeout=0.3).send_reply(message, "Hi!", PUBLIC, "k1")
    assert fake.posts_by(OWN_ID) == []


def test_unreachable_server_is_transient():
    with FakeXServer() as gone:
        adapter = make_adapter(gone)
    with pytest.raises(TransientError, match="Could not reach X"):
        adapter.test_connection()


# -- replies ------------------------------------------------------------------------
def test_public_and_private_replies(fake, customer):
    adapter = make_adapter(fake)
    mention = fake.add_mention(customer["id"], "my order is late")
    dm = fake.add_dm(customer["id"], "order 4521")

    sent = adapter.send_reply(public_message(mention), "Looking into it.", PUBLIC, "k1")
    [request] = fake.requests_to(CREATE_POST)
    assert request.json == {
        "text": "Looking into it.",
        "reply": {"in_reply_to_tweet_id": mention["id"]},
    }
    assert sent.url == f"https://x.com/HelpdeskBrand/status/{sent.external_id}"
    assert fake.tweets[sent.external_id]["referenced_tweets"] == [
        {"type": "replied_to", "id": mention["id"]}
    ]

    sent = adapter.send_reply(private_message(dm), "Refund issued.", PRIVATE, "k2")
    [request] = fake.requests_to(SEND_DM)
    assert request.path == f"/2/dm_conversations/with/{customer['id']}/messages"
    assert request.json == {"text": "Refund issued."}
    assert sent.external_id == fake.dm_events[-1]["id"]
    assert sent.url == f"https://x.com/messages/2001-{OWN_ID}"


def test_reply_published_before_a_timeout_is_found(fake, customer):
    adapter = make_adapter(fake, timeout=0.3)
    message = public_message(fake.add_mention(customer["id"], "any news?"))
    fake.publish_then_time_out_next(CREATE_POST, 1.5)
    with pytest.raises(TransientError):
        adapter.send_reply(message, "Yes: it ships today.", PUBLIC, "k1")
    [published] = fake.posts_by(OWN_ID)

    found = adapter.find_sent(message, "k1", text="Yes: it ships today.")
    assert found.external_id == published["id"]
    assert found.url == f"https://x.com/HelpdeskBrand/status/{published['id']}"
    assert adapter.find_sent(message, "k1", text="Another answer") is None
    assert adapter.find_sent(message, "k1") is None


def test_found_reply_ignores_reply_mentions_and_short_links(fake, customer):
    message = public_message(fake.add_mention(customer["id"], "how do I return it?"))
    published = fake.add_post(
        OWN_ID,
        "@customer  See https://t.co/AbCd1234 for returns.",
        reply_to=message.message_id,
    )
    found = make_adapter(fake).find_sent(
        message, "k1", text="See https://shop.example.com/returns for returns."
    )
    assert found.external_id == published["id"]


def test_dm_sent_before_a_timeout_is_found(fake, customer):
    adapter = make_adapter(fake, timeout=0.3)
    message = private_message(fake.add_dm(customer["id"], "refund?"))
    fake.publish_then_time_out_next(SEND_DM, 1.5)
    with pytest.raises(TransientError):
        adapter.send_reply(message, "Refund issued.", PRIVATE, "k1")

    found = adapter.find_sent(message, "k1", text="Refund issued.")
    assert found.external_id == fake.dm_events[-1]["id"]
    assert adapter.find_sent(message, "k1", text="Something else") is None


def test_found_reply_is_not_older_than_the_first_attempt(fake, customer):
    """An identical answer sent long before the reply's first attempt is
    another message, not the reply; X's clock may run 2 minutes behind."""
    now = datetime.now(UTC)
    adapter = make_adapter(fake)
    dm = private_message(fake.add_dm(customer["id"], "refund?", created_at=now))
    old_dm = fake.add_dm(
        OWN_ID,
        "Thanks, checking.",
        recipient_id=customer["id"],
        created_at=now - timedelta(days=20),
    )
    mention = public_message(fake.add_mention(customer["id"], "any news?"))
    old_post = fake.add_post(
        OWN_ID,
        "@customer Any day now.",
        reply_to=mention.message_id,
        created_at=now - timedelta(days=20),
    )

    assert adapter.find_sent(dm, "k1", text="Thanks, checking.", since=now) is None
    assert (
        adapter.find_sent(mention, "k2", text="Any day now.", since=now, kind=PUBLIC)
        is None
    )
    found = adapter.find_sent(dm, "k1", text="Thanks, checking.")
    assert found.external_id == old_dm["id"], "no first attempt: any time"
    skewed = adapter.find_sent(
        mention,
        "k2",
        text="Any day now.",
        since=now - timedelta(days=20, seconds=-90),
        kind=PUBLIC,
    )
    assert skewed.external_id == old_post["id"]


# -- polling --------------------------------------------------------------------------
def test_v2_mentions_response(fake):
    fake.respond_next(MENTIONS, load("v2_users_mentions"))
    adapter = make_adapter(fake)
    result = adapter.poll({})

    assert isinstance(result, PollResult)
    assert [e.event_id for e in result.events] == [
        "tweet:1301573587187331072",
        "tweet:1301573587187331074",
    ]
    assert result.cursors["mentions_since_id"] == "1301573587187331074"
    fan, developer = messages_of(adapter, result.events)
    assert fan.author.handle == "fan_account"
    assert fan.parent_id == ""
    assert developer.author.followers_count == 1530
    assert developer.parent_id == "1301573587187331000"
    assert developer.conversation_id == "1301573587187331000"
    assert developer.links == ("https://status.example.com/incidents/77",)
    assert developer.attachments == (
        Attachment(url="https://pbs.twimg.com/media/EhAbCdEfGhIjKl.jpg", kind="image"),
    )
    assert developer.url == "https://x.com/developer/status/1301573587187331074"
    assert result.reads["owned_post"] == 2
    assert result.reads["user"] == 2
    assert {"post:1301573587187331074", "user:1234567890"} <= set(
        result.reads["resource_ids"]
    )


def test_v2_dm_events_response(fake):
    fake.respond_next(DM_EVENTS, load("v2_dm_events"))
    adapter = make_adapter(fake)
    result = adapter.poll({})

    customer_dm, echo = messages_of(adapter, result.events)
    assert customer_dm.kind == PRIVATE
    assert customer_dm.author.handle == "FloodSocial"
    assert customer_dm.conversation_id == "944480690-1111111111111111111"
    assert customer_dm.created_at == datetime(2022, 10, 19, 20, 58, tzinfo=UTC)
    assert customer_dm.attachments[0].kind == "image"
    assert not customer_dm.is_own
    assert echo.is_own
    assert result.cursors["dm_newest_id"] == "1582838499983564807"
    assert result.reads["dm_event"] == 2


def test_polled_and_webhook_posts_share_event_ids(fake):
    fake.respond_next(MENTIONS, load("v2_users_mentions"))
    adapter = make_adapter(fake)
    polled = adapter.poll({}).events[-1]
    tweet = polled.payload["tweet"]
    [pushed] = adapter.split_delivery(
        {
            "data": {
                "event_type": "post.mention.create",
                "filter": {"user_id": OWN_ID},
                "payload": tweet,
                "includes": {"users": polled.payload["includes"]["users"]},
            }
        }
    )
    assert pushed.event_id == polled.event_id
    [from_poll] = adapter.parse_event(polled.payload)
    [from_webhook] = adapter.parse_event(pushed.payload)
    assert from_webhook.author == from_poll.author
    assert from_webhook.thread_key == from_poll.thread_key


def test_polling_pages_and_moves_the_mentions_cursor(fake, customer, monkeypatch):
    monkeypatch.setattr(x_reads, "PAGE_SIZE", 5)
    posted = [fake.add_mention(customer["id"], f"question {n}") for n in range(12)]
    adapter = make_adapter(fake)

    first = adapter.poll({})
    assert [e.event_id for e in first.events] == [f"tweet:{p['id']}" for p in posted]
    pages = fake.requests_to(MENTIONS)
    assert len(pages) == 3
    assert "pagination_token" not in pages[0].query
    assert all("pagination_token" in page.query for page in pages[1:])
    assert first.cursors["mentions_since_id"] == posted[-1]["id"]

    second = adapter.poll(first.cursors)
    assert second.events == []
    assert fake.requests_to(MENTIONS)[-1].query["since_id"] == posted[-1]["id"]
    assert second.cursors == first.cursors

    newer = [fake.add_mention(customer["id"], f"follow-up {n}") for n in range(2)]
    third = adapter.poll(second.cursors)
    assert [e.event_id for e in third.events] == [f"tweet:{p['id']}" for p in newer]
    assert third.cursors["mentions_since_id"] == newer[-1]["id"]


def test_dm_polling_stops_at_the_newest_seen_event(fake, customer, monkeypatch):
    monkeypatch.setattr(x_reads, "PAGE_SIZE", 5)
    sent = [fake.add_dm(customer["id"], f"message {n}") for n in range(7)]
    adapter = make_adapter(fake)

    first = adapter.poll({})
    assert [e.event_id for e in first.events] == [f"dm:{e['id']}" for e in sent]
    assert len(fake.requests_to(DM_EVENTS)) == 2
    assert first.cursors["dm_newest_id"] == sent[-1]["id"]

    newer = [fake.add_dm(customer["id"], f"again {n}") for n in range(2)]
    second = adapter.poll(first.cursors)
    assert [e.event_id for e in second.events] == [f"dm:{e['id']}" for e in newer]
    assert len(fake.requests_to(DM_EVENTS)) == 3  # one page was enough
    assert second.cursors["dm_newest_id"] == newer[-1]["id"]
    assert second.reads["dm_event"] == 5  # X bills the whole page it returned


def test_app_only_token_polls_mentions_but_not_dms(fake, customer):
    fake.add_mention(customer["id"], "hello")
    fake.add_dm(customer["id"], "hello privately")
    adapter = make_adapter(
        fake, access_token=None, access_token_secret=None, bearer_token="app-token"
    )
    result = adapter.poll({})
    assert len(result.events) == 1
    assert fake.requests_to(DM_EVENTS) == []
    [request] = fake.requests_to(MENTIONS)
    assert request.headers["authorization"] == "Bearer app-token"


def test_oauth2_user_token_polls_dms_too(fake, customer):
    fake.add_dm(customer["id"], "hello privately")
    adapter = make_adapter(
        fake,
        access_token=None,
        access_token_secret=None,
        oauth2_user_token="user-token",
    )
    [event] = adapter.poll({}).events
    assert event.event_id.startswith("dm:")
    [request] = fake.requests_to(DM_EVENTS)
    assert request.headers["authorization"] == "Bearer user-token"


# -- robustness ----------------------------------------------------------------------
KEYS = st.sampled_from(
    [
        "data",
        "event_type",
        "payload",
        "includes",
        "users",
        "filter",
        "user_id",
        "for_user_id",
        "tweet_create_events",
        "direct_message_events",
        "tweet_delete_events",
        "favorite_events",
        "user_event",
        "id",
        "id_str",
        "text",
        "author_id",
        "source",
        "tweet",
        "dm_event",
        "message_create",
        "sender_id",
        "target",
        "recipient_id",
        "type",
        "created_at",
        "created_timestamp",
        "referenced_tweets",
        "entities",
        "urls",
        "user",
        "extended_tweet",
        "status",
        "lang",
        "note_tweet",
        "attachments",
        "media",
        "media_keys",
        "public_metrics",
        "followers_count",
        "username",
    ]
) | st.text(max_size=4)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "post.mention.create",
            "post.delete",
            "dm.received",
            "message_create",
            "MessageCreate",
            "x_v2_tweet",
            "x_v2_dm_event",
            "x_v1_tweet",
            "x_v1_dm_event",
            "x_tweet_delete",
            "x_other",
            "replied_to",
            "retweeted",
            "2026-07-24T21:23:23.000Z",
            "Thu May 10 17:41:57 +0000 2018",
            "123",
            "1784928224372",
        ]
    )
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=30,
)
FIXTURES = ["xaa_post_reply_create", "xaa_dm_received", "aaa_direct_message_events"]


def locations(document, prefix=()):
    """Every place in a JSON document, as a tuple of keys and indexes."""
    if isinstance(document, dict):
        items = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from locations(item, (*prefix, key))


def replaced(document, location, value):
    """A copy of ``document`` with ``value`` at ``location``."""
    if not location:
        return value
    changed = copy.copy(document)
    changed[location[0]] = replaced(document[location[0]], location[1:], value)
    return changed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_payloads_give_messages_or_typed_errors(data):
    """Whatever arrives, the adapter answers with a list or an AdapterError."""
    adapter = make_adapter()
    if data.draw(st.booleans()):
        body = load_once(data.draw(st.sampled_from(FIXTURES)))
        spots = data.draw(st.lists(st.sampled_from(list(locations(body))), max_size=3))
        # Deepest first, so that no replacement removes a later one's place.
        for spot in sorted(spots, key=len, reverse=True):
            body = replaced(body, spot, data.draw(JSONISH))
    else:
        body = data.draw(JSONISH)
    events = []
    with contextlib.suppress(AdapterError):
        events = adapter.split_delivery(body)
        assert isinstance(events, list)
    for payload in [event.payload for event in events] + [body]:
        with contextlib.suppress(AdapterError):
            assert isinstance(adapter.parse_event(payload), list)
