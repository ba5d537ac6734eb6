"""DemoAdapter onboarding, and the interface's defaults for other networks."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from social_helpdesk.adapters.base import NetworkAdapter, NotSupported
from social_helpdesk.adapters.demo import DATASET, DemoAdapter

SINCE = datetime.now(timezone.utc) - timedelta(days=30)
COUNT = len(json.loads(DATASET.read_text(encoding="utf-8"))["messages"])


@pytest.fixture
def adapter():
    return DemoAdapter({"batch_size": 5, "webhook_secret": "demo-secret"})


def test_connection_labels_the_demo_data(adapter):
    info = adapter.test_connection()
    assert info["label"] == "Demo data"
    assert info["granted"] == info["missing"] == []
    assert info["messages"] == COUNT  # the key it always had
    assert f"{COUNT} bundled sample messages" in info["detail"]


def test_register_webhook_needs_nothing(adapter):
    done = adapter.register_webhook("https://helpdesk.example.com/hook")
    assert "needs no registration" in done


def test_backfill_replays_the_dataset_in_pages_of_20(adapter):
    assert adapter.backfill_sources() == ("messages",)
    pages, cursor = [], None
    while True:
        page = adapter.backfill("messages", SINCE, cursor)
        pages.append(page)
        cursor = page.cursors.get("next")
        if not cursor:
            break

    sizes = [20] * (COUNT // 20) + ([COUNT % 20] if COUNT % 20 else [])
    assert COUNT > 40 and [len(page.events) for page in pages] == sizes
    ends = [str(20 * number) for number in range(1, len(sizes))]
    assert [page.cursors for page in pages] == [{"next": end} for end in ends] + [{}]
    backfilled = [event.event_id for page in pages for event in page.events]
    polled = DemoAdapter({"batch_size": 1000}).poll({}).events
    assert backfilled == [event.event_id for event in polled]
    assert backfilled[0] == "demo:demo-001"
    assert all(page.reads == {} for page in pages)


def test_backfill_of_an_empty_dataset_ends_at_once(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"brand": {"id": "b"}, "messages": []}')
    page = DemoAdapter({"dataset_path": str(empty)}).backfill("messages", SINCE)
    assert (page.events, page.cursors) == ([], {})


def test_backfill_refusals(adapter):
    with pytest.raises(ValueError):
        adapter.backfill("posts", SINCE)
    with pytest.raises(ValueError):
        adapter.backfill("messages", datetime(2026, 1, 1))  # naive
    assert adapter.estimate_backfill(SINCE) is None


def test_interface_defaults_send_the_admin_to_do_it_by_hand():
    bare = NetworkAdapter({})
    with pytest.raises(NotSupported, match="enter https://h.example/x"):
        bare.register_webhook("https://h.example/x")
    with pytest.raises(NotSupported):
        bare.backfill("anything", SINCE)
    assert bare.backfill_sources() == ()
    assert bare.estimate_backfill(SINCE) is None


def test_demo_webhook_items_name_no_recipient(adapter):
    """Only an account alone with its webhook secret receives them."""
    events = adapter.split_delivery({"messages": [{"id": "m-1"}]})
    assert [event.recipient_id for event in events] == [None]
    assert DemoAdapter.webhook_identity(adapter.config) == ("demo-secret", frozenset())


def test_interface_default_webhook_identity_is_empty():
    assert NetworkAdapter.webhook_identity({"secret": "s"}) == (None, frozenset())
