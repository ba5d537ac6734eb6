"""X Activity API subscriptions, replay of a missed window and OAuth 2.0
token refresh, against the fake X server on loopback."""

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from social_helpdesk.adapters.base import AuthError, NotSupported
from social_helpdesk.adapters.x import XAdapter
from social_helpdesk.adapters.x.activity import ACTIVITY_EVENT_TYPES
from social_helpdesk.tests.fakes.fake_x import FakeXServer
from social_helpdesk.tests.fakes.fake_x_activity import (
    AAA_REPLAY,
    CREATE_ACTIVITY_SUBSCRIPTION,
    OAUTH2_TOKEN,
    REPLAY,
)

OWN_ID = "1111111111111111111"
SECRET = "consumer-secret"
UTC = timezone.utc


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append((dict(self.headers), raw))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def receiver():
    """A webhook on loopback that keeps every delivery."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake():
    with FakeXServer(me_id=OWN_ID) as server:
        server.crc_secret = None
        yield server


def make_adapter(fake, **overrides):
    config = {
        "user_id": OWN_ID,
        "username": "HelpdeskBrand",
        "api_key": "consumer-key",
        "api_secret": SECRET,
        "access_token": "access-token",
        "access_token_secret": "access-token-secret",
        "bearer_token": fake.app_bearer_token,
        "api_base_url": fake.base_url,
        "timeout": 5,
        **overrides,
    }
    return XAdapter({key: value for key, value in config.items() if value})


def webhook(fake, url):
    fake.allow_insecure_urls = True
    return fake.add_webhook(url)["id"]


def test_register_webhook_subscribes_to_the_activity_events(fake):
    url = "https://helpdesk.example.com/social_helpdesk/webhook/x/token"
    adapter = make_adapter(fake)
    done = adapter.register_webhook(url)
    assert "post.mention.create" in done and "chat.received" in done
    kinds = {s["event_type"] for s in fake.activity_subscriptions.values()}
    assert kinds == set(ACTIVITY_EVENT_TYPES)
    [webhook_id] = fake.webhooks
    for subscription in fake.activity_subscriptions.values():
        assert subscription["filter"] == {"user_id": OWN_ID}
        assert subscription["webhook_id"] == webhook_id
    # Private events are created in the user's context (OAuth 1.0a here).
    for request in fake.requests_to(CREATE_ACTIVITY_SUBSCRIPTION):
        assert request.headers["authorization"].startswith("OAuth ")
    # Again: nothing missing, nothing created.
    assert "already subscribed" in adapter.register_webhook(url)
    assert len(fake.requests_to(CREATE_ACTIVITY_SUBSCRIPTION)) == 5


def test_list_shows_what_is_missing_and_delete_removes(fake):
    hook = webhook(fake, "http://127.0.0.1:9/hook")
    adapter = make_adapter(fake)
    assert adapter.missing_activity_subscriptions() == list(ACTIVITY_EVENT_TYPES)
    adapter.create_activity_subscriptions(hook, ["dm.received", "chat.received"])
    # Another account's subscription on the same app is not ours.
    fake.activity_subscriptions["1"] = {
        "subscription_id": "1",
        "event_type": "dm.sent",
        "filter": {"user_id": "999"},
        "webhook_id": hook,
    }
    listed = adapter.list_activity_subscriptions()
    assert {item["event_type"] for item in listed} == {"dm.received", "chat.received"}
    assert adapter.missing_activity_subscriptions(listed) == [
        "post.mention.create",
        "post.reply.create",
        "dm.sent",
    ]
    assert (
        adapter.delete_activity_subscriptions(
            [item["subscription_id"] for item in listed]
        )
        == 2
    )
    assert list(fake.activity_subscriptions) == ["1"]


def test_listing_follows_pages(fake):
    hook = webhook(fake, "http://127.0.0.1:9/hook")
    adapter = make_adapter(fake)
    adapter.create_activity_subscriptions(hook)
    for number in range(150):
        fake.activity_subscriptions[f"0{number:03d}"] = {
            "subscription_id": f"0{number:03d}",
            "event_type": "follow.follow",
            "filter": {"user_id": "42"},
        }
    assert len(adapter.list_activity_subscriptions()) == 5


def test_app_only_credentials_cannot_subscribe_to_private_events(fake):
    adapter = make_adapter(fake, access_token=None, access_token_secret=None)
    with pytest.raises(NotSupported):
        adapter.create_activity_subscriptions("1", ["dm.received"])


def test_replay_redelivers_the_window_signed(fake, receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    hook = webhook(fake, url)
    fake.crc_secret = SECRET  # the consumer secret signs deliveries
    adapter = make_adapter(fake)
    adapter.create_activity_subscriptions(hook)
    customer = fake.add_user("2001", "customer")
    now = datetime.now(UTC)
    fake.emit_mention(customer["id"], "live", at=now - timedelta(hours=3))
    fake.webhook_down = True
    missed = [
        fake.emit_mention(customer["id"], "lost 1", at=now - timedelta(hours=2)),
        fake.emit_dm(customer["id"], "lost 2", at=now - timedelta(minutes=90)),
        fake.emit_chat(customer["id"], at=now - timedelta(minutes=61)),
    ]
    fake.webhook_down = False
    assert len(receiver.received) == 1
    job = adapter.replay(url, now - timedelta(hours=2, minutes=30), now)
    assert job["job_id"]
    [request] = fake.requests_to(REPLAY)
    assert request.json["webhook_id"] == hook
    assert request.json["from_date"] == job["start"].strftime("%Y%m%d%H%M")
    replayed = [json.loads(raw) for _headers, raw in receiver.received[1:]]
    assert replayed == missed
    for headers, raw in receiver.received[1:]:
        signature = {k.lower(): v for k, v in headers.items()}[
            "x-twitter-webhooks-signature"
        ]
        adapter.verify_signature(raw, {"x-twitter-webhooks-signature": signature})
    # And each splits into the events a live delivery gives.
    kinds = [
        adapter.split_delivery(body)[0].event_id.split(":")[0] for body in replayed
    ]
    assert kinds == ["tweet", "dm", "chat"]


def test_replay_is_capped_at_24_hours_and_whole_minutes(fake):
    hook = webhook(fake, "http://127.0.0.1:9/hook")
    end = datetime(2026, 12, 7, 12, 30, 45, tzinfo=UTC)
    job = make_adapter(fake).replay(
        "http://127.0.0.1:9/hook", end - timedelta(days=3), end
    )
    [request] = fake.requests_to(REPLAY)
    assert request.json == {
        "webhook_id": hook,
        "from_date": "202612061230",
        "to_date": "202612071231",
    }
    assert job["end"] - job["start"] == timedelta(hours=24, minutes=1)


def test_legacy_account_activity_replays_with_its_own_route(fake):
    hook = webhook(fake, "http://127.0.0.1:9/hook")
    end = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    make_adapter(fake, webhook_product="aaa").replay(
        "http://127.0.0.1:9/hook", end - timedelta(hours=1), end
    )
    [request] = fake.requests_to(AAA_REPLAY)
    assert request.path.endswith(f"/webhooks/{hook}/subscriptions/all")
    assert request.query == {"from_date": "202612071100", "to_date": "202612071201"}


def test_replay_without_a_webhook_is_not_supported(fake):
    with pytest.raises(NotSupported):
        make_adapter(fake).replay(
            "https://nowhere.example.com/hook", datetime.now(UTC), datetime.now(UTC)
        )


def oauth2_adapter(fake, refresh_token, **overrides):
    return make_adapter(
        fake,
        access_token=None,
        access_token_secret=None,
        oauth2_user_token="user-token-0",
        oauth2_refresh_token=refresh_token,
        oauth2_client_id=fake.oauth2_client_id,
        **overrides,
    )


def test_refresh_rotates_the_refresh_token(fake):
    first = fake.add_refresh_token()
    before = datetime.now(UTC)
    pair = oauth2_adapter(fake, first).refresh_user_token()
    assert pair["access_token"] == "user-token-1"
    assert pair["refresh_token"] != first
    assert before + timedelta(hours=2) <= pair["expires_at"]
    [request] = fake.requests_to(OAUTH2_TOKEN)
    assert request.path == "/2/oauth2/token"  # api.x.com's route
    assert request.form == {
        "grant_type": "refresh_token",
        "refresh_token": first,
        "client_id": fake.oauth2_client_id,
    }
    # The spent token is refused: whoever refreshes must store the new pair.
    with pytest.raises(AuthError):
        oauth2_adapter(fake, first).refresh_user_token()
    assert oauth2_adapter(fake, pair["refresh_token"]).refresh_user_token()
    assert fake.oauth2_refreshes == 2


def test_a_confidential_client_refreshes_with_basic_auth(fake):
    token = fake.add_refresh_token()
    oauth2_adapter(fake, token, oauth2_client_secret="s3cret").refresh_user_token()
    [request] = fake.requests_to(OAUTH2_TOKEN)
    assert request.headers["authorization"].startswith("Basic ")


def test_refresh_without_a_refresh_token_asks_to_reconnect(fake):
    with pytest.raises(AuthError, match="offline.access"):
        oauth2_adapter(fake, None).refresh_user_token()
