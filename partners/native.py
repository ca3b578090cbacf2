"""Native partner notifications (MoMo IPN, VNPay IPN, ZaloPay callback, payOS webhook)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import asyncpg

from core import audit
from core.crypto import keys_of
from partners import errors, payments, registry
from partners.queries import events as events_q
from partners.queries import registry as registry_q
from partners.schemes import (
    FUTURE_SLACK,
    Notice,
    SignatureError,
    momo,
    payos,
    vnpay,
    zalopay,
)

log = logging.getLogger("choso.partners")


NativeScheme = Literal["momo", "vnpay", "zalopay", "payos"]


@dataclass(frozen=True)
class NativeOutcome:
    """What happened to a notification; routers turn it into the partner's expected reply."""

    status: Literal["applied", "duplicate", "conflict", "bad_signature"]
    result: str | None = None


def _verify_native(scheme: NativeScheme, raw: bytes | str, credentials: dict[str, str]) -> Notice:
    if scheme == "momo":
        assert isinstance(raw, bytes)
        return momo.verify(
            raw, access_key=credentials["access_key"], secret_key=credentials["secret_key"]
        )
    if scheme == "vnpay":
        assert isinstance(raw, str)
        return vnpay.verify(raw, hash_secret=credentials["hash_secret"])
    if scheme == "zalopay":
        assert isinstance(raw, bytes)
        return zalopay.verify(raw, key2=credentials["key2"])
    assert isinstance(raw, bytes)
    return payos.verify(raw, checksum_key=credentials["checksum_key"])


async def native_enabled(conn: asyncpg.Connection, scheme: NativeScheme) -> dict[str, str]:
    """The credentials of the scheme's partner; endpoint_disabled (404) when any is unset."""
    code = registry.NATIVE_PARTNER[scheme]
    credentials = await registry_q.partner_credentials(conn, code) or {}
    needed = registry.CREDENTIAL_FIELDS[scheme]
    if not all(credentials.get(name) for name in needed):
        raise errors.EndpointDisabled(f"{code} credentials are not set: this endpoint is disabled.")
    return credentials


async def receive_native(
    conn: asyncpg.Connection,
    *,
    scheme: NativeScheme,
    raw: bytes | str,
    credentials: dict[str, str],
    window_days: int,
) -> NativeOutcome:
    """Verify a native notification over its raw form, then record it once per transaction id."""
    code = registry.NATIVE_PARTNER[scheme]
    raw_bytes = raw if isinstance(raw, bytes) else raw.encode("latin-1", "replace")
    try:
        notice = _verify_native(scheme, raw, credentials)
    except SignatureError:
        return NativeOutcome("bad_signature")
    if payments.printable(notice.external_id, 100) is None:
        return NativeOutcome("bad_signature")  # signed, but not an id we can store
    if notice.occurred_at is not None and notice.occurred_at > datetime.now(UTC) + FUTURE_SLACK:
        return NativeOutcome("bad_signature")  # signed, but a payment cannot happen tomorrow
    partner = await registry_q.get_partner(conn, code)
    assert partner is not None
    body_sha = keys_of(conn).fingerprint(raw_bytes)  # keyed: the body holds an account number
    reference = payments.safe_reference(scheme, notice.reference)
    account_number = payments.printable(notice.account_number, 40)
    payload = {
        "amount": notice.amount,
        "succeeded": notice.succeeded,
        "account_number": account_number,
        "reference": reference,
        "occurred_at": notice.occurred_at.isoformat() if notice.occurred_at else None,
    }
    content = {k: payload[k] for k in ("amount", "succeeded", "account_number", "reference")}
    fingerprint = payments.fingerprint(keys_of(conn), content)
    # A failed payment moved no money and its id may be reused (VNPay sends 0): key it by content.
    external_id = notice.external_id if notice.succeeded else f"failed:{body_sha.hex()[2:34]}"
    async with conn.transaction():
        event_id = await events_q.claim_event(
            conn,
            partner_code=code,
            external_id=external_id,
            type="payment.received",
            payload=payload,
            fingerprint=fingerprint,
            body_sha256=body_sha,
        )
        if event_id is None:
            stored = await events_q.stored_event(conn, partner_code=code, external_id=external_id)
            assert stored is not None
            if not keys_of(conn).fingerprint_matches(
                stored.fingerprint, payments.canonical(content)
            ):
                return NativeOutcome("conflict")
            return NativeOutcome("duplicate", stored.result)
        match = payments.Match(None, None)
        if notice.succeeded:
            match = await payments.match_payment(
                conn, partner, account_number=account_number, reference=reference
            )
            result = await payments.record_payment(
                conn,
                partner,
                external_id=external_id,
                amount=notice.amount,
                occurred_at=notice.occurred_at or datetime.now(UTC),
                match=match,
                account_number=account_number,
                window_days=window_days,
                reference=reference,
            )
        else:
            result = "not_succeeded"
        await events_q.finish_event(
            conn, event_id=event_id, result=result, payment_account_id=match.account_id
        )
        await audit.record(
            conn,
            actor_id=None,
            action="partner_event",
            entity="partner_event",
            entity_id=event_id,
            after={
                "partner_code": code,
                "external_id": external_id,
                "type": "payment.received",
                "result": result,
            },
        )
    return NativeOutcome("applied", result)
