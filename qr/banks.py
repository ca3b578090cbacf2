"""The VietQR bank directory, keyed by 6-digit BIN, shipped as qr/data/banks.json."""

from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from importlib import resources

_D_STROKE = str.maketrans("đĐ", "dD")


@dataclass(frozen=True)
class Bank:
    """An institution that receives NAPAS VietQR transfers."""

    bin: str
    code: str
    short_name: str
    name: str
    kind: str  # "bank", "e-wallet" or "finance_company", as in the data file


# The names people know two wallets by, on their own apps and signs: the data file (a byte copy of
# the reference list, from vietqr.io) writes them as one word. Their codes stay searchable.
_KNOWN_AS = {"971005": "Viettel Money", "971011": "VNPT Money"}


@functools.cache
def _directory() -> dict[str, Bank]:
    text = resources.files("qr").joinpath("data/banks.json").read_text(encoding="utf-8")
    rows = json.loads(text)["banks"]
    return {
        row["bin"]: Bank(
            row["bin"],
            row["code"],
            _KNOWN_AS.get(row["bin"], row["short_name"]),
            row["name"],
            row["kind"],
        )
        for row in rows
    }


@functools.cache
def _sorted() -> tuple[Bank, ...]:
    return tuple(sorted(_directory().values(), key=lambda b: (b.short_name.casefold(), b.bin)))


def _fold(text: str) -> str:
    """Lowercase, strip diacritics (đ too) and collapse whitespace, for matching."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split()
    )


@functools.cache
def _index() -> tuple[tuple[Bank, str, str, str], ...]:
    return tuple((b, _fold(b.code), _fold(b.short_name), _fold(b.name)) for b in _sorted())


def get(bin: str) -> Bank | None:
    """The institution with this BIN, or None."""
    return _directory().get(bin)


def all_banks() -> list[Bank]:
    """Every institution, sorted by short name."""
    return list(_sorted())


def search(q: str) -> list[Bank]:
    """Banks by BIN prefix, code, short name or name, ignoring case and diacritics; best first."""
    needle = _fold(q)
    if not needle:
        return all_banks()
    hits: list[tuple[int, Bank]] = []
    for bank, code, short, name in _index():
        if needle in (bank.bin, code, short):
            hits.append((0, bank))
        elif bank.bin.startswith(needle) or code.startswith(needle) or short.startswith(needle):
            hits.append((1, bank))
        elif needle in code or needle in short or needle in name:
            hits.append((2, bank))
    return [bank for _, bank in sorted(hits, key=lambda hit: hit[0])]
