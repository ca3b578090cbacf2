"""`make seed-national`: a synthetic national programme in the configured database.

Every province and ward of the national directory (admin_unit scheme '2025-07', loaded by
migration 0008), 10,000 markets spread over them (every ward has one; urban wards more), 2,000,000
stalls with a realistic spread of progress (markets not started, still registering, in progress,
cashless, and lapsed after being cashless), their holders, sealed payment accounts with their
partners' onboardings, consents, payments over 90 days, 20,000 volunteers in 2,500 teams (each in
the ward of its first market, led by its first member, its members since the programme began)
with the markets they work in, and what they did (the audit entries the use cases write:
registrations, confirmed prints, signs put up, codes checked, fees, later consents), plus 90 days of daily
snapshots and status changes. Counters come from coverage.counters.rebuild (the stalls' counted
flags are written consistent with their facts) and agree with counters.recount.

Clearly synthetic: markets are "Chợ Thử Nghiệm 00001"…, people "Thử Nghiệm …", users `tn-…`,
accounts `TN…`, and an audit entry (action 'seed', entity 'synthetic_dataset', entity_id
'national') records the load and what it holds. Idempotent: a second run finds that entry and
changes nothing. One transaction: a load that fails leaves nothing behind.

    make seed-national                      # DATABASE_URL, or the embedded server under DATA_DIR
    python -m ops.national --markets 500 --stalls 100000   # a smaller programme

Sign-in (password of the demo users, ops.demo.DEMO_PASSWORD): `tn-quocgia` (national viewer),
`tn-quanly` (manager of the ward with the most markets), `tn-0001-1` … (volunteers of "Tổ thử
nghiệm 0001" …; `tn-0001-1` leads it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core import db
from core.auth import hash_password
from core.crypto import Keys, keys_of, secret_key
from core.settings import get_settings
from core.text import fold, strip_marks
from coverage import counters, job, rule
from coverage.levels import local_day
from ops.demo import DEMO_PASSWORD
from ops.national import queries as q
from teams import roster

log = logging.getLogger("choso.seed_national")

NAME = "national"
VERSION = 1


@dataclass(frozen=True)
class Plan:
    """How big the synthetic programme is."""

    markets: int = 10_000
    stalls: int = 2_000_000
    volunteers: int = 20_000
    teams: int = 2_500
    days: int = 90


@dataclass(frozen=True)
class Loaded:
    """What a run did: loaded now (with timings), or found the data set already there."""

    loaded: bool
    plan: dict[str, Any]
    at: datetime
    counts: dict[str, int]
    seconds: dict[str, float]


# Rough centres of the 34 provinces after the July 2025 reform (where their markets are drawn).
PROVINCE_CENTRES: dict[str, tuple[float, float]] = {
    "01": (21.03, 105.80), "04": (22.67, 106.20), "08": (22.25, 105.10), "11": (21.55, 103.05),
    "12": (22.30, 103.20), "14": (21.20, 104.00), "15": (22.00, 104.30), "19": (21.85, 105.90),
    "20": (21.85, 106.60), "22": (21.10, 107.25), "24": (21.25, 106.30), "25": (21.15, 105.30),
    "31": (20.90, 106.50), "33": (20.60, 106.20), "37": (20.30, 106.00), "38": (19.95, 105.50),
    "40": (19.20, 104.90), "42": (18.30, 105.70), "44": (17.20, 106.60), "46": (16.40, 107.50),
    "48": (15.75, 108.00), "51": (14.90, 108.30), "52": (14.00, 108.60), "56": (12.10, 109.00),
    "66": (12.90, 108.40), "68": (11.60, 107.90), "75": (11.30, 107.00), "79": (10.80, 106.70),
    "80": (10.95, 106.20), "82": (10.45, 105.80), "86": (10.10, 106.20), "91": (10.30, 105.10),
    "92": (9.80, 105.80), "96": (9.20, 105.20),
}  # fmt: skip

# Partners accounts are opened with (code, BIN, weight): the state and large joint-stock banks,
# the wallets; MoMo accounts carry their MOMOW2W reference.
PARTNERS: list[tuple[str, str, float]] = [
    ("VBA", "970405", 18), ("BIDV", "970418", 16), ("ICB", "970415", 12), ("VCB", "970436", 12),
    ("MB", "970422", 10), ("TCB", "970407", 7), ("VPB", "970432", 5), ("ACB", "970416", 4),
    ("STB", "970403", 3), ("SHB", "970443", 2), ("MOMO", "971025", 7),
    ("VIETTELMONEY", "971005", 4),
]  # fmt: skip

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
           "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
_MIDDLE = ["Thị", "Văn", "Thị Ngọc", "Thị Thu", "Minh", "Thị Kim", "Đức", "Thị Mỹ", "Hữu",
           "Quang"]  # fmt: skip
_GIVEN = ["Lan", "Hoa", "Hương", "Mai", "Cúc", "Đào", "Tuấn", "Hùng", "Dũng", "Thùy", "Ngọc",
          "Hạnh", "Phương", "Linh", "Trang", "Nga", "Sơn", "Bình", "Hải", "Yến"]  # fmt: skip
_GOODS = ["Rau củ", "Trái cây", "Thịt heo", "Cá tươi", "Hải sản khô", "Gạo", "Vải vóc",
          "Quần áo", "Tạp hóa", "Bún phở", "Hoa tươi", "Đồ khô", "Gia vị", "Bánh kẹo",
          "Giày dép"]  # fmt: skip


def _names() -> dict[str, list[str]]:
    """The name parts, as written, folded (stall search) and in account-name ASCII."""
    out: dict[str, list[str]] = {}
    for key, values in (
        ("family", _FAMILY),
        ("middle", _MIDDLE),
        ("given", _GIVEN),
        ("goods", _GOODS),
    ):
        out[f"{key}_names"] = values
        out[f"{key}_folded"] = [fold(v) for v in values]
        out[f"{key}_ascii"] = [strip_marks(v).upper() for v in values]
    del out["goods_ascii"]
    return out


def account_number(account_id: int) -> str:
    """The synthetic account number of a planned account (sealed before it is stored)."""
    return f"TN{account_id:010d}"


async def seed(
    conn: asyncpg.Connection,
    *,
    plan: Plan = Plan(),  # noqa: B008 - frozen
    window_days: int,
    now: datetime | None = None,
) -> Loaded:
    """Load the national programme into the connection's database once (see the module)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        timings[step] = round(time.perf_counter() - clock, 1)
        log.info("%s: %.1f s", step, timings[step])
        clock = time.perf_counter()

    if plan.markets < 1 or plan.teams < 1 or plan.volunteers < plan.teams or plan.days < 1:
        raise ValueError("need at least one market, one volunteer per team and one day")
    async with conn.transaction():
        await q.lock(conn)
        found = await q.marker(conn, NAME)
        if found is not None:
            return Loaded(
                loaded=False,
                plan=found.after.get("plan", {}),
                at=found.at,
                counts=found.after.get("counts", {}),
                seconds={},
            )
        if await q.synthetic_users_exist(conn):
            raise RuntimeError(
                "Users named tn-… exist but no synthetic data set is recorded: "
                "load into a fresh database."
            )
        skipped_fk_checks = await q.set_bulk_session(conn)
        now = now or await q.db_now(conn)
        wards = await q.plan_geography(
            conn, now=now, window_days=window_days, days=plan.days, centres=PROVINCE_CENTRES
        )
        markets = await q.plan_markets(
            conn, markets=plan.markets, stalls=plan.stalls, teams=plan.teams
        )
        volunteers = await q.insert_users(
            conn,
            volunteers=plan.volunteers,
            teams=plan.teams,
            password_hash=hash_password(DEMO_PASSWORD),
        )
        team_ids = await q.insert_teams(conn)
        await roster.sync_team_scopes(conn, team_ids)
        lap("markets and volunteers")
        stalls = await q.plan_stalls(conn, partners=PARTNERS, names=_names())
        lap("stall plan")
        indexes = await q.drop_secondary_indexes(conn)
        ids = await q.account_ids(conn)
        # Python seals the account numbers while PostgreSQL writes holders and stalls.
        keys = keys_of(conn)
        sealing = asyncio.create_task(
            asyncio.to_thread(keys.seal_all, [account_number(i) for i in ids])
        )
        await q.insert_holders_and_stalls(conn)
        await q.store_sealed(conn, list(zip(ids, await sealing, strict=True)))
        lap("holders and stalls, account numbers sealed meanwhile")
        await q.insert_accounts_and_coverage(conn)
        lap("accounts, onboardings, consents, coverage, payments")
        await q.insert_activity(conn)
        lap("field activity")
        in_force = await rule.get_rule(conn)
        await q.insert_history(conn, rule_version=in_force.version, thresholds=in_force.thresholds)
        lap("daily snapshots and statuses")
        await q.create_indexes(conn, indexes)
        lap("indexes built again")
        await counters.rebuild(conn, now=now, window_days=window_days, trust_stall_flags=True)
        await job.reevaluate_all(conn, now=now, window_days=window_days)
        today = local_day(now)
        await job.rewrite_area_days(conn, start=today - timedelta(days=plan.days), end=today)
        lap("counters and daily area numbers")
        counts = {
            "wards": wards,
            "markets": markets,
            "stalls": stalls,
            "volunteers": volunteers,
            "teams": len(team_ids),
            "payment_accounts": len(ids),
        }
        timings["foreign_key_checks_skipped"] = float(skipped_fk_checks)
        await q.write_marker(
            conn,
            NAME,
            {"version": VERSION, "plan": asdict(plan), "counts": counts, "seconds": timings},
        )
    await q.analyze(conn)
    lap("analyze")
    return Loaded(loaded=True, plan=asdict(plan), at=now, counts=counts, seconds=timings)


async def _run(plan: Plan) -> Loaded:
    settings = get_settings()
    url = db.database_url(settings)
    if settings.auto_migrate:
        await asyncio.to_thread(db.migrate, url)
    conn = await db.connect(url, keys=Keys(secret_key(settings)))
    try:
        return await seed(conn, plan=plan, window_days=settings.transacting_window_days)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for quiet in ("pgserver", "alembic", "psycopg"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m ops.national", description=__doc__)
    defaults = Plan()
    for name in ("markets", "stalls", "volunteers", "teams", "days"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    args = parser.parse_args(argv)
    plan = Plan(**{k: getattr(args, k) for k in asdict(defaults)})
    started = time.perf_counter()
    try:
        result = asyncio.run(_run(plan))
    finally:
        db.stop_embedded()
    if not result.loaded:
        print(
            f"The synthetic national data set is already loaded ({result.at:%Y-%m-%d %H:%M} UTC: "
            f"{result.counts}); nothing changed.",
            flush=True,
        )
        return
    print(
        f"Loaded the synthetic national programme in {time.perf_counter() - started:.0f} s: "
        f"{result.counts}",
        flush=True,
    )
