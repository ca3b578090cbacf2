"""Users, scopes and API keys; out-of-scope reads are 404 and out-of-scope writes 403."""

from __future__ import annotations

import uuid

from core.auth import token_hash
from core.state import state_of
from tests.conftest import TEST_PASSWORD, make_token, stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def user_id(conn, username: str) -> int:
    return await conn.fetchval("SELECT id FROM app_user WHERE username = $1", username)


# ---------------------------------------------------------------- users API


async def test_admin_creates_lists_reads_and_patches_users(client, auth, markets):
    admin = await auth("admin")
    body = {
        "username": "Ward.Manager",
        "password": "long-enough-pw",
        "role": "manager",
        "market_ids": [markets["two"]],
        "ward_codes": ["20242"],
    }
    r = await client.post("/api/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (
        created["username"] == "ward.manager"
        and created["role"] == "manager"
        and created["active"] is True
    )
    assert created["market_ids"] == [markets["two"]] and created["ward_codes"] == ["20242"]
    assert "password" not in r.text and "password_hash" not in r.text

    listed = await client.get("/api/users", headers=admin)
    assert "ward.manager" in [u["username"] for u in listed.json()]
    one = await client.get(f"/api/users/{created['id']}", headers=admin)
    assert one.json() == created

    patched = await client.patch(
        f"/api/users/{created['id']}",
        json={"role": "volunteer", "ward_codes": [], "market_ids": [markets["one"]]},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["role"] == "volunteer" and patched.json()["market_ids"] == [
        markets["one"]
    ]
    assert patched.json()["ward_codes"] == []
    assert (await client.get("/api/users/999999999", headers=admin)).status_code == 404


async def test_user_input_errors(client, auth, markets):
    admin = await auth("admin")
    base: dict[str, object] = {
        "username": "newbie",
        "password": "long-enough-pw",
        "role": "volunteer",
    }
    cases: list[tuple[dict[str, object], int, str, str]] = [
        ({"market_ids": [999999999]}, 422, "validation_error", "market_ids"),
        ({"ward_codes": ["99999"]}, 422, "validation_error", "ward_codes"),
        ({"role": "superuser"}, 422, "validation_error", "role"),
        ({"role": "partner"}, 422, "partner_code_required", "partner_code"),
        ({"username": "volunteer"}, 409, "username_taken", "username"),
        ({"username": "bad name!"}, 422, "invalid_username", "username"),
    ]
    for change, status, code, field in cases:
        r = await client.post("/api/users", json=base | change, headers=admin)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, field), (
            change,
            r.text,
        )


async def test_only_admins_manage_users(client, auth):
    for who in ("manager", "volunteer", "viewer", "partner"):
        headers = await auth(who)
        assert (await client.get("/api/users", headers=headers)).status_code == 403
        body = {"username": f"x{who}", "password": "long-enough-pw", "role": "admin"}
        assert (await client.post("/api/users", json=body, headers=headers)).status_code == 403


async def test_me_shows_role_and_scopes(client, auth, markets):
    me = (await client.get("/api/users/me", headers=await auth("volunteer"))).json()
    assert me["role"] == "volunteer" and me["market_ids"] == [markets["one"]]
    manager = (await client.get("/api/users/me", headers=await auth("manager"))).json()
    assert manager["ward_codes"] == ["20242"]


async def test_changing_ones_password(client, conn, auth):
    keep = await make_token(conn, "volunteer")
    other = await make_token(conn, "volunteer")
    headers = {"Authorization": f"Bearer {keep}"}
    url = "/api/users/me/password"
    wrong = await client.post(
        url,
        json={"current_password": "not-it-at-all", "new_password": "brand-new-password"},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    assert wrong.json()["code"] == "wrong_password"
    short = await client.post(
        url, json={"current_password": TEST_PASSWORD, "new_password": "short"}, headers=headers
    )
    assert short.status_code == 422 and short.json()["code"] == "weak_password"
    assert (short.json()["field"], short.json()["min_length"]) == ("new_password", 10)
    spaces = await client.post(
        url, json={"current_password": TEST_PASSWORD, "new_password": " " * 12}, headers=headers
    )
    assert spaces.status_code == 422 and spaces.json()["code"] == "weak_password"

    ok = await client.post(
        url,
        json={"current_password": TEST_PASSWORD, "new_password": "brand-new-password"},
        headers=headers,
    )
    assert ok.status_code == 204
    # This session goes on; every other session of the user ends.
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    assert (
        await client.get("/api/users/me", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 401
    old = await client.post(
        "/api/auth/token", data={"username": "volunteer", "password": TEST_PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/token", data={"username": "volunteer", "password": "brand-new-password"}
    )
    assert new.status_code == 200
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'change_password' AND entity_id = $1",
            str(await user_id(conn, "volunteer")),
        )
        == 1
    )


async def test_guessing_the_current_password_is_throttled_like_sign_ins(app, client, conn):
    """A session left open on a shared tablet must not let anyone try passwords without end."""
    settings = state_of(app).settings
    token = await make_token(conn, "volunteer2")
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/users/me/password"

    async def attempt(current: str):
        body = {"current_password": current, "new_password": "brand-new-password"}
        return await client.post(url, json=body, headers=headers)

    codes = [
        (await attempt(f"guess-number-{n}")).status_code for n in range(settings.login_max_failures)
    ]
    assert codes == [422] * (settings.login_max_failures - 1) + [429]
    locked = await attempt(TEST_PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["retry-after"]) <= settings.login_lock_seconds
    # Nothing changed: the old password still signs in (sign-ins are counted apart).
    signed = await client.post(
        "/api/auth/token", data={"username": "volunteer2", "password": TEST_PASSWORD}
    )
    assert signed.status_code == 200
    # Another user's password change is not locked.
    other = {"Authorization": f"Bearer {await make_token(conn, 'volunteer')}"}
    body = {"current_password": "not-it-at-all", "new_password": "brand-new-password"}
    assert (await client.post(url, json=body, headers=other)).json()["code"] == "wrong_password"


# ---------------------------------------------------------------- API keys


async def test_api_keys_for_partner_machine_clients(client, conn, auth):
    admin = await auth("admin")
    partner_id = await user_id(conn, "partner")
    r = await client.post(
        f"/api/users/{partner_id}/api-keys", json={"label": "MB reconciliation"}, headers=admin
    )
    assert r.status_code == 201, r.text
    created = r.json()
    api_key = created["key"]
    assert api_key.startswith(f"cs_{created['prefix']}_") and len(api_key) > 40

    # Shown once: listing shows prefix and dates only, and the database holds only a hash.
    listed = (await client.get(f"/api/users/{partner_id}/api-keys", headers=admin)).json()
    assert [k["key"] for k in listed] == [None] and listed[0]["label"] == "MB reconciliation"
    # A blank label is no label (the list showed an empty one); a label is kept trimmed.
    for typed, kept in (("   ", None), ("  đối soát  ", "đối soát")):
        r = await client.post(
            f"/api/users/{partner_id}/api-keys", json={"label": typed}, headers=admin
        )
        assert (r.status_code, r.json()["label"]) == (201, kept)
        revoke = f"/api/users/{partner_id}/api-keys/{r.json()['id']}"
        assert (await client.delete(revoke, headers=admin)).status_code == 204
    assert (
        await conn.fetchval("SELECT count(*) FROM api_key k WHERE k::text LIKE $1", f"%{api_key}%")
        == 0
    )
    assert await conn.fetchval(
        "SELECT key_hash FROM api_key WHERE id = $1", created["id"]
    ) == token_hash(api_key)

    for headers in ({"Authorization": f"Bearer {api_key}"}, {"X-API-Key": api_key}):
        me = await client.get("/api/users/me", headers=headers)
        assert me.status_code == 200 and me.json()["username"] == "partner"
        # A partner key does not open stallholders' personal data.
        assert (await client.get("/api/users", headers=headers)).status_code == 403

    revoke = await client.delete(f"/api/users/{partner_id}/api-keys/{created['id']}", headers=admin)
    assert revoke.status_code == 204
    assert (await client.get("/api/users/me", headers={"X-API-Key": api_key})).status_code == 401
    again = await client.delete(f"/api/users/{partner_id}/api-keys/{created['id']}", headers=admin)
    assert again.status_code == 404
    assert (
        await client.get("/api/users/me", headers={"X-API-Key": "cs_deadbeef_not-a-key"})
    ).status_code == 401


async def test_api_keys_stop_with_their_user(client, conn, auth):
    admin = await auth("admin")
    partner_id = await user_id(conn, "partner")
    api_key = (
        await client.post(f"/api/users/{partner_id}/api-keys", json={}, headers=admin)
    ).json()["key"]
    await client.patch(f"/api/users/{partner_id}", json={"active": False}, headers=admin)
    assert (await client.get("/api/users/me", headers={"X-API-Key": api_key})).status_code == 401
    await client.patch(f"/api/users/{partner_id}", json={"active": True}, headers=admin)
    assert (await client.get("/api/users/me", headers={"X-API-Key": api_key})).status_code == 200
    # Moving the user to a role that may not hold keys revokes them for good.
    await client.patch(f"/api/users/{partner_id}", json={"role": "volunteer"}, headers=admin)
    assert (await client.get("/api/users/me", headers={"X-API-Key": api_key})).status_code == 401
    await client.patch(f"/api/users/{partner_id}", json={"role": "partner"}, headers=admin)
    assert (await client.get("/api/users/me", headers={"X-API-Key": api_key})).status_code == 401


async def test_no_api_keys_for_roles_that_read_personal_data(client, conn, auth):
    admin = await auth("admin")
    for who in ("admin", "manager", "volunteer"):
        r = await client.post(
            f"/api/users/{await user_id(conn, who)}/api-keys", json={}, headers=admin
        )
        assert r.status_code == 422 and r.json()["code"] == "api_key_not_allowed", who
    viewer = await client.post(
        f"/api/users/{await user_id(conn, 'viewer')}/api-keys", json={}, headers=admin
    )
    assert viewer.status_code == 201
    assert (
        await client.post("/api/users/999999999/api-keys", json={}, headers=admin)
    ).status_code == 404


# ---------------------------------------------------------------- scopes


async def test_out_of_scope_records_are_404_to_read_and_write(client, auth, markets):
    mine = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("A-1"),
        headers=await auth("admin") | key(),
    )
    theirs = await client.post(
        f"/api/markets/{markets['two']}/stalls",
        json=stall_body("B-1"),
        headers=await auth("admin") | key(),
    )
    mine, theirs = mine.json(), theirs.json()
    patch = {"goods": "Cá"}

    # volunteer: market one; manager: ward 20242, which holds market one.
    for who in ("volunteer", "manager"):
        h = await auth(who)
        assert (await client.get(f"/api/stalls/{mine['id']}", headers=h)).status_code == 200
        r = await client.get(f"/api/stalls/{theirs['id']}", headers=h)
        assert (r.status_code, r.json()["code"]) == (404, "stall_not_found")
        # The answer is the one for a stall that does not exist.
        missing = await client.get("/api/stalls/999999999", headers=h)
        assert missing.json() == r.json() | {"detail": missing.json()["detail"]}
        assert (
            await client.get(f"/api/markets/{markets['two']}/stalls", headers=h)
        ).status_code == 404
        assert (await client.get(f"/api/markets/{markets['two']}", headers=h)).status_code == 404
        # Writes to a stall they may not see answer as for one that does not exist (a 403 told
        # them it does); registering into a market not theirs stays 403 (as for any market id).
        r = await client.patch(
            f"/api/stalls/{theirs['id']}", json=patch, headers=h | {"If-Match": "1"}
        )
        assert (r.status_code, r.json()["code"]) == (404, "stall_not_found")
        r = await client.post(
            f"/api/markets/{markets['two']}/stalls", json=stall_body("C-1"), headers=h | key()
        )
        assert r.status_code == 403
        r = await client.post(
            f"/api/stalls/{theirs['id']}/payment-accounts",
            json={"bin": "970436", "account_number": "5550001112"},
            headers=h,
        )
        assert (r.status_code, r.json()["code"]) == (404, "stall_not_found")
        markets_seen = [m["id"] for m in (await client.get("/api/markets", headers=h)).json()]
        assert markets_seen == [markets["one"]]

    # volunteer2 works in market two and sees it, not market one.
    h2 = await auth("volunteer2")
    assert (await client.get(f"/api/stalls/{theirs['id']}", headers=h2)).status_code == 200
    assert (await client.get(f"/api/stalls/{mine['id']}", headers=h2)).status_code == 404


async def test_viewer_and_partner_see_no_personal_data(client, auth, markets):
    stall = (
        await client.post(
            f"/api/markets/{markets['one']}/stalls",
            json=stall_body(),
            headers=await auth("admin") | key(),
        )
    ).json()
    viewer = await auth("viewer")
    # A city-wide viewer sees every market with its numbers ...
    seen = (await client.get("/api/markets", headers=viewer)).json()
    assert {m["id"] for m in seen} == set(markets.values()) and all(
        "stall_count" in m for m in seen
    )
    # ... but no stall record or list (their role never does, so 403 reveals nothing).
    for who in ("viewer", "partner"):
        h = await auth(who)
        assert (await client.get(f"/api/stalls/{stall['id']}", headers=h)).status_code == 403
        assert (await client.get("/api/stalls/999999999", headers=h)).status_code == 403
        assert (
            await client.get(f"/api/markets/{markets['one']}/stalls", headers=h)
        ).status_code == 403
        assert (
            await client.patch(
                f"/api/stalls/{stall['id']}", json={"goods": "x"}, headers=h | {"If-Match": "1"}
            )
        ).status_code == 403
        assert (
            await client.post(
                f"/api/markets/{markets['one']}/stalls", json=stall_body("Z-1"), headers=h | key()
            )
        ).status_code == 403


async def test_scopes_are_data_changed_by_admins(client, conn, auth, markets):
    stall = (
        await client.post(
            f"/api/markets/{markets['two']}/stalls",
            json=stall_body(),
            headers=await auth("admin") | key(),
        )
    ).json()
    h = await auth("volunteer")
    assert (await client.get(f"/api/stalls/{stall['id']}", headers=h)).status_code == 404
    await client.patch(
        f"/api/users/{await user_id(conn, 'volunteer')}",
        json={"market_ids": [markets["one"], markets["two"]]},
        headers=await auth("admin"),
    )
    assert (await client.get(f"/api/stalls/{stall['id']}", headers=h)).status_code == 200
    # A manager scoped by ward sees every market of that ward.
    await client.patch(
        f"/api/users/{await user_id(conn, 'manager')}",
        json={"ward_codes": ["20285"]},
        headers=await auth("admin"),
    )
    manager = await auth("manager")
    assert (await client.get(f"/api/stalls/{stall['id']}", headers=manager)).status_code == 200
    assert [m["id"] for m in (await client.get("/api/markets", headers=manager)).json()] == [
        markets["two"]
    ]


async def test_a_deactivated_account_is_told_so_only_with_its_right_password(client, conn, auth):
    """The right password of a deactivated account: 403 account_disabled (ask an administrator);
    a wrong password still gets the same answer as an unknown user."""
    admin = await auth("admin")
    uid = await user_id(conn, "viewer")
    await client.patch(f"/api/users/{uid}", json={"active": False}, headers=admin)
    right = await client.post(
        "/api/auth/token", data={"username": "viewer", "password": TEST_PASSWORD}
    )
    assert right.status_code == 403 and right.json()["code"] == "account_disabled"
    wrong = await client.post("/api/auth/token", data={"username": "viewer", "password": "x" * 12})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    await client.patch(f"/api/users/{uid}", json={"active": True}, headers=admin)
    again = await client.post(
        "/api/auth/token", data={"username": "viewer", "password": TEST_PASSWORD}
    )
    assert again.status_code == 200
