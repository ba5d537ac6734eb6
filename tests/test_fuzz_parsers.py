"""Fuzzing of the networks' parsers: 10,000 generated payloads each.

Whatever JSON a webhook or a stored event holds, ``split_delivery`` and
``parse_event`` answer with InboundEvents and SocialMessages or raise a typed
AdapterError, never another exception: anything else would turn a delivery
into an HTTP 500 and a stored event into retries that cannot succeed.

Payloads are the documented fixtures (payloads/x, payloads/meta,
payloads/whatsapp, and the demo dataset), as webhook bodies and as the stored
events they split into, with one to three values replaced by random JSON,
removed or given another type; and free-form JSON besides. Values and keys
are drawn from the fixtures' own vocabulary too, so mutations reach deep into
the parsers.
"""

import copy
import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from social_helpdesk.adapters.base import (
    AdapterError,
    DeliveryStatus,
    InboundEvent,
    SocialMessage,
    load_json,
)
from social_helpdesk.adapters.demo import DATASET, DemoAdapter
from social_helpdesk.adapters.meta import MetaAdapter
from social_helpdesk.adapters.whatsapp import WhatsAppAdapter
from social_helpdesk.adapters.x import XAdapter
from social_helpdesk.adapters.x import parse as x_parse

PAYLOADS = Path(__file__).parent / "payloads"
OWN_X_ID = "1111111111111111111"  # the filtered user of X's XAA examples
FUZZ = settings(
    max_examples=10_000,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

X = XAdapter({"user_id": OWN_X_ID, "username": "HelpdeskBrand", "api_secret": "s"})
META = MetaAdapter(
    {
        "page_id": "448242228374517",
        "app_secret": "s",
        "verify_token": "v",
        "instagram_account_id": "17841405822304914",
    }
)
DEMO = DemoAdapter({"webhook_secret": "s"})
WHATSAPP = WhatsAppAdapter({"phone_number_id": "106540352242922", "app_secret": "s"})


def fixtures(network):
    return [
        json.loads(path.read_text())
        for path in sorted((PAYLOADS / network).glob("*.json"))
    ]


def split(adapter, deliveries):
    return [
        event.payload for body in deliveries for event in adapter.split_delivery(body)
    ]


def x_poll_events():
    """Stored events of X's v2 REST answers, as polling makes them."""
    events = []
    for answer in fixtures("x"):
        if not isinstance(answer.get("data"), list):
            continue
        for item in answer["data"]:
            includes = answer.get("includes") or {}
            if "event_type" in item:  # a DM event
                events.append(x_parse._v2_dm_event(item, includes, OWN_X_ID))
            elif "text" in item:
                events.append(x_parse._tweet_event(item, includes, OWN_X_ID))
    return [event.payload for event in events]


# Webhook bodies; the others are REST answers (their "data" is a list).
X_DELIVERIES = [
    body for body in fixtures("x") if not isinstance(body.get("data"), list)
]
X_EVENTS = split(X, X_DELIVERIES) + x_poll_events()
META_DELIVERIES = fixtures("meta")
META_EVENTS = split(META, META_DELIVERIES)
WHATSAPP_DELIVERIES = fixtures("whatsapp")
WHATSAPP_EVENTS = split(WHATSAPP, WHATSAPP_DELIVERIES)
DEMO_ITEMS = json.loads(DATASET.read_text())["messages"]
DEMO_DELIVERIES = [
    {"messages": DEMO_ITEMS[start : start + 3]} for start in range(0, 12, 3)
]
DEMO_EVENTS = split(DEMO, DEMO_DELIVERIES)


def vocabulary(documents):
    """Every key and scalar value of the fixtures."""
    keys, values = set(), set()
    todo = list(documents)
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            keys.update(node)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif node is not None:
            values.add(node)
    return sorted(keys), sorted(values, key=repr)


ALL = X_DELIVERIES + X_EVENTS + META_DELIVERIES + META_EVENTS + DEMO_DELIVERIES
ALL += WHATSAPP_DELIVERIES + WHATSAPP_EVENTS
KNOWN_KEYS, KNOWN_VALUES = vocabulary(ALL)
ODD_VALUES = [None, True, False, 0, -1, 2**63, -(2**70), 0.5, -1e308, 1e-300, ""]
ODD_VALUES += ["0", "-1", "1e999", "9" * 40, "2024-13-45T99:99:99Z", "\u0000", "é😀"]
# Free-form JSON, drawn by Hypothesis (and shrunk by it when a test fails).
KEYS = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(KNOWN_VALUES + ODD_VALUES)
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3)
    ),
    max_leaves=8,
)


def random_json(rng, depth=0):
    """A small random JSON value, mostly from the fixtures' vocabulary."""
    roll = rng.random()
    if depth < 2 and roll < 0.15:
        return [random_json(rng, depth + 1) for _n in range(rng.randrange(4))]
    if depth < 2 and roll < 0.3:
        return {
            rng.choice(KNOWN_KEYS): random_json(rng, depth + 1)
            for _n in range(rng.randrange(4))
        }
    if roll < 0.65:
        return rng.choice(KNOWN_VALUES)
    if roll < 0.85:
        return rng.choice(ODD_VALUES)
    return "".join(rng.choice('aZ0-_:.@#/ \n"ñ€😀') for _n in range(rng.randrange(12)))


def places(node):
    """(container, key) of every value in a JSON tree."""
    if isinstance(node, dict):
        pairs = list(node.items())
    elif isinstance(node, list):
        pairs = list(enumerate(node))
    else:
        return
    for key, value in pairs:
        yield node, key
        yield from places(value)


def retyped(value):
    """The same information in another JSON type."""
    if isinstance(value, str):
        return int(value) if value.isdigit() else [value]
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, list):
        return {str(n): item for n, item in enumerate(value)}
    return None if isinstance(value, dict) else {"value": value}


def mutated(originals):
    """A fixture with one to three values replaced by random JSON, removed or
    retyped. The changes follow from one drawn seed: a Hypothesis draw per
    change would make 10,000 examples several times slower."""

    def mutate(seed):
        rng = random.Random(seed)
        document = copy.deepcopy(rng.choice(originals))
        for _change in range(rng.randint(1, 3)):
            spots = list(places(document))
            if not spots:
                break
            container, key = rng.choice(spots)
            change = rng.random()
            if change < 0.4:
                container[key] = random_json(rng)
            elif change < 0.7:
                del container[key]
            else:
                container[key] = retyped(container[key])
        return document

    return st.integers(0, 2**64 - 1).map(mutate)


def payloads(deliveries, events):
    return mutated(deliveries) | mutated(events) | JSONISH


def answers(parse, payload, kind):
    """``parse(payload)``: a list of ``kind``, or [] for a typed AdapterError."""
    try:
        result = parse(payload)
    except AdapterError:
        return []
    assert isinstance(result, list)
    assert all(isinstance(item, kind) for item in result)
    return result


def check(adapter, payload):
    """As the webhook controller, then the processing cron, would use it."""
    body = json.dumps(payload).encode()
    payload = json.loads(body)  # as stored: JSON keys are strings
    for event in answers(
        lambda raw: adapter.split_delivery(load_json(raw)), body, InboundEvent
    ):
        assert isinstance(event.event_id, str) and event.event_id
        json.dumps(event.payload)  # stored as jsonb
        answers(adapter.parse_event, event.payload, SocialMessage)
    answers(adapter.parse_event, payload, SocialMessage)
    answers(adapter.parse_statuses, payload, DeliveryStatus)


def test_fixtures_parse():
    """The unmutated fixtures are what the mutations start from: they parse."""
    assert X_EVENTS and META_EVENTS and DEMO_EVENTS and WHATSAPP_EVENTS
    for adapter, events in (
        (X, X_EVENTS),
        (META, META_EVENTS),
        (DEMO, DEMO_EVENTS),
        (WHATSAPP, WHATSAPP_EVENTS),
    ):
        for payload in events:
            assert isinstance(adapter.parse_event(payload), list)


@FUZZ
@given(payload=payloads(X_DELIVERIES, X_EVENTS))
def test_x_parser_never_crashes(payload):
    check(X, payload)


@FUZZ
@given(payload=payloads(META_DELIVERIES, META_EVENTS))
def test_meta_parser_never_crashes(payload):
    check(META, payload)


@FUZZ
@given(payload=payloads(DEMO_DELIVERIES, DEMO_EVENTS))
def test_demo_parser_never_crashes(payload):
    check(DEMO, payload)


@FUZZ
@given(payload=payloads(WHATSAPP_DELIVERIES, WHATSAPP_EVENTS))
def test_whatsapp_parser_never_crashes(payload):
    check(WHATSAPP, payload)
