"""`make bench`: every benchmark in one run, one table, and bench/results/latest.json.

    python -m bench                      # all benches, coverage at reduced scale
    python -m bench --only registration  # a subset (registration, payload, render, durability,
                                         # coverage, import, tablet, pages)
    BENCH_COVERAGE_FULL=1 python -m bench   # coverage at the full 10,000 markets / 2,000,000 stalls
    BENCH_COVERAGE_KEEP=1 ...               # keep the seeded national databases for the next run
    python -m bench --only tablet        # the volunteer app in Chromium on emulated 3G (bench_tablet.py)
    python -m bench --only pages         # /dashboard and /map, national vs city (bench_pages.py)
    python -m bench --only statement     # what each part of the registration statement costs
                                         # PostgreSQL, per execution (bench_statement.py)

Each bench measures its baseline in the same run and reports ratios, never pass/fail on absolute
times; the table says whether each ratio meets the target its issue sets.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
BENCHES = (
    "registration", "statement", "payload", "render", "durability", "coverage", "import",
    "tablet", "pages",
)  # fmt: skip


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 1e9, 1)
    except ImportError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


REDUCED_COVERAGE_SCALE = 0.05  # 500 markets, 100,000 stalls against 20,000: minutes, not tens


def _coverage_kwargs(run: Any) -> dict[str, Any]:
    """Reduced scale unless BENCH_COVERAGE_FULL=1 (10,000 markets, 2,000,000 stalls)."""
    full = os.environ.get("BENCH_COVERAGE_FULL", "").lower() in ("1", "true", "yes")
    if full or os.environ.get("BENCH_COVERAGE_SCALE"):
        return {}  # the bench's own defaults (full size) or its own scale variable
    params = inspect.signature(run).parameters
    kwargs: dict[str, Any] = {}
    for name, value in (("large_stalls", 2_000_000), ("large_markets", 10_000)):
        if name in params:
            kwargs[name] = max(1, int(value * REDUCED_COVERAGE_SCALE))
    return kwargs


COVERAGE_KINDS = ("market", "province", "ward", "all_markets", "drill", "map", "history")


def _coverage_row(result: dict[str, Any]) -> dict[str, Any]:
    """bench_coverage returns sizes, ratios and before/after timings; one row for the table."""
    small, large = result.get("small", {}), result.get("large", {})
    row: dict[str, Any] = {"name": "coverage_national"}
    for key in [f"ratio_{k}" for k in COVERAGE_KINDS] + ["history_speedup", "markets_json_speedup"]:
        if key in result:
            row[key] = round(float(result[key]), 2)
    for label, sizes in (("small", small), ("large", large)):
        row[label] = (
            f"{sizes.get('markets')} markets in {sizes.get('wards')} wards of "
            f"{sizes.get('provinces')} provinces / {sizes.get('stalls')} stalls"
        )
        for what in COVERAGE_KINDS:
            if what in sizes:
                row[f"{label}_{what}_ms"] = round(float(sizes[what]) * 1000, 2)
    row["detail"] = result
    return row


def run_bench(name: str) -> tuple[list[dict[str, Any]], str | None]:
    """Import bench/bench_<name>.py and call its run(); (rows, error)."""
    try:
        module = importlib.import_module(f"bench.bench_{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bench.bench_{name}":
            return [], "not written yet"
        return [], f"import failed: {exc}"
    run = module.run
    kwargs = _coverage_kwargs(run) if name == "coverage" else {}
    started = time.perf_counter()
    try:
        result = run(**kwargs)
    except Exception:  # noqa: BLE001 - one broken bench must not hide the others
        return [], traceback.format_exc(limit=6)
    if name == "coverage" and isinstance(result, dict) and "name" not in result:
        result = _coverage_row(result)
    rows = result if isinstance(result, list) else [result]
    for row in rows:
        row.setdefault("bench_seconds", round(time.perf_counter() - started, 1))
    return rows, None


# Targets the issues set, by row name: (ratio key, comparison, target, what the ratio means).
TARGETS: dict[str, list[tuple[str, str, float | None, str]]] = {
    "registration_http": [
        ("throughput_ratio", ">=", 0.6, "registration rps / bare insert rps"),
        ("p99_ratio", "<=", 2.0, "registration p99 / bare insert p99"),
        ("sql_floor_throughput_ratio", ">=", 0.3, "SQL floor rps / bare insert rps (issue 16)"),
        ("app_vs_sql_floor_throughput", ">=", 0.85, "registration rps / SQL floor rps (issue 16)"),
        ("sql_floor_ratio_median_of_rounds", "", None, "SQL floor / bare, median of the rounds"),
        ("app_vs_sql_floor_median_of_rounds", "", None, "registration / floor, median of rounds"),
    ],
    "payload_encode": [("ratio", ">=", 2.0, "ours / vietnam-qr-pay encodes per s")],
    "png_render": [("ratio", ">=", 3.0, "ours / plain qrcode PNGs per s")],
    "market_pdf_500": [("ratio", ">=", 3.0, "naive qrcode loop time / ours")],
    "sign_durability": [
        ("ours_share", ">=", 0.9, "damaged sign photos read back exactly, our sign"),
        ("points_above_plain", ">=", 10.0, "ours - plain qrcode.make() in the same square, points"),
    ],
    "stall_import": [
        ("seconds_10k", "<=", 60.0, "seconds to import 10,000 rows of an .xlsx (real run)"),
    ],
    "coverage_national": [
        ("ratio_market", "<=", 2.0, "GET /api/markets/{id}/coverage, large / small stalls"),
        ("ratio_province", "<=", 2.0, "GET /api/coverage?group_by=province, large / small"),
        ("ratio_ward", "<=", 2.0, "GET /api/coverage?group_by=ward (every ward), large / small"),
        (
            "ratio_all_markets",
            "<=",
            2.0,
            "GET /api/coverage?group_by=market (every market), large / small",
        ),
        (
            "ratio_drill",
            "<=",
            2.0,
            "group_by=ward&province=…, group_by=market&ward=…, large / small",
        ),
        ("ratio_map", "<=", 2.0, "GET /api/coverage/markets.geojson?ward=…, large / small"),
        ("ratio_history", "<=", 2.0, "GET /api/coverage/history (country, 90 days), large / small"),
        ("history_speedup", "", None, "history: per-market lookups before / area days now"),
        ("markets_json_speedup", "", None, "every market: models + FastAPI before / SQL JSON now"),
    ],
    "registration_statement": [
        ("full_vs_bare_insert", "", None, "PostgreSQL CPU: registration statement / bare insert"),
    ],
    # The volunteer app on emulated 3G with a 4x slower CPU (bench_tablet.py): absolute figures
    # the issue sets, medians over the runs; no baseline ratio, the targets are the issue's.
    "tablet_cold_signin": [("value", "<=", 1.5, "s: cold first load -> sign-in form usable")],
    "tablet_signin": [("value", "<=", 3.0, "s: tap Đăng nhập -> worklist usable")],
    "tablet_warm_start": [("value", "<=", 0.5, "s: reopen (service worker) -> worklist usable")],
    "tablet_save_sign": [("value", "<=", 1.5, "s: tap Lưu sạp -> sign preview on screen")],
    "tablet_shell_bytes": [("value", "<=", 70.0, "KB: app shell on the wire, cold")],
    "tablet_warm_bytes": [("value", "<=", 0.0, "KB: shell and assets fetched by a warm start")],
    # The manager pages (bench_pages.py), national data set / the demo city, in the same run.
    "pages_dashboard": [
        ("ratio", "<=", 1.5, "/dashboard first meaningful render, national / city (issue 16)"),
        ("heap_ratio", "", None, "JS heap in use then, national / city"),
        ("bytes_ratio", "", None, "bytes transferred, national / city"),
    ],
    "pages_map": [
        ("ratio", "<=", 1.5, "/map first meaningful render, national / city (issue 16)"),
        ("heap_ratio", "", None, "JS heap in use then, national / city"),
        ("bytes_ratio", "", None, "bytes transferred, national / city"),
    ],
}


def _meets(value: float, op: str, target: float | None) -> bool:
    if target is None:
        return True
    return value >= target if op == ">=" else value <= target


def _figures(row: dict[str, Any]) -> str:
    name = row.get("name", "")
    if name == "registration_http":
        app, bare = row["app"], row["bare"]
        figures = (
            f"app {app['throughput_rps']} rps p50 {app['p50_ms']} p99 {app['p99_ms']} ms, "
            f"RSS {app['rss_peak_mb']} MB | bare {bare['throughput_rps']} rps p50 {bare['p50_ms']} "
            f"p99 {bare['p99_ms']} ms | {row['workers']} worker(s), {row['concurrency']} conns, "
            f"loadgen {app['client_cpu_us_per_request']} us/req"
        )
        floor = row.get("sql_floor")
        if floor:
            figures += (
                f"\n{'':<49}SQL floor (the registration's own SQL, no HTTP layer of ours): "
                f"{floor['throughput_rps']} rps p99 {floor['p99_ms']} ms = "
                f"{row['sql_floor_throughput_ratio']}x bare rps, {row['sql_floor_p99_ratio']}x bare p99;"
                f"\n{'':<49}app = {row['app_vs_sql_floor_throughput']}x floor rps | CPU ms/request "
                f"(server + PostgreSQL): app {app['server_cpu_ms_per_request']} + "
                f"{app['db_cpu_ms_per_request']}, floor {floor['server_cpu_ms_per_request']} + "
                f"{floor['db_cpu_ms_per_request']}, bare {bare['server_cpu_ms_per_request']} + "
                f"{bare['db_cpu_ms_per_request']}"
            )
        return figures
    if name == "sign_durability":
        pad = f"\n{'':<49}"
        kinds = " · ".join(
            f"{kind} {v['ours']:.2f}/{v['plain']:.2f}" for kind, v in row["by_kind"].items()
        )
        return (
            f"ours/plain: all {row['ours_share']:.3f}/{row['plain_share']:.3f} over {row['cases']} "
            f"photos, worn signs {row['worn']['ours']:.3f}/{row['worn']['plain']:.3f}, clean "
            f"{row['clean']['ours']:.3f}/{row['clean']['plain']:.3f}, wrong reads "
            f"{row['ours_wrong']}/{row['plain_wrong']}{pad}by kind (alone or combined): {kinds}"
        )
    if name == "coverage_national":
        pad = f"\n{'':<49}"
        ba = row["detail"]["before_after"]
        lines = [
            f"{label} ({row[label]}): "
            + ", ".join(f"{k} {row.get(f'{label}_{k}_ms')}" for k in COVERAGE_KINDS)
            + " ms"
            for label in ("small", "large")
        ]
        lines.append(
            f"before -> now at the large size: history {ba['history_before_s'] * 1000:.1f} -> "
            f"{ba['history_now_s'] * 1000:.1f} ms, every market {ba['markets_before_s'] * 1000:.1f}"
            f" -> {ba['markets_now_s'] * 1000:.1f} ms"
        )
        return pad.join(lines)
    if name.startswith(("tablet_", "pages_")):
        return str(row.get("figures", ""))
    if name == "registration_statement":
        pad = f"\n{'':<49}"
        cpu, ratio = row["backend_cpu_us_median"], row["ratio_to_full"]
        return (
            f"PostgreSQL CPU per execution, medians of {row['executions_per_kind']} each: full "
            f"{cpu['full statement']} us = {row['full_vs_bare_insert']}x the bare insert's "
            f"{cpu['bare insert']} us"
            + pad
            + pad.join(
                f"{kind}: {cpu[kind]} us = {ratio[kind]}x"
                for kind in cpu
                if kind not in ("full statement", "bare insert")
            )
        )
    skip = {"name", "ratio", "bench_seconds"} | {k for k, *_ in TARGETS.get(name, [])}
    parts = [
        f"{k} {v}" for k, v in row.items() if k not in skip and not isinstance(v, (dict, list))
    ]
    return ", ".join(parts)


def table(info: dict[str, Any], rows: list[dict[str, Any]], errors: dict[str, str]) -> str:
    out = [
        f"Chợ Số benchmarks — {info['date']} — {info['cores']} cores ({info['cpu']}), "
        f"{info['memory_gb']} GB, Python {info['python']}, {info['os']}",
        "",
        f"{'bench':<22} {'ratio':>8} {'target':>8} {'meets':>6}  figures",
        "-" * 118,
    ]
    for row in rows:
        name = row.get("name", "?")
        targets = TARGETS.get(name)
        if not targets:
            ratio = row.get("ratio", row.get("time_ratio"))
            target = row.get("target")
            out.append(f"{name:<22} {ratio!s:>8} {target!s:>8} {'':>6}  {_figures(row)}")
            continue
        for i, (key, op, target, meaning) in enumerate(targets):
            value = row.get(key)
            meets = "yes" if isinstance(value, int | float) and _meets(value, op, target) else "NO"
            if target is None:  # a figure measured against a baseline, with no target set
                meets, shown = "", "-"
            else:
                shown = op + str(target)
            label = name if i == 0 else ""
            figures = _figures(row) if i == 0 else ""
            out.append(f"{label:<22} {value!s:>8} {shown:>8} {meets:>6}  {meaning}")
            if figures:
                out.append(f"{'':<22} {'':>8} {'':>8} {'':>6}  {figures}")
    for name, error in errors.items():
        first = error.strip().splitlines()[-1] if error.strip() else error
        out.append(f"{name:<22} {'-':>8} {'-':>8} {'-':>6}  skipped: {first}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=",".join(BENCHES), help="comma-separated: " + ", ".join(BENCHES)
    )
    args = parser.parse_args(argv)
    info = machine()
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        found, error = run_bench(name)
        rows += found
        if error:
            errors[name] = error
    report = table(info, rows, errors)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {"machine": info, "results": rows, "errors": errors}, indent=2, ensure_ascii=False
        )
    )
    print(f"\nwritten: {RESULTS / 'latest.json'}")
    crashed = {k: v for k, v in errors.items() if v != "not written yet"}
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
