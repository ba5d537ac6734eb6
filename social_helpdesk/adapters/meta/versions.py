"""Graph API versions: when each came out and until when Meta serves it.

From Meta's changelog (developers.facebook.com/docs/graph-api/changelog,
"Available Graph API versions") and the v27.0 announcement of 4 November
2026. Meta gives a version's end date once its successor is out; ``None``:
not announced yet. Update the table when Meta releases a version.
"""

from datetime import date

# version -> (released, available until)
GRAPH_VERSIONS = {
    "v27.0": (date(2026, 11, 4), None),
    "v26.0": (date(2026, 7, 29), None),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v19.0": (date(2024, 1, 23), date(2026, 5, 21)),
    "v18.0": (date(2023, 9, 12), date(2026, 1, 26)),
}
DEFAULT_GRAPH_VERSION = "v27.0"
# A version this close to its end date warns on the account.
WARN_DAYS_BEFORE_END = 90


def version_end(version):
    """The last day Meta serves ``version``: None when not announced (or the
    version is unknown to the table)."""
    return GRAPH_VERSIONS.get(version or "", (None, None))[1]


def version_warning(version, today, days=WARN_DAYS_BEFORE_END):
    """(end date, days left) when ``version`` ends within ``days`` of
    ``today``, days left 0 or less once ended; else None. A version older
    than the table's is over: (None, 0); a newer one is not warned about."""
    if version in GRAPH_VERSIONS:
        end = version_end(version)
        if end is None:
            return None
        left = (end - today).days
        return (end, left) if left < days else None
    number = _number(version)
    if number is not None and number < min(map(_number, GRAPH_VERSIONS)):
        return (None, 0)
    return None


def _number(version):
    """18.0 for "v18.0"; None for anything else."""
    try:
        return float(str(version or "").removeprefix("v"))
    except ValueError:
        return None
