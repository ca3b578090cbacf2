"""Data-subject rights: requests with deadlines, export of everything held about a person, erasure."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from typing import Any

import asyncpg

from core import access
from core import audit as audit_trail
from core.crypto import Keys, keys_of
from core.errors import Forbidden
from core.settings import Settings
from core.text import fold, stall_search_text
from core.types import User
from coverage import counters
from coverage import stalls as coverage_stalls
from privacy import export_pdf, queries
from privacy.access import RIGHTS_ROLES, holder_in_scope
from privacy.schemas import AccessEntry, Consent, DataRequest, Erasure


def _request(row: queries.DataRequestRow) -> DataRequest:
    return DataRequest(**row.__dict__)


def _consent(row: queries.ConsentRow) -> Consent:
    return Consent(**{k: v for k, v in row.__dict__.items() if k != "id"})


async def open_erase_request(
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


async def access_history(
    conn: asyncpg.Connection, *, user: User, holder_id: int
) -> list[AccessEntry]:
    """Who read this person's full record, newest first (admins, managers of their markets): the
    access log without an export. It reads the log and writes nothing."""
    await holder_in_scope(conn, user, holder_id, roles=RIGHTS_ROLES, write=False)
    rows = await queries.access_log_of(conn, holder_id)
    return [AccessEntry(**row.__dict__) for row in reversed(rows)]


async def _gather(
    conn: asyncpg.Connection, *, user: User, holder_id: int, route: str, settings: Settings
) -> export_pdf.Gathered:
    """Everything the service holds about a person, read as an export: the export is recorded as
    their data-subject request (completed) and the read in the access log."""
    async with conn.transaction():
        holder = await holder_in_scope(conn, user, holder_id, roles=RIGHTS_ROLES, write=False)
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
        consents = await queries.consents(conn, holder_id)
        visits = await queries.stall_visits(conn, [s.id for s in stalls])
        access_log = await queries.access_log_of(conn, holder_id)
        await queries.complete_data_requests(conn, holder_id=holder_id, kind="export")
        requests = await queries.data_requests_of(conn, holder_id)
    return export_pdf.Gathered(
        holder=holder,
        stalls=stalls,
        accounts=accounts,
        onboardings=onboardings,
        payments=payments,
        consents=consents,
        access_log=access_log,
        audit=audit,
        requests=requests,
        request_id=request_id,
        visits=visits,
    )


async def export(
    conn: asyncpg.Connection, *, user: User, holder_id: int, route: str, settings: Settings
) -> dict[str, Any]:
    """Everything the service holds about a person, as JSON (access and portability)."""
    data = await _gather(conn, user=user, holder_id=holder_id, route=route, settings=settings)
    holder = data.holder
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
        "stalls": [s.__dict__ for s in data.stalls],
        "payment_accounts": [a.__dict__ for a in data.accounts],
        "partner_onboardings": [o.__dict__ for o in data.onboardings],
        "payments_received": [p.__dict__ for p in data.payments],
        "consents": [_consent(c).model_dump() for c in data.consents],
        "visits": [v.__dict__ for v in data.visits],
        "access_log": [a.__dict__ for a in data.access_log],
        "audit": [a.__dict__ for a in data.audit],
        "data_requests": [_request(r).model_dump() for r in data.requests],
        "export_request_id": data.request_id,
        "notes": {
            "cccd": "Only a keyed hash (for de-duplication) and the last 4 digits were kept, "
            "never the full number.",
        },
    }
    return _portable(document)


def _portable(document: dict[str, Any]) -> dict[str, Any]:
    """The export as plain JSON, times in ISO 8601 with their offset ("2026-12-06T03:10:09+00:00",
    not the "2026-12-06 03:10:09.212662+00:00" a plain str() wrote): a portable copy other tools
    read."""

    def plain(value: object) -> object:
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps(document, default=plain))


async def export_printed(
    conn: asyncpg.Connection, *, user: User, holder_id: int, route: str, settings: Settings
) -> bytes:
    """The same export as a printed page in Vietnamese for the person (privacy.export_pdf),
    recorded as their request like the JSON."""
    data = await _gather(conn, user=user, holder_id=holder_id, route=route, settings=settings)
    # Drawn off the event loop (reportlab is CPU work), as imports and password hashing are.
    return await asyncio.to_thread(
        export_pdf.person_pdf, data, today=datetime.now(export_pdf.VN).date()
    )


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


def _needles(
    keys: Keys,
    holder: queries.HolderRow,
    accounts: list[queries.AccountRow],
    licences: list[str],
) -> list[str]:
    values: list[str] = list(licences)
    if holder.full_name:
        values += [holder.full_name, fold(holder.full_name)]
    if holder.phone_e164:
        values.append(holder.phone_e164)
        if holder.phone_e164.startswith("+84"):
            values.append("0" + holder.phone_e164[3:])
    for account in accounts:
        # Stored numbers are sealed (payment events, partner messages): both forms are searched.
        values += [account.account_number, keys.seal(account.account_number)]
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
        holder = await holder_in_scope(
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
        request = await open_erase_request(conn, holder_id=holder_id, user=user, settings=settings)
        assert request is not None
        accounts = await queries.holder_accounts(conn, holder_id)
        needles = _needles(
            keys_of(conn), holder, accounts, [s.licence_no for s in stalls if s.licence_no]
        )
        audit = await queries.audit_about(
            conn,
            holder_id=holder_id,
            stall_ids=[s.id for s in stalls],
            account_ids=[a.id for a in accounts],
        )
        erased_at = await queries.anonymise_holder(conn, holder_id)
        deactivated = await queries.scrub_accounts(conn, holder_id)
        for stall in stalls:  # deactivated accounts change levels and partner counts
            await coverage_stalls.holder_erased(conn, stall_id=stall.id)
            await counters.on_stall_changed(
                conn, stall_id=stall.id, window_days=settings.transacting_window_days
            )
        account_ids = [a.id for a in accounts]
        events = await queries.partner_events_about(conn, account_ids=account_ids, needles=needles)
        await queries.forget_printed_payloads(conn, account_ids)
        await queries.forget_visit_notes(conn, [s.id for s in stalls])
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
        await queries.forget_licences(conn, [s.id for s in stalls])
        await queries.set_search_text(
            conn, [(s.id, stall_search_text(s.stall_code, None, None, s.goods)) for s in stalls]
        )
        await queries.rewrite_audit(
            conn, [(a.id, _scrub(a.before, needles), _scrub(a.after, needles)) for a in audit]
        )
        await audit_trail.record(
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
