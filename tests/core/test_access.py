"""core.access: the scope rule asked of one market agrees with the markets a scope lists."""

from __future__ import annotations

from core import access, queries


async def test_works_in_market_agrees_with_the_scope_facts(conn):
    """works_in_market_sql (used by other domains' queries, e.g. whom a return visit can be asked
    of) must say the same as scope_facts, market by market, for scopes by market, ward and
    province."""
    province = await conn.fetchval("SELECT province_code FROM market ORDER BY id LIMIT 1")
    await conn.execute(
        "INSERT INTO app_user (username, password_hash, role) VALUES ('tinh', 'x', 'manager')"
    )
    await conn.execute(
        "INSERT INTO user_province (user_id, province_code) "
        "SELECT id, $1 FROM app_user WHERE username = 'tinh'",
        province,
    )
    users = await conn.fetch("SELECT id, username FROM app_user ORDER BY id")
    markets = [r["id"] for r in await conn.fetch("SELECT id FROM market ORDER BY id")]
    kinds = set()
    for user in users:
        facts = await queries.scope_facts(conn, user["id"])
        covered = await conn.fetch(
            "SELECT mk.id FROM market mk WHERE "
            + access.works_in_market_sql("$1::bigint", "mk")
            + " ORDER BY mk.id",
            user["id"],
        )
        assert [r["id"] for r in covered] == sorted(facts.market_ids), user["username"]
        kinds.add(bool(facts.market_ids))
    assert kinds == {True, False}  # some users have markets, some none
    assert await conn.fetchval("SELECT count(*) FROM user_ward") > 0  # a ward scope was compared
    assert markets
