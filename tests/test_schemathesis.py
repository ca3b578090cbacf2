"""Schemathesis against the app's own OpenAPI schema: every operation, as an administrator.

Bounded and deterministic (derandomized, a fixed number of examples per operation): it runs in CI.
Each generated request goes through the real ASGI app (schemathesis runs its lifespan in its own
event loop, so the app opens its own pool) on a private database cloned from the migrated template,
with a few stalls registered first so that small generated ids reach real records.
Checks: no 5xx, and every response that the schema documents conforms to it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import Receive, Scope, Send

from core.auth import token_hash
from core.state import state_of
from main import create_app
from tests.conftest import TEST_KEYS, make_settings, with_database

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))


class DeferredApp:
    """The ASGI app under test, chosen by a fixture once its database exists."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the api_database fixture sets the app"
        await self.app(scope, receive, send)


# The schema is the app's own (no database needed to build it).
_schema_app = create_app(make_settings(ROOT / "var" / "schemathesis", None))
_raw_schema = _schema_app.openapi()
deferred = DeferredApp()
schema = schemathesis.openapi.from_dict(_raw_schema)
schema.app = deferred

# Error responses are application/problem+json. Once the schema documents them (4XX/5XX or per
# status), status codes and content types are checked too; until then only documented ones are.
CHECKS = [not_a_server_error, response_schema_conformance]
if "application/problem+json" in str(_raw_schema.get("paths", {})):
    CHECKS += [status_code_conformance, content_type_conformance]


class Admin:
    """A fresh admin token per call: generated requests may sign out or deactivate the admin."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url, autocommit=True)

    def headers(self) -> dict[str, str]:
        token = f"st-{uuid.uuid4().hex}"
        with self.db.cursor() as cur:
            cur.execute(
                "UPDATE app_user SET active = true, role = 'admin' "
                "WHERE username = 'admin' RETURNING id"
            )
            row = cur.fetchone()
            assert row is not None
            cur.execute(
                "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES (%s, %s, %s)",
                (token_hash(token), row[0], datetime.now(UTC) + timedelta(hours=1)),
            )
        return {"Authorization": f"Bearer {token}"}


async def _register_some_stalls(url: str) -> None:
    """Stalls with accounts (ids 1, 2, ...), so generated small ids reach real records too."""
    import httpx

    from core import db
    from tests.conftest import make_token, stall_body

    app = create_app(make_settings(ROOT / "var" / "schemathesis", url))
    state_of(app).pool = await db.create_pool(url, keys=TEST_KEYS, min_size=1, max_size=2)
    state_of(app).http = httpx.AsyncClient(timeout=5)
    try:
        async with state_of(app).pool.acquire() as conn:
            headers = {"Authorization": f"Bearer {await make_token(conn, 'admin')}"}
            market_ids = [r["id"] for r in await conn.fetch("SELECT id FROM market ORDER BY id")]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for i in range(6):
                body = stall_body(
                    f"A-{i + 1}", holder={"full_name": "Trần Thị Mai", "phone": f"090555000{i}"}
                )
                reply = await client.post(
                    f"/api/markets/{market_ids[i % len(market_ids)]}/stalls",
                    json=body,
                    headers=headers | {"Idempotency-Key": f"schemathesis-seed-{i}"},
                )
                assert reply.status_code == 201, reply.text
    finally:
        await state_of(app).http.aclose()
        await state_of(app).pool.close()


@pytest.fixture(scope="module")
async def api_database(server_url: str, template_db: str) -> Any:
    import asyncpg

    name = f"choso_st_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    await _register_some_stalls(url)
    deferred.app = create_app(make_settings(ROOT / "var" / "schemathesis", url))
    yield url
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()  # closes the app's pool in schemathesis's loop
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def admin(api_database: str) -> Iterator[Admin]:
    who = Admin(api_database)
    yield who
    who.db.close()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema_and_never_fails(case, admin):
    case.call_and_validate(
        headers=admin.headers(),
        checks=CHECKS,
    )
