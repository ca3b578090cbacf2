"""Onboardings: which partner set up each payment account, with status history and transition rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Literal

import asyncpg

from core import access, audit
from core.errors import Forbidden, StallNotFound
from core.types import User
from coverage import stalls as stall_progress
from partners import errors, registry, schemas
from partners.queries import accounts as accounts_q
from partners.queries import onboardings as onboardings_q
from partners.queries import registry as registry_q

log = logging.getLogger("choso.partners")


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
) -> tuple[onboardings_q.OnboardingRow, Outcome]:
    """Create the onboarding of an account by a partner, or move it to `status`.

    Runs inside the caller's transaction. A new onboarding starts at `status` (default `active`);
    an existing one follows TRANSITIONS, otherwise 409 invalid_transition before any write.
    """
    existing = await onboardings_q.onboarding_for(
        conn, account_id=account_id, partner_code=partner_code, for_update=True
    )
    if existing is None:
        first = status or "active"
        new_id = await onboardings_q.create_onboarding(
            conn,
            account_id=account_id,
            partner_code=partner_code,
            channel=channel,
            status=first,
            actor_id=actor_id,
            source=source,
            staff_name=staff_name,
            effective_on=effective_on,
            ref=ref,
        )
        if new_id is not None:
            return onboardings_q.OnboardingRow(new_id, account_id, partner_code, first), "created"
        # Created concurrently by someone else: treat it as existing.
        existing = await onboardings_q.onboarding_for(
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
    await onboardings_q.set_onboarding_status(conn, onboarding_id=existing.id, status=status)
    await onboardings_q.insert_status_change(
        conn,
        onboarding_id=existing.id,
        from_status=existing.status,
        to_status=status,
        actor_id=actor_id,
        source=source,
        effective_on=effective_on,
        ref=ref,
    )
    await audit.record(
        conn,
        actor_id=actor_id,
        action="set_status",
        entity="onboarding",
        entity_id=existing.id,
        before={"status": existing.status},
        after={"status": status, "source": source, "ref": ref},
    )
    serving = status in schemas.SERVING
    if serving != (existing.status in schemas.SERVING) and await registry_q.holds_account(
        conn, partner_code=partner_code, account_id=account_id
    ):
        # The account's own bank or wallet stopped (or resumed) it: a sign that shows it may no
        # longer bring money in (a gateway's onboarding ending stops no transfer).
        if serving:
            await stall_progress.account_resumed(conn, account_id=account_id, actor_id=actor_id)
        else:
            await stall_progress.account_stopped(
                conn, account_id=account_id, removed=status == "removed", actor_id=actor_id
            )
    return onboardings_q.OnboardingRow(existing.id, account_id, partner_code, status), "updated"


@dataclass(frozen=True)
class RegistrationOnboarding:
    """How a partner code given at registration is recorded: the volunteer saw the partner's
    account working at the stall (a field visit), so the onboarding starts `active`."""

    status: str = "active"
    channel: str = "field_visit"
    source: str = "registration"


REGISTRATION_ONBOARDING = RegistrationOnboarding()


def registration_part() -> str:
    """The WITH-list part of a registration statement that records the onboardings its accounts
    imply (its CTE `account`: accounts the statement writes), with registration_values() and
    $actor_id as parameters."""
    return onboardings_q.NEW_ACCOUNT_ONBOARDINGS


def registration_values() -> dict[str, object]:
    """The parameters of registration_part: REGISTRATION_ONBOARDING."""
    return {
        "onboarding_channel": REGISTRATION_ONBOARDING.channel,
        "onboarding_status": REGISTRATION_ONBOARDING.status,
        "onboarding_source": REGISTRATION_ONBOARDING.source,
        "onboarding_staff_name": None,
        "onboarding_effective_on": None,
        "onboarding_ref": None,
    }


async def record_registration_onboarding(
    conn: asyncpg.Connection, *, user: User, account_id: int, partner_code: str
) -> None:
    """The onboarding implied by a partner code given at registration (REGISTRATION_ONBOARDING).

    A new stall's accounts get the same rows, from the same SQL (registration_part), inside the
    registration's own statement.
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


async def save_onboarding(
    conn: asyncpg.Connection, *, user: User, stall_id: int, body: schemas.OnboardingIn
) -> tuple[schemas.Onboarding, bool]:
    """Record that a partner onboarded one of the stall's accounts, or change its status.

    Returns (onboarding, created). Volunteers and managers work in their markets; partner users only
    for their own partner and only on accounts within its reach (reach_q.in_reach): a stall without
    such an account, or an account outside it, reads exactly like one that does not exist.
    """
    not_found = StallNotFound(f"No stall with id {stall_id}.")
    if user.role == "partner":
        if await registry.partner_of(conn, user) != body.partner_code:
            raise Forbidden("A partner user records onboardings for its own partner only.")
        if (
            await accounts_q.stall_market_in_reach(
                conn, stall_id=stall_id, partner_code=body.partner_code
            )
            is None
        ):
            raise not_found
        account = await accounts_q.account_in_reach(
            conn,
            account_id=body.payment_account_id,
            stall_id=stall_id,
            partner_code=body.partner_code,
        )
    else:
        access.require_write_role(user)
        market_id = await accounts_q.stall_market_id(conn, stall_id)
        if market_id is None:
            raise not_found
        await access.require_record_write(conn, user, market_id, not_found)
        account = await accounts_q.get_account(conn, body.payment_account_id)
        if account is not None and account.stall_id != stall_id:
            account = None
    if account is None:
        raise errors.UnknownAccount(
            f"Stall {stall_id} has no payment account {body.payment_account_id}.",
            field="payment_account_id",
        )
    partner = await registry_q.get_partner(conn, body.partner_code)
    if partner is None:
        raise errors.UnknownPartner(
            f"Unknown partner code {body.partner_code}.", field="partner_code"
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
        onboarding = await onboardings_q.onboarding_by_id(conn, row.id)
    assert onboarding is not None
    return onboarding, outcome == "created"


async def stall_onboardings(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> list[schemas.Onboarding]:
    """Onboardings of a stall with full status history, as far as the caller may see them (a
    partner user: its own, of accounts within its reach; none reads as no stall)."""
    if user.role != "partner":
        access.require_personal_data_role(user)
    not_found = StallNotFound(f"No stall with id {stall_id}.")
    market_id = await accounts_q.stall_market_id(conn, stall_id)
    if market_id is None:
        raise not_found
    if user.role == "partner":
        own_partner = await registry.partner_of(conn, user)
        found = await onboardings_q.stall_onboardings(
            conn, stall_id=stall_id, partner_code=own_partner or ""
        )
        if not found:
            raise not_found
        return found
    if not await access.can_see_market(conn, user, market_id):
        raise not_found
    return await onboardings_q.stall_onboardings(conn, stall_id=stall_id)


async def has_onboarding(conn: asyncpg.Connection, account_id: int, partner_code: str) -> bool:
    return (
        await onboardings_q.onboarding_for(conn, account_id=account_id, partner_code=partner_code)
        is not None
    )
