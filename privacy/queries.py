"""All SQL of consent, data-subject requests (export, erase, withdraw) and the access log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from core import sql
from core.crypto import keys_of


@dataclass(frozen=True)
class HolderRow:
    id: int
    full_name: str | None
    phone_e164: str | None
    cccd_last4: str | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


async def get_holder(
    conn: asyncpg.Connection, holder_id: int, *, for_update: bool = False
) -> HolderRow | None:
    """A stallholder (locked for update when asked)."""
    row = await conn.fetchrow(
        "SELECT id, full_name, phone_e164, cccd_last4, erased_at, created_at, updated_at "
        "FROM stallholder WHERE id = $1" + (" FOR UPDATE" if for_update else ""),
        holder_id,
    )
    return HolderRow(**dict(row)) if row else None


async def holder_market_ids(conn: asyncpg.Connection, holder_id: int) -> list[int]:
    """The markets where this person holds stalls."""
    rows = await conn.fetch(
        "SELECT DISTINCT market_id FROM stall WHERE holder_id = $1 ORDER BY market_id", holder_id
    )
    return [int(r["market_id"]) for r in rows]


@dataclass(frozen=True)
class StallRow:
    id: int
    market_id: int
    market_name: str
    stall_code: str
    zone: str | None
    goods: str | None
    status: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    confirm_by: list[str] | None  # how they learn that a payment arrived (migration 0020)
    created_at: datetime
    updated_at: datetime
    # The support package as recorded, "item:state" in the package's order (migration 0022).
    support: list[str]
    also_accepts: list[str] | None  # other ways the stall takes payment (migration 0023)
    licence_no: str | None  # its business licence number, where asked (migration 0027)


async def holder_stalls(conn: asyncpg.Connection, holder_id: int) -> list[StallRow]:
    """The stalls this person holds."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, m.name AS market_name, s.stall_code, s.zone, s.goods, s.status,
                  s.lat, s.lon, s.accuracy_m, s.confirm_by, s.created_at, s.updated_at,
                  coalesce((SELECT array_agg(x.item || ':' || x.state
                                             ORDER BY array_position(ARRAY['sales_app',
                                                 'digital_signature', 'e_invoice', 'domain',
                                                 'payment_account', 'ecommerce'], x.item))
                            FROM stall_support x WHERE x.stall_id = s.id), '{}') AS support,
                  s.also_accepts, s.licence_no
           FROM stall s JOIN market m ON m.id = s.market_id
           WHERE s.holder_id = $1 ORDER BY s.id""",
        holder_id,
    )
    return [StallRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class VisitRow:
    id: int
    stall_id: int
    outcome: str
    blockers: list[str]
    come_back_on: date | None
    note: str | None
    visited_at: datetime


async def stall_visits(conn: asyncpg.Connection, stall_ids: list[int]) -> list[VisitRow]:
    """Volunteers' visits to these stalls (notes may be about the person), oldest first."""
    rows = await conn.fetch(
        """SELECT id, stall_id, outcome, blockers, come_back_on, note, visited_at
           FROM stall_visit WHERE stall_id = any($1::bigint[]) ORDER BY visited_at, id""",
        stall_ids,
    )
    return [VisitRow(**dict(r)) for r in rows]


async def forget_visit_notes(conn: asyncpg.Connection, stall_ids: list[int]) -> None:
    """Visits keep when and what happened; the free-text note (it may be about the person) goes."""
    await conn.execute(
        "UPDATE stall_visit SET note = NULL WHERE stall_id = any($1::bigint[]) AND note IS NOT NULL",
        stall_ids,
    )


@dataclass(frozen=True)
class AccountRow:
    id: int
    stall_id: int
    bin: str
    account_number: str
    account_name: str | None
    service: str
    partner_code: str | None
    active: bool
    bank_account_name: str | None
    name_check: str | None
    created_at: datetime


async def holder_accounts(conn: asyncpg.Connection, holder_id: int) -> list[AccountRow]:
    """Payment accounts shown on this person's stalls."""
    rows = await conn.fetch(
        """SELECT a.id, a.stall_id, a.bin, a.account_number, a.account_name, a.service,
                  a.partner_code, a.active, a.bank_account_name, a.name_check, a.created_at
           FROM payment_account a JOIN stall s ON s.id = a.stall_id
           WHERE s.holder_id = $1 ORDER BY a.stall_id, a.position, a.id""",
        holder_id,
    )
    return [
        AccountRow(**(dict(r) | {"account_number": keys_of(conn).open(r["account_number"])}))
        for r in rows
    ]


@dataclass(frozen=True)
class OnboardingRow:
    payment_account_id: int
    partner_code: str
    channel: str
    status: str
    created_at: datetime
    updated_at: datetime


async def holder_onboardings(
    conn: asyncpg.Connection, account_ids: list[int]
) -> list[OnboardingRow]:
    """Which partners set up the person's accounts, and where each stands."""
    rows = await conn.fetch(
        """SELECT payment_account_id, partner_code, channel, status, created_at, updated_at
           FROM onboarding WHERE payment_account_id = any($1::bigint[]) ORDER BY id""",
        account_ids,
    )
    return [OnboardingRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class PaymentRow:
    partner_code: str
    payment_account_id: int | None
    stall_id: int | None
    amount: int
    occurred_at: datetime


async def holder_payments(
    conn: asyncpg.Connection, *, account_ids: list[int], stall_ids: list[int]
) -> list[PaymentRow]:
    """Payments received on the person's accounts or stalls (their transaction history)."""
    rows = await conn.fetch(
        """SELECT partner_code, payment_account_id, stall_id, amount, occurred_at FROM payment_event
           WHERE payment_account_id = any($1::bigint[]) OR stall_id = any($2::bigint[])
           ORDER BY occurred_at, id""",
        account_ids,
        stall_ids,
    )
    return [PaymentRow(**dict(r)) for r in rows]


# ---------------------------------------------------------------- consent


@dataclass(frozen=True)
class ConsentRow:
    id: int
    purpose: str
    notice_version: str
    channel: str
    collected_by: str | None
    granted_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


async def consents(conn: asyncpg.Connection, holder_id: int) -> list[ConsentRow]:
    """Every consent record of a person, withdrawn ones included, oldest first."""
    rows = await conn.fetch(
        """SELECT c.id, c.purpose, c.notice_version, c.channel, cu.username AS collected_by,
                  c.granted_at, c.withdrawn_at, wu.username AS withdrawn_by
           FROM consent c
           LEFT JOIN app_user cu ON cu.id = c.collected_by
           LEFT JOIN app_user wu ON wu.id = c.withdrawn_by
           WHERE c.stallholder_id = $1 ORDER BY c.granted_at, c.id""",
        holder_id,
    )
    return [ConsentRow(**dict(r)) for r in rows]


# The consents given for a person a statement writes or names (its CTE `holder`: id): one row
# per purpose ticked, in the order ticked; a purpose already consented to is left as it is.
# grant_consents runs it on a one-row `holder`.
NEW_CONSENTS = """
consent_row AS (
    INSERT INTO consent (stallholder_id, purpose, notice_version, channel, collected_by)
    SELECT holder.id, p.purpose, $consent_notice_version, $consent_channel, $actor_id
    FROM holder, unnest($consent_purposes::text[]) WITH ORDINALITY AS p (purpose, n)
    ORDER BY p.n
    ON CONFLICT (stallholder_id, purpose) WHERE withdrawn_at IS NULL DO NOTHING
    RETURNING purpose
)"""

# The same rows for a person the statement itself creates (a registration's `holder`): nobody
# has consented to anything for them yet, so no row can conflict and none is looked for (a plain
# insert, not a speculative one: no conflict check, no confirmation record in the WAL). The caller
# gives each purpose once, in the order first ticked (consent.registration_values), so the rows
# are written as they come: no grouping and no sort at every registration.
NEW_HOLDER_CONSENTS = """
consent_row AS (
    INSERT INTO consent (stallholder_id, purpose, notice_version, channel, collected_by)
    SELECT holder.id, p.purpose, $consent_notice_version, $consent_channel, $actor_id
    FROM holder, unnest($consent_purposes::text[]) AS p (purpose)
    RETURNING purpose
)"""

_GRANT = sql.compose(
    "WITH holder AS (SELECT $holder_id::bigint AS id), "
    + NEW_CONSENTS
    + " SELECT purpose FROM consent_row"
)


async def unregistered_partners(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """Which of these partner codes the partner registry (table partner) does not hold."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) AS x "
        "WHERE NOT EXISTS (SELECT 1 FROM partner WHERE code = x) ORDER BY x",
        codes,
    )
    return [str(r["x"]) for r in rows]


def consented(holder: str, purpose: str) -> str:
    """An SQL condition: the person `holder` (an expression) consents now to `purpose` (an
    expression): a consent for it that was not withdrawn."""
    return f"""EXISTS (SELECT 1 FROM consent c
                       WHERE c.stallholder_id = {holder} AND c.purpose = {purpose}
                         AND c.withdrawn_at IS NULL)"""


def asked(holder: str) -> str:
    """An SQL condition: the person `holder` (an expression) was asked for consent at least once
    (a consent row for any purpose, withdrawn or not)."""
    return f"EXISTS (SELECT 1 FROM consent c WHERE c.stallholder_id = {holder})"


async def grant_consents(
    conn: asyncpg.Connection,
    *,
    holder_id: int,
    purposes: list[str],
    notice_version: str,
    channel: str,
    collected_by: int,
) -> list[str]:
    """Record consent for purposes not already given (NEW_CONSENTS); returns those newly granted."""
    rows = await conn.fetch(
        _GRANT.text,
        *_GRANT.args(
            {
                "holder_id": holder_id,
                "consent_purposes": purposes,
                "consent_notice_version": notice_version,
                "consent_channel": channel,
                "actor_id": collected_by,
            }
        ),
    )
    return [str(r["purpose"]) for r in rows]


async def withdraw_consents(
    conn: asyncpg.Connection,
    *,
    holder_id: int,
    purposes: list[str] | None,
    withdrawn_by: int | None,
) -> list[str]:
    """Withdraw live consent for these purposes (None: every purpose); returns those withdrawn."""
    rows = await conn.fetch(
        """UPDATE consent SET withdrawn_at = clock_timestamp(), withdrawn_by = $3
           WHERE stallholder_id = $1 AND withdrawn_at IS NULL
             AND ($2::text[] IS NULL OR purpose = any($2::text[]))
           RETURNING purpose""",
        holder_id,
        purposes,
        withdrawn_by,
    )
    return sorted(str(r["purpose"]) for r in rows)


async def consent_states(
    conn: asyncpg.Connection, holder_ids: list[int], purpose: str
) -> dict[int, str]:
    """'granted' or 'withdrawn' per person for one purpose; people never asked are absent."""
    rows = await conn.fetch(
        """SELECT stallholder_id,
                  CASE WHEN bool_or(withdrawn_at IS NULL) THEN 'granted' ELSE 'withdrawn' END
                      AS state
           FROM consent WHERE stallholder_id = any($1::bigint[]) AND purpose = $2
           GROUP BY stallholder_id""",
        holder_ids,
        purpose,
    )
    return {int(r["stallholder_id"]): str(r["state"]) for r in rows}


# ---------------------------------------------------------------- data-subject requests


@dataclass(frozen=True)
class DataRequestRow:
    id: int
    stallholder_id: int
    kind: str
    requested_by: str | None
    requested_at: datetime
    due_at: datetime
    completed_at: datetime | None
    stalls: list[dict[str, Any]]


# The person's stalls say who the request is about without naming them (id, code, market).
_REQUEST_SELECT = """
SELECT r.id, r.stallholder_id, r.kind, u.username AS requested_by, r.requested_at, r.due_at,
       r.completed_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'stall_code', s.stall_code,
                                                     'market_id', m.id, 'market_name', m.name)
                                  ORDER BY m.name_sort, m.name, s.stall_code)
                 FROM stall s JOIN market m ON m.id = s.market_id
                 WHERE s.holder_id = r.stallholder_id), '[]'::jsonb) AS stalls
FROM data_request r LEFT JOIN app_user u ON u.id = r.requested_by
"""


def _request_row(row: asyncpg.Record) -> DataRequestRow:
    values = dict(row)
    if isinstance(values["stalls"], str):
        values["stalls"] = json.loads(values["stalls"])
    return DataRequestRow(**values)


async def open_data_request(
    conn: asyncpg.Connection, *, holder_id: int, kind: str, requested_by: int, deadline_days: int
) -> int:
    """Log a request of a data subject; its deadline is requested_at + deadline_days."""
    return int(
        await conn.fetchval(
            """INSERT INTO data_request (stallholder_id, kind, requested_by, requested_at, due_at)
               SELECT $1, $2, $3, t.now, t.now + make_interval(days => $4)
               FROM (SELECT clock_timestamp() AS now) t
               RETURNING id""",
            holder_id,
            kind,
            requested_by,
            deadline_days,
        )
    )


async def complete_data_requests(conn: asyncpg.Connection, *, holder_id: int, kind: str) -> None:
    """Mark every open request of this kind for this person done."""
    await conn.execute(
        "UPDATE data_request SET completed_at = clock_timestamp() "
        "WHERE stallholder_id = $1 AND kind = $2 AND completed_at IS NULL",
        holder_id,
        kind,
    )


async def data_requests_of(conn: asyncpg.Connection, holder_id: int) -> list[DataRequestRow]:
    """Every request about one person."""
    rows = await conn.fetch(
        _REQUEST_SELECT + " WHERE r.stallholder_id = $1 ORDER BY r.id", holder_id
    )
    return [_request_row(r) for r in rows]


async def list_data_requests(
    conn: asyncpg.Connection, *, market_ids: list[int] | None, only_open: bool, limit: int
) -> list[DataRequestRow]:
    """Requests (open ones first by deadline), limited to people with stalls in these markets."""
    rows = await conn.fetch(
        _REQUEST_SELECT
        + """ WHERE (NOT $1 OR r.completed_at IS NULL)
               AND ($2::bigint[] IS NULL OR EXISTS (
                    SELECT 1 FROM stall s WHERE s.holder_id = r.stallholder_id
                      AND s.market_id = any($2::bigint[])))
             ORDER BY r.completed_at IS NOT NULL, r.due_at, r.id
             LIMIT $3""",
        only_open,
        market_ids,
        limit,
    )
    return [_request_row(r) for r in rows]


# ---------------------------------------------------------------- what a person may see about thems


@dataclass(frozen=True)
class AccessRow:
    actor: str | None
    route: str
    reason: str | None
    at: datetime


async def access_log_of(conn: asyncpg.Connection, holder_id: int) -> list[AccessRow]:
    """Who read this person's full record, when, through which route and why. A stall list's
    download was logged with the reason `export` before it had its own (`list_export`,
    coverage.queries.exports): its route tells it apart from the person's own data export, here
    once for every reader of the log (the API, the JSON export, the printed page)."""
    rows = await conn.fetch(
        """SELECT u.username AS actor, l.route,
                  CASE WHEN l.reason = 'export' AND l.route LIKE '/api/exports/%'
                       THEN 'list_export' ELSE l.reason END AS reason,
                  l.at
           FROM access_log l LEFT JOIN app_user u ON u.id = l.actor_id
           WHERE l.stallholder_id = $1 ORDER BY l.at, l.id""",
        holder_id,
    )
    return [AccessRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class AuditRow:
    id: int
    actor: str | None
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    at: datetime


_AUDIT_ABOUT = """
SELECT a.id, u.username AS actor, a.action, a.entity, a.entity_id, a.before, a.after, a.at
FROM audit_log a LEFT JOIN app_user u ON u.id = a.actor_id
WHERE (a.entity = 'stallholder' AND a.entity_id = $1::text)
   OR (a.entity = 'stall' AND a.entity_id = any($2::text[]))
   OR (a.entity = 'payment_account' AND a.entity_id = any($3::text[]))
ORDER BY a.id
"""


async def audit_about(
    conn: asyncpg.Connection, *, holder_id: int, stall_ids: list[int], account_ids: list[int]
) -> list[AuditRow]:
    """Audit entries about this person, their stalls and their payment accounts."""
    rows = await conn.fetch(
        _AUDIT_ABOUT,
        str(holder_id),
        [str(i) for i in stall_ids],
        [str(i) for i in account_ids],
    )
    return [AuditRow(**dict(r)) for r in rows]


async def rewrite_audit(conn: asyncpg.Connection, entries: list[tuple[int, Any, Any]]) -> None:
    """Replace before/after of audit entries (erasure scrubs the person's values)."""
    await conn.executemany("UPDATE audit_log SET before = $2, after = $3 WHERE id = $1", entries)


# ---------------------------------------------------------------- erasure


async def anonymise_holder(conn: asyncpg.Connection, holder_id: int) -> datetime:
    """Clear name, phone and CCCD traces; returns erased_at."""
    return await conn.fetchval(
        """UPDATE stallholder SET full_name = NULL, phone_e164 = NULL, cccd_hash = NULL,
                  cccd_last4 = NULL, erased_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE id = $1 RETURNING erased_at""",
        holder_id,
    )


async def scrub_accounts(conn: asyncpg.Connection, holder_id: int) -> int:
    """Deactivate the person's payment accounts and replace number and name; returns how many.

    The number becomes '~' + the row id in hex: printable, unique per stall, never a real number.
    The payment reference goes too (a MoMo wallet's MOMOW2W… id names the person's wallet).
    """
    return len(
        await conn.fetch(
            """UPDATE payment_account a SET account_number = '~' || to_hex(a.id),
                      account_name = NULL, bank_account_name = NULL, reference = NULL,
                      active = false
               FROM stall s WHERE s.id = a.stall_id AND s.holder_id = $1
               RETURNING a.id""",
            holder_id,
        )
    )


async def forget_printed_payloads(conn: asyncpg.Connection, account_ids: list[int]) -> None:
    """Printed-sign records and print jobs keep when and by whom; the payload (it holds the
    number) goes."""
    await conn.execute(
        "UPDATE sign_print SET payload = '[erased]' WHERE payment_account_id = any($1::bigint[])",
        account_ids,
    )
    await conn.execute(
        "UPDATE print_job_stall SET payload = '[erased]' "
        "WHERE payment_account_id = any($1::bigint[])",
        account_ids,
    )


async def forget_payment_details(
    conn: asyncpg.Connection,
    *,
    account_ids: list[int],
    stall_ids: list[int],
    account_numbers: list[str],
) -> None:
    """Payments received keep amount and time (coverage counts them); the account number and the
    free-text reference go. Unmatched payments that carry one of the numbers are included."""
    await conn.execute(
        """UPDATE payment_event SET account_number = NULL, reference = NULL
           WHERE payment_account_id = any($1::bigint[]) OR stall_id = any($2::bigint[])
              OR account_number = any($3::text[])""",
        account_ids,
        stall_ids,
        keys_of(conn).seal_all(account_numbers),
    )


@dataclass(frozen=True)
class PartnerEventRow:
    id: int
    payload: Any


async def partner_events_about(
    conn: asyncpg.Connection, *, account_ids: list[int], needles: list[str]
) -> list[PartnerEventRow]:
    """Partner messages about these accounts, or whose payload mentions one of the values."""
    rows = await conn.fetch(
        """SELECT id, payload FROM partner_event
           WHERE payment_account_id = any($1::bigint[])
              OR payload::text ILIKE any(SELECT '%' || n || '%' FROM unnest($2::text[]) AS n)
           ORDER BY id""",
        account_ids,
        needles,
    )
    return [PartnerEventRow(id=int(r["id"]), payload=r["payload"]) for r in rows]


async def rewrite_partner_events(conn: asyncpg.Connection, entries: list[tuple[int, Any]]) -> None:
    """Replace payloads (the fingerprint stays, so a re-delivered message is still a duplicate)."""
    await conn.executemany("UPDATE partner_event SET payload = $2 WHERE id = $1", entries)


async def forget_licences(conn: asyncpg.Connection, stall_ids: list[int]) -> None:
    """Clear these stalls' business licence numbers (the holder is erased: the number names them)."""
    await conn.execute(
        "UPDATE stall SET licence_no = NULL WHERE id = any($1::bigint[]) AND licence_no IS NOT NULL",
        stall_ids,
    )


async def set_search_text(conn: asyncpg.Connection, entries: list[tuple[int, str]]) -> None:
    """Rewrite stalls' search text and bump their version (tablets holding a copy must reload)."""
    await conn.executemany(
        "UPDATE stall SET search_text = $2, version = version + 1, updated_at = clock_timestamp() "
        "WHERE id = $1",
        entries,
    )
