"""Payments partners report: matching them to a stored account or stall, recording them once."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core.crypto import Keys
from core.params import MAX_ID
from coverage import counters
from partners import schemas
from partners.queries import accounts as accounts_q
from partners.queries import events as events_q

log = logging.getLogger("choso.partners")


# Our reference convention: "CS<stall id>" anywhere in an order id, transfer description or
# reference, e.g. "CS1234", "251127_CS1234_01", "CS1234 THANH TOAN".
_STALL_REF = re.compile(r"(?<![A-Za-z0-9])CS([0-9]{1,19})(?![0-9])", re.IGNORECASE)


def stall_reference(stall_id: int) -> str:
    """The reference text that names a stall in partner orders and transfer descriptions."""
    return f"CS{stall_id}"


def stall_from_reference(reference: str | None) -> int | None:
    """The stall id a reference names, if it follows the CS<id> convention."""
    if not reference:
        return None
    match = _STALL_REF.search(reference)
    if match is None:
        return None
    stall_id = int(match.group(1))
    return stall_id if 1 <= stall_id <= MAX_ID else None


def safe_reference(scheme: str, reference: object) -> str | None:
    """A reference without payer data: our stall token, or a merchant-made order id."""
    if not isinstance(reference, str) or not reference.strip() or not reference.isprintable():
        return None
    stall_id = stall_from_reference(reference)
    if stall_id is not None:
        return stall_reference(stall_id)
    # payOS descriptions are typed by the payer and may hold names; keep nothing of them.
    return None if scheme == "payos" else reference.strip()[:100]


def pick(candidates: list[accounts_q.Candidate]) -> int | None:
    """The one account among a stall's ranked candidates that stands out, if any."""
    for rank in (0, 1, 2):
        at_rank = [c for c in candidates if c.rank == rank]
        if at_rank:
            return at_rank[0].account_id if len(at_rank) == 1 else None
    return candidates[0].account_id if len(candidates) == 1 else None


async def best_account(conn: asyncpg.Connection, *, stall_id: int, partner_code: str) -> int | None:
    """The stall's account that most surely belongs to the partner, if one stands out, at any BIN:
    a gateway's payment (VNPay, payOS) lands in a bank account outside the gateway's reach."""
    return pick(
        await accounts_q.stall_candidates(
            conn, stall_ids=[stall_id], partner_code=partner_code, within_reach=False
        )
    )


async def accounts_named(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    *,
    account_number: str,
    bin: str | None,
    stall_id: int | None,
    within_reach: bool,
) -> list[accounts_q.Account]:
    """Active accounts with this number (and bin, stall), the partner's own first when several;
    only those within its reach when asked."""
    found = await accounts_q.accounts_by_number(
        conn,
        account_number=account_number,
        bin=bin,
        stall_id=stall_id,
        within_reach_of=partner.code if within_reach else None,
    )
    if len(found) > 1:
        narrowed = [a for a in found if a.partner_code == partner.code] or [
            a for a in found if a.bin in partner.bins
        ]
        found = narrowed or found
    return found


@dataclass(frozen=True)
class Match:
    stall_id: int | None
    account_id: int | None


async def match_payment(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    *,
    account_number: str | None,
    reference: str | None,
) -> Match:
    """The stall (and account) a native notification's payment belongs to: account number, then
    reference. Payments are matched for coverage at any BIN; nothing of the match reaches the
    partner (its reply is the same either way) and no onboarding is touched."""
    if account_number:
        found = await accounts_named(
            conn,
            partner,
            account_number=account_number,
            bin=None,
            stall_id=None,
            within_reach=False,
        )
        if len(found) == 1:
            return Match(found[0].stall_id, found[0].id)
    target = stall_from_reference(reference)
    if target is not None and await accounts_q.stall_market_id(conn, target) is not None:
        return Match(target, await best_account(conn, stall_id=target, partner_code=partner.code))
    return Match(None, None)


async def _notify_coverage(
    conn: asyncpg.Connection, *, stall_id: int, occurred_at: datetime, window_days: int
) -> None:
    """Tell the coverage counters that a stall was paid."""
    await counters.record_payment(
        conn, stall_id=stall_id, occurred_at=occurred_at, window_days=window_days
    )


async def record_payment(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    *,
    external_id: str,
    amount: int,
    occurred_at: datetime,
    match: Match,
    account_number: str | None,
    reference: str | None,
    window_days: int,
) -> str:
    """Store a payment once per (partner, external id); a matched one moves the stall's levels."""
    payment_id = await events_q.insert_payment(
        conn,
        partner_code=partner.code,
        external_id=external_id,
        payment_account_id=match.account_id,
        stall_id=match.stall_id,
        amount=amount,
        occurred_at=occurred_at,
        account_number=account_number,
        reference=reference,
    )
    if payment_id is None:
        return "duplicate_payment"
    if match.stall_id is not None:
        await _notify_coverage(
            conn, stall_id=match.stall_id, occurred_at=occurred_at, window_days=window_days
        )
        return "matched"
    return "unmatched"


def fingerprint(keys: Keys, value: dict[str, Any]) -> bytes:
    """What tells a re-delivered message from a changed one: keyed (core/crypto.py), because the
    content holds an account number."""
    return keys.fingerprint(canonical(value))


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, default=str).encode()


def printable(value: object, limit: int) -> str | None:
    """The text if printable (no NUL, control characters or lone surrogates) and short enough."""
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None
