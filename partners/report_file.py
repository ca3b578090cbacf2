"""Partner onboarding reports (CSV or Excel) parsed into rows to reconcile with the stall register.

A structurally broken file is rejected as a whole (`CsvFormatError`; an Excel file that cannot be
read, core.spreadsheet's `SpreadsheetError`); a readable file with a few bad rows yields the good
rows plus one `RowError` per bad row, so an import can continue.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from core.spreadsheet import CellValue, SpreadsheetError, read_table
from coverage.levels import local_day

_COLUMNS = {
    "market": ("market", "cho", "ten_cho", "market_name"),
    "stall_code": ("stall_code", "stall", "ma_sap", "sap", "ma_quay", "so_sap"),
    "phone": ("phone", "so_dien_thoai", "dien_thoai", "sdt", "phone_number"),
    "account_number": ("account_number", "so_tai_khoan", "stk", "account"),
    "bin": ("bin", "ma_bin", "bank_bin", "ma_ngan_hang"),
    "status": ("status", "trang_thai", "tinh_trang"),
    "date": ("date", "ngay", "ngay_cap_nhat", "updated_at", "onboarded_at"),
}
_FIELD_VI = {
    "market": "tên chợ",
    "stall_code": "mã sạp",
    "phone": "số điện thoại",
    "account_number": "số tài khoản",
    "bin": "mã ngân hàng (BIN)",
    "status": "trạng thái",
    "date": "ngày",
}
_HEADER_ALIASES = {alias: field for field, names in _COLUMNS.items() for alias in names}
IDENTIFYING = ("stall_code", "phone", "account_number")

_STATUSES = {
    "pending": ("pending", "cho", "cho_duyet", "dang_cho", "cho_kich_hoat", "moi", "new"),
    "active": ("active", "hoat_dong", "dang_hoat_dong", "kich_hoat", "da_kich_hoat", "activated"),
    "suspended": ("suspended", "tam_ngung", "tam_dung", "tam_khoa", "paused"),
    "removed": ("removed", "da_go", "go", "da_xoa", "xoa", "huy", "da_huy", "ngung", "deactivated"),
}
_STATUS_ALIASES = {alias: status for status, names in _STATUSES.items() for alias in names}
# Rows of one report file, CSV or Excel: its check answers one line per row, so a 200,000-row file
# took 5 s and a 65 MB answer. A larger report is sent in parts (or by signed events).
MAX_ROWS = 20_000
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+|inf|nan|-inf")
_BIN = re.compile(r"[0-9]{6}")
_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ImportRow:
    line: int
    market: str | None
    stall_code: str | None
    phone: str | None
    account_number: str | None
    bin: str | None
    status: str | None
    date: date | None


def quoted(value: str | None) -> str:
    """A value from the file inside a Vietnamese reason: control characters escaped as Python
    writes them (a NUL cannot be stored or shown), Vietnamese letters as they are."""
    return repr(value or "")[1:-1]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    reason_vi: str  # the same, for people (the partner page shows it)
    # The row's market and stall code as the file gave them: the partner finds the line to fix.
    market: str | None = None
    stall_code: str | None = None


class CsvFormatError(ValueError):
    """The file cannot be read as a report; `line` is where reading stopped (1-based); `message`
    says why in English, `message_vi` in Vietnamese (the partner page shows it)."""

    def __init__(self, line: int, message: str, message_vi: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message
        self.message_vi = message_vi


class Report(NamedTuple):
    rows: list[ImportRow]
    errors: list[RowError]
    # Header names of the columns no field reads (as the file wrote them): the partner page says
    # they were not used, so a misspelt "trang thai" is not taken for a report without statuses.
    ignored_columns: list[str]


def parse_report(data: bytes, filename: str | None = None) -> Report:
    """Parse a report: CSV in UTF-8 (BOM optional, comma or semicolon separated), or the first
    sheet of an Excel workbook (.xlsx, recognised by its content)."""
    excel = data.startswith(b"PK\x03\x04") or (filename or "").lower().endswith((".xlsx", ".xlsm"))
    records = _sheet_records(data) if excel else _records(_decode(data))
    header_line, header = next(records, (1, []))
    if not header:
        raise CsvFormatError(
            header_line, "the file has no header row", "Tệp không có dòng tiêu đề (tên các cột)."
        )
    columns = _columns(header, header_line)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for count, (line, record) in enumerate(records, 1):
        if count > MAX_ROWS:
            raise SpreadsheetError("too_many_rows", limit=MAX_ROWS)
        if len(record) != len(header):
            raise CsvFormatError(
                line,
                f"expected {len(header)} columns, found {len(record)}",
                f"Dòng {line} có {len(record)} cột, dòng tiêu đề có {len(header)}.",
            )
        values = {field: record[index].strip() or None for field, index in columns.items()}
        result = _row(line, values)
        if isinstance(result, RowError):
            errors.append(result)
        else:
            rows.append(result)
    ignored = [
        name.strip() for index, name in enumerate(header)
        if name.strip() and index not in columns.values()
    ]  # fmt: skip
    return Report(rows, errors, ignored)


def _sheet_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The rows of an .xlsx as the CSV reader gives them: every cell as text, the row number as the
    line (SpreadsheetError when it cannot be read). Numbers keep their digits (an account or phone
    number typed as a number has lost a leading 0 in Excel already: the row says which is missing),
    and a date cell is its day."""
    table = read_table(data, "report.xlsx", max_rows=MAX_ROWS)
    yield table.header_line, list(table.header)
    for row in table.rows:
        yield row.line, [_cell_text(cell) for cell in row.cells]


def _cell_text(cell: CellValue) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, int | float) and abs(cell) >= 1e15:
        # Excel keeps 15 significant digits: a longer account number typed into a number cell is
        # stored rounded (…456 becomes …450), another person's account. Written as Excel shows
        # it, the row is refused as a number in scientific notation (how to fix it is said).
        return f"{float(cell):.14E}"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvFormatError(
            line,
            "the file is not UTF-8; save it as CSV UTF-8",
            f"Tệp không ở mã UTF-8 (từ dòng {line}). Trong Excel, chọn Lưu thành > CSV UTF-8.",
        ) from exc


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; csv.Error becomes CsvFormatError."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFormatError(
                start,
                f"malformed CSV ({exc})",
                f"Không đọc được tệp CSV từ dòng {start} (dấu ngoặc kép không khớp?).",
            ) from exc
        if any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


def _columns(header: list[str], line: int) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        field = _HEADER_ALIASES.get(_key(name))
        if field is None:
            continue
        if field in columns:
            raise CsvFormatError(
                line,
                f"two columns mean {field}",
                f"Hai cột của dòng tiêu đề cùng là {_FIELD_VI[field]}: giữ một cột.",
            )
        columns[field] = index
    if not any(field in columns for field in IDENTIFYING):
        raise CsvFormatError(
            line,
            "no stall code, phone or account number column",
            "Tệp thiếu cột để tìm sạp: cần một cột “Mã sạp”, “Số điện thoại” hoặc “Số tài "
            "khoản” (có dấu hay không dấu đều được). Các cột khác: “Chợ”, “Mã BIN”, "
            "“Trạng thái”, “Ngày”.",
        )
    return columns


def _row(line: int, values: dict[str, str | None]) -> ImportRow | RowError:
    reasons: list[tuple[str, str]] = []
    if not any(values.get(field) for field in IDENTIFYING):
        reasons.append(
            (
                "no stall code, phone or account number",
                "không có mã sạp, số điện thoại hay số tài khoản",
            )
        )
    for field, vi in (("bin", "mã ngân hàng (BIN)"), ("account_number", "số tài khoản"),
                      ("phone", "số điện thoại")):  # fmt: skip
        value = values.get(field)
        if value is not None and _SCIENTIFIC.fullmatch(value):
            # A long number typed into a number cell: Excel keeps 15 digits and shows 1E+30.
            reasons.append(
                (
                    f"{field} {value!r} is a number in scientific notation: format the column as "
                    "text and type it again",
                    f"{vi} “{quoted(value)}” là số Excel ghi dạng khoa học: định dạng cột là "
                    "Văn bản (Text) rồi gõ lại",
                )
            )
    bin_ = values.get("bin")
    if bin_ is not None and not _SCIENTIFIC.fullmatch(bin_) and not _BIN.fullmatch(bin_):
        reasons.append(
            (
                f"BIN {bin_!r} is not 6 digits",
                f"mã ngân hàng (BIN) “{quoted(bin_)}” không phải 6 chữ số",
            )
        )
    status = values.get("status")
    if status is not None:
        status = _STATUS_ALIASES.get(_key(status))
        if status is None:
            reasons.append(
                (
                    f"unknown status {values['status']!r}",
                    f"không nhận ra trạng thái “{quoted(values['status'])}”",
                )
            )
    when = _date(values.get("date"))
    if values.get("date") is not None and when is None:
        reasons.append(
            (
                f"unreadable date {values['date']!r} (use YYYY-MM-DD or DD/MM/YYYY)",
                f"ngày không đọc được “{quoted(values['date'])}” (viết DD/MM/YYYY hoặc YYYY-MM-DD)",
            )
        )
    if when is not None and when > local_day(datetime.now(UTC)):  # a report's days are Vietnam's
        reasons.append(
            (
                f"date {when.isoformat()} is after today",
                f"ngày {when.strftime('%d/%m/%Y')} chưa tới",
            )
        )
    if reasons:
        return RowError(
            line,
            "; ".join(en for en, _ in reasons),
            "; ".join(vi for _, vi in reasons),
            # As the rows that parse show them (partners.imports): control characters escaped
            # (a NUL cannot be stored), and cut short.
            market=quoted(values["market"])[:80] if values.get("market") else None,
            stall_code=quoted(values["stall_code"])[:40] if values.get("stall_code") else None,
        )
    return ImportRow(
        line=line,
        market=values.get("market"),
        stall_code=values.get("stall_code"),
        phone=values.get("phone"),
        account_number=values.get("account_number"),
        bin=values.get("bin"),
        status=status,
        date=when,
    )


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
        if match := _DMY.fullmatch(text):
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        if _ISO.match(text):  # spreadsheet exports sometimes append a time
            return datetime.fromisoformat(text).date()
    except ValueError:
        return None
    return None


def _key(text: str) -> str:
    """Header or status text folded for matching: no accents, lower case, underscores."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    bare = bare.replace("đ", "d").replace("Đ", "d").strip().lower()
    return re.sub(r"[\s\-.]+", "_", bare)
