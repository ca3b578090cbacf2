"""The registration bench's baseline: FastAPI + asyncpg, one INSERT per request and nothing else.

It receives the same JSON body as a real registration, parses it, inserts one row and answers 201,
with the same pool size and the same uvicorn flags and worker count as the app in the same run.
Run: DATABASE_URL=... uvicorn bench.bare_app:create_app --factory
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TABLE = """CREATE TABLE IF NOT EXISTS bench_bare (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stall_code text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)"""
INSERT = "INSERT INTO bench_bare (stall_code, body) VALUES ($1, $2) RETURNING id"


def create_app() -> FastAPI:
    """The bare app; DATABASE_URL and DB_POOL_MAX come from the environment like the real one's."""
    url = os.environ["DATABASE_URL"]
    pool_max = int(os.environ.get("DB_POOL_MAX", "10"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_max)
        async with app.state.pool.acquire() as conn:
            await conn.execute(TABLE)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="bare baseline", lifespan=lifespan)

    @app.post("/bare/stalls", status_code=201)
    async def insert_one(request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn:
            row_id = await conn.fetchval(INSERT, str(body["stall_code"]), raw.decode())
        return JSONResponse({"id": row_id, "stall_code": body["stall_code"]}, status_code=201)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
