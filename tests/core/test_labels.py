"""The Vietnamese words of core.labels are the web app's words for the same codes, so a stall's
page, its workbook row, the partner's page and the person's data export all say the same."""

from __future__ import annotations

import re

from core import labels
from partners import schemas as partner_schemas
from tests.conftest import ROOT

JS = ROOT / "web" / "static" / "js"


def js_strings(path) -> dict[str, str]:
    """The first (Vietnamese) table's `key: "text",` entries of a strings file."""
    text = path.read_text(encoding="utf-8")
    vi = text[: text.index("\nconst en") if "\nconst en" in text else len(text)]
    return dict(re.findall(r'^\s+([a-z_0-9]+): "([^"\n]*)",$', vi, flags=re.M))


def test_confirm_tools_are_named_as_the_app_names_them() -> None:
    app = js_strings(JS / "lib" / "i18n.js")
    for tool, words in labels.CONFIRM_TOOLS_VI.items():
        assert app[f"confirm_{tool}"] == words
    assert app["confirm_none"] == labels.CONFIRM_NONE_VI


def test_onboarding_statuses_are_named_as_the_partner_page_names_them() -> None:
    page = js_strings(JS / "console" / "strings.js")
    assert set(labels.ONBOARDING_STATUS_VI) == set(partner_schemas.STATUSES)
    for status in partner_schemas.STATUSES:
        assert page[f"p_col_{status}"] == labels.onboarding_header(status)


def test_the_support_package_is_named_as_the_app_names_it() -> None:
    from merchants import schemas

    app = js_strings(JS / "lib" / "i18n.js")
    assert list(labels.SUPPORT_ITEMS_VI) == list(schemas.SUPPORT_ITEMS)
    for item, words in labels.SUPPORT_ITEMS_VI.items():
        assert app[f"support_item_{item}"] == words
    for state, words in labels.SUPPORT_STATES_VI.items():
        assert app[f"support_{state}"] == words


def test_other_ways_to_pay_are_named_as_the_app_names_them() -> None:
    from merchants import schemas

    app = js_strings(JS / "lib" / "i18n.js")
    assert list(labels.ALSO_ACCEPTS_VI) == list(schemas.ALSO_ACCEPTS)
    for method, words in labels.ALSO_ACCEPTS_VI.items():
        assert app[f"accepts_{method}"] == words
    assert app["accepts_none"] == labels.ALSO_ACCEPTS_NONE_VI
