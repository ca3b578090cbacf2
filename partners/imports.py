"""Partner report imports (CSV): parse, resolve every row, dry run or apply once per file."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Literal

import asyncpg

from core import audit, labels
from core.errors import Forbidden
from core.spreadsheet import SpreadsheetError
from core.text import fold, normalize
from core.types import User, phone_e164
from partners import errors, onboarding, payments, registry, report_file, schemas
from partners.queries import accounts as accounts_q
from partners.queries import imports as imports_q
from partners.queries import registry as registry_q
from partners.report_file import quoted
from qr.types import compact_account_number

log = logging.getLogger("choso.partners")


@dataclass(frozen=True)
class Reason:
    """Why a row names no account: in English for the API's `reason`, in Vietnamese for people."""

    en: str
    vi: str


# Onboarding statuses in Vietnamese, as the partner's page and its workbook name them.
STATUS_VI = labels.ONBOARDING_STATUS_VI


class _DryRun(Exception):
    """Raised to roll back an import that must not write (dry run or a file seen before)."""


async def import_report(
    conn: asyncpg.Connection,
    *,
    user: User,
    code: str,
    data: bytes,
    filename: str | None,
    dry_run: bool,
) -> schemas.ImportResult:
    """Reconcile a partner's onboarding report with the register; a repeat file changes nothing."""
    code = code.upper()
    filename = "".join(c for c in filename or "" if c.isprintable())[:200] or None
    # The role first (403 before any lookup reveals nothing); a partner user naming another
    # partner gets the answer for a partner that does not exist, as its other routes give.
    if user.role not in ("admin", "partner"):
        raise Forbidden("Only administrators and the partner itself import partner reports.")
    if user.role == "partner" and await registry.partner_of(conn, user) != code:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    partner = await registry_q.get_partner(conn, code)
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    try:
        # Off the event loop, as a stall list's: a large or forged file must not hold every request.
        rows, row_errors, ignored_columns = await asyncio.to_thread(
            report_file.parse_report, data, filename
        )
    except report_file.CsvFormatError as exc:
        raise errors.CsvMalformed(
            f"Line {exc.line}: {exc.message}.", line=exc.line, detail_vi=exc.message_vi
        ) from None
    except SpreadsheetError as exc:
        raise errors.ReportFileRefused(
            exc.code, exc.message_en, detail_vi=exc.message_vi, **exc.params
        ) from None
    digest = hashlib.sha256(data).digest()
    previous = await imports_q.import_by_sha(conn, partner_code=code, sha256=digest)
    import_id: int | None = None
    results: list[schemas.ImportRowResult] = []
    try:
        async with conn.transaction():
            if not dry_run and previous is None:
                import_id = await imports_q.claim_import(
                    conn, partner_code=code, sha256=digest, filename=filename, created_by=user.id
                )
                if import_id is None:  # the same file is being imported right now
                    previous = await imports_q.import_by_sha(conn, partner_code=code, sha256=digest)
            markets = _Markets(await accounts_q.all_markets(conn))
            results = await _apply_report(
                conn,
                partner=partner,
                user=user,
                rows=rows,
                ref=f"import:{digest.hex()[:16]}",
                markets=markets,
            )
            row_errors = [_with_market_problem(e, markets) for e in row_errors]
            results += [
                schemas.ImportRowResult(
                    line=e.line,
                    result="error",
                    reason=e.reason,
                    reason_vi=e.reason_vi,
                    market=e.market,
                    stall_code=e.stall_code,
                )
                for e in row_errors
            ]
            results.sort(key=lambda r: r.line)
            if import_id is None:
                raise _DryRun
            summary = {
                "counts": _counts(results),
                "rows": [r.model_dump(mode="json") for r in results[:5000]],
            }
            await imports_q.finish_import(conn, import_id=import_id, summary=summary)
            await audit.record(
                conn,
                actor_id=user.id,
                action="import",
                entity="partner_import",
                entity_id=import_id,
                after={
                    "partner_code": code,
                    "sha256": digest.hex(),
                    "filename": filename,
                    "counts": summary["counts"],
                },
            )
    except _DryRun:
        pass
    if previous is not None:
        note = f"this file was already imported (import #{previous.id}); nothing was changed"
        note_vi = f"tệp này đã được nhập (lần nhập số {previous.id}); không thay đổi gì"
        results = [
            r
            if r.result == "error"
            else r.model_copy(update={"result": "unchanged", "reason": note, "reason_vi": note_vi})
            for r in results
        ]
    return schemas.ImportResult(
        import_id=import_id,
        dry_run=dry_run,
        already_imported=previous is not None,
        sha256=digest.hex(),
        counts=_counts(results),
        rows=results,
        ignored_columns=ignored_columns,
    )


def _counts(results: list[schemas.ImportRowResult]) -> dict[str, int]:
    counts = {"created": 0, "matched": 0, "unchanged": 0, "error": 0}
    for r in results:
        counts[r.result] += 1
    return counts


def _market_keys(name: str) -> set[str]:
    key = fold(name)
    return {key, key.removeprefix("cho ")}


class _Markets:
    """The markets by their folded names ("Chợ Cồn", "cho con" and "Cồn" are one): a row's market
    is one of them, none (unknown) or several (ambiguous)."""

    def __init__(self, markets: list[accounts_q.MarketName]) -> None:
        self._ids: dict[str, list[int]] = {}
        for market in markets:
            for key in _market_keys(market.name):
                self._ids.setdefault(key, []).append(market.id)

    def find(self, name: str | None) -> int | None | Reason:
        if name is None:
            return None
        ids = sorted({i for key in _market_keys(name) for i in self._ids.get(key, [])})
        if len(ids) != 1:
            return (
                Reason(f"unknown market {name!r}", f"không tìm thấy chợ “{quoted(name)}”")
                if not ids
                else Reason(
                    f"market name {name!r} is ambiguous", f"nhiều chợ có tên “{quoted(name)}”"
                )
            )
        return ids[0]


def _with_market_problem(e: report_file.RowError, markets: _Markets) -> report_file.RowError:
    """A row refused for its format says what else is wrong with its market too: a reviewer fixed
    a date, checked again, and only then read that the market was unknown."""
    found = markets.find(e.market)
    if not isinstance(found, Reason):
        return e
    return dataclasses.replace(
        e, reason=f"{e.reason}; {found.en}", reason_vi=f"{e.reason_vi}; {found.vi}"
    )


async def _apply_report(
    conn: asyncpg.Connection,
    *,
    partner: schemas.Partner,
    user: User,
    rows: list[report_file.ImportRow],
    ref: str,
    markets: _Markets,
) -> list[schemas.ImportRowResult]:
    """Resolve each row to one payment account and create or move the partner's onboarding of it."""

    def market_of(row: report_file.ImportRow) -> int | None | Reason:
        return markets.find(row.market)

    row_market = {row.line: market_of(row) for row in rows}
    pairs = sorted(
        {
            (m, normalize(row.stall_code).upper())
            for row in rows
            if row.stall_code
            and payments.printable(row.stall_code, 64)
            and isinstance(m := row_market[row.line], int)
        }
    )
    # Every lookup sees only what is within the partner's reach (reach_q.in_reach): a stall, phone
    # or account outside it reads exactly like one that does not exist.
    by_code = {
        (s.market_id, s.code_key): s.id
        for s in await accounts_q.stalls_by_codes(conn, pairs, within_reach_of=partner.code)
    }
    phones = {row.line: phone_e164(row.phone) for row in rows if row.phone}
    by_phone: dict[str, list[tuple[int, int]]] = {}
    for s in await accounts_q.stalls_by_phones(
        conn, sorted({p for p in phones.values() if p}), within_reach_of=partner.code
    ):
        assert s.phone_e164 is not None
        by_phone.setdefault(s.phone_e164, []).append((s.id, s.market_id))
    # Only values that can exist in the register are looked up (no NUL or other control characters).
    numbers = sorted(
        {
            number
            for row in rows
            if row.account_number
            and re.fullmatch(r"[!-~]{1,19}", number := compact_account_number(row.account_number))
        }
    )
    by_number: dict[str, list[accounts_q.Account]] = {}
    for a in await accounts_q.accounts_by_numbers(conn, numbers, within_reach_of=partner.code):
        by_number.setdefault(a.account_number, []).append(a)

    resolved: dict[int, tuple[int, int | None]] = {}
    results: dict[int, schemas.ImportRowResult] = {}
    for row in rows:
        outcome = _resolve_row(
            row, row_market[row.line], by_code, phones.get(row.line), by_phone, by_number, partner
        )
        if isinstance(outcome, Reason):
            results[row.line] = schemas.ImportRowResult(
                line=row.line, result="error", reason=outcome.en, reason_vi=outcome.vi
            )
        else:
            resolved[row.line] = outcome
    need_account = sorted({stall for stall, account in resolved.values() if account is None})
    candidates: dict[int, list[accounts_q.Candidate]] = {}
    for c in await accounts_q.stall_candidates(
        conn, stall_ids=need_account, partner_code=partner.code, within_reach=True
    ):
        candidates.setdefault(c.stall_id, []).append(c)

    # The account each resolved row names (the stall's own when the row named only the stall).
    named: dict[int, tuple[int, int]] = {}
    for row in rows:
        if row.line not in resolved:
            continue
        stall_id, account_id = resolved[row.line]
        if account_id is None:
            account_id = payments.pick(candidates.get(stall_id, []))
            if account_id is None:
                results[row.line] = schemas.ImportRowResult(
                    line=row.line,
                    result="error",
                    stall_id=stall_id,
                    reason="the stall shows several payment accounts of this partner; "
                    "add account_number",
                    reason_vi="sạp có nhiều tài khoản của đối tác; thêm cột số tài khoản",
                )
                continue
        named[row.line] = (stall_id, account_id)
    skip = _one_row_per_account(rows, named, results)

    for row in rows:
        if row.line not in named or row.line in skip:
            continue
        stall_id, account_id = named[row.line]
        status = row.status or "active"
        try:
            _, done = await onboarding.record_onboarding(
                conn,
                account_id=account_id,
                partner_code=partner.code,
                status=status,
                channel="partner_import",
                source="partner_import",
                actor_id=user.id,
                effective_on=row.date,
                ref=ref,
            )
        except errors.InvalidTransition as exc:
            results[row.line] = schemas.ImportRowResult(
                line=row.line,
                result="error",
                reason=exc.detail,
                reason_vi=f"tài khoản đang ở trạng thái “{STATUS_VI.get(str(exc.extra.get('current_status')), '?')}”, "
                f"không chuyển sang “{STATUS_VI.get(status, status)}” được",
                stall_id=stall_id,
                payment_account_id=account_id,
                status=status,
            )
            continue
        results[row.line] = schemas.ImportRowResult(
            line=row.line,
            result="matched" if done == "updated" else done,
            stall_id=stall_id,
            payment_account_id=account_id,
            status=status,
        )
    # Each row with the market and stall code the file gave (control characters escaped, as in
    # the reasons), so that the partner finds it without counting lines.
    return [
        results[row.line].model_copy(
            update={
                "market": report_file.quoted(row.market)[:80] if row.market else None,
                "stall_code": report_file.quoted(row.stall_code)[:40] if row.stall_code else None,
            }
        )
        for row in rows
    ]


def _one_row_per_account(
    rows: list[report_file.ImportRow],
    named: dict[int, tuple[int, int]],
    results: dict[int, schemas.ImportRowResult],
) -> set[int]:
    """The lines not to apply because another line names the same account. Applied in file order,
    the last line won even when it was older ("tạm ngưng" of 06/12, then "đã gỡ" of 03/12 left the
    account removed). With a date on every such line, the newest one is applied and the others are
    `unchanged`, saying which line is newer; lines saying the same status apply once; otherwise
    none is applied and each is an error."""
    by_account: dict[int, list[report_file.ImportRow]] = {}
    for row in rows:
        if row.line in named:
            by_account.setdefault(named[row.line][1], []).append(row)
    skip: set[int] = set()
    for account_id, group in by_account.items():
        if len(group) < 2:
            continue
        dates = [r.date for r in group]
        newest = max((d for d in dates if d is not None), default=None)
        lines = ", ".join(str(r.line) for r in group)
        newest_known = None not in dates and dates.count(newest) == 1
        keep: report_file.ImportRow | None = None
        if newest_known or len({r.status or "active" for r in group}) == 1:
            # The newest line; or, all saying the same status, the first (a line repeated).
            keep = next(r for r in group if r.date == newest) if newest_known else group[0]
        for r in group:
            if r is keep:
                continue
            skip.add(r.line)
            outcome: Literal["unchanged", "error"]
            if keep is not None:
                outcome, reason, reason_vi = (
                    "unchanged",
                    f"line {keep.line} names the same account"
                    + (" with a later date" if newest_known else ""),
                    f"dòng {keep.line} cùng tài khoản này"
                    + (" có ngày mới hơn" if newest_known else " đã ghi"),
                )
            else:
                outcome, reason, reason_vi = (
                    "error",
                    f"lines {lines} name the same account and none is the newest by its date: "
                    "keep one line per account",
                    f"các dòng {lines} cùng một tài khoản mà không rõ dòng nào mới nhất "
                    "(cần ngày khác nhau): giữ một dòng cho mỗi tài khoản",
                )
            results[r.line] = schemas.ImportRowResult(
                line=r.line,
                result=outcome,
                stall_id=named[r.line][0],
                payment_account_id=account_id,
                status=(r.status or "active") if keep is not None else None,
                reason=reason,
                reason_vi=reason_vi,
            )
    return skip


def _resolve_row(
    row: report_file.ImportRow,
    market: int | None | Reason,
    by_code: dict[tuple[int, str], int],
    phone: str | None,
    by_phone: dict[str, list[tuple[int, int]]],
    by_number: dict[str, list[accounts_q.Account]],
    partner: schemas.Partner,
) -> tuple[int, int | None] | Reason:
    """(stall id, account id or None) named by a row, or why it names none or several.

    The lookups hold only what is within the partner's reach, so the reasons read the same for
    what does not exist and for what is not the partner's.
    """
    if isinstance(market, Reason):
        return market
    stall_sets: list[set[int]] = []
    account: accounts_q.Account | None = None
    if row.stall_code:
        if market is None:
            if not (row.phone or row.account_number):
                return Reason(
                    "a stall code needs the market column", "có mã sạp thì cần thêm cột chợ"
                )
        else:
            stall_id = by_code.get((market, normalize(row.stall_code).upper()))
            if stall_id is None:
                return Reason(
                    f"no stall {row.stall_code!r} in market {row.market!r} "
                    "with a payment account of this partner",
                    f"không có sạp “{quoted(row.stall_code)}” ở chợ “{quoted(row.market)}” có tài khoản của đối tác",
                )
            stall_sets.append({stall_id})
    if row.phone:
        if phone is None:
            return Reason(
                f"{row.phone!r} is not a valid phone number",
                f"“{quoted(row.phone)}” không phải số điện thoại hợp lệ",
            )
        stalls = [(s, m) for s, m in by_phone.get(phone, []) if market is None or m == market]
        if not stalls:
            return Reason(
                "no active stall with this phone number and a payment account of this partner",
                "không có sạp đang bán nào có số điện thoại này và tài khoản của đối tác",
            )
        stall_sets.append({s for s, _ in stalls})
    if row.account_number:
        number = compact_account_number(row.account_number)
        found = [a for a in by_number.get(number, []) if row.bin is None or a.bin == row.bin]
        found = [a for a in found if market is None or a.market_id == market]
        if stall_sets:
            found = [a for a in found if all(a.stall_id in s for s in stall_sets)] or found
        if len(found) > 1:
            found = (
                [a for a in found if a.partner_code == partner.code]
                or [a for a in found if a.bin in partner.bins]
                or found
            )
        if not found:
            return Reason(
                "no active payment account of this partner with this number"
                + (f" at BIN {row.bin!r}" if row.bin else ""),
                "không có tài khoản đang dùng nào của đối tác với số này"
                + (f" ở ngân hàng BIN “{quoted(row.bin)}”" if row.bin else ""),
            )
        if len(found) > 1:
            return Reason(
                "several stalls show this account number; add the bin or market column",
                "nhiều sạp có số tài khoản này; thêm cột BIN hoặc cột chợ",
            )
        account = found[0]
        stall_sets.append({account.stall_id})
    common = set.intersection(*stall_sets) if stall_sets else set()
    if not common:
        return Reason(
            "the stall code, phone and account number point to different stalls",
            "mã sạp, số điện thoại và số tài khoản chỉ tới những sạp khác nhau",
        )
    if len(common) > 1:
        return Reason(
            "several stalls match; add the market, stall code or account number",
            "nhiều sạp khớp; thêm cột chợ, mã sạp hoặc số tài khoản",
        )
    stall_id = common.pop()
    return stall_id, account.id if account else None
