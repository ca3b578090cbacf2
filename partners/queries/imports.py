"""Partner report imports: one row per file, claimed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class ImportRecord:
    id: int
    created_at: datetime


async def import_by_sha(
    conn: asyncpg.Connection, *, partner_code: str, sha256: bytes
) -> ImportRecord | None:
    """An earlier import of the same file for this partner."""
    row = await conn.fetchrow(
        "SELECT id, created_at FROM partner_import WHERE partner_code = $1 AND sha256 = $2",
        partner_code,
        sha256,
    )
    return ImportRecord(**dict(row)) if row else None


async def claim_import(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    sha256: bytes,
    filename: str | None,
    created_by: int,
) -> int | None:
    """Record an import of a file; None when this file was already imported for the partner."""
    value = await conn.fetchval(
        """INSERT INTO partner_import (partner_code, sha256, filename, created_by)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT ON CONSTRAINT partner_import_partner_sha256_key DO NOTHING RETURNING id""",
        partner_code,
        sha256,
        filename,
        created_by,
    )
    return int(value) if value is not None else None


async def finish_import(
    conn: asyncpg.Connection, *, import_id: int, summary: dict[str, Any]
) -> None:
    """Store what an import did."""
    await conn.execute("UPDATE partner_import SET summary = $2 WHERE id = $1", import_id, summary)
