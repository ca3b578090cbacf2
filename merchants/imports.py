"""Stall list imports: a market board's spreadsheet in, stalls still to visit out.

A board keeps its stall list in Excel. Importing it (.xlsx or .csv, core.spreadsheet.read_table)
creates the stalls the market does not have yet, with their holders and accounts, checked by the
same field types as a registration on the tablet (merchants.schemas), so a row the tablet would
refuse is refused with the same rule and code. Every row is answered: created, updated,
unchanged, or error (its line, the column as headed in the file, the code and a Vietnamese
reason). A dry run answers the same and writes nothing; the same file twice changes nothing.

Imported stallholders have not consented to anything: an import writes no consent row, so their
stalls show as "consent not collected" until a volunteer visits, and nothing that needs consent
(the printed sign, sharing with a partner) happens before. The stalls remember the import that
created them (`stall.import_id`, `stall_import`: market, who, which file, the board's list date).

What an import may change on a stall it matches by code: only a stall an earlier import created
that nobody has met or worked on since (its holder was never asked for consent, no stall entry in
the audit log but imports', holder not erased). There, a row changes the zone, goods, holder's
name and phone and the (first) account; an empty cell keeps the value. A stall registered on a
tablet, or visited since, is never changed: differing fields are reported as `kept`.

A phone number already used by another active stall of the market (or by an earlier row of the
file) makes the row an error, as the tablet's duplicate check does, unless the row confirms it in
the optional column "Trùng số điện thoại" (Có): the same person rents several stalls.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter, ValidationError

from core import access
from core.crypto import keys_of
from core.errors import Forbidden
from core.spreadsheet import (
    ICT,
    CellValue,
    Column,
    Sheet,
    SpreadsheetError,
    Table,
    read_table,
    write_xlsx,
)
from core.text import fold, mask_phone, stall_search_text
from core.types import PersonName, Phone, User, jsonable
from coverage import counters
from merchants import errors, schemas, stalls
from merchants.queries import imports as imports_q
from merchants.queries import markets as markets_q
from qr import banks

log = logging.getLogger("choso.merchants")

IMPORT_ROLES = frozenset({"admin", "manager"})
BATCH = 1000  # new stalls per statement


@dataclass(frozen=True)
class ImportField:
    """A column of a stall list: its field, its Vietnamese and English headers, other spellings."""

    name: str
    vi: str
    en: str
    aliases: tuple[str, ...] = ()


FIELDS: tuple[ImportField, ...] = (
    ImportField("stall_code", "Mã sạp", "stall_code", ("ma", "so sap", "code")),
    ImportField("zone", "Khu", "zone", ("khu vuc", "day sap")),
    ImportField("full_name", "Họ tên", "full_name", ("ho va ten", "chu sap", "ten chu sap")),
    ImportField("phone", "Số điện thoại", "phone", ("dien thoai", "sdt", "so dt")),
    ImportField("goods", "Mặt hàng", "goods", ("hang hoa", "nganh hang")),
    ImportField("bank", "Ngân hàng", "bank", ("ma ngan hang", "bin")),
    ImportField("account_number", "Số tài khoản", "account_number", ("stk", "so tk")),
    ImportField("account_name", "Tên chủ tài khoản", "account_name", ("ten tai khoan",)),
    ImportField(
        "confirm_duplicate",
        "Trùng số điện thoại",
        "confirm_duplicate",
        ("xac nhan trung so dien thoai",),
    ),
)
_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED = ("stall_code", "full_name")
_ACCOUNT_FIELDS = ("bank", "account_number", "account_name")


def _header_key(text: str) -> str:
    return " ".join(fold(text).replace("_", " ").replace("-", " ").split())


_HEADER_INDEX: dict[str, str] = {
    _header_key(spelling): f.name for f in FIELDS for spelling in (f.vi, f.en, *f.aliases)
}

# ---------------------------------------------------------------- Vietnamese reasons

# The tablet's wording (web/static/js/lib/i18n.js errorsVi) for the registration's codes.
_REASONS: dict[str, str] = {
    "missing": "Thiếu {column}.",
    "invalid_stall_code": "Mã sạp gồm 1–20 ký tự: chữ cái (chữ có dấu cũng được), chữ số, khoảng "
    "trắng và . _ / -, bắt đầu bằng chữ cái hoặc chữ số (ví dụ A-12, Đ-5).",
    "invalid_zone": "Tên khu gồm 1–40 ký tự: chữ cái (chữ có dấu cũng được), chữ số, khoảng trắng "
    "và . _ / -, bắt đầu bằng chữ cái hoặc chữ số (ví dụ Khu Cá).",
    "unknown_zone": "Chợ không có khu “{value}”. Các khu của chợ: {zones}.",
    "zone_retired": "Khu “{value}” đã ngừng dùng, không nhận sạp mới. Các khu của chợ: {zones}.",
    "invalid_name": "Họ tên chỉ gồm chữ cái, khoảng trắng và dấu . ' - (tối đa 100 ký tự).",
    "invalid_phone": "Số điện thoại không đúng. Ví dụ: 0905 123 456.",
    "invalid_goods": "Mặt hàng tối đa 100 ký tự, không dùng ký hiệu như = < > | ~ hay biểu tượng cảm xúc.",
    "invalid_bin": "Không nhận ra ngân hàng. Ghi tên viết tắt (ví dụ Vietcombank), mã hoặc BIN.",
    "unknown_bin": "Không có ngân hàng nào mang mã số này. Xem danh sách ở trang “Ngân hàng”.",
    "unknown_bank": "Không tìm thấy ngân hàng “{value}”. Xem danh sách ở trang “Ngân hàng”.",
    "ambiguous_bank": "“{value}” có thể là nhiều ngân hàng ({choices}). Ghi rõ tên viết tắt "
    "hoặc BIN.",
    "invalid_account_number": "Số tài khoản gồm 1–19 chữ số hoặc chữ cái, không có dấu cách.",
    "account_number_as_number": "Excel đã đổi số tài khoản thành số và làm mất chữ số. Định "
    "dạng cột “Số tài khoản” là Văn bản (Text) rồi nhập lại.",
    "invalid_account_name": "Tên tài khoản: chữ in hoa không dấu, số, khoảng trắng và . , ' - "
    "(tối đa 50 ký tự).",
    "momo_reference_required": "Ví MoMo cần mã tham chiếu MOMOW2W…, không nhập được từ danh "
    "sách: thêm tài khoản MoMo trên máy tính bảng.",
    "account_incomplete": "Tài khoản cần cả ngân hàng và số tài khoản.",
    "invalid_yes_no": "Ghi “Có” hoặc để trống.",
    "invalid_cell": "Ô này phải là chữ, không phải ngày giờ.",
    "duplicate_in_file": "Mã sạp {value} đã có ở dòng {other_line} của tệp.",
    "possible_duplicate": "Số điện thoại này đã có ở sạp {other} trong chợ. Nếu cùng một người "
    "thuê nhiều sạp, ghi “Có” ở cột “Trùng số điện thoại”.",
    "possible_duplicate_in_file": "Số điện thoại này đã có ở dòng {other_line} của tệp. Nếu cùng "
    "một người thuê nhiều sạp, ghi “Có” ở cột “Trùng số điện thoại”.",
    "too_long": "Quá dài.",
}
_GENERIC = "Giá trị không hợp lệ."

_NOTES: dict[str, str] = {
    "registered_on_tablet": "Sạp đã được đăng ký trên máy tính bảng: danh sách nhập không thay "
    "đổi sạp này. Sửa trên máy tính bảng nếu cần.",
    "consent_recorded": "Tình nguyện viên đã gặp chủ sạp và ghi nhận đồng ý: danh sách nhập "
    "không thay đổi sạp này. Sửa trên máy tính bảng nếu cần.",
    "stall_worked_on": "Sạp đã được sửa hoặc làm việc trên máy tính bảng: danh sách nhập không "
    "thay đổi sạp này.",
    "holder_erased": "Dữ liệu của chủ sạp đã bị xóa theo yêu cầu của họ: danh sách nhập không "
    "ghi lại.",
}


def _reason(code: str, column: str | None, **params: object) -> str:
    template = _REASONS.get(code, _GENERIC)
    try:
        return template.format(column=column or "", **params)
    except (KeyError, IndexError):
        return _GENERIC


# ---------------------------------------------------------------- reading the file


@dataclass(frozen=True)
class Layout:
    """Which column of the file holds which field."""

    columns: dict[str, int]  # field name -> column index
    headers: dict[str, str]  # field name -> the header as written
    ignored: list[str]


def layout_of(table: Table) -> Layout:
    """Map the file's headers to fields (case, diacritics, spaces, _ and - ignored)."""
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(table.header):
        if not header:
            continue
        name = _HEADER_INDEX.get(_header_key(header))
        if name is None:
            ignored.append(header)
            continue
        if name in columns:
            raise errors.ImportColumnRepeated(
                f"The columns '{headers[name]}' and '{header}' both hold {name}.",
                field=name,
                columns=[headers[name], header],
            )
        columns[name], headers[name] = index, header
    needed = list(REQUIRED)
    if any(f in columns for f in _ACCOUNT_FIELDS):
        needed += ["bank", "account_number"]
    missing = [f for f in needed if f not in columns]
    if missing:
        names = ", ".join(_BY_NAME[f].vi for f in missing)
        raise errors.ImportColumnsMissing(
            f"The file has no column for: {', '.join(missing)}. The first row holds the "
            "headers: " + ", ".join(f.vi for f in FIELDS) + " (or their English names).",
            missing=[_BY_NAME[f].vi for f in missing],
            detail_vi=f"Tệp thiếu cột: {names}. Dòng đầu tiên của tệp phải là tên các cột.",
        )
    return Layout(columns, headers, ignored)


def read_stall_list(data: bytes, filename: str) -> Table:
    """The file as a table, or 4xx (import_file_refused's codes: too_many_rows, nul_bytes ...)."""
    try:
        return read_table(data, filename)
    except SpreadsheetError as exc:
        raise errors.ImportFileRefused(
            exc.code, exc.message_en, detail_vi=exc.message_vi, **exc.params
        ) from None


# ---------------------------------------------------------------- checking rows


class _CellError(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_STALL_CODE = TypeAdapter(schemas.StallCode)
_ZONE = TypeAdapter(schemas.Zone)
_GOODS = TypeAdapter(schemas.Goods)
_NAME = TypeAdapter(PersonName)
_PHONE = TypeAdapter(Phone)
_YES = {"co", "x", "1", "yes", "true", "y", "dung"}
_NO = {"khong", "0", "no", "false", "n", "sai"}
_EXCEL_DIGITS = 15  # a number cell keeps 15 significant digits


def _text(cell: CellValue, *, digits_only: bool = False) -> str | None:
    """A cell as text: numbers without '.0', blanks as None; a date is not text."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "Có" if cell else "Không"
    if isinstance(cell, datetime | date):
        raise _CellError("invalid_cell")
    if isinstance(cell, int):
        if digits_only and len(str(abs(cell))) > _EXCEL_DIGITS:
            raise _CellError("account_number_as_number")
        return str(cell)
    if isinstance(cell, float):
        if digits_only:
            raise _CellError("account_number_as_number")
        return str(int(cell)) if cell.is_integer() else str(cell)
    text = str(cell).strip()
    return text or None


def _checked(adapter: TypeAdapter[Any], value: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        kind = str(first.get("type", "invalid"))
        raise _CellError("too_long" if kind == "string_too_long" else kind) from None


@functools.lru_cache(maxsize=1024)
def resolve_bank(value: str) -> str:
    """A BIN from a bank's BIN, code or short name (or a name only one bank matches); a list
    names a few banks many times, hence the cache (a refusal is an exception: not cached)."""
    if re.fullmatch(r"[0-9]{6}", value):
        if banks.get(value) is None:
            raise _CellError("unknown_bin")
        return value
    hits = banks.search(value)
    key = fold(value)
    exact = [b for b in hits if key in (b.bin, fold(b.code), fold(b.short_name), fold(b.name))]
    chosen = exact if exact else hits
    if len(chosen) == 1:
        return chosen[0].bin
    if not chosen:
        raise _CellError("unknown_bank", value=value)
    raise _CellError(
        "ambiguous_bank", value=value, choices=", ".join(b.short_name for b in chosen[:5])
    )


@dataclass
class Row:
    """One data row: its values once checked, or its errors."""

    line: int
    stall_code: str | None = None
    code_key: str | None = None
    code_sort: str | None = None
    zone: str | None = None
    goods: str | None = None
    full_name: str | None = None
    phone: str | None = None
    account: schemas.PaymentAccountIn | None = None
    confirm_duplicate: bool = False
    errors: list[schemas.StallImportError] = field(default_factory=list)
    raw_code: str | None = None


def check_row(line: int, cells: Sequence[CellValue], layout: Layout) -> Row:
    """Check one row field by field, with the registration's types; every problem is listed."""
    row = Row(line=line)

    def cell(name: str) -> CellValue:
        index = layout.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def fail(name: str, code: str, **params: object) -> None:
        column = layout.headers.get(name, _BY_NAME[name].vi)
        row.errors.append(
            schemas.StallImportError(
                column=column, field=name, code=code, reason=_reason(code, column, **params)
            )
        )

    def take(name: str, check: Callable[[str], Any], *, required: bool = False) -> Any:
        try:
            text = _text(cell(name), digits_only=name == "account_number")
            if text is None:
                if required:
                    raise _CellError("missing")
                return None
            return check(text)
        except _CellError as exc:
            fail(name, exc.code, **exc.params)
            return None

    code_text = take("stall_code", lambda t: t, required=True)
    row.raw_code = code_text
    if code_text is not None:
        row.stall_code = take("stall_code", lambda t: _checked(_STALL_CODE, t))
        if row.stall_code is not None:
            row.code_key, row.code_sort = stalls.code_keys(row.stall_code)
    row.zone = take("zone", lambda t: _checked(_ZONE, t))
    row.goods = take("goods", lambda t: _checked(_GOODS, t))
    row.full_name = take("full_name", lambda t: _checked(_NAME, t), required=True)
    row.phone = take("phone", lambda t: _checked(_PHONE, t))
    row.confirm_duplicate = bool(take("confirm_duplicate", _yes_no))
    row.account = _account(row, cell, fail)
    return row


def _yes_no(text: str) -> bool:
    key = fold(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise _CellError("invalid_yes_no")


def _account(
    row: Row, cell: Callable[[str], CellValue], fail: Callable[..., None]
) -> schemas.PaymentAccountIn | None:
    texts: dict[str, str | None] = {}
    broken = False
    for field_name in _ACCOUNT_FIELDS:
        try:
            texts[field_name] = _text(cell(field_name), digits_only=field_name == "account_number")
        except _CellError as exc:
            fail(field_name, exc.code, **exc.params)
            texts[field_name], broken = None, True
    bank, number, name = texts["bank"], texts["account_number"], texts["account_name"]
    if broken:
        return None
    if bank is None and number is None:
        if name is not None:
            fail("bank", "account_incomplete")
        return None
    if bank is None or number is None:
        fail("bank" if bank is None else "account_number", "account_incomplete")
        return None
    try:
        bin_ = resolve_bank(bank)
    except _CellError as exc:
        fail("bank", exc.code, **exc.params)
        return None
    try:
        return schemas.PaymentAccountIn(bin=bin_, account_number=number, account_name=name)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc") or ()
            where = {"account_number": "account_number", "account_name": "account_name"}.get(
                str(loc[0]) if loc else "", "bank"
            )
            kind = str(err.get("type", "invalid"))
            fail(where, "too_long" if kind == "string_too_long" else kind)
        return None


# ---------------------------------------------------------------- deciding each row


@dataclass
class Plan:
    """What an import would do: every row's answer, and the writes of a real run."""

    rows: list[schemas.StallImportRow]
    creates: list[tuple[int, imports_q.ImportedStall]]  # (index in rows, stall)
    # (index in rows, update, audit before, audit after, the stall's version when read)
    updates: list[tuple[int, imports_q.ImportUpdate, dict, dict, int]]
    zone_moves: list[int]

    def counts(self) -> schemas.StallImportCounts:
        c = schemas.StallImportCounts()
        for r in self.rows:
            setattr(c, r.status, getattr(c, r.status) + 1)
        return c


def _protection(e: imports_q.ExistingStall) -> str | None:
    """Why an import must leave this stall as it is (None: the import may update it)."""
    if e.import_id is None:
        return "registered_on_tablet"
    if e.erased or e.holder_id is None:
        return "holder_erased"
    if e.consent_asked:
        return "consent_recorded"
    if e.worked_on or e.status != "active" or (e.account is None and e.accounts > 0):
        return "stall_worked_on"
    return None


def _differences(row: Row, e: imports_q.ExistingStall, seal: Callable[[str], str]) -> list[str]:
    diff = []
    if row.zone is not None and row.zone != e.zone:
        diff.append("zone")
    if row.goods is not None and row.goods != e.goods:
        diff.append("goods")
    if row.full_name is not None and row.full_name != e.full_name:
        diff.append("full_name")
    if row.phone is not None and row.phone != e.phone:
        diff.append("phone")
    a = row.account
    if a is not None and (
        e.account is None
        or a.bin != e.account.bin
        or seal(a.account_number) != e.account.account_number
        or (a.account_name is not None and a.account_name != e.account.account_name)
    ):
        diff.append("account")
    return diff


def _view(
    *,
    stall_code: str,
    zone: str | None,
    goods: str | None,
    full_name: str | None,
    phone: str | None,
    account: tuple[str, str, str | None] | None,
    import_id: int | None,
) -> dict:
    """What the audit log keeps of an imported stall: no phone or account number in clear."""
    accounts = (
        [{"bin": account[0], "account_number": "…" + account[1][-4:], "account_name": account[2]}]
        if account
        else []
    )
    return {  # plain JSON values already
        "stall_code": stall_code,
        "zone": zone,
        "goods": goods,
        "holder": {"full_name": full_name, "phone": mask_phone(phone)},
        "payment_accounts": accounts,
        "source": {"kind": "import", "import_id": import_id},
    }


def plan_rows(
    checked: list[Row],
    existing: dict[str, imports_q.ExistingStall],
    phones: dict[str, list[tuple[int, str]]],
    *,
    layout: Layout,
    seal: Callable[[str], str],
    open_number: Callable[[str], str],
    zones: markets_q.MarketZones | None = None,
) -> Plan:
    """Every row's answer against the market's stalls (read in the same transaction); `zones`:
    the zones a stall of the market may be put in (a market without zones takes any)."""
    plan = Plan(rows=[], creates=[], updates=[], zone_moves=[])

    def error(name: str, code: str, **params: object) -> schemas.StallImportError:
        column = layout.headers.get(name, _BY_NAME[name].vi)
        return schemas.StallImportError(
            column=column, field=name, code=code, reason=_reason(code, column, **params)
        )

    first_line: dict[str, int] = {}  # code_key -> line of its first row
    phone_line: dict[str, int] = {}  # phone -> line of its first row
    for row in checked:
        errors_ = list(row.errors)
        if row.code_key is not None:
            if row.code_key in first_line:
                errors_.append(
                    error(
                        "stall_code",
                        "duplicate_in_file",
                        value=row.stall_code,
                        other_line=first_line[row.code_key],
                    )
                )
            else:
                first_line[row.code_key] = row.line
        e = existing.get(row.code_key) if row.code_key else None
        if errors_:
            plan.rows.append(_error_row(row, errors_, e))
            continue
        assert row.stall_code is not None and row.code_key is not None and row.code_sort
        if row.zone is not None and zones is not None and row.zone not in zones.zones:
            # "a" in a spreadsheet is the market's zone "A": written as the market spells it.
            same = [z for z in zones.zones if z.casefold() == row.zone.casefold()]
            if len(same) == 1:
                row.zone = same[0]
        diff = _differences(row, e, seal) if e else []
        protected = _protection(e) if e and diff else None
        writes_zone = row.zone is not None and (e is None or ("zone" in diff and not protected))
        if writes_zone and zones is not None and (zones.zones or zones.retired_zones):
            if row.zone not in zones.zones:
                retired = row.zone in zones.retired_zones
                code = "zone_retired" if retired else "unknown_zone"
                listed = ", ".join(zones.zones)
                plan.rows.append(
                    _error_row(row, [error("zone", code, value=row.zone, zones=listed)], e)
                )
                continue
        writes_phone = row.phone is not None and (e is None or ("phone" in diff and not protected))
        if writes_phone and not row.confirm_duplicate:
            assert row.phone is not None
            others = [(i, code) for i, code in phones.get(row.phone, []) if e is None or i != e.id]
            earlier = phone_line.get(row.phone)
            problem = None
            if others:
                problem = error("phone", "possible_duplicate", other=others[0][1])
            elif earlier is not None:
                problem = error("phone", "possible_duplicate_in_file", other_line=earlier)
            if problem is not None:
                plan.rows.append(_error_row(row, [problem], e))
                continue
        if row.phone is not None:
            phone_line.setdefault(row.phone, row.line)
        if e is None:
            plan.creates.append((len(plan.rows), _new_stall(row)))
            plan.rows.append(
                schemas.StallImportRow(
                    line=row.line, status="created", stall_code=row.stall_code, stall_id=None
                )
            )
            continue
        if not diff or protected:
            plan.rows.append(
                schemas.StallImportRow(
                    line=row.line,
                    status="unchanged",
                    stall_code=e.stall_code,
                    stall_id=e.id,
                    kept=diff,
                    note_code=protected,
                    note=_NOTES.get(protected) if protected else None,
                )
            )
            continue
        update, before, after = _update(row, e, diff, open_number)
        plan.updates.append((len(plan.rows), update, before, after, e.version))
        if "zone" in diff:
            plan.zone_moves.append(e.id)
        plan.rows.append(
            schemas.StallImportRow(
                line=row.line,
                status="updated",
                stall_code=e.stall_code,
                stall_id=e.id,
                changed=diff,
            )
        )
    return plan


def _error_row(
    row: Row, errs: list[schemas.StallImportError], e: imports_q.ExistingStall | None
) -> schemas.StallImportRow:
    return schemas.StallImportRow(
        line=row.line,
        status="error",
        stall_code=row.stall_code or row.raw_code,
        stall_id=e.id if e else None,
        errors=errs,
    )


def _new_stall(row: Row) -> imports_q.ImportedStall:
    assert row.stall_code and row.code_key and row.code_sort and row.full_name
    return imports_q.ImportedStall(
        stall_code=row.stall_code,
        code_key=row.code_key,
        code_sort=row.code_sort,
        zone=row.zone,
        goods=row.goods,
        search_text=stall_search_text(row.stall_code, row.full_name, row.phone, row.goods),
        full_name=row.full_name,
        phone=row.phone,
        account=row.account,
    )


def _update(
    row: Row, e: imports_q.ExistingStall, diff: list[str], open_number: Callable[[str], str]
) -> tuple[imports_q.ImportUpdate, dict, dict]:
    zone = row.zone if "zone" in diff else None
    goods = row.goods if "goods" in diff else None
    name = row.full_name if "full_name" in diff else None
    phone = row.phone if "phone" in diff else None
    account = row.account if "account" in diff else None
    new_name, new_phone = name or e.full_name, phone or e.phone
    new_goods = goods if goods is not None else e.goods
    old_account = (
        (e.account.bin, open_number(e.account.account_number), e.account.account_name)
        if e.account
        else None
    )
    new_account = (
        (
            account.bin,
            account.account_number,
            account.account_name or (old_account or ("", "", None))[2],
        )
        if account
        else old_account
    )
    update = imports_q.ImportUpdate(
        stall_id=e.id,
        holder_id=e.holder_id,
        zone=zone,
        goods=goods,
        full_name=name,
        phone=phone,
        search_text=stall_search_text(e.stall_code, new_name, new_phone, new_goods),
        account=account,
        account_id=e.account.id if e.account and account else None,
    )
    before = _view(
        stall_code=e.stall_code, zone=e.zone, goods=e.goods, full_name=e.full_name, phone=e.phone,
        account=old_account, import_id=e.import_id,
    )  # fmt: skip
    after = _view(
        stall_code=e.stall_code, zone=zone if zone is not None else e.zone, goods=new_goods,
        full_name=new_name, phone=new_phone, account=new_account, import_id=e.import_id,
    )  # fmt: skip
    return update, before, after


# ---------------------------------------------------------------- the use case


async def require_import_access(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    """403 unless an administrator, or a manager of this market (checked before the file is
    read); 404 for an unknown market."""
    if user.role not in IMPORT_ROLES:
        raise Forbidden("Only administrators and the market's managers import stall lists.")
    scope = await access.market_scope(conn, user)
    if scope is not None and market_id not in scope:
        raise Forbidden("This market is not assigned to you.")
    if not await markets_q.market_exists(conn, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")


_DATE_VN = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def parse_list_date(value: str | None, *, today: date | None = None) -> date | None:
    """The board's list date: YYYY-MM-DD or DD/MM/YYYY (as written in Vietnam), not after today in
    Vietnam (a list is dated when it was made: a later day is a slip); empty: none."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    day: date | None = None
    try:
        if m := _DATE_VN.fullmatch(text):
            day = date(int(m[3]), int(m[2]), int(m[1]))
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = date.fromisoformat(text)
    except ValueError:
        pass
    if day is None:
        raise errors.InvalidListDate(
            "list_date is a day, written YYYY-MM-DD or DD/MM/YYYY.", field="list_date"
        )
    if day > (today or datetime.now(ICT).date()):
        raise errors.InvalidListDate(
            "list_date is after today: a list is dated the day it was made.", field="list_date"
        )
    return day


def _clean_filename(filename: str | None) -> str | None:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:200] or None


async def import_stall_list(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    data: bytes,
    filename: str | None,
    list_date: date | None,
    dry_run: bool,
) -> schemas.StallImportResult:
    """Import a board's stall list into a market (access checked by require_import_access).

    Every row is answered; a real run writes the created and updated rows in one transaction
    (new stalls set-based, BATCH per statement, counted as registrations are), records the import
    and audits each stall. A file that changes nothing writes nothing.
    """
    name = _clean_filename(filename)
    table = await asyncio.to_thread(read_stall_list, data, name or "")
    layout = layout_of(table)
    checked = [check_row(r.line, r.cells, layout) for r in table.rows]
    digest = hashlib.sha256(data).digest()
    keys = keys_of(conn)
    import_id: int | None = None
    try:
        async with conn.transaction():
            if not dry_run:
                await imports_q.lock_market_imports(conn, market_id)
            market = await markets_q.market_zones(conn, market_id, lock=not dry_run)
            if market is None:
                raise errors.MarketNotFound(f"No market with id {market_id}.")
            if market.archived:
                raise errors.MarketArchived(
                    f"Market {market_id} is archived: it takes no new or imported stalls."
                )
            code_keys = sorted({r.code_key for r in checked if r.code_key})
            found = await imports_q.stalls_by_code(conn, market_id, code_keys)
            existing = {e.code_key: e for e in found}
            wanted = sorted({r.phone for r in checked if r.phone})
            phones = await imports_q.active_stalls_by_phone(conn, market_id, wanted)
            plan = plan_rows(
                checked,
                existing,
                phones,
                layout=layout,
                seal=keys.seal,
                open_number=keys.open,
                zones=market,
            )
            counts = plan.counts()
            if not dry_run and (plan.creates or plan.updates):
                import_id = await _apply(
                    conn,
                    plan,
                    user=user,
                    market_id=market_id,
                    filename=name,
                    digest=digest,
                    list_date=list_date,
                    counts=counts,
                )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name in (
            "stall_market_id_code_key",
            "payment_account_stall_id_bin_account_key",
        ):
            raise errors.ImportConflict(
                "A stall of the file was registered or changed while it was imported; "
                "nothing was written. Import the file again."
            ) from None
        raise
    return schemas.StallImportResult(
        import_id=import_id,
        dry_run=dry_run,
        written=import_id is not None,
        market_id=market_id,
        filename=name,
        sha256=digest.hex(),
        list_date=list_date,
        counts=counts,
        columns=[
            schemas.StallImportColumn(header=layout.headers[f], field=f)
            for f in sorted(layout.columns, key=layout.columns.__getitem__)
        ],
        ignored_columns=layout.ignored,
        rows=plan.rows,
    )


async def _apply(
    conn: asyncpg.Connection,
    plan: Plan,
    *,
    user: User,
    market_id: int,
    filename: str | None,
    digest: bytes,
    list_date: date | None,
    counts: schemas.StallImportCounts,
) -> int:
    """The writes of a real run, in the caller's transaction. Lock order as everywhere: stall
    rows (the ones to update) -> rule lock (the new stalls' coverage rows) -> the market's
    counter row (finish_import)."""
    import_id = await imports_q.insert_stall_import(
        conn,
        market_id=market_id,
        uploaded_by=user.id,
        filename=filename,
        sha256=digest,
        list_date=list_date,
        counts=counts,
    )
    entries: list[imports_q.AuditEntry] = []
    if plan.updates:
        # Only the stalls to update are locked (a rerun of a file locks nothing); one edited
        # since it was read would be overwritten with a decision made on its old data.
        read = {u.stall_id: version for _, u, _, _, version in plan.updates}
        if await imports_q.lock_stall_versions(conn, sorted(read)) != read:
            raise errors.ImportConflict(
                "A stall of the file was changed while it was imported; nothing was written. "
                "Import the file again."
            )
        await imports_q.update_imported_stalls(
            conn, [u for _, u, _, _, _ in plan.updates], actor_id=user.id
        )
        if plan.zone_moves:
            await counters.stalls_moved_zone(conn, plan.zone_moves)
        entries += [
            imports_q.AuditEntry("stall", u.stall_id, before, after)
            for _, u, before, after, _ in plan.updates
        ]
    for start in range(0, len(plan.creates), BATCH):
        batch = plan.creates[start : start + BATCH]
        ids = await imports_q.insert_imported_stalls(
            conn,
            market_id=market_id,
            actor_id=user.id,
            import_id=import_id,
            stalls=[s for _, s in batch],
        )
        for (index, new), stall_id in zip(batch, ids, strict=True):
            plan.rows[index].stall_id = stall_id
            a = new.account
            entries.append(
                imports_q.AuditEntry(
                    "stall",
                    stall_id,
                    None,
                    _view(
                        stall_code=new.stall_code,
                        zone=new.zone,
                        goods=new.goods,
                        full_name=new.full_name,
                        phone=new.phone,
                        account=(a.bin, a.account_number, a.account_name) if a else None,
                        import_id=import_id,
                    ),
                )
            )
    entries.append(
        imports_q.AuditEntry(
            "stall_import",
            import_id,
            None,
            jsonable(
                {
                    "market_id": market_id,
                    "filename": filename,
                    "sha256": digest.hex(),
                    "list_date": list_date,
                    "counts": counts.model_dump(),
                }
            ),
        )
    )
    row = await imports_q.finish_import(
        conn, market_id=market_id, actor_id=user.id, created=len(plan.creates), entries=entries
    )
    if row is not None:
        await counters.settle_new_stalls(conn, row, market_id)
    log.info(
        "stall list imported",
        extra={"market_id": market_id, "import_id": import_id, "counts": counts.model_dump()},
    )
    return import_id


# ---------------------------------------------------------------- the template


def template_xlsx() -> bytes:
    """A stall list to fill in: the Vietnamese headers and one example row, and a second sheet
    with the banks (what the "Ngân hàng" column accepts: short name, code or BIN)."""
    columns = [Column(f.vi, "phone" if f.name == "phone" else "text") for f in FIELDS]
    example = ["A-12", "A", "Lưu Thị Ngọc Thùy", "0905123456", "Rau củ", "Vietinbank",
               "0123456789", "LUU THI NGOC THUY", ""]  # fmt: skip
    bank_rows = [(b.short_name, b.code, b.bin, b.name) for b in banks.all_banks()]
    return write_xlsx(
        [
            Sheet("Danh sách sạp", columns, [example]),
            Sheet(
                "Ngân hàng",
                [
                    Column("Tên viết tắt"),
                    Column("Mã"),
                    Column("BIN"),
                    Column("Tên đầy đủ"),
                ],
                bank_rows,
            ),
        ]
    )
