"""The partner registry as data: which partners exist, what they are, the credentials they need.

Every institution in the bank directory (qr/banks.py) is a partner; the wallets, the gateway and the
aggregator the city works with are added here. Migration 0003 seeds these rows; `seed_rows()` is the
single source so a later sync can add banks that join the directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qr import banks

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
