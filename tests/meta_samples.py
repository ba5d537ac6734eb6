"""Ids and payload helpers shared by the Meta adapter tests: the shapes of
Meta's documented examples, one place to change them."""

import json
from datetime import datetime, timezone
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads" / "meta"
UTC = timezone.utc
PAGE_ID = "448242228374517"
IG_ID = "17841405822304914"
POST_ID = "448242228374517_122131676912594941"
COMMENT_ID = "122131676912594941_1213590066982748"
JANE = {"id": "7216389548374411", "name": "Jane Doe"}
PSID = "25184973621110472"
MID = "m_Lx7BOaXhxuVSx7O4xZIl3fRd0Bn1lnUWJ4yTbZtWkGkqIGr4ZbJ9-d8C6ZtMObs6"
MEDIA_ID = "18172143295349192"
IG_COMMENT_ID = "17919697626119712"
IGSID = "6918377511520133"


def load(name):
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC)
