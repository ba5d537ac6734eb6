"""XAdapter onboarding over real HTTP against FakeXServer: what the
credentials may do, webhook registration, backfill and its cost estimate."""

from datetime import datetime, timedelta, timezone

import pytest

from social_helpdesk.adapters.base import (
    AdapterError,
    AuthError,
    NotSupported,
    RateLimited,
    TransientError,
    WebhookRejected,
)
from social_helpdesk.adapters.x import XAdapter
from social_helpdesk.adapters.x import reads as x_reads
from social_helpdesk.tests.fakes.callback_server import CallbackServer
from social_helpdesk.tests.fakes.fake_x import (
    COUNTS,
    CREATE_WEBHOOK,
    DM_EVENTS,
    ME,
    MENTIONS,
    SUBSCRIBE,
    SUBSCRIPTION,
    TOKEN,
    USER_BY_USERNAME,
    VALIDATE_WEBHOOK,
    WEBHOOKS,
    FakeXServer,
)

UTC = timezone.utc
OWN_ID = "1111111111111111111"
SECRET = "consumer-secret-of-the-app"
ACCESS_TOKEN = "access-token-1a2b3c"
ACCESS_SECRET = "access-token-secret-4d5e6f"
URL = "https://helpdesk.example.com/social_helpdesk/webhook/x/token"
ALL_SCOPES = ["tweet.read", "tweet.write", "dm.read", "dm.write"]


@pytest.fixture
def fake():
    with FakeXServer(me_id=OWN_ID) as server:
        yield server


@pytest.fixture
def customer(fake):
    return fake.add_user("2001", "customer", "A Customer")


def make_adapter(fake, **overrides):
    config = {
        "user_id": OWN_ID,
        "username": "HelpdeskBrand",
        "api_key": "consumer-key",
        "api_secret": SECRET,
        "access_token": ACCESS_TOKEN,
        "access_token_secret": ACCESS_SECRET,
        "api_base_url": fake.base_url,
        "timeout": 2,
        "webhook_product": "aaa",  # these tests are the legacy flow's
        **overrides,
    }
    return XAdapter({key: value for key, value in config.items() if value})


def app_only(fake, **overrides):
    return make_adapter(
        fake,
        access_token=None,
        access_token_secret=None,
        bearer_token=fake.app_bearer_token,
        **overrides,
    )


def oauth2_user(fake, **overrides):
    return make_adapter(
        fake,
        access_token=None,
        access_token_secret=None,
        oauth2_user_token="u-tok",
        **overrides,
    )


def no_credential_in(message, fake):
    for secret in (SECRET, ACCESS_TOKEN, ACCESS_SECRET, fake.app_bearer_token):
        assert secret not in message


def drain(adapter, source, since):
    """Every page of a backfill, as the Odoo side calls it."""
    pages, cursor = [], None
    while True:
        page = adapter.backfill(source, since, cursor)
        pages.append(page)
        cursor = page.cursors.get("next")
        if not cursor:
            return pages


def ago(**delta):
    return datetime.now(UTC) - timedelta(**delta)


# -- permissions per credential type ------------------------------------------------
def test_oauth1_reports_the_access_level_of_its_token(fake):
    info = make_adapter(fake).test_connection()

    assert info["user_id"] == OWN_ID
    assert info["username"] == "HelpdeskBrand"
    assert info["name"] == "Helpdesk Brand"
    assert info["label"] == "@HelpdeskBrand"
    assert info["credentials"] == "oauth1"
    assert info["access_level"] == "read-write-directmessages"
    assert info["granted"] == ALL_SCOPES
    assert info["missing"] == []
    assert info["scopes_known"] is True
    [request] = fake.requests_to(ME)  # one call: the header comes with it
    assert request.headers["authorization"].startswith("OAuth ")


@pytest.mark.parametrize(
    ("level", "granted", "missing"),
    [
        ("read", ["tweet.read"], ["tweet.write", "dm.read", "dm.write"]),
        ("read-write", ["tweet.read", "tweet.write"], ["dm.read", "dm.write"]),
    ],
)
def test_oauth1_with_less_permission_lists_what_is_missing(
    fake, level, granted, missing
):
    fake.access_level = level
    info = make_adapter(fake).test_connection()
    assert (info["granted"], info["missing"]) == (granted, missing)
    assert "Read and write and Direct message" in info["detail"]
    assert "regenerate the access token" in info["detail"]


def test_oauth1_without_the_header_is_unknown_not_guessed(fake):
    fake.access_level = None
    info = make_adapter(fake).test_connection()
    assert info["scopes_known"] is False
    assert info["granted"] == info["missing"] == []


def test_oauth2_user_token_scopes_are_reported_unknown(fake):
    info = oauth2_user(fake).test_connection()
    assert info["credentials"] == "oauth2_user"
    assert info["scopes_known"] is False
    assert info["granted"] == info["missing"] == []
    assert info["required"] == ALL_SCOPES
    assert "dm.write" in info["detail"]
    [request] = fake.requests_to(ME)
    assert request.headers["authorization"] == "Bearer u-tok"


def test_app_only_token_looks_the_account_up_and_cannot_write(fake):
    info = app_only(fake).test_connection()
    assert info["user_id"] == OWN_ID
    assert info["label"] == "@HelpdeskBrand"
    assert info["credentials"] == "app_only"
    assert info["granted"] == ["tweet.read"]
    assert info["missing"] == ["tweet.write", "dm.read", "dm.write"]
    assert info["scopes_known"] is True
    assert fake.requests_to(ME) == []  # X refuses /2/users/me to an app token
    [request] = fake.requests_to(USER_BY_USERNAME)
    assert request.path == "/2/users/by/username/HelpdeskBrand"


def test_app_only_token_needs_the_username(fake):
    with pytest.raises(AdapterError, match="enter the account's username"):
        app_only(fake, username=None).test_connection()


def test_unknown_username_is_a_plain_error(fake):
    with pytest.raises(AdapterError, match="Could not find user with username"):
        app_only(fake, username="nobody_here").test_connection()


# -- webhook registration ---------------------------------------------------------
def test_register_webhook_creates_it_and_subscribes_the_account(fake):
    done = make_adapter(fake, bearer_token=fake.app_bearer_token).register_webhook(URL)

    [webhook] = fake.webhooks.values()
    assert webhook["url"] == URL
    assert fake.subscriptions[webhook["id"]] == {OWN_ID}
    assert done == (
        f"Registered {URL} as the app's webhook with X, and subscribed "
        "@HelpdeskBrand to it."
    )
    [create] = fake.requests_to(CREATE_WEBHOOK)
    assert create.json == {"url": URL}
    assert create.headers["authorization"] == f"Bearer {fake.app_bearer_token}"
    [subscribe] = fake.requests_to(SUBSCRIBE)
    assert subscribe.path == (
        f"/2/account_activity/webhooks/{webhook['id']}/subscriptions/all"
    )
    assert subscribe.headers["authorization"].startswith("OAuth ")


def test_register_webhook_reuses_the_one_registered_for_the_url(fake):
    webhook = fake.add_webhook(URL)
    done = make_adapter(fake, bearer_token=fake.app_bearer_token).register_webhook(URL)
    assert fake.requests_to(CREATE_WEBHOOK) == []
    assert fake.subscriptions[webhook["id"]] == {OWN_ID}
    assert "already registered" in done and "subscribed @HelpdeskBrand" in done


def test_register_webhook_twice_changes_nothing(fake):
    webhook = fake.add_webhook(URL, subscribed=[OWN_ID])
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    done = adapter.register_webhook(URL)
    assert "already subscribed" in done
    assert fake.requests_to(CREATE_WEBHOOK) == fake.requests_to(SUBSCRIBE) == []
    assert list(fake.webhooks) == [webhook["id"]]


def test_register_webhook_rechecks_a_webhook_x_marked_invalid(fake):
    webhook = fake.add_webhook(URL, valid=False)
    make_adapter(fake, bearer_token=fake.app_bearer_token).register_webhook(URL)
    [put] = fake.requests_to(VALIDATE_WEBHOOK)
    assert put.path == f"/2/webhooks/{webhook['id']}"
    assert fake.webhooks[webhook["id"]]["valid"] is True


def test_a_failed_recheck_is_a_rejected_webhook(fake):
    fake.add_webhook(URL, valid=False)
    fake.crc_passes = False
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with pytest.raises(WebhookRejected) as caught:
        adapter.register_webhook(URL)
    assert caught.value.reason == "crcvalidationfailed"
    assert fake.requests_to(SUBSCRIBE) == []


def test_register_webhook_gets_the_app_token_from_the_key_and_secret(fake):
    fake.consumer_key, fake.consumer_secret = "consumer-key", SECRET
    make_adapter(fake).register_webhook(URL)
    [token] = fake.requests_to(TOKEN)
    assert token.headers["authorization"].startswith("Basic ")
    assert token.form == {"grant_type": "client_credentials"}
    [listing] = fake.requests_to(WEBHOOKS)
    assert listing.headers["authorization"] == f"Bearer {fake.app_bearer_token}"


def test_register_webhook_reports_a_wrong_app_secret(fake):
    fake.consumer_key, fake.consumer_secret = "consumer-key", "another-secret"
    with pytest.raises(AuthError, match="refused the app's API key and secret") as e:
        make_adapter(fake).register_webhook(URL)
    no_credential_in(str(e.value), fake)
    assert fake.webhooks == {}


def test_register_webhook_accepts_the_unwrapped_creation_answer(fake):
    # X's reference shows the webhook config at the top level; live answers
    # wrap it in "data". Both are read.
    existing = fake.add_webhook("https://elsewhere.example.com/hook")
    fake.respond_next(CREATE_WEBHOOK, {**existing, "url": URL})
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    adapter.register_webhook(URL)
    assert fake.subscriptions[existing["id"]] == {OWN_ID}


def test_register_webhook_passes_a_real_crc_check(fake):
    fake.crc_secret = SECRET
    fake.allow_insecure_urls = True  # loopback: http and a port
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with CallbackServer(adapter.handshake) as callback:
        adapter.register_webhook(callback.url)
        assert len(callback.requests) == 1
        assert "crc_token" in callback.requests[0]
    [webhook] = fake.webhooks.values()
    assert webhook["url"] == callback.url


def test_a_wrong_crc_answer_is_a_rejected_webhook(fake):
    fake.crc_secret = SECRET
    fake.allow_insecure_urls = True
    wrong = make_adapter(fake, api_secret="not-the-consumer-secret")
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with CallbackServer(wrong.handshake) as callback:
        with pytest.raises(WebhookRejected) as caught:
            adapter.register_webhook(callback.url)
    assert caught.value.reason == "crcvalidationfailed"
    assert "did not answer X's security check" in str(caught.value)
    assert fake.webhooks == {} and fake.requests_to(SUBSCRIBE) == []


@pytest.mark.parametrize(
    ("setup", "url", "reason", "words"),
    [
        (
            lambda fake: setattr(fake, "crc_passes", False),
            URL,
            "crcvalidationfailed",
            "could not verify the webhook URL",
        ),
        (
            lambda fake: None,
            "http://helpdesk.example.com:8069/hook",
            "urlvalidationfailed",
            "public https:// address without a port",
        ),
        (
            lambda fake: fake.add_webhook("https://old.example.com/hook"),
            URL,
            "webhooklimitexceeded",
            "delete an unused one",
        ),
    ],
    ids=["crc", "url", "limit"],
)
def test_register_webhook_refusals_are_typed(fake, setup, url, reason, words):
    setup(fake)
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with pytest.raises(WebhookRejected, match=words) as caught:
        adapter.register_webhook(url)
    assert caught.value.reason == reason
    no_credential_in(str(caught.value), fake)
    assert fake.requests_to(SUBSCRIBE) == []


def test_register_webhook_survives_a_concurrent_registration(fake):
    webhook = fake.add_webhook(URL)
    fake.respond_next(WEBHOOKS, {"meta": {"result_count": 0}})  # not yet listed
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    adapter.register_webhook(URL)
    assert len(fake.requests_to(WEBHOOKS)) == 2
    assert fake.subscriptions[webhook["id"]] == {OWN_ID}


def test_plan_without_webhooks_is_not_supported(fake):
    fake.webhooks_enabled = False
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with pytest.raises(NotSupported, match="plan does not include webhooks"):
        adapter.register_webhook(URL)


def test_app_only_credentials_cannot_subscribe_an_account(fake):
    with pytest.raises(NotSupported, match="user access token"):
        app_only(fake).register_webhook(URL)
    assert fake.requests == []


def test_no_app_credentials_at_all_is_not_supported(fake):
    with pytest.raises(NotSupported, match="bearer token, or its API key"):
        oauth2_user(fake, api_key=None, api_secret=None).register_webhook(URL)
    assert fake.requests == []


def test_token_without_dm_permission_cannot_subscribe(fake):
    fake.access_level = "read-write"
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    with pytest.raises(AuthError, match="Read and write and Direct message") as e:
        adapter.register_webhook(URL)
    no_credential_in(str(e.value), fake)


def test_oauth2_user_token_subscribes_with_its_bearer(fake):
    adapter = make_adapter(
        fake,
        access_token=None,
        access_token_secret=None,
        oauth2_user_token="u-tok",
        bearer_token=fake.app_bearer_token,
    )
    adapter.register_webhook(URL)
    [subscribe] = fake.requests_to(SUBSCRIBE)
    assert subscribe.headers["authorization"] == "Bearer u-tok"
    [check] = fake.requests_to(SUBSCRIPTION)
    assert check.headers["authorization"] == "Bearer u-tok"


def test_register_webhook_rate_limit_and_outage(fake):
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    fake.rate_limit_next(WEBHOOKS, reset_at=1767225600)
    with pytest.raises(RateLimited):
        adapter.register_webhook(URL)
    fake.fail_next(CREATE_WEBHOOK, status=503)
    with pytest.raises(TransientError):
        adapter.register_webhook(URL)


# -- backfill -------------------------------------------------------------------------
def test_backfill_sources_follow_the_credentials(fake):
    assert make_adapter(fake).backfill_sources() == ("mentions", "dms")
    assert oauth2_user(fake).backfill_sources() == ("mentions", "dms")
    assert app_only(fake).backfill_sources() == ("mentions",)


def test_backfill_mentions_pages_from_since(fake, customer, monkeypatch):
    monkeypatch.setattr(x_reads, "PAGE_SIZE", 5)
    old = [
        fake.add_mention(customer["id"], f"old {n}", created_at=ago(days=5, hours=n))
        for n in range(3)
    ]
    recent = [
        fake.add_mention(customer["id"], f"new {n}", created_at=ago(hours=30 - n))
        for n in range(12)
    ]
    since = ago(days=2)
    adapter = make_adapter(fake)

    pages = drain(adapter, "mentions", since)

    assert len(pages) == 3
    assert [page.cursors for page in pages][-1] == {}
    assert all(set(page.cursors) == {"next"} for page in pages[:-1])
    ids = [event.event_id for page in pages for event in page.events]
    assert sorted(ids) == sorted(f"tweet:{post['id']}" for post in recent)
    requests = fake.requests_to(MENTIONS)
    assert {r.query["start_time"] for r in requests} == {
        since.strftime("%Y-%m-%dT%H:%M:%SZ")
    }
    assert "pagination_token" not in requests[0].query
    assert [r.query["pagination_token"] for r in requests[1:]] == [
        page.cursors["next"] for page in pages[:-1]
    ]
    # Billable reads, counted as poll() counts them.
    assert sum(page.reads["owned_post"] for page in pages) == 12
    assert sum(page.reads["user"] for page in pages) == 3  # one author a page
    assert f"post:{recent[0]['id']}" in pages[-1].reads["resource_ids"]

    # The same ids as polling and webhooks give: the store dedupes them.
    polled = {event.event_id: event for event in adapter.poll({}).events}
    assert set(ids) <= set(polled)
    assert {f"tweet:{post['id']}" for post in old} <= set(polled)
    backfilled = pages[0].events[0]
    assert backfilled.payload == polled[backfilled.event_id].payload
    tweet = backfilled.payload["tweet"]
    [pushed] = adapter.split_delivery(
        {
            "data": {
                "event_type": "post.mention.create",
                "filter": {"user_id": OWN_ID},
                "payload": tweet,
                "includes": backfilled.payload["includes"],
            }
        }
    )
    assert pushed.event_id == backfilled.event_id


def test_backfill_dms_stops_at_the_first_message_before_since(
    fake, customer, monkeypatch
):
    monkeypatch.setattr(x_reads, "PAGE_SIZE", 5)
    old = [
        fake.add_dm(customer["id"], f"old {n}", created_at=ago(days=10, hours=-n))
        for n in range(8)
    ]
    recent = [
        fake.add_dm(customer["id"], f"new {n}", created_at=ago(hours=20 - n))
        for n in range(7)
    ]
    adapter = make_adapter(fake)

    pages = drain(adapter, "dms", ago(days=3))

    # 7 new then old ones, 5 a page: the second page reaches before since.
    assert len(pages) == 2
    assert pages[-1].cursors == {}
    ids = [event.event_id for page in pages for event in page.events]
    assert sorted(ids) == sorted(f"dm:{event['id']}" for event in recent)
    assert len(fake.requests_to(DM_EVENTS)) == 2
    assert sum(page.reads["dm_event"] for page in pages) == 10  # billed as read
    polled = {event.event_id for event in adapter.poll({}).events}
    assert set(ids) | {f"dm:{event['id']}" for event in old} <= polled


def test_backfill_refusals(fake):
    with pytest.raises(NotSupported, match="direct messages"):
        app_only(fake).backfill("dms", ago(days=1))
    with pytest.raises(ValueError):
        make_adapter(fake).backfill("likes", ago(days=1))
    with pytest.raises(ValueError):
        make_adapter(fake).backfill("mentions", datetime(2026, 1, 1))  # naive
    assert fake.requests == []


# -- cost estimate --------------------------------------------------------------------
def test_estimate_counts_mentions_exactly_with_an_app_token(fake, customer):
    for hours in (2, 30, 50):
        fake.add_mention(customer["id"], "hi", created_at=ago(hours=hours))
    fake.add_mention(customer["id"], "too old", created_at=ago(days=4))
    fake.add_post(customer["id"], "not a mention", created_at=ago(hours=1))

    estimate = app_only(fake).estimate_backfill(ago(days=3))

    assert estimate["exact"] is True
    assert estimate["reads"] == {"owned_post": 3, "dm_event": 0, "user": 3}
    assert "X counted 3 mentions" in estimate["detail"]
    [request] = fake.requests_to(COUNTS)
    assert request.query["query"] == "@HelpdeskBrand"
    assert request.query["granularity"] == "day"
    assert request.headers["authorization"] == f"Bearer {fake.app_bearer_token}"


def test_estimate_with_dms_is_never_exact(fake, customer):
    fake.add_mention(customer["id"], "hi", created_at=ago(hours=2))
    adapter = make_adapter(fake, bearer_token=fake.app_bearer_token)
    estimate = adapter.estimate_backfill(ago(days=1))
    assert estimate["exact"] is False
    assert estimate["reads"] == {"owned_post": 1, "dm_event": 100, "user": 101}
    assert "cannot be counted in advance" in estimate["detail"]


@pytest.mark.parametrize(
    ("setup", "since_days", "why"),
    [
        (
            lambda fake: setattr(fake, "counts_enabled", False),
            2,
            "does not let this app count",
        ),
        (lambda fake: None, 10, "only the last 7 days"),
    ],
    ids=["tier refuses counts", "older than 7 days"],
)
def test_estimate_falls_back_to_the_upper_bound(fake, setup, since_days, why):
    setup(fake)
    estimate = app_only(fake).estimate_backfill(ago(days=since_days))
    assert estimate["exact"] is False
    assert estimate["reads"] == {"owned_post": 800, "dm_event": 0, "user": 800}
    assert why in estimate["detail"]
    no_credential_in(estimate["detail"], fake)


def test_estimate_without_an_app_token_falls_back_without_counting(fake):
    fake.consumer_key, fake.consumer_secret = "consumer-key", "another-secret"
    estimate = make_adapter(fake).estimate_backfill(ago(days=1))
    assert estimate["exact"] is False
    assert estimate["reads"]["owned_post"] == 800
    assert fake.requests_to(COUNTS) == []


def test_estimate_categories_are_the_cost_meters(fake, customer):
    fake.add_mention(customer["id"], "hi")
    estimate = make_adapter(fake, bearer_token=fake.app_bearer_token)
    reads = estimate.estimate_backfill(ago(days=1))["reads"]
    polled = make_adapter(fake).poll({}).reads
    assert set(reads) == set(polled) - {"resource_ids"}
