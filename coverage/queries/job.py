"""SQL of the periodic re-evaluation job: its lock across workers, and the database's clock."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from core import db

# Only one worker of all instances runs the periodic re-evaluation at a time.
_JOB_LOCK = 727_000_007


async def db_now(conn: asyncpg.Connection) -> datetime:
    """The database's clock (every worker agrees on it)."""
    return await conn.fetchval("SELECT clock_timestamp()")


async def try_job_lock(conn: asyncpg.Connection) -> bool:
    """Take the re-evaluation lock for this session, if no one holds it."""
    db.hold_session_state(conn)  # released explicitly; the pool's full reset if that fails
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _JOB_LOCK))


async def release_job_lock(conn: asyncpg.Connection) -> None:
    """Release the re-evaluation lock."""
    await conn.execute("SELECT pg_advisory_unlock($1)", _JOB_LOCK)
