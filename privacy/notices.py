"""Consent notices: the text read to a stallholder before they consent, by version.

The texts live in privacy/data/consent_notices.json; NOTICE_VERSION names the one shown now.
A consent records the version it was given under, so a version's text never changes once used:
a new text is a new version. Older versions stay known, so a registration queued offline on a
tablet under the previous notice is still accepted; an unknown version is refused.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel

_FILE = Path(__file__).resolve().parent / "data" / "consent_notices.json"


class Notice(BaseModel):
    version: str
    published: str
    current: bool
    vi: list[str]
    en: list[str]


@cache
def _all() -> dict[str, dict]:
    return json.loads(_FILE.read_text(encoding="utf-8"))["notices"]


def known(version: str) -> bool:
    return version in _all()


def get(version: str, *, current: str) -> Notice | None:
    """The notice of this version, or None."""
    text = _all().get(version)
    if text is None:
        return None
    return Notice(
        version=version,
        published=text["published"],
        current=version == current,
        vi=text["vi"],
        en=text["en"],
    )


def require_current(version: str) -> None:
    """Start-up check: NOTICE_VERSION must name a notice we can show."""
    if not known(version):
        raise RuntimeError(
            f"NOTICE_VERSION={version!r} is not in {_FILE.name} (known: {', '.join(_all())})"
        )
