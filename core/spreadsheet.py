"""Excel-native building blocks: write .xlsx exports, read .xlsx / .csv imports safely.

No I/O and no endpoints: bytes in, bytes or a `Table` out. Exports open in Excel as people expect
in Vietnam (ICT times, 'Có'/'Không', phone numbers that keep their leading 0, no formula from
data); imports refuse hostile or unreadable files with a `SpreadsheetError` that has a stable
`code` and a message in Vietnamese and English.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import Any, Literal
from zoneinfo import ZoneInfo

from defusedxml.ElementTree import iterparse
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

ICT = ZoneInfo("Asia/Ho_Chi_Minh")

ColumnKind = Literal[
    "text", "int", "float", "coordinate", "bool", "datetime", "date", "phone", "percent"
]
CellValue = str | int | float | bool | datetime | date | None

# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class Column:
    """A column of an export: its Vietnamese header, what it holds, and optionally its width."""

    header: str
    kind: ColumnKind = "text"
    width: float | None = None  # in characters; None: from the header and the first rows


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title (at most 31 characters in Excel), columns, and rows of values."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


TRUE_TEXT, FALSE_TEXT = "Có", "Không"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_TEXT = 32_767
# Excel (and LibreOffice, Google Sheets) start a formula with these; a cell from data never does.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMATS: dict[str, str] = {
    "text": "@",
    "phone": "@",
    "bool": "@",
    "int": "#,##0",
    "float": "#,##0.00",
    "coordinate": "0.000000",  # degrees: six decimals are about ten centimetres
    # Shares are stored to four decimals, rounded down (coverage.shapes.share): two decimals of a
    # percent show them exactly (with one, Excel would round 0.8999 up to "90.0%").
    "percent": "0.00%",
    "datetime": "dd/mm/yyyy hh:mm:ss",
    "date": "dd/mm/yyyy",
}
_MIN_WIDTH = {"datetime": 20.0, "date": 12.0, "phone": 14.0, "bool": 8.0, "percent": 9.0}
_WIDTH_SAMPLE = 200  # rows looked at to size columns; the rest are streamed
_MAX_WIDTH = 60.0
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx workbook of these sheets: bold frozen header row, typed cells, no formulas.

    Rows are streamed (openpyxl write-only mode), so a large export does not hold a cell object
    per value. Aware datetimes are written in Asia/Ho_Chi_Minh, to the second, without a zone
    (Excel has none); a naive datetime is refused, since its zone cannot be known.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    wb = Workbook(write_only=True)
    try:
        titles: set[str] = set()
        for sheet in sheets:
            _write_sheet(wb.create_sheet(title=_sheet_title(sheet.title, titles)), sheet)
        out = io.BytesIO()
        wb.save(out)
    except BaseException:
        _discard(wb)
        raise
    return out.getvalue()


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    ws.freeze_panes = "A2"
    columns = list(sheet.columns)
    rows = iter(sheet.rows)
    sample = [list(r) for r in islice(rows, _WIDTH_SAMPLE)]
    for index, column in enumerate(columns, start=1):
        width = column.width or _width(column, [r[index - 1] for r in sample if len(r) >= index])
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.append([_header_cell(ws, c.header) for c in columns])
    count = 1
    for row in chain(sample, rows):
        count += 1
        if count > EXCEL_MAX_ROWS:
            raise ValueError(f"sheet {sheet.title!r} has more rows than Excel can hold")
        values = list(row)
        if len(values) != len(columns):
            raise ValueError(
                f"sheet {sheet.title!r} row {count}: {len(values)} values for {len(columns)} columns"
            )
        ws.append([_cell(ws, c.kind, v) for c, v in zip(columns, values, strict=True)])


def _discard(wb: Workbook) -> None:
    """Finish and delete the half-written sheets of a failed export (openpyxl streams each to a
    temporary file; left open, they fail noisily when garbage-collected)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            writer.cleanup()


def excel_value(kind: ColumnKind, value: Any) -> CellValue:
    """What a cell of this kind stores for `value` (the display text for booleans)."""
    if value is None:
        return None
    if kind in ("text", "phone"):
        return _text(value)
    if kind == "bool":
        return TRUE_TEXT if value else FALSE_TEXT
    if kind == "datetime":
        if isinstance(value, datetime):
            return _local(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
    if kind == "date":
        if isinstance(value, datetime):
            return _local(value).date()
        if isinstance(value, date):
            return value
    if kind in ("int", "float", "coordinate", "percent") and not isinstance(value, bool):
        if isinstance(value, int):
            return value
        if isinstance(value, float | Decimal):
            number = float(value)
            if not math.isfinite(number):
                return None
            return int(number) if kind == "int" and number.is_integer() else number
    return _text(value)  # anything else is shown as text, never interpreted


def _local(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a naive datetime cannot be exported: give it a time zone")
    return value.astimezone(ICT).replace(tzinfo=None, microsecond=0)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters cannot be stored in XML
    if len(text) > EXCEL_MAX_TEXT:
        text = text[: EXCEL_MAX_TEXT - 1] + "…"
    return str(text)


def _cell(ws: Any, kind: ColumnKind, value: Any) -> WriteOnlyCell:
    stored = excel_value(kind, value)
    cell = WriteOnlyCell(ws, value=stored)
    if isinstance(stored, str):
        # openpyxl would write "=…" as a formula: a string from data is always a string, and
        # Excel's quote prefix keeps it one even when someone edits the cell (no visible ').
        cell.data_type = "s"
        if stored.startswith(_FORMULA_START):
            cell.quotePrefix = True
        if kind in ("text", "phone", "bool"):
            cell.number_format = "@"
    else:
        cell.number_format = _FORMATS[kind]
    return cell


def _header_cell(ws: Any, text: str) -> WriteOnlyCell:
    cell = _cell(ws, "text", text)
    cell.font = _BOLD
    return cell


def _width(column: Column, values: list[Any]) -> float:
    lengths = sorted(_shown_length(column.kind, v) for v in values if v is not None)
    typical = lengths[int(len(lengths) * 0.9)] if lengths else 0  # the long tail does not decide
    width = max(len(column.header) + 2.0, typical + 2.0, _MIN_WIDTH.get(column.kind, 8.0))
    return min(width, _MAX_WIDTH)


def _shown_length(kind: ColumnKind, value: Any) -> int:
    stored = excel_value(kind, value)
    if isinstance(stored, float):
        return len(f"{stored:,.2f}")
    if isinstance(stored, int) and not isinstance(stored, bool):
        return len(f"{stored:,}")
    return len(str(stored)) if stored is not None else 0


def _sheet_title(title: str, used: set[str]) -> str:
    base = _BAD_TITLE.sub("-", ILLEGAL_CHARACTERS_RE.sub("", title)).strip().strip("'")[:31]
    base = base or "Sheet"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.casefold())
    return name


# ---------------------------------------------------------------- reading

MAX_ROWS = 10_000
MAX_COLUMNS = 100
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # bytes of XML an .xlsx may unpack to
_MAX_ZIP_ENTRIES = 1_000
_EXCEL_MAX_COLUMNS = 16_384


@dataclass(frozen=True)
class TableRow:
    """A data row and the line (CSV) or row number (xlsx) it starts on, counted from 1."""

    line: int
    cells: tuple[CellValue, ...]


@dataclass(frozen=True)
class Table:
    """A read spreadsheet: header cells and data rows, all as wide as the widest row.

    Empty rows are skipped (line numbers still count them); empty cells are None.
    """

    source: Literal["xlsx", "csv"]
    header: tuple[str, ...]
    header_line: int
    rows: tuple[TableRow, ...]


_MESSAGES = {
    "unsupported_file": (
        "Tệp không phải .xlsx hoặc .csv. Hãy lưu lại dưới dạng Excel (.xlsx) hoặc CSV UTF-8.",
        "The file is not .xlsx or .csv. Save it as Excel (.xlsx) or CSV UTF-8.",
    ),
    "invalid_xlsx": (
        "Không đọc được tệp Excel: tệp bị hỏng hoặc không phải .xlsx.",
        "The Excel file cannot be read: it is damaged or not an .xlsx file.",
    ),
    "not_utf8": (
        "Tệp CSV không ở mã UTF-8. Trong Excel, chọn Lưu thành > CSV UTF-8.",
        "The CSV file is not UTF-8. In Excel, use Save As > CSV UTF-8.",
    ),
    "invalid_csv": (
        "Không đọc được tệp CSV từ dòng {line} (dấu ngoặc kép không khớp?).",
        "The CSV file cannot be read from line {line} (unbalanced quotes?).",
    ),
    "nul_bytes": (
        "Tệp chứa ký tự NUL: không phải tệp văn bản CSV.",
        "The file contains NUL bytes: it is not a CSV text file.",
    ),
    "formula_without_value": (
        "Ô {cell} có công thức nhưng tệp không lưu kết quả của nó (tệp do phần mềm khác tạo). "
        "Hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi nhập lại.",
        "Cell {cell} holds a formula but the file keeps no result for it (a file written by a "
        "program). Open it in Excel or LibreOffice, save it and import it again.",
    ),
    "empty_file": ("Tệp không có dữ liệu.", "The file has no data."),
    "too_many_rows": (
        "Tệp có hơn {limit} dòng dữ liệu; hãy chia thành nhiều tệp.",
        "The file has more than {limit} data rows; split it into several files.",
    ),
    "too_many_columns": (
        "Tệp có hơn {limit} cột.",
        "The file has more than {limit} columns.",
    ),
    "file_too_large": (
        "Tệp quá lớn (giới hạn {limit} byte khi giải nén).",
        "The file is too large ({limit} bytes at most, uncompressed).",
    ),
}


class SpreadsheetError(ValueError):
    """An import file that cannot be read; `code` is stable, the message is Vietnamese + English."""

    def __init__(self, code: str, **params: Any) -> None:
        vi, en = _MESSAGES[code]
        self.code = code
        self.message_vi = vi.format(**params)
        self.message_en = en.format(**params)
        self.params = params
        super().__init__(f"{self.message_vi} / {self.message_en}")


def read_table(
    data: bytes,
    filename: str,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_bytes: int = MAX_UNCOMPRESSED,
) -> Table:
    """Read the first sheet of an .xlsx, or a .csv (UTF-8, ',' or ';'), into a `Table`."""
    name = filename.lower().rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if len(data) > max_bytes:
        raise SpreadsheetError("file_too_large", limit=max_bytes)
    if data.startswith(b"PK\x03\x04"):  # a zip: an .xlsx, whatever its name says
        rows = _xlsx_rows(data, max_rows=max_rows, max_columns=max_columns, max_bytes=max_bytes)
        return _table("xlsx", rows)
    if ext in ("xlsx", "xlsm"):
        raise SpreadsheetError("invalid_xlsx")
    if ext in ("csv", "txt"):
        return _table("csv", _csv_rows(data, max_rows=max_rows, max_columns=max_columns))
    raise SpreadsheetError("unsupported_file")


def _table(source: Literal["xlsx", "csv"], rows: list[tuple[int, list[CellValue]]]) -> Table:
    if not rows:
        raise SpreadsheetError("empty_file")
    width = max(len(cells) for _, cells in rows)
    (header_line, header), body = rows[0], rows[1:]
    header_cells = tuple(
        "" if v is None else (v.strip() if isinstance(v, str) else str(v))
        for v in _pad(header, width)
    )
    return Table(
        source=source,
        header=header_cells,
        header_line=header_line,
        rows=tuple(TableRow(line, tuple(_pad(cells, width))) for line, cells in body),
    )


def _pad(cells: list[CellValue], width: int) -> list[CellValue]:
    return cells + [None] * (width - len(cells))


def _trim(cells: Sequence[CellValue]) -> list[CellValue]:
    """Cells with blanks as None, without trailing ones (an empty list for an empty row)."""
    kept = [None if isinstance(c, str) and not c.strip() else c for c in cells]
    end = len(kept)
    while end and kept[end - 1] is None:
        end -= 1
    return kept[:end]


def _check_width(cells: list[CellValue], max_columns: int) -> None:
    if len(cells) > max_columns:
        raise SpreadsheetError("too_many_columns", limit=max_columns)


# .csv


def _csv_rows(data: bytes, *, max_rows: int, max_columns: int) -> list[tuple[int, list[CellValue]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 ("Unicode text" from Excel)
        raise SpreadsheetError("not_utf8")
    if b"\x00" in data:
        raise SpreadsheetError("nul_bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError("not_utf8") from None
    if not text.strip():
        raise SpreadsheetError("empty_file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[tuple[int, list[CellValue]]] = []
    line = 1  # where the next record starts
    try:
        for record in reader:
            cells = _trim(record)
            if cells:
                _check_width(cells, max_columns)
                if len(rows) > max_rows:  # the header and max_rows rows are fine
                    raise SpreadsheetError("too_many_rows", limit=max_rows)
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error:
        raise SpreadsheetError("invalid_csv", line=line) from None
    return rows


def _delimiter(text: str) -> str:
    """',' or ';', whichever separates more fields of the first non-empty line (outside quotes)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {",": 0, ";": 0}
    quoted = False
    for char in first:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


# .xlsx


def _xlsx_rows(
    data: bytes, *, max_rows: int, max_columns: int, max_bytes: int
) -> list[tuple[int, list[CellValue]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > _MAX_ZIP_ENTRIES:
                raise SpreadsheetError("invalid_xlsx")
            # zipfile stops inflating an entry at its declared size, so the declared sizes bound
            # what a zip bomb can unpack to.
            if sum(e.file_size for e in entries) > max_bytes:
                raise SpreadsheetError("file_too_large", limit=max_bytes)
            _check_styles(archive)
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            try:
                if not wb.worksheets:
                    raise SpreadsheetError("empty_file")
                ws = wb.worksheets[0]
                _check_sheet_shape(archive, ws._worksheet_path)
                ws.reset_dimensions()  # a forged <dimension> must not widen every row
                return _sheet_rows(ws, max_rows=max_rows, max_columns=max_columns)
            finally:
                wb.close()
    except SpreadsheetError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl and zipfile fail in many ways on bad files
        raise SpreadsheetError("invalid_xlsx") from exc


# What cells are made of (rich text runs included); anything else is counted.
_CELL_TAGS = {
    "c",
    "v",
    "f",
    "is",
    "t",
    "r",
    "rPr",
    "rPh",
    "phoneticPr",
    "b",
    "i",
    "u",
    "strike",
    "sz",
    "color",
    "rFont",
    "family",
    "charset",
    "scheme",
    "vertAlign",
    "outline",
    "shadow",
    "condense",
    "extend",
}
_MAX_OTHER_ELEMENTS = 100_000


def _check_sheet_shape(archive: zipfile.ZipFile, path: str) -> None:
    """Refuse forged sheet XML before openpyxl builds it in memory: a row of more cells than
    Excel allows, or a flood of other elements (merged ranges, formats) in an allowed size."""
    stack: list[Any] = []
    cells = others = 0
    with archive.open(path.lstrip("/")) as source:
        for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(element)
                _check_row_number(element)
                continue
            stack.pop()
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "c":
                cells += 1
                if cells > _EXCEL_MAX_COLUMNS:
                    raise SpreadsheetError("invalid_xlsx")
                _check_formula_value(element)
            elif tag == "row":
                cells = 0
            elif tag not in _CELL_TAGS:
                others += 1
                if others > _MAX_OTHER_ELEMENTS:
                    raise SpreadsheetError("invalid_xlsx")
            if stack and (tag == "row" or len(stack) == 1):
                element.clear()  # a finished row or part of the sheet: keep nothing of it
                stack[-1].remove(element)


_MAX_STYLE_ELEMENTS = 100_000


def _check_styles(archive: zipfile.ZipFile) -> None:
    """Refuse a flood of formats before openpyxl reads them all when it opens the file (1.5 million
    empty formats in a 67 KB file took 21 s); a workbook's own styles are a few thousand at most."""
    try:
        source = archive.open("xl/styles.xml")
    except KeyError:
        return
    count = 0
    with source:
        for _, element in iterparse(source, events=("end",), forbid_dtd=True):
            count += 1
            if count > _MAX_STYLE_ELEMENTS:
                raise SpreadsheetError("invalid_xlsx")
            element.clear()


_ROW_OF_REF = re.compile(r"[A-Za-z]*([0-9]+)")


def _check_row_number(element: Any) -> None:
    """A row (or a cell's reference) past Excel's last row: openpyxl would give an empty row for
    every number before it (one row numbered 50,000,000 in a 1.5 KB file took 13 s to read)."""
    tag = element.tag.rsplit("}", 1)[-1]
    if tag not in ("row", "c"):
        return
    ref = element.get("r")
    if ref is None:
        return
    found = _ROW_OF_REF.fullmatch(ref.strip()) if tag == "c" else None
    number = found[1] if found else ref.strip()
    if not number.isdigit() or len(number) > 7 or int(number) > EXCEL_MAX_ROWS:
        raise SpreadsheetError("invalid_xlsx")


def _check_formula_value(cell: Any) -> None:
    """A formula cell must carry its last result: without one openpyxl reads it as empty and the
    row would be imported without what the cell shows (Excel and LibreOffice store results;
    files written by scripts often do not). An empty result is kept only for text (t="str")."""
    parts = {child.tag.rsplit("}", 1)[-1]: child for child in cell}
    if "f" not in parts:
        return
    value = parts.get("v")
    if value is None or (not (value.text or "") and cell.get("t") != "str"):
        ref = cell.get("r") or ""
        raise SpreadsheetError(
            "formula_without_value", cell=ref if re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", ref) else "?"
        )


def _sheet_rows(ws: Any, *, max_rows: int, max_columns: int) -> list[tuple[int, list[CellValue]]]:
    rows: list[tuple[int, list[CellValue]]] = []
    # From A1 whatever the sheet claims, so row numbers are Excel's and columns do not shift.
    for number, values in enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), 1):
        cells = _trim(values)
        if not cells:
            continue
        _check_width(cells, max_columns)
        if len(rows) > max_rows:
            raise SpreadsheetError("too_many_rows", limit=max_rows)
        rows.append((number, cells))
    return rows
