"""Registration through HTTP against a bare FastAPI + asyncpg one-row insert, in the same run.

Both servers are real uvicorn processes on 127.0.0.1 with the same flags, worker count and pool
size, on a fresh database cloned from a migrated one. The load generator (bench/loadgen.py) runs in
this process with the same concurrency against both, in alternating rounds (bare, floor, app, bare,
floor, app, ...), so background noise on a shared machine hits every side; each reports its best
round. The third side, the SQL floor (bench/bare_app.py), runs the registration's own two
statements behind the bare app: what the database work alone allows on this machine.

Knobs (environment): BENCH_WORKERS (1), BENCH_CONCURRENCY (16), BENCH_SECONDS (8 per round),
BENCH_ROUNDS (4), BENCH_MARKETS (20: registrations are spread over them), BENCH_PROFILE (1: py-spy
the app's workers in the last round, written to bench/results/), BENCH_DATABASE_URL (a server's
maintenance-database URL; default: an embedded PostgreSQL under var/bench).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench import harness
from bench.loadgen import LoadResult, Request, closed_loop

RESULTS = Path(__file__).resolve().parent / "results"
THROUGHPUT_TARGET = 0.6
P99_TARGET = 2.0


class Bodies:
    """Unique registrations: stall code, phone, account number and Idempotency-Key never repeat.

    Registrations are spread over the markets round-robin, as volunteers are on a programme day.
    """

    def __init__(self, market_ids: list[int], token: str, user_id: int = 0) -> None:
        self.counter = itertools.count(1)
        self.user_id = user_id
        self.paths = [f"/api/markets/{m}/stalls" for m in market_ids]
        self.auth = f"Bearer {token}"

    def body(self, n: int) -> bytes:
        return json.dumps(
            {
                "stall_code": f"B-{n}",
                "zone": "A",
                "goods": "Rau củ",
                "holder": {"full_name": "Lưu Thị Ngọc Thùy", "phone": f"090{n % 10**7:07d}"},
                "payment_accounts": [
                    {
                        "bin": "970422",
                        "account_number": f"1{n:09d}",
                        "account_name": "LUU THI NGOC THUY",
                        "partner_code": "MB",
                    }
                ],
                "consent": {
                    "notice_version": "2026-01",
                    "purposes": ["registration", "qr_sign", "coverage_reporting"],
                },
                "location": {"lat": 16.06, "lon": 108.2, "accuracy_m": 12},
                "check_shared_account": True,  # as the tablet sends it
            },
            ensure_ascii=False,
        ).encode()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": self.auth,
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }

    def app_request(self) -> Request:
        n = next(self.counter)
        return Request("POST", self.paths[n % len(self.paths)], self._headers(), self.body(n))

    def bare_request(self) -> Request:
        n = next(self.counter)
        return Request("POST", "/bare/stalls", self._headers(), self.body(n))

    def floor_request(self) -> Request:
        n = next(self.counter)
        path = self.paths[n % len(self.paths)].replace("/api/", "/floor/")
        headers = self._headers() | {"X-Bench-User": str(self.user_id)}
        return Request("POST", path, headers, self.body(n))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Round:
    result: LoadResult
    rss_peak_mb: float
    rss_mean_mb: float
    server_cpu_ms: float  # per request, all server processes
    db_cpu_ms: float | None  # per request, every PostgreSQL process (embedded server only)


def _cpu_by_pid(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds each process has used so far (user + system)."""
    used: dict[int, float] = {}
    for p in processes:
        try:
            times = p.cpu_times()
            used[p.pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return used


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings by the processes alive at the second: a process that
    started meanwhile counts from zero, one that ended is left out (a sum over the processes alive
    at each reading went negative when an autovacuum worker ended in the window)."""
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())


def _postgres_processes(postmaster_pid: int | None) -> list[psutil.Process]:
    if postmaster_pid is None:
        return []
    try:
        top = psutil.Process(postmaster_pid)
        return [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


async def _measure(
    server: harness.ServerProcess,
    make: Any,
    *,
    concurrency: int,
    seconds: float,
    postmaster_pid: int | None,
    profile_to: Path | None = None,
) -> Round:
    servers = server.processes()
    spies = _start_profilers(server, seconds, profile_to) if profile_to else []
    with harness.RssSampler(server) as rss:
        # CPU is counted over the whole round (warm-up included), divided by the requests sent.
        cpu0 = _cpu_by_pid(servers)
        db0 = _cpu_by_pid(_postgres_processes(postmaster_pid))
        sent = {"n": 0}

        def counting() -> Request:
            sent["n"] += 1
            return make()

        result = await closed_loop(
            "127.0.0.1", server.port, counting, concurrency=concurrency, seconds=seconds, warmup=1.5
        )
        cpu1 = _cpu_by_pid(servers)
        db1 = _cpu_by_pid(_postgres_processes(postmaster_pid))
    for spy in spies:
        spy.wait(timeout=60)
    n = max(sent["n"], 1)
    return Round(
        result=result,
        rss_peak_mb=rss.peak_mb,
        rss_mean_mb=rss.mean_mb,
        server_cpu_ms=round(1000 * _cpu_used(cpu0, cpu1) / n, 3),
        db_cpu_ms=round(1000 * _cpu_used(db0, db1) / n, 3) if postmaster_pid else None,
    )


def _start_profilers(
    server: harness.ServerProcess, seconds: float, out: Path
) -> list[subprocess.Popen[bytes]]:
    """py-spy on every worker for the measured window (BENCH_PROFILE=1, py-spy installed)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        return []
    out.parent.mkdir(parents=True, exist_ok=True)
    pids = [p for p in server.worker_pids()] or [server.pid]
    return [
        subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", f"{out}.{pid}.txt"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]  # fmt: skip


async def _run(
    *,
    workers: int,
    concurrency: int,
    seconds: float,
    rounds: int,
    markets: int,
    data_dir: Path,
    server_url: str | None,
    profile: bool,
) -> list[dict[str, Any]]:
    postmaster_pid = None
    if server_url is None:
        embedded = harness.EmbeddedPostgres(data_dir)
        server_url = embedded.url
        postmaster_pid = embedded.server.get_pid()
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    template, database = f"choso_bench_tmpl_{suffix}", f"choso_bench_{suffix}"
    await harness.migrated_template(server_url, template)
    url = await harness.clone_database(server_url, template, database)
    seeded = await harness.seed(url, markets=markets, volunteers=1, admin=False)
    bodies = Bodies(seeded.market_ids, seeded.tokens["vol000"], seeded.user_ids["vol000"])

    app_port, bare_port = harness.free_port(), harness.free_port()
    env = harness.app_env(
        database_url=url, data_dir=data_dir / "app", port=app_port, workers=workers
    )
    logs = data_dir / "logs"
    app = harness.ServerProcess(
        "app", harness.uvicorn_argv("main:app_factory", port=app_port, workers=workers), env,
        app_port, logs / "app.log",
    )  # fmt: skip
    bare = harness.ServerProcess(
        "bare", harness.uvicorn_argv("bench.bare_app:create_app", port=bare_port, workers=workers),
        env, bare_port, logs / "bare.log",
    )  # fmt: skip
    rounds_by_side: dict[str, list[Round]] = {"app": [], "bare": [], "floor": []}
    profile_to = RESULTS / "registration-profile" if profile else None
    try:
        app.start()
        bare.start()
        await asyncio.gather(app.wait_ready(), bare.wait_ready())
        # A database that has seen registrations, with planner statistics, as in production
        # (autovacuum analyzes there); a never-analyzed empty clone picks other plans.
        for server, make in (
            (app, bodies.app_request),
            (bare, bodies.bare_request),
            (bare, bodies.floor_request),
        ):
            await closed_loop("127.0.0.1", server.port, make, concurrency=concurrency, seconds=3)
        await _execute(url, "ANALYZE")
        for i in range(rounds):
            for name, server, make in (
                ("bare", bare, bodies.bare_request),
                ("floor", bare, bodies.floor_request),
                ("app", app, bodies.app_request),
            ):
                await _settle(url)
                last_app_round = name == "app" and i == rounds - 1
                rounds_by_side[name].append(
                    await _measure(
                        server, make, concurrency=concurrency, seconds=seconds,
                        postmaster_pid=postmaster_pid,
                        profile_to=profile_to if last_app_round else None,
                    )
                )  # fmt: skip
        stalls = await _count(url, "SELECT count(*) FROM stall")
    finally:
        app.stop()
        bare.stop()
        await harness.drop_database(server_url, database)
        await harness.drop_database(server_url, template)

    best = {
        name: max(runs, key=lambda r: r.result.throughput) for name, runs in rounds_by_side.items()
    }
    a, b, f = best["app"], best["bare"], best["floor"]
    throughput_ratio = a.result.throughput / b.result.throughput if b.result.throughput else 0.0
    bare_p99 = b.result.percentile(99)
    p99_ratio = a.result.percentile(99) / bare_p99 if bare_p99 else 0.0

    def side(r: Round) -> dict[str, Any]:
        return r.result.summary() | {
            "rss_peak_mb": r.rss_peak_mb,
            "rss_mean_mb": r.rss_mean_mb,
            "server_cpu_ms_per_request": r.server_cpu_ms,
            "db_cpu_ms_per_request": r.db_cpu_ms,
        }

    row: dict[str, Any] = {
        "name": "registration_http",
        "workers": workers,
        "concurrency": concurrency,
        "markets": markets,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "app": side(a),
        "bare": side(b),
        "sql_floor": side(f),
        "all_rounds_rps": {
            name: [round(r.result.throughput, 1) for r in runs]
            for name, runs in rounds_by_side.items()
        },
        "stalls_in_db": stalls,
        "throughput_ratio": round(throughput_ratio, 3),
        "throughput_target": f">= {THROUGHPUT_TARGET}",
        "throughput_ok": throughput_ratio >= THROUGHPUT_TARGET,
        "p99_ratio": round(p99_ratio, 3),
        "p99_target": f"<= {P99_TARGET}",
        "p99_ok": 0 < p99_ratio <= P99_TARGET,
        # The registration's own SQL with no HTTP layer of ours: the app's ratio cannot pass it.
        "sql_floor_throughput_ratio": round(f.result.throughput / b.result.throughput, 3)
        if b.result.throughput
        else 0.0,
        "sql_floor_p99_ratio": round(f.result.percentile(99) / bare_p99, 3) if bare_p99 else 0.0,
        "app_vs_sql_floor_throughput": round(a.result.throughput / f.result.throughput, 3)
        if f.result.throughput
        else 0.0,
        # The same two ratios taken within each round (its sides ran back to back), median over
        # the rounds: less moved by one lucky round of one side than the best rounds above.
        "sql_floor_ratio_median_of_rounds": _median_ratio(
            rounds_by_side["floor"], rounds_by_side["bare"]
        ),
        "app_vs_sql_floor_median_of_rounds": _median_ratio(
            rounds_by_side["app"], rounds_by_side["floor"]
        ),
    }
    if profile_to is not None:
        row["profile"] = summarize_profiles(profile_to)
    return [row]


def _median_ratio(top: list[Round], bottom: list[Round]) -> float:
    """Median over the rounds of top's throughput / bottom's in the same round."""
    ratios = [
        t.result.throughput / b.result.throughput
        for t, b in zip(top, bottom, strict=True)
        if b.result.throughput
    ]
    return round(statistics.median(ratios), 3) if ratios else 0.0


def summarize_profiles(prefix: Path, top: int = 25) -> dict[str, Any]:
    """Where the worker's samples went: inclusive share per function of ours, and per library."""
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for path in prefix.parent.glob(prefix.name + ".*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            seen = set()
            for frame in frames:
                name = frame.split(" (")[0]
                where = frame.split(" (")[-1].split(":")[0] if " (" in frame else ""
                if (
                    where.startswith(("core/", "merchants/", "partners/", "qr/"))
                    or "/main/" in where
                ):
                    key = f"{where.split('/work/main/')[-1]}:{name}"
                    if key not in seen:
                        inclusive[key] += n
                        seen.add(key)
            leaf = frames[-1]
            libraries[_library(leaf)] += n
    if not total:
        return {"note": "no samples (py-spy missing or not permitted)"}
    return {
        "samples": total,
        "self_time_by_library_pct": {
            k: round(100 * v / total, 1) for k, v in libraries.most_common()
        },
        "inclusive_pct_our_functions": {
            k: round(100 * v / total, 1) for k, v in inclusive.most_common(top)
        },
        "raw": str(prefix) + ".<pid>.txt",
    }


LIBRARIES = (
    "asyncpg", "pydantic", "fastapi", "starlette", "uvicorn", "httptools", "phonenumbers", "json",
    "asyncio", "prometheus_client", "argon2",
)  # fmt: skip


def _library(frame: str) -> str:
    where = frame.split(" (")[-1] if " (" in frame else frame
    for lib in LIBRARIES:
        if f"{lib}/" in where or where.startswith(lib):
            return lib
    if where.startswith(("core/", "merchants/", "partners/", "qr/")) or "/work/main/" in where:
        return "our code"
    return "other"


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _settle(url: str) -> None:
    """Pay the maintenance the previous round left before the next one is timed: its rows are
    vacuumed and analyzed and its writes checkpointed, so autovacuum and the checkpointer do that
    work now, not on the CPU of whichever side runs next (each side still pays for the maintenance
    its own round starts). Without the rights to checkpoint (a server of its own), only the vacuum."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            pass
    finally:
        await conn.close()


async def _count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def run() -> list[dict[str, Any]]:
    """Registration vs bare insert: throughput, p50/p99, ratios and the app's resident memory."""
    return asyncio.run(
        _run(
            workers=_env_int("BENCH_WORKERS", 1),
            concurrency=_env_int("BENCH_CONCURRENCY", 16),
            seconds=float(os.environ.get("BENCH_SECONDS", "8")),
            rounds=_env_int("BENCH_ROUNDS", 4),
            markets=_env_int("BENCH_MARKETS", 20),
            data_dir=harness.ROOT / "var" / "bench",
            server_url=os.environ.get("BENCH_DATABASE_URL") or None,
            profile=os.environ.get("BENCH_PROFILE", "").lower() in ("1", "true", "yes"),
        )
    )


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
