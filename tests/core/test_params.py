"""core.params.plain_id: a plainly written id reads as pydantic reads an Id; nothing else is read."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from core.params import MAX_ID, IdField, plain_id

AS_ID = TypeAdapter(IdField)


@pytest.mark.parametrize("raw", ["1", "7", "42", "1000", str(MAX_ID)])
def test_a_plain_id_is_what_validation_reads(raw):
    assert plain_id(raw) == AS_ID.validate_python(raw)


@pytest.mark.parametrize(
    "raw", ["", "0", "007", "+5", "-5", " 5", "5 ", "1_000", "٣", "²", "1e3", "abc", str(MAX_ID + 1),
            "9" * 40, None, 5]
)  # fmt: skip
def test_anything_else_is_left_to_validation(raw):
    assert plain_id(raw) is None
    if isinstance(raw, str):
        with pytest.raises(ValidationError):  # what validation refuses is never read as an id
            AS_ID.validate_python(raw)


@pytest.mark.parametrize("raw", ["+1", "%201", "01", "1_0", "1.0"])
async def test_an_id_written_another_way_is_refused_on_every_kind_of_parameter(client, auth, raw):
    """ "+1" read as 1: one stall had as many addresses (and cache keys) as ways to write its id."""
    headers = await auth("admin")
    for path in (
        f"/api/markets/{raw}",  # a path id
        f"/api/coverage/history?market_id={raw}",  # a query id
    ):
        r = await client.get(path, headers=headers)
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "invalid_id", r.text
    assert (await client.get("/api/markets/1", headers=headers)).status_code in (200, 404)
