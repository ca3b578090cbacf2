"""The audit log for administrators (GET /api/audit-log): what was done, by whom, to which record,
newest first, filtered and paged; admins only; values stay on each record's own page."""

from __future__ import annotations

import uuid

from tests.conftest import onboarding_status, stall_body


async def _register(client, h, market_id: int, code: str) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(
            code, holder={"full_name": "Lê Thị Nhật", "phone": f"0905 000 {code[-3:]}"}
        ),
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_log_lists_what_was_done_newest_first_and_filters(client, auth, markets, conn):
    vol = await auth("volunteer")
    admin = await auth("admin")
    await conn.execute(
        "UPDATE app_user SET display_name = 'Trần Tình Nguyện' WHERE username = 'volunteer'"
    )
    a = await _register(client, vol, markets["one"], "L-101")
    b = await _register(client, vol, markets["one"], "L-102")
    r = await client.post(f"/api/stalls/{b['id']}/sign-delivered", headers=vol)
    assert r.status_code == 200, r.text

    r = await client.get("/api/audit-log?limit=3", headers=admin)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [(e["action"], e["entity"], e["entity_id"]) for e in page["items"]] == [
        ("sign_delivered", "stall", str(b["id"])),
        ("register", "stall", str(b["id"])),
        ("create", "onboarding", page["items"][2]["entity_id"]),
    ]
    assert {e["actor"] for e in page["items"]} == {"Trần Tình Nguyện"}
    assert page["items"][0]["actor_username"] == "volunteer"
    # Each record named as people know it (a stall by its code and market, an onboarding by its
    # partner and stall), never by the person: no name or phone of the holder.
    labels = [e["entity_label"] for e in page["items"]]
    assert labels[:2] == ["L-102 · Chợ Thử Một"] * 2
    assert labels[2].endswith("· L-102 · Chợ Thử Một") and labels[2].startswith("MB")
    assert "Lê Thị Nhật" not in r.text and "0905" not in r.text
    nxt = (
        await client.get(f"/api/audit-log?limit=3&before={page['next_before']}", headers=admin)
    ).json()
    assert nxt["items"][0]["id"] < page["items"][-1]["id"]

    r = await client.get(
        f"/api/audit-log?entity=stall&entity_id={a['id']}&actor=volunteer", headers=admin
    )
    assert [e["action"] for e in r.json()["items"]] == ["register"]
    assert r.json()["next_before"] is None
    # Newest first by time, even for an entry written later with an earlier time (demo and
    # synthetic data do that); the next page goes on from it in the same order.
    old_id = await conn.fetchval(
        "INSERT INTO audit_log (action, entity, entity_id, at) "
        "VALUES ('update', 'market', '1', now() - interval '3 days') RETURNING id"
    )
    everything = (await client.get("/api/audit-log?limit=200", headers=admin)).json()["items"]
    assert everything[-1]["id"] == old_id and everything[-1]["actor"] is None
    times = [e["at"] for e in everything]
    assert times == sorted(times, reverse=True)
    first = (await client.get("/api/audit-log?limit=2", headers=admin)).json()
    rest = (
        await client.get(f"/api/audit-log?limit=200&before={first['next_before']}", headers=admin)
    ).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in everything]
    # Usernames are stored lowercased; the filter takes any case, and an address-like one.
    r = await client.get(
        f"/api/audit-log?entity=stall&entity_id={a['id']}&actor=VOLUNTEER", headers=admin
    )
    assert [e["action"] for e in r.json()["items"]] == ["register"]
    r = await client.get("/api/audit-log?actor=lan@phuong7", headers=admin)
    assert r.status_code == 200 and r.json()["items"] == []
    r = await client.get("/api/audit-log?action=sign_delivered", headers=admin)
    assert [e["entity_id"] for e in r.json()["items"]] == [str(b["id"])]
    r = await client.get("/api/audit-log?since=2000-01-01&until=2000-01-31", headers=admin)
    assert r.json() == {"items": [], "next_before": None}


async def test_the_log_is_for_admins_and_refuses_bad_filters(client, auth):
    for who in ("manager", "volunteer", "viewer", "partner"):
        r = await client.get("/api/audit-log", headers=await auth(who))
        assert r.status_code == 403, who
    assert (await client.get("/api/audit-log")).status_code == 401
    admin = await auth("admin")
    for bad in (
        "limit=0",
        "limit=201",
        "before=0",
        f"before={2**63}",
        "since=2026-02-31",
        "since=0001-01-01",
        "until=9999-12-31",
        "entity=Stall%20x",
        "actor=%00",
        "since=2026-12-02&until=2026-12-01",
    ):
        r = await client.get(f"/api/audit-log?{bad}", headers=admin)
        assert r.status_code == 422, (bad, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_records_are_named_by_their_packages_and_unknown_ones_are_not(client, auth, conn):
    admin = await auth("admin")
    await conn.execute("UPDATE app_user SET display_name = 'Hồ Quản Lý' WHERE username = 'manager'")
    manager_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'manager'")
    team = await conn.fetchval(
        "INSERT INTO team (name, ward_scheme, ward_code) "
        "SELECT 'Tổ Số Một', scheme, code FROM admin_unit WHERE code = '20242' LIMIT 1 RETURNING id"
    )
    await conn.execute(
        "INSERT INTO audit_log (action, entity, entity_id) VALUES "
        "('update', 'user', $1), ('update', 'team', $2), ('update', 'market', '999999999'), "
        "('set_support', 'partner', 'MB'), ('update', 'team', '99999999999999999999')",
        str(manager_id),
        str(team),
    )
    items = (await client.get("/api/audit-log?limit=5", headers=admin)).json()["items"]
    assert {(e["entity"], e["entity_id"]): e["entity_label"] for e in items} == {
        ("user", str(manager_id)): "Hồ Quản Lý",
        ("team", str(team)): "Tổ Số Một",
        ("market", "999999999"): None,  # gone: named by nothing
        ("partner", "MB"): None,  # its id is its name
        ("team", "99999999999999999999"): None,  # not a number the database holds
    }


async def test_a_stall_list_import_is_named_by_its_market_and_day(client, auth, conn, markets):
    """Not "stall_import #1": the market and the day of the import (not the file's typed name)."""
    admin = await auth("admin")
    import_id = await conn.fetchval(
        "INSERT INTO stall_import (market_id, filename, sha256, row_count, created_count,"
        " updated_count, unchanged_count, error_count, created_at)"
        " VALUES ($1, 'Nguyen Van A.xlsx', $2, 1, 1, 0, 0, 0, '2026-12-01T20:00:00Z')"
        " RETURNING id",
        markets["one"],
        bytes(32),
    )
    await conn.execute(
        "INSERT INTO audit_log (action, entity, entity_id) VALUES ('import', 'stall_import', $1)",
        str(import_id),
    )
    items = (await client.get("/api/audit-log?entity=stall_import&limit=5", headers=admin)).json()[
        "items"
    ]
    name = await conn.fetchval("SELECT name FROM market WHERE id = $1", markets["one"])
    assert [e["entity_label"] for e in items] == [f"{name} · 02/12/2026"]  # 03:00 in Vietnam


async def test_a_status_change_names_its_two_statuses_and_nothing_else(client, auth, markets):
    """The log said "Đổi trạng thái" and no more: suspended or lifted, the admin could not tell."""
    vol, admin = await auth("volunteer"), await auth("admin")
    stall = await _register(client, vol, markets["one"], "L-301")
    r = await client.post(
        f"/api/stalls/{stall['id']}/onboardings",
        json=onboarding_status(stall["payment_accounts"][0], "suspended"),
        headers=admin,
    )
    assert r.status_code == 200, r.text
    items = (await client.get("/api/audit-log?action=set_status&limit=1", headers=admin)).json()
    entry = items["items"][0]
    assert (entry["status_from"], entry["status_to"]) == ("active", "suspended")
    # Other entries carry none (their before/after stay on the record's page).
    r = await client.get("/api/audit-log?action=register&limit=1", headers=admin)
    assert r.json()["items"][0]["status_from"] is None


async def test_only_a_status_code_is_shown_from_before_and_after(client, auth, conn):
    admin = await auth("admin")
    await conn.execute(
        """INSERT INTO audit_log (action, entity, entity_id, before, after) VALUES
           ('set_status', 'onboarding', '1', '{"status": "active"}', '{"status": "Lê Thị Nhật"}'),
           ('set_status', 'onboarding', '2', '{"status": 3}', '{"status": "removed"}'),
           ('set_status', 'onboarding', '3', NULL, '{"status": "removed"}'),
           ('update', 'market', '4', '{"status": "a"}', '{"status": "b", "name": "Lê"}'),
           ('update', 'stall', '5', '{"status": "active"}', '{"status": "active", "goods": "x"}')"""
    )
    items = (await client.get("/api/audit-log?limit=5", headers=admin)).json()["items"]
    assert {e["entity_id"]: (e["status_from"], e["status_to"]) for e in items} == {
        "1": (None, None),  # not a code: neither is shown
        "2": (None, None),
        "3": (None, None),
        "4": ("a", "b"),
        "5": (None, None),  # an edit that kept the status is no status change
    }
    assert "Lê" not in str(items)


async def test_locking_a_user_and_the_keys_a_role_change_revokes_are_said(client, auth, conn):
    """Locking a user read "Sửa" like any edit; a partner user made a viewer lost its API key
    with nothing in the log. The entry names "active → inactive", and each key revoked is an entry
    of its own (reason role_changed)."""
    admin = await auth("admin")
    user_id = await conn.fetchval(
        "INSERT INTO app_user (username, password_hash, role, partner_code) "
        "VALUES ('mb.keys', 'x', 'partner', 'MB') RETURNING id"
    )
    r = await client.post(f"/api/users/{user_id}/api-keys", json={"label": "MB"}, headers=admin)
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    r = await client.patch(
        f"/api/users/{user_id}", json={"role": "viewer", "partner_code": None}, headers=admin
    )
    assert r.status_code == 200, r.text
    items = (
        await client.get(f"/api/audit-log?entity=user&entity_id={user_id}", headers=admin)
    ).json()["items"]
    assert [e["action"] for e in items].count("revoke_api_key") == 1
    after = await conn.fetchval(
        "SELECT after FROM audit_log WHERE action = 'revoke_api_key' AND entity_id = $1",
        str(user_id),
    )
    assert after == {"api_key_id": key_id, "reason": "role_changed"}
    r = await client.patch(f"/api/users/{user_id}", json={"active": False}, headers=admin)
    assert r.status_code == 200, r.text
    items = (
        await client.get(f"/api/audit-log?entity=user&entity_id={user_id}&limit=1", headers=admin)
    ).json()["items"]
    assert (items[0]["action"], items[0]["status_from"], items[0]["status_to"]) == (
        "update",
        "active",
        "inactive",
    )
