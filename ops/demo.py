"""Demo data: the real Đà Nẵng and Hội An markets (data/danang_markets.json) plus clearly synthetic stalls."""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from core import access, users
from core.types import User
from coverage import counters, job, verify
from coverage import stalls as stall_progress
from coverage.errors import QrMismatch
from merchants import accounts as stall_accounts
from merchants import markets as market_registry
from merchants import registration, schemas, signs, support, visits
from merchants import stalls as stall_records
from ops import queries
from partners import points as service_points
from partners import schemas as partner_schemas
from privacy.schemas import ConsentIn
from qr import payload
from qr.payload import MOMO_BIN
from teams import roster
from teams import schemas as team_schemas

log = logging.getLogger("choso.demo")
DATA = Path(__file__).resolve().parent.parent / "data" / "danang_markets.json"
DEMO_PASSWORD = "choso-demo-2026"
# (username, role, what they are scoped to)
DEMO_USERS = (  # (username, role, what they see), as the banner of `make run` prints them
    ("admin", "admin", "everything, and the admin console (/console)"),
    ("quanly", "manager", "Phường Hải Châu (Chợ Hàn, Chợ Cồn, Chợ Đống Đa)"),
    ("tinhnguyen", "volunteer", "Chợ Hàn, Chợ Cồn"),
    ("xem", "viewer", "city-wide numbers, no personal data"),
    ("totruong", "volunteer", "a team leader: Tổ Công nghệ số cộng đồng Hải Châu 1 (/teams)"),
    ("doitac", "partner", "a staff member of MB: its accounts, numbers and reports (/partner)"),
)
DEMO_PARTNER = "MB"  # whom the demo's partner account works for
# The names people see for the demo's users (clearly synthetic: "Thử" in each; the pages say
# the role, so the name does not).
DEMO_NAMES = {
    "admin": "Quản trị Thử",
    "quanly": "Lê Thị Thử",
    "tinhnguyen": "Phạm Văn Thử",
    "xem": "Người Xem Thử",
    "totruong": "Võ Thị Thử",
    "doitac": "Hồ Văn Thử",
    "tnv.lan": "Ngô Thị Lan Thử",
    "tnv.hoa": "Đặng Thị Hoa Thử",
    "tnv.minh": "Bùi Văn Minh Thử",
}
# Community digital-technology teams and their volunteers: (team, ward, markets, leader,
# members as (username, joined days ago, left days ago or None)). tnv.hoa moved from the second
# team to the first ten days ago: her earlier work stays with the second.
DEMO_TEAMS = (
    (
        "Tổ Công nghệ số cộng đồng Hải Châu 1",
        "20242",
        ("Chợ Hàn", "Chợ Cồn"),
        "totruong",
        (("totruong", 40, None), ("tinhnguyen", 40, None), ("tnv.lan", 40, None),
         ("tnv.hoa", 10, None)),
    ),
    (
        "Tổ Công nghệ số cộng đồng Hải Châu 2",
        "20242",
        ("Chợ Đống Đa",),
        "tnv.minh",
        (("tnv.minh", 40, None), ("tnv.hoa", 40, 10)),
    ),
    (
        "Tổ Công nghệ số cộng đồng Ngũ Hành Sơn",
        "20285",
        ("Chợ Bắc Mỹ An", "Chợ Khuê Mỹ", "Chợ Non Nước", "Chợ đêm An Thượng"),
        "tnv.quoc",
        (("tnv.quoc", 40, None), ("tnv.thu", 40, None), ("tnv.an", 40, None)),
    ),
    (
        "Tổ Công nghệ số cộng đồng Thanh Khê",
        "20209",
        ("Chợ Phú Lộc", "Chợ Tân Chính"),
        "tnv.binh",
        (("tnv.binh", 40, None), ("tnv.dung", 40, None)),
    ),
)  # fmt: skip
ICT = ZoneInfo("Asia/Ho_Chi_Minh")
_FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Lưu",
]
_MIDDLE = ["Thị", "Văn", "Thị Ngọc", "Thị Thu", "Minh", "Thị Kim", "Đức", "Thị Mỹ"]
_GIVEN = [
    "Lan",
    "Hoa",
    "Thùy",
    "Hương",
    "Mai",
    "Hùng",
    "Dũng",
    "Cúc",
    "Trang",
    "Phượng",
    "Sơn",
    "Đào",
]
_GOODS = [
    "Rau củ",
    "Trái cây",
    "Thịt heo",
    "Cá tươi",
    "Hải sản khô",
    "Vải vóc",
    "Bánh kẹo",
    "Gia vị",
    "Đồ khô",
    "Hoa tươi",
    "Quần áo",
    "Tạp hóa",
    "Bún, bánh canh",
    "Cà phê",
]
_BINS = ["970422", "970436", "970415", "970418", "970405", "970407", "971025", "971005", "970432"]
_PARTNER_BY_BIN = {
    "970422": "MB",
    "970436": "VCB",
    "970415": "ICB",
    "970418": "BIDV",
    "970405": "VBA",
    "970407": "TCB",
    "971025": "MOMO",
    "971005": "VIETTELMONEY",
    "970432": "VPB",
}


def load_markets() -> list[dict]:
    """The shipped market list."""
    return list(json.loads(DATA.read_text(encoding="utf-8"))["markets"])


def _place(markets: list[dict]) -> None:
    """Give markets without a point their district's mean point, and spread markets sharing a point.

    The source points are ward reference points (never buildings): several markets share one.
    """
    by_district: dict[str, list[tuple[float, float]]] = {}
    for m in markets:
        if m.get("lat") is not None:
            by_district.setdefault(m.get("old_district") or "", []).append((m["lat"], m["lon"]))
    seen: dict[tuple[float, float], int] = {}
    for m in markets:
        if m.get("lat") is None:
            pts = by_district.get(m.get("old_district") or "")
            if not pts:
                continue
            m["lat"] = sum(p[0] for p in pts) / len(pts)
            m["lon"] = sum(p[1] for p in pts) / len(pts)
        key = (round(m["lat"], 4), round(m["lon"], 4))
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            m["lat"] += 0.0035 * ((n % 3) - 1 or 1)
            m["lon"] += 0.0035 * (1 + n // 3) * (1 if n % 2 else -1)


async def load_if_empty(
    conn: asyncpg.Connection, *, window_days: int, stalls_per_market: int | None = None
) -> bool:
    """Load markets, demo users and synthetic stalls into an empty database; False if it had markets."""
    if await queries.any_market(conn):
        return False
    if not await queries.try_demo_lock(conn):
        return False
    try:
        if await queries.any_market(conn):
            return False
        markets = load_markets()
        _place(markets)
        admin, _ = await users.ensure_user(
            conn, username="admin", password=DEMO_PASSWORD, role="admin"
        )
        await queries.name_user(conn, admin.id, DEMO_NAMES["admin"])
        rng = random.Random(48)
        # Who set an account up is a fact of its own: about a third of the demo accounts were opened
        # at the stall by the bank's or wallet's own staff (the partner), the rest by the
        # stallholders themselves. A separate generator keeps the rest of the data as it was.
        onboarded = random.Random(4807)
        plans = _coverage_plans(markets)
        # The demo tells a story over five weeks: what it writes now is moved to the day it
        # happens in the story, so the history, the "since" dates and the charts agree.
        registered = await queries.db_clock(conn)
        ids: dict[str, int] = {}
        layout: dict[str, tuple[list[str], int]] = {}
        for m in markets:
            async with conn.transaction():
                await _units(conn, m)
                zones = ["A", "B", "C", "D"][: 2 + rng.randrange(3)]
                body = schemas.MarketCreate(
                    name=m["name"],
                    province_code=str(m.get("new_province_code") or 48),
                    ward_code=str(m["new_ward_code"]) if m.get("new_ward_code") else None,
                    legacy_ward_code=str(m["old_ward_code"]) if m.get("old_ward_code") else None,
                    legacy_ward_name=m.get("old_ward"),
                    legacy_district_name=(m.get("old_district") or "").replace(" (per source)", "")
                    or None,
                    # Only name, address and unit names are for people to read (display_policy).
                    address=m.get("address") or None,
                    lat=m.get("lat"),
                    lon=m.get("lon"),
                    zones=zones,
                )
                market = await market_registry.create_market(conn, user=admin, body=body)
                ids[m["name"]] = market.id
            count = stalls_per_market or min(
                60, max(12, (m.get("stall_count_approx") or 0) // 20 or 12 + rng.randrange(30))
            )
            layout[m["name"]] = (zones, count)
        crew = await _demo_users_and_teams(conn, admin, ids)
        now = datetime.now(UTC)
        for m in markets:
            zones, count = layout[m["name"]]
            for i in range(count):
                # The first registrations, five to four weeks ago, as the teams went round.
                at = _when(now, 35 - (6 * i) // max(1, count), rng)
                with_accounts = plans[m["name"]].all_accounts
                await crew.do(
                    at,
                    _register(conn, crew.actor(m["name"], at), ids[m["name"]], zones, i, rng,
                              onboarded, with_accounts=with_accounts),
                )  # fmt: skip
        story_start = datetime.now(UTC) - timedelta(days=_STAGES[0][0] + 7)
        await queries.backdate(conn, since=registered, to=story_start)
        await queries.date_first_rule(conn, story_start - timedelta(days=1))
        await _coverage_progress(conn, crew, ids, plans, window_days, rng, layout, onboarded)
        await _service_points(conn, admin, markets, ids)
        await _support_survey(conn, crew, ids)
        await _other_ways_to_pay(conn, crew, markets, ids, window_days)
        await _licences(conn, crew, ids, window_days)
        await _reported_payments(conn, rng, window_days)
        log.info("demo data loaded: %d markets", len(markets))
        return True
    finally:
        await queries.release_demo_lock(conn)


# Sample service points (users_want #22) at the three largest demo markets, 150-350 metres from
# the market's point: named "(điểm mẫu)" because no such place is known to exist there.
_SAMPLE_POINTS: tuple[tuple[str, partner_schemas.PointKind, str, str, float, float], ...] = (
    (
        "VIETTELMONEY",
        "cash",
        "Quầy nạp, rút tiền Viettel Money (điểm mẫu)",
        "7:00 – 18:00",
        0.0016,
        0.0012,
    ),
    ("MB", "help", "Bàn hướng dẫn mở tài khoản MB (điểm mẫu)", "7:30 – 11:30", -0.0018, 0.0022),
    (
        "VCB",
        "counter",
        "Phòng giao dịch Vietcombank (điểm mẫu)",
        "Thứ Hai – Thứ Sáu, 8:00 – 16:30",
        0.0020,
        -0.0018,
    ),
)


async def _service_points(
    conn: asyncpg.Connection, admin: User, markets: list[dict], ids: dict[str, int]
) -> None:
    largest = sorted(
        (m for m in markets if m.get("lat") is not None and m.get("lon") is not None),
        key=lambda m: -(m.get("stall_count_approx") or 0),
    )[:3]
    for m in largest:
        for partner_code, kind, name, hours, dlat, dlon in _SAMPLE_POINTS:
            body = partner_schemas.ServicePointIn(
                partner_code=partner_code,
                market_id=ids[m["name"]],
                kind=kind,
                name=name,
                opening_hours=hours,
                location=partner_schemas.PointLocation(
                    lat=round(m["lat"] + dlat, 6), lon=round(m["lon"] + dlon, 6)
                ),
            )
            await service_points.add_point(conn, user=admin, body=body)


# The support package (users_want #21): over the last two weeks the teams consulted about half
# the households of each market, item by item: most were told about an item, some received it,
# a few did not need it, and some items were not talked about.
_SUPPORT_STATES = ((None, 30), ("offered", 40), ("delivered", 20), ("declined", 10))


async def _support_survey(conn: asyncpg.Connection, crew: _Crew, ids: dict[str, int]) -> None:
    rng = random.Random(21)
    for name, market_id in ids.items():
        for stall_id, registered in await queries.active_stalls_since(conn, market_id):
            if rng.random() >= 0.5:
                continue
            items = {
                item: rng.choices([s for s, _ in _SUPPORT_STATES], [w for _, w in _SUPPORT_STATES])[
                    0
                ]
                for item in schemas.SUPPORT_ITEMS
            }
            recorded = {item: state for item, state in items.items() if state is not None}
            if not recorded:
                continue
            # Never before the stall was registered (the teams' latest rounds are days old).
            at = max(_when(crew.now, rng.randrange(14), rng), registered + timedelta(minutes=30))
            body = schemas.SupportIn(items=recorded)  # type: ignore[arg-type]
            who = crew.actor(name, at)
            if not await access.can_see_market(conn, who, market_id):
                who = crew.admin  # the team's members moved on: the ward's office recorded it
            await crew.do(at, support.record_support(conn, user=who, stall_id=stall_id, body=body))
            await queries.backdate_support(conn, stall_id=stall_id, at=at)


# Other ways stalls take payment (users_want #26): at the markets tourists visit (Hội An, the night
# markets, Chợ Hàn) the teams asked most stallholders, and many take cards or a foreign QR;
# elsewhere a few were asked, and most have the VietQR sign only.
_TOURIST_ANSWERS: tuple[tuple[list[str], int], ...] = (
    (["card", "intl_qr"], 30),
    (["intl_qr"], 25),
    (["card"], 15),
    ([], 25),
    (["phone_transfer"], 5),
)
_LOCAL_ANSWERS: tuple[tuple[list[str], int], ...] = (
    (["phone_transfer"], 15),
    (["card"], 5),
    ([], 80),
)


async def _reported_payments(
    conn: asyncpg.Connection, rng: random.Random, window_days: int
) -> None:
    """The payments partners reported for the paid stalls (a stall's "Tiền sạp nhận"): over the
    week up to the last payment the counters hold for the stall, the last one exactly then, so
    that the coverage levels and the takings tell the same story; a stall counted as receiving
    payments now was paid up to the last day (its counters' last payment moves there, its level
    stays). Market-sized amounts (5,000 to 300,000 đồng), external ids starting with "demo-"."""
    rows: list[tuple[str, str, int, int, int, datetime]] = []
    now = datetime.now(UTC)
    for paid in await queries.paid_stalls(conn):
        last = paid.last_payment_at
        moments = [last]
        if paid.transacting:
            last = max(last, now - timedelta(minutes=rng.randrange(30, 30 * 60)))
            moments.append(last)
            await counters.record_payment(
                conn, stall_id=paid.stall_id, occurred_at=last, window_days=window_days
            )
        last_day = last.astimezone(ICT).replace(hour=0, minute=0, second=0, microsecond=0)
        for back in range(7):
            day = last_day - timedelta(days=back)
            for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 6))):
                at = day + timedelta(minutes=rng.randrange(5 * 60 + 30, 18 * 60))
                if at < last:
                    moments.append(at)
        for n, at in enumerate(sorted(set(moments))):
            amount = rng.choice((5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 120, 150, 300)) * 1000
            rows.append(
                (paid.partner_code, f"demo-{paid.stall_id}-{n}", paid.account_id, paid.stall_id,
                 amount, at)
            )  # fmt: skip
    await queries.insert_payments(conn, rows)


def _tourist(m: dict) -> bool:
    return "đêm" in m["name"] or "Hội An" in (m.get("old_district") or "") or m["name"] == "Chợ Hàn"


async def _other_ways_to_pay(
    conn: asyncpg.Connection,
    crew: _Crew,
    markets: list[dict],
    ids: dict[str, int],
    window_days: int,
) -> None:
    rng = random.Random(26)
    for m in markets:
        tourist = _tourist(m)
        answers = _TOURIST_ANSWERS if tourist else _LOCAL_ANSWERS
        market_id = ids[m["name"]]
        for stall_id, registered in await queries.active_stalls_since(conn, market_id):
            if rng.random() >= (0.75 if tourist else 0.2):
                continue
            answer = rng.choices([a for a, _ in answers], [w for _, w in answers])[0]
            at = max(_when(crew.now, rng.randrange(10), rng), registered + timedelta(minutes=30))
            who = crew.actor(m["name"], at)
            if not await access.can_see_market(conn, who, market_id):
                who = crew.admin
            patch = schemas.StallPatch(also_accepts=answer)  # type: ignore[arg-type]
            await _edit_at(conn, crew, who, at, stall_id, patch, window_days)


# One market's programme records its stalls' business licence numbers (users_want #6: Long Biên's
# volunteers collected them); an administrator turned it on three weeks ago and the volunteers
# wrote down the numbers of the stalls that had their certificate at hand. Synthetic numbers, as
# the rest of the demo's people.
_LICENCE_MARKET = "Chợ Bắc Mỹ An"


async def _licences(
    conn: asyncpg.Connection, crew: _Crew, ids: dict[str, int], window_days: int
) -> None:
    market_id = ids.get(_LICENCE_MARKET)
    if market_id is None:
        return
    rng = random.Random(6)
    market = await market_registry.get_market(conn, market_id)
    await crew.do(
        _when(crew.now, 21, rng),
        market_registry.update_market(
            conn,
            user=crew.admin,
            market_id=market_id,
            expected_version=market.version,
            patch=schemas.MarketPatch(asks_licence=True),
        ),
    )
    for stall_id, registered in await queries.active_stalls_since(conn, market_id):
        if rng.random() >= 0.6:
            continue
        at = max(_when(crew.now, rng.randrange(20), rng), registered + timedelta(minutes=30))
        who = crew.actor(_LICENCE_MARKET, at)
        if not await access.can_see_market(conn, who, market_id):
            who = crew.admin
        number = f"32A8{rng.randrange(10**6):06d}"
        await _edit_at(
            conn, crew, who, at, stall_id, schemas.StallPatch(licence_no=number), window_days
        )


async def _units(conn: asyncpg.Connection, m: dict) -> None:
    province = str(m.get("new_province_code") or 48)
    await queries.upsert_admin_unit(
        conn,
        scheme="2025-07",
        code=province,
        level="province",
        name=m.get("new_province") or "Thành phố Đà Nẵng",
    )
    if m.get("new_ward_code"):
        await queries.upsert_admin_unit(
            conn,
            scheme="2025-07",
            code=str(m["new_ward_code"]),
            level="ward",
            name=m["new_ward"],
            parent_code=province,
        )
    if m.get("old_ward_code"):
        await queries.upsert_admin_unit(
            conn,
            scheme="2025-01",
            code=str(m["old_ward_code"]),
            level="ward",
            name=m["old_ward"],
            parent_code=None,
        )
    if m.get("old_ward_code") and m.get("new_ward_code"):
        await queries.insert_crosswalk(
            conn, old_code=str(m["old_ward_code"]), new_code=str(m["new_ward_code"])
        )


async def _demo_users_and_teams(
    conn: asyncpg.Connection, admin: User, ids: dict[str, int]
) -> _Crew:
    """The demo's users, its teams with their history, and who works where."""
    people: dict[str, User] = {"admin": admin}
    volunteers = [u for _, _, _, _, members in DEMO_TEAMS for u, _, _ in members]
    for username, role in [(u, r) for u, r, _ in DEMO_USERS] + [
        (v, "volunteer") for v in volunteers
    ]:
        user, created = await users.ensure_user(
            conn,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            partner_code=DEMO_PARTNER if role == "partner" else None,
        )
        people[username] = user
        if not created:
            continue
        if username in DEMO_NAMES:
            await queries.name_user(conn, user.id, DEMO_NAMES[username])
        if username == "quanly":
            await users.assign_scopes(conn, user_id=user.id, market_ids=[], ward_codes=["20242"])
        elif username == "tinhnguyen":
            await users.assign_scopes(
                conn, user_id=user.id, market_ids=[ids["Chợ Hàn"], ids["Chợ Cồn"]], ward_codes=[]
            )
    now = datetime.now(UTC)
    crew = _Crew(conn=conn, admin=admin, now=now)
    # Every team with the members it started with; later moves happen when their day comes.
    for name, ward, market_names, leader, members in DEMO_TEAMS:
        start = max(joined for _, joined, _ in members)
        team = await roster.create_team(
            conn,
            user=admin,
            body=team_schemas.TeamCreate(
                name=name,
                ward_code=ward,
                leader_id=people[leader].id,
                member_ids=[people[u].id for u, joined, _ in members if joined == start],
                market_ids=[ids[m] for m in market_names if m in ids],
            ),
        )
        for username, joined, left in members:
            user = people[username]
            if joined == start:
                await crew.backdate(team.id, user, joined, None)
            else:
                crew.moves.append((joined, team.id, user, "join"))
            if left is not None:
                crew.moves.append((left, team.id, user, "leave"))
            for market in market_names:
                crew.plan(market, user, joined, left)
    return crew


class _Crew:
    """Who did the demo's field work, and when: each market's team members take turns (the
    administrator where no team works); every action's audit entries get the moment it
    happened, so the activity pages show weeks of work."""

    def __init__(self, *, conn: asyncpg.Connection, admin: User, now: datetime) -> None:
        self.conn = conn
        self.admin = admin
        self.now = now
        self.shifts: dict[str, list[tuple[User, int, int | None]]] = {}
        self.turn = 0
        self.moves: list[tuple[int, int, User, str]] = []  # (days ago, team, user, join|leave)
        self.joined: dict[tuple[int, int], int] = {}
        self.extra: dict[str, list[int]] = {}  # new stalls of each market, after the first ones
        # What stallholders answer with their sign (_ask_how_money_is_seen): draws of its own, so
        # that the rest of the demo stays as it was.
        self.asked = random.Random(23)

    async def backdate(self, team_id: int, user: User, joined: int, left: int | None) -> None:
        """Date a membership as the demo says it happened."""
        self.joined[(team_id, user.id)] = joined
        await queries.backdate_membership(
            self.conn,
            team_id=team_id,
            user_id=user.id,
            joined_at=self.now - timedelta(days=joined),
            left_at=self.now - timedelta(days=left) if left is not None else None,
        )

    async def moves_until(self, days_ago: int) -> None:
        """Make the membership changes that happened before `days_ago` days ago (leaving first)."""
        due = sorted(
            (m for m in self.moves if m[0] > days_ago), key=lambda m: (-m[0], m[3] != "leave")
        )
        for move in due:
            self.moves.remove(move)
            days, team_id, user, kind = move
            team = await roster.get_team(self.conn, user=self.admin, team_id=team_id)
            members = {m.id for m in team.members}
            members = members | {user.id} if kind == "join" else members - {user.id}
            await roster.update_team(
                self.conn,
                user=self.admin,
                team_id=team_id,
                patch=team_schemas.TeamPatch(member_ids=sorted(members)),
            )
            if kind == "join":
                await self.backdate(team_id, user, days, None)
            else:
                await self.backdate(team_id, user, self.joined[(team_id, user.id)], days)

    def plan(self, market: str, user: User, joined: int, left: int | None) -> None:
        self.shifts.setdefault(market, []).append((user, joined, left))

    def actor(self, market: str, at: datetime) -> User:
        days_ago = (self.now - at).total_seconds() / 86400
        on_duty = [
            u
            for u, joined, left in self.shifts.get(market, [])
            if joined >= days_ago and (left is None or days_ago > left)
        ]
        if not on_duty:
            return self.admin
        self.turn += 1
        return on_duty[self.turn % len(on_duty)]

    async def do(self, at: datetime, action: Awaitable[Any], *, stall_id: int | None = None) -> Any:
        """Run the action and give what it wrote the moment the story says: its audit entries,
        and with `stall_id` that stall's own sign, check and print times too (the stall's page,
        its history and the exports then tell one time; a step's other writes move together to
        the step's moment in `queries.backdate`)."""
        conn = self.conn
        before = await queries.last_audit_id(conn)
        started = await queries.db_clock(conn) if stall_id is not None else None
        try:
            return await action
        finally:
            await queries.backdate_audit(conn, after_id=before, at=at)
            if stall_id is not None and started is not None:
                await queries.backdate_stall(conn, stall_id=stall_id, since=started, to=at)


# What stallholders answer when the sign is handed over (users_want #23), and how often: most see
# the bank's notification, some also have a sound box, a few check nothing.
_CONFIRM_ANSWERS: tuple[tuple[list[str], int], ...] = (
    (["bank_app"], 52),
    (["bank_app", "sound_box"], 24),
    (["sound_box"], 8),
    (["sms"], 5),
    (["bank_app", "sms"], 3),
    ([], 8),
)


async def _ask_how_money_is_seen(
    conn: asyncpg.Connection,
    crew: _Crew,
    who: User,
    when: datetime,
    stall_id: int,
    window_days: int,
) -> None:
    """The volunteer who hands over the sign asks how the stallholder sees money arrive (nine in
    ten are asked), through the stall's own edit, at the moment of the hand-over."""
    rng = crew.asked
    if rng.random() >= 0.9:
        return
    answer = rng.choices([a for a, _ in _CONFIRM_ANSWERS], [w for _, w in _CONFIRM_ANSWERS])[0]
    patch = schemas.StallPatch(confirm_by=answer)  # type: ignore[arg-type]
    await _edit_at(conn, crew, who, when, stall_id, patch, window_days)


async def _edit_at(
    conn: asyncpg.Connection,
    crew: _Crew,
    who: User,
    when: datetime,
    stall_id: int,
    patch: schemas.StallPatch,
    window_days: int,
) -> None:
    """An edit of the stall as the app makes it (its version read first), dated `when`."""
    stall = await stall_records.get_stall(conn, stall_id)
    await crew.do(
        when,
        stall_records.update_stall_for(
            conn,
            user=who,
            stall_id=stall_id,
            expected_version=stall.version,
            patch=patch,
            window_days=window_days,
        ),
    )


def _when(now: datetime, days_ago: int, rng: random.Random) -> datetime:
    """A moment in working hours (07:00-17:00 in Đà Nẵng) that many days ago, never ahead of now."""
    day = (now.astimezone(ICT) - timedelta(days=days_ago)).date()
    at = datetime(day.year, day.month, day.day, 7, tzinfo=ICT) + timedelta(
        minutes=rng.randrange(10 * 60)
    )
    return min(at.astimezone(UTC), now - timedelta(minutes=1 + rng.randrange(30)))


async def _register(
    conn: asyncpg.Connection,
    user: User,
    market_id: int,
    zones: list[str],
    i: int,
    rng: random.Random,
    onboarded: random.Random,
    *,
    with_accounts: bool,
) -> int:
    """Register the market's i-th synthetic stall; returns its id."""
    zone = zones[i % len(zones)]
    bin_ = rng.choice(_BINS)
    name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    stall = schemas.StallCreate(
        stall_code=f"{zone}-{i // len(zones) + 1}",
        zone=zone,
        goods=rng.choice(_GOODS),
        holder=schemas.HolderIn(full_name=f"Demo {name}"),
        payment_accounts=[
            schemas.PaymentAccountIn(
                bin=bin_,
                account_number=f"DEMO{rng.randrange(10**9):09d}",
                account_name=f"DEMO {name}",
                partner_code=_PARTNER_BY_BIN.get(bin_) if onboarded.random() < 0.35 else None,
                reference=f"MOMOW2W{rng.randrange(10**9):09d}" if bin_ == MOMO_BIN else None,
            )
        ]
        if rng.random() < 0.8 or with_accounts
        else [],
        consent=ConsentIn(
            notice_version="2026-01",
            purposes=["registration", "qr_sign", "coverage_reporting"],
        ),
    )
    done, _ = await registration.register_stall(
        conn,
        user=user,
        market_id=market_id,
        idempotency_key=f"demo-{uuid.uuid4()}",
        body=stall,
    )
    return done.id


# ---------------------------------------------------------------- coverage (field progress over 4 weeks)


@dataclass(frozen=True)
class _Plan:
    """Where a demo market ends up: shares of its stalls per level."""

    kind: str  # not_started | in_progress | cashless | lapsed
    issued: float = 0.0
    verified: float = 0.0
    transacting: float = 0.0
    fees: float = 0.0

    @property
    def all_accounts(self) -> bool:
        return self.kind in ("cashless", "lapsed")


# The three Chợ 4.0 pilots (April 2022) are cashless; two markets lost it when traders took their
# codes down in mid-2025; the others are spread between not started and well under way.
_PILOTS = ("Chợ Hàn", "Chợ Cồn", "Chợ Đống Đa")
_LAPSED = ("Chợ Cẩm Lệ", "Chợ Hòa Khánh")
# (days ago, share of the plan done by then)
_STAGES = ((28, 0.2), (21, 0.45), (14, 0.7), (7, 0.9), (2, 1.0))


def _coverage_plans(markets: list[dict]) -> dict[str, _Plan]:
    rng = random.Random(4806)  # its own generator: the stall data above stays the same
    plans = {}
    for m in markets:
        name = m["name"]
        if name in _PILOTS or name in _LAPSED:
            plans[name] = _Plan("lapsed" if name in _LAPSED else "cashless", 1.0, 0.96, 0.45, 0.5)
            continue
        roll = rng.random()
        if roll < 0.22:
            plans[name] = _Plan("not_started")
        elif roll < 0.32:
            plans[name] = _Plan("cashless", 1.0, 0.94, 0.35, rng.uniform(0, 0.4))
        else:
            issued = rng.uniform(0.3, 0.9)
            plans[name] = _Plan(
                "in_progress",
                issued,
                issued * rng.uniform(0.3, 0.75),
                rng.uniform(0.03, 0.25),
                rng.uniform(0, 0.2),
            )
    return plans


async def _coverage_progress(
    conn: asyncpg.Connection,
    crew: _Crew,
    ids: dict[str, int],
    plans: dict[str, _Plan],
    window_days: int,
    rng: random.Random,
    layout: dict[str, tuple[list[str], int]],
    onboarded: random.Random,
) -> None:
    """Signs, scans, payments and fees in five steps over four weeks, with a daily snapshot each;
    in the last two steps the teams also register new stalls."""
    by_market: dict[int, list[queries.StallFirstAccount]] = {}
    for r in await queries.stalls_with_first_account(conn):
        by_market.setdefault(r.market_id, []).append(r)
    now = crew.now
    done: dict[tuple[str, int], int] = {}
    # A stall's steps in the order they happen (printed, handed over, checked, ...): a later level
    # never comes before an earlier one's moment, whatever day of its step each was drawn on.
    last: dict[int, datetime] = {}
    for days_ago, share in _STAGES:
        at = now - timedelta(days=days_ago)
        await crew.moves_until(days_ago + 2)  # the step's work starts two days earlier
        stage_start = await queries.db_clock(conn)
        for name, plan in plans.items():
            market_id = ids[name]
            stalls = by_market.get(market_id, [])
            n = len(stalls)
            pace = min(1.0, share * 1.5) if plan.all_accounts else share  # pilots got there first
            for level, target in (
                ("issued", plan.issued),
                ("verified", plan.verified),
                ("transacting", plan.transacting),
                ("fees", plan.fees),
            ):
                start, upto = done.get((level, market_id), 0), min(n, round(pace * target * n))
                for st in stalls[start:upto]:
                    # Field work of this step happened over its last three days.
                    when = _when(now, days_ago + rng.randrange(3), rng)
                    if st.id in last:
                        when = min(max(when, last[st.id] + timedelta(minutes=20)), now)
                    last[st.id] = when
                    who = crew.actor(name, when)
                    if level == "issued":
                        if st.account_id is None:
                            continue  # no account yet: no sign to print or hand over
                        # Printed first, then handed over (the week's activity counts both).
                        await crew.do(
                            when,
                            signs.confirm_stall_print(
                                conn, user=who, stall_id=st.id, account_id=None,
                                route="/demo", window_days=window_days,
                            ),
                            stall_id=st.id,
                        )  # fmt: skip
                        await crew.do(
                            when,
                            stall_progress.sign_delivered_for(
                                conn, user=who, stall_id=st.id, window_days=window_days
                            ),
                            stall_id=st.id,
                        )
                        await _ask_how_money_is_seen(conn, crew, who, when, st.id, window_days)
                    elif level == "verified" and st.bin and st.account_number:
                        code = payload.encode(
                            bin=st.bin, account=st.account_number, reference=st.reference
                        )
                        await crew.do(
                            when,
                            verify.verify(
                                conn,
                                user=who,
                                stall_id=st.id,
                                payloads=[code],
                                window_days=window_days,
                            ),
                            stall_id=st.id,
                        )
                    elif level == "transacting" and st.account_id is not None:
                        # Paid on an account: a stall without one receives no transfer.
                        await counters.record_payment(
                            conn, stall_id=st.id, occurred_at=at, window_days=window_days
                        )
                    elif level == "fees":
                        await crew.do(
                            when,
                            stall_progress.fees_cashless_for(
                                conn, user=who, stall_id=st.id, value=True, window_days=window_days
                            ),
                            stall_id=st.id,
                        )
                done[(level, market_id)] = max(start, upto)
            if days_ago == 2 and plan.kind == "lapsed":
                # Traders took their codes down (mid-2025): their accounts are stopped as a
                # volunteer stops one (with a reason; the sign is flagged for reprint and the
                # check ends), not by a bare update that left them counted as signed and paid.
                for st in stalls[: n // 3]:
                    if st.account_id is None:
                        continue
                    when = _when(now, days_ago, rng)
                    await crew.do(
                        when,
                        stall_accounts.set_payment_account_active(
                            conn, user=crew.actor(name, when), stall_id=st.id,
                            account_id=st.account_id, active=False,
                            reason="Chủ sạp đã gỡ mã, không nhận chuyển khoản nữa",
                            window_days=window_days,
                        ),
                        stall_id=st.id,
                    )  # fmt: skip
            issued = done.get(("issued", market_id), 0)
            if days_ago == 7 and plan.kind == "in_progress" and issued > 2:
                wrong = payload.encode(bin="970436", account="000111222")
                when = _when(now, days_ago, rng)
                try:
                    await crew.do(
                        when,
                        verify.verify(
                            conn,
                            user=crew.actor(name, when),
                            stall_id=stalls[1].id,
                            payloads=[wrong],
                            window_days=window_days,
                        ),
                        stall_id=stalls[1].id,
                    )
                except QrMismatch:
                    pass  # flagged for a return visit, as a volunteer would find it
        if days_ago in _TEAM_STAGES:
            await _team_work(conn, crew, ids, layout, rng, onboarded, window_days, days_ago)
        await queries.backdate(conn, since=stage_start, to=at)
        await job.reevaluate_all(conn, now=at, window_days=window_days)
    await job.reevaluate_all(conn, window_days=window_days)


# Steps (days ago) in which the teams also register new stalls; the work of the last one is spread
# up to today, so "this week" has something to show.
_TEAM_STAGES = (7, 2)


async def _team_work(
    conn: asyncpg.Connection,
    crew: _Crew,
    ids: dict[str, int],
    layout: dict[str, tuple[list[str], int]],
    rng: random.Random,
    onboarded: random.Random,
    window_days: int,
    days_ago: int,
) -> None:
    """The teams' markets get a few more stalls, most with their sign; in the last step a
    volunteer also finds a sign or two whose code does not match: return visits to plan."""
    last = days_ago == _TEAM_STAGES[-1]
    days = range(days_ago + 1) if last else range(days_ago, days_ago + 3)
    markets = sorted({m for _, _, names, _, _ in DEMO_TEAMS for m in names if m in ids})
    if last:
        older: dict[int, list[int]] = {}
        for r in await queries.stalls_with_first_account(conn):
            older.setdefault(r.market_id, []).append(r.id)
        wrong = payload.encode(bin="970436", account="000111222")
        for name in markets:
            pool = older.get(ids[name], [])
            for stall_id in rng.sample(pool, k=min(len(pool), 1 + rng.randrange(2))):
                at = _when(crew.now, rng.choice(days), rng)
                try:
                    await crew.do(
                        at,
                        verify.verify(conn, user=crew.actor(name, at), stall_id=stall_id,
                                      payloads=[wrong], window_days=window_days),
                        stall_id=stall_id,
                    )  # fmt: skip
                except QrMismatch:
                    pass
    for name in markets:
        zones, count = layout[name]
        first = count + sum(1 for _ in crew.extra.get(name, []))
        for i in range(first, first + 1 + rng.randrange(3)):
            crew.extra.setdefault(name, []).append(i)
            at = _when(crew.now, rng.choice(days), rng)
            stall_id = await crew.do(
                at,
                _register(conn, crew.actor(name, at), ids[name], zones, i, rng, onboarded,
                          with_accounts=True),
            )  # fmt: skip
            if rng.random() < 0.7:
                later = min(at + timedelta(hours=2), crew.now - timedelta(seconds=30))
                who = crew.actor(name, later)
                await crew.do(
                    at,
                    signs.confirm_stall_print(
                        conn, user=crew.actor(name, at), stall_id=stall_id, account_id=None,
                        route="/demo", window_days=window_days,
                    ),
                    stall_id=stall_id,
                )  # fmt: skip
                await crew.do(
                    later,
                    stall_progress.sign_delivered_for(
                        conn, user=who, stall_id=stall_id, window_days=window_days
                    ),
                    stall_id=stall_id,
                )
                await _ask_how_money_is_seen(conn, crew, who, later, stall_id, window_days)
    if last:
        await _visits(conn, crew, ids, markets)


# What volunteers found at stalls they could not register yet (merchants.visits), as the demo's
# last days show them: (outcome, what is missing, days from the visit to come back, note).
_VISITS: tuple[tuple[str, list[str], int | None, str | None], ...] = (
    ("absent", [], None, None),
    ("come_back", [], 2, "Chị chủ sạp hẹn sáng thứ Bảy, sau giờ bán"),
    ("blocked", ["no_own_sim"], 3, "SIM đang đứng tên con trai, cần làm lại SIM chính chủ"),
    ("blocked", ["no_cccd"], 1, None),
    ("declined", [], None, "Chưa muốn nhận chuyển khoản, hỏi lại sau Tết"),
)


async def _visits(
    conn: asyncpg.Connection, crew: _Crew, ids: dict[str, int], markets: list[str]
) -> None:
    """A few visits in the teams' markets to stalls still without an account: the worklist shows
    what the last volunteer found, and the days agreed to come back. A random of its own, so the
    rest of the demo stays as it was."""
    rng = random.Random(606)
    without: dict[int, list[int]] = {}
    for r in await queries.stalls_with_first_account(conn):
        if r.account_id is None:
            without.setdefault(r.market_id, []).append(r.id)
    for name in markets:
        pool = without.get(ids[name], [])
        for stall_id, (outcome, blockers, come_back, note) in zip(
            rng.sample(pool, k=min(len(pool), 3)), rng.sample(_VISITS, k=3), strict=False
        ):
            at = _when(crew.now, rng.randrange(2), rng)
            day = at.astimezone(ICT).date()
            body = schemas.VisitIn(
                outcome=outcome,  # type: ignore[arg-type]
                blockers=blockers,  # type: ignore[arg-type]
                come_back_on=day + timedelta(days=come_back) if come_back else None,
                note=note,
                visited_at=at,
            )
            await crew.do(
                at,
                visits.record_visit_for(
                    conn, user=crew.actor(name, at), stall_id=stall_id, body=body,
                    idempotency_key=f"demo-visit-{stall_id}",
                ),
            )  # fmt: skip
