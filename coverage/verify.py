"""Verifying a stall's sign: the scanned code must name exactly a stored active account."""

from __future__ import annotations

import asyncpg

from core import audit
from core.errors import StallNotFound
from core.types import User
from coverage import schemas as s
from coverage.counters import on_stall_changed
from coverage.errors import NoQrFound, QrMismatch
from coverage.queries import stalls as stalls_q
from coverage.scope import writable_stall
from coverage.stalls import stall_coverage
from qr import payload as qr_payload
from qr import scan

_SERVICE_CODES = {"account": "QRIBFTTA", "card": "QRIBFTTC"}


def _mask(account: str | None) -> str | None:
    return None if account is None else "…" + account[-4:]


async def verify(
    conn: asyncpg.Connection, *, user: User, stall_id: int, payloads: list[str], window_days: int
) -> s.VerifyResult:
    """Verified when a read code is a valid VietQR naming exactly a stored active account of the
    stall and no other valid VietQR was read with it (another payment code beside the sign would
    take the money); otherwise the stall is flagged for a return visit (kept) and qr_mismatch is
    raised (`beside_own`: the stall's code was read too).

    A sign read as a valid VietQR of another account (reason qr_mismatch) also ends an earlier
    verification: the stall's latest check says its sign sends money elsewhere, so it no longer
    counts as "code verified" until a check passes again. A code that is not a VietQR at all
    (qr_invalid: another QR photographed, a damaged print) says nothing of the sign, and leaves
    an earlier verification as it was."""
    decoded = [qr_payload.decode(p) for p in payloads]
    failure: QrMismatch | None = None
    async with conn.transaction():
        if not await stalls_q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        await stalls_q.stall_state(conn, stall_id, for_update=True)
        accounts = [a for a in await stalls_q.stall_accounts(conn, stall_id) if a.active]
        # Each valid code read, with the stored account it names (None: another account). A
        # photo holding the stall's code and another payment code (a sticker put on or beside
        # the sign: how QR fraud works) does not pass: the other code would take the money.
        named = [
            (
                d,
                next(
                    (
                        a
                        for a in accounts
                        if a.bin == d.bin
                        and a.account_number == d.account
                        and (
                            d.service_code is None
                            or d.service_code == _SERVICE_CODES.get(a.service)
                        )
                    ),
                    None,
                ),
            )
            for d in decoded
            if d.valid
        ]
        foreign = [d for d, a in named if a is None]
        match = None if foreign else next((a for _, a in named if a is not None), None)
        if match is not None:
            await stalls_q.set_verified(
                conn, stall_id=stall_id, account_id=match.id, method="scan", user_id=user.id
            )
            await audit.record(
                conn,
                actor_id=user.id,
                action="verify",
                entity="stall",
                entity_id=stall_id,
                after={"method": "scan", "payment_account_id": match.id},
            )
            await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)
        else:
            valid = [d for d in decoded if d.valid]
            if not accounts:
                reason, detail = "no_account", "The stall has no active payment account stored."
            elif not valid:
                reason = "qr_invalid"
                problems = "; ".join(p.message for d in decoded for p in d.problems)[:300]
                detail = f"The scanned code is not a valid VietQR payload ({problems})."
            else:
                reason = "qr_mismatch"
                other = foreign[0]
                detail = (
                    f"The scanned code names BIN {other.bin} account {_mask(other.account)}, "
                    "which is not an active account stored for this stall."
                )
                if len(foreign) < len(valid):
                    detail = (
                        "Besides the stall's own code, the photo holds another payment code. "
                        + detail
                    )
            await stalls_q.flag_revisit(conn, stall_id=stall_id, reason=reason)
            unverified = reason == "qr_mismatch" and await stalls_q.clear_verification(
                conn, stall_id=stall_id
            )
            if unverified:
                await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)
            await audit.record(
                conn,
                actor_id=user.id,
                action="verify_failed",
                entity="stall",
                entity_id=stall_id,
                after={
                    "reason": reason,
                    "verification_ended": unverified,
                    "codes": [
                        {"bin": d.bin, "account": _mask(d.account), "valid": d.valid}
                        for d in decoded
                    ],
                },
            )
            failure = QrMismatch(
                detail + " The stall is flagged for a return visit.",
                field="payload",
                reason=reason,
                needs_revisit=True,
                scanned=[
                    {
                        "valid": d.valid,
                        "bin": d.bin,
                        "account": d.account,
                        "matches": d.valid and d not in foreign,
                    }
                    for d in decoded
                ],
                # The stall's own code was read too: another code is beside it.
                beside_own=bool(foreign) and len(foreign) < len(valid),
            )
    if failure is not None:
        raise failure  # after the commit: the return-visit flag stays
    assert match is not None
    out = await stall_coverage(conn, stall_id)
    return s.VerifyResult(**out.model_dump(), matched_account_id=match.id, codes_read=len(payloads))


async def verify_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, payloads: list[str], window_days: int
) -> s.VerifyResult:
    """verify after the scope check."""
    await writable_stall(conn, user, stall_id)
    return await verify(
        conn, user=user, stall_id=stall_id, payloads=payloads, window_days=window_days
    )


async def verify_image_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, image: bytes, window_days: int
) -> s.VerifyResult:
    """Read every QR code in a photo of the sign and verify them like a scanned payload."""
    await writable_stall(conn, user, stall_id)
    codes = await scan.read_qr_codes(image)  # qr.scan.BadImage (422 bad_image) if unreadable
    if not codes:
        raise NoQrFound("No QR code was found in the image; take the photo closer and in focus.")
    return await verify(conn, user=user, stall_id=stall_id, payloads=codes, window_days=window_days)
