"""Printable signs of stalls and markets: the payload of a stored account, sign PDFs, QR images."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from core import access, audit
from core.errors import NotFound
from core.types import User
from coverage import counters
from coverage import stalls as progress
from coverage.schemas import StallCoverage
from merchants import errors, history, schemas, stalls
from merchants.queries import markets as markets_q
from merchants.queries import print_jobs as print_jobs_q
from merchants.queries import signs as signs_q
from merchants.queries import stalls as stalls_q
from partners import registry
from privacy import consent
from qr import banks, sign
from qr.service import payload_for


def account_payload(account: schemas.PaymentAccount) -> str:
    """The exact payload printed for a stored account: static (POI 11), no amount, no purpose.

    This is the minimal layout every bank app emits; it is deterministic, so a reprint carries the
    same bytes, and the stored account is the only input.
    """
    return payload_for(account.bin, account.account_number, account.service, account.reference)


async def _stall_for_sign(
    conn: asyncpg.Connection, user: User, stall_id: int, route: str
) -> schemas.Stall:
    stall = await stalls.read_stall(
        conn, user=user, stall_id=stall_id, route=route, reason="stall_sign"
    )
    await _require_sign_consent(conn, stall.holder.id)
    return stall


async def _require_sign_consent(conn: asyncpg.Connection, holder_id: int | None) -> None:
    if holder_id is not None:
        await consent.require_purpose(conn, holder_id, "qr_sign")


def _pick_account(stall: schemas.Stall, account_id: int | None) -> schemas.PaymentAccount:
    accounts = [a for a in stall.payment_accounts if a.active]
    if account_id is not None:
        accounts = [a for a in accounts if a.id == account_id]
        if not accounts:
            raise NotFound(
                f"Stall {stall.id} has no active payment account {account_id}.", field="account_id"
            )
    if not accounts:
        raise errors.NoPaymentAccount(
            "Add a payment account to the stall before printing its sign."
        )
    return accounts[0]


async def stall_qr(
    conn: asyncpg.Connection, *, user: User, stall_id: int, account_id: int | None, route: str
) -> str:
    """The payload of a stall's (chosen or first) payment account."""
    stall = await _stall_for_sign(conn, user, stall_id, route)
    return account_payload(_pick_account(stall, account_id))


Supports = dict[str, tuple[str, str]]


async def _supports(conn: asyncpg.Connection) -> Supports:
    """Partner code -> (name, support number) of the partners with a number recorded: what a sign
    prints under the account that partner set up (none recorded: nothing printed)."""
    return {
        p.code: (p.name or p.code, p.support_phone)
        for p in await registry.list_partners(conn)
        if p.support_phone
    }


def _sign_info(
    *,
    payload_text: str,
    market_name: str,
    stall_code: str,
    zone: str | None,
    goods: str | None,
    holder_name: str | None,
    bin_: str,
    account_number: str,
    account_name: str | None,
    support: tuple[str, str] | None,
) -> sign.SignInfo:
    bank = banks.get(bin_)
    return sign.SignInfo(
        payload=payload_text,
        market_name=market_name,
        stall_code=stall_code,
        holder_name=holder_name or "",
        goods=goods,
        bank_short_name=bank.short_name if bank else bin_,
        account_number=account_number,
        account_name=account_name or "",
        zone=zone,
        support_partner=support[0] if support else None,
        support_phone=support[1] if support else None,
    )


def sign_digest(payload_text: str) -> str:
    """A short digest of the payload a sign carries: the `Sign-Digest` of its PDF, which the
    print's confirmation sends back (a sign opened before its account was corrected carries the
    old account: confirming it is refused)."""
    return hashlib.sha256(payload_text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SignFile:
    pdf: bytes
    shortened: tuple[str, ...]  # the texts the sign shows only in part (qr.sign.shortened)
    digest: str  # sign_digest of its payload


async def stall_sign_pdf(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int | None,
    size: Literal["A6", "A5"],
    route: str,
) -> SignFile:
    """One stall's printable sign, the texts it shows only in part and its payload's digest.
    Rendering records nothing: a print counts only when someone confirms it came out of the
    printer (confirm_stall_print)."""
    stall = await _stall_for_sign(conn, user, stall_id, route)
    account = _pick_account(stall, account_id)
    market = await markets_q.market_name(conn, stall.market_id) or ""
    info = _sign_info(
        payload_text=account_payload(account),
        market_name=market,
        stall_code=stall.stall_code,
        zone=stall.zone,
        goods=stall.goods,
        holder_name=stall.holder.full_name,
        bin_=account.bin,
        account_number=account.account_number,
        account_name=account.account_name,
        support=(await _supports(conn)).get(account.partner_code or ""),
    )
    return SignFile(sign.sign_pdf(info, size=size), sign.shortened(info), sign_digest(info.payload))


async def confirm_stall_print(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int | None,
    route: str,
    window_days: int,
    printed_digest: str | None = None,
) -> StallCoverage:
    """The stall's sign came out of the printer: the print of its (chosen or first) account is
    recorded and the stall's sign counts as issued. `printed_digest`, the Sign-Digest of the PDF
    that was printed: when the account changed since (a correction sent from a queue while the
    sheet printed), the sheet pays the old account, and the print is refused (SignChanged)."""
    await stalls.writable_stall(conn, user, stall_id)
    stall = await _stall_for_sign(conn, user, stall_id, route)
    account = _pick_account(stall, account_id)
    text = account_payload(account)
    if printed_digest is not None and printed_digest != sign_digest(text):
        raise errors.SignChanged()
    async with conn.transaction():
        await signs_q.record_prints(
            conn, prints=[(stall.id, account.id, text)], fmt="sign_pdf", user_id=user.id
        )
        await _issued(conn, user, [(stall.id, account.id)], window_days=window_days)
        await _reprinted(conn, [(stall.id, account.id, text)])
    return await progress.stall_coverage(conn, stall.id)


async def _reprinted(conn: asyncpg.Connection, prints: list[tuple[int, int, str]]) -> None:
    """Confirmed prints of (stall, account, payload) that show the account as it is now: a stall's
    sign flagged for reprint (its account was corrected or deactivated) no longer needs one. A print
    frozen in a job before the correction shows the old payload and leaves the flag."""
    for stall_id, account_id, text in sorted(prints):
        stall = await stalls_q.get_stall(conn, stall_id)
        current = (
            next((a for a in stall.payment_accounts if a.id == account_id and a.active), None)
            if stall
            else None
        )
        if current is not None and account_payload(current) == text:
            await progress.clear_reprint(conn, stall_id=stall_id)


async def reprint_after_reactivation(conn: asyncpg.Connection, stall_id: int) -> None:
    """A stopped account of the stall is in use again (the caller's transaction holds the stall
    row). A reprint flag raised because a sign showed a stopped account is judged again from the
    prints the app recorded and what changed since (the stall's history): cleared when every
    account a recorded print shows is in use, printed as it is now, and nothing a sign shows was
    edited since; else it says what did change (an account corrected, the sign's details); left as
    it is when a printed account is still stopped or no print was recorded (a sign printed outside
    the app). One reason is kept per stall, so a stop may have overwritten an earlier one: the
    history since the prints is what tells."""
    coverage = await progress.stall_coverage(conn, stall_id)
    if not coverage.sign_reprint_needed or coverage.sign_reprint_reason != "account_deactivated":
        return
    printed = await signs_q.latest_prints(conn, stall_id)
    stall = await stalls_q.get_stall(conn, stall_id)
    if not printed or stall is None:
        return
    accounts = {a.id: a for a in stall.payment_accounts}
    shown = [accounts.get(account_id) for account_id in printed]
    if any(a is None or not a.active for a in shown):
        return
    since = min(at for _, at in printed.values())
    changed = await history.fields_changed_since(conn, stall_id, since)
    if changed & history.ACCOUNT_FIELDS or any(
        account_payload(accounts[a]) != text for a, (text, _) in printed.items()
    ):
        await progress.flag_reprint(conn, stall_id=stall_id, reason="account_corrected")
    elif changed & history.SIGN_FIELDS:
        await progress.flag_reprint(conn, stall_id=stall_id, reason="sign_details_changed")
    else:
        await progress.clear_reprint(conn, stall_id=stall_id)


async def _issued(
    conn: asyncpg.Connection,
    user: User,
    prints: list[tuple[int, int]],
    *,
    window_days: int,
    job_id: int | None = None,
) -> None:
    """Count confirmed prints of (stall, account) as issued signs, each with its audit entry (in
    stall-id order: the lock order of coverage.counters)."""
    for stall_id, account_id in sorted(prints):
        await counters.mark_sign_issued(conn, stall_id, user, window_days=window_days)
        await audit.record(
            conn,
            actor_id=user.id,
            action="print_confirmed",
            entity="stall",
            entity_id=stall_id,
            after={"payment_account_id": account_id, "print_job_id": job_id},
        )


def _infos(rows: list[tuple[str, signs_q.SignRow]], supports: Supports) -> list[sign.SignInfo]:
    return [
        _sign_info(
            payload_text=text,
            market_name=r.market_name,
            stall_code=r.stall_code,
            zone=r.zone,
            goods=r.goods,
            holder_name=r.holder_name,
            bin_=r.bin,
            account_number=r.account_number,
            account_name=r.account_name,
            support=supports.get(r.partner_code or ""),
        )
        for text, r in rows
    ]


async def market_signs(
    conn: asyncpg.Connection, *, market_id: int, zone: str | None, only_unprinted: bool
) -> tuple[str, list[tuple[str, signs_q.SignRow]]]:
    """(market name, (payload, sign data) of its active stalls) — no scope check: callers do it."""
    name = await markets_q.market_name(conn, market_id)
    if name is None:
        raise NotFound(f"No market with id {market_id}.")
    rows = await signs_q.market_sign_rows(
        conn, market_id=market_id, zone=zone, only_unprinted=only_unprinted
    )
    return name, [(payload_for(r.bin, r.account_number, r.service, r.reference), r) for r in rows]


async def _readable_market(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    if not access.sees_personal_data(user) or not await access.can_see_market(
        conn, user, market_id
    ):
        raise errors.MarketNotFound(f"No market with id {market_id}.")


async def market_signs_pdf(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    zone: str | None,
    only_unprinted: bool,
    size: Literal["A6", "A5"],
    route: str,
    progress_bar: Any = None,
) -> bytes:
    """Every active stall's sign in one print-ready PDF, in stall-code order: a preview that records
    no print (a print job is what gets printed and confirmed). Each sign shows its holder's name
    and account: the read is in each person's access log, as one stall's sign is (stall_sign)."""
    await _readable_market(conn, user, market_id)
    name, rows = await market_signs(
        conn, market_id=market_id, zone=zone, only_unprinted=only_unprinted
    )
    await access.log_access_many(
        conn, user=user, stallholder_ids=[r.holder_id for _, r in rows], route=route,
        reason="stall_sign",
    )  # fmt: skip
    return sign.market_pdf(
        _infos(rows, await _supports(conn)),
        size=size,
        title=f"Biển VietQR - {name}",
        progress=progress_bar,
    )


# ---------------------------------------------------------------- print jobs


def _job_out(
    job: print_jobs_q.PrintJobRow,
    signs: list[print_jobs_q.PrintJobStallRow],
    stopped: dict[int, registry.Stopped],
    shortened: dict[int, tuple[str, ...]],
) -> schemas.PrintJob:
    return schemas.PrintJob(
        id=job.id,
        market_id=job.market_id,
        zone=job.zone,
        size=job.size,
        created_at=job.created_at,
        stall_count=len(signs),
        confirmed_count=sum(1 for x in signs if x.confirmed_at is not None),
        stalls=[
            schemas.PrintJobStall(
                stall_id=x.stall_id,
                stall_code=x.stall_code,
                zone=x.zone,
                payment_account_id=x.payment_account_id,
                confirmed_at=x.confirmed_at,
                account_stopped=stopped.get(x.payment_account_id),
                sign_shortened=list(shortened.get(x.stall_id, ())),
            )
            for x in signs
        ],
        pdf_url=f"/api/print-jobs/{job.id}/signs.pdf",
    )


async def create_print_job(
    conn: asyncpg.Connection, *, user: User, market_id: int, body: schemas.PrintJobIn
) -> schemas.PrintJob:
    """A batch of a market's signs to print: the stalls and the exact payloads are frozen in the
    job, so its PDF and its confirmation are about the same signs."""
    await _readable_market(conn, user, market_id)
    await access.require_market_write(conn, user, market_id)
    _, rows = await market_signs(
        conn, market_id=market_id, zone=body.zone, only_unprinted=body.only_unprinted
    )
    if not rows:
        raise errors.NothingToPrint("No stall of this market has a sign to print.")
    async with conn.transaction():
        job_id = await print_jobs_q.insert_print_job(
            conn,
            market_id=market_id,
            zone=body.zone,
            size=body.size,
            user_id=user.id,
            signs=[(r.stall_id, r.account_id, text) for text, r in rows],
        )
    return await _job(conn, job_id)


async def _job(conn: asyncpg.Connection, job_id: int) -> schemas.PrintJob:
    job = await print_jobs_q.print_job(conn, job_id)
    if job is None:
        raise errors.PrintJobNotFound(f"No print job {job_id}.")
    signs = await print_jobs_q.print_job_stalls(conn, job_id)
    stopped = await registry.stopped_accounts(conn, [x.payment_account_id for x in signs])
    return _job_out(job, signs, stopped, await _job_shortened(conn, job_id))


async def _job_shortened(conn: asyncpg.Connection, job_id: int) -> dict[int, tuple[str, ...]]:
    """Stall id -> the texts its sign in the job shows only in part (qr.sign.shortened), laid out
    as the job's PDF lays them out. Only names of texts leave here, no text: nothing personal is
    shown, so the read is not in anyone's access log."""
    rows = await print_jobs_q.print_job_sign_rows(conn, job_id)
    infos = _infos(rows, await _supports(conn))
    return {r.stall_id: sign.shortened(info) for (_, r), info in zip(rows, infos, strict=True)}


async def _job_in_scope(
    conn: asyncpg.Connection, user: User, job_id: int
) -> print_jobs_q.PrintJobRow:
    job = await print_jobs_q.print_job(conn, job_id)
    if job is None:
        raise errors.PrintJobNotFound(f"No print job {job_id}.")
    try:
        await _readable_market(conn, user, job.market_id)
    except errors.MarketNotFound:
        raise errors.PrintJobNotFound(f"No print job {job_id}.") from None
    return job


async def get_print_job(conn: asyncpg.Connection, *, user: User, job_id: int) -> schemas.PrintJob:
    """A print job with the confirmation state of each sign."""
    await _job_in_scope(conn, user, job_id)
    return await _job(conn, job_id)


async def print_job_pdf(
    conn: asyncpg.Connection, *, user: User, job_id: int, route: str, progress_bar: Any = None
) -> bytes:
    """The signs of a print job (the payloads frozen in it), several per A4 page: records no
    print; the read of each holder's name and account is in their access log (stall_sign)."""
    job = await _job_in_scope(conn, user, job_id)
    name = await markets_q.market_name(conn, job.market_id) or ""
    rows = await print_jobs_q.print_job_sign_rows(conn, job_id)
    await access.log_access_many(
        conn, user=user, stallholder_ids=[r.holder_id for _, r in rows], route=route,
        reason="stall_sign",
    )  # fmt: skip
    size: Literal["A6", "A5"] = "A5" if job.size == "A5" else "A6"
    return sign.market_pdf(
        _infos(rows, await _supports(conn)),
        size=size,
        title=f"Biển VietQR - {name}",
        progress=progress_bar,
    )


async def confirm_print_job(
    conn: asyncpg.Connection,
    *,
    user: User,
    job_id: int,
    body: schemas.PrintConfirmIn,
    window_days: int,
    fmt: str = "market_pdf",
) -> schemas.PrintJob:
    """These signs of the job (default: all) came out of the printer: each print is recorded and
    each stall's sign counts as issued. Confirming twice changes nothing.

    One transaction per stall, in stall-id order (coverage.counters' lock order: a stall's rows,
    then its market's counters): two people confirming overlapping batches of one market at the
    same time cannot deadlock, and a confirmation cut short is finished by sending it again."""
    job = await _job_in_scope(conn, user, job_id)
    await access.require_market_write(conn, user, job.market_id)
    wanted = set(body.stall_ids) if body.stall_ids is not None else None
    pending = [
        x.stall_id
        for x in await print_jobs_q.print_job_stalls(conn, job_id)
        if x.confirmed_at is None and (wanted is None or x.stall_id in wanted)
    ]
    for stall_id in sorted(pending):
        async with conn.transaction():
            done = await print_jobs_q.confirm_job_stalls(
                conn, job_id=job_id, stall_ids=[stall_id], user_id=user.id
            )
            await signs_q.record_prints(conn, prints=done, fmt=fmt, user_id=user.id, job_id=job_id)
            await _issued(
                conn, user, [(s, a) for s, a, _ in done], window_days=window_days, job_id=job_id
            )
            await _reprinted(conn, done)
    return await _job(conn, job_id)
