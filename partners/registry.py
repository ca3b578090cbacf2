"""The partner registry as data: which partners exist, what they are, the credentials they need.

Every institution in the bank directory (qr/banks.py) is a partner; the wallets, the gateway and the
aggregator the city works with are added here. Migration 0003 seeds these rows; `seed_rows()` is the
single source so a later sync can add banks that join the directory.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

import asyncpg

from core import audit
from core.crypto import keys_of
from core.types import User
from partners import errors, schemas
from partners.queries import registry as registry_q
from qr import banks

audit.name_records(registry_q.AUDIT_NAMES)

log = logging.getLogger("choso.partners")

Kind = Literal["bank", "wallet", "gateway", "aggregator"]
Scheme = Literal["own", "momo", "vnpay", "zalopay", "payos", "none"]
KINDS: tuple[str, ...] = ("bank", "wallet", "gateway", "aggregator")
SCHEMES: tuple[str, ...] = ("own", "momo", "vnpay", "zalopay", "payos", "none")

# Credential fields per notification scheme. Any partner may also hold a `signing_secret`, which
# enables our own signed event API (POST /api/partners/{code}/events) next to its native scheme.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "momo": ("access_key", "secret_key"),
    "vnpay": ("hash_secret",),
    "zalopay": ("key2",),
    "payos": ("checksum_key",),
    "own": ("signing_secret",),
    "none": (),
}
OWN_FIELD = "signing_secret"

# Partners whose native notification endpoint has a fixed path (/api/partners/momo/ipn, ...).
NATIVE_PARTNER = {"momo": "MOMO", "vnpay": "VNPAY", "zalopay": "ZALOPAY", "payos": "PAYOS"}


@dataclass(frozen=True)
class SeedPartner:
    code: str
    name: str
    kind: str
    scheme: str
    bins: tuple[str, ...]


# Wallets, gateway and aggregator. A directory entry whose BIN is listed here is the same
# institution (the directory calls MoMo "momo" and Viettel Money "VTLMONEY"): merged, not
# duplicated.
# MoMo and ZaloPay wallets are also reached through Bản Việt (970454) accounts.
NAMED: tuple[SeedPartner, ...] = (
    SeedPartner("MOMO", "MoMo", "wallet", "momo", ("971025", "970454")),
    SeedPartner("ZALOPAY", "ZaloPay", "wallet", "zalopay", ("970454",)),
    SeedPartner("VNPAY", "VNPay", "gateway", "vnpay", ()),
    SeedPartner("VIETTELMONEY", "Viettel Money", "wallet", "none", ("971005",)),
    SeedPartner("VNPTMONEY", "VNPT Money", "wallet", "none", ("971011",)),
    SeedPartner("PAYOS", "payOS", "aggregator", "payos", ()),
)
_MERGED_BINS = frozenset({"971025", "971005", "971011"})
_NON_CODE = re.compile(r"[^A-Z0-9]+")


def partner_code(directory_code: str) -> str:
    """A directory code as a partner code: upper case, runs of other characters become '-'.

    'momo' -> 'MOMO', 'IBK - HN' -> 'IBK-HN', 'NHB HN' -> 'NHB-HN'.
    """
    return _NON_CODE.sub("-", directory_code.upper()).strip("-")


def seed_rows() -> list[SeedPartner]:
    """Every partner to seed: one per directory code (BINs grouped), then the named partners."""
    grouped: dict[str, list[banks.Bank]] = {}
    for bank in sorted(banks.all_banks(), key=lambda b: b.bin):
        if bank.bin in _MERGED_BINS:
            continue
        grouped.setdefault(partner_code(bank.code), []).append(bank)
    rows = [
        SeedPartner(
            code=code,
            name=members[0].short_name,
            kind="wallet" if members[0].kind == "e-wallet" else "bank",
            scheme="none",
            bins=tuple(b.bin for b in members),
        )
        for code, members in sorted(grouped.items())
    ]
    named = {p.code for p in NAMED}
    return [r for r in rows if r.code not in named] + list(NAMED)


def allowed_credentials(scheme: str) -> tuple[str, ...]:
    """The credential fields a partner with this scheme may hold (its native ones plus our own)."""
    native = () if scheme == "own" else CREDENTIAL_FIELDS.get(scheme, ())
    return (*native, OWN_FIELD)


async def list_partners(conn: asyncpg.Connection) -> list[schemas.Partner]:
    """Every partner (credentials are reported by field name only)."""
    return await registry_q.list_partners(conn)


def _as_seen_by(partner: schemas.Partner, user: User, own: str | None) -> schemas.Partner:
    """Which credentials are set and whether the signed API is on are an administrator's (and the
    partner's own) to see: null for anyone else, not an empty list that reads as "none"."""
    if user.role == "admin" or (own is not None and partner.code == own):
        return partner
    return partner.model_copy(update={"credentials_set": None, "own_api_enabled": None})


async def partners_for(conn: asyncpg.Connection, user: User) -> list[schemas.Partner]:
    """The partner directory as the caller may read it: a partner user reads its own entry only
    (as every other partner route answers it), and no one but administrators reads others'
    credential state."""
    own = await partner_of(conn, user)
    found = await registry_q.list_partners(conn)
    if user.role == "partner":
        found = [p for p in found if p.code == own]
    return [_as_seen_by(p, user, own) for p in found]


async def partner_for(conn: asyncpg.Connection, user: User, code: str) -> schemas.Partner:
    """One partner as the caller may read it, or partner_not_found (also for a partner user asking
    for another partner: the same answer as its accounts and stats give)."""
    own = await partner_of(conn, user)
    partner = await get_partner(conn, code)
    if user.role == "partner" and partner.code != own:
        raise errors.PartnerNotFound(f"No partner with code {code.upper()}.")
    return _as_seen_by(partner, user, own)


async def get_partner(conn: asyncpg.Connection, code: str) -> schemas.Partner:
    """One partner, or partner_not_found."""
    partner = await registry_q.get_partner(conn, code.upper())
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code.upper()}.")
    return partner


async def _locked(conn: asyncpg.Connection, code: str) -> schemas.Partner:
    """The partner, locked for the caller's transaction to change; partner_not_found."""
    partner = await registry_q.get_partner(conn, code, for_update=True)
    if partner is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    return partner


async def set_credentials(
    conn: asyncpg.Connection, *, user: User, code: str, values: dict[str, str]
) -> schemas.Partner:
    """Replace a partner's credentials; values stay server-side, never returned or logged."""
    code = code.upper()
    async with conn.transaction():
        partner = await _locked(conn, code)
        allowed = allowed_credentials(partner.scheme)
        for name in sorted(values):
            if name not in allowed:
                raise errors.UnknownCredential(
                    f"{code} uses the {partner.scheme} scheme; "
                    f"its credential fields are: {', '.join(allowed)}.",
                    field=name,
                )
        native = CREDENTIAL_FIELDS.get(partner.scheme, ()) if partner.scheme != "own" else ()
        given = [name for name in native if name in values]
        if given and len(given) != len(native):
            missing = [name for name in native if name not in values]
            raise errors.MissingCredential(
                f"The {partner.scheme} scheme needs {' and '.join(native)} together.",
                field=missing[0],
            )
        scheme = partner.scheme
        if scheme in ("none", "own"):
            scheme = "own" if OWN_FIELD in values else "none"
        await registry_q.set_credentials(conn, code=code, credentials=dict(values), scheme=scheme)
        await audit.record(
            conn,
            actor_id=user.id,
            action="set_credentials",
            entity="partner",
            entity_id=code,
            before={"credentials_set": partner.credentials_set, "scheme": partner.scheme},
            after={"credentials_set": sorted(values), "scheme": scheme},
        )
        after = await registry_q.get_partner(conn, code)
    assert after is not None
    return after


async def set_support_phone(
    conn: asyncpg.Connection, *, user: User, code: str, phone: str | None
) -> schemas.Partner:
    """Record the number a stallholder calls when a transfer goes wrong (None: none known)."""
    code = code.upper()
    async with conn.transaction():
        partner = await _locked(conn, code)
        if partner.support_phone == phone:
            return partner  # nothing changes: nothing written, no audit entry
        await registry_q.set_support_phone(conn, code=code, phone=phone)
        await audit.record(
            conn,
            actor_id=user.id,
            action="set_support",
            entity="partner",
            entity_id=code,
            before={"support_phone": partner.support_phone},
            after={"support_phone": phone},
        )
        after = await registry_q.get_partner(conn, code)
    assert after is not None
    return after


async def require_partners(
    conn: asyncpg.Connection, codes: list[str | None], *, field: str
) -> None:
    """422 unknown_partner unless every given code is in the"""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return
    missing = await registry_q.missing_partner_codes(conn, wanted)
    if missing:
        raise unknown_partner(missing, field=field)


def unknown_partner(missing: list[str], *, field: str) -> errors.UnknownPartner:
    """The 422 for codes that are not in the registry (names the first one)."""
    return errors.UnknownPartner(
        f"Unknown partner code {sorted(missing)[0]}; GET /api/partners lists the codes.",
        field=field,
    )


async def partner_of(conn: asyncpg.Connection, user: User) -> str | None:
    return await registry_q.user_partner_code(conn, user.id) if user.role == "partner" else None


async def seal_stored_credentials(conn: asyncpg.Connection) -> int:
    """Seal credentials stored before they were sealed (start-up); returns how many partners."""
    async with conn.transaction():
        found = await registry_q.credentials_in_clear(conn)
        await registry_q.store_sealed_credentials(
            conn,
            [
                (
                    code,
                    keys_of(conn).seal_credentials(
                        code, keys_of(conn).open_credentials(code, stored)
                    ),
                )
                for code, stored in found
            ],
        )
    if found:
        log.info("sealed the stored credentials of %d partners", len(found))
    return len(found)


async def sync_directory(conn: asyncpg.Connection) -> list[str]:
    """Banks and wallets that joined the bank directory (qr/data/banks.json) since the partner
    registry was seeded become partners, and partners get BINs the directory added (start-up)."""
    added = await registry_q.add_directory_partners(
        conn,
        [(p.code, p.name, p.kind, p.scheme, list(p.bins)) for p in seed_rows()],
    )
    if added:
        log.info("partners added from the bank directory: %s", ", ".join(added))
    return added


Stopped = registry_q.Stopped


def stopped_sql(account: str) -> str:
    """An SQL condition for other domains' queries: the payment account (an SQL alias) was stopped
    by its own bank or wallet (as stopped_accounts says)."""
    return registry_q.stopped_by_holder_sql(account)


async def stopped_accounts(conn: asyncpg.Connection, account_ids: list[int]) -> dict[int, Stopped]:
    """The accounts among these that their own bank or wallet stopped: id -> 'suspended' or
    'removed' (a stall's page marks them; its return visit says why, coverage.stalls)."""
    if not account_ids:
        return {}
    return await registry_q.stopped_by_holder(conn, account_ids)
