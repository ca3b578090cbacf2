"""core.text.zone_label names a zone as the web app's zoneLabel does, from the same place words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.text import _PLACE_WORDS, zone_label

I18N = Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "lib" / "i18n.js"


@pytest.mark.parametrize(
    ("zone", "label"),
    [("A", "Khu A"), (" B ", "Khu B"), ("Rau", "Khu Rau"), ("Khu rau", "Khu rau"),
     ("Dãy 3", "Dãy 3"), ("Nhà lồng B", "Nhà lồng B"), ("Khu", "Khu Khu"), ("Lô 2", "Lô 2")],
)  # fmt: skip
def test_a_zone_label(zone, label):
    assert zone_label(zone) == label


def test_the_place_words_are_the_web_apps():
    words = re.search(r"const PLACE_WORDS = new Set\(\[([^\]]*)\]\)", I18N.read_text("utf-8"))
    assert words is not None
    assert set(re.findall(r'"([^"]+)"', words.group(1))) == set(_PLACE_WORDS)
