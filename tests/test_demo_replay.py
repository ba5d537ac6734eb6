"""The demo network keeps going: its dataset replayed forever, each replay
with fresh ids, dated so that the demo shows SLA risks, breaches and reply
windows about to close."""

import json
import math
from datetime import datetime, timedelta, timezone

from social_helpdesk.adapters.demo import DATASET, LOOP_MINUTES, DemoAdapter

DATA = json.loads(DATASET.read_text(encoding="utf-8"))
MESSAGES = DATA["messages"]
COUNT = len(MESSAGES)
BRAND = DATA["brand"]["id"]


def started_ago(cursors, minutes):
    """``cursors`` as if their replay had begun ``minutes`` ago."""
    moment = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    return dict(cursors, loop_started=moment.isoformat())


def items(result):
    return [event.payload["item"] for event in result.events]


def test_the_first_replay_keeps_the_dataset_ids_at_the_batch_pace():
    adapter = DemoAdapter({"batch_size": 10})
    cursors, ids = {}, []
    for _poll in range(math.ceil(COUNT / 10)):
        result = adapter.poll(cursors)
        assert len(result.events) <= 10
        ids += [event.event_id for event in result.events]
        cursors = result.cursors
    assert ids == [f"demo:{item['id']}" for item in MESSAGES]
    assert (cursors["loop"], cursors["position"]) == (0, COUNT)
    # The next replay waits for the end of the hour.
    assert adapter.poll(cursors).events == []
    assert adapter.poll(started_ago(cursors, LOOP_MINUTES - 1)).events == []


def test_later_replays_are_new_messages_in_new_threads_of_the_same_customers():
    adapter = DemoAdapter({"batch_size": 1000})
    first = adapter.poll({})
    seen = {event.event_id for event in first.events}
    cursors = started_ago(first.cursors, LOOP_MINUTES)
    for loop in (1, 2):
        begun = adapter.poll(cursors)
        assert begun.cursors["loop"] == loop
        assert len(begun.events) == 1, "spread over the hour: one message at first"
        rest = adapter.poll(started_ago(begun.cursors, LOOP_MINUTES))
        replayed = items(begun) + items(rest)
        assert len(replayed) == COUNT
        suffix = replayed[0]["id"].removeprefix(MESSAGES[0]["id"])
        assert suffix.startswith(f"~{loop}.")
        for item, source in zip(replayed, MESSAGES, strict=True):
            assert item["id"] == source["id"] + suffix
            assert item["conversation_id"] == source["conversation_id"] + suffix
            assert item["parent_id"] == (
                source["parent_id"] and source["parent_id"] + suffix
            )
            assert (item["author"], item["text"]) == (source["author"], source["text"])
        ids = {event.event_id for event in begun.events + rest.events}
        assert not ids & seen, "the event store's dedup key differs"
        seen |= ids
        cursors = started_ago(rest.cursors, LOOP_MINUTES)


def test_a_later_replay_spreads_its_messages_over_the_hour():
    halfway = {"loop": 1, "position": 0}
    result = DemoAdapter({"batch_size": 1000}).poll(
        started_ago(halfway, LOOP_MINUTES / 2)
    )
    assert abs(len(result.events) - COUNT / 2) <= 1.5
    paced = DemoAdapter({"batch_size": 3}).poll(started_ago(halfway, LOOP_MINUTES))
    assert len(paced.events) == 3
    assert paced.cursors["position"] == 3


def test_messages_are_dated_minutes_ago_before_they_arrive():
    adapter = DemoAdapter({"batch_size": 1000})
    for event in adapter.poll({}).events:
        message = adapter.parse_event(event.payload)[0]
        received = datetime.fromisoformat(event.payload["received_at"])
        ago = timedelta(minutes=event.payload["item"]["minutes_ago"])
        assert received - message.created_at == ago
    webhook_item = {
        key: value for key, value in MESSAGES[0].items() if key != "minutes_ago"
    }
    event = adapter.split_delivery({"messages": [webhook_item]})[0]
    message = adapter.parse_event(event.payload)[0]
    assert message.created_at == datetime.fromisoformat(event.payload["received_at"])


def test_a_cursor_saved_before_replays_existed_goes_on():
    adapter = DemoAdapter({"batch_size": 1000})
    rest = adapter.poll({"position": COUNT - 4})
    assert [item["id"] for item in items(rest)] == [m["id"] for m in MESSAGES[-4:]]
    begun = adapter.poll({"position": COUNT})
    assert begun.cursors["loop"] == 1 and len(begun.events) == 1


def test_an_empty_dataset_never_loops(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"brand": {"id": "b"}, "messages": []}')
    result = DemoAdapter({"dataset_path": str(empty)}).poll({"position": 0})
    assert (result.events, result.cursors) == ([], {"position": 0})


# -- the dataset ---------------------------------------------------------
def _starts():
    """The messages that start a conversation (a ticket, lead or observed
    message), by thread as the addon keys them."""
    threads = {}
    for item in MESSAGES:
        if item["author"]["id"] == BRAND:
            continue
        key = (
            (item["channel"], "dm", item["conversation_id"])
            if item["kind"] == "private"
            else (item["channel"], item["conversation_id"], item["author"]["id"])
        )
        threads.setdefault(key, item)
    return list(threads.values())


def test_the_dataset_has_conversations_in_three_languages():
    for lang in ("en", "es", "pt"):
        assert sum(1 for item in _starts() if item["lang"] == lang) >= 5, lang


def test_replies_come_after_what_they_answer():
    position = {}
    for index, item in enumerate(MESSAGES):
        position.setdefault(item["id"], index)
    for index, item in enumerate(MESSAGES):
        parent = item["parent_id"]
        if parent in position:
            assert position[parent] < index, item["id"]
            assert MESSAGES[position[parent]]["minutes_ago"] > item["minutes_ago"]


def test_the_dataset_is_dated_for_risks_breaches_and_closing_windows():
    """Under the shipped policies: X answers within 2 hours and warns 30
    minutes before; Messenger and Instagram accept a reply within 24 hours
    of the customer's last private message."""
    starts = _starts()
    x_new = [item["minutes_ago"] for item in starts if item["channel"] == "x"]
    assert any(ago < 90 for ago in x_new), "an X ticket on track"
    assert any(90 < ago < 120 for ago in x_new), "an X ticket at risk"
    assert sum(ago > 120 for ago in x_new) >= 5, "X tickets breached"
    last_private = {}
    for item in MESSAGES:
        if item["kind"] == "private" and item["channel"] in ("messenger", "instagram"):
            if item["author"]["id"] != BRAND:
                last_private[item["conversation_id"]] = item["minutes_ago"]
    closing = [ago for ago in last_private.values() if 22 * 60 <= ago < 24 * 60]
    assert len(closing) >= 2, "reply windows closing within 2 hours"
