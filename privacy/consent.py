"""Consent per purpose: the checks other domains make before processing, and recording consent.

Purposes (privacy.schemas.PURPOSES): `registration`, `qr_sign`, `coverage_reporting`, and one
`share_partner:<CODE>` per partner. Other domains ask before processing:
`await consent.require_purpose(conn, holder_id, "qr_sign")` (409 consent_withdrawn or
consent_missing),
`await consent.has_purpose(conn, holder_id, consent.partner_purpose("MB"))`, or in bulk
`await consent.consent_states(conn, holder_ids, purpose)`.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from core import audit
from core.settings import Settings
from core.types import User
from privacy import queries, requests
from privacy.access import CONSENT_ROLES, holder_in_scope
from privacy.errors import (
    ConsentMissing,
    ConsentWithdrawn,
    NoPurpose,
    StallholderErased,
    UnknownPartner,
)
from privacy.schemas import (
    PARTNER_PURPOSE_PREFIX,
    Consent,
    ConsentGrant,
    Consents,
    ConsentWithdraw,
)


def registration_part() -> str:
    """The WITH-list part of a registration statement that records the consents ticked for the new
    person (its CTE `holder`, a person the statement creates); parameters $consent_purposes,
    $consent_notice_version, $consent_channel and $actor_id."""
    return queries.NEW_HOLDER_CONSENTS


def registration_values(purposes: list[str], notice_version: str) -> dict[str, object]:
    """The parameters of registration_part: each purpose once, where it was first ticked."""
    return {
        "consent_purposes": list(dict.fromkeys(purposes)),
        "consent_notice_version": notice_version,
        "consent_channel": "tablet",
    }


def consented_sql(holder: str, purpose: str) -> str:
    """An SQL condition for other domains' queries: the person (an SQL expression) consents now to
    the purpose (an SQL expression)."""
    return queries.consented(holder, purpose)


def asked_sql(holder: str) -> str:
    """An SQL condition for other domains' queries: the person (an SQL expression) was asked for
    consent at least once, for any purpose (granted or withdrawn): someone has met them."""
    return queries.asked(holder)


def partner_purpose(partner_code: str) -> str:
    """The consent purpose for sharing with one partner."""
    return f"{PARTNER_PURPOSE_PREFIX}{partner_code}"


async def check_purposes(conn: asyncpg.Connection, purposes: list[str], *, field: str) -> None:
    """422 unknown_partner unless every share_partner:<CODE> purpose names a registered partner
    (checked before consent is recorded: at registration and when consent is granted)."""
    codes = sorted(
        {
            p.removeprefix(PARTNER_PURPOSE_PREFIX)
            for p in purposes
            if p.startswith(PARTNER_PURPOSE_PREFIX)
        }
    )
    if not codes:
        return
    missing = await queries.unregistered_partners(conn, codes)
    if missing:
        raise UnknownPartner(
            f"Unknown partner code {missing[0]} in {PARTNER_PURPOSE_PREFIX}{missing[0]}; "
            "GET /api/partners lists the codes.",
            field=field,
        )


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


async def consents_of(conn: asyncpg.Connection, holder_id: int, **extra: Any) -> Consents:
    rows = await queries.consents(conn, holder_id)
    return Consents(
        stallholder_id=holder_id,
        active_purposes=sorted(r.purpose for r in rows if r.withdrawn_at is None),
        consents=[Consent(**{k: v for k, v in r.__dict__.items() if k != "id"}) for r in rows],
        **extra,
    )


async def get_consents(conn: asyncpg.Connection, *, user: User, holder_id: int) -> Consents:
    """A person's consent records, withdrawn ones included."""
    await holder_in_scope(conn, user, holder_id, roles=CONSENT_ROLES, write=False)
    return await consents_of(conn, holder_id)


async def grant_consent(
    conn: asyncpg.Connection, *, user: User, holder_id: int, body: ConsentGrant
) -> Consents:
    """Record consent for the purposes the person ticked (none are ever pre-ticked)."""
    if not body.purposes:
        raise NoPurpose("Tick at least one purpose with the stallholder.", field="purposes")
    await check_purposes(conn, body.purposes, field="purposes")
    async with conn.transaction():
        holder = await holder_in_scope(
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
            await audit.record(
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
        return await consents_of(conn, holder_id, changed=granted)


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
        await holder_in_scope(
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
            await audit.record(
                conn,
                actor_id=user.id,
                action="withdraw_consent",
                entity="stallholder",
                entity_id=holder_id,
                after={"purposes": withdrawn, "erase_requested": leaving},
            )
        if leaving:
            erase_request = await requests.open_erase_request(
                conn, holder_id=holder_id, user=user, settings=settings
            )
        return await consents_of(conn, holder_id, changed=withdrawn, erase_request=erase_request)
