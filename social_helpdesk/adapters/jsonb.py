"""Payloads as PostgreSQL's jsonb stores them: the event store keeps every
delivery as the network sent it, save for what jsonb cannot hold.

Nothing here imports Odoo.
"""

import json


def jsonb_text(payload):
    """The JSON text of ``payload`` as PostgreSQL's jsonb stores it. jsonb
    refuses NUL characters and lone surrogates, which a network may send
    (escaped as ``\\u0000`` or ``\\ud800``): they become U+FFFD, so that the
    message is kept rather than refused."""
    text = json.dumps(payload, ensure_ascii=False)
    if "\\u0000" not in text and _encodes(text):
        return text
    return json.dumps(_replace_invalid(payload), ensure_ascii=False)


def _encodes(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _replace_invalid(value):
    if isinstance(value, str):
        # Through UTF-16, surrogate pairs join and lone surrogates become U+FFFD.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {
            _replace_invalid(key): _replace_invalid(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_replace_invalid(item) for item in value]
    return value
