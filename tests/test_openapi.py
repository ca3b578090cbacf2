"""The published API: the app's OpenAPI document is the one in docs/openapi.json, and nothing the API
offered before the package layout changed (tests/data/openapi_before_layout.json) has gone.

An intended API change regenerates docs/openapi.json with `make openapi`, so it shows in review.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.openapi import OUT, document, dumps

BEFORE = Path(__file__).resolve().parent / "data" / "openapi_before_layout.json"
# Operations later issues replaced on purpose, each with what replaced it.
REPLACED = {
    # Issue 12: reading never changes state; an export records a data-subject request.
    ("/api/stallholders/{stallholder_id}/export", "get"): (
        "/api/stallholders/{stallholder_id}/export",
        "post",
    ),
}
# Component names FastAPI derives from module paths when two models share a name.
RENAMED = {"merchants__coverage_schemas__StatusChange": "coverage__schemas__StatusChange"}


def _operations(doc: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete", "head")
    }


def _renamed(value: object) -> object:
    text = json.dumps(value, sort_keys=True)
    for old, new in RENAMED.items():
        text = text.replace(old, new)
    return json.loads(text)


def test_the_app_publishes_the_documented_api() -> None:
    assert dumps(document()) == OUT.read_text(encoding="utf-8"), (
        "The OpenAPI document changed: if intended, run `make openapi` and commit docs/openapi.json"
    )


def test_every_operation_from_before_the_layout_change_is_still_offered() -> None:
    before = _operations(_renamed(json.loads(BEFORE.read_text(encoding="utf-8"))))
    now = _operations(document())
    missing = sorted(k for k in set(before) - set(now) if REPLACED.get(k) not in now)
    assert missing == []
    kept = [k for k in before if k in now]
    changed_ids = [k for k in kept if before[k]["operationId"] != now[k]["operationId"]]
    assert changed_ids == []
