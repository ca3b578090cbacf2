"""Test fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL/DATABASE_URL is set).

One migrated template database per run; the session database and every `fresh_db` are cloned from it.
API tests share one connection inside an outer transaction that is rolled back after each test
(the app's own transactions become savepoints). Concurrency tests get their own database and pool.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import Request

from core import crypto, db
from core.auth import hash_password, token_hash
from core.settings import Settings
from core.state import state_of

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORD = "correct-horse-battery"

# Every log record of the run, so a test can prove no personal data or secret was logged.
CAPTURED_LOGS: list[str] = []


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            CAPTURED_LOGS.append(self.format(record))
        except Exception:  # noqa: BLE001
            CAPTURED_LOGS.append(str(record.msg))


logging.getLogger().addHandler(_Capture(level=logging.DEBUG))
logging.getLogger().setLevel(logging.DEBUG)
for noisy in (
    "asyncio",
    "alembic",
    "psycopg",
    "sqlalchemy",
    "hpack",
    "PIL",
    "httpcore",
    "filelock",
    "urllib3",
):
    logging.getLogger(noisy).setLevel(logging.WARNING)


TEST_SECRET = "test-secret-key"
# The keys the apps under test derive from their SECRET_KEY (make_settings): every connection the
# tests open carries them, as the app's pool connections do.
TEST_KEYS = crypto.Keys(TEST_SECRET.encode())


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the test server's maintenance database."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    return str(db.embedded_server(ROOT / "var" / "test").get_uri())


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


SEED_USERS = {
    "admin": ("admin", None),
    "manager": ("manager", None),
    "volunteer": ("volunteer", None),
    "viewer": ("viewer", None),
    "partner": ("partner", "MB"),
    "volunteer2": ("volunteer", None),
}


async def _seed(url: str) -> None:
    conn = await db.connect(url, keys=TEST_KEYS)
    try:
        await conn.execute(
            """INSERT INTO admin_unit (scheme, code, level, name, parent_code) VALUES
               ('2025-07', '48', 'province', 'Thành phố Đà Nẵng', NULL),
               ('2025-07', '20242', 'ward', 'Phường Hải Châu', '48'),
               ('2025-07', '20285', 'ward', 'Phường Ngũ Hành Sơn', '48'),
               ('2025-01', '20236', 'ward', 'Phường Hải Châu', NULL)
               ON CONFLICT (scheme, code) DO NOTHING  -- loaded by the directory migration"""
        )
        await conn.execute(
            """INSERT INTO market (name, ward_code, legacy_ward_code, legacy_ward_name, legacy_district_name,
                                   lat, lon, zones)
               VALUES ('Chợ Thử Một', '20242', '20236', 'Phường Hải Châu', 'Quận Hải Châu', 16.047, 108.22,
                       '{A,B}'),
                      ('Chợ Thử Hai', '20285', NULL, NULL, 'Quận Ngũ Hành Sơn', 16.03, 108.25, '{A}')"""
        )
        pw = hash_password(TEST_PASSWORD)
        for username, (role, partner) in SEED_USERS.items():
            await conn.execute(
                "INSERT INTO app_user (username, password_hash, role, partner_code) VALUES ($1, $2, $3, $4)",
                username,
                pw,
                role,
                partner,
            )
        await conn.execute(
            """INSERT INTO user_ward (user_id, ward_code) SELECT id, '20242' FROM app_user WHERE username = 'manager';
               INSERT INTO user_market (user_id, market_id)
                   SELECT u.id, m.id FROM app_user u, market m
                   WHERE u.username = 'volunteer' AND m.name = 'Chợ Thử Một';
               INSERT INTO user_market (user_id, market_id)
                   SELECT u.id, m.id FROM app_user u, market m
                   WHERE u.username = 'volunteer2' AND m.name = 'Chợ Thử Hai';"""
        )
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def template_db(server_url: str) -> AsyncIterator[str]:
    """A migrated, seeded database that others are cloned from (never connected to after setup)."""
    name = f"choso_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    await asyncio.to_thread(db.migrate, url)
    await _seed(url)
    yield name
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def fresh_db(server_url: str, template_db: str) -> AsyncIterator[str]:
    """URL of a private copy of the template database, dropped after the test."""
    name = f"choso_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def session_db(server_url: str, template_db: str) -> AsyncIterator[str]:
    """URL of the database the rolled-back API tests share."""
    name = f"choso_s_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def pool(session_db: str) -> AsyncIterator[asyncpg.Pool]:
    p = await db.create_pool(session_db, keys=TEST_KEYS, min_size=1, max_size=4)
    yield p
    await p.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection in a transaction that is rolled back after the test."""
    async with pool.acquire() as c:
        tr = c.transaction()
        await tr.start()
        try:
            yield c
        finally:
            await tr.rollback()


def make_settings(tmp_path: Path, database_url: str | None, **kw: object) -> Settings:
    """Settings for an app under test: no demo data, no migrations unless asked."""
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path,
        "demo_data": False,
        "auto_migrate": False,
        "secret_key": TEST_SECRET,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(conn: asyncpg.Connection, pool: asyncpg.Pool, session_db: str, tmp_path: Path):
    """The app wired to the test's rolled-back connection."""
    from main import create_app

    application = create_app(make_settings(tmp_path, session_db))
    state = state_of(application)
    state.pool = pool
    state.http = httpx.AsyncClient(timeout=5)

    async def _conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
        yield conn  # get_conn's replacement (core.db.request_conn calls it with the request)

    application.dependency_overrides[db.get_conn] = _conn
    yield application
    await state.http.aclose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


async def make_token(conn: asyncpg.Connection, username: str) -> str:
    """A fresh bearer token for a seeded user (no password hashing on the hot path)."""
    token = f"test-{uuid.uuid4().hex}"
    user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = $1", username)
    await conn.execute(
        "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        token_hash(token),
        user_id,
        datetime.now(UTC) + timedelta(hours=1),
    )
    return token


@pytest.fixture
def auth(conn: asyncpg.Connection) -> Callable[[str], Awaitable[dict[str, str]]]:
    """`await auth("volunteer")` -> headers with a bearer token for that seeded user."""

    async def _headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await make_token(conn, username)}"}

    return _headers


@pytest.fixture
async def markets(conn: asyncpg.Connection) -> dict[str, int]:
    """Ids of the seeded markets: 'one' (in the volunteer's scope) and 'two' (outside it)."""
    rows = await conn.fetch("SELECT id, name FROM market ORDER BY id")
    by_name = {r["name"]: r["id"] for r in rows}
    return {"one": by_name["Chợ Thử Một"], "two": by_name["Chợ Thử Hai"]}


def onboarding_status(account: dict, status: str, channel: str = "field_visit") -> dict:
    """The body of POST /api/stalls/{id}/onboardings moving this account's onboarding (by the
    partner recorded on it) to `status`."""
    return {
        "payment_account_id": account["id"],
        "partner_code": account["partner_code"],
        "channel": channel,
        "status": status,
    }


def stall_body(code: str = "A-12", **over: object) -> dict:
    """A valid registration body (the issue's example)."""
    body: dict = {
        "stall_code": code,
        "zone": "A",
        "goods": "Rau củ",
        "holder": {"full_name": "Lưu Thị Ngọc Thùy", "phone": "0905 123 456"},
        "payment_accounts": [
            {
                "bin": "970422",
                "account_number": "0123456789",
                "account_name": "LUU THI NGOC THUY",
                "partner_code": "MB",
            }
        ],
        "consent": {
            "notice_version": "2026-01",
            "purposes": ["registration", "qr_sign", "coverage_reporting"],
        },
        "location": {"lat": 16.06, "lon": 108.2, "accuracy_m": 12},
    }
    body.update(over)
    return body


class LiveApp:
    """An app on its own database with a real pool (for races and multi-request flows)."""

    def __init__(self, application, pool: asyncpg.Pool, url: str) -> None:
        self.app = application
        self.pool = pool
        self.url = url

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test"
        )

    async def token(self, username: str) -> dict[str, str]:
        async with self.pool.acquire() as c:
            return {"Authorization": f"Bearer {await make_token(c, username)}"}


@pytest.fixture
async def live(fresh_db: str, tmp_path: Path) -> AsyncIterator[LiveApp]:
    from main import create_app

    application = create_app(make_settings(tmp_path, fresh_db))
    p = await db.create_pool(fresh_db, keys=TEST_KEYS, min_size=2, max_size=20)
    state = state_of(application)
    state.pool = p
    state.http = httpx.AsyncClient(timeout=5)
    yield LiveApp(application, p, fresh_db)
    await state.http.aclose()
    await p.close()
