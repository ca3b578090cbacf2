"""The database layer: migrations both ways, the embedded server, DATABASE_URL, the lifespan, health."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from core import db
from core.state import state_of
from main import create_app
from tests.conftest import TEST_KEYS, _admin, make_settings, stall_body, with_database


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_migrations_upgrade_downgrade_upgrade(server_url):
    name = f"choso_mig_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        await asyncio.to_thread(db.migrate, url)
        full = await _tables(url)
        assert {
            "market",
            "stall",
            "stallholder",
            "payment_account",
            "consent",
            "app_user",
            "audit_log",
            "idempotency_key",
            "admin_unit",
        } <= full
        await asyncio.to_thread(db.downgrade, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(db.migrate, url)
        assert await _tables(url) == full
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _register_one(app) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        form = {"username": "boss", "password": "boss-password-1"}
        token = (await c.post("/api/auth/token", data=form)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        market = await c.post("/api/markets", json={"name": "Chợ Nhúng"}, headers=headers)
        assert market.status_code == 201, market.text
        r = await c.post(
            f"/api/markets/{market.json()['id']}/stalls",
            json=stall_body(),
            headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


@pytest.mark.slow
async def test_embedded_database_starts_migrates_and_survives_restart(tmp_path):
    settings = make_settings(
        tmp_path, None, auto_migrate=True, admin_username="boss", admin_password="boss-password-1"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        stall_id = await _register_one(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert (tmp_path / "pg" / "PG_VERSION").exists()

    again = create_app(settings)
    async with again.router.lifespan_context(again):
        async with state_of(again).pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM stall WHERE id = $1", stall_id) == 1
            # The administrator is created once, not again on the second start.
            assert await conn.fetchval("SELECT count(*) FROM app_user WHERE username = 'boss'") == 1
    server = db._embedded.pop((tmp_path / "pg").resolve())
    server.cleanup()


async def test_database_url_is_honoured_and_no_embedded_server_starts(fresh_db, tmp_path):
    settings = make_settings(
        tmp_path,
        fresh_db,
        auto_migrate=True,
        admin_username="boss",
        admin_password="boss-password-1",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with state_of(app).pool.acquire() as conn:
            # The seeded template data is visible: we are on that server, in that database.
            assert (
                await conn.fetchval("SELECT count(*) FROM market WHERE name = 'Chợ Thử Một'") == 1
            )
            assert await conn.fetchval("SELECT current_database()") == urlsplit(
                fresh_db
            ).path.lstrip("/")
    assert not (tmp_path / "pg").exists()


async def test_healthz_is_503_when_the_database_is_gone(fresh_db, tmp_path):
    app = create_app(make_settings(tmp_path, fresh_db))
    state_of(app).pool = await db.create_pool(fresh_db, keys=TEST_KEYS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/healthz")).status_code == 200
        await state_of(app).pool.close()
        r = await c.get("/healthz")
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable"


async def test_a_request_that_waits_too_long_for_a_connection_is_503(
    fresh_db, tmp_path, monkeypatch
):
    """Every pooled connection busy past ACQUIRE_TIMEOUT_S: a retryable 503, and the connection
    that was awaited is not lost (the pool still hands it out afterwards)."""
    monkeypatch.setattr(db, "ACQUIRE_TIMEOUT_S", 0.2)
    app = create_app(make_settings(tmp_path, fresh_db))
    pool = state_of(app).pool = await db.create_pool(fresh_db, keys=TEST_KEYS, max_size=1)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            async with pool.acquire(), asyncio.timeout(5):
                r = await c.get("/api/markets")  # the connection is taken before anything else
            assert r.status_code == 503 and r.json()["code"] == "unavailable"
            assert (await c.get("/api/markets")).status_code == 401  # the pool's connection again
    finally:
        await pool.close()


def test_dead_server_users_are_forgotten(tmp_path):
    import json
    import os
    import subprocess
    import sys

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(finished.stdout)
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([dead, os.getpid()]))
    db._forget_dead_handles(tmp_path)
    assert json.loads(handles.read_text()) == [os.getpid()]


async def test_a_released_connection_costs_no_round_trip_and_keeps_no_session_state(session_db):
    """The pool gives a connection back without asyncpg's reset query, except one that took session
    state (a session advisory lock): that one is fully reset, so the lock cannot outlive its user."""
    from coverage.queries import job as job_q

    pool = await db.create_pool(session_db, keys=TEST_KEYS, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            assert conn.get_reset_query() == ""
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            assert await job_q.try_job_lock(conn)  # and, as if the job failed, never released
            assert "pg_advisory_unlock_all()" in conn.get_reset_query()
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend  # the same session
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", backend
            )
            assert held == 0
            assert conn.get_reset_query() == ""
            # A transaction left open is still rolled back by the pool (asyncpg's own part).
            await conn.execute("BEGIN; CREATE TABLE left_open (x int)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('left_open')") is None
    finally:
        await pool.close()


def test_default_pool_size_follows_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two connections per core and one more, at most 10; DB_POOL_MAX overrides it."""
    from core.settings import Settings, default_pool_max

    assert [default_pool_max(n) for n in (1, 2, 4, 8)] == [3, 5, 9, 10]
    monkeypatch.delenv("DB_POOL_MAX", raising=False)
    assert Settings(_env_file=None).db_pool_max == default_pool_max()
    monkeypatch.setenv("DB_POOL_MAX", "7")
    assert Settings(_env_file=None).db_pool_max == 7


def _check_domains() -> list:
    """Migration 0025's list of value rules moved from column CHECKs to domains."""
    import importlib.util
    from pathlib import Path

    versions = Path(__file__).resolve().parents[2] / "alembic" / "versions"
    path = next(versions.glob("*_0025_check_domains.py"))
    spec = importlib.util.spec_from_file_location("check_domains", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DOMAINS


BAD_VALUE = {"integer": "0", "text[]": "{cash}", "text": "x" * 101}


@pytest.mark.parametrize("domain", _check_domains(), ids=lambda d: d[0])
async def test_each_column_rule_still_refuses_what_its_check_refused(conn, domain):
    """Each rule a column CHECK held (migration 0025) holds as the column's domain: the column has
    that type, a value outside it is refused as a check violation (SQLSTATE 23514, nothing written,
    as before), NULL still passes."""
    name, base, _, columns = domain
    for table, column, _ in columns:
        assert (
            await conn.fetchval(
                "SELECT domain_name FROM information_schema.columns "
                "WHERE table_name = $1 AND column_name = $2",
                table,
                column,
            )
            == name
        )
    async with conn.transaction():
        assert await conn.fetchval(f"SELECT NULL::{name} IS NULL")
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            await conn.fetchval(f"SELECT $1::text::{base}::{name}", BAD_VALUE[base])


async def test_the_cccd_index_holds_only_people_who_gave_one_and_still_serves_lookups(conn):
    """Migration 0026: a registration without a CCCD (most of them) writes no entry in the CCCD
    hash index, and a lookup by hash still uses it."""
    indexdef = await conn.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'stallholder_cccd_hash_idx'"
    )
    assert indexdef.endswith("WHERE (cccd_hash IS NOT NULL)")
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) SELECT id FROM stallholder WHERE cccd_hash = $1", b"\x01"
        )
    assert "stallholder_cccd_hash_idx" in json.dumps(plan)
