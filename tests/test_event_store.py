"""What the event store writes: JSON that PostgreSQL's jsonb accepts, for any
payload a network may send."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from social_helpdesk.adapters.jsonb import jsonb_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def test_clean_payloads_are_stored_as_they_are():
    payload = {"text": "¡Hola! 😀 ok", "n": 1, "items": [None, True, "x"]}
    assert json.loads(jsonb_text(payload)) == payload


def test_nul_characters_become_the_replacement_character():
    payload = {"text": "a\x00b", "a\x00key": ["\x00"]}
    assert json.loads(jsonb_text(payload)) == {
        "text": "a\ufffdb",
        "a\ufffdkey": ["\ufffd"],
    }


def test_lone_surrogates_become_the_replacement_character_and_pairs_join():
    # json.loads("\"\\ud83d\\ude00\"") gives one emoji; a lone "\ud800" stays
    # a lone surrogate, which UTF-8 and jsonb refuse.
    payload = json.loads('{"text": "x\\ud800y \\ud83d\\ude00 \\udfff"}')
    assert json.loads(jsonb_text(payload)) == {"text": "x\ufffdy 😀 \ufffd"}


def test_an_escaped_backslash_is_not_taken_for_a_nul():
    payload = {"text": "literally \\u0000"}
    assert json.loads(jsonb_text(payload)) == payload


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _storable(text):
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES)
def test_any_payload_becomes_storable_json(payload):
    stored = json.loads(jsonb_text(payload))
    assert all(_storable(text) for text in _strings(stored))
    if all(_storable(text) for text in _strings(payload)):
        assert stored == payload, "a storable payload is kept as it is"
