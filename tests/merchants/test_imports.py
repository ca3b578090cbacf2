"""Stall list imports: a board's .xlsx/.csv, answered row by row, written once, without consent."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from coverage import counters
from merchants.queries import stalls as stalls_q
from tests.conftest import stall_body

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS_VI = [
    "Mã sạp",
    "Khu",
    "Họ tên",
    "Số điện thoại",
    "Mặt hàng",
    "Ngân hàng",
    "Số tài khoản",
    "Tên chủ tài khoản",
]
# The board's list: three good rows (a phone typed as a number, as Excel keeps it), one without
# an account, one with a bank by its BIN.
BOARD = [
    HEADERS_VI,
    ["A-1", "A", "Nguyễn Thị Hoa", "0905 111 222", "Rau củ", "Vietcombank", "0011223344", None],
    ["A-2", "A", "Trần Văn Bình", 905333444, "Cá", "MB", "1234567890", "TRAN VAN BINH"],
    ["B-1", "B", "Lê Thị Cúc", None, "Vải", None, None, None],
    ["B-2", "B", "Phạm Văn Dũng", "0912 000 111", None, "970418", "99887766", None],
]


def xlsx(rows: list[list[Any]], title: str = "Danh sách") -> bytes:
    """A real workbook, as Excel saves it (openpyxl)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def upload(
    client,
    headers: dict[str, str],
    market_id: int,
    data: bytes,
    *,
    filename: str = "danh-sach-sap.xlsx",
    dry_run: bool = False,
    list_date: str | None = "2026-11-30",
    content_type: str = XLSX,
):
    form = {"list_date": list_date} if list_date is not None else {}
    return await client.post(
        f"/api/markets/{market_id}/stalls/import",
        params={"dry_run": "true"} if dry_run else {},
        files={"file": (filename, data, content_type)},
        data=form,
        headers=headers,
    )


async def state(conn) -> dict[str, int]:
    """Everything an import could write."""
    counts = await stalls_q.table_counts(conn)
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM stall_import) AS stall_import,
                  (SELECT count(*) FROM audit_log) AS audit_log,
                  (SELECT count(*) FROM stall_coverage) AS stall_coverage,
                  (SELECT count(*) FROM onboarding) AS onboarding,
                  (SELECT coalesce(sum(active_stalls), 0) FROM market_coverage) AS counted,
                  (SELECT coalesce(max(version), 0) FROM stall) AS max_version,
                  (SELECT count(*) FROM stall WHERE updated_at <> created_at) AS edited"""
    )
    return counts | dict(row)


def by_line(body: dict) -> dict[int, dict]:
    return {r["line"]: r for r in body["rows"]}


async def test_dry_run_answers_every_row_and_writes_nothing(client, conn, auth, markets):
    headers = await auth("manager")
    before = await state(conn)
    r = await upload(client, headers, markets["one"], xlsx(BOARD), dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["written"] is False and body["import_id"] is None
    assert body["counts"] == {"created": 4, "updated": 0, "unchanged": 0, "error": 0}
    assert [(x["line"], x["status"], x["stall_code"]) for x in body["rows"]] == [
        (2, "created", "A-1"),
        (3, "created", "A-2"),
        (4, "created", "B-1"),
        (5, "created", "B-2"),
    ]
    assert [c["field"] for c in body["columns"]] == [
        "stall_code", "zone", "full_name", "phone", "goods", "bank", "account_number",
        "account_name",
    ]  # fmt: skip
    assert body["list_date"] == "2026-11-30" and len(body["sha256"]) == 64
    assert await state(conn) == before


async def test_real_run_creates_stalls_to_visit_counted_like_registrations(
    client, conn, auth, markets
):
    headers = await auth("manager")
    before = await state(conn)
    r = await upload(client, headers, markets["one"], xlsx(BOARD))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["written"] is True and body["counts"]["created"] == 4
    import_id = body["import_id"]
    ids = {x["stall_code"]: x["stall_id"] for x in body["rows"]}
    assert all(ids.values())

    stall = (await client.get(f"/api/stalls/{ids['A-2']}", headers=headers)).json()
    assert stall["source"] == {"kind": "import", "import_id": import_id, "list_date": "2026-11-30"}
    assert stall["holder"]["full_name"] == "Trần Văn Bình"
    assert stall["holder"]["phone"] == "+84905333444"  # the number cell lost its 0, not the phone
    [account] = stall["payment_accounts"]
    assert (account["bin"], account["account_number"], account["account_name"]) == (
        "970422",
        "1234567890",
        "TRAN VAN BINH",
    )
    assert account["partner_code"] is None
    b1 = (await client.get(f"/api/stalls/{ids['B-1']}", headers=headers)).json()
    assert b1["payment_accounts"] == [] and b1["holder"]["phone"] is None

    # No consent of any kind: the stallholders have not been asked.
    for stall_id in ids.values():
        holder = await conn.fetchval("SELECT holder_id FROM stall WHERE id = $1", stall_id)
        consents = await client.get(f"/api/stallholders/{holder}/consents", headers=headers)
        assert consents.status_code == 200 and consents.json()["active_purposes"] == []
    after = await state(conn)
    assert after["consent"] == before["consent"] and after["onboarding"] == before["onboarding"]

    # Counted exactly like registered stalls: market numbers, zones, and a full recount agree.
    cov = (await client.get(f"/api/markets/{markets['one']}/coverage", headers=headers)).json()
    assert cov["active_stalls"] == 4
    assert {z["zone"]: z["active_stalls"] for z in cov["zones"]} == {"A": 2, "B": 2}
    assert (await counters.recount(conn, window_days=30)).ok

    # The import is recorded with its source, and each stall and the import are audited.
    rec = await conn.fetchrow("SELECT * FROM stall_import WHERE id = $1", import_id)
    assert (rec["market_id"], rec["filename"], str(rec["list_date"])) == (
        markets["one"],
        "danh-sach-sap.xlsx",
        "2026-11-30",
    )
    assert (rec["row_count"], rec["created_count"], rec["error_count"]) == (4, 4, 0)
    assert rec["uploaded_by"] == await conn.fetchval(
        "SELECT id FROM app_user WHERE username = 'manager'"
    )
    audited = await conn.fetch(
        "SELECT entity, after FROM audit_log WHERE action = 'import' ORDER BY id"
    )
    assert [a["entity"] for a in audited] == ["stall"] * 4 + ["stall_import"]
    assert "0905111222" not in str([a["after"] for a in audited])  # phones masked
    assert "0011223344" not in str([a["after"] for a in audited])  # account numbers too

    # They are in the market's stall list (the tablet's worklist).
    page = (await client.get(f"/api/markets/{markets['one']}/stalls", headers=headers)).json()
    assert [i["stall_code"] for i in page["items"]] == ["A-1", "A-2", "B-1", "B-2"]


async def test_the_same_file_twice_changes_nothing(client, conn, auth, markets):
    headers = await auth("admin")
    data = xlsx(BOARD)
    first = await upload(client, headers, markets["one"], data)
    assert first.json()["counts"]["created"] == 4
    before = await state(conn)
    again = await upload(client, headers, markets["one"], data)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "error": 0}
    assert body["written"] is False and body["import_id"] is None
    assert {x["stall_id"] for x in body["rows"]} == {x["stall_id"] for x in first.json()["rows"]}
    assert all(x["changed"] == [] and x["kept"] == [] for x in body["rows"])
    assert await state(conn) == before
    # The same stalls in another case and with blank optional cells are the same stalls too.
    lower = [BOARD[0], ["a-1", None, "Nguyễn Thị Hoa", None, None, None, None, None]]
    third = (await upload(client, headers, markets["one"], xlsx(lower))).json()
    assert third["rows"][0]["status"] == "unchanged" and third["written"] is False


async def test_a_new_list_updates_only_stalls_nobody_has_visited(client, conn, auth, markets):
    headers = await auth("manager")
    first = (await upload(client, headers, markets["one"], xlsx(BOARD))).json()
    ids = {x["stall_code"]: x["stall_id"] for x in first["rows"]}
    # A volunteer meets the holder of A-2 and records her consent; a tablet registers C-1.
    volunteer = await auth("volunteer")
    holder = await conn.fetchval("SELECT holder_id FROM stall WHERE id = $1", ids["A-2"])
    granted = await client.post(
        f"/api/stallholders/{holder}/consents",
        json={"notice_version": "2026-01", "purposes": ["registration", "qr_sign"]},
        headers=volunteer,
    )
    assert granted.status_code == 200, granted.text
    registered = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("C-1", holder={"full_name": "Võ Thị Em", "phone": "0935 222 333"}),
        headers=volunteer | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert registered.status_code == 201, registered.text

    newer = [
        HEADERS_VI,
        # moved to zone B, another account number, new phone
        ["A-1", "B", "Nguyễn Thị Hoa", "0905 999 000", "Rau củ", "VCB", "5566778899", None],
        # visited since, so the list's new goods are kept out
        ["A-2", "A", "Trần Văn Bình", 905333444, "Cá khô", "MB", "1234567890", "TRAN VAN BINH"],
        # C-1: registered on a tablet, never changed by a list
        ["C-1", "A", "Võ Thị Em", "0935 222 333", "Hoa quả", None, None, None],
    ]
    before_version = await conn.fetchval("SELECT version FROM stall WHERE id = $1", ids["A-2"])
    r = await upload(client, headers, markets["one"], xlsx(newer), list_date="01/12/2026")
    assert r.status_code == 200, r.text
    rows = by_line(r.json())
    assert (rows[2]["status"], rows[2]["changed"]) == ("updated", ["zone", "phone", "account"])
    assert (rows[3]["status"], rows[3]["kept"], rows[3]["note_code"]) == (
        "unchanged",
        ["goods"],
        "consent_recorded",
    )
    assert "đồng ý" in rows[3]["note"]
    assert (rows[4]["status"], rows[4]["kept"], rows[4]["note_code"]) == (
        "unchanged",
        ["goods"],
        "registered_on_tablet",
    )
    a1 = (await client.get(f"/api/stalls/{ids['A-1']}", headers=headers)).json()
    assert (a1["zone"], a1["holder"]["phone"]) == ("B", "+84905999000")
    assert [(a["bin"], a["account_number"]) for a in a1["payment_accounts"]] == [
        ("970436", "5566778899")
    ]
    assert a1["source"]["import_id"] == first["import_id"]  # the import that created it
    assert await conn.fetchval("SELECT version FROM stall WHERE id = $1", ids["A-2"]) == (
        before_version
    )
    assert await conn.fetchval("SELECT goods FROM stall WHERE id = $1", ids["A-2"]) == "Cá"
    # The zone move reached the counters' zone numbers, and everything still recounts.
    cov = (await client.get(f"/api/markets/{markets['one']}/coverage", headers=headers)).json()
    assert {z["zone"]: z["active_stalls"] for z in cov["zones"]} == {"A": 2, "B": 3}
    assert (await counters.recount(conn, window_days=30)).ok
    audit = await conn.fetchrow(
        "SELECT before, after FROM audit_log WHERE action = 'import' AND entity = 'stall' "
        "AND entity_id = $1 ORDER BY id DESC LIMIT 1",
        str(ids["A-1"]),
    )
    assert (audit["before"]["zone"], audit["after"]["zone"]) == ("A", "B")


async def test_row_errors_name_the_line_the_column_and_the_rule(client, conn, auth, markets):
    headers = await auth("admin")
    existing = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("Z-1", holder={"full_name": "Đỗ Văn Giang", "phone": "0905 777 888"}),
        headers=await auth("volunteer") | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert existing.status_code == 201
    # Headers in another case and without diacritics, an unknown column, a blank line.
    rows = [
        ["MÃ SẠP", "ho ten", "So dien thoai", "ngan hang", "so tai khoan", "Ghi chú"],
        ["D-1", "Hoa 🌸", "12345", "CIMB", "123", None],  # line 2: three errors
        [None, None, None, None, None, None],  # line 3: blank, skipped but counted
        ["D-1", "Ngô Thị Hạnh", None, None, None, None],  # line 4: code twice in the file
        ["D-2", None, None, "Ngân hàng Mặt Trăng", "111", None],  # line 5
        ["D-3", "Mai Văn Ích", "0905 777 888", None, None, None],  # line 6: Z-1's phone
        ["D-4", "Lý Thị Kim", "0905 777 888", None, None, "Có"],  # line 7: same again
        ["D-5", "Hà Văn Long", None, "MoMo", "0905123456", None],  # line 8
        ["D-6", "Tô Thị Mơ", None, None, "555", None],  # line 9: number without a bank
    ]
    r = await upload(client, headers, markets["one"], xlsx(rows), dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ignored_columns"] == ["Ghi chú"]
    got = by_line(body)
    assert sorted(got) == [2, 4, 5, 6, 7, 8, 9]

    def errs(line: int) -> list[tuple[str | None, str]]:
        return [(e["column"], e["code"]) for e in got[line]["errors"]]

    assert got[2]["status"] == "error"
    assert errs(2) == [
        ("ho ten", "invalid_name"),
        ("So dien thoai", "invalid_phone"),
        ("ngan hang", "ambiguous_bank"),
    ]
    reasons = {e["code"]: e["reason"] for e in got[2]["errors"]}
    assert reasons["invalid_phone"] == "Số điện thoại không đúng. Ví dụ: 0905 123 456."
    assert "CIMB" in reasons["ambiguous_bank"] and "nhiều ngân hàng" in reasons["ambiguous_bank"]
    assert errs(4) == [("MÃ SẠP", "duplicate_in_file")]
    assert "dòng 2" in got[4]["errors"][0]["reason"]
    assert errs(5) == [("ho ten", "missing"), ("ngan hang", "unknown_bank")]
    assert got[5]["errors"][0]["reason"] == "Thiếu ho ten."
    assert errs(6) == [("So dien thoai", "possible_duplicate")]
    assert "Z-1" in got[6]["errors"][0]["reason"]
    # Line 7 has the same phone as Z-1 too, but its holder rents several stalls: no error. The
    # unknown column "Ghi chú" is not the confirmation column, so the duplicate is flagged.
    assert errs(7) == [("So dien thoai", "possible_duplicate")]
    assert errs(8) == [("ngan hang", "momo_reference_required")]
    assert errs(9) == [("ngan hang", "account_incomplete")]
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "error": 7}


async def test_the_confirmation_column_allows_one_holder_for_several_stalls(
    client, conn, auth, markets
):
    rows = [
        ["Mã sạp", "Họ tên", "Số điện thoại", "Trùng số điện thoại"],
        ["E-1", "Quách Thị Nga", "0905 444 555", None],
        ["E-2", "Quách Thị Nga", "0905 444 555", "Có"],
        ["E-3", "Quách Thị Nga", "0905 444 555", None],
        ["E-4", "Quách Thị Nga", "0905 444 555", "có lẽ"],
    ]
    r = await upload(client, await auth("admin"), markets["one"], xlsx(rows))
    got = by_line(r.json())
    assert [got[n]["status"] for n in (2, 3, 4, 5)] == ["created", "created", "error", "error"]
    assert got[4]["errors"][0]["code"] == "possible_duplicate_in_file"
    assert got[5]["errors"][0]["code"] == "invalid_yes_no"
    assert got[5]["errors"][0]["column"] == "Trùng số điện thoại"


async def test_a_csv_with_bom_semicolons_and_english_headers(client, conn, auth, markets):
    text = (
        "stall_code;zone;full_name;phone;goods;bank;account_number;account_name\r\n"
        "F-1;A;Đặng Thị Oanh;0905 121 212;Bánh, kẹo;BIDV;12 3456 7890;DANG THI OANH\r\n"
        "F-2;A;Hồ Văn Phú;;;;;\r\n"
        "F-3;A;Hồ Văn Quý;0905;;;;\r\n"
    )
    data = "\ufeff".encode() + text.encode()
    r = await upload(
        client,
        await auth("manager"),
        markets["one"],
        data,
        filename="ds.csv",
        content_type="text/csv",
        list_date=None,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["list_date"] is None
    got = by_line(body)
    assert (got[2]["status"], got[3]["status"], got[4]["status"]) == ("created", "created", "error")
    assert got[4]["errors"][0]["column"] == "phone"  # the header as written in the file
    stall = await client.get(f"/api/stalls/{got[2]['stall_id']}", headers=await auth("admin"))
    s = stall.json()
    assert (s["goods"], s["payment_accounts"][0]["account_number"]) == ("Bánh, kẹo", "1234567890")
    assert s["source"]["list_date"] is None


async def test_an_imported_stall_gets_no_sign_before_consent(client, conn, auth, markets):
    r = await upload(client, await auth("manager"), markets["one"], xlsx(BOARD[:2]))
    stall_id = r.json()["rows"][0]["stall_id"]
    volunteer = await auth("volunteer")
    sign = await client.get(f"/api/stalls/{stall_id}/sign.pdf", headers=volunteer)
    assert sign.status_code == 409 and sign.json()["code"] == "consent_missing"
    assert sign.headers["content-type"].startswith("application/problem+json")
    qr = await client.get(f"/api/stalls/{stall_id}/qr.png", headers=volunteer)
    assert qr.status_code == 409 and qr.json()["code"] == "consent_missing"
    printed = await client.post(f"/api/stalls/{stall_id}/sign-printed", headers=volunteer)
    assert printed.status_code == 409 and printed.json()["code"] == "consent_missing"
    job = await client.post(f"/api/markets/{markets['one']}/print-jobs", json={}, headers=volunteer)
    assert job.status_code == 409 and job.json()["code"] == "nothing_to_print"

    holder = (await client.get(f"/api/stalls/{stall_id}", headers=volunteer)).json()["holder"]
    granted = await client.post(
        f"/api/stallholders/{holder['id']}/consents",
        json={"notice_version": "2026-01", "purposes": ["registration", "qr_sign"]},
        headers=volunteer,
    )
    assert granted.status_code == 200, granted.text
    sign = await client.get(f"/api/stalls/{stall_id}/sign.pdf", headers=volunteer)
    assert sign.status_code == 200 and sign.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("filename", "data", "status", "code"),
    [
        ("ds.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 422, "invalid_xlsx"),
        ("ds.xlsx", b"PK\x03\x04 not really a zip", 422, "invalid_xlsx"),
        ("ds.csv", b"Ma sap,Ho ten\nA-1,An\x00\n", 422, "nul_bytes"),
        ("ds.csv", "Mã sạp,Họ tên\nA-1,Hà\n".encode("utf-16"), 422, "not_utf8"),
        ("ds.pdf", b"%PDF-1.4", 415, "unsupported_file"),
        ("ds.csv", b"", 422, "empty_file"),
        ("ds.csv", b"Ten,Dia chi\nAn,Hai Chau\n", 422, "missing_columns"),
        ("ds.csv", b"Ma sap,stall_code,Ho ten\nA-1,A-1,An\n", 422, "duplicate_column"),
        ("ds.csv", b"Ma sap,Ho ten,Ngan hang\nA-1,An,VCB\n", 422, "missing_columns"),
    ],
)
async def test_bad_files_are_refused_whole(
    client, conn, auth, markets, filename, data, status, code
):
    before = await state(conn)
    r = await upload(client, await auth("admin"), markets["one"], data, filename=filename)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    if code not in ("missing_columns", "duplicate_column"):
        assert body["detail_vi"]  # said in Vietnamese too, for the console
    assert await state(conn) == before


async def test_too_many_rows_and_other_bad_requests(client, conn, auth, markets):
    headers = await auth("admin")
    lines = ["Mã sạp,Họ tên"] + [f"R-{n},Nguyễn Văn An" for n in range(10_001)]
    r = await upload(client, headers, markets["one"], "\n".join(lines).encode(), filename="ds.csv")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    assert "10000" in r.json()["detail_vi"]
    no_file = await client.post(
        f"/api/markets/{markets['one']}/stalls/import", data={"x": "1"}, headers=headers
    )
    assert no_file.status_code == 422 and no_file.json()["code"] == "file_missing"
    as_json = await client.post(
        f"/api/markets/{markets['one']}/stalls/import", json={"file": "A-1"}, headers=headers
    )
    assert as_json.status_code == 422 and as_json.json()["code"] == "file_missing"
    bad_date = await upload(client, headers, markets["one"], xlsx(BOARD), list_date="31/02/2026")
    assert bad_date.status_code == 422 and bad_date.json()["code"] == "invalid_list_date"
    # A list is dated the day it was made: a day after today (in Vietnam) is a slip.
    tomorrow = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + timedelta(days=1)).strftime(
        "%d/%m/%Y"
    )
    later = await upload(client, headers, markets["one"], xlsx(BOARD), list_date=tomorrow)
    assert later.status_code == 422 and later.json()["code"] == "invalid_list_date"
    assert later.json()["field"] == "list_date"
    unknown = await upload(client, headers, 999_999, xlsx(BOARD))
    assert unknown.status_code == 404 and unknown.json()["code"] == "market_not_found"


@pytest.mark.parametrize("username", ["volunteer", "viewer", "partner"])
async def test_other_roles_are_refused_before_the_file_is_read(
    client, conn, auth, markets, username
):
    # A body that could not even be parsed: the refusal comes first.
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls/import",
        content=b"--x\r\nbroken",
        headers=await auth(username) | {"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


async def test_a_manager_imports_only_into_their_markets(client, conn, auth, markets):
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls/import",
        content=b"--x\r\nbroken",
        headers=await auth("manager") | {"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert r.status_code == 403


async def test_the_template_has_the_headers_an_example_and_the_banks(client, conn, auth, markets):
    headers = await auth("volunteer")
    r = await client.get("/api/stalls/import-template.xlsx", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet, banks_sheet = wb.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:8]) == HEADERS_VI
    assert len(rows) == 2 and rows[1][0] == "A-12"
    assert rows[1][3] == "0905123456"  # a phone as text, with its 0
    assert sheet.freeze_panes == "A2"
    bank_rows = list(banks_sheet.iter_rows(values_only=True))
    assert bank_rows[0] == ("Tên viết tắt", "Mã", "BIN", "Tên đầy đủ")
    assert ("Vietcombank", "VCB", "970436") in [b[:3] for b in bank_rows[1:]]
    # The filled-in template imports as it is.
    dry = await upload(client, await auth("admin"), markets["one"], r.content, dry_run=True)
    assert dry.json()["counts"]["created"] == 1, dry.text


async def test_a_stall_edited_during_an_import_is_not_overwritten(live):
    """The import decides on the data it read; a stall edited meanwhile makes it 409, and it
    writes nothing (own database: a real concurrent edit holds the stall's row)."""
    async with live.pool.acquire() as c:
        market_id = int(await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'"))
    headers = await live.token("admin")
    async with live.client() as client:
        first = await upload(client, headers, market_id, xlsx(BOARD))
        assert first.status_code == 200, first.text
        stall_id = first.json()["rows"][0]["stall_id"]
        changed = [BOARD[0], [*BOARD[1][:4], "Rau sạch", *BOARD[1][5:]]]
        async with live.pool.acquire() as editor, live.pool.acquire() as watcher:
            tx = editor.transaction()
            await tx.start()
            await editor.execute(
                "UPDATE stall SET goods = 'Cá', version = version + 1 WHERE id = $1", stall_id
            )
            task = asyncio.create_task(upload(client, headers, market_id, xlsx(changed)))
            for _ in range(400):  # until the import waits for the edited stall's row
                waiting = await watcher.fetchval(  # outside a transaction: a fresh view each time
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%ORDER BY id FOR UPDATE'"
                )
                if waiting or task.done():
                    break
                await asyncio.sleep(0.05)
            await tx.commit()
            r = await task
    assert r.status_code == 409 and r.json()["code"] == "import_conflict", r.text
    async with live.pool.acquire() as c:
        assert await c.fetchval("SELECT goods FROM stall WHERE id = $1", stall_id) == "Cá"
        assert await c.fetchval("SELECT count(*) FROM stall_import") == 1


async def test_a_row_must_name_a_zone_of_the_market_and_an_archived_market_takes_no_list(
    client, conn, auth, markets
):
    """Issue 12 A7 holds on imports too: a stall's zone is one of its market's current zones, and
    an archived market takes no stalls, from a tablet or from a file."""
    headers = await auth("manager")
    one = markets["one"]
    await conn.execute(
        "UPDATE market SET zones = '{A,B}', retired_zones = '{C}' WHERE id = $1", one
    )
    rows = [
        HEADERS_VI,
        ["A-1", "A", "Nguyễn Thị Hoa", None, None, None, None, None],
        ["C-1", "C", "Trần Văn Bình", None, None, None, None, None],
        ["Z-1", "Z", "Lê Thị Cúc", None, None, None, None, None],
        # A zone typed in lower case is the market's zone as the market spells it.
        ["B-1", "b", "Phạm Văn Dũng", None, None, None, None, None],
    ]
    r = await upload(client, headers, one, xlsx(rows))
    assert r.status_code == 200, r.text
    answers = {x["stall_code"]: x for x in r.json()["rows"]}
    assert answers["A-1"]["status"] == "created"
    assert [e["code"] for e in answers["C-1"]["errors"]] == ["zone_retired"]
    assert [e["code"] for e in answers["Z-1"]["errors"]] == ["unknown_zone"]
    assert "Các khu của chợ: A, B" in answers["Z-1"]["errors"][0]["reason"]
    assert answers["B-1"]["status"] == "created"
    assert await conn.fetchval("SELECT zone FROM stall WHERE stall_code = 'B-1'") == "B"
    assert await conn.fetchval("SELECT count(*) FROM stall WHERE market_id = $1", one) == 2

    await conn.execute("UPDATE market SET archived_at = now() WHERE id = $1", one)
    after_archive = await state(conn)
    r = await upload(client, headers, one, xlsx([HEADERS_VI, rows[1]]), dry_run=True)
    assert r.status_code == 409 and r.json()["code"] == "market_archived"
    assert await state(conn) == after_archive
