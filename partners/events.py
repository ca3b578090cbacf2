"""Our own signed partner events: verify, parse, resolve the account or stall, apply once."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from core import audit
from core.crypto import keys_of
from core.errors import PayloadTooLarge
from core.params import MAX_ID
from core.text import normalize
from partners import errors, onboarding, payments, registry, schemas
from partners.queries import accounts as accounts_q
from partners.queries import events as events_q
from partners.queries import onboardings as onboardings_q
from partners.queries import registry as registry_q
from partners.schemes import (
    MAX_BODY_BYTES,
    SignatureError,
    own,
)
from partners.schemes.own import EventFormatError
from qr.types import compact_account_number

log = logging.getLogger("choso.partners")


_OWN_DATA_FIELDS = ("bin", "account_number", "stall_id", "amount", "reference", "staff_name")


@dataclass(frozen=True)
class _Target:
    bin: str | None
    account_number: str | None
    stall_id: int | None
    staff_name: str | None


def _event_target(event: own.OwnEvent) -> _Target:
    if payments.printable(event.id, 100) is None:
        raise errors.InvalidEvent("id must be 1-100 printable characters.", field="id")
    data = event.data
    bin_, number, stall_id, staff = (
        data.get(k) for k in ("bin", "account_number", "stall_id", "staff_name")
    )
    reference = data.get("reference")
    if reference is not None and payments.printable(reference, 100) is None:
        raise errors.InvalidEvent(
            "data.reference must be at most 100 printable characters.",
            field="data.reference",
        )
    if bin_ is not None and not (isinstance(bin_, str) and re.fullmatch(r"[0-9]{6}", bin_)):
        raise errors.InvalidEvent("data.bin must be a 6-digit string.", field="data.bin")
    if isinstance(number, str):
        number = compact_account_number(number)  # "0777 888 999" as the register holds it
    if number is not None and not (
        isinstance(number, str) and re.fullmatch(r"[!-~]{1,19}", number)
    ):
        raise errors.InvalidEvent(
            "data.account_number must be 1-19 printable characters (spaces, dots and dashes "
            "between digits are dropped).",
            field="data.account_number",
        )
    if stall_id is not None and (
        isinstance(stall_id, bool) or not isinstance(stall_id, int) or not 1 <= stall_id <= MAX_ID
    ):
        raise errors.InvalidEvent(
            "data.stall_id must be a positive integer.", field="data.stall_id"
        )
    if staff is not None and payments.printable(staff, 100) is None:
        raise errors.InvalidEvent(
            "data.staff_name must be a name of at most 100 characters.", field="data.staff_name"
        )
    if number is None and stall_id is None:
        raise errors.InvalidEvent(
            "data must name the payment account by bin and account_number, or by stall_id.",
            field="data",
        )
    return _Target(bin_, number, stall_id, normalize(staff) if staff else None)


def _unknown() -> errors.UnknownAccount:
    """The one answer for an account or stall the partner cannot reach, whether it does not exist
    or is not the partner's: the answer must not tell which."""
    return errors.UnknownAccount(
        "No active payment account of yours matches data (at one of your BINs or tagged with "
        "your partner code).",
        field="data",
    )


async def _resolve(
    conn: asyncpg.Connection, partner: schemas.Partner, target: _Target
) -> payments.Match:
    """The stall and account that data names, within the partner's reach (reach_q.in_reach).

    The account is None only when a stall alone is named and it shows several accounts within
    the reach, none standing out.
    """
    if target.account_number is not None:
        found = await payments.accounts_named(
            conn,
            partner,
            account_number=target.account_number,
            bin=target.bin,
            stall_id=target.stall_id,
            within_reach=True,
        )
        if not found:
            raise _unknown()
        if len(found) > 1:
            raise errors.AmbiguousAccount(
                "Several stalls show this account number; add bin or stall_id.", field="data"
            )
        return payments.Match(found[0].stall_id, found[0].id)
    assert target.stall_id is not None
    candidates = await accounts_q.stall_candidates(
        conn, stall_ids=[target.stall_id], partner_code=partner.code, within_reach=True
    )
    if not candidates:
        raise _unknown()
    return payments.Match(target.stall_id, payments.pick(candidates))


async def receive_own_event(
    conn: asyncpg.Connection,
    *,
    code: str,
    raw_body: bytes,
    signature: str | None,
    now: float,
    window_days: int,
) -> schemas.EventAck:
    """Verify and apply one signed partner event, exactly once per event id."""
    code = code.upper()
    partner = await registry_q.get_partner(conn, code)
    secret = (
        (await registry_q.partner_credentials(conn, code) or {}).get(registry.OWN_FIELD)
        if partner is not None
        else None
    )
    if partner is None or not secret:
        # One answer for a code we do not know and a partner without a secret: an unsigned caller
        # learns neither which codes exist nor which partners can send events.
        raise errors.EndpointDisabled(f"There is no events endpoint for {code}.")
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"An event body is at most {MAX_BODY_BYTES} bytes.")
    try:
        event = own.verify(raw_body, signature, signing_secret=secret, now=now)
    except SignatureError as exc:
        if str(exc) == "stale":
            raise errors.StaleSignature(
                "The X-Signature timestamp is more than 300 seconds from our clock."
            ) from None
        raise errors.InvalidSignature("X-Signature does not match the body.") from None
    except EventFormatError as exc:
        raise errors.InvalidEvent(str(exc)) from None
    target = _event_target(event)
    data = {k: event.data[k] for k in _OWN_DATA_FIELDS if k in event.data}
    payload = {"type": event.type, "occurred_at": event.occurred_at.isoformat(), "data": data}
    fingerprint = payments.fingerprint(keys_of(conn), payload)
    async with conn.transaction():
        event_id = await events_q.claim_event(
            conn,
            partner_code=code,
            external_id=event.id,
            type=event.type,
            payload=payload,
            fingerprint=fingerprint,
            body_sha256=keys_of(conn).fingerprint(raw_body),
        )
        if event_id is None:
            stored = await events_q.stored_event(conn, partner_code=code, external_id=event.id)
            assert stored is not None
            if not keys_of(conn).fingerprint_matches(
                stored.fingerprint, payments.canonical(payload)
            ):
                raise errors.EventConflict(
                    f"Event {event.id} was already received with different content; use a new id."
                )
            return schemas.EventAck(id=event.id, status="duplicate", result=stored.result)
        match = await _resolve(conn, partner, target)
        if event.type == "payment.received":
            result = await payments.record_payment(
                conn,
                partner,
                external_id=event.id,
                amount=event.data["amount"],
                occurred_at=event.occurred_at,
                match=match,
                account_number=target.account_number,
                window_days=window_days,
                reference=payments.safe_reference("own", event.data.get("reference")),
            )
            account_id = match.account_id
        else:
            if match.account_id is None:
                raise errors.AmbiguousAccount(
                    f"Stall {target.stall_id} shows several payment accounts of yours; "
                    "name it by bin and account_number.",
                    field="data",
                )
            account_id = match.account_id
            result = await _apply_account_event(conn, partner, event, account_id, target)
        await events_q.finish_event(
            conn, event_id=event_id, result=result, payment_account_id=account_id
        )
        await audit.record(
            conn,
            actor_id=None,
            action="partner_event",
            entity="partner_event",
            entity_id=event_id,
            after={
                "partner_code": code,
                "external_id": event.id,
                "type": event.type,
                "result": result,
            },
        )
    return schemas.EventAck(id=event.id, status="applied", result=result)


async def _apply_account_event(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    event: own.OwnEvent,
    account_id: int,
    target: _Target,
) -> str:
    kwargs: dict[str, Any] = {
        "account_id": account_id,
        "partner_code": partner.code,
        "channel": "partner_api",
        "source": "partner_api",
        "actor_id": None,
        "staff_name": target.staff_name,
        "ref": event.id,
        "effective_on": event.occurred_at.date(),
    }
    if event.type == "account.onboarded":
        _, outcome = await onboarding.record_onboarding(
            conn,
            status=None
            if await onboarding.has_onboarding(conn, account_id, partner.code)
            else "pending",
            **kwargs,
        )
        return outcome
    if event.type == "account.activated":
        _, outcome = await onboarding.record_onboarding(conn, status="active", **kwargs)
        return outcome
    current = await onboardings_q.onboarding_for(
        conn, account_id=account_id, partner_code=partner.code
    )
    if current is None:
        return "no_onboarding"
    # Deactivating a live account suspends it (it may come back); a pending one never went live.
    target_status = {"active": "suspended", "pending": "removed"}.get(current.status)
    _, outcome = await onboarding.record_onboarding(conn, status=target_status, **kwargs)
    return outcome


async def unprocessed_count(conn: asyncpg.Connection, *, limit_s: float) -> int | None:
    """Partner messages received but not processed yet (the metrics' queue gauge)."""
    return await events_q.unprocessed_event_count(conn, limit_s=limit_s)
