"""The demo data tells one consistent story: a market's "since" date, its status history and its
trend chart say the same thing (the story's days, not the moment the demo was loaded)."""

from __future__ import annotations

from datetime import timedelta

from core import db
from coverage.levels import local_day
from coverage.queries import reads
from ops import demo
from tests.conftest import TEST_KEYS


async def test_status_since_history_and_chart_agree_in_the_demo(fresh_db):
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        await conn.execute("DELETE FROM market")  # the demo loads into an empty database
        assert await demo.load_if_empty(conn, window_days=30, stalls_per_market=8)
        # Every demo user has the name people see (the console asks for one when editing).
        named = dict(
            await conn.fetch(
                "SELECT username, display_name FROM app_user WHERE username = any($1::text[])",
                list(demo.DEMO_NAMES),
            )
        )
        assert named == demo.DEMO_NAMES
        # The demo's partner account works for its partner (its page, /partner, needs one).
        assert (
            await conn.fetchval(
                "SELECT partner_code FROM app_user WHERE username = 'doitac' AND role = 'partner'"
            )
            == demo.DEMO_PARTNER
        )
        # One market records licence numbers (users_want #6), and only its stalls have one.
        asking = await conn.fetch("SELECT name FROM market WHERE asks_licence")
        assert [r["name"] for r in asking] == [demo._LICENCE_MARKET]
        licensed = await conn.fetch(
            "SELECT DISTINCT m.name FROM stall s JOIN market m ON m.id = s.market_id "
            "WHERE s.licence_no IS NOT NULL"
        )
        assert [r["name"] for r in licensed] == [demo._LICENCE_MARKET]
        loaded = await conn.fetchval("SELECT clock_timestamp()")
        # The rule the statuses name was in force before the story's first status change.
        rule_from = await conn.fetchval("SELECT applied_at FROM programme_rule WHERE version = 1")
        first_change = await conn.fetchval("SELECT min(changed_at) FROM market_status_history")
        assert rule_from < first_change
        today = local_day(loaded)
        checked = 0
        for market_id in [r[0] for r in await conn.fetch("SELECT id FROM market ORDER BY id")]:
            counters = await reads.market_counters(conn, market_id)
            assert counters is not None
            history = await reads.status_history(conn, market_id, 1)
            if not history:
                assert counters.status == "not_started"
                continue
            latest = history[0]
            # "Cashless since" is when the status history says the status began ...
            assert latest.status == counters.status
            assert latest.changed_at == counters.status_since
            assert counters.status_since < loaded - timedelta(hours=12), "not the load time"
            # ... and the chart shows that status from that day on, and another the day before.
            since = local_day(counters.status_since)
            series = {
                p.day: p.status
                for p in await reads.snapshot_series(
                    conn, [market_id], since - timedelta(days=1), today - timedelta(days=1)
                )
            }
            assert all(series[d] == counters.status for d in series if d >= since), series
            if latest.previous_status is not None and since - timedelta(days=1) in series:
                assert series[since - timedelta(days=1)] != counters.status
            checked += 1
        assert checked >= 10  # most demo markets have a history to check
        # Volunteers' visits to stalls still without an account, with days agreed to come back.
        visits = await conn.fetch(
            "SELECT v.outcome, v.come_back_on, v.visited_at, "
            "       (SELECT count(*) FROM payment_account a WHERE a.stall_id = v.stall_id) AS n "
            "FROM stall_visit v"
        )
        assert len(visits) >= 6 and {v["n"] for v in visits} == {0}
        assert any(v["come_back_on"] for v in visits)
        assert all(v["visited_at"] <= loaded for v in visits)
        # How stallholders see money arrive, asked when signs were handed over (most, not all):
        # each answer an edit of the stall in its history, dated in the story.
        answers = await conn.fetch(
            "SELECT s.confirm_by, c.sign_delivered_at FROM stall s "
            "JOIN stall_coverage c ON c.stall_id = s.id WHERE c.sign_delivered_at IS NOT NULL"
        )
        asked = [a["confirm_by"] for a in answers if a["confirm_by"] is not None]
        assert 0.7 * len(answers) <= len(asked) < len(answers)
        assert [] in asked and ["bank_app"] in asked
        edits = await conn.fetch(
            "SELECT at FROM audit_log WHERE action = 'update' AND after ? 'confirm_by' "
            "AND before -> 'confirm_by' = 'null'::jsonb AND after -> 'confirm_by' <> 'null'::jsonb"
        )
        assert len(edits) == len(asked) and all(e["at"] < loaded for e in edits)
        # Each answer was given when its sign was handed over (the same moment in the story).
        assert not await conn.fetchval(
            "SELECT count(*) FROM audit_log u JOIN audit_log d ON d.entity_id = u.entity_id "
            "AND d.action = 'sign_delivered' WHERE u.action = 'update' AND u.at <> d.at "
            "AND u.before -> 'confirm_by' = 'null'::jsonb "
            "AND u.after -> 'confirm_by' <> 'null'::jsonb"
        )
        assert not await conn.fetchval(
            "SELECT count(*) FROM stall WHERE confirm_by IS NOT NULL AND id NOT IN "
            "(SELECT stall_id FROM stall_coverage WHERE sign_delivered_at IS NOT NULL)"
        )
        # Signs were printed before they were handed over (the activity page counts both).
        printed, delivered = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE action = 'print_confirmed'), "
            "       count(*) FILTER (WHERE action = 'sign_delivered') FROM audit_log"
        )
        assert delivered and printed == delivered
        # A stall's page, its history and the exports tell one time for each of its steps (the
        # coverage times were the step's moment, the history's the action's), in their order.
        disagree = await conn.fetch(
            """SELECT c.stall_id, c.sign_delivered_at, c.verified_at,
                      (SELECT max(at) FROM audit_log a WHERE a.entity = 'stall'
                          AND a.entity_id = c.stall_id::text AND a.action = 'sign_delivered')
                          AS delivered,
                      (SELECT max(at) FROM audit_log a WHERE a.entity = 'stall'
                          AND a.entity_id = c.stall_id::text AND a.action = 'verify') AS checked,
                      (SELECT max(printed_at) FROM sign_print p WHERE p.stall_id = c.stall_id)
                          AS printed
               FROM stall_coverage c WHERE c.sign_delivered_at IS NOT NULL"""
        )
        assert disagree
        for r in disagree:
            assert r["sign_delivered_at"] == r["delivered"], dict(r)
            assert r["printed"] is None or r["printed"] <= r["sign_delivered_at"], dict(r)
            if r["verified_at"] is not None and r["checked"] is not None:
                assert r["verified_at"] == r["checked"], dict(r)
                assert r["sign_delivered_at"] <= r["verified_at"], dict(r)
        # The payments partners reported (each paid stall's takings) end where the coverage
        # counters say its last payment was: the same story on the stall's page and the map.
        paid = await conn.fetch(
            "SELECT c.stall_id, c.last_payment_at, max(e.occurred_at) AS last_reported, "
            "       count(e.id) AS reported "
            "FROM stall_coverage c LEFT JOIN payment_event e ON e.stall_id = c.stall_id "
            "WHERE c.last_payment_at IS NOT NULL GROUP BY 1, 2"
        )
        reported = [p for p in paid if p["reported"]]
        assert len(reported) >= 0.8 * len(paid) and sum(p["reported"] for p in paid) > len(paid)
        assert all(p["last_reported"] == p["last_payment_at"] for p in reported)
        # A stall counted as receiving payments now, with a partner that reports them, was paid in
        # the last day or so: its week on the stall page is not a row of zeros.
        stale = await conn.fetchval(
            "SELECT count(*) FROM stall_coverage c WHERE counted_transacting "
            "AND last_payment_at < $1 "
            "AND EXISTS (SELECT 1 FROM payment_event e WHERE e.stall_id = c.stall_id)",
            loaded - timedelta(hours=31),
        )
        assert stale == 0
        assert not await conn.fetchval(
            "SELECT count(*) FROM payment_event e JOIN stall_coverage c USING (stall_id) "
            "WHERE c.last_payment_at IS NULL OR e.amount % 1000 <> 0 OR NOT e.matched"
        )
        # No stall without a payment account receives payments (a manager saw stalls that never
        # had an account counted as "Đang giao dịch"), and the traders who took their codes down
        # had their accounts stopped as a volunteer stops one: with a reason, in the stall's log.
        assert not await conn.fetchval(
            "SELECT count(*) FROM stall_coverage c WHERE c.last_payment_at IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM payment_account a WHERE a.stall_id = c.stall_id)"
        )
        stopped = await conn.fetchval(
            "SELECT count(*) FROM payment_account a WHERE NOT a.active AND NOT EXISTS ("
            "SELECT 1 FROM audit_log l WHERE l.action = 'deactivate_payment_account' "
            "AND l.entity = 'stall' AND l.entity_id = a.stall_id::text)"
        )
        assert stopped == 0
    finally:
        await conn.close()
