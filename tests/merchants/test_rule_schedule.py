"""Rule versions with an effective day, and the preview of what a rule would change."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from coverage import counters, job
from coverage.levels import VN_TZ, local_day
from tests.merchants.test_coverage import market_cov, register


async def _today(conn):
    return local_day(await conn.fetchval("SELECT clock_timestamp()"))


async def _one_stall_with_a_sign(client, auth, markets) -> None:
    h = await auth("volunteer")
    stall = await register(client, h, markets["one"], "A-1")
    assert (await client.post(f"/api/stalls/{stall}/sign-delivered", headers=h)).status_code == 200


async def test_preview_lists_the_markets_that_would_change_and_writes_nothing(
    client, auth, markets, conn
):
    admin = await auth("admin")
    await _one_stall_with_a_sign(client, auth, markets)
    before_rule = (await client.get("/api/programme/rule", headers=admin)).json()
    history = await conn.fetchval("SELECT count(*) FROM market_status_history")
    audits = await conn.fetchval("SELECT count(*) FROM audit_log")
    body = {"thresholds": {"qr_issued": 1.0}}
    r = await client.post("/api/programme/rule/preview", json=body, headers=admin)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["thresholds"] == {"qr_issued": 1.0}
    assert [(c["market_id"], c["from"], c["to"]) for c in preview["changes"]] == [
        (markets["one"], "in_progress", "cashless")
    ]
    change = preview["changes"][0]
    assert change["name"] == "Chợ Thử Một" and change["active_stalls"] == 1
    assert change["levels"]["qr_issued"] == {"count": 1, "share": 1.0}
    # Nothing was written: same rule, same status, no history, no audit entry.
    assert (await client.get("/api/programme/rule", headers=admin)).json() == before_rule
    assert (await market_cov(client, admin, markets["one"]))["status"] == "in_progress"
    assert await conn.fetchval("SELECT count(*) FROM market_status_history") == history
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == audits
    # Saving the same body does what the preview said.
    r = await client.put("/api/programme/rule", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "in_force"
    assert (await market_cov(client, admin, markets["one"]))["status"] == "cashless"
    # A rule that changes nothing previews as nothing.
    r = await client.post("/api/programme/rule/preview", json=body, headers=admin)
    assert r.json()["changes"] == []
    # Only admins; a bad body is a 422 as for PUT.
    for who in ("manager", "volunteer", "viewer", "partner"):
        r = await client.post("/api/programme/rule/preview", json=body, headers=await auth(who))
        assert r.status_code == 403
    bad = await client.post(
        "/api/programme/rule/preview", json={"thresholds": {"qr_issued": 2}}, headers=admin
    )
    assert bad.status_code == 422


async def test_a_rule_for_a_later_day_waits_for_its_day(client, auth, markets, conn):
    admin = await auth("admin")
    await _one_stall_with_a_sign(client, auth, markets)
    tomorrow = await _today(conn) + timedelta(days=1)
    body = {"thresholds": {"qr_issued": 1.0}, "effective_from": tomorrow.isoformat()}
    r = await client.put("/api/programme/rule", json=body, headers=admin)
    assert r.status_code == 200, r.text
    scheduled = r.json()
    assert scheduled["state"] == "scheduled" and scheduled["applied_at"] is None
    # The day starts at midnight in Vietnam.
    starts = datetime.fromisoformat(scheduled["effective_from"].replace("Z", "+00:00"))
    assert starts == datetime.combine(tomorrow, time(0), tzinfo=VN_TZ)
    # Until then the old rule is in force and statuses stay.
    current = (await client.get("/api/programme/rule", headers=admin)).json()
    assert current["version"] == 1 and current["state"] == "in_force"
    assert (await market_cov(client, admin, markets["one"]))["status"] == "in_progress"
    # Field work is judged by the rule in force, not by the scheduled one: a second stall with its
    # sign would make the market cashless under version 2, not under version 1.
    h = await auth("volunteer")
    second = await register(client, h, markets["one"], "A-2")
    await client.post(f"/api/stalls/{second}/sign-delivered", headers=h)
    cov = await market_cov(client, admin, markets["one"])
    assert (cov["status"], cov["rule_version"]) == ("in_progress", 1)
    versions = (await client.get("/api/programme/rule/versions", headers=admin)).json()
    assert [(v["version"], v["state"]) for v in versions] == [(2, "scheduled"), (1, "in_force")]
    # The hourly job before the day: nothing changes.
    await job.reevaluate_all(conn, window_days=30)
    assert (await client.get("/api/programme/rule", headers=admin)).json()["version"] == 1
    # The day comes (moved here instead of waiting): the job applies it and every market follows.
    await conn.execute(
        "UPDATE programme_rule SET effective_from = clock_timestamp() - interval '1 minute' "
        "WHERE version = 2"
    )
    await job.reevaluate_all(conn, window_days=30)
    current = (await client.get("/api/programme/rule", headers=admin)).json()
    assert (current["version"], current["state"]) == (2, "in_force")
    assert current["applied_at"] is not None
    cov = await market_cov(client, admin, markets["one"])
    assert (cov["rule_version"], cov["thresholds"]) == (2, {"qr_issued": 1.0})
    assert cov["status"] == "cashless"
    history = (
        await client.get(f"/api/markets/{markets['one']}/status-history", headers=admin)
    ).json()
    assert (history[0]["status"], history[0]["reason"], history[0]["rule_version"]) == (
        "cashless",
        "rule_change",
        2,
    )
    actions = [
        r["action"]
        for r in await conn.fetch(
            "SELECT action FROM audit_log WHERE entity = 'programme_rule' ORDER BY id"
        )
    ]
    assert actions == ["schedule", "apply_scheduled"]
    # Applied once: the next run changes nothing.
    await job.reevaluate_all(conn, window_days=30)
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'apply_scheduled'") == 1
    )
    assert (await counters.recount(conn, window_days=30)).ok


async def test_a_scheduled_rule_is_corrected_by_another_for_the_same_day(
    client, auth, markets, conn
):
    admin = await auth("admin")
    day = (await _today(conn) + timedelta(days=3)).isoformat()
    for thresholds in ({"qr_issued": 0.1}, {"qr_issued": 0.7}):
        body = {"thresholds": thresholds, "effective_from": day}
        assert (
            await client.put("/api/programme/rule", json=body, headers=admin)
        ).status_code == 200
    await conn.execute(
        "UPDATE programme_rule SET effective_from = clock_timestamp() - interval '1 minute' "
        "WHERE applied_at IS NULL"
    )
    await job.reevaluate_all(conn, window_days=30)
    current = (await client.get("/api/programme/rule", headers=admin)).json()
    assert (current["version"], current["thresholds"]) == (3, {"qr_issued": 0.7})
    versions = (await client.get("/api/programme/rule/versions", headers=admin)).json()
    assert [(v["version"], v["state"]) for v in versions] == [
        (3, "in_force"),
        (2, "superseded"),
        (1, "superseded"),
    ]


async def test_today_applies_at_once_and_a_past_day_is_refused(client, auth, conn):
    admin = await auth("admin")
    today = await _today(conn)
    r = await client.put(
        "/api/programme/rule",
        json={"thresholds": {"qr_issued": 0.5}, "effective_from": today.isoformat()},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["state"] == "in_force"
    yesterday = (today - timedelta(days=1)).isoformat()
    for path, method in (("/api/programme/rule", "PUT"), ("/api/programme/rule/preview", "POST")):
        r = await client.request(
            method,
            path,
            json={"thresholds": {"qr_issued": 0.2}, "effective_from": yesterday},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["code"] == "effective_date_past", r.text
        assert r.json()["field"] == "effective_from"
    assert (await client.get("/api/programme/rule", headers=admin)).json()["version"] == 2


async def test_a_registration_counts_by_the_rule_in_force_not_a_scheduled_one(
    client, auth, markets, conn
):
    """A registration evaluates its market's status inside its own statement
    (coverage_rule_in_force(), migration 0014): a version waiting for its day is not in force.
    Under the scheduled rule below the market would turn cashless with the second stall."""
    admin = await auth("admin")
    await _one_stall_with_a_sign(client, auth, markets)
    tomorrow = await _today(conn) + timedelta(days=1)
    body = {"thresholds": {"qr_issued": 0.5}, "effective_from": tomorrow.isoformat()}
    r = await client.put("/api/programme/rule", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "scheduled", r.text
    before = await market_cov(client, admin, markets["one"])
    h = await auth("volunteer")
    await register(client, h, markets["one"], "A-2")  # no sign: 1 of 2 stalls has one
    cov = await market_cov(client, admin, markets["one"])
    assert (cov["status"], cov["rule_version"]) == (before["status"], 1)
    assert cov["status"] != "cashless"
    assert (await counters.recount(conn, window_days=30)).ok


async def test_the_preview_leaves_archived_markets_out(client, auth, markets):
    """An archived market is out of every list and rollup: a rule's preview neither counts it nor
    lists it among the markets that would change."""
    admin = await auth("admin")
    await _one_stall_with_a_sign(client, auth, markets)
    body = {"thresholds": {"qr_issued": 1.0}}
    before = (await client.post("/api/programme/rule/preview", json=body, headers=admin)).json()
    assert [c["market_id"] for c in before["changes"]] == [markets["one"]]
    r = await client.post(
        f"/api/markets/{markets['one']}/archive", json={"reason": "Giải tỏa"}, headers=admin
    )
    assert r.status_code == 200, r.text
    after = (await client.post("/api/programme/rule/preview", json=body, headers=admin)).json()
    assert after["markets"] == before["markets"] - 1 and after["changes"] == []


async def test_the_preview_counts_every_market_the_console_lists(client, auth, markets):
    """ "5 of 31 markets would change" must be of the markets the console counts (a new market
    without stalls included: it is evaluated too, and stays not started)."""
    admin = await auth("admin")
    r = await client.post(
        "/api/markets", json={"name": "Chợ Chưa Có Sạp", "ward_code": "20242"}, headers=admin
    )
    assert r.status_code == 201, r.text
    listed = (await client.get("/api/markets", headers=admin)).json()
    body = {"thresholds": {"qr_issued": 0.5}}
    preview = (await client.post("/api/programme/rule/preview", json=body, headers=admin)).json()
    assert preview["markets"] == len(listed)


async def test_a_day_more_than_two_years_ahead_is_refused_as_a_typo(client, auth, markets, conn):
    """A year typed wrong (2207 for 2027) would schedule a version that never comes."""
    admin = await auth("admin")
    today = await _today(conn)
    versions = (await client.get("/api/programme/rule/versions", headers=admin)).json()
    for day in (today.replace(year=today.year + 3), date(2999, 12, 31)):
        body = {"thresholds": {"qr_issued": 0.5}, "effective_from": day.isoformat()}
        r = await client.put("/api/programme/rule", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == "effective_date_too_far", r.text
        assert r.json()["field"] == "effective_from"
    assert (await client.get("/api/programme/rule/versions", headers=admin)).json() == versions
    in_two_years = today + timedelta(days=700)
    body = {"thresholds": {"qr_issued": 0.5}, "effective_from": in_two_years.isoformat()}
    r = await client.put("/api/programme/rule", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "scheduled", r.text


async def test_a_scheduled_version_is_withdrawn_before_its_day_and_never_applies(
    client, auth, markets, conn
):
    """A version saved for a later day by mistake is withdrawn: it stays in the history (who, when)
    and the job never applies it; withdrawing again changes nothing; an applied version, an
    unknown one and a non-admin are refused, and a refusal changes nothing."""
    admin = await auth("admin")
    await _one_stall_with_a_sign(client, auth, markets)
    day = (await _today(conn) + timedelta(days=2)).isoformat()
    body = {"thresholds": {"qr_issued": 1.0}, "effective_from": day}
    assert (await client.put("/api/programme/rule", json=body, headers=admin)).status_code == 200
    url = "/api/programme/rule/versions/2/withdraw"
    volunteer = await auth("volunteer")
    assert (await client.post(url, headers=volunteer)).status_code == 403
    r = await client.post(url, headers=admin)
    assert r.status_code == 200, r.text
    withdrawn = r.json()
    assert (withdrawn["version"], withdrawn["state"]) == (2, "withdrawn")
    assert withdrawn["withdrawn_by"] == "admin" and withdrawn["withdrawn_at"] is not None
    assert withdrawn["applied_at"] is None
    again = await client.post(url, headers=admin)
    assert again.status_code == 200 and again.json()["withdrawn_at"] == withdrawn["withdrawn_at"]
    # Its day comes: the job leaves it, the rule and the market's status stay.
    await conn.execute(
        "UPDATE programme_rule SET effective_from = clock_timestamp() - interval '1 minute' "
        "WHERE version = 2"
    )
    await job.reevaluate_all(conn, window_days=30)
    current = (await client.get("/api/programme/rule", headers=admin)).json()
    assert (current["version"], current["state"]) == (1, "in_force")
    cov = await market_cov(client, admin, markets["one"])
    assert (cov["status"], cov["rule_version"]) == ("in_progress", 1)
    versions = (await client.get("/api/programme/rule/versions", headers=admin)).json()
    assert [(v["version"], v["state"]) for v in versions] == [(2, "withdrawn"), (1, "in_force")]
    actions = [
        r["action"]
        for r in await conn.fetch(
            "SELECT action FROM audit_log WHERE entity = 'programme_rule' ORDER BY id"
        )
    ]
    assert actions == ["schedule", "withdraw"]
    # Refusals: applied (the one in force), unknown, out of range; nothing changes.
    r = await client.post("/api/programme/rule/versions/1/withdraw", headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "rule_version_applied")
    r = await client.post("/api/programme/rule/versions/99/withdraw", headers=admin)
    assert (r.status_code, r.json()["code"]) == (404, "rule_version_not_found")
    r = await client.post(f"/api/programme/rule/versions/{2**40}/withdraw", headers=admin)
    assert r.status_code == 422
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'withdraw'") == 1
    # A new version for the same day is scheduled as usual.
    assert (await client.put("/api/programme/rule", json=body, headers=admin)).json()["state"] == (
        "scheduled"
    )
