"""Partner report CSV parsing."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partners.report_file import CsvFormatError, ImportRow, parse_report


def test_english_report_with_iso_and_day_first_dates() -> None:
    data = (
        b"market,stall_code,phone,account_number,bin,status,date,notes\n"
        b"Cho Han,K12,0905123456,0123456789,970422,active,2025-11-27,ok\n"
        b"Cho Con,,0905000111,,,Pending,5/1/2025,\n"
    )
    assert parse_report(data) == (
        [
            ImportRow(
                line=2,
                market="Cho Han",
                stall_code="K12",
                phone="0905123456",
                account_number="0123456789",
                bin="970422",
                status="active",
                date=date(2025, 11, 27),
            ),
            ImportRow(
                line=3,
                market="Cho Con",
                stall_code=None,
                phone="0905000111",
                account_number=None,
                bin=None,
                status="pending",
                date=date(2025, 1, 5),
            ),
        ],
        [],
        ["notes"],  # read by no field: the partner page says it was not used
    )


def test_vietnamese_headers_statuses_and_bom() -> None:
    text = (
        "Chợ,Mã sạp,Số điện thoại,Số tài khoản,BIN,Trạng thái,Ngày\r\n"
        "Chợ Hàn,A01,0905123456,,,Hoạt động,27/11/2025\r\n"
        "Chợ Hàn,A02,,,,Tạm ngưng,\r\n"
        "Chợ Hàn,A03,,,,Chờ duyệt,\r\n"
        "Chợ Hàn,A04,,,,Đã xóa,\r\n"
    )
    rows, errors, _ = parse_report(b"\xef\xbb\xbf" + text.encode())
    assert errors == []
    assert [(r.line, r.market, r.stall_code, r.status) for r in rows] == [
        (2, "Chợ Hàn", "A01", "active"),
        (3, "Chợ Hàn", "A02", "suspended"),
        (4, "Chợ Hàn", "A03", "pending"),
        (5, "Chợ Hàn", "A04", "removed"),
    ]
    assert rows[0].date == date(2025, 11, 27)


def test_ascii_aliases_are_case_insensitive_and_semicolons_work() -> None:
    data = (
        b"CHO;MA_SAP;So_Dien_Thoai;SO_TAI_KHOAN;Trang_Thai;NGAY\n"
        b"Han;K1;0905;123;hoat_dong;2025-01-02\n"
    )
    rows, errors, _ = parse_report(data)
    assert errors == []
    assert rows == [
        ImportRow(2, "Han", "K1", "0905", "123", None, "active", date(2025, 1, 2)),
    ]


def test_bad_rows_are_reported_with_their_line_and_the_import_continues() -> None:
    data = (
        b"stall_code,phone,status,date\n"
        b"K1,,active,2025-01-01\n"
        b",,active,2025-01-01\n"
        b"\n"
        b'"K2\nsecond line",,closed,\n'
        b"K3,,,31/02/2025\n"
        b" , ,maybe,yesterday\n"
        b"K4,,removed,\n"
    )
    rows, errors, _ = parse_report(data)
    assert [(row.line, row.stall_code) for row in rows] == [(2, "K1"), (9, "K4")]
    assert [(e.line, e.reason) for e in errors] == [
        (3, "no stall code, phone or account number"),
        (5, "unknown status 'closed'"),
        (7, "unreadable date '31/02/2025' (use YYYY-MM-DD or DD/MM/YYYY)"),
        (
            8,
            "no stall code, phone or account number; unknown status 'maybe'; "
            "unreadable date 'yesterday' (use YYYY-MM-DD or DD/MM/YYYY)",
        ),
    ]
    # The same reasons for people, in Vietnamese (the partner page shows these).
    assert [e.reason_vi for e in errors] == [
        "không có mã sạp, số điện thoại hay số tài khoản",
        "không nhận ra trạng thái “closed”",
        "ngày không đọc được “31/02/2025” (viết DD/MM/YYYY hoặc YYYY-MM-DD)",
        "không có mã sạp, số điện thoại hay số tài khoản; không nhận ra trạng thái “maybe”; "
        "ngày không đọc được “yesterday” (viết DD/MM/YYYY hoặc YYYY-MM-DD)",
    ]


def test_a_row_dated_after_today_is_refused() -> None:
    """A report says what happened, so none of its dates is still to come (a day in Vietnam:
    today is fine). A row without a status is a set-up the partner reports: active."""
    today = datetime.now(UTC).astimezone(timezone(timedelta(hours=7))).date()
    later = today + timedelta(days=1)
    data = (
        f"stall_code,status,date\nK1,,\nK2,active,{later.isoformat()}\n"
        f"K3,active,{today.strftime('%d/%m/%Y')}\n"
    ).encode()
    rows, errors, _ = parse_report(data)
    assert [row.stall_code for row in rows] == ["K1", "K3"]
    assert [(e.line, e.reason_vi) for e in errors] == [
        (3, f"ngày {later.strftime('%d/%m/%Y')} chưa tới")
    ]


def test_header_only_report_is_empty() -> None:
    assert parse_report(b"stall_code,phone\r\n") == ([], [], [])


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"", 1, "no header row"),
        (b"\xef\xbb\xbf", 1, "no header row"),
        (b"\n\n  \n", 1, "no header row"),
        (b"market,notes\nHan,x\n", 1, "no stall code, phone or account number column"),
        (b"phone,sdt\n1,2\n", 1, "two columns mean phone"),
        (b"stall_code,phone\nK1,1\nK2,2,extra\n", 3, "expected 2 columns, found 3"),
        (b"stall_code,phone\nK1,1\nK2\n", 3, "expected 2 columns, found 1"),
        (b'stall_code,phone\nK1,1\n"K2,2\nK3,3\n', 3, "malformed CSV"),
        (b'stall_code,phone\nK1,"1"2\n', 2, "malformed CSV"),
        (b"stall_code,market\nK1,Han\nK2,H\xe0n\n", 3, "not UTF-8"),
        (b"stall_code,market\nK1,Ch\xe1\xbb\n", 2, "not UTF-8"),
    ],
    ids=[
        "empty",
        "bom-only",
        "blank",
        "no-identifier-column",
        "duplicate-column",
        "too-many-cells",
        "too-few-cells",
        "unterminated-quote",
        "text-after-quote",
        "latin-1",
        "truncated-utf8",
    ],
)
def test_malformed_files_raise_csv_format_error(data: bytes, line: int, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message) as caught:
        parse_report(data)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")
    # Said in Vietnamese too (the partner page showed "cannot be read" for a missing column).
    vi = caught.value.message_vi
    assert vi and vi != caught.value.message and not re.search(r"\b(the|file|column)\b", vi)


cells = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters=",;\"\n'"),
    min_size=1,
    max_size=20,
).filter(lambda s: s == s.strip() and s != "")


@settings(database=None, deadline=None, max_examples=100)
@given(records=st.lists(st.tuples(cells, st.none() | cells), max_size=8))
def test_any_properly_quoted_report_round_trips(records: list[tuple[str, str | None]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["stall_code", "market"])
    writer.writerows([(code, market or "") for code, market in records])
    rows, errors, _ = parse_report(buffer.getvalue().encode())
    assert errors == []
    assert [(row.stall_code, row.market) for row in rows] == records


def test_the_statuses_the_partner_page_names_are_read() -> None:
    """The partner page tells staff to write these (Vietnamese, as its columns name them)."""
    data = (
        "ma_sap,trang_thai\nK1,chờ kích hoạt\nK2,đang hoạt động\nK3,tạm ngưng\nK4,đã gỡ\n"
    ).encode()
    rows, errors, _ = parse_report(data)
    assert errors == []
    assert [row.status for row in rows] == ["pending", "active", "suspended", "removed"]


def test_numbers_excel_wrote_in_scientific_notation_and_bad_bins_are_said() -> None:
    """A 10^30 typed into a number cell came back as BIN “1e+30” not found, and an account number
    of 1e308 was not mentioned at all."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["ma_sap", "ma_bin", "so_tai_khoan", "so_dien_thoai"])
    wb.active.append(["A-1", 1e30, 1e308, 905123456])
    wb.active.append(["A-2", "MB", "0123", None])
    wb.active.append(["A-3", 970436, "0123 456", None])
    out = io.BytesIO()
    wb.save(out)
    rows, errors, _ = parse_report(out.getvalue(), "r.xlsx")
    by_line = {e.line: e.reason_vi for e in errors}
    assert "mã ngân hàng (BIN) “1.00000000000000E+30” là số Excel ghi dạng khoa học" in by_line[2]
    assert "số tài khoản “1.00000000000000E+308” là số Excel ghi dạng khoa học" in by_line[2]
    assert "không phải 6 chữ số" not in by_line[2]  # one reason per cell
    assert by_line[3] == "mã ngân hàng (BIN) “MB” không phải 6 chữ số"
    assert [(r.line, r.bin, r.account_number) for r in rows] == [(4, "970436", "0123 456")]


def test_an_account_number_excel_rounded_is_refused_not_matched_to_another() -> None:
    """Excel keeps 15 digits: 1234567890123456 typed into a number cell is stored as
    1234567890123450, another person's account, and the row moved that account's status. A number
    of 16 digits or more in a number cell is refused as Excel shows it; 15 digits stay as typed."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["so_tai_khoan", "ma_bin", "trang_thai"])
    wb.active.append([1234567890123450, 970422, "tam_ngung"])  # as Excel stored …456
    wb.active.append([1.23456789012345e15, 970422, "tam_ngung"])
    wb.active.append([123456789012345, 970422, "tam_ngung"])  # 15 digits: exact
    out = io.BytesIO()
    wb.save(out)
    rows, errors, _ = parse_report(out.getvalue(), "r.xlsx")
    assert [e.line for e in errors] == [2, 3]
    assert all("1.23456789012345E+15" in e.reason_vi and "Văn bản" in e.reason_vi for e in errors)
    assert [(r.line, r.account_number) for r in rows] == [(4, "123456789012345")]
