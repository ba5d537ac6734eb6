"""MetaAdapter against Meta as of late 2026, without Odoo: deliveries in the
current shapes (tests/payloads/meta, after Meta's documented examples), the
Graph API versions table, ad-started threads, automatic replies, Instagram
Login and the recovery of a missed window against the fake Graph API."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from meta_samples import IG_ID, IGSID, PAGE_ID, PSID, UTC, load

from social_helpdesk.adapters.base import (
    PRIVATE,
    Author,
    SignatureError,
    SocialMessage,
    WindowClosed,
    hmac_sha256,
)
from social_helpdesk.adapters.meta import MetaAdapter
from social_helpdesk.adapters.meta.versions import (
    DEFAULT_GRAPH_VERSION,
    GRAPH_VERSIONS,
    version_end,
    version_warning,
)
from social_helpdesk.tests.fakes.fake_meta import FakeMetaServer

CONFIG = {
    "page_id": PAGE_ID,
    "page_access_token": "fake-page-token",
    "app_secret": "fake-app-secret",
    "instagram_account_id": IG_ID,
}
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def adapter():
    return MetaAdapter(dict(CONFIG), clock=lambda: NOW)


@pytest.fixture
def fake():
    with FakeMetaServer() as server:
        yield server


def parsed(adapter, name):
    (event,) = adapter.split_delivery(load(name))
    return adapter.parse_event(event.payload)


# -- versions -------------------------------------------------------------------
def test_default_version_is_the_newest_released():
    assert DEFAULT_GRAPH_VERSION == "v27.0"
    released = max(GRAPH_VERSIONS.items(), key=lambda item: item[1][0])
    assert released[0] == DEFAULT_GRAPH_VERSION
    assert MetaAdapter({}).graph_url == "https://graph.facebook.com/v27.0"


def test_version_end_dates_are_meta_s():
    assert version_end("v23.0") == date(2027, 10, 8)
    assert version_end("v25.0") == date(2028, 7, 29)
    assert version_end("v27.0") is None  # not announced


@pytest.mark.parametrize(
    ("version", "today", "expected"),
    [
        ("v23.0", date(2026, 12, 1), None),  # 311 days left
        ("v23.0", date(2027, 8, 1), (date(2027, 10, 8), 68)),
        ("v21.0", date(2026, 12, 1), (date(2027, 1, 21), 51)),
        ("v20.0", date(2026, 12, 1), (date(2026, 9, 24), -68)),  # ended
        ("v17.0", date(2026, 12, 1), (None, 0)),  # older than the table
        ("v27.0", date(2026, 12, 1), None),
        ("v31.0", date(2026, 12, 1), None),  # newer than the table
        ("", date(2026, 12, 1), None),
    ],
)
def test_version_warning(version, today, expected):
    assert version_warning(version, today) == expected


# -- parsing ---------------------------------------------------------------------
def test_sticker_reads_as_a_sticker_once(adapter):
    (message,) = parsed(adapter, "messenger_sticker")
    assert message.text == "[Sticker]"
    (attachment,) = message.attachments  # the transition's image copy dropped
    assert attachment.kind == "image"
    assert attachment.name == "Sticker"
    assert attachment.url.endswith("759568595_n.png")


def test_ig_post_share_links_the_post(adapter):
    (message,) = parsed(adapter, "instagram_ig_post")
    url = "https://www.instagram.com/p/DAbCdEfGhIj/"
    assert message.text == f"[Shared post] {url}"
    assert message.url == url
    assert message.links == (url,)
    assert [(a.kind, a.name) for a in message.attachments] == [("link", "Shared post")]


def test_story_mention_links_the_story(adapter):
    (message,) = parsed(adapter, "instagram_story_mention")
    assert message.text.startswith("[Story mention] https://lookaside.fbsbx.com/")
    assert message.url.startswith("https://lookaside.fbsbx.com/")
    assert message.attachments[0].name == "Story"
    assert message.author.external_id == IGSID


def test_story_reply_keeps_the_text_and_links_the_story(adapter):
    (message,) = parsed(adapter, "instagram_story_reply")
    assert message.text == "Do you ship to Porto?"
    assert "asset_id=17920000000000002" in message.url
    assert message.parent_id == ""  # a story is not a message of the thread
    assert [a.name for a in message.attachments] == ["Story"]


def test_first_message_from_an_ad_is_marked(adapter):
    (message,) = parsed(adapter, "messenger_referral_ads")
    assert message.from_ad
    assert message.text == "Is the sale still on?"
    (plain,) = parsed(adapter, "messenger_text")
    assert not plain.from_ad


def test_messaging_referral_from_an_ad_opens_the_thread(adapter):
    (message,) = parsed(adapter, "messaging_referrals_ads")
    assert message.from_ad
    assert message.kind == PRIVATE
    assert message.conversation_id == PSID
    assert message.text == "[Opened from an ad] Spring sale"
    assert parsed(adapter, "messaging_referrals_shortlink") == []


def test_referral_event_ids_are_stable(adapter):
    first = adapter.split_delivery(load("messaging_referrals_ads"))
    again = adapter.split_delivery(load("messaging_referrals_ads"))
    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_entries_of_two_pages_are_addressed_to_each(adapter):
    events = adapter.split_delivery(load("delivery_two_pages"))
    assert [event.recipient_id for event in events] == [PAGE_ID, "551000000000001"]
    other = MetaAdapter({**CONFIG, "page_id": "551000000000001"})
    (message,) = other.parse_event(events[1].payload)
    assert message.text == "Hola página dos"


# -- windows -----------------------------------------------------------------------
def dm(created_at, from_ad=False):
    return SocialMessage(
        channel="messenger",
        kind=PRIVATE,
        message_id="m_1",
        conversation_id=PSID,
        author=Author(external_id=PSID),
        created_at=created_at,
        from_ad=from_ad,
    )


def test_ad_threads_keep_seven_days(adapter):
    sent = NOW - timedelta(days=3)
    assert adapter.window_closes_at(dm(sent), PRIVATE) == sent + timedelta(hours=24)
    assert adapter.window_closes_at(dm(sent, True), PRIVATE) == sent + timedelta(7)
    adapter.check_reply(dm(sent, True), PRIVATE, NOW)
    adapter.check_reply(dm(sent, True), PRIVATE, NOW, automatic=True)
    with pytest.raises(WindowClosed, match="started from an ad"):
        adapter.check_reply(dm(NOW - timedelta(days=8), True), PRIVATE, NOW)


def test_automatic_replies_get_no_human_agent_window():
    adapter = MetaAdapter({**CONFIG, "human_agent_tag": True}, clock=lambda: NOW)
    sent = NOW - timedelta(hours=30)
    assert adapter.window_closes_at(dm(sent), PRIVATE) == sent + timedelta(days=7)
    closes = adapter.window_closes_at(dm(sent), PRIVATE, automatic=True)
    assert closes == sent + timedelta(hours=24)
    with pytest.raises(WindowClosed, match="automatic replies"):
        adapter.check_reply(dm(sent), PRIVATE, NOW, automatic=True)


def test_sending_uses_the_tag_for_humans_only(fake):
    now = datetime.now(UTC)
    customer = {"id": PSID, "name": "Jane"}
    fake.add_message("messenger", customer, "m_1", "Hello?", now - timedelta(hours=30))
    adapter = MetaAdapter(fake.config(human_agent_tag=True))
    message = dm(now - timedelta(hours=30))
    with pytest.raises(WindowClosed):
        adapter.send_reply(message, "Auto", PRIVATE, "k1", automatic=True)
    assert not fake.requests_to("POST messages")
    adapter.send_reply(message, "Sorry for the wait", PRIVATE, "k2")
    [request] = fake.requests_to("POST messages")
    assert request.body["tag"] == "HUMAN_AGENT"
    # In a thread from an ad, the same message is inside the standard window.
    adapter.send_reply(replace(message, from_ad=True), "Still on", PRIVATE, "k3")
    assert fake.requests_to("POST messages")[-1].body["messaging_type"] == "RESPONSE"


# -- Instagram Login ------------------------------------------------------------------
def test_instagram_login_uses_graph_instagram_com():
    adapter = MetaAdapter(
        {
            "connection": "instagram_login",
            "instagram_account_id": IG_ID,
            "instagram_access_token": "IGAA-token",
        }
    )
    assert adapter.graph_url == "https://graph.instagram.com/v27.0"
    assert adapter.messaging_owner_id == IG_ID
    assert adapter.required_permissions() == (
        "instagram_business_basic",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
    )
    assert adapter.backfill_sources() == ("instagram_comments", "instagram_dm")


def test_instagram_login_webhooks_are_signed_with_the_instagram_secret(fake):
    config = fake.instagram_login_config()
    secret, recipients = MetaAdapter.webhook_identity(config)
    assert secret == fake.instagram_app_secret
    assert recipients == frozenset({fake.instagram_account_id})
    adapter = MetaAdapter(config)
    raw = b'{"object":"instagram","entry":[]}'
    good = "sha256=" + hmac_sha256(fake.instagram_app_secret, raw).hex()
    adapter.verify_signature(raw, {"X-Hub-Signature-256": good})
    page_signed = "sha256=" + hmac_sha256(fake.app_secret, raw).hex()
    with pytest.raises(SignatureError):
        adapter.verify_signature(raw, {"X-Hub-Signature-256": page_signed})


def test_instagram_login_connects_and_answers(fake):
    adapter = MetaAdapter(fake.instagram_login_config())
    info = adapter.test_connection()
    assert info["label"] == "@acme"
    assert info["scopes_known"] is False
    assert adapter.subscribe_app()
    assert adapter.test_connection()["subscribed"]
    now = datetime.now(UTC)
    customer = {"id": IGSID, "username": "jane.doe"}
    fake.add_message("instagram", customer, "aWdf_1", "Hi", now)
    message = SocialMessage(
        channel="instagram",
        kind=PRIVATE,
        message_id="aWdf_1",
        conversation_id=IGSID,
        author=Author(external_id=IGSID),
        created_at=now,
    )
    sent = adapter.send_reply(message, "Hello Jane", PRIVATE, "k")
    [request] = fake.requests_to("POST messages")
    assert (
        request.path == f"/{DEFAULT_GRAPH_VERSION}/{fake.instagram_account_id}/messages"
    )
    assert request.headers["Authorization"] == f"Bearer {fake.instagram_token}"
    assert "appsecret_proof" not in request.query
    assert adapter.find_sent(message, "k", text="Hello Jane").external_id == (
        sent.external_id
    )


def test_instagram_login_polls_the_instagram_account_only(fake):
    adapter = MetaAdapter(fake.instagram_login_config())
    fake.add_message(
        "instagram", {"id": IGSID, "username": "jane"}, "aWdf_2", "Hey", NOW
    )
    result = adapter.poll({}, start=NOW - timedelta(hours=1))
    assert [event.event_id for event in result.events] == ["msg:aWdf_2"]
    assert not fake.requests_to("GET feed")


# -- recovery --------------------------------------------------------------------------
def test_recover_window_reads_every_page_of_the_window(fake):
    """A two-hour outage with more posts than a poll reads: every item of
    the window comes back, none from after it, and again with the same ids."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=2)
    for number in range(180):  # 8 pages of 25, past poll_max_pages
        created = end - timedelta(seconds=40 * number)
        fake.add_post(f"{PAGE_ID}_{number}", f"Post {number}", created)
    fake.add_post(f"{PAGE_ID}_late", "After", end + timedelta(minutes=5))
    fake.add_post(f"{PAGE_ID}_old", "Before", start - timedelta(minutes=5))
    adapter = MetaAdapter(fake.config())
    result = adapter.recover_window(start, end)
    ids = sorted(event.event_id for event in result.events)
    assert ids == sorted(f"feed:{PAGE_ID}_{number}:add" for number in range(180))
    again = adapter.recover_window(start, end)
    assert sorted(event.event_id for event in again.events) == ids
