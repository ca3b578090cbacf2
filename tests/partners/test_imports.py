"""Partner report import (CSV) on the real database: row results, dry runs, repeat files, limits."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_KEYS, stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def register(
    client, headers, market_id: int, code: str, phone: str, accounts: list[dict]
) -> dict:
    body = stall_body(
        code, payment_accounts=accounts, holder={"full_name": "Đỗ Thị Lan", "phone": phone}
    )
    r = await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())
    assert r.status_code == 201, r.text
    return r.json()


async def upload(
    client, headers, data: bytes, *, code: str = "MB", dry_run: bool = False, name: str = "r.csv"
):
    return await client.post(
        f"/api/partners/{code}/imports" + ("?dry_run=true" if dry_run else ""),
        files={"file": (name, data, "text/csv")},
        headers=headers,
    )


async def state(conn) -> tuple:
    rows = await conn.fetch(
        "SELECT o.payment_account_id, o.partner_code, o.status, o.channel, "
        "(SELECT count(*) FROM onboarding_status h WHERE h.onboarding_id = o.id) AS changes "
        "FROM onboarding o ORDER BY o.id"
    )
    imports = await conn.fetchval("SELECT count(*) FROM partner_import")
    return tuple(tuple(r) for r in rows), imports


@pytest.fixture
async def stalls(client, auth, markets) -> dict[str, dict]:
    """Three stalls in 'Chợ Thử Một' with MB accounts (untagged) and one in 'Chợ Thử Hai'."""
    admin = await auth("admin")
    return {
        "A-1": await register(
            client,
            admin,
            markets["one"],
            "A-1",
            "0905000001",
            [{"bin": "970422", "account_number": "6600001"}],
        ),
        "A-2": await register(
            client,
            admin,
            markets["one"],
            "A-2",
            "0905000002",
            [{"bin": "970422", "account_number": "6600002"}],
        ),
        "A-3": await register(
            client,
            admin,
            markets["one"],
            "A-3",
            "0905000003",
            [
                {"bin": "970436", "account_number": "6600003"},
                {"bin": "970422", "account_number": "6600004"},
            ],
        ),
        "B-1": await register(
            client,
            admin,
            markets["two"],
            "B-1",
            "0905000009",
            [{"bin": "970422", "account_number": "6600009"}],
        ),
    }


REPORT = (
    "\ufeffCho;Ma sap;SDT;STK;Trang thai;Ngay\r\n"
    "Chợ Thử Một;A-1;;;Đang hoạt động;2026-11-20\r\n"
    ";;0905 000 002;;pending;21/11/2026\r\n"
    ";;;6600004;active;\r\n"
    "Thử Hai;b-1;;;;\r\n"
    "Chợ Thử Một;Z-99;;;active;\r\n"
    ";;;6600001;bogus;\r\n"
    "Chợ Không Có;A-1;;;active;\r\n"
).encode()


async def test_a_report_creates_onboardings_and_reports_every_row(client, conn, auth, stalls):
    admin = await auth("admin")
    r = await upload(client, admin, REPORT)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (
        result["dry_run"] is False and result["already_imported"] is False and result["import_id"]
    )
    rows = {row["line"]: row for row in result["rows"]}
    assert [(line, rows[line]["result"]) for line in sorted(rows)] == [
        (2, "created"),
        (3, "created"),
        (4, "created"),
        (5, "created"),
        (6, "error"),
        (7, "error"),
        (8, "error"),
    ]
    assert rows[2]["stall_id"] == stalls["A-1"]["id"] and rows[2]["status"] == "active"
    assert rows[3]["payment_account_id"] == stalls["A-2"]["payment_accounts"][0]["id"]
    assert rows[3]["status"] == "pending"
    # A-3 shows two accounts; the row named the MB one by number.
    assert rows[4]["payment_account_id"] == stalls["A-3"]["payment_accounts"][1]["id"]
    assert (
        rows[5]["stall_id"] == stalls["B-1"]["id"]
    )  # "Thử Hai" = "Chợ Thử Hai", code case ignored
    assert "no stall 'Z-99'" in rows[6]["reason"]
    assert "unknown status 'bogus'" in rows[7]["reason"]
    assert "unknown market" in rows[8]["reason"]
    # The same reasons in Vietnamese, for the partner's page.
    assert rows[6]["reason_vi"].startswith("không có sạp “Z-99” ở chợ")
    assert rows[7]["reason_vi"] == "không nhận ra trạng thái “bogus”"
    assert rows[8]["reason_vi"].startswith("không tìm thấy chợ “")
    assert all(r["reason_vi"] is None for r in rows.values() if r["result"] != "error")
    assert result["counts"] == {"created": 4, "matched": 0, "unchanged": 0, "error": 3}
    onboardings = await client.get(f"/api/stalls/{stalls['A-1']['id']}/onboardings", headers=admin)
    [onboarding] = onboardings.json()
    assert (onboarding["partner_code"], onboarding["channel"], onboarding["status"]) == (
        "MB",
        "partner_import",
        "active",
    )
    assert onboarding["history"][0]["effective_on"] == "2026-11-20"
    assert onboarding["history"][0]["source"] == "partner_import"
    audit = await conn.fetchrow("SELECT after FROM audit_log WHERE entity = 'partner_import'")
    assert audit["after"]["counts"]["created"] == 4


async def test_the_same_file_again_changes_nothing(client, conn, auth, stalls):
    admin = await auth("admin")
    await upload(client, admin, REPORT)
    # Someone suspends one onboarding by hand in between: the old file must not revert it.
    first = await client.get(f"/api/stalls/{stalls['A-1']['id']}/onboardings", headers=admin)
    account_id = first.json()[0]["payment_account_id"]
    await client.post(
        f"/api/stalls/{stalls['A-1']['id']}/onboardings",
        json={
            "payment_account_id": account_id,
            "partner_code": "MB",
            "channel": "field_visit",
            "status": "suspended",
        },
        headers=admin,
    )
    before = await state(conn)
    again = await upload(client, admin, REPORT, name="same-file-new-name.csv")
    assert again.status_code == 200
    assert again.json()["already_imported"] is True and again.json()["import_id"] is None
    results = [row["result"] for row in again.json()["rows"]]
    assert results == ["unchanged"] * 4 + ["error"] * 3
    assert "already imported" in again.json()["rows"][0]["reason"]
    assert again.json()["rows"][0]["reason_vi"].startswith("tệp này đã được nhập")
    assert await state(conn) == before


async def test_a_changed_report_moves_statuses_and_refuses_invalid_transitions(
    client, conn, auth, stalls
):
    admin = await auth("admin")
    await upload(client, admin, REPORT)
    # Two lines for one account: the newer by its date is applied, the other left unchanged.
    update = (
        "market,stall_code,status,date\n"
        "Chợ Thử Một,A-1,suspended,2026-11-25\n"
        "Chợ Thử Một,A-2,pending,2026-11-21\n"
        "Chợ Thử Một,A-2,active,2026-11-22\n"
        "Chợ Thử Một,A-3,removed,2026-11-23\n"
        "Chợ Thử Một,A-3,active,2026-11-22\n"
    ).encode()
    r = await upload(client, admin, update)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(row["line"], row["result"]) for row in rows] == [
        (2, "matched"),
        (3, "unchanged"),
        (4, "matched"),
        (5, "matched"),
        (6, "unchanged"),
    ]
    assert rows[3]["reason_vi"] is None and "dòng 5" in rows[4]["reason_vi"]
    # Removed is for good.
    r = await upload(
        client,
        admin,
        "market,stall_code,status\nChợ Thử Một,A-3,active\n".encode(),
    )
    [row] = r.json()["rows"]
    assert row["result"] == "error" and "cannot become active" in row["reason"]
    statuses = await conn.fetch(
        "SELECT a.account_number, o.status FROM onboarding o JOIN payment_account a "
        "ON a.id = o.payment_account_id"
    )
    assert sorted((TEST_KEYS.open(s[0]), s[1]) for s in statuses) == [
        ("6600001", "suspended"),
        ("6600002", "active"),
        ("6600004", "removed"),
        ("6600009", "active"),
    ]


async def test_dry_run_reports_the_same_and_writes_nothing(client, conn, auth, stalls):
    admin = await auth("admin")
    before = await state(conn)
    dry = await upload(client, admin, REPORT, dry_run=True)
    assert (
        dry.status_code == 200 and dry.json()["dry_run"] is True and dry.json()["import_id"] is None
    )
    assert await state(conn) == before
    real = await upload(client, admin, REPORT)
    assert [row["result"] for row in real.json()["rows"]] == [
        row["result"] for row in dry.json()["rows"]
    ]
    assert real.json()["already_imported"] is False


async def test_a_row_naming_two_different_stalls_is_an_error(client, auth, stalls):
    admin = await auth("admin")
    data = "market,stall_code,phone\nChợ Thử Một,A-1,0905000002\n".encode()
    r = await upload(client, admin, data)
    [row] = r.json()["rows"]
    assert row["result"] == "error" and "different stalls" in row["reason"]


async def test_a_stall_with_no_clear_account_of_the_partner_is_an_error(
    client, auth, markets, stalls
):
    admin = await auth("admin")
    data = "market,stall_code\nChợ Thử Một,A-3\n".encode()
    # No account of A-3 is Viettel Money's: to it the stall reads as one that does not exist.
    [row] = (await upload(client, admin, data, code="VIETTELMONEY")).json()["rows"]
    assert row["result"] == "error" and row["stall_id"] is None
    assert "with a payment account of this partner" in row["reason"]
    # For MB the stall's MB account (BIN 970422) is the clear choice.
    [row] = (await upload(client, admin, data, code="MB")).json()["rows"]
    assert row["result"] == "created"
    assert row["payment_account_id"] == stalls["A-3"]["payment_accounts"][1]["id"]
    # Two untagged MB accounts: neither stands out.
    await register(
        client,
        admin,
        markets["one"],
        "A-4",
        "0905000004",
        [
            {"bin": "970422", "account_number": "6600005"},
            {"bin": "970422", "account_number": "6600006"},
        ],
    )
    [row] = (await upload(client, admin, "market,stall_code\nChợ Thử Một,A-4\n".encode())).json()[
        "rows"
    ]
    assert row["result"] == "error" and "add account_number" in row["reason"]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"", 1),
        (b"name,goods\nx,y\n", 1),  # no column to find the stall by
        ("stall_code,market\nA-1,Chợ Thử Một\nA-2,Chợ Thử Một,extra\n".encode(), 3),
        ('stall_code,market\nA-1,"Chợ Thử Một\n'.encode(), 2),
        (b"stall_code,market\nA-1,\xff\xfe\n", 2),
    ],
)
async def test_a_malformed_file_is_422_with_the_line(client, conn, auth, stalls, data, line):
    before = await state(conn)
    r = await upload(client, await auth("admin"), data)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "malformed_csv" and r.json()["line"] == line
    assert r.json()["detail_vi"]  # why, in Vietnamese (the partner page shows it)
    assert r.headers["content-type"] == "application/problem+json"
    assert await state(conn) == before


async def test_a_report_of_more_rows_than_one_file_takes_is_refused(client, conn, auth):
    """A 200,000-row CSV was checked in 5 s with a 65 MB answer: more than MAX_ROWS is refused
    whole, in Vietnamese, and changes nothing."""
    from partners.report_file import MAX_ROWS

    before = await state(conn)
    data = b"stall_code,market\n" + b"A-1,Cho Thu Mot\n" * (MAX_ROWS + 1)
    r = await upload(client, await auth("admin"), data)
    assert (r.status_code, r.json()["code"]) == (422, "too_many_rows"), r.text[:300]
    assert "chia thành nhiều tệp" in r.json()["detail_vi"]
    assert await state(conn) == before
    ok = b"stall_code,market\n" + b"A-1,Cho Thu Mot\n" * MAX_ROWS
    assert (await upload(client, await auth("admin"), ok, dry_run=True)).status_code == 200


async def test_a_file_over_20_mb_is_413(client, conn, auth):
    before = await state(conn)
    data = b"stall_code,market\n" + b"A-1,Cho Thu Mot\n" * (21 * 1024 * 1024 // 15)
    assert len(data) > 21 * 1024 * 1024 - 100
    r = await upload(client, await auth("admin"), data)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert r.headers["content-type"] == "application/problem+json"
    assert await state(conn) == before


async def test_who_may_import(client, auth, stalls):
    data = "market,stall_code\nChợ Thử Một,A-1\n".encode()
    for role in ("manager", "volunteer", "viewer"):
        assert (await upload(client, await auth(role), data)).status_code == 403, role
    partner = await auth("partner")  # MB
    # Another partner's code answers as a code that does not exist (its other routes do).
    vcb = await upload(client, partner, data, code="VCB")
    nope = await upload(client, partner, data, code="NOPE")
    assert (vcb.status_code, vcb.json()["code"]) == (404, "partner_not_found")
    assert vcb.json() | {"detail": ""} == nope.json() | {"detail": ""}
    own = await upload(client, partner, data)
    assert own.status_code == 200 and own.json()["rows"][0]["result"] == "created"
    assert (await upload(client, await auth("admin"), data, code="NOPE")).status_code == 404
    missing_file = await client.post("/api/partners/MB/imports", headers=partner)
    assert missing_file.status_code == 422


async def test_control_characters_in_a_report_are_row_errors_not_500(client, conn, auth, stalls):
    csv = (
        "market,stall_code,account_number,bin\nChợ Thử Một,A\x00-1,,\nChợ Thử Một,,66\x0000001,\n"
        # A real account number with a NUL in its BIN: the reason names the BIN, escaped.
        "Chợ Thử Một,,0123456789,9704\x0022\n"
    )
    # A hand-made multipart body: httpx would percent-encode the control character in the name.
    body = (
        b"--B0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="bad\x07name.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + csv.encode() + b"\r\n--B0undary--\r\n"
    )
    headers = await auth("admin") | {"Content-Type": "multipart/form-data; boundary=B0undary"}
    r = await client.post("/api/partners/MB/imports", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert [row["result"] for row in r.json()["rows"]] == ["error", "error", "error"]
    assert "\\x00" in r.json()["rows"][2]["reason_vi"]
    # Each row says which stall of the file it is, control characters escaped as in the reasons.
    first = r.json()["rows"][0]
    assert (first["market"], first["stall_code"]) == ("Chợ Thử Một", "A\\x00-1")
    assert await conn.fetchval("SELECT filename FROM partner_import") == "badname.csv"


async def test_a_row_that_does_not_parse_echoes_its_stall_escaped(client, conn, auth, stalls):
    """A row refused before it is matched (an unknown status) still names its stall, control
    characters escaped as for the others: a NUL in it must not reach the stored summary (500)."""
    csv = "market,stall_code,status\nChợ Thử Một,B\x00-2,bogus\n"
    body = (
        b"--B0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="nul.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + csv.encode() + b"\r\n--B0undary--\r\n"
    )
    headers = await auth("admin") | {"Content-Type": "multipart/form-data; boundary=B0undary"}
    for dry_run in ("true", "false"):
        r = await client.post(
            f"/api/partners/MB/imports?dry_run={dry_run}", content=body, headers=headers
        )
        assert r.status_code == 200, r.text
        [row] = r.json()["rows"]
        assert row["result"] == "error"
        assert (row["market"], row["stall_code"]) == ("Chợ Thử Một", "B\\x00-2")


async def test_a_row_refused_for_its_format_also_says_its_market_is_unknown(client, auth, stalls):
    """A reviewer's row had a bad date and an unknown market: the preview said the date only, and
    the market came out once the date was fixed. Both are said at once now; a known market adds
    nothing."""
    data = (
        "market,stall_code,status,date\n"
        "Chợ Không Có,A-1,active,31/02/2026\n"
        "Chợ Thử Một,A-2,active,31/02/2026\n"
    ).encode()
    r = await upload(client, await auth("admin"), data, dry_run=True)
    assert r.status_code == 200, r.text
    first, second = r.json()["rows"]
    assert first["result"] == second["result"] == "error"
    assert first["reason_vi"] == (
        "ngày không đọc được “31/02/2026” (viết DD/MM/YYYY hoặc YYYY-MM-DD); "
        "không tìm thấy chợ “Chợ Không Có”"
    ), first
    assert first["reason"].endswith("; unknown market 'Chợ Không Có'")
    assert "chợ" not in second["reason_vi"].removeprefix("ngày")


async def test_an_excel_report_is_read_like_the_csv_one(client, conn, auth, stalls):
    """Partners keep their reports in Excel: the first sheet of an .xlsx is read with the same
    columns and rules. A number cell is its digits, a date cell its day; a damaged workbook is
    refused with core.spreadsheet's code and changes nothing."""
    import io
    from datetime import date

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Chợ", "Mã sạp", "SĐT", "STK", "Trạng thái", "Ngày"])
    ws.append(["Chợ Thử Một", "A-1", None, None, "Đang hoạt động", date(2026, 11, 20)])
    ws.append([None, None, "0905 000 002", None, "pending", "21/11/2026"])
    ws.append([None, None, None, 6600004, "active", None])
    ws.append([])
    ws.append(["Chợ Thử Một", "Z-99", None, None, "active", None])
    out = io.BytesIO()
    wb.save(out)
    admin = await auth("admin")
    r = await upload(client, admin, out.getvalue(), name="bao-cao.xlsx")
    assert r.status_code == 200, r.text
    rows = {row["line"]: row for row in r.json()["rows"]}
    assert [(line, rows[line]["result"]) for line in sorted(rows)] == [
        (2, "created"),
        (3, "created"),
        (4, "created"),
        (6, "error"),
    ]
    assert rows[2]["stall_id"] == stalls["A-1"]["id"] and rows[2]["status"] == "active"
    assert rows[4]["payment_account_id"] == stalls["A-3"]["payment_accounts"][1]["id"]
    assert "no stall 'Z-99'" in rows[6]["reason"]
    onboardings = await client.get(f"/api/stalls/{stalls['A-1']['id']}/onboardings", headers=admin)
    assert onboardings.json()[0]["history"][0]["effective_on"] == "2026-11-20"

    before = await state(conn)
    for data, name in ((b"PK\x03\x04 not a workbook", "r.xlsx"), (b"\x00\x01", "bao-cao.xlsx")):
        r = await upload(client, admin, data, name=name)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_xlsx"), r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "Không đọc được tệp Excel" in r.json()["detail_vi"]
    # A status written as a formula with no stored result (a script's file) was read as empty.
    wb = Workbook()
    wb.active.append(["Chợ", "Mã sạp", "Trạng thái"])
    wb.active.append(["Chợ Thử Một", "A-1", '=LOWER("SUSPENDED")'])
    out = io.BytesIO()
    wb.save(out)
    r = await upload(client, admin, out.getvalue(), name="bao-cao-script.xlsx")
    assert (r.status_code, r.json()["code"], r.json()["cell"]) == (
        422,
        "formula_without_value",
        "C2",
    ), r.text
    assert r.json()["detail_vi"].startswith("Ô C2 có công thức")
    assert await state(conn) == before
