"""Sign-in hardening: token expiry and revocation, throttling and bounded locks, password rules."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from starlette.requests import Request

from core import network
from core.auth import token_hash
from core.state import state_of
from tests.conftest import TEST_PASSWORD, make_token


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", data={"username": username, "password": password})


def client_from(app, address: str) -> httpx.AsyncClient:
    """A client whose requests come from another network address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_sign_in_issues_a_token_that_expires_after_the_configured_ttl(client, conn):
    r = await sign_in(client, "Volunteer", TEST_PASSWORD)  # user names are case-insensitive
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert r.json()["token_type"] == "bearer"
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "volunteer"
    row = await conn.fetchrow(
        "SELECT created_at, expires_at FROM auth_token WHERE token_hash = $1", token_hash(token)
    )
    assert (
        timedelta(hours=11, minutes=59)
        < row["expires_at"] - row["created_at"]
        <= timedelta(hours=12)
    )
    # Only the hash is stored.
    assert (
        await conn.fetchval("SELECT count(*) FROM auth_token t WHERE t::text LIKE $1", f"%{token}%")
        == 0
    )


async def test_an_expired_token_is_refused(client, conn):
    token = f"test-{uuid.uuid4().hex}"
    user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'admin'")
    await conn.execute(
        "INSERT INTO auth_token (token_hash, user_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        token_hash(token),
        user_id,
        datetime.now(UTC) - timedelta(hours=13),
        datetime.now(UTC) - timedelta(hours=1),
    )
    r = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] == "unauthorized"


async def test_token_ttl_is_a_setting(app, client, conn):
    state_of(app).settings = state_of(app).settings.model_copy(update={"token_ttl_hours": 1.5})
    token = (await sign_in(client, "viewer", TEST_PASSWORD)).json()["access_token"]
    row = await conn.fetchrow(
        "SELECT created_at, expires_at FROM auth_token WHERE token_hash = $1", token_hash(token)
    )
    assert (
        timedelta(hours=1, minutes=29)
        < row["expires_at"] - row["created_at"]
        <= timedelta(hours=1, minutes=30)
    )


async def test_logout_revokes_the_token(client, conn):
    token = (await sign_in(client, "manager", TEST_PASSWORD)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401
    assert (
        await conn.fetchval(
            "SELECT revoked_at FROM auth_token WHERE token_hash = $1", token_hash(token)
        )
        is not None
    )
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 401


async def test_deactivating_a_user_revokes_their_tokens(client, conn, auth):
    victim = await make_token(conn, "volunteer2")
    other = await make_token(conn, "volunteer2")
    headers = {"Authorization": f"Bearer {victim}"}
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer2'")
    r = await client.patch(
        f"/api/users/{user_id}", json={"active": False}, headers=await auth("admin")
    )
    assert r.status_code == 200 and r.json()["active"] is False
    for token in (victim, other):
        assert (
            await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401
    revoked = await conn.fetchval(
        "SELECT bool_and(revoked_at IS NOT NULL) FROM auth_token WHERE user_id = $1", user_id
    )
    assert revoked is True
    # Signing in is refused too; with the right password the person is told the account is off
    # (only someone who knows the password learns it), with a wrong one nothing.
    denied = await sign_in(client, "volunteer2", TEST_PASSWORD)
    assert denied.status_code == 403 and denied.json()["code"] == "account_disabled"
    guessed = await sign_in(client, "volunteer2", "not-the-password")
    assert guessed.status_code == 401 and guessed.json()["code"] == "invalid_credentials"
    # Reactivating does not bring old tokens back.
    await client.patch(f"/api/users/{user_id}", json={"active": True}, headers=await auth("admin"))
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401


async def test_a_role_change_ends_sessions(client, conn, auth):
    token = await make_token(conn, "volunteer2")
    user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer2'")
    await client.patch(
        f"/api/users/{user_id}", json={"role": "viewer"}, headers=await auth("admin")
    )
    assert (
        await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401


async def test_repeated_failures_are_slowed_then_locked_per_user_and_address(app, client, conn):
    settings = state_of(app).settings
    codes = [
        (await sign_in(client, "manager", "wrong-password-1")).status_code
        for _ in range(settings.login_max_failures)
    ]
    assert codes == [401] * (settings.login_max_failures - 1) + [429]

    locked = await sign_in(client, "manager", TEST_PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    retry = int(locked.headers["retry-after"])
    assert 1 <= retry <= settings.login_lock_seconds and locked.json()["retry_after"] == retry

    # The same user from another address is not locked out (the lock is per user and address) ...
    async with client_from(app, "10.1.2.3") as elsewhere:
        assert (await sign_in(elsewhere, "manager", TEST_PASSWORD)).status_code == 200
    # ... nor is another user from the attacker's address.
    assert (await sign_in(client, "viewer", TEST_PASSWORD)).status_code == 200

    # The lock is bounded: once it has expired, the right password works and the count starts over.
    await conn.execute(
        "UPDATE login_attempt SET locked_until = clock_timestamp() - interval '1 second' "
        "WHERE attempt_key LIKE 'manager|%'"
    )
    assert (await sign_in(client, "manager", TEST_PASSWORD)).status_code == 200
    assert (
        await conn.fetchval("SELECT count(*) FROM login_attempt WHERE attempt_key LIKE 'manager|%'")
        == 0
    )


async def test_a_success_resets_the_failure_count(app, client, conn):
    for _ in range(state_of(app).settings.login_max_failures - 1):
        assert (await sign_in(client, "viewer", "nope-nope-nope")).status_code == 401
    assert (await sign_in(client, "viewer", TEST_PASSWORD)).status_code == 200
    assert (await sign_in(client, "viewer", "nope-nope-nope")).status_code == 401  # not locked


async def test_unknown_users_are_throttled_like_real_ones(app, client):
    codes = [
        (await sign_in(client, "nobody-here", "whatever-123")).status_code
        for _ in range(state_of(app).settings.login_max_failures)
    ]
    assert codes[:-1] == [401] * (len(codes) - 1) and codes[-1] == 429


async def test_parallel_guesses_cannot_pass_the_limit(live):
    settings = state_of(live.app).settings
    async with live.client() as c:
        responses = await asyncio.gather(
            *[
                sign_in(c, "admin", f"guess-{i:04d}-xx")
                for i in range(settings.login_max_failures * 3)
            ]
        )
        codes = sorted(r.status_code for r in responses)
        # Every attempt is counted before its password is checked: at most max-1 wrong answers.
        assert codes.count(401) == settings.login_max_failures - 1
        assert codes.count(429) == len(codes) - codes.count(401)
        assert (await sign_in(c, "admin", TEST_PASSWORD)).status_code == 429


async def test_passwords_are_argon2_with_a_minimum_and_no_low_maximum(client, conn, auth):
    admin = await auth("admin")
    for length in (64, 200):
        password = ("Pässwörd-" * 40)[:length]
        body = {"username": f"long{length}", "password": password, "role": "viewer"}
        r = await client.post("/api/users", json=body, headers=admin)
        assert r.status_code == 201, r.text
        stored = await conn.fetchval(
            "SELECT password_hash FROM app_user WHERE username = $1", f"long{length}"
        )
        assert stored.startswith("$argon2id$") and password not in stored
        assert (await sign_in(client, f"long{length}", password)).status_code == 200
        assert (await sign_in(client, f"long{length}", password[:-1])).status_code == 401

    short = await client.post(
        "/api/users",
        json={"username": "shorty", "password": "123456789", "role": "viewer"},
        headers=admin,
    )
    assert short.status_code == 422 and short.json()["code"] == "weak_password"
    assert short.json()["field"] == "password"


async def test_a_forged_forwarded_for_does_not_escape_the_lock(app, client):
    """Without trusted proxies, X-Forwarded-For is the client's own words and is ignored."""
    codes = []
    for i in range(state_of(app).settings.login_max_failures + 2):
        r = await client.post(
            "/api/auth/token",
            data={"username": "manager", "password": "wrong-password-1"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        codes.append(r.status_code)
    assert codes[-1] == 429  # every guess counted against the one real address


async def test_behind_a_trusted_proxy_the_forwarded_address_counts_and_must_be_an_address(app):
    state = state_of(app)
    state.trusted_proxies = network.parse_networks(["10.0.0.0/8"])
    limit = state.settings.login_max_failures
    async with client_from(app, "10.0.0.5") as proxy:
        for _ in range(limit):
            await proxy.post(
                "/api/auth/token",
                data={"username": "manager", "password": "wrong-password-1"},
                headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.9"},
            )
        # The client behind both proxies is locked ...
        locked = await proxy.post(
            "/api/auth/token",
            data={"username": "manager", "password": TEST_PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert locked.status_code == 429
        # ... another client behind the same proxy is not.
        other = await proxy.post(
            "/api/auth/token",
            data={"username": "manager", "password": TEST_PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.8"},
        )
        assert other.status_code == 200
        # Garbage in the header is not an address: the proxy's own address is used.
        for junk in ("not-an-ip", "203.0.113.7\x00", "' OR 1=1", "999.1.1.1"):
            request = _request_from("10.0.0.5", junk)
            assert network.client_address(request, state.trusted_proxies) == "10.0.0.5"


def _request_from(peer: str, forwarded: str) -> Request:
    scope = {
        "type": "http",
        "client": (peer, 1234),
        "headers": [(b"x-forwarded-for", forwarded.encode("latin-1"))],
    }
    return Request(scope)
