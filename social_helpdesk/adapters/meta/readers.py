"""Readers of Graph API JSON: checked types, ids, numbers, times, paths.

Payloads come from the network: every reader either returns the expected
type or raises :class:`MalformedPayload`, never a KeyError or TypeError.
"""

import json
import math
from datetime import datetime, timezone
from urllib.parse import quote

from ..base import (
    MalformedPayload,
)

OBJECT_PAGE = "page"
OBJECT_INSTAGRAM = "instagram"

GRAPH_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


# -- readers ------------------------------------------------------------------
def _expect_dict(value, what):
    if not isinstance(value, dict):
        raise MalformedPayload(f"Expected an object for {what}.")
    return value


def _expect_list(value, what):
    if not isinstance(value, list):
        raise MalformedPayload(f"Expected a list for {what}.")
    return value


def _dict_or_empty(value):
    return value if isinstance(value, dict) else {}


def _object(value):
    if value not in (OBJECT_PAGE, OBJECT_INSTAGRAM):
        raise MalformedPayload(f"Unexpected object {value!r}: not page or instagram.")
    return value


def _is_identifier(value):
    """Graph ids are strings, sometimes sent as numbers; never booleans."""
    if isinstance(value, str):
        return 0 < len(value) <= 512
    return isinstance(value, int) and not isinstance(value, bool)


def _identifier(value, what):
    if not _is_identifier(value):
        raise MalformedPayload(f"Missing or invalid {what}.")
    return str(value)


def _optional_identifier(value):
    return str(value) if _is_identifier(value) else ""


def _text(value):
    return value if isinstance(value, str) else ""


def _strings(value):
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _number(value):
    """A JSON number, anything else as 0."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return 0


def _number_or_none(value, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedPayload(f"{what} is not a number.")
    if not math.isfinite(value):
        raise MalformedPayload(f"{what} is not a finite number.")
    return value


def _timestamp(value):
    """Webhook times are epoch seconds, messaging ones milliseconds."""
    if isinstance(value, str):
        value = _graph_time(value)
    value = _number_or_none(value, "A time")
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(
            value / 1000 if value > 1e11 else value, tz=timezone.utc
        )
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedPayload(f"Time out of range: {value!r}.") from exc


def _graph_time(value):
    """Epoch seconds of a Graph time such as 2025-03-22T18:20:04+0000."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.strptime(value, GRAPH_TIME_FORMAT).timestamp())
    except (ValueError, OverflowError):
        return None


def _cursor(value, default):
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _data(body):
    """The objects of a Graph ``{"data": [...]}`` collection."""
    data = _dict_or_empty(body).get("data")
    if not isinstance(data, list):
        return []
    return [node for node in data if isinstance(node, dict)]


def _json_header(value):
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _path(*parts):
    """Quote each part: ids come from payloads and must not reshape the path."""
    return "/".join(quote(str(part), safe="") for part in parts)
