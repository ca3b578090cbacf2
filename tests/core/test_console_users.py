"""What the console needs of users: display name and phone, province scopes, password resets."""

from __future__ import annotations

import httpx

from tests.conftest import make_token, stall_body
from tests.core.test_users import key, user_id


async def test_a_user_has_a_display_name_and_a_phone(client, auth, markets):
    admin = await auth("admin")
    body = {
        "username": "lan.tnv",
        "password": "long-enough-pw",
        "role": "volunteer",
        "display_name": "  Nguyễn Thị  Lan ",
        "phone": "0905 123 456",
        "market_ids": [markets["one"]],
    }
    r = await client.post("/api/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["display_name"], made["phone"]) == ("Nguyễn Thị Lan", "+84905123456")
    # A bad phone or a display name with emoji changes nothing.
    for bad, code in (({"phone": "12"}, "invalid_phone"), ({"display_name": "Lan 🌸"}, None)):
        r = await client.patch(f"/api/users/{made['id']}", json=bad, headers=admin)
        assert r.status_code == 422, r.text
        if code:
            assert r.json()["code"] == code
    again = (await client.get(f"/api/users/{made['id']}", headers=admin)).json()
    assert (again["display_name"], again["phone"]) == ("Nguyễn Thị Lan", "+84905123456")
    # Patching one field keeps the other; null clears.
    r = await client.patch(f"/api/users/{made['id']}", json={"phone": None}, headers=admin)
    assert (r.json()["display_name"], r.json()["phone"]) == ("Nguyễn Thị Lan", None)
    # The person sees their own name.
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {await _token(client, made)}"}
    )
    assert me.json()["display_name"] == "Nguyễn Thị Lan"


async def _token(client: httpx.AsyncClient, user: dict) -> str:
    r = await client.post(
        "/api/auth/token", data={"username": user["username"], "password": "long-enough-pw"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_a_manager_scoped_to_a_province_sees_its_markets(client, conn, auth, markets):
    admin = await auth("admin")
    r = await client.post(
        "/api/users",
        json={
            "username": "tinh.48",
            "password": "long-enough-pw",
            "role": "manager",
            "province_codes": ["48"],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["province_codes"] == ["48"]
    token = await make_token(conn, "tinh.48")
    h = {"Authorization": f"Bearer {token}"}
    seen = {m["id"] for m in (await client.get("/api/markets", headers=h)).json()}
    assert {markets["one"], markets["two"]} <= seen
    # ... and can work there (a stall in each market), unlike a manager of one ward.
    stall = await client.post(
        f"/api/markets/{markets['two']}/stalls", json=stall_body("P-1"), headers=h | key()
    )
    assert stall.status_code == 201, stall.text
    # A market in another province is out of scope.
    other = await conn.fetchval(
        "INSERT INTO market (name, province_code) VALUES ('Chợ Hà Nội', '01') RETURNING id"
    )
    assert (await client.get(f"/api/markets/{other}", headers=h)).status_code == 404
    assert (await client.get(f"/api/markets/{other}", headers=admin)).status_code == 200
    # Taking the province away takes the markets away.
    uid = await user_id(conn, "tinh.48")
    r = await client.patch(f"/api/users/{uid}", json={"province_codes": []}, headers=admin)
    assert r.status_code == 200 and r.json()["province_codes"] == []
    h2 = {"Authorization": f"Bearer {await make_token(conn, 'tinh.48')}"}
    assert (await client.get("/api/markets", headers=h2)).json() == []


async def test_a_viewer_scoped_to_a_province_is_not_city_wide(client, conn, auth, markets):
    admin = await auth("admin")
    other = await conn.fetchval(
        "INSERT INTO market (name, province_code) VALUES ('Chợ Hà Nội', '01') RETURNING id"
    )
    viewer = await auth("viewer")  # no scope rows: every market
    assert other in {m["id"] for m in (await client.get("/api/markets", headers=viewer)).json()}
    uid = await user_id(conn, "viewer")
    r = await client.patch(f"/api/users/{uid}", json={"province_codes": ["48"]}, headers=admin)
    assert r.status_code == 200, r.text
    seen = {
        m["id"] for m in (await client.get("/api/markets", headers=await auth("viewer"))).json()
    }
    assert other not in seen and markets["one"] in seen


async def test_province_scopes_only_for_managers_and_viewers(client, conn, auth):
    admin = await auth("admin")
    for role in ("volunteer", "partner", "admin"):
        body = {
            "username": f"p.{role}",
            "password": "long-enough-pw",
            "role": role,
            "province_codes": ["48"],
            **({"partner_code": "MB"} if role == "partner" else {}),
        }
        r = await client.post("/api/users", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == "province_scope_not_allowed", r.text
    r = await client.post(
        "/api/users",
        json={"username": "p.x", "password": "long-enough-pw", "role": "viewer",
              "province_codes": ["99"]},
        headers=admin,
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "province_codes"
    assert not await conn.fetchval("SELECT count(*) FROM app_user WHERE username LIKE 'p.%'")
    # A manager with a province who becomes a volunteer must drop the province in the same change.
    uid = await user_id(conn, "manager")
    await client.patch(f"/api/users/{uid}", json={"province_codes": ["48"]}, headers=admin)
    r = await client.patch(f"/api/users/{uid}", json={"role": "volunteer"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "province_scope_not_allowed"
    r = await client.patch(
        f"/api/users/{uid}", json={"role": "volunteer", "province_codes": []}, headers=admin
    )
    assert r.status_code == 200 and r.json()["role"] == "volunteer"


async def test_a_password_reset_is_shown_once_and_ends_sessions(client, conn, auth):
    admin = await auth("admin")
    uid = await user_id(conn, "volunteer")
    old = {"Authorization": f"Bearer {await make_token(conn, 'volunteer')}"}
    assert (await client.get("/api/users/me", headers=old)).status_code == 200
    r = await client.post(f"/api/users/{uid}/password-reset", headers=admin)
    assert r.status_code == 200, r.text
    password = r.json()["password"]
    assert len(password.replace("-", "")) >= 10
    assert (await client.get("/api/users/me", headers=old)).status_code == 401
    signed = await client.post(
        "/api/auth/token", data={"username": "volunteer", "password": password}
    )
    assert signed.status_code == 200
    # Only a hash is kept; the audit says who reset it, never the password.
    stored = await conn.fetchval("SELECT password_hash FROM app_user WHERE id = $1", uid)
    assert password not in stored
    audit = await conn.fetch(
        "SELECT actor_id, after FROM audit_log WHERE entity = 'user' AND action = 'reset_password'"
    )
    assert [r["actor_id"] for r in audit] == [await user_id(conn, "admin")]
    assert password not in str([dict(r) for r in audit])
    # A second reset gives another password; nobody else may reset.
    again = await client.post(f"/api/users/{uid}/password-reset", headers=admin)
    assert again.json()["password"] != password
    for who in ("manager", "volunteer", "viewer"):
        r = await client.post(f"/api/users/{uid}/password-reset", headers=await auth(who))
        assert r.status_code == 403
    assert (
        await client.post("/api/users/999999999/password-reset", headers=admin)
    ).status_code == 404
