"""Use cases of the partner registry, onboardings, signed events, report imports and lookups."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import asyncpg
import phonenumbers

from core import access, crypto
from core import queries as core_q
from core.errors import Forbidden, Invalid, PayloadTooLarge
from core.params import MAX_ID
from core.queries import User
from core.text import fold, normalize
from merchants import coverage
from merchants import errors as merchant_errors
from partners import csv_import, errors, lookup, queries, registry, schemas
from partners.schemes import (
    MAX_BODY_BYTES,
    Notice,
    SignatureError,
    momo,
    own,
    payos,
    vnpay,
    zalopay,
)
from partners.schemes.own import EventFormatError

log = logging.getLogger("choso.partners")

# ---------------------------------------------------------------- registry


async def list_partners(conn: asyncpg.Connection) -> list[schemas.Partner]:
    """Every partner (credentials are reported by field name only)."""
    return await queries.list_partners(conn)


async def get_partner(conn: asyncpg.Connection, code: str) -> schemas.Partner:
    """One partner, or partner_not_found."""
    partner = await queries.get_partner(conn, code.upper())
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code.upper()}.")
    return partner


async def set_credentials(
    conn: asyncpg.Connection, *, user: User, code: str, values: dict[str, str]
) -> schemas.Partner:
    """Replace a partner's credentials; values stay server-side, never returned or logged."""
    code = code.upper()
    async with conn.transaction():
        partner = await queries.get_partner(conn, code, for_update=True)
        if partner is None:
            raise errors.PartnerNotFound(f"No partner with code {code}.")
        allowed = registry.allowed_credentials(partner.scheme)
        for name in sorted(values):
            if name not in allowed:
                raise errors.UnknownCredential(
                    f"{code} uses the {partner.scheme} scheme; "
                    f"its credential fields are: {', '.join(allowed)}.",
                    field=name,
                )
        native = (
            registry.CREDENTIAL_FIELDS.get(partner.scheme, ()) if partner.scheme != "own" else ()
        )
        given = [name for name in native if name in values]
        if given and len(given) != len(native):
            missing = [name for name in native if name not in values]
            raise errors.MissingCredential(
                f"The {partner.scheme} scheme needs {' and '.join(native)} together.",
                field=missing[0],
            )
        scheme = partner.scheme
        if scheme in ("none", "own"):
            scheme = "own" if registry.OWN_FIELD in values else "none"
        await queries.set_credentials(conn, code=code, credentials=dict(values), scheme=scheme)
        await core_q.insert_audit(
            conn,
            actor_id=user.id,
            action="set_credentials",
            entity="partner",
            entity_id=code,
            before={"credentials_set": partner.credentials_set, "scheme": partner.scheme},
            after={"credentials_set": sorted(values), "scheme": scheme},
        )
        after = await queries.get_partner(conn, code)
    assert after is not None
    return after


async def require_partners(
    conn: asyncpg.Connection, codes: list[str | None], *, field: str
) -> None:
    """422 unknown_partner unless every given code is in the registry."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return
    missing = await queries.missing_partner_codes(conn, wanted)
    if missing:
        raise unknown_partner(missing, field=field)


def unknown_partner(missing: list[str], *, field: str) -> errors.UnknownPartner:
    """The 422 for codes that are not in the registry (names the first one)."""
    return errors.UnknownPartner(
        f"Unknown partner code {sorted(missing)[0]}; GET /api/partners lists the codes.",
        field=field,
    )


# ---------------------------------------------------------------- onboardings

Outcome = Literal["created", "updated", "unchanged"]


async def record_onboarding(
    conn: asyncpg.Connection,
    *,
    account_id: int,
    partner_code: str,
    status: str | None,
    channel: str,
    source: str,
    actor_id: int | None,
    staff_name: str | None = None,
    effective_on: date | None = None,
    ref: str | None = None,
) -> tuple[queries.OnboardingRow, Outcome]:
    """Create the onboarding of an account by a partner, or move it to `status`.

    Runs inside the caller's transaction. A new onboarding starts at `status` (default `active`);
    an existing one follows TRANSITIONS, otherwise 409 invalid_transition before any write.
    """
    existing = await queries.onboarding_for(
        conn, account_id=account_id, partner_code=partner_code, for_update=True
    )
    if existing is None:
        first = status or "active"
        new_id = await queries.insert_onboarding(
            conn,
            account_id=account_id,
            partner_code=partner_code,
            channel=channel,
            status=first,
            onboarded_by=actor_id,
            staff_name=staff_name,
        )
        if new_id is not None:
            await queries.insert_status_change(
                conn,
                onboarding_id=new_id,
                from_status=None,
                to_status=first,
                actor_id=actor_id,
                source=source,
                effective_on=effective_on,
                ref=ref,
            )
            await core_q.insert_audit(
                conn,
                actor_id=actor_id,
                action="create",
                entity="onboarding",
                entity_id=new_id,
                after={
                    "payment_account_id": account_id,
                    "partner_code": partner_code,
                    "channel": channel,
                    "status": first,
                    "source": source,
                    "ref": ref,
                },
            )
            return queries.OnboardingRow(new_id, account_id, partner_code, first), "created"
        # Created concurrently by someone else: treat it as existing.
        existing = await queries.onboarding_for(
            conn, account_id=account_id, partner_code=partner_code, for_update=True
        )
        assert existing is not None
    if status is None or status == existing.status:
        return existing, "unchanged"
    if status not in schemas.TRANSITIONS[existing.status]:
        raise errors.InvalidTransition(
            f"The onboarding is {existing.status}; it cannot become {status}.",
            field="status",
            current_status=existing.status,
        )
    await queries.set_onboarding_status(conn, onboarding_id=existing.id, status=status)
    await queries.insert_status_change(
        conn,
        onboarding_id=existing.id,
        from_status=existing.status,
        to_status=status,
        actor_id=actor_id,
        source=source,
        effective_on=effective_on,
        ref=ref,
    )
    await core_q.insert_audit(
        conn,
        actor_id=actor_id,
        action="set_status",
        entity="onboarding",
        entity_id=existing.id,
        before={"status": existing.status},
        after={"status": status, "source": source, "ref": ref},
    )
    return queries.OnboardingRow(existing.id, account_id, partner_code, status), "updated"


@dataclass(frozen=True)
class RegistrationOnboarding:
    """How a partner code given at registration is recorded: the volunteer saw the partner's
    account working at the stall (a field visit), so the onboarding starts `active`."""

    status: str = "active"
    channel: str = "field_visit"
    source: str = "registration"


REGISTRATION_ONBOARDING = RegistrationOnboarding()


async def record_registration_onboarding(
    conn: asyncpg.Connection, *, user: User, account_id: int, partner_code: str
) -> None:
    """The onboarding implied by a partner code given at registration (REGISTRATION_ONBOARDING).

    A new stall's accounts get the same rows (onboarding, status history, audit) inside the
    registration's single insert statement (merchants.queries.register_stall).
    """
    await record_onboarding(
        conn,
        account_id=account_id,
        partner_code=partner_code.upper(),
        status=REGISTRATION_ONBOARDING.status,
        channel=REGISTRATION_ONBOARDING.channel,
        source=REGISTRATION_ONBOARDING.source,
        actor_id=user.id,
    )


async def _partner_of(conn: asyncpg.Connection, user: User) -> str | None:
    return await queries.user_partner_code(conn, user.id) if user.role == "partner" else None


async def save_onboarding(
    conn: asyncpg.Connection, *, user: User, stall_id: int, body: schemas.OnboardingIn
) -> tuple[schemas.Onboarding, bool]:
    """Record that a partner onboarded one of the stall's accounts, or change its status.

    Returns (onboarding, created). Volunteers and managers work in their markets; partner users only
    for their own partner and only on accounts at its BINs or tagged with its code.
    """
    if user.role != "partner":
        access.require_write_role(user)
    elif await _partner_of(conn, user) != body.partner_code:
        raise Forbidden("A partner user records onboardings for its own partner only.")
    market_id = await queries.stall_market_id(conn, stall_id)
    if market_id is None:
        raise merchant_errors.StallNotFound(f"No stall with id {stall_id}.")
    if user.role != "partner":
        await access.require_market_write(conn, user, market_id)
    account = await queries.get_account(conn, body.payment_account_id)
    if account is None or account.stall_id != stall_id:
        raise errors.UnknownAccount(
            f"Stall {stall_id} has no payment account {body.payment_account_id}.",
            field="payment_account_id",
        )
    partner = await queries.get_partner(conn, body.partner_code)
    if partner is None:
        raise errors.UnknownPartner(
            f"Unknown partner code {body.partner_code}.", field="partner_code"
        )
    if (
        user.role == "partner"
        and account.partner_code != partner.code
        and account.bin not in partner.bins
    ):
        existing = await queries.onboarding_for(
            conn, account_id=account.id, partner_code=partner.code
        )
        if existing is None:
            raise Forbidden(
                "This account is not at one of your BINs nor tagged with your partner code."
            )
    async with conn.transaction():
        row, outcome = await record_onboarding(
            conn,
            account_id=account.id,
            partner_code=partner.code,
            status=body.status,
            channel=body.channel,
            source="partner_api" if user.role == "partner" else "manual",
            actor_id=user.id,
            staff_name=body.staff_name,
        )
        onboarding = await queries.onboarding_by_id(conn, row.id)
    assert onboarding is not None
    return onboarding, outcome == "created"


async def stall_onboardings(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> list[schemas.Onboarding]:
    """Onboardings of a stall with full status history, as far as the caller may see them."""
    if user.role != "partner":
        access.require_personal_data_role(user)
    not_found = merchant_errors.StallNotFound(f"No stall with id {stall_id}.")
    market_id = await queries.stall_market_id(conn, stall_id)
    if market_id is None:
        raise not_found
    if user.role == "partner":
        own_partner = await _partner_of(conn, user)
        found = await queries.stall_onboardings(
            conn, stall_id=stall_id, partner_code=own_partner or ""
        )
        if not found:
            raise not_found
        return found
    if not await access.can_see_market(conn, user, market_id):
        raise not_found
    return await queries.stall_onboardings(conn, stall_id=stall_id)


# ---------------------------------------------------------------- matching a payment to a stall

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


async def _best_account(
    conn: asyncpg.Connection, *, stall_id: int, partner_code: str
) -> int | None:
    """The stall's account that most surely belongs to the partner, if one stands out."""
    candidates = await queries.stall_candidates(
        conn, stall_ids=[stall_id], partner_code=partner_code
    )
    for rank in (0, 1, 2):
        at_rank = [c for c in candidates if c.rank == rank]
        if at_rank:
            return at_rank[0].account_id if len(at_rank) == 1 else None
    return candidates[0].account_id if len(candidates) == 1 else None


async def _accounts_named(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    *,
    account_number: str,
    bin: str | None,
    stall_id: int | None,
) -> list[queries.Account]:
    found = await queries.accounts_by_number(
        conn, account_number=account_number, bin=bin, stall_id=stall_id
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
    bin: str | None = None,
    stall_id: int | None = None,
) -> Match:
    """The stall (and account) a verified payment belongs to: account number, then reference."""
    if account_number:
        found = await _accounts_named(
            conn, partner, account_number=account_number, bin=bin, stall_id=stall_id
        )
        if len(found) == 1:
            return Match(found[0].stall_id, found[0].id)
    target = stall_id or stall_from_reference(reference)
    if target is not None and await queries.stall_market_id(conn, target) is not None:
        return Match(target, await _best_account(conn, stall_id=target, partner_code=partner.code))
    return Match(None, None)


async def _notify_coverage(
    conn: asyncpg.Connection, *, stall_id: int, occurred_at: datetime
) -> None:
    """Tell the coverage counters that a stall was paid."""
    await coverage.record_payment(conn, stall_id=stall_id, occurred_at=occurred_at)


async def _record_payment(
    conn: asyncpg.Connection,
    partner: schemas.Partner,
    *,
    external_id: str,
    amount: int,
    occurred_at: datetime,
    match: Match,
    account_number: str | None,
    reference: str | None,
) -> str:
    payment_id = await queries.insert_payment(
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
        await _notify_coverage(conn, stall_id=match.stall_id, occurred_at=occurred_at)
        return "matched"
    return "unmatched"


def _fingerprint(value: dict[str, Any]) -> bytes:
    """What tells a re-delivered message from a changed one: keyed (core/crypto.py), because the
    content holds an account number."""
    return crypto.fingerprint(_canonical(value))


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, default=str).encode()


# ---------------------------------------------------------------- our own signed partner API

_OWN_DATA_FIELDS = ("bin", "account_number", "stall_id", "amount", "reference", "staff_name")


@dataclass(frozen=True)
class _Target:
    bin: str | None
    account_number: str | None
    stall_id: int | None
    staff_name: str | None


def printable(value: object, limit: int) -> str | None:
    """The text if printable (no NUL, control characters or lone surrogates) and short enough."""
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None


def _event_target(event: own.OwnEvent) -> _Target:
    if printable(event.id, 100) is None:
        raise errors.InvalidEvent("id must be 1-100 printable characters.", field="id")
    data = event.data
    bin_, number, stall_id, staff = (
        data.get(k) for k in ("bin", "account_number", "stall_id", "staff_name")
    )
    reference = data.get("reference")
    if reference is not None and printable(reference, 100) is None:
        raise errors.InvalidEvent(
            "data.reference must be at most 100 printable characters.", field="data.reference"
        )
    if bin_ is not None and not (isinstance(bin_, str) and re.fullmatch(r"[0-9]{6}", bin_)):
        raise errors.InvalidEvent("data.bin must be a 6-digit string.", field="data.bin")
    if number is not None and not (
        isinstance(number, str) and re.fullmatch(r"[!-~]{1,19}", number)
    ):
        raise errors.InvalidEvent(
            "data.account_number must be 1-19 printable characters.", field="data.account_number"
        )
    if stall_id is not None and (
        isinstance(stall_id, bool) or not isinstance(stall_id, int) or not 1 <= stall_id <= MAX_ID
    ):
        raise errors.InvalidEvent(
            "data.stall_id must be a positive integer.", field="data.stall_id"
        )
    if staff is not None and printable(staff, 100) is None:
        raise errors.InvalidEvent(
            "data.staff_name must be a name of at most 100 characters.", field="data.staff_name"
        )
    if number is None and stall_id is None:
        raise errors.InvalidEvent(
            "data must name the payment account by bin and account_number, or by stall_id.",
            field="data",
        )
    return _Target(bin_, number, stall_id, normalize(staff) if staff else None)


async def _named_account(
    conn: asyncpg.Connection, partner: schemas.Partner, target: _Target
) -> int:
    """The one active account that data names by number (and bin or stall); 422 otherwise."""
    assert target.account_number is not None
    found = await _accounts_named(
        conn,
        partner,
        account_number=target.account_number,
        bin=target.bin,
        stall_id=target.stall_id,
    )
    if not found:
        raise errors.UnknownAccount("No active payment account matches data.", field="data")
    if len(found) > 1:
        raise errors.AmbiguousAccount(
            "Several stalls show this account number; add bin or stall_id.", field="data"
        )
    return found[0].id


async def _require_stall(conn: asyncpg.Connection, stall_id: int) -> None:
    if await queries.stall_market_id(conn, stall_id) is None:
        raise errors.UnknownAccount(f"No stall with id {stall_id}.", field="data.stall_id")


async def _resolve_account(
    conn: asyncpg.Connection, partner: schemas.Partner, target: _Target
) -> int:
    if target.account_number is not None:
        return await _named_account(conn, partner, target)
    assert target.stall_id is not None
    await _require_stall(conn, target.stall_id)
    account_id = await _best_account(conn, stall_id=target.stall_id, partner_code=partner.code)
    if account_id is None:
        raise errors.UnknownAccount(
            f"Stall {target.stall_id} has no payment account that is clearly yours; "
            "name it by bin and account_number.",
            field="data",
        )
    return account_id


async def receive_own_event(
    conn: asyncpg.Connection, *, code: str, raw_body: bytes, signature: str | None, now: float
) -> schemas.EventAck:
    """Verify and apply one signed partner event, exactly once per event id."""
    code = code.upper()
    partner = await queries.get_partner(conn, code)
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    secret = (await queries.partner_credentials(conn, code) or {}).get(registry.OWN_FIELD)
    if not secret:
        raise errors.EndpointDisabled(
            f"{code} has no signing secret: the events endpoint is disabled."
        )
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
    fingerprint = _fingerprint(payload)
    async with conn.transaction():
        event_id = await queries.claim_event(
            conn,
            partner_code=code,
            external_id=event.id,
            type=event.type,
            payload=payload,
            fingerprint=fingerprint,
            body_sha256=crypto.fingerprint(raw_body),
        )
        if event_id is None:
            stored = await queries.stored_event(conn, partner_code=code, external_id=event.id)
            assert stored is not None
            if not crypto.fingerprint_matches(stored.fingerprint, _canonical(payload)):
                raise errors.EventConflict(
                    f"Event {event.id} was already received with different content; use a new id."
                )
            return schemas.EventAck(id=event.id, status="duplicate", result=stored.result)
        if event.type == "payment.received":
            if target.account_number is not None or target.stall_id is not None:
                await _resolve_account_or_stall(conn, partner, target)
            match = await match_payment(
                conn,
                partner,
                account_number=target.account_number,
                reference=None,
                bin=target.bin,
                stall_id=target.stall_id,
            )
            result = await _record_payment(
                conn,
                partner,
                external_id=event.id,
                amount=event.data["amount"],
                occurred_at=event.occurred_at,
                match=match,
                account_number=target.account_number,
                reference=_safe_reference("own", event.data.get("reference")),
            )
            account_id = match.account_id
        else:
            account_id = await _resolve_account(conn, partner, target)
            result = await _apply_account_event(conn, partner, event, account_id, target)
        await queries.finish_event(
            conn, event_id=event_id, result=result, payment_account_id=account_id
        )
        await core_q.insert_audit(
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


async def _resolve_account_or_stall(
    conn: asyncpg.Connection, partner: schemas.Partner, target: _Target
) -> None:
    """A payment event must name something we know: the account, or at least the stall."""
    if target.account_number is not None:
        await _named_account(conn, partner, target)
    elif target.stall_id is not None:
        await _require_stall(conn, target.stall_id)


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
        _, outcome = await record_onboarding(
            conn,
            status=None if await _has_onboarding(conn, account_id, partner.code) else "pending",
            **kwargs,
        )
        return outcome
    if event.type == "account.activated":
        _, outcome = await record_onboarding(conn, status="active", **kwargs)
        return outcome
    current = await queries.onboarding_for(conn, account_id=account_id, partner_code=partner.code)
    if current is None:
        return "no_onboarding"
    # Deactivating a live account suspends it (it may come back); a pending one never went live.
    target_status = {"active": "suspended", "pending": "removed"}.get(current.status)
    _, outcome = await record_onboarding(conn, status=target_status, **kwargs)
    return outcome


async def _has_onboarding(conn: asyncpg.Connection, account_id: int, partner_code: str) -> bool:
    return (
        await queries.onboarding_for(conn, account_id=account_id, partner_code=partner_code)
        is not None
    )


# ---------------------------------------------------------------- native notification formats

NativeScheme = Literal["momo", "vnpay", "zalopay", "payos"]


@dataclass(frozen=True)
class NativeOutcome:
    """What happened to a notification; routers turn it into the partner's expected reply."""

    status: Literal["applied", "duplicate", "conflict", "bad_signature"]
    result: str | None = None


def _safe_reference(scheme: str, reference: object) -> str | None:
    """A reference without payer data: our stall token, or a merchant-made order id."""
    if not isinstance(reference, str) or not reference.strip() or not reference.isprintable():
        return None
    stall_id = stall_from_reference(reference)
    if stall_id is not None:
        return stall_reference(stall_id)
    # payOS descriptions are typed by the payer and may hold names; keep nothing of them.
    return None if scheme == "payos" else reference.strip()[:100]


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
    credentials = await queries.partner_credentials(conn, code) or {}
    needed = registry.CREDENTIAL_FIELDS[scheme]
    if not all(credentials.get(name) for name in needed):
        raise errors.EndpointDisabled(f"{code} credentials are not set: this endpoint is disabled.")
    return credentials


async def receive_native(
    conn: asyncpg.Connection, *, scheme: NativeScheme, raw: bytes | str, credentials: dict[str, str]
) -> NativeOutcome:
    """Verify a native notification over its raw form, then record it once per transaction id."""
    code = registry.NATIVE_PARTNER[scheme]
    raw_bytes = raw if isinstance(raw, bytes) else raw.encode("latin-1", "replace")
    try:
        notice = _verify_native(scheme, raw, credentials)
    except SignatureError:
        return NativeOutcome("bad_signature")
    if printable(notice.external_id, 100) is None:
        return NativeOutcome("bad_signature")  # signed, but not an id we can store
    partner = await queries.get_partner(conn, code)
    assert partner is not None
    body_sha = crypto.fingerprint(raw_bytes)  # keyed: the body holds an account number
    reference = _safe_reference(scheme, notice.reference)
    account_number = printable(notice.account_number, 40)
    payload = {
        "amount": notice.amount,
        "succeeded": notice.succeeded,
        "account_number": account_number,
        "reference": reference,
        "occurred_at": notice.occurred_at.isoformat() if notice.occurred_at else None,
    }
    content = {k: payload[k] for k in ("amount", "succeeded", "account_number", "reference")}
    fingerprint = _fingerprint(content)
    # A failed payment moved no money and its id may be reused (VNPay sends 0): key it by content.
    external_id = notice.external_id if notice.succeeded else f"failed:{body_sha.hex()[2:34]}"
    async with conn.transaction():
        event_id = await queries.claim_event(
            conn,
            partner_code=code,
            external_id=external_id,
            type="payment.received",
            payload=payload,
            fingerprint=fingerprint,
            body_sha256=body_sha,
        )
        if event_id is None:
            stored = await queries.stored_event(conn, partner_code=code, external_id=external_id)
            assert stored is not None
            if not crypto.fingerprint_matches(stored.fingerprint, _canonical(content)):
                return NativeOutcome("conflict")
            return NativeOutcome("duplicate", stored.result)
        match = Match(None, None)
        if notice.succeeded:
            match = await match_payment(
                conn, partner, account_number=account_number, reference=reference
            )
            result = await _record_payment(
                conn,
                partner,
                external_id=external_id,
                amount=notice.amount,
                occurred_at=notice.occurred_at or datetime.now(UTC),
                match=match,
                account_number=account_number,
                reference=reference,
            )
        else:
            result = "not_succeeded"
        await queries.finish_event(
            conn, event_id=event_id, result=result, payment_account_id=match.account_id
        )
        await core_q.insert_audit(
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


# ---------------------------------------------------------------- partner views


async def _partner_view_scope(
    conn: asyncpg.Connection, user: User, code: str, *, personal: bool
) -> list[int] | None:
    """Markets of a partner's data the caller may see (None = all); 404 for other partners."""
    if personal and user.role != "partner":
        access.require_personal_data_role(user)
    if await queries.get_partner(conn, code) is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    if user.role == "partner":
        if await _partner_of(conn, user) != code:
            raise errors.PartnerNotFound(f"No partner with code {code}.")
        return None
    if user.role not in access.READ_ROLES:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    return await access.market_scope(conn, user)


async def partner_stats(
    conn: asyncpg.Connection, *, user: User, code: str, market_id: int | None, window_days: int
) -> schemas.PartnerStats:
    """A partner's onboarded, active and paid accounts by market, within the caller's scope."""
    code = code.upper()
    scope = await _partner_view_scope(conn, user, code, personal=False)
    if market_id is not None:
        if scope is not None and market_id not in scope:
            raise merchant_errors.MarketNotFound(f"No market with id {market_id}.")
        scope = [market_id]
    rows = await queries.partner_stats(
        conn, partner_code=code, market_ids=scope, window_days=window_days
    )
    totals = schemas.StatsCounts(
        **{name: sum(getattr(r, name) for r in rows) for name in schemas.StatsCounts.model_fields}
    )
    return schemas.PartnerStats(
        partner_code=code, window_days=window_days, totals=totals, markets=rows
    )


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", cursor) or not 1 <= int(cursor) <= MAX_ID:
        raise Invalid("The cursor is not valid; start again without it.", field="cursor")
    return int(cursor)


async def partner_accounts(
    conn: asyncpg.Connection, *, user: User, code: str, limit: int, cursor: str | None
) -> schemas.PartnerAccountPage:
    """Payment accounts a partner onboarded or that opted in to it, a page at a time."""
    code = code.upper()
    scope = await _partner_view_scope(conn, user, code, personal=True)
    rows = await queries.partner_accounts(
        conn, partner_code=code, market_ids=scope, after_id=_decode_cursor(cursor), limit=limit + 1
    )
    next_cursor = str(rows[limit - 1].payment_account_id) if len(rows) > limit else None
    return schemas.PartnerAccountPage(items=rows[:limit], next_cursor=next_cursor)


async def unmatched_payments(
    conn: asyncpg.Connection, *, code: str, limit: int, cursor: str | None
) -> schemas.UnmatchedPage:
    """Verified payments of a partner that matched no stall, for review."""
    code = code.upper()
    if await queries.get_partner(conn, code) is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    rows = await queries.unmatched_payments(
        conn, partner_code=code, after_id=_decode_cursor(cursor), limit=limit + 1
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return schemas.UnmatchedPage(items=rows[:limit], next_cursor=next_cursor)


# ---------------------------------------------------------------- partner report import


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
    partner = await queries.get_partner(conn, code)
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    if user.role == "partner":
        if await _partner_of(conn, user) != code:
            raise Forbidden("A partner user imports reports for its own partner only.")
    elif user.role != "admin":
        raise Forbidden("Only administrators and the partner itself import partner reports.")
    try:
        rows, row_errors = csv_import.parse_report(data)
    except csv_import.CsvFormatError as exc:
        raise errors.CsvMalformed(f"Line {exc.line}: {exc.message}.", line=exc.line) from None
    digest = hashlib.sha256(data).digest()
    previous = await queries.import_by_sha(conn, partner_code=code, sha256=digest)
    import_id: int | None = None
    results: list[schemas.ImportRowResult] = []
    try:
        async with conn.transaction():
            if not dry_run and previous is None:
                import_id = await queries.claim_import(
                    conn, partner_code=code, sha256=digest, filename=filename, created_by=user.id
                )
                if import_id is None:  # the same file is being imported right now
                    previous = await queries.import_by_sha(conn, partner_code=code, sha256=digest)
            results = await _apply_report(
                conn, partner=partner, user=user, rows=rows, ref=f"import:{digest.hex()[:16]}"
            )
            results += [
                schemas.ImportRowResult(line=e.line, result="error", reason=e.reason)
                for e in row_errors
            ]
            results.sort(key=lambda r: r.line)
            if import_id is None:
                raise _DryRun
            summary = {
                "counts": _counts(results),
                "rows": [r.model_dump(mode="json") for r in results[:5000]],
            }
            await queries.finish_import(conn, import_id=import_id, summary=summary)
            await core_q.insert_audit(
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
        results = [
            r
            if r.result == "error"
            else r.model_copy(update={"result": "unchanged", "reason": note})
            for r in results
        ]
    return schemas.ImportResult(
        import_id=import_id,
        dry_run=dry_run,
        already_imported=previous is not None,
        sha256=digest.hex(),
        counts=_counts(results),
        rows=results,
    )


def _counts(results: list[schemas.ImportRowResult]) -> dict[str, int]:
    counts = {"created": 0, "matched": 0, "unchanged": 0, "error": 0}
    for r in results:
        counts[r.result] += 1
    return counts


def _phone_e164(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _market_keys(name: str) -> set[str]:
    key = fold(name)
    return {key, key.removeprefix("cho ")}


async def _apply_report(
    conn: asyncpg.Connection,
    *,
    partner: schemas.Partner,
    user: User,
    rows: list[csv_import.ImportRow],
    ref: str,
) -> list[schemas.ImportRowResult]:
    """Resolve each row to one payment account and create or move the partner's onboarding of it."""
    markets: dict[str, list[int]] = {}
    for market in await queries.all_markets(conn):
        for key in _market_keys(market.name):
            markets.setdefault(key, []).append(market.id)

    def market_of(row: csv_import.ImportRow) -> int | None | str:
        if row.market is None:
            return None
        ids = sorted({i for key in _market_keys(row.market) for i in markets.get(key, [])})
        if len(ids) != 1:
            return (
                f"unknown market {row.market!r}"
                if not ids
                else f"market name {row.market!r} is ambiguous"
            )
        return ids[0]

    row_market = {row.line: market_of(row) for row in rows}
    pairs = sorted(
        {
            (m, normalize(row.stall_code).upper())
            for row in rows
            if row.stall_code
            and printable(row.stall_code, 64)
            and isinstance(m := row_market[row.line], int)
        }
    )
    by_code = {(s.market_id, s.code_key): s.id for s in await queries.stalls_by_codes(conn, pairs)}
    phones = {row.line: _phone_e164(row.phone) for row in rows if row.phone}
    by_phone: dict[str, list[tuple[int, int]]] = {}
    for s in await queries.stalls_by_phones(conn, sorted({p for p in phones.values() if p})):
        assert s.phone_e164 is not None
        by_phone.setdefault(s.phone_e164, []).append((s.id, s.market_id))
    # Only values that can exist in the register are looked up (no NUL or other control characters).
    numbers = sorted(
        {
            number
            for row in rows
            if row.account_number
            and re.fullmatch(r"[!-~]{1,19}", number := row.account_number.replace(" ", ""))
        }
    )
    by_number: dict[str, list[queries.Account]] = {}
    for a in await queries.accounts_by_numbers(conn, numbers):
        by_number.setdefault(a.account_number, []).append(a)

    resolved: dict[int, tuple[int, int | None]] = {}
    results: dict[int, schemas.ImportRowResult] = {}
    for row in rows:
        outcome = _resolve_row(
            row, row_market[row.line], by_code, phones.get(row.line), by_phone, by_number, partner
        )
        if isinstance(outcome, str):
            results[row.line] = schemas.ImportRowResult(
                line=row.line, result="error", reason=outcome
            )
        else:
            resolved[row.line] = outcome
    need_account = sorted({stall for stall, account in resolved.values() if account is None})
    candidates: dict[int, list[queries.Candidate]] = {}
    for c in await queries.stall_candidates(
        conn, stall_ids=need_account, partner_code=partner.code
    ):
        candidates.setdefault(c.stall_id, []).append(c)

    for row in rows:
        if row.line not in resolved:
            continue
        stall_id, account_id = resolved[row.line]
        if account_id is None:
            account_id = _pick(candidates.get(stall_id, []))
            if account_id is None:
                results[row.line] = schemas.ImportRowResult(
                    line=row.line,
                    result="error",
                    stall_id=stall_id,
                    reason="the stall has no payment account that is clearly this partner's; "
                    "add account_number",
                )
                continue
        status = row.status or "active"
        try:
            _, done = await record_onboarding(
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
    return [results[row.line] for row in rows]


def _pick(candidates: list[queries.Candidate]) -> int | None:
    for rank in (0, 1, 2):
        at_rank = [c for c in candidates if c.rank == rank]
        if at_rank:
            return at_rank[0].account_id if len(at_rank) == 1 else None
    return candidates[0].account_id if len(candidates) == 1 else None


def _resolve_row(
    row: csv_import.ImportRow,
    market: int | None | str,
    by_code: dict[tuple[int, str], int],
    phone: str | None,
    by_phone: dict[str, list[tuple[int, int]]],
    by_number: dict[str, list[queries.Account]],
    partner: schemas.Partner,
) -> tuple[int, int | None] | str:
    """(stall id, account id or None) named by a row, or why it names none or several."""
    if isinstance(market, str):
        return market
    stall_sets: list[set[int]] = []
    account: queries.Account | None = None
    if row.stall_code:
        if market is None:
            if not (row.phone or row.account_number):
                return "a stall code needs the market column"
        else:
            stall_id = by_code.get((market, normalize(row.stall_code).upper()))
            if stall_id is None:
                return f"no stall {row.stall_code!r} in market {row.market!r}"
            stall_sets.append({stall_id})
    if row.phone:
        if phone is None:
            return f"{row.phone!r} is not a valid phone number"
        stalls = [(s, m) for s, m in by_phone.get(phone, []) if market is None or m == market]
        if not stalls:
            return "no active stall with this phone number"
        stall_sets.append({s for s, _ in stalls})
    if row.account_number:
        number = row.account_number.replace(" ", "")
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
            return "no active payment account with this number" + (
                f" at BIN {row.bin}" if row.bin else ""
            )
        if len(found) > 1:
            return "several stalls show this account number; add the bin or market column"
        account = found[0]
        stall_sets.append({account.stall_id})
    common = set.intersection(*stall_sets) if stall_sets else set()
    if not common:
        return "the stall code, phone and account number point to different stalls"
    if len(common) > 1:
        return "several stalls match; add the market, stall code or account number"
    stall_id = common.pop()
    return stall_id, account.id if account else None


# ---------------------------------------------------------------- account-name lookup


def lookup_provider(state: Any) -> lookup.LookupProvider:
    """The configured lookup provider (vietqr.io compatible) on the app's shared HTTP client."""
    provider = getattr(state, "lookup_provider", None)
    if provider is not None:
        return provider
    settings = state.settings
    if settings.lookup_base_url and settings.lookup_client_id and settings.lookup_api_key:
        provider = lookup.VietQRLookup(
            state.http,
            base_url=settings.lookup_base_url,
            client_id=settings.lookup_client_id,
            api_key=settings.lookup_api_key.get_secret_value(),
            timeout_s=settings.lookup_timeout_s,
        )
    else:
        provider = lookup.DisabledLookup()
    state.lookup_provider = provider
    return provider


async def lookup_account(
    provider: lookup.LookupProvider, *, bin: str, account_number: str
) -> schemas.LookupOut:
    """The bank's name for an account, as far as the provider can tell."""
    result = await provider.lookup(bin, account_number)
    return schemas.LookupOut(
        status=result.status, account_name=result.account_name, detail=result.detail
    )


def _name_check(entered: str | None, result: lookup.LookupResult) -> str:
    if result.status != "found":
        return result.status
    if not entered:
        return "no_name"
    assert result.account_name is not None
    return "matched" if lookup.names_match(entered, result.account_name) else "mismatch"


async def check_account_names(
    conn: asyncpg.Connection,
    *,
    provider: lookup.LookupProvider,
    user: User,
    stall_id: int,
) -> None:
    """Compare unchecked accounts' entered names with the bank's; store the outcome as a warning.

    Never blocks: every provider problem becomes a status. The lookups run outside any transaction;
    only the short write of the outcomes is one.
    """
    targets = await queries.accounts_to_check(conn, stall_id=stall_id)
    if not targets:
        return
    results = await asyncio.gather(*(provider.lookup(t.bin, t.account_number) for t in targets))
    checks = {
        t.id: (_name_check(t.account_name, r), r.account_name)
        for t, r in zip(targets, results, strict=True)
    }
    async with conn.transaction():
        for account_id, (check, bank_name) in checks.items():
            await queries.set_name_check(
                conn, account_id=account_id, check=check, bank_account_name=bank_name
            )
            await core_q.insert_audit(
                conn,
                actor_id=user.id,
                action="name_check",
                entity="payment_account",
                entity_id=account_id,
                after={"stall_id": stall_id, "name_check": check},
            )
        for account_id, (check, _) in checks.items():
            if check == "matched":
                await coverage.mark_name_matched(
                    conn, stall_id=stall_id, account_id=account_id, user=user
                )


async def seal_stored_credentials(conn: asyncpg.Connection) -> int:
    """Seal credentials stored before they were sealed (start-up); returns how many partners."""
    async with conn.transaction():
        found = await queries.credentials_in_clear(conn)
        await queries.store_sealed_credentials(
            conn,
            [
                (code, crypto.seal_credentials(code, crypto.open_credentials(code, stored)))
                for code, stored in found
            ],
        )
    if found:
        log.info("sealed the stored credentials of %d partners", len(found))
    return len(found)


async def sync_directory(conn: asyncpg.Connection) -> list[str]:
    """Banks and wallets that joined the bank directory (qr/data/banks.json) since the partner
    registry was seeded become partners, and partners get BINs the directory added (start-up)."""
    added = await queries.add_directory_partners(
        conn,
        [(p.code, p.name, p.kind, p.scheme, list(p.bins)) for p in registry.seed_rows()],
    )
    if added:
        log.info("partners added from the bank directory: %s", ", ".join(added))
    return added
