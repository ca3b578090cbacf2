"""The tablet refuses a phone number at the field by the server's own rule (web/static/js/lib/text.js
looksLikePhone): its Vietnamese mobile and landline patterns are phonenumbers' metadata."""

from __future__ import annotations

import re

import phonenumbers

from tests.conftest import ROOT


def test_the_devices_phone_patterns_are_the_servers():
    text = (ROOT / "web/static/js/lib/text.js").read_text(encoding="utf-8")
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("VN")
    mobile = re.search(r"const VN_MOBILE = /\^\(\?:(.*)\)\$/;", text)
    fixed = re.search(r"const VN_FIXED = /\^\(\?:(.*)\)\$/;", text)
    assert mobile and mobile[1] == metadata.mobile.national_number_pattern
    assert fixed and fixed[1] == metadata.fixed_line.national_number_pattern
