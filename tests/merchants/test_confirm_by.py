"""How a stallholder learns that a payment arrived (stall.confirm_by, users_want #23): asked when the
sign is handed over, edited like the stall's other fields (PATCH, If-Match), in its history and
its exports; null (not asked) is never shown as "none"."""

from __future__ import annotations

import csv
import io
import uuid

import asyncpg
import openpyxl
import pytest

from tests.conftest import stall_body
from tests.merchants.test_privacy import pdf_text


async def _register(client, h, market_id: int, code: str = "C-1") -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code) | {"confirm_duplicate": True},  # the same person, several stalls
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _patch(client, h, stall: dict, body: dict):
    return await client.patch(
        f"/api/stalls/{stall['id']}", json=body, headers=h | {"If-Match": f'"{stall["version"]}"'}
    )


async def test_a_new_stall_was_not_asked_and_an_answer_is_kept_in_order(client, auth, markets):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"])
    assert stall["confirm_by"] is None  # not asked: not "none"
    r = await _patch(client, h, stall, {"confirm_by": ["sms", "sound_box", "sms"]})
    assert r.status_code == 200, r.text
    # Each tool once, in one order, whatever order the ticks came in.
    assert r.json()["confirm_by"] == ["sound_box", "sms"]
    assert r.json()["version"] == stall["version"] + 1
    got = (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()
    assert got["confirm_by"] == ["sound_box", "sms"]
    # Asked, and the stallholder checks nothing: [] (not null).
    r = await _patch(client, h, got, {"confirm_by": []})
    assert r.status_code == 200 and r.json()["confirm_by"] == []
    # Another edit leaves the answer alone; null takes it back.
    r = await _patch(client, h, r.json(), {"goods": "Rau"})
    assert r.json()["confirm_by"] == []
    r = await _patch(client, h, r.json(), {"confirm_by": None})
    assert r.json()["confirm_by"] is None


@pytest.mark.parametrize(
    "value",
    [["loa"], "sound_box", [None], ["bank_app", "sms", "sound_box", "sms"], [1], [["sms"]]],
)
async def test_a_wrong_answer_is_refused_and_changes_nothing(client, auth, markets, conn, value):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"])
    r = await _patch(client, h, stall, {"confirm_by": value})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_error"
    assert r.json()["field"].split(".")[0] == "confirm_by"
    row = await conn.fetchrow("SELECT confirm_by, version FROM stall WHERE id = $1", stall["id"])
    assert (row["confirm_by"], row["version"]) == (None, stall["version"])


async def test_the_database_keeps_only_known_tools(conn, client, auth, markets):
    stall = await _register(client, await auth("volunteer"), markets["one"])
    for bad in (["loa"], ["sms", None]):
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():  # a savepoint: the next try starts clean
                await conn.execute(
                    "UPDATE stall SET confirm_by = $1 WHERE id = $2", bad, stall["id"]
                )


async def test_history_and_exports_say_it(client, auth, markets, conn):
    h = await auth("volunteer")
    asked = await _register(client, h, markets["one"], "C-1")
    nothing = await _register(client, h, markets["one"], "C-2")
    await _register(client, h, markets["one"], "C-3")  # not asked
    await _patch(client, h, asked, {"confirm_by": ["bank_app", "sound_box"]})
    await _patch(client, h, nothing, {"confirm_by": []})

    entries = (await client.get(f"/api/stalls/{asked['id']}/history", headers=h)).json()
    assert entries[0]["action"] == "update"
    assert entries[0]["changes"] == [
        {"field": "confirm_by", "before": None, "after": "bank_app,sound_box"}
    ]
    entries = (await client.get(f"/api/stalls/{nothing['id']}/history", headers=h)).json()
    assert entries[0]["changes"] == [{"field": "confirm_by", "before": None, "after": "none"}]

    r = await client.get(f"/api/exports/stalls.csv?market_id={markets['one']}", headers=h)
    rows = {
        row["stall_code"]: row["confirm_by"]
        for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
    }
    assert rows == {"C-1": "bank_app sound_box", "C-2": "none", "C-3": ""}

    r = await client.get(f"/api/exports/stalls.xlsx?market_id={markets['one']}", headers=h)
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    table = list(ws.iter_rows(values_only=True))
    header = list(table[0])
    column, code = header.index("Cách biết tiền về"), header.index("Mã sạp")
    shown = {row[code]: row[column] for row in table[1:]}
    assert shown == {
        "C-1": "Thông báo trên ứng dụng ngân hàng/ví, Loa báo tiền",
        "C-2": "Chưa có cách nào",
        "C-3": None,
    }

    r = await client.get(f"/api/exports/stalls.geojson?market_id={markets['one']}", headers=h)
    props = {f["properties"]["stall_code"]: f["properties"] for f in r.json()["features"]}
    assert props["C-1"]["confirm_by"] == "bank_app sound_box"
    assert props["C-3"]["confirm_by"] in (None, "")

    # The CSV keeps its earlier columns in place: the new one comes last (before personal ones).
    r = await client.get(f"/api/exports/stalls.csv?market_id={markets['one']}", headers=h)
    header = r.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[header.index("location_source") + 1] == "confirm_by"


async def test_an_entry_from_before_the_field_shows_no_change_of_it(client, auth, markets, conn):
    """Audit entries written before migration 0020 have no confirm_by: nothing is made up."""
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"])
    await _patch(client, h, stall, {"goods": "Cá"})
    await conn.execute(
        """UPDATE audit_log SET before = before - 'confirm_by', after = after - 'confirm_by'
           WHERE entity = 'stall' AND entity_id = $1""",
        str(stall["id"]),
    )
    entries = (await client.get(f"/api/stalls/{stall['id']}/history", headers=h)).json()
    assert entries[0]["changes"] == [{"field": "goods", "before": "Rau củ", "after": "Cá"}]


async def test_the_persons_export_has_the_answer(client, auth, markets):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"])
    await _patch(client, h, stall, {"confirm_by": ["sound_box"]})
    holder = stall["holder"]["id"]
    manager = await auth("manager")
    r = await client.post(f"/api/stallholders/{holder}/export", headers=manager)
    assert r.status_code == 200, r.text
    assert [s["confirm_by"] for s in r.json()["stalls"]] == [["sound_box"]]
    r = await client.post(f"/api/stallholders/{holder}/export?format=pdf", headers=manager)
    text = " ".join(pdf_text(r.content).split())
    assert "Cách biết tiền về" in text and "Loa báo tiền" in text


async def test_a_market_counts_its_answers_for_everyone_who_reads_it(client, auth, markets):
    h = await auth("volunteer")
    stalls = [await _register(client, h, markets["one"], f"K-{i}") for i in range(5)]
    answers = [["bank_app", "sound_box"], ["sound_box", "sms"], [], None]
    for stall, answer in zip(stalls, answers, strict=False):
        if answer is not None:
            r = await _patch(client, h, stall, {"confirm_by": answer})
            assert r.status_code == 200, r.text
    closed = await _patch(client, h, stalls[4], {"status": "closed", "confirm_by": ["sms"]})
    assert closed.status_code == 200, closed.text  # not active: not counted
    url = f"/api/markets/{markets['one']}/confirm-by"
    for who in ("volunteer", "manager", "viewer", "admin"):
        r = await client.get(url, headers=await auth(who))
        assert r.status_code == 200, (who, r.text)
        assert r.json() == {
            "market_id": markets["one"], "active_stalls": 4, "asked": 3, "bank_app": 1,
            "sound_box": 2, "sms": 1, "none": 1,
        }  # fmt: skip
    # Out of scope reads like a market that does not exist.
    r = await client.get(f"/api/markets/{markets['two']}/confirm-by", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "market_not_found"
    r = await client.get("/api/markets/999999/confirm-by", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "market_not_found"
