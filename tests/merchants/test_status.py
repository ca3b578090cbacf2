"""The programme rule (versioned data) and market status: not_started .. cashless, lapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coverage import counters, job, levels
from coverage.queries.counts import Counts
from tests.merchants.test_coverage import GOOD, market_cov, register


def test_status_rules():
    rule = {"qr_verified": 0.9, "transacting": 0.3}
    assert levels.evaluate_status(Counts(0), rule, None) == "not_started"
    assert levels.evaluate_status(Counts(10), rule, "not_started") == "not_started"
    assert levels.evaluate_status(Counts(10, 1), rule, "not_started") == "in_progress"
    # 9 of 10 meets 0.9 exactly; 3 of 10 meets 0.3 exactly (no floating-point surprises).
    assert levels.evaluate_status(Counts(10, 9, 9, 3), rule, "in_progress") == "cashless"
    assert levels.evaluate_status(Counts(10, 9, 9, 2), rule, "in_progress") == "in_progress"
    assert levels.evaluate_status(Counts(10, 9, 9, 2), rule, "cashless") == "lapsed"
    assert levels.evaluate_status(Counts(0), rule, "lapsed") == "lapsed"
    assert levels.evaluate_status(Counts(10, 10, 10, 10), rule, "lapsed") == "cashless"


async def test_rule_is_readable_and_admins_change_it(client, auth):
    r = await client.get("/api/programme/rule", headers=await auth("viewer"))
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert r.json()["thresholds"] == {"qr_verified": 0.9, "transacting": 0.3}
    body = {"thresholds": {"qr_issued": 0.5}}
    for who in ("manager", "volunteer", "viewer", "partner"):
        assert (
            await client.put("/api/programme/rule", json=body, headers=await auth(who))
        ).status_code == 403
    r = await client.put("/api/programme/rule", json=body, headers=await auth("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["thresholds"], r.json()["created_by"]) == (
        2,
        {"qr_issued": 0.5},
        "admin",
    )
    versions = (
        await client.get("/api/programme/rule/versions", headers=await auth("viewer"))
    ).json()
    assert [v["version"] for v in versions] == [2, 1]


async def test_rule_validation(client, auth):
    h = await auth("admin")
    for bad in (
        {"thresholds": {}},
        {"thresholds": {"qr_verified": 1.5}},
        {"thresholds": {"qr_verified": -0.1}},
        # 0 % is met by every market: the level is left out instead.
        {"thresholds": {"qr_verified": 0.0, "transacting": 0.3}},
        {"thresholds": {"registered": 0.5}},
        {"thresholds": {"happiness": 0.5}},
        {"thresholds": {"qr_verified": "lots"}},
        {"thresholds": {"qr_verified": 0.9}, "extra": 1},
        {},
    ):
        r = await client.put("/api/programme/rule", json=bad, headers=h)
        assert r.status_code == 422, bad
    assert (await client.get("/api/programme/rule", headers=h)).json()["version"] == 1


async def test_market_becomes_cashless_then_lapses_and_history_keeps_it(
    client, auth, markets, conn
):
    admin, h = await auth("admin"), await auth("volunteer")
    await client.put(
        "/api/programme/rule", json={"thresholds": {"qr_verified": 0.5}}, headers=admin
    )
    a = await register(client, h, markets["one"], "A-1")
    b = await register(client, h, markets["one"], "A-2")
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    assert (await market_cov(client, h, markets["one"]))["status"] == "in_progress"
    await client.post(f"/api/stalls/{a}/verify", json={"payload": GOOD}, headers=h)
    cov = await market_cov(client, h, markets["one"])
    assert cov["status"] == "cashless"
    assert cov["progress"] == [
        {
            "level": "qr_verified",
            "threshold": 0.5,
            "count": 1,
            "share": 0.5,
            "met": True,
            "stalls_needed": 0,
        }
    ]
    # Two new unverified stalls: 1 of 3 < 0.5.
    c = await register(client, h, markets["one"], "A-3")
    await register(client, h, markets["one"], "A-4")
    cov = await market_cov(client, h, markets["one"])
    assert cov["status"] == "lapsed"
    assert cov["progress"][0]["stalls_needed"] == 1
    # Two unverified stalls close: 1 of 2 meets 0.5 again.
    for stall_id in (b, c):
        await client.patch(
            f"/api/stalls/{stall_id}", json={"status": "closed"}, headers=h | {"If-Match": "1"}
        )
    assert (await market_cov(client, h, markets["one"]))["status"] == "cashless"
    history = (await client.get(f"/api/markets/{markets['one']}/status-history", headers=h)).json()
    assert [x["status"] for x in history] == ["cashless", "lapsed", "cashless", "in_progress"]
    assert [x["previous_status"] for x in history] == [
        "lapsed",
        "cashless",
        "in_progress",
        "not_started",
    ]
    assert {x["rule_version"] for x in history} == {2}
    assert {x["reason"] for x in history} == {"stall_change"}
    cashless = history[2]
    assert cashless["active_stalls"] == 2
    assert cashless["levels"]["qr_verified"] == {"count": 1, "share": 0.5}
    assert (await counters.recount(conn, window_days=30)).ok


async def test_rule_change_re_evaluates_every_market(client, auth, markets, conn):
    admin, h = await auth("admin"), await auth("volunteer")
    a = await register(client, h, markets["one"], "A-1")
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    assert (await market_cov(client, h, markets["one"]))["status"] == "in_progress"
    r = await client.put(
        "/api/programme/rule", json={"thresholds": {"qr_issued": 1.0}}, headers=admin
    )
    assert r.status_code == 200
    cov = await market_cov(client, h, markets["one"])
    assert (cov["status"], cov["rule_version"], cov["thresholds"]) == (
        "cashless",
        2,
        {"qr_issued": 1.0},
    )
    history = (await client.get(f"/api/markets/{markets['one']}/status-history", headers=h)).json()
    assert (history[0]["status"], history[0]["reason"], history[0]["rule_version"]) == (
        "cashless",
        "rule_change",
        2,
    )
    # Back to a stricter rule: lapsed, recorded under version 3.
    await client.put(
        "/api/programme/rule", json={"thresholds": {"transacting": 0.5}}, headers=admin
    )
    history = (await client.get(f"/api/markets/{markets['one']}/status-history", headers=h)).json()
    assert (history[0]["status"], history[0]["rule_version"]) == ("lapsed", 3)
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'programme_rule'") == 2
    )
    assert (await counters.recount(conn, window_days=30)).ok


async def test_daily_job_lapses_a_market_whose_payments_stopped(client, auth, markets, conn):
    admin, h = await auth("admin"), await auth("volunteer")
    await client.put(
        "/api/programme/rule", json={"thresholds": {"transacting": 0.5}}, headers=admin
    )
    a = await register(client, h, markets["one"], "A-1")
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    now = datetime.now(UTC)
    await counters.record_payment(conn, window_days=30, stall_id=a, occurred_at=now)
    assert (await market_cov(client, h, markets["one"]))["status"] == "cashless"
    later = now + timedelta(days=36)  # the job notices five days late (it was down)
    await job.reevaluate_all(conn, window_days=30, now=later)
    cov = await market_cov(client, h, markets["one"])
    assert cov["status"] == "lapsed"
    history = (await client.get(f"/api/markets/{markets['one']}/status-history", headers=h)).json()
    assert (history[0]["status"], history[0]["reason"]) == ("lapsed", "daily")
    # The market lapsed when its last payment left the 30-day window, not when the job noticed;
    # "lapsed since" and the history line say the same moment.
    left = now + timedelta(days=30)
    assert datetime.fromisoformat(history[0]["changed_at"]) == left
    assert datetime.fromisoformat(cov["status_since"]) == left


async def test_status_history_is_scoped(client, auth, markets):
    assert (
        await client.get(
            f"/api/markets/{markets['one']}/status-history", headers=await auth("volunteer2")
        )
    ).status_code == 404
    assert (
        await client.get(
            f"/api/markets/{markets['one']}/status-history", headers=await auth("viewer")
        )
    ).status_code == 200
    assert (
        await client.get("/api/markets/99999999/status-history", headers=await auth("admin"))
    ).status_code == 404


async def test_the_app_runs_the_daily_job_at_start_up(live):
    import asyncio

    task = asyncio.create_task(job.run_periodically(live.pool, interval_s=3600, window_days=30))
    try:
        for _ in range(200):
            async with live.pool.acquire() as c:
                if await c.fetchval("SELECT count(*) FROM coverage_snapshot") == 2:
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no snapshots were written")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
