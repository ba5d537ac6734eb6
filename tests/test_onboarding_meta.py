"""MetaAdapter onboarding over real HTTP against FakeMetaServer: the
connection report, webhook registration and backfill."""

from datetime import datetime, timedelta

import pytest
from meta_samples import (
    COMMENT_ID,
    IG_COMMENT_ID,
    IGSID,
    JANE,
    MEDIA_ID,
    MID,
    PAGE_ID,
    POST_ID,
    PSID,
    UTC,
    at,
    load,
)

from social_helpdesk.adapters.base import (
    AdapterError,
    AuthError,
    NotSupported,
    RateLimited,
    WebhookRejected,
    hmac_sha256,
)
from social_helpdesk.adapters.meta import MetaAdapter
from social_helpdesk.adapters.meta.versions import DEFAULT_GRAPH_VERSION
from social_helpdesk.tests.fakes.callback_server import CallbackServer
from social_helpdesk.tests.fakes.fake_meta import FakeMetaServer, Fault

NOW = datetime(2025, 3, 23, 12, 0, tzinfo=UTC)
APP_ID = "1517776481860111"
URL = "https://helpdesk.example.com/social_helpdesk/webhook/meta/token"


@pytest.fixture
def meta():
    with FakeMetaServer() as server:
        yield server


def graph_adapter(meta, **config):
    return MetaAdapter(meta.config(timeout=2, **config), clock=lambda: NOW)


@pytest.fixture
def graph(meta):
    return graph_adapter(meta)


def no_secret_in(message, meta):
    for secret in (meta.app_secret, meta.access_token, meta.app_access_token):
        assert secret not in message


def drain(adapter, source, since):
    pages, cursor = [], None
    while True:
        page = adapter.backfill(source, since, cursor)
        pages.append(page)
        cursor = page.cursors.get("next")
        if not cursor:
            return pages


# -- connection -----------------------------------------------------------------
def test_connection_labels_the_page_and_keeps_its_report(meta, graph):
    meta.granted_scopes.remove("pages_messaging")
    meta.granted_scopes.remove("instagram_manage_messages")

    info = graph.test_connection()

    assert info["label"] == info["page_name"] == "Acme Support"
    assert info["missing"] == ["pages_messaging", "instagram_manage_messages"]
    assert "pages_read_engagement" in info["granted"]
    assert info["scopes_known"] is True
    assert info["app_id"] == APP_ID
    assert "pages_messaging" in info["required"]
    assert "reconnect the page" in info["detail"]
    assert info["subscribed"] is False


def test_connection_with_every_permission(meta):
    info = graph_adapter(meta, instagram_account_id="").test_connection()
    assert info["missing"] == []
    assert "instagram_basic" not in info["required"]
    assert "every permission" in info["detail"]


# -- webhook registration ---------------------------------------------------------
def test_register_webhook_sets_the_app_callback_then_subscribes_the_page(meta, graph):
    done = graph.register_webhook(URL)

    assert done == (
        f"Set {URL} as the Meta app's webhook, and subscribed the page to it."
    )
    calls = meta.requests_to("POST subscriptions")
    assert [call.body for call in calls] == [
        {
            "object": "page",
            "callback_url": URL,
            "verify_token": "fake-verify-token",
            "fields": "feed,messages",
        },
        {
            "object": "instagram",
            "callback_url": URL,
            "verify_token": "fake-verify-token",
            "fields": "comments,messages",
        },
    ]
    for call in calls:
        assert call.path == f"/{DEFAULT_GRAPH_VERSION}/{APP_ID}/subscriptions"
        assert call.headers["Authorization"] == f"Bearer {meta.app_access_token}"
        assert "access_token" not in call.query  # kept out of logged URLs
        assert call.query["appsecret_proof"] == (
            hmac_sha256(meta.app_secret, meta.app_access_token).hex()
        )
    assert meta.app_subscriptions["page"]["callback_url"] == URL
    assert meta.subscribed_fields == ["feed", "messages"]
    assert graph.test_connection()["subscribed"]


def test_register_webhook_without_instagram_sets_the_page_object_only(meta):
    graph_adapter(meta, instagram_account_id="").register_webhook(URL)
    assert list(meta.app_subscriptions) == ["page"]


def test_register_webhook_takes_the_configured_app_id(meta):
    graph_adapter(meta, app_id=APP_ID).register_webhook(URL)
    assert meta.requests_to("GET debug_token") == []


def test_register_webhook_passes_meta_verification(meta):
    meta.verify_callbacks = True
    adapter = graph_adapter(meta)
    with CallbackServer(adapter.handshake) as callback:
        adapter.register_webhook(callback.url)
        assert callback.requests[0]["hub.verify_token"] == "fake-verify-token"
    assert meta.app_subscriptions["page"]["callback_url"] == callback.url


def test_a_failed_verification_is_a_rejected_webhook(meta):
    meta.verify_callbacks = True
    adapter = graph_adapter(meta)
    other = graph_adapter(meta, verify_token="another-token")
    with CallbackServer(other.handshake) as callback:
        with pytest.raises(WebhookRejected, match="could not verify") as caught:
            adapter.register_webhook(callback.url)
    assert caught.value.reason == "callback_verification_failed"
    assert meta.app_subscriptions == {}
    assert meta.subscribed_fields == []  # the page is not subscribed either
    no_secret_in(str(caught.value), meta)


def test_meta_refusing_the_url_is_a_rejected_webhook(meta, graph):
    meta.fail_next(
        "POST subscriptions",
        Fault.graph_error(100, "(#100) callback_url must be a valid URL"),
    )
    with pytest.raises(WebhookRejected, match="must be a valid URL") as caught:
        graph.register_webhook("ftp://nowhere")
    assert caught.value.reason == "invalid_parameter"


def test_a_wrong_app_secret_is_reported_in_plain_words(meta):
    adapter = graph_adapter(meta, app_id=APP_ID, app_secret="not-the-secret")
    # appsecret_proof of page calls would fail too: only the app call runs first.
    with pytest.raises(AuthError, match="check the app secret") as caught:
        adapter.register_webhook(URL)
    assert "not-the-secret" not in str(caught.value)
    no_secret_in(str(caught.value), meta)


def test_without_an_app_secret_the_page_is_subscribed_and_the_url_is_manual(meta):
    meta.app_secret = ""  # the fake then asks for no appsecret_proof
    adapter = graph_adapter(meta, app_secret="")
    with pytest.raises(NotSupported) as caught:
        adapter.register_webhook(URL)
    message = str(caught.value)
    assert message.startswith("Subscribed the page.")
    assert f"enter {URL} and the verify token in the Meta app dashboard" in message
    assert meta.requests_to("POST subscriptions") == []
    assert meta.subscribed_fields == ["feed", "messages"]


def test_register_webhook_needs_a_verify_token(meta):
    with pytest.raises(AdapterError, match="no verify token"):
        graph_adapter(meta, verify_token="").register_webhook(URL)
    assert meta.requests == []


def test_register_webhook_page_failures_are_typed(meta, graph):
    meta.fail_next("POST subscribed_apps", Fault.graph_error(190))
    with pytest.raises(AuthError, match="reconnect the page"):
        graph.register_webhook(URL)
    meta.fail_next("POST subscriptions", Fault.graph_error(4))
    with pytest.raises(RateLimited):
        graph.register_webhook(URL)


def test_the_fake_refuses_the_page_token_on_app_edges(meta, graph):
    with pytest.raises(AdapterError, match="app access_token"):
        graph._call("POST", f"{APP_ID}/subscriptions", data={"object": "page"})


# -- backfill -------------------------------------------------------------------------
def test_backfill_sources(meta, graph):
    assert graph.backfill_sources() == (
        "feed",
        "messenger",
        "instagram_comments",
        "instagram_dm",
    )
    adapter = graph_adapter(meta, instagram_account_id="")
    assert adapter.backfill_sources() == ("feed", "messenger")
    assert graph.estimate_backfill(NOW) is None


def test_backfill_feed_pages_until_a_page_before_since(meta, graph):
    graph.poll_page_size = 2
    for number in range(5):
        meta.add_post(
            f"{PAGE_ID}_{number}", f"post {number}", NOW - timedelta(hours=number)
        )
    meta.add_comment(
        "4_1", f"{PAGE_ID}_4", "late comment", NOW - timedelta(hours=1), JANE
    )
    for number in range(5, 11):
        meta.add_post(f"{PAGE_ID}_{number}", f"old {number}", NOW - timedelta(days=9))

    pages = drain(graph, "feed", NOW - timedelta(days=2))

    ids = [event.event_id for page in pages for event in page.events]
    assert sorted(ids) == sorted(
        [f"feed:{PAGE_ID}_{number}:add" for number in range(5)] + ["feed:4_1:add"]
    )
    # Pages 1-3 hold the 5 recent posts; page 4 only old ones: paging stops.
    assert [r.query.get("after") for r in meta.requests_to("GET feed")] == [
        None,
        "2",
        "4",
        "6",
    ]
    assert [page.cursors for page in pages] == [
        {"next": "2"},
        {"next": "4"},
        {"next": "6"},
        {},
    ]
    assert all(page.reads == {} for page in pages)


def test_backfill_conversations_follow_cursors(meta, graph):
    graph.poll_page_size = 2
    for number in range(5):
        meta.add_message(
            "messenger",
            {"id": f"9{number}", "name": f"Customer {number}"},
            f"m_{number}",
            f"hello {number}",
            NOW - timedelta(hours=number),
        )
    meta.add_message(
        "messenger", {"id": "99", "name": "Old"}, "m_old", "hi", NOW - timedelta(30)
    )

    pages = drain(graph, "messenger", NOW - timedelta(days=1))

    ids = {event.event_id for page in pages for event in page.events}
    assert ids == {f"msg:m_{number}" for number in range(5)}
    assert pages[-1].cursors == {}
    assert {r.query["platform"] for r in meta.requests_to("GET conversations")} == {
        "messenger"
    }


def test_backfill_ids_are_those_of_webhooks_and_polling(meta, graph):
    meta.add_post(POST_ID, "Spring sale!", at(1742660000))
    meta.add_comment(
        COMMENT_ID, POST_ID, "My order never arrived.", at(1742667604), JANE
    )
    meta.add_message(
        "messenger", {"id": PSID, "name": "Jane Doe"}, MID, "Hi", at(1742671000)
    )
    meta.add_media(MEDIA_ID, at(1742600000))
    meta.add_instagram_comment(
        IG_COMMENT_ID,
        MEDIA_ID,
        "Is the blue one back in stock?",
        at(1742672000),
        {"id": "17841401234567890", "username": "jane.doe"},
    )
    ig_mid = load("instagram_dm")["entry"][0]["messaging"][0]["message"]["mid"]
    meta.add_message(
        "instagram", {"id": IGSID, "username": "sam.rivera"}, ig_mid, "Hi", NOW
    )
    since = at(1742600000)

    backfilled = {
        event.event_id: event
        for source in graph.backfill_sources()
        for page in drain(graph, source, since)
        for event in page.events
    }
    polled = {event.event_id: event for event in graph.poll({}).events}

    for name in (
        "feed_comment_add",
        "messenger_text",
        "instagram_comment",
        "instagram_dm",
    ):
        (webhook_event,) = graph.split_delivery(load(name))
        assert webhook_event.event_id in backfilled, name
        assert backfilled[webhook_event.event_id].payload == (
            polled[webhook_event.event_id].payload
        )


def test_backfill_refuses_unknown_sources_and_naive_times(meta):
    adapter = graph_adapter(meta, instagram_account_id="")
    with pytest.raises(ValueError):
        adapter.backfill("instagram_dm", NOW)
    with pytest.raises(ValueError):
        adapter.backfill("feed", datetime(2025, 3, 1))
    assert meta.requests == []
