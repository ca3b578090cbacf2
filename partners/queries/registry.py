"""The partner registry: partners, their BINs and (sealed) credentials, partner users."""

from __future__ import annotations

from typing import Literal, cast

import asyncpg

from core.crypto import keys_of
from partners import schemas

_PARTNER = """
SELECT code, name, kind, scheme, bins, support_phone,
       ARRAY(SELECT jsonb_object_keys(credentials) ORDER BY 1) AS credentials_set,
       credentials ? 'signing_secret' AS own_api_enabled,
       created_at, updated_at
FROM partner
"""


async def list_partners(conn: asyncpg.Connection) -> list[schemas.Partner]:
    """Every partner by code (credential names only)."""
    rows = await conn.fetch(_PARTNER + " ORDER BY code")
    return [schemas.Partner(**dict(r)) for r in rows]


async def get_partner(
    conn: asyncpg.Connection, code: str, *, for_update: bool = False
) -> schemas.Partner | None:
    """One partner (credential names only)."""
    row = await conn.fetchrow(
        _PARTNER + " WHERE code = $1" + (" FOR UPDATE" if for_update else ""), code
    )
    return schemas.Partner(**dict(row)) if row else None


async def partner_credentials(conn: asyncpg.Connection, code: str) -> dict[str, str] | None:
    """A partner's stored credentials (server-side use only); None for an unknown partner."""
    value = await conn.fetchval("SELECT credentials FROM partner WHERE code = $1", code)
    return keys_of(conn).open_credentials(code, value) if value is not None else None


async def add_directory_partners(
    conn: asyncpg.Connection, rows: list[tuple[str, str, str, str, list[str]]]
) -> list[str]:
    """Insert (code, name, kind, scheme, bins) partners that do not exist yet, and give existing
    ones the BINs they lack; returns the codes added."""
    added = await conn.fetch(
        """WITH new AS (
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                   AS n (code, name, kind, scheme)
           ), added AS (
               INSERT INTO partner (code, name, kind, scheme, bins)
               SELECT n.code, n.name, n.kind, n.scheme,
                      string_to_array(b.bins, ',')
               FROM new n JOIN unnest($1::text[], $5::text[]) AS b (code, bins) USING (code)
               ON CONFLICT (code) DO NOTHING
               RETURNING code
           ), widened AS (
               UPDATE partner p SET bins = ARRAY(SELECT DISTINCT x FROM unnest(
                          p.bins || string_to_array(b.bins, ',')) AS x ORDER BY 1),
                      updated_at = clock_timestamp()
               FROM unnest($1::text[], $5::text[]) AS b (code, bins)
               WHERE p.code = b.code AND NOT string_to_array(b.bins, ',') <@ p.bins
               RETURNING p.code
           )
           SELECT code FROM added ORDER BY code""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [",".join(r[4]) for r in rows],
    )
    return [r["code"] for r in added]


async def credentials_in_clear(conn: asyncpg.Connection) -> list[tuple[str, dict[str, str]]]:
    """(code, credentials) of partners with a credential stored before sealing (no `g1:`)."""
    rows = await conn.fetch(
        """SELECT code, credentials FROM partner
           WHERE EXISTS (SELECT 1 FROM jsonb_each_text(credentials) AS c (name, value)
                         WHERE c.value !~ '^g1:')
           ORDER BY code FOR UPDATE"""
    )
    return [(r["code"], dict(r["credentials"])) for r in rows]


async def store_sealed_credentials(
    conn: asyncpg.Connection, rows: list[tuple[str, dict[str, str]]]
) -> None:
    """Write credentials already in their stored (sealed) form."""
    await conn.executemany("UPDATE partner SET credentials = $2 WHERE code = $1", rows)


async def set_credentials(
    conn: asyncpg.Connection, *, code: str, credentials: dict[str, str], scheme: str
) -> None:
    """Replace a partner's credentials (and scheme)."""
    await conn.execute(
        "UPDATE partner SET credentials = $2, scheme = $3, updated_at = clock_timestamp() "
        "WHERE code = $1",
        code,
        keys_of(conn).seal_credentials(code, credentials),
        scheme,
    )


async def set_support_phone(conn: asyncpg.Connection, *, code: str, phone: str | None) -> None:
    """Record a partner's support number (None: none known)."""
    await conn.execute(
        "UPDATE partner SET support_phone = $2, updated_at = clock_timestamp() WHERE code = $1",
        code,
        phone,
    )


async def holds_account(conn: asyncpg.Connection, *, partner_code: str, account_id: int) -> bool:
    """Whether the partner holds the payment account: it is the account's bank or wallet (the
    account's BIN is one of the partner's), not a gateway that only serves it."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM payment_account a JOIN partner p ON a.bin = any(p.bins)
                              WHERE a.id = $1 AND p.code = $2)""",
            account_id,
            partner_code,
        )
    )


def _stopped_onboardings(account: str) -> str:
    """FROM ... WHERE of the onboardings that stop the payment account (an SQL alias of
    payment_account): its own bank or wallet (the partner whose bins hold the account's bin)
    suspended or removed it; a gateway's onboarding ending does not."""
    return f"""onboarding o
               JOIN partner p ON p.code = o.partner_code AND {account}.bin = any(p.bins)
               WHERE o.payment_account_id = {account}.id AND o.status IN ('suspended', 'removed')"""


def stopped_by_holder_sql(account: str) -> str:
    """An SQL condition: the payment account (an SQL alias of payment_account) was suspended or
    removed by its own bank or wallet (stopped_by_holder's rule)."""
    return f"EXISTS (SELECT 1 FROM {_stopped_onboardings(account)})"


Stopped = Literal["suspended", "removed"]


async def stopped_by_holder(conn: asyncpg.Connection, account_ids: list[int]) -> dict[int, Stopped]:
    """Of these payment accounts, those their own bank or wallet (holds_account) suspended or
    removed: account id -> 'suspended' | 'removed' (a gateway's onboarding ending is not here)."""
    rows = await conn.fetch(
        f"""SELECT a.id, s.status FROM payment_account a
            CROSS JOIN LATERAL (SELECT o.status FROM {_stopped_onboardings("a")}) s
            WHERE a.id = any($1::bigint[])
            ORDER BY a.id, s.status = 'removed' DESC""",
        account_ids,
    )
    stopped: dict[int, Stopped] = {}
    for r in rows:
        stopped.setdefault(r["id"], cast(Stopped, r["status"]))  # removed before suspended
    return stopped


async def missing_partner_codes(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """Which of these partner codes are not in the registry."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) x "
        "WHERE NOT EXISTS (SELECT 1 FROM partner WHERE code = x)",
        codes,
    )
    return [str(r["x"]) for r in rows]


async def user_partner_code(conn: asyncpg.Connection, user_id: int) -> str | None:
    """The partner a (partner) user belongs to, upper-cased."""
    value = await conn.fetchval("SELECT upper(partner_code) FROM app_user WHERE id = $1", user_id)
    return str(value) if value else None


# How the audit log names this package's records (core.audit.name_records): an onboarding by its
# partner and stall, a service point by its name and market.
AUDIT_NAMES = {
    "onboarding": "(SELECT p.name || ' · ' || s.stall_code || ' · ' || m.name FROM onboarding o"
    " JOIN partner p ON p.code = o.partner_code"
    " JOIN payment_account pa ON pa.id = o.payment_account_id JOIN stall s ON s.id = pa.stall_id"
    " JOIN market m ON m.id = s.market_id WHERE o.id = {id})",
    "service_point": "(SELECT sp.name || ' · ' || m.name FROM service_point sp"
    " JOIN market m ON m.id = sp.market_id WHERE sp.id = {id})",
}
