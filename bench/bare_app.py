"""The registration bench's baseline: FastAPI + asyncpg, one INSERT per request and nothing else.

It receives the same JSON body as a real registration, parses it, inserts one row and answers 201,
with the same pool size and the same uvicorn flags and worker count as the app in the same run.

It also serves the bench's second reference, the *SQL floor* (POST /floor/markets/{id}/stalls):
the database work of a real registration (merchants.registration.write: the same statement, every
row, index, counter and audit entry) with the thinnest Python around it: no
authentication, no validation, no middleware, a short answer. No implementation of the registration contract can beat it on the same machine, so its
ratio to the bare insert is the ceiling of the app's own ratio; the gap between it and the app is
what our HTTP layer and validation cost. User and market ids come from the request (bench only).
Run: DATABASE_URL=... uvicorn bench.bare_app:create_app --factory
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core import db
from core.crypto import Keys, secret_key
from core.settings import get_settings
from core.text import stall_search_text
from merchants import registration, schemas, stalls
from merchants.queries import registration as registration_q

TABLE = """CREATE TABLE IF NOT EXISTS bench_bare (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stall_code text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)"""
INSERT = "INSERT INTO bench_bare (stall_code, body) VALUES ($1, $2) RETURNING id"


def _floor_registration(
    body: dict, user_id: int, market_id: int, key: str
) -> registration_q.NewStall:
    """The statement parameters of a registration, straight from the JSON (trusted: bench only)."""
    holder, consent = body["holder"], body["consent"]
    accounts = [
        schemas.PaymentAccountIn.model_construct(
            bin=a["bin"], account_number=a["account_number"], account_name=a["account_name"],
            partner_code=a.get("partner_code"), service="account", reference=None,
        )
        for a in body["payment_accounts"]
    ]  # fmt: skip
    code = body["stall_code"]
    location = (
        schemas.Location.model_construct(**body["location"]) if body.get("location") else None
    )
    phone = "+84" + holder["phone"][1:]
    # The stored keys and search text as the app makes them (merchants.registration), so that the
    # floor writes the same bytes: a shorter text or sort key would make the floor cheaper.
    code_key, code_sort = stalls.code_keys(code)
    return registration_q.NewStall(
        user_id=user_id,
        idempotency_key=key,
        request_hash=hashlib.sha256(key.encode()).digest(),
        market_id=market_id,
        stall_code=code,
        code_key=code_key,
        code_sort=code_sort,
        zone=body.get("zone"),
        goods=body.get("goods"),
        location=location,
        search_text=stall_search_text(code, holder["full_name"], phone, body.get("goods")),
        full_name=holder["full_name"],
        phone=phone,
        cccd_hash=None,
        cccd_last4=None,
        check_duplicate=True,
        check_shared_account=True,
        accounts=accounts,
        name_check="disabled",
        purposes=consent["purposes"],
        notice_version=consent["notice_version"],
        audit_entered=registration.entered_view(
            market_id=market_id,
            stall_code=code,
            zone=body.get("zone"),
            goods=body.get("goods"),
            full_name=holder["full_name"],
            phone=phone,
            cccd_last4=None,
            accounts=accounts,
            name_check="disabled",
            location=location,
        ),
    )


def create_app() -> FastAPI:
    """The bare app; DATABASE_URL and the pool size (DB_POOL_MAX or its default) come from the
    environment and the settings, like the real one's."""
    url = os.environ["DATABASE_URL"]
    pool_max = get_settings().db_pool_max

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_max)
        # The floor's own pool, made as the app makes its pool (JSON codecs, timeouts).
        keys = Keys(secret_key(get_settings()))  # the app's keys: the same SECRET_KEY
        app.state.floor_pool = await db.create_pool(url, keys=keys, max_size=pool_max)
        async with app.state.pool.acquire() as conn:
            await conn.execute(TABLE)
        try:
            yield
        finally:
            await app.state.pool.close()
            await app.state.floor_pool.close()

    app = FastAPI(title="bare baseline", lifespan=lifespan)

    @app.post("/bare/stalls", status_code=201)
    async def insert_one(request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn:
            row_id = await conn.fetchval(INSERT, str(body["stall_code"]), raw.decode())
        return JSONResponse({"id": row_id, "stall_code": body["stall_code"]}, status_code=201)

    @app.post("/floor/markets/{market_id}/stalls", status_code=201)
    async def floor(market_id: int, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        user_id = int(request.headers["x-bench-user"])
        pool: asyncpg.Pool = request.app.state.floor_pool
        async with pool.acquire() as conn:
            new = _floor_registration(body, user_id, market_id, request.headers["idempotency-key"])
            stall, _ = await registration.write(conn, new, same_request=lambda _: True)
        return JSONResponse({"id": stall.id, "stall_code": body["stall_code"]}, 201)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
