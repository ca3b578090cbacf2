"""Personal data of stallholders: consent per purpose, and the data-subject rights (export, erase).

Purposes (merchants.schemas.PURPOSES): `registration`, `qr_sign`, `coverage_reporting`, and one
`share_partner:<CODE>` per partner. Other domains ask before processing:
`await privacy.require_purpose(conn, holder_id, "qr_sign")` (409 consent_withdrawn or
consent_missing),
`await privacy.has_purpose(conn, holder_id, privacy.partner_purpose("MB"))`, or in bulk
`await privacy.consent_states(conn, holder_ids, purpose)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from core import access
from core import queries as core_q
from core.crypto import seal_account
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.queries import User, jsonable
from core.settings import Settings
from core.text import fold
from merchants import coverage, schemas
from merchants import privacy_queries as queries
from merchants import service as registry

# Who may read and record consent (volunteers collect it), and who acts on data-subject rights.
CONSENT_ROLES = frozenset({"admin", "manager", "volunteer"})
RIGHTS_ROLES = frozenset({"admin", "manager"})


class StallholderNotFound(NotFound):
    code, title = "stallholder_not_found", "Stallholder not found"


class StallholderErased(Conflict):
    code, title = "stallholder_erased", "This person's data has been erased"


class NoPurpose(Invalid):
    code, title = "no_purpose", "Tick at least one purpose"


class ConsentWithdrawn(Conflict):
    code, title = "consent_withdrawn", "The stallholder withdrew consent for this purpose"


class ConsentMissing(Conflict):
    code, title = "consent_missing", "The stallholder has not consented to this purpose"


# ---------------------------------------------------------------- shapes


class ConsentGrant(schemas.Strict):
    notice_version: schemas.NoticeVersion
    purposes: list[schemas.Purpose] = Field(max_length=20)
    channel: Literal["tablet", "paper"] = "tablet"


class ConsentWithdraw(schemas.Strict):
    purposes: list[schemas.Purpose] = Field(max_length=20)


class Consent(BaseModel):
    purpose: str
    notice_version: str
    channel: str
    collected_by: str | None
    granted_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class DataRequest(BaseModel):
    id: int
    stallholder_id: int
    kind: str
    requested_by: str | None
    requested_at: datetime
    due_at: datetime
    completed_at: datetime | None


class Consents(BaseModel):
    stallholder_id: int
    active_purposes: list[str]
    consents: list[Consent]
    changed: list[str] = Field(
        default_factory=list, description="Purposes this request granted or withdrew"
    )
    erase_request: DataRequest | None = Field(
        default=None,
        description="Opened when `registration` is withdrawn: the person leaves the programme",
    )


class Erasure(BaseModel):
    stallholder_id: int
    erased_at: datetime
    already_erased: bool
    stall_ids: list[int]
    accounts_deactivated: int
    data_request: DataRequest | None


# ---------------------------------------------------------------- purpose checks (other domains)


def partner_purpose(partner_code: str) -> str:
    """The consent purpose for sharing with one partner."""
    return f"share_partner:{partner_code}"


async def consent_states(
    conn: asyncpg.Connection, holder_ids: list[int], purpose: str
) -> dict[int, str]:
    """'granted' or 'withdrawn' per person for a purpose; people never asked are absent."""
    return await queries.consent_states(conn, holder_ids, purpose)


async def has_purpose(conn: asyncpg.Connection, holder_id: int | None, purpose: str) -> bool:
    """Whether the person consented to this purpose and has not withdrawn it."""
    if holder_id is None:
        return False
    return (await queries.consent_states(conn, [holder_id], purpose)).get(holder_id) == "granted"


async def require_purpose(conn: asyncpg.Connection, holder_id: int | None, purpose: str) -> None:
    """409 consent_withdrawn (or consent_missing) unless the person consents to this purpose now."""
    state = (
        (await queries.consent_states(conn, [holder_id], purpose)).get(holder_id)
        if holder_id is not None
        else None
    )
    if state == "granted":
        return
    if state == "withdrawn":
        raise ConsentWithdrawn(
            f"The stallholder withdrew consent for '{purpose}'; this processing has stopped.",
            purpose=purpose,
        )
    raise ConsentMissing(f"The stallholder has not consented to '{purpose}'.", purpose=purpose)


# ---------------------------------------------------------------- scope


async def _holder_in_scope(
    conn: asyncpg.Connection,
    user: User,
    holder_id: int,
    *,
    roles: frozenset[str],
    write: bool,
    for_update: bool = False,
) -> queries.HolderRow:
    """The person, if the caller's role and market scope reach them.

    Role first (403, reveals nothing); then existence (404); then scope: reads 404 (the person's
    existence is not revealed), writes 403. A person is in scope when all their stalls are.
    """
    if user.role not in roles:
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.")
    holder = await queries.get_holder(conn, holder_id, for_update=for_update)
    if holder is None:
        raise StallholderNotFound(f"No stallholder with id {holder_id}.")
    scope = await access.market_scope(conn, user)
    if scope is not None:
        markets = await queries.holder_market_ids(conn, holder_id)
        if not any(m in scope for m in markets):
            if write:
                raise Forbidden("This stallholder's market is not assigned to you.")
            raise StallholderNotFound(f"No stallholder with id {holder_id}.")
        if write and not all(m in scope for m in markets):
            raise Forbidden("Some of this stallholder's stalls are in markets not assigned to you.")
    return holder


def _request(row: queries.DataRequestRow) -> DataRequest:
    return DataRequest(**row.__dict__)


async def _consents(conn: asyncpg.Connection, holder_id: int, **extra: Any) -> Consents:
    rows = await queries.consents(conn, holder_id)
    return Consents(
        stallholder_id=holder_id,
        active_purposes=sorted(r.purpose for r in rows if r.withdrawn_at is None),
        consents=[Consent(**{k: v for k, v in r.__dict__.items() if k != "id"}) for r in rows],
        **extra,
    )


# ---------------------------------------------------------------- consent use cases


async def get_consents(conn: asyncpg.Connection, *, user: User, holder_id: int) -> Consents:
    """A person's consent records, withdrawn ones included."""
    await _holder_in_scope(conn, user, holder_id, roles=CONSENT_ROLES, write=False)
    return await _consents(conn, holder_id)


async def grant_consent(
    conn: asyncpg.Connection, *, user: User, holder_id: int, body: ConsentGrant
) -> Consents:
    """Record consent for the purposes the person ticked (none are ever pre-ticked)."""
    if not body.purposes:
        raise NoPurpose("Tick at least one purpose with the stallholder.", field="purposes")
    async with conn.transaction():
        holder = await _holder_in_scope(
            conn, user, holder_id, roles=CONSENT_ROLES, write=True, for_update=True
        )
        if holder.erased_at is not None:
            raise StallholderErased("This person's data was erased; register them again instead.")
        granted = await queries.grant_consents(
            conn,
            holder_id=holder_id,
            purposes=sorted(set(body.purposes)),
            notice_version=body.notice_version,
            channel=body.channel,
            collected_by=user.id,
        )
        if granted:
            await core_q.insert_audit(
                conn,
                actor_id=user.id,
                action="grant_consent",
                entity="stallholder",
                entity_id=holder_id,
                after={
                    "purposes": granted,
                    "notice_version": body.notice_version,
                    "channel": body.channel,
                },
            )
        return await _consents(conn, holder_id, changed=granted)


async def withdraw_consent(
    conn: asyncpg.Connection,
    *,
    user: User,
    holder_id: int,
    body: ConsentWithdraw,
    settings: Settings,
) -> Consents:
    """Withdraw consent per purpose; processing for it stops at once.

    Withdrawing `registration` withdraws every purpose and opens an erase request, due in
    settings.data_request_deadline_days, that an admin or the market's manager completes.
    """
    if not body.purposes:
        raise NoPurpose("Name at least one purpose to withdraw.", field="purposes")
    leaving = "registration" in body.purposes
    async with conn.transaction():
        await _holder_in_scope(
            conn, user, holder_id, roles=CONSENT_ROLES, write=True, for_update=True
        )
        withdrawn = await queries.withdraw_consents(
            conn,
            holder_id=holder_id,
            purposes=None if leaving else sorted(set(body.purposes)),
            withdrawn_by=user.id,
        )
        erase_request = None
        if withdrawn or leaving:
            await queries.open_data_request(
                conn,
                holder_id=holder_id,
                kind="withdraw",
                requested_by=user.id,
                deadline_days=settings.data_request_deadline_days,
            )
            await queries.complete_data_requests(conn, holder_id=holder_id, kind="withdraw")
            await core_q.insert_audit(
                conn,
                actor_id=user.id,
                action="withdraw_consent",
                entity="stallholder",
                entity_id=holder_id,
                after={"purposes": withdrawn, "erase_requested": leaving},
            )
        if leaving:
            erase_request = await _open_erase_request(
                conn, holder_id=holder_id, user=user, settings=settings
            )
        return await _consents(conn, holder_id, changed=withdrawn, erase_request=erase_request)


async def _open_erase_request(
    conn: asyncpg.Connection, *, holder_id: int, user: User, settings: Settings
) -> DataRequest | None:
    """The person's open erase request, opened if there is none (None when already erased)."""
    holder = await queries.get_holder(conn, holder_id)
    if holder is None or holder.erased_at is not None:
        return None
    for row in await queries.data_requests_of(conn, holder_id):
        if row.kind == "erase" and row.completed_at is None:
            return _request(row)
    request_id = await queries.open_data_request(
        conn,
        holder_id=holder_id,
        kind="erase",
        requested_by=user.id,
        deadline_days=settings.data_request_deadline_days,
    )
    return next(
        _request(r) for r in await queries.data_requests_of(conn, holder_id) if r.id == request_id
    )


async def list_data_requests(
    conn: asyncpg.Connection, *, user: User, only_open: bool, limit: int
) -> list[DataRequest]:
    """Data-subject requests about people in the caller's markets, open ones first by deadline."""
    if user.role not in RIGHTS_ROLES:
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(RIGHTS_ROLES))}.")
    scope = await access.market_scope(conn, user)
    rows = await queries.list_data_requests(
        conn, market_ids=scope, only_open=only_open, limit=limit
    )
    return [_request(r) for r in rows]


# ---------------------------------------------------------------- export


async def export(
    conn: asyncpg.Connection, *, user: User, holder_id: int, route: str, settings: Settings
) -> dict[str, Any]:
    """Everything the service holds about a person, as JSON (access and portability)."""
    async with conn.transaction():
        holder = await _holder_in_scope(conn, user, holder_id, roles=RIGHTS_ROLES, write=False)
        request_id = await queries.open_data_request(
            conn,
            holder_id=holder_id,
            kind="export",
            requested_by=user.id,
            deadline_days=settings.data_request_deadline_days,
        )
        await access.log_access(
            conn, user=user, stallholder_id=holder_id, route=route, reason="export"
        )
        stalls = await queries.holder_stalls(conn, holder_id)
        accounts = await queries.holder_accounts(conn, holder_id)
        audit = await queries.audit_about(
            conn,
            holder_id=holder_id,
            stall_ids=[s.id for s in stalls],
            account_ids=[a.id for a in accounts],
        )
        onboardings = await queries.holder_onboardings(conn, [a.id for a in accounts])
        payments = await queries.holder_payments(
            conn, account_ids=[a.id for a in accounts], stall_ids=[s.id for s in stalls]
        )
        consent = await _consents(conn, holder_id)
        access_log = await queries.access_log_of(conn, holder_id)
        await queries.complete_data_requests(conn, holder_id=holder_id, kind="export")
        requests = await queries.data_requests_of(conn, holder_id)
    document = {
        "stallholder": {
            "id": holder.id,
            "full_name": holder.full_name,
            "phone": holder.phone_e164,
            "cccd_last4": holder.cccd_last4,
            "created_at": holder.created_at,
            "updated_at": holder.updated_at,
            "erased_at": holder.erased_at,
        },
        "stalls": [s.__dict__ for s in stalls],
        "payment_accounts": [a.__dict__ for a in accounts],
        "partner_onboardings": [o.__dict__ for o in onboardings],
        "payments_received": [p.__dict__ for p in payments],
        "consents": [c.model_dump() for c in consent.consents],
        "access_log": [a.__dict__ for a in access_log],
        "audit": [a.__dict__ for a in audit],
        "data_requests": [_request(r).model_dump() for r in requests],
        "export_request_id": request_id,
        "notes": {
            "cccd": "Only a keyed hash (for de-duplication) and the last 4 digits were kept, "
            "never the full number.",
        },
    }
    return jsonable(document)


# ---------------------------------------------------------------- erase

# Keys whose values are the person's data wherever they appear in an audit entry about them.
_PERSONAL_KEYS = frozenset(
    {
        "full_name",
        "holder_name",
        "phone",
        "phone_e164",
        "phone_masked",
        "cccd",
        "cccd_last4",
        "cccd_hash",
        "account_number",
        "account_name",
        "bank_account_name",
        "accountNumber",
        "accountName",
        "reference",
    }
)


def _scrub(value: Any, needles: list[str]) -> Any:
    """The JSON value with the person's fields nulled and any string holding their data erased."""
    if isinstance(value, dict):
        return {k: None if k in _PERSONAL_KEYS else _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, str):
        text = fold(value)
        if any(n in value or n in text for n in needles):
            return "[erased]"
    return value


def _needles(holder: queries.HolderRow, accounts: list[queries.AccountRow]) -> list[str]:
    values: list[str] = []
    if holder.full_name:
        values += [holder.full_name, fold(holder.full_name)]
    if holder.phone_e164:
        values.append(holder.phone_e164)
        if holder.phone_e164.startswith("+84"):
            values.append("0" + holder.phone_e164[3:])
    for account in accounts:
        # Stored numbers are sealed (payment events, partner messages): both forms are searched.
        values += [account.account_number, seal_account(account.account_number)]
        if account.account_name:
            values += [account.account_name, fold(account.account_name)]
    return sorted({v for v in values if len(v) >= 4})


async def erase(
    conn: asyncpg.Connection, *, user: User, holder_id: int, settings: Settings
) -> Erasure:
    """Anonymise a person: name, phone and CCCD traces go; their payment accounts are
    deactivated and their number and name replaced; search text, audit entries, printed payloads
    and payment details about them are scrubbed. The stalls, their status and the coverage
    counts stay."""
    async with conn.transaction():
        holder = await _holder_in_scope(
            conn, user, holder_id, roles=RIGHTS_ROLES, write=True, for_update=True
        )
        stalls = await queries.holder_stalls(conn, holder_id)
        if holder.erased_at is not None:
            await queries.complete_data_requests(conn, holder_id=holder_id, kind="erase")
            return Erasure(
                stallholder_id=holder_id,
                erased_at=holder.erased_at,
                already_erased=True,
                stall_ids=[s.id for s in stalls],
                accounts_deactivated=0,
                data_request=None,
            )
        request = await _open_erase_request(conn, holder_id=holder_id, user=user, settings=settings)
        assert request is not None
        accounts = await queries.holder_accounts(conn, holder_id)
        needles = _needles(holder, accounts)
        audit = await queries.audit_about(
            conn,
            holder_id=holder_id,
            stall_ids=[s.id for s in stalls],
            account_ids=[a.id for a in accounts],
        )
        erased_at = await queries.anonymise_holder(conn, holder_id)
        deactivated = await queries.scrub_accounts(conn, holder_id)
        for stall in stalls:  # deactivated accounts change levels and partner counts
            await coverage.on_stall_changed(conn, stall_id=stall.id)
        account_ids = [a.id for a in accounts]
        events = await queries.partner_events_about(conn, account_ids=account_ids, needles=needles)
        await queries.forget_printed_payloads(conn, account_ids)
        await queries.forget_payment_details(
            conn,
            account_ids=account_ids,
            stall_ids=[s.id for s in stalls],
            account_numbers=[a.account_number for a in accounts],
        )
        await queries.rewrite_partner_events(
            conn, [(e.id, _scrub(e.payload, needles)) for e in events]
        )
        await queries.withdraw_consents(
            conn, holder_id=holder_id, purposes=None, withdrawn_by=user.id
        )
        await queries.set_search_text(
            conn, [(s.id, registry.search_text(s.stall_code, None, None, s.goods)) for s in stalls]
        )
        await queries.rewrite_audit(
            conn, [(a.id, _scrub(a.before, needles), _scrub(a.after, needles)) for a in audit]
        )
        await core_q.insert_audit(
            conn,
            actor_id=user.id,
            action="erase",
            entity="stallholder",
            entity_id=holder_id,
            after={
                "stall_ids": [s.id for s in stalls],
                "accounts_deactivated": deactivated,
                "data_request_id": request.id,
                "audit_entries_scrubbed": len(audit),
            },
        )
        await queries.complete_data_requests(conn, holder_id=holder_id, kind="erase")
        done = next(
            r for r in await queries.data_requests_of(conn, holder_id) if r.id == request.id
        )
        return Erasure(
            stallholder_id=holder_id,
            erased_at=erased_at,
            already_erased=False,
            stall_ids=[s.id for s in stalls],
            accounts_deactivated=deactivated,
            data_request=_request(done),
        )
