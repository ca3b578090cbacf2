"""Teams through the API: members' scope follows the team's markets, history is kept, who manages."""

from __future__ import annotations

import uuid

from tests.conftest import make_token, stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def new_user(conn, username: str, role: str = "volunteer") -> tuple[int, dict[str, str]]:
    """A user with no scope of their own, and headers signed in as them."""
    user_id = await conn.fetchval(
        "INSERT INTO app_user (username, password_hash, role) VALUES ($1, 'x', $2) RETURNING id",
        username,
        role,
    )
    return int(user_id), {"Authorization": f"Bearer {await make_token(conn, username)}"}


async def user_id(conn, username: str) -> int:
    return int(await conn.fetchval("SELECT id FROM app_user WHERE username = $1", username))


async def visible_markets(client, headers) -> set[int]:
    r = await client.get("/api/markets", headers=headers)
    assert r.status_code == 200, r.text
    return {m["id"] for m in r.json()}


async def test_a_member_works_in_the_teams_markets_and_loses_them_on_leaving(
    client, conn, auth, markets
):
    admin = await auth("admin")
    lan, lan_h = await new_user(conn, "lan")
    assert await visible_markets(client, lan_h) == set()
    r = await client.post(
        "/api/teams",
        json={
            "name": "Tổ Công nghệ số cộng đồng Ngũ Hành Sơn 1",
            "ward_code": "20285",
            "leader_id": lan,
            "member_ids": [lan],
            "market_ids": [markets["two"]],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["ward_name"] == "Phường Ngũ Hành Sơn"
    assert [(m["id"], m["is_leader"]) for m in team["members"]] == [(lan, True)]
    assert [m["id"] for m in team["markets"]] == [markets["two"]]
    # The menu calls them the team's leader; their role stays volunteer.
    me = (await client.get("/api/users/me", headers=lan_h)).json()
    assert (me["role"], me["leads_team"]) == ("volunteer", True)

    # A member: the team's market is theirs to work in.
    assert await visible_markets(client, lan_h) == {markets["two"]}
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls", json=stall_body("T-1"), headers=lan_h | key()
    )
    assert r.status_code == 201, r.text

    # The team gets a second market: so does its member; giving up the first takes it away.
    r = await client.patch(
        f"/api/teams/{team['id']}", json={"market_ids": [markets["one"]]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert await visible_markets(client, lan_h) == {markets["one"]}

    # Leaving the team (the leader with it): no market any more, the membership is history.
    r = await client.patch(f"/api/teams/{team['id']}", json={"member_ids": []}, headers=admin)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["members"] == [] and after["leader_id"] is None
    assert (await client.get("/api/users/me", headers=lan_h)).json()["leads_team"] is False
    [past] = after["past_members"]
    assert past["id"] == lan and past["left_at"] >= past["joined_at"]
    assert await visible_markets(client, lan_h) == set()
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body("T-2"), headers=lan_h | key()
    )
    assert r.status_code == 403

    # Joining again opens a second membership; the first stays in the history.
    r = await client.patch(f"/api/teams/{team['id']}", json={"member_ids": [lan]}, headers=admin)
    assert r.status_code == 200
    assert len(r.json()["past_members"]) == 1 and len(r.json()["members"]) == 1
    rows = await conn.fetch(
        "SELECT left_at FROM team_membership WHERE user_id = $1 ORDER BY id", lan
    )
    assert [r["left_at"] is None for r in rows] == [False, True]


async def test_own_assignments_survive_the_team_and_admin_edits_keep_the_team(
    client, conn, auth, markets
):
    admin = await auth("admin")
    volunteer = await user_id(conn, "volunteer")  # assigned market one directly
    v_h = await auth("volunteer")
    r = await client.post(
        "/api/teams",
        json={
            "name": "Tổ Hải Châu",
            "ward_code": "20242",
            "member_ids": [volunteer],
            "market_ids": [markets["one"], markets["two"]],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    team_id = r.json()["id"]
    assert await visible_markets(client, v_h) == {markets["one"], markets["two"]}

    # An administrator edits the user's own scope: the team's markets stay, and the user's
    # record lists only what was assigned to them directly.
    r = await client.patch(f"/api/users/{volunteer}", json={"market_ids": []}, headers=admin)
    assert r.status_code == 200 and r.json()["market_ids"] == []
    assert await visible_markets(client, v_h) == {markets["one"], markets["two"]}
    r = await client.patch(
        f"/api/users/{volunteer}", json={"market_ids": [markets["one"]]}, headers=admin
    )
    assert r.json()["market_ids"] == [markets["one"]]

    r = await client.patch(f"/api/teams/{team_id}", json={"member_ids": []}, headers=admin)
    assert r.status_code == 200
    assert await visible_markets(client, v_h) == {markets["one"]}  # their own assignment


async def test_one_team_at_a_time_and_the_rules_of_a_team(client, conn, auth, markets):
    admin = await auth("admin")
    minh, _ = await new_user(conn, "minh")
    hoa, _ = await new_user(conn, "hoa")
    viewer = await user_id(conn, "viewer")
    base = {"ward_code": "20242", "market_ids": [markets["one"]]}
    r = await client.post(
        "/api/teams", json=base | {"name": "Tổ 1", "member_ids": [minh]}, headers=admin
    )
    assert r.status_code == 201
    first = r.json()["id"]

    async def refused(body: dict, status: int, code: str) -> None:
        res = await client.post("/api/teams", json=base | body, headers=admin)
        assert res.status_code == status, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.json()["code"] == code

    await refused({"name": "Tổ 2", "member_ids": [minh]}, 409, "user_in_other_team")
    await refused({"name": "tổ 1", "member_ids": [hoa]}, 409, "team_name_taken")
    await refused({"name": "Tổ 2", "ward_code": "99999"}, 422, "unknown_ward")
    await refused(
        {"name": "Tổ 2", "member_ids": [hoa], "leader_id": minh}, 422, "leader_not_member"
    )
    await refused({"name": "Tổ 2", "member_ids": [viewer]}, 422, "member_role")
    await refused({"name": "Tổ 2", "member_ids": [987654]}, 422, "unknown_user")
    await refused({"name": "Tổ 2", "market_ids": [987654]}, 422, "unknown_market")
    await refused({"name": "  "}, 422, "invalid_team_name")
    await refused({"name": "Tổ\x002"}, 422, "invalid_text")  # the text guard answers first
    assert await conn.fetchval("SELECT count(*) FROM team") == 1  # bad input changes nothing

    # Moving someone is two steps: out of the first team, into the second.
    r = await client.patch(f"/api/teams/{first}", json={"member_ids": []}, headers=admin)
    assert r.status_code == 200
    r = await client.post(
        "/api/teams", json=base | {"name": "Tổ 2", "member_ids": [minh]}, headers=admin
    )
    assert r.status_code == 201, r.text

    r = await client.patch("/api/teams/987654", json={"name": "X"}, headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "team_not_found"


async def test_managers_manage_the_teams_of_their_wards_and_volunteers_see_their_own(
    client, conn, auth, markets
):
    manager = await auth("manager")  # ward 20242: market one
    admin = await auth("admin")
    tuan, tuan_h = await new_user(conn, "tuan")
    other = await client.post(
        "/api/teams",
        json={"name": "Tổ NHS", "ward_code": "20285", "market_ids": [markets["two"]]},
        headers=admin,
    )
    assert other.status_code == 201

    r = await client.post(
        "/api/teams", json={"name": "Tổ NHS 2", "ward_code": "20285"}, headers=manager
    )
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = await client.post(
        "/api/teams",
        json={"name": "Tổ HC", "ward_code": "20242", "market_ids": [markets["two"]]},
        headers=manager,
    )
    assert r.status_code == 403 and r.json()["field"] == "market_ids"
    r = await client.post(
        "/api/teams",
        json={
            "name": "Tổ HC",
            "ward_code": "20242",
            "market_ids": [markets["one"]],
            "member_ids": [tuan],
            "leader_id": tuan,
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text
    mine = r.json()["id"]

    listed = (await client.get("/api/teams", headers=manager)).json()
    assert [t["id"] for t in listed] == [mine]
    r = await client.get(f"/api/teams/{other.json()['id']}", headers=manager)
    assert r.status_code == 404
    r = await client.patch(
        f"/api/teams/{other.json()['id']}", json={"name": "Đổi tên"}, headers=manager
    )
    assert r.status_code == 404
    assert len((await client.get("/api/teams", headers=admin)).json()) == 2

    # The volunteer sees their own team only, and changes nothing.
    assert [t["id"] for t in (await client.get("/api/teams", headers=tuan_h)).json()] == [mine]
    r = await client.get(f"/api/teams/{other.json()['id']}", headers=tuan_h)
    assert r.status_code == 404
    r = await client.patch(f"/api/teams/{mine}", json={"name": "Tổ của tôi"}, headers=tuan_h)
    assert r.status_code == 403
    assert (await client.get("/api/teams", headers=await auth("viewer"))).status_code == 403

    # Candidates: volunteers and managers with their current team.
    found = (await client.get("/api/teams/candidates?q=tua", headers=manager)).json()
    assert [(c["username"], c["team_id"]) for c in found] == [("tuan", mine)]
    # Found by the name people know them by too, and named so on the team (users_want: the team
    # pages name people as the rest of the pages do).
    await conn.execute("UPDATE app_user SET display_name = 'Đỗ Minh Tuấn' WHERE username = 'tuan'")
    for q in ("minh tu", "Tuấn", "đỗ", "DO MINH", "tuấn"):
        r = await client.get("/api/teams/candidates", params={"q": q}, headers=manager)
        assert r.status_code == 200, (q, r.text)
        assert [(c["username"], c["display_name"]) for c in r.json()] == [
            ("tuan", "Đỗ Minh Tuấn")
        ], q
    team = (await client.get(f"/api/teams/{mine}", headers=manager)).json()
    assert {m["username"]: m["display_name"] for m in team["members"]}["tuan"] == "Đỗ Minh Tuấn"
    # People of another area are not listed to a manager (names and teams of other wards were,
    # as choices that could not be picked): one in the other ward's team, one whose own market
    # is there; the admin sees them all.
    nhs, _ = await new_user(conn, "tuan.nhs")
    nhs_market, _ = await new_user(conn, "tuan.cho2")
    r = await client.patch(
        f"/api/teams/{other.json()['id']}", json={"member_ids": [nhs]}, headers=admin
    )
    assert r.status_code == 200, r.text
    await conn.execute(
        "INSERT INTO user_market (user_id, market_id) VALUES ($1, $2)", nhs_market, markets["two"]
    )
    seen = {
        c["username"]
        for c in (await client.get("/api/teams/candidates?q=tuan", headers=manager)).json()
    }
    assert seen == {"tuan"}
    everyone = await client.get("/api/teams/candidates?q=tuan", headers=admin)
    assert {c["username"] for c in everyone.json()} == {"tuan", "tuan.nhs", "tuan.cho2"}


async def test_a_manager_of_a_whole_province_manages_the_teams_of_every_ward_in_it(
    client, conn, auth, markets
):
    """A city official scoped to the province (user_province) saw no team and could make none:
    their markets and every ward of the province are theirs to manage; other provinces are not."""
    admin = await auth("admin")
    city, city_h = await new_user(conn, "thanhpho", role="manager")
    await conn.execute("INSERT INTO user_province (user_id, province_code) VALUES ($1, '48')", city)
    before = await client.post(
        "/api/teams",
        json={"name": "Tổ NHS", "ward_code": "20285", "market_ids": [markets["two"]]},
        headers=admin,
    )
    assert before.status_code == 201
    assert [t["id"] for t in (await client.get("/api/teams", headers=city_h)).json()] == [
        before.json()["id"]
    ]
    r = await client.post(
        "/api/teams",
        json={"name": "Tổ HC", "ward_code": "20242", "market_ids": [markets["one"]]},
        headers=city_h,
    )
    assert r.status_code == 201, r.text
    elsewhere = await conn.fetchval(
        "SELECT code FROM admin_unit WHERE scheme = '2025-07' AND level = 'ward' "
        "AND parent_code <> '48' ORDER BY code LIMIT 1"
    )
    r = await client.post(
        "/api/teams", json={"name": "Tổ xa", "ward_code": elsewhere}, headers=city_h
    )
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"


async def test_team_changes_are_audited(client, conn, auth, markets):
    admin = await auth("admin")
    r = await client.post("/api/teams", json={"name": "Tổ A", "ward_code": "20242"}, headers=admin)
    team_id = r.json()["id"]
    await client.patch(f"/api/teams/{team_id}", json={"name": "Tổ B"}, headers=admin)
    # Saving the form unchanged (a reviewer's Enter in a search box did) is no edit to audit.
    same = {"name": "Tổ B", "ward_code": "20242", "member_ids": [], "market_ids": []}
    r = await client.patch(f"/api/teams/{team_id}", json=same, headers=admin)
    assert r.status_code == 200, r.text
    rows = await conn.fetch(
        "SELECT action, before->>'name' AS b, after->>'name' AS a FROM audit_log "
        "WHERE entity = 'team' AND entity_id = $1 ORDER BY id",
        str(team_id),
    )
    assert [(r["action"], r["b"], r["a"]) for r in rows] == [
        ("create", None, "Tổ A"),
        ("update", "Tổ A", "Tổ B"),
    ]
