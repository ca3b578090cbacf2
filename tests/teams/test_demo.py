"""The demo data set gives the activity and team pages something to show: teams with members, a
volunteer who changed team, and weeks of field work attributed to them."""

from __future__ import annotations

from datetime import timedelta

from core import db
from ops import demo
from teams import activity
from tests.conftest import TEST_KEYS


async def test_demo_teams_and_their_work(fresh_db):
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        await conn.execute("DELETE FROM market")  # the demo loads into an empty database only
        assert await demo.load_if_empty(conn, window_days=30, stalls_per_market=2)
        teams = {
            r["name"]: r["members"]
            for r in await conn.fetch(
                "SELECT t.name, count(m.id) FILTER (WHERE m.left_at IS NULL) AS members "
                "FROM team t LEFT JOIN team_membership m ON m.team_id = t.id GROUP BY t.name"
            )
        }
        assert teams == {name: sum(1 for *_, left in members if left is None)
                         for name, _, _, _, members in demo.DEMO_TEAMS}  # fmt: skip
        moved = await conn.fetch(
            "SELECT t.name, m.left_at IS NULL AS current, "
            "round(extract(epoch FROM clock_timestamp() - m.joined_at) / 86400) AS joined "
            "FROM team_membership m JOIN team t ON t.id = m.team_id "
            "JOIN app_user u ON u.id = m.user_id WHERE u.username = 'tnv.hoa' ORDER BY m.joined_at"
        )
        assert [(r["name"][-4:], r["current"], int(r["joined"])) for r in moved] == [
            ("Hải Châu 2"[-4:], False, 40),
            ("Hải Châu 1"[-4:], True, 10),
        ]
        today = activity.today()
        rows = await activity.queries.activity(
            conn,
            activity.queries.ActivityFilter(
                today - timedelta(days=40), today, None, None, None, True
            ),
            "team",
        )
        by_team = {r["label"]: r for r in rows}
        for name, *_ in demo.DEMO_TEAMS:
            assert by_team[name]["registrations"] > 0, name
        this_week = await activity.queries.activity(
            conn,
            activity.queries.ActivityFilter(
                today - timedelta(days=6), today, None, None, None, True
            ),
            "user",
        )
        assert sum(r["registrations"] for r in this_week if r["label"] != "admin") > 0
    finally:
        await conn.close()
