"""Stall list import: 10,000 rows of a board's .xlsx, against registering stalls one by one.

One fresh database, the ASGI app with a real pool (no lifespan, so no periodic job runs), an
administrator's token. In the same run:

- baseline: the same kind of rows registered one request at a time (POST
  /api/markets/{id}/stalls, what a script looping over the list would do), BENCH_IMPORT_BASELINE
  rows (500) into another market: rows per second;
- ours: POST /api/markets/{id}/stalls/import with an .xlsx of BENCH_IMPORT_ROWS rows (10,000,
  the import's limit; half with an account): the dry run, the real run, and the same file again
  (every row unchanged, nothing written); plus reading the file alone (core.spreadsheet).

Prints rows/s of both, their ratio (vs_one_by_one), and the time for the 10,000 rows (the issue's target: under a
minute); checks that every row was created and that the counters equal a full recount.

    python -m bench --only import
    python -m bench.bench_import

BENCH_DATABASE_URL points at a server to use; otherwise an embedded PostgreSQL under
var/bench_import is started. The bench database is dropped at the end.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import openpyxl
from pydantic import SecretStr

from core.crypto import Keys
from core.state import state_of

BENCH_KEYS = Keys(b"choso-import-bench")
ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TARGET_SECONDS = 60.0
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ")
GIVEN = ("Thị Hoa", "Văn Bình", "Thị Cúc", "Văn Dũng", "Thị Em", "Văn Giang", "Thị Hạnh")
GOODS = ("Rau củ", "Cá", "Thịt", "Vải", "Hoa quả", "Bánh kẹo", "Gạo", "Đồ khô")
BANKS = ("Vietcombank", "BIDV", "VietinBank", "MB", "Agribank", "Techcombank")
MOBILE = ("090", "091", "093", "094", "097", "098")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from core import db

    return str(db.embedded_server(ROOT / "var" / "bench_import").get_uri())


def board_rows(n: int, *, offset: int = 0) -> list[list[Any]]:
    """A board's list: Vietnamese headers, n stalls over 8 zones, half with an account."""
    rows: list[list[Any]] = [
        ["Mã sạp", "Khu", "Họ tên", "Số điện thoại", "Mặt hàng", "Ngân hàng", "Số tài khoản",
         "Tên chủ tài khoản"],
    ]  # fmt: skip
    for i in range(offset, offset + n):
        zone = "ABCDEFGH"[i % 8]
        name = f"{FAMILY[i % len(FAMILY)]} {GIVEN[(i // 10) % len(GIVEN)]}"
        account = i % 2 == 0
        rows.append(
            [
                f"{zone}-{i + 1}",
                zone,
                name,
                f"{MOBILE[i % len(MOBILE)]}{(i * 7919) % 10**7:07d}",
                GOODS[i % len(GOODS)],
                BANKS[i % len(BANKS)] if account else None,
                f"{10**9 + i}" if account else None,
                None,
            ]
        )
    return rows


def workbook(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách sạp")
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def _seed(url: str) -> tuple[str, int, int]:
    """Two markets and an administrator with a token: (token, import market, baseline market)."""
    from core import db
    from core.auth import token_hash

    token = f"bench-{uuid.uuid4().hex}"
    conn = await db.connect(url, keys=BENCH_KEYS)
    try:
        user_id = await conn.fetchval(
            "INSERT INTO app_user (username, password_hash, role) "
            "VALUES ('benchadmin', 'x', 'admin') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            token_hash(token),
            user_id,
            datetime.now(UTC) + timedelta(hours=2),
        )
        ids = await conn.fetch(
            "INSERT INTO market (name, zones) VALUES ('Chợ Nhập', '{}'), ('Chợ Đăng Ký', '{}') "
            "RETURNING id"
        )
    finally:
        await conn.close()
    return token, int(ids[0]["id"]), int(ids[1]["id"])


async def _baseline(
    client: httpx.AsyncClient, headers: dict[str, str], market: int, n: int
) -> float:
    """Rows per second registering the same kind of rows one request at a time."""
    bodies = []
    for row in board_rows(n, offset=500_000)[1:]:
        code, zone, name, phone, goods, bank, number, _ = row
        body: dict[str, Any] = {
            "stall_code": code,
            "zone": zone,
            "goods": goods,
            "holder": {"full_name": name, "phone": phone},
            "payment_accounts": [{"bin": "970436", "account_number": number}] if bank else [],
            "consent": {"notice_version": "2026-01", "purposes": ["registration"]},
        }
        bodies.append(body)
    started = time.perf_counter()
    for body in bodies:
        r = await client.post(
            f"/api/markets/{market}/stalls",
            json=body,
            headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text[:300]
    return n / (time.perf_counter() - started)


async def _run(rows: int, baseline_rows: int) -> dict[str, Any]:
    from core import db
    from core.settings import Settings
    from core.spreadsheet import read_table
    from coverage import counters
    from main import create_app

    server = _server_url()
    name = f"choso_bench_import_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = _with_database(server, name)
    pool: asyncpg.Pool | None = None
    try:
        await asyncio.to_thread(db.migrate, url)
        token, market, other = await _seed(url)
        headers = {"Authorization": f"Bearer {token}"}
        settings = Settings(
            database_url=url,
            demo_data=False,
            auto_migrate=False,
            secret_key=SecretStr("bench"),
            data_dir=ROOT / "var" / "bench_import",
        )
        app = create_app(settings)
        pool = await db.create_pool(url, keys=BENCH_KEYS, min_size=1, max_size=4)
        state_of(app).pool = pool
        data = workbook(board_rows(rows))
        t0 = time.perf_counter()
        table = read_table(data, "ds.xlsx")
        parse_s = time.perf_counter() - t0
        assert len(table.rows) == rows
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
        ) as client:
            baseline = await _baseline(client, headers, other, baseline_rows)

            async def post(dry_run: bool) -> tuple[float, dict[str, Any]]:
                t = time.perf_counter()
                r = await client.post(
                    f"/api/markets/{market}/stalls/import",
                    params={"dry_run": "true"} if dry_run else {},
                    files={"file": ("danh-sach.xlsx", data, XLSX)},
                    data={"list_date": "2026-12-01"},
                    headers=headers,
                )
                assert r.status_code == 200, r.text[:500]
                return time.perf_counter() - t, r.json()

            dry_s, dry = await post(True)
            real_s, real = await post(False)
            again_s, again = await post(False)
        assert dry["counts"]["created"] == rows and real["counts"]["created"] == rows, real[
            "counts"
        ]
        assert again["counts"]["unchanged"] == rows and not again["written"]
        async with pool.acquire() as conn:
            report = await counters.recount(conn, window_days=30)
            assert report.ok, report.mismatches[:5]
            stalls = await conn.fetchval(
                "SELECT count(*) FROM stall WHERE market_id = $1 AND import_id IS NOT NULL", market
            )
        assert stalls == rows
        rows_per_s = rows / real_s
        return {
            "name": "stall_import",
            "rows": rows,
            "seconds_10k": round(real_s * 10_000 / rows, 1),
            "real_run_s": round(real_s, 2),
            "rows_per_s": round(rows_per_s),
            "dry_run_s": round(dry_s, 2),
            "same_file_again_s": round(again_s, 2),
            "read_file_s": round(parse_s, 2),
            "file_kb": round(len(data) / 1024),
            "baseline_rows_per_s": round(baseline),
            "baseline_rows": baseline_rows,
            "vs_one_by_one": round(rows_per_s / baseline, 1),
        }
    finally:
        if pool is not None:
            await pool.close()
        admin = await asyncpg.connect(server)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def run(rows: int | None = None, baseline_rows: int | None = None) -> dict[str, Any]:
    """The bench's row for `python -m bench` (sizes from BENCH_IMPORT_ROWS, BENCH_IMPORT_BASELINE)."""
    rows = rows or int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
    baseline_rows = baseline_rows or int(os.environ.get("BENCH_IMPORT_BASELINE", "500"))
    return asyncio.run(_run(rows, baseline_rows))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
