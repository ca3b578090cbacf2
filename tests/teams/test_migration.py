"""Migration 0010 (teams) downgrades with teams in place: direct scopes stay, team scopes go."""

from __future__ import annotations

import asyncio

from core import db
from tests.conftest import TEST_KEYS


async def _scope_rows(url: str) -> set[tuple[str, str]]:
    conn = await db.connect(url, keys=TEST_KEYS)
    try:
        rows = await conn.fetch(
            "SELECT u.username, m.name FROM user_market x JOIN app_user u ON u.id = x.user_id "
            "JOIN market m ON m.id = x.market_id"
        )
        return {(r["username"], r["name"]) for r in rows}
    finally:
        await conn.close()


async def test_downgrade_keeps_direct_scopes_and_upgrade_brings_teams_back(fresh_db):
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        team = await conn.fetchval(
            "INSERT INTO team (name, ward_code) VALUES ('Tổ Một', '20242') RETURNING id"
        )
        for statement in (
            """INSERT INTO team_membership (team_id, user_id)
               SELECT $1, id FROM app_user WHERE username IN ('volunteer', 'volunteer2')""",
            "INSERT INTO team_market (team_id, market_id) SELECT $1, id FROM market",
            """INSERT INTO user_market (user_id, market_id, team_id)
               SELECT m.user_id, t.market_id, $1
               FROM team_membership m JOIN team_market t ON t.team_id = m.team_id""",
        ):
            await conn.execute(statement, team)
    finally:
        await conn.close()
    with_teams = await _scope_rows(fresh_db)
    assert ("volunteer", "Chợ Thử Hai") in with_teams

    await asyncio.to_thread(db.downgrade, fresh_db, "0012")
    assert await _scope_rows(fresh_db) == {
        ("volunteer", "Chợ Thử Một"),
        ("volunteer2", "Chợ Thử Hai"),
    }
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        assert not await conn.fetchval("SELECT to_regclass('team') IS NOT NULL")
        assert await conn.fetchval(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'user_market_pkey'"
        )
        assert not await conn.fetchval("SELECT to_regclass('audit_log_at_idx') IS NOT NULL")
    finally:
        await conn.close()

    await asyncio.to_thread(db.migrate, fresh_db)
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        assert await conn.fetchval("SELECT count(*) FROM team") == 0
        assert await conn.fetchval("SELECT to_regclass('audit_log_at_idx') IS NOT NULL")
    finally:
        await conn.close()
