"""Return visits assigned to a person (teams/assignments.py): who may ask whom, the audit
trail, and the lists that show them."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import stall_body
from tests.teams.test_teams import new_user, user_id


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _stall(client, headers, market_id: int, code: str) -> int:
    body = stall_body(code, holder={"full_name": "Phạm Thị Ghé", "phone": None})
    r = await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _team(client, admin, *, name: str, leader: int, members: list[int], markets: list[int]):
    r = await client.post(
        "/api/teams",
        json={"name": name, "ward_code": "20285", "leader_id": leader, "member_ids": members,
              "market_ids": markets},
        headers=admin,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_manager_assigns_a_stall_and_the_volunteer_finds_it_in_their_list(
    client, conn, auth, markets
):
    manager, volunteer = await auth("manager"), await auth("volunteer")
    stall = await _stall(client, volunteer, markets["one"], "AS-1")
    vol_id = await user_id(conn, "volunteer")
    people = await client.get(f"/api/markets/{markets['one']}/assignees", headers=manager)
    assert people.status_code == 200, people.text
    assert vol_id in {p["id"] for p in people.json()}
    assert all(p["role"] in ("volunteer", "manager") for p in people.json())

    r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": vol_id},
                         headers=manager)  # fmt: skip
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["user_id"] == vol_id and got["name"] and got["assigned_by"]
    assert got["visited_since"] is False
    first_at = got["assigned_at"]
    # The same person again changes nothing, not even the day it was asked.
    again = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": vol_id},
                             headers=manager)  # fmt: skip
    assert again.json()["assigned_at"] == first_at
    entries = await conn.fetch(
        "SELECT action, before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND action IN ('assign', 'unassign') ORDER BY id",
        str(stall),
    )
    assert [e["action"] for e in entries] == ["assign"]

    mine = await client.get("/api/assignments/mine", headers=volunteer)
    assert mine.status_code == 200
    assert [(a["stall_id"], a["stall_code"], a["visited_since"]) for a in mine.json()] == [
        (stall, "AS-1", False)
    ]
    listed = await client.get(f"/api/markets/{markets['one']}/assignments", headers=volunteer)
    assert [(a["stall_id"], a["user_id"]) for a in listed.json()] == [(stall, vol_id)]

    # Reading changed nothing; a visit recorded since shows as done.
    visit = await client.post(f"/api/stalls/{stall}/visits", json={"outcome": "trained"},
                              headers=volunteer | key())  # fmt: skip
    assert visit.status_code == 201, visit.text
    (row,) = (await client.get("/api/assignments/mine", headers=volunteer)).json()
    assert row["visited_since"] is True

    # Taken back.
    off = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": None},
                           headers=manager)  # fmt: skip
    assert off.status_code == 200 and off.json()["user_id"] is None
    assert (await client.get("/api/assignments/mine", headers=volunteer)).json() == []
    actions = await conn.fetch(
        "SELECT action, before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND action IN ('assign', 'unassign') ORDER BY id",
        str(stall),
    )
    assert [(a["action"], a["before"], a["after"]) for a in actions] == [
        ("assign", {"user_id": None}, {"user_id": vol_id}),
        ("unassign", {"user_id": vol_id}, {"user_id": None}),
    ]


async def test_who_may_assign_and_to_whom(client, conn, auth, markets):
    admin, volunteer = await auth("admin"), await auth("volunteer")
    stall = await _stall(client, admin, markets["one"], "AS-2")
    other_market_stall = await _stall(client, admin, markets["two"], "AS-3")
    # A volunteer who leads no team may not assign.
    vol_id = await user_id(conn, "volunteer")
    r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": vol_id},
                         headers=volunteer)  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "not_assigner"
    # A stall out of the caller's scope reads as one that does not exist.
    r = await client.put(f"/api/stalls/{other_market_stall}/assignment", json={"user_id": None},
                         headers=volunteer)  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "stall_not_found"
    # Someone who does not work in the market, an unknown id, a viewer: the same 422, no change.
    outsider, _ = await new_user(conn, "ngoaicho")
    viewer = await user_id(conn, "viewer")
    for who in (outsider, viewer, 999_999):
        r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": who},
                             headers=admin)  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "assignee_not_eligible" and r.json()["field"] == "user_id"
    assert await conn.fetchval("SELECT count(*) FROM stall_assignment") == 0
    for bad in ({"user_id": 0}, {"user_id": "x"}, {}, {"user_id": 1, "extra": 1}):
        r = await client.put(f"/api/stalls/{stall}/assignment", json=bad, headers=admin)
        assert r.status_code == 422, (bad, r.text)

    # A team leader assigns the members of their team, in the team's markets only.
    lead, lead_h = await new_user(conn, "totruong")
    member, member_h = await new_user(conn, "thanhvien")
    await _team(client, admin, name="Tổ Giao Việc", leader=lead, members=[lead, member],
                markets=[markets["one"]])  # fmt: skip
    people = await client.get(f"/api/markets/{markets['one']}/assignees", headers=lead_h)
    assert people.status_code == 200
    assert {p["id"] for p in people.json()} == {lead, member}
    r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": member},
                         headers=lead_h)  # fmt: skip
    assert r.status_code == 200, r.text
    # ... not someone outside the team, though they work in the market.
    r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": vol_id},
                         headers=lead_h)  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "assignee_not_eligible"
    # A member who does not lead: 403, the list of people too.
    r = await client.get(f"/api/markets/{markets['one']}/assignees", headers=member_h)
    assert r.status_code == 403 and r.json()["code"] == "not_assigner"
    mine = (await client.get("/api/assignments/mine", headers=member_h)).json()
    assert [a["stall_id"] for a in mine] == [stall]
    # A market out of scope: 404 for every list.
    for path in ("assignees", "assignments"):
        r = await client.get(f"/api/markets/{markets['two']}/{path}", headers=volunteer)
        assert r.status_code == 404 and r.json()["code"] == "market_not_found"
    # A stall out of scope reads as one that does not exist; a viewer may not ask.
    r = await client.get(f"/api/stalls/{other_market_stall}/assignment", headers=volunteer)
    assert r.status_code == 404 and r.json()["code"] == "stall_not_found"
    r = await client.get(f"/api/stalls/{stall}/assignment", headers=await auth("viewer"))
    assert r.status_code == 403


async def test_two_people_assigning_a_stall_at_once_leave_a_true_audit_trail(live):
    """Each assignment waits for the other: the second entry's `before` is the first's choice."""
    admin = await live.token("admin")
    async with live.pool.acquire() as conn:
        market = await conn.fetchval("SELECT id FROM market ORDER BY id LIMIT 1")
        people = [await user_id(conn, "volunteer"), await user_id(conn, "manager")]
    async with live.client() as client:
        stall = await _stall(client, admin, market, "AS-R")
        # Both requests wait on the stall's row while the test holds it, then go one by one.
        async with live.pool.acquire() as holder:
            held = holder.transaction()
            await held.start()
            await holder.execute("SELECT 1 FROM stall WHERE id = $1 FOR NO KEY UPDATE", stall)
            puts = [
                asyncio.create_task(
                    client.put(
                        f"/api/stalls/{stall}/assignment", json={"user_id": p}, headers=admin
                    )
                )
                for p in people
            ]
            await asyncio.sleep(0.5)
            await held.rollback()
        results = await asyncio.gather(*puts)
        assert all(r.status_code == 200 for r in results), [r.text for r in results]
    async with live.pool.acquire() as conn:
        entries = await conn.fetch(
            "SELECT before, after FROM audit_log WHERE action = 'assign' AND entity_id = $1 "
            "ORDER BY id",
            str(stall),
        )
        final = await conn.fetchval(
            "SELECT user_id FROM stall_assignment WHERE stall_id = $1", stall
        )
    assert len(entries) == 2 and entries[0]["before"] == {"user_id": None}
    assert entries[1]["before"] == entries[0]["after"]
    assert final == entries[1]["after"]["user_id"]


async def test_asked_again_after_a_visit_and_a_leader_keeps_to_their_team(
    client, conn, auth, markets
):
    admin, manager, volunteer = await auth("admin"), await auth("manager"), await auth("volunteer")
    stall = await _stall(client, admin, markets["one"], "AS-4")
    vol_id = await user_id(conn, "volunteer")
    put = lambda who, h: client.put(f"/api/stalls/{stall}/assignment", json={"user_id": who},  # noqa: E731
                                    headers=h)  # fmt: skip
    first = (await put(vol_id, manager)).json()
    r = await client.post(f"/api/stalls/{stall}/visits", json={"outcome": "absent"},
                          headers=volunteer | key())  # fmt: skip
    assert r.status_code == 201, r.text
    # Nobody was there: the manager asks the same volunteer to go once more, from now.
    again = (await put(vol_id, manager)).json()
    assert again["visited_since"] is False and again["assigned_at"] > first["assigned_at"]
    assert [a["stall_id"] for a in (await client.get("/api/assignments/mine", headers=volunteer)).json()
            if not a["visited_since"]] == [stall]  # fmt: skip
    count = "SELECT count(*) FROM audit_log WHERE action = 'assign' AND entity_id = $1"
    assert await conn.fetchval(count, str(stall)) == 2

    # A team leader may not take back or hand over what a manager asked of someone outside
    # their team; what a member of their team holds, they may.
    lead, lead_h = await new_user(conn, "totruong2")
    member, _ = await new_user(conn, "thanhvien2")
    r = await client.post(
        "/api/teams",
        json={"name": "Tổ Giao Việc 2", "ward_code": "20285", "leader_id": lead,
              "member_ids": [lead, member], "market_ids": [markets["one"]]},
        headers=admin,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    for who in (None, member):
        r = await put(who, lead_h)
        assert r.status_code == 403 and r.json()["code"] == "not_assigner", r.text
    assert (await client.get(f"/api/markets/{markets['one']}/assignments", headers=admin)).json()[
        0
    ]["user_id"] == vol_id
    assert (await put(member, manager)).status_code == 200
    assert (await put(lead, lead_h)).json()["user_id"] == lead
    assert (await put(None, lead_h)).json()["user_id"] is None


async def test_someone_who_left_the_market_is_flagged_and_the_leader_may_hand_it_on(
    client, conn, auth, markets
):
    """An assignment is not moved when its person leaves: the lists say they no longer work
    there, and a team leader may then give the stall to a member (or to nobody)."""
    admin = await auth("admin")
    stall = await _stall(client, admin, markets["one"], "AS-5")
    lead, lead_h = await new_user(conn, "totruong3")
    member, _ = await new_user(conn, "thanhvien3")
    gone, _ = await new_user(conn, "dinghi3")
    team = await _team(client, admin, name="Tổ Giao Việc 3", leader=lead,
                       members=[lead, member, gone], markets=[markets["one"]])  # fmt: skip
    put = lambda who, h: client.put(f"/api/stalls/{stall}/assignment", json={"user_id": who},  # noqa: E731
                                    headers=h)  # fmt: skip
    got = (await put(gone, lead_h)).json()
    assert got["user_id"] == gone and got["works_here"] is True
    one = f"/api/stalls/{stall}/assignment"
    assert (await client.get(one, headers=lead_h)).json() == got

    listed = f"/api/markets/{markets['one']}/assignments"
    # The person leaves the team, and with it the market: still assigned, flagged.
    r = await client.patch(f"/api/teams/{team['id']}", json={"member_ids": [lead, member]},
                           headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    [row] = (await client.get(listed, headers=admin)).json()
    assert (row["user_id"], row["works_here"]) == (gone, False)
    assert (await client.get(one, headers=admin)).json() == row
    assert gone not in {p["id"] for p in (await client.get(
        f"/api/markets/{markets['one']}/assignees", headers=admin)).json()}  # fmt: skip
    # They are no member now, but no longer work here either: the leader hands the stall on.
    moved = await put(member, lead_h)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["user_id"], moved.json()["works_here"]) == (member, True)

    # A deactivated account is flagged the same way, and the leader may take the stall back.
    r = await client.patch(f"/api/users/{member}", json={"active": False}, headers=admin)
    assert r.status_code == 200, r.text
    [row] = (await client.get(listed, headers=lead_h)).json()
    assert (row["user_id"], row["works_here"]) == (member, False)
    off = await put(None, lead_h)
    assert off.status_code == 200 and off.json()["user_id"] is None
    nobody = (await client.get(one, headers=admin)).json()
    assert nobody == off.json() and nobody["assigned_at"] is None
    assert nobody["works_here"] is None  # nobody is asked: no one to work here or not
    actions = await conn.fetch(
        "SELECT before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND action IN ('assign', 'unassign') ORDER BY id",
        str(stall),
    )
    assert [(a["before"]["user_id"], a["after"]["user_id"]) for a in actions] == [
        (None, gone),
        (gone, member),
        (member, None),
    ]


async def test_a_sign_checked_or_handed_over_since_counts_as_been_there(
    client, conn, auth, markets
):
    """A reviewer checked the assigned stall's sign ("ĐÚNG"): it left the leader's return list but
    stayed on the volunteer's "Được giao đi lại" until a visit was written as well. A sign checked
    or handed over since the stall was assigned now says someone was there, like a visit."""
    manager, volunteer = await auth("manager"), await auth("volunteer")
    vol_id = await user_id(conn, "volunteer")
    stall = await _stall(client, volunteer, markets["one"], "AS-9")
    r = await client.put(f"/api/stalls/{stall}/assignment", json={"user_id": vol_id},
                         headers=manager)  # fmt: skip
    assert r.status_code == 200 and r.json()["visited_since"] is False
    mine = (await client.get("/api/assignments/mine", headers=volunteer)).json()
    assert [(a["stall_id"], a["visited_since"]) for a in mine if a["stall_id"] == stall] == [
        (stall, False)
    ]
    delivered = await client.post(f"/api/stalls/{stall}/sign-delivered", headers=volunteer)
    assert delivered.status_code == 200, delivered.text
    mine = (await client.get("/api/assignments/mine", headers=volunteer)).json()
    assert [(a["stall_id"], a["visited_since"]) for a in mine if a["stall_id"] == stall] == [
        (stall, True)
    ]
    listed = await client.get(f"/api/markets/{markets['one']}/assignments", headers=manager)
    assert [a["visited_since"] for a in listed.json() if a["stall_id"] == stall] == [True]
    # Asked again from now: what was done before no longer counts.
    await conn.execute(
        "UPDATE stall_assignment SET assigned_at = clock_timestamp() WHERE stall_id = $1", stall
    )
    mine = (await client.get("/api/assignments/mine", headers=volunteer)).json()
    assert [a["visited_since"] for a in mine if a["stall_id"] == stall] == [False]
