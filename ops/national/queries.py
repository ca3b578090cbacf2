"""SQL of the synthetic national programme (ops.national.seed): set-based, one statement a table.

Everything is planned in temporary tables (`nat_*`, dropped at commit) from deterministic hashes
of ordinals, so two loads of the same plan write the same rows. Times are in days before the
load's `now` (`*_ago`); calendar days are Vietnam days (UTC+7, as coverage.levels.local_day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core import sql

MARKER_ACTION = "seed"
MARKER_ENTITY = "synthetic_dataset"
_SEED_LOCK = 727_000_050  # one loader at a time


@dataclass(frozen=True)
class Marker:
    """The audit entry that says a synthetic data set was loaded, and what it holds."""

    at: datetime
    after: dict[str, Any]


async def lock(conn: asyncpg.Connection) -> None:
    """The transaction's seed lock: a second loader waits, then finds the marker."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEED_LOCK)


async def marker(conn: asyncpg.Connection, name: str) -> Marker | None:
    """The marker of the data set `name`, if it was loaded."""
    row = await conn.fetchrow(
        """SELECT at, after FROM audit_log
           WHERE entity = $1 AND entity_id = $2 AND action = $3 ORDER BY id DESC LIMIT 1""",
        MARKER_ENTITY,
        name,
        MARKER_ACTION,
    )
    return Marker(row["at"], dict(row["after"])) if row else None


async def write_marker(conn: asyncpg.Connection, name: str, after: dict[str, Any]) -> None:
    """Record that the data set was loaded (no actor: a tool did it)."""
    await conn.execute(
        "INSERT INTO audit_log (action, entity, entity_id, after) VALUES ($1, $2, $3, $4)",
        MARKER_ACTION,
        MARKER_ENTITY,
        name,
        after,
    )


async def synthetic_users_exist(conn: asyncpg.Connection) -> bool:
    """Whether users named like the synthetic ones exist (without a marker: a failed old load)."""
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM app_user WHERE username LIKE 'tn-%')")
    )


async def db_now(conn: asyncpg.Connection) -> datetime:
    value: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return value


async def set_bulk_session(conn: asyncpg.Connection) -> bool:
    """A bulk load commits once: no need to wait for each WAL flush; sorts get memory. Where the
    role may (a superuser, as the embedded server's), foreign-key triggers are skipped for the
    load (session_replication_role = replica): the plan makes every reference by construction,
    and tests/ops/test_seed_national.py checks each one holds. Returns whether they were skipped.
    """
    await conn.execute(
        "SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '256MB'; "
        "SET LOCAL maintenance_work_mem = '256MB'"
    )
    # The plan tables are read a dozen times: keep them in memory (before any temp table is used).
    await conn.execute("SET LOCAL temp_buffers = '768MB'")
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def count(conn: asyncpg.Connection, table: str) -> int:
    """Rows of a table this module writes (names from this module only)."""
    assert table.isidentifier()
    return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))


async def analyze(conn: asyncpg.Connection) -> None:
    """Planner statistics after the load (outside the load's transaction)."""
    await conn.execute("ANALYZE")


# The tables a load writes millions of rows into: their secondary indexes (those no constraint
# stands on) are dropped for the load and built again after it, in one sorted pass each, in the
# load's transaction (other sessions wait for it to end; a failed load restores them).
BULK_TABLES = (
    "stallholder", "stall", "payment_account", "onboarding", "onboarding_status", "consent",
    "stall_coverage", "payment_event", "audit_log", "coverage_snapshot", "market_status_history",
)  # fmt: skip


async def drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the bulk tables' secondary indexes; returns the statements that build them again."""
    rows = await conn.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i
           WHERE i.indrelid = any(SELECT c.oid FROM pg_class c
                                  WHERE c.relname = any($1::text[])
                                    AND c.relnamespace = 'public'::regnamespace)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           ORDER BY 1""",
        list(BULK_TABLES),
    )
    for r in rows:
        await conn.execute(f"DROP INDEX {r['name']}")
    return [r["definition"] for r in rows]


async def create_indexes(conn: asyncpg.Connection, definitions: list[str]) -> None:
    """Build again the indexes drop_secondary_indexes dropped (their own definitions)."""
    for definition in definitions:
        await conn.execute(definition)


# ---------------------------------------------------------------- plan: helpers and geography

_HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.nat_h(x bigint, salt integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT (hashint8(x * 64 + salt) & 2147483647)::double precision / 2147483648';
CREATE OR REPLACE FUNCTION pg_temp.nat_day(t timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT (t AT TIME ZONE INTERVAL ''07:00'')::date';
"""

_PARAMS = sql.compose("""
CREATE TEMP TABLE nat_param ON COMMIT DROP AS
SELECT $now::timestamptz AS now, pg_temp.nat_day($now::timestamptz) AS today,
       $window_days::integer AS window_days, $days::integer AS days
""")

# Wards of the national directory, each at a point of a sunflower spiral around its province's
# centre (given; a province without one is put in the middle of the country).
_WARDS = sql.compose("""
CREATE TEMP TABLE nat_ward ON COMMIT DROP AS
WITH p AS (
    SELECT * FROM unnest($province_codes::text[], $province_lats::float8[],
                         $province_lons::float8[]) AS p (code, lat, lon)
), w AS (
    SELECT u.code, u.parent_code AS province_code, coalesce(u.kind, 'xa') AS kind,
           row_number() OVER (PARTITION BY u.parent_code ORDER BY u.code) - 1 AS k,
           count(*) OVER (PARTITION BY u.parent_code) AS n
    FROM admin_unit u
    WHERE u.scheme = '2025-07' AND u.level = 'ward' AND u.parent_code IS NOT NULL
)
SELECT (row_number() OVER (ORDER BY w.province_code, w.code) - 1)::integer AS idx,
       w.code, w.province_code, w.kind,
       coalesce(p.lat, 16.0) + g.r * sin(g.a) AS lat,
       coalesce(p.lon, 107.5) + g.r * cos(g.a) / cos(radians(coalesce(p.lat, 16.0))) AS lon
FROM w LEFT JOIN p ON p.code = w.province_code
CROSS JOIN LATERAL (SELECT (0.05 + 0.02 * sqrt(w.n)) * sqrt((w.k + 0.5) / w.n) AS r,
                           w.k * 2.399963 AS a) g
""")


async def plan_geography(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    window_days: int,
    days: int,
    centres: dict[str, tuple[float, float]],
) -> int:
    """The helper functions, the load's clock and the wards; returns how many wards."""
    await conn.execute(_HELPERS)
    await conn.execute(
        _PARAMS.text, *_PARAMS.args({"now": now, "window_days": window_days, "days": days})
    )
    await conn.execute("ANALYZE nat_param")
    codes = sorted(centres)
    await conn.execute(
        _WARDS.text,
        *_WARDS.args(
            {
                "province_codes": codes,
                "province_lats": [centres[c][0] for c in codes],
                "province_lons": [centres[c][1] for c in codes],
            }
        ),
    )
    return await count(conn, "nat_ward")


# ---------------------------------------------------------------- plan: markets

# Every ward gets a market first (evenly spread when there are fewer markets than wards), the rest
# go to wards by weight (a phường, urban, three times a xã). Each market gets a kind of progress
# and its targets (shares of its active stalls), a share of the stalls, a team, and an id.
_MARKETS = sql.compose("""
CREATE TEMP TABLE nat_market ON COMMIT DROP AS
WITH slots AS (
    SELECT w.idx, row_number() OVER (ORDER BY w.idx, s.s) - 1 AS slot
    FROM nat_ward w
    CROSS JOIN LATERAL generate_series(1, CASE WHEN w.kind = 'phuong' THEN 3 ELSE 1 END) AS s (s)
), sizes AS (
    SELECT (SELECT count(*) FROM slots) AS slots, (SELECT count(*) FROM nat_ward) AS wards
), picked AS (
    SELECT g AS n,
           CASE WHEN g <= z.wards
                THEN ((g - 1) * z.wards / least($markets::bigint, z.wards))::integer
                ELSE sl.idx END AS ward_idx
    FROM sizes z CROSS JOIN generate_series(1, $markets::bigint) AS g
    LEFT JOIN slots sl ON g > z.wards AND sl.slot = (g * 7919) % z.slots
), kinds AS (
    SELECT p.n, w.code AS ward_code, w.province_code,
           w.lat + 0.012 * (pg_temp.nat_h(p.n, 9) - 0.5) AS lat,
           w.lon + 0.012 * (pg_temp.nat_h(p.n, 10) - 0.5) AS lon,
           CASE WHEN h.k < 0.12 THEN 'empty' WHEN h.k < 0.22 THEN 'registering'
                WHEN h.k < 0.70 THEN 'in_progress' WHEN h.k < 0.92 THEN 'cashless'
                ELSE 'lapsed' END AS kind,
           h.h3, h.h4, h.h5, h.h6, h.h7, h.h8, h.h2,
           (ARRAY['A', 'B', 'C', 'D'])[1:2 + floor(3 * pg_temp.nat_h(p.n, 11))::integer] AS zones
    FROM picked p JOIN nat_ward w ON w.idx = p.ward_idx
    CROSS JOIN LATERAL (SELECT pg_temp.nat_h(p.n, 1) AS k, pg_temp.nat_h(p.n, 2) AS h2,
                               pg_temp.nat_h(p.n, 3) AS h3, pg_temp.nat_h(p.n, 4) AS h4,
                               pg_temp.nat_h(p.n, 5) AS h5, pg_temp.nat_h(p.n, 6) AS h6,
                               pg_temp.nat_h(p.n, 7) AS h7, pg_temp.nat_h(p.n, 8) AS h8) h
), targets AS (
    SELECT k.n, k.ward_code, k.province_code, k.lat, k.lon, k.kind, k.zones,
           CASE k.kind WHEN 'empty' THEN 0.0 ELSE 0.25 + 4 * k.h2 ^ 3 END AS weight,
           least(CASE k.kind WHEN 'registering' THEN 1 + 19 * k.h3
                             WHEN 'in_progress' THEN 10 + 75 * k.h3
                             WHEN 'cashless' THEN 45 + 44 * k.h3
                             ELSE 70 + 19 * k.h3 END,
                 (SELECT days FROM nat_param) - 0.5) AS start_ago,
           CASE k.kind WHEN 'in_progress' THEN 0.2 + 0.75 * k.h4
                       WHEN 'cashless' THEN 1.0 WHEN 'lapsed' THEN 1.0 ELSE 0.0 END AS issued_t,
           CASE k.kind WHEN 'in_progress' THEN (0.2 + 0.75 * k.h4) * (0.3 + 0.5 * k.h5)
                       WHEN 'cashless' THEN 0.92 + 0.07 * k.h5
                       WHEN 'lapsed' THEN 0.92 + 0.05 * k.h5 ELSE 0.0 END AS verified_t,
           CASE k.kind WHEN 'in_progress' THEN 0.03 + 0.22 * k.h6
                       WHEN 'cashless' THEN 0.34 + 0.3 * k.h6
                       WHEN 'lapsed' THEN 0.35 + 0.15 * k.h6 ELSE 0.0 END AS pay_t,
           CASE k.kind WHEN 'in_progress' THEN 0.1 WHEN 'lapsed' THEN 0.75 ELSE 0.0 END
               AS stopped_t,
           CASE k.kind WHEN 'in_progress' THEN 0.15 * k.h7
                       WHEN 'cashless' THEN 0.1 + 0.4 * k.h7
                       WHEN 'lapsed' THEN 0.1 + 0.3 * k.h7 ELSE 0.0 END AS fees_t,
           CASE k.kind WHEN 'cashless' THEN 1.0 WHEN 'lapsed' THEN 1.0
                       ELSE 0.75 + 0.2 * k.h8 END AS account_t
    FROM kinds k
), shares AS (
    SELECT t.*, floor(t.weight / sum(t.weight) OVER () * $stalls)::integer AS base
    FROM targets t
), counted AS (
    SELECT s.*,
           s.base + CASE WHEN s.weight > 0
                          AND row_number() OVER (ORDER BY s.weight > 0 DESC, s.n)
                              <= $stalls - sum(s.base) OVER () THEN 1 ELSE 0 END AS stalls
    FROM shares s
), ordered AS (
    SELECT c.*, row_number() OVER (ORDER BY c.province_code, c.ward_code, c.n) - 1 AS place,
           sum(c.stalls) OVER (ORDER BY c.n) - c.stalls AS first_seq
    FROM counted c
)
SELECT o.n, nextval($market_seq::regclass) AS id, o.ward_code, o.province_code, o.lat, o.lon,
       o.kind, o.zones, o.stalls, o.first_seq, o.start_ago, o.issued_t, o.verified_t, o.pay_t,
       o.stopped_t, o.fees_t, greatest(o.account_t, o.issued_t, o.verified_t) AS account_t,
       (o.place * $teams / $markets)::integer + 1 AS team
FROM ordered o ORDER BY o.n
""")

_INSERT_MARKETS = """
INSERT INTO market (id, name, province_code, ward_scheme, ward_code, address, lat, lon, zones,
                    created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT m.id, 'Chợ Thử Nghiệm ' || lpad(m.n::text, 5, '0'), m.province_code, '2025-07',
       m.ward_code, 'Dữ liệu thử nghiệm', m.lat, m.lon, m.zones,
       p.now - p.days * interval '1 day', p.now - p.days * interval '1 day'
FROM nat_market m, nat_param p ORDER BY m.id
"""


async def plan_markets(conn: asyncpg.Connection, *, markets: int, stalls: int, teams: int) -> int:
    """Plan and insert the markets; returns how many."""
    await conn.execute(
        _MARKETS.text,
        *_MARKETS.args(
            {
                "markets": markets,
                "stalls": stalls,
                "teams": teams,
                "market_seq": await _sequence(conn, "market"),
            }
        ),
    )
    await conn.execute(_INSERT_MARKETS)
    await conn.execute("ANALYZE nat_ward, nat_market")
    return await count(conn, "nat_market")


async def _sequence(conn: asyncpg.Connection, table: str) -> str:
    name: str = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    return name


# ---------------------------------------------------------------- volunteers and scopes

# Volunteers `tn-<team>-<member>` ("Thử Nghiệm <team>-<member>" to people), the teams' members as
# the plan numbers them (their teams and the markets they work in: _TEAMS).
_VOLUNTEERS = sql.compose("""
INSERT INTO app_user (username, display_name, password_hash, role, created_at, updated_at)
SELECT format('tn-%s-%s', lpad(t::text, 4, '0'), m),
       format('Thử Nghiệm %s-%s', lpad(t::text, 4, '0'), m), $password_hash, 'volunteer',
       p.now - p.days * interval '1 day', p.now - p.days * interval '1 day'
FROM nat_param p, generate_series(1, $teams) AS t
CROSS JOIN LATERAL generate_series(1, $volunteers / $teams
                                      + CASE WHEN t <= $volunteers % $teams THEN 1 ELSE 0 END) AS m
ORDER BY t, m
""")

_VOLUNTEER_TABLE = """
CREATE TEMP TABLE nat_volunteer ON COMMIT DROP AS
SELECT split_part(username, '-', 2)::integer AS team, split_part(username, '-', 3)::integer AS member,
       id AS user_id
FROM app_user WHERE username ~ '^tn-[0-9]{4,}-[0-9]+$';
CREATE TEMP TABLE nat_team ON COMMIT DROP AS
SELECT team, count(*)::integer AS size FROM nat_volunteer GROUP BY team;
ANALYZE nat_volunteer, nat_team;
"""

# A national viewer (no scope: every market) and the manager of the ward with the most markets.
_READERS = sql.compose("""
WITH viewer AS (
    INSERT INTO app_user (username, password_hash, role)
    VALUES ('tn-quocgia', $password_hash, 'viewer'), ('tn-quanly', $password_hash, 'manager')
    RETURNING id, role
)
INSERT INTO user_ward (user_id, ward_code)
SELECT v.id, (SELECT ward_code FROM nat_market GROUP BY ward_code
              ORDER BY count(*) DESC, ward_code LIMIT 1)
FROM viewer v WHERE v.role = 'manager'
""")


async def insert_users(
    conn: asyncpg.Connection, *, volunteers: int, teams: int, password_hash: str
) -> int:
    """Volunteers numbered by team (nat_volunteer), a national viewer and a ward manager."""
    values = {"volunteers": volunteers, "teams": teams, "password_hash": password_hash}
    await conn.execute(_VOLUNTEERS.text, *_VOLUNTEERS.args(values))
    await conn.execute(_VOLUNTEER_TABLE)
    await conn.execute(_READERS.text, *_READERS.args(values))
    return await count(conn, "nat_volunteer")


# The planned teams as teams (teams/): one per number, in the ward of its first market (a team
# the plan gave no market works in the ward of the nearest-numbered team's market), led by its
# first member, its members since the programme began, its markets. Their scope rows (user_market)
# are the teams' own (teams.roster.sync_team_scopes, after this).
_TEAMS = """
CREATE TEMP TABLE nat_team_row ON COMMIT DROP AS
SELECT t.team, nextval(pg_get_serial_sequence('team', 'id')) AS team_id,
       coalesce((SELECT m.ward_code FROM nat_market m WHERE m.team = t.team ORDER BY m.n LIMIT 1),
                (SELECT m.ward_code FROM nat_market m ORDER BY abs(m.team - t.team), m.n LIMIT 1))
           AS ward_code,
       (SELECT v.user_id FROM nat_volunteer v WHERE v.team = t.team ORDER BY v.member LIMIT 1)
           AS leader_id
FROM nat_team t ORDER BY t.team;

INSERT INTO team (id, name, ward_code, leader_id, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT r.team_id, 'Tổ thử nghiệm ' || lpad(r.team::text, 4, '0'), r.ward_code, r.leader_id,
       p.now - p.days * interval '1 day', p.now - p.days * interval '1 day'
FROM nat_team_row r, nat_param p ORDER BY r.team_id;

INSERT INTO team_membership (team_id, user_id, joined_at)
SELECT r.team_id, v.user_id, p.now - p.days * interval '1 day'
FROM nat_volunteer v JOIN nat_team_row r USING (team), nat_param p ORDER BY 1, 2;

INSERT INTO team_market (team_id, market_id)
SELECT r.team_id, m.id FROM nat_market m JOIN nat_team_row r USING (team) ORDER BY 1, 2;
"""


async def insert_teams(conn: asyncpg.Connection) -> list[int]:
    """The planned teams, their members and markets (after insert_users); returns their ids."""
    for statement in _statements(_TEAMS):
        await conn.execute(statement)
    return [r[0] for r in await conn.fetch("SELECT team_id FROM nat_team_row ORDER BY team_id")]


# ---------------------------------------------------------------- plan: stalls

# One row per stall. `rank` orders a market's stalls by how far volunteers got with them (a
# permutation of 0..n-1 by arithmetic, no sort): the first ceil(target x active) have an account,
# a sign, a verified code, payments; the last 5 % are vacant. Times are days before now:
# registration sweeps the market over its first two weeks, then sign, check and first payment
# follow; a payer whose payments stopped paid last more than a window ago. The stall's actor is
# a volunteer of its market's team.
_STALLS = sql.compose("""
CREATE TEMP TABLE nat_stall ON COMMIT DROP AS
WITH s AS (
    SELECT m.id AS market_id, m.team, m.zones, cardinality(m.zones) AS zone_n,
           m.stalls AS n, i, m.first_seq + i AS seq, m.start_ago, m.issued_t, m.verified_t,
           m.pay_t, m.stopped_t, m.fees_t, m.account_t,
           ((i - 1) * 1000003 + floor(pg_temp.nat_h(m.n, 12) * m.stalls)::bigint) % m.stalls
               AS rank,
           m.stalls - floor(0.05 * m.stalls + pg_temp.nat_h(m.n, 13))::integer AS active_n
    FROM nat_market m CROSS JOIN LATERAL generate_series(1, m.stalls) AS i
), f AS (
    SELECT s.*, s.rank >= s.active_n AS vacant,
           s.rank < ceil(s.account_t * s.active_n) AS has_account,
           s.rank < ceil(s.issued_t * s.active_n) AS issued,
           s.rank < ceil(s.verified_t * s.active_n) AS verified,
           s.rank < ceil(s.pay_t * s.active_n) AS payer,
           s.rank < s.active_n AND pg_temp.nat_h(s.seq, 23) < s.fees_t AS fees,
           s.start_ago - least(14, s.start_ago * 0.8) * (s.i - 1) / s.n AS reg_ago,
           0.3 + 6 * pg_temp.nat_h(s.seq, 24) AS to_sign,
           0.3 + 8 * pg_temp.nat_h(s.seq, 25) AS to_check,
           1 + 10 * pg_temp.nat_h(s.seq, 26) AS to_pay,
           pg_temp.nat_h(s.seq, 28) AS pay_h
    FROM s
), t AS (
    -- Each step a few days after the one before (never later than now); flat expressions, so
    -- none is computed again inside another.
    SELECT f.*,
           greatest(f.reg_ago - f.to_sign, 0.02) AS issued_ago,
           greatest(f.reg_ago - f.to_sign - f.to_check, 0.015) AS verified_ago,
           greatest(f.reg_ago - CASE WHEN f.issued THEN f.to_sign ELSE 0 END
                    - CASE WHEN f.verified THEN f.to_check ELSE 0 END - f.to_pay, 0.01)
               AS first_pay_ago
    FROM f
), x AS MATERIALIZED (
    SELECT t.*,
           t.payer AND pg_temp.nat_h(t.seq, 27) < t.stopped_t
               AND t.first_pay_ago > p.window_days + 1.5 AS stopped,
           t.issued AND pg_temp.nat_h(t.seq, 29) < 0.85 AS delivered,
           t.has_account AND t.issued AND NOT t.verified AND pg_temp.nat_h(t.seq, 30) < 0.04
               AS revisit,
           t.has_account AND (t.payer OR pg_temp.nat_h(t.seq, 32) >= 0.06) AS onboarded,
           width_bucket(pg_temp.nat_h(t.seq, 31), $partner_bounds::float8[]) AS partner_n,
           1 + floor(pg_temp.nat_h(t.seq, 33) * $families)::integer AS family,
           1 + floor(pg_temp.nat_h(t.seq, 34) * $middles)::integer AS middle,
           1 + floor(pg_temp.nat_h(t.seq, 35) * $givens)::integer AS given,
           1 + floor(pg_temp.nat_h(t.seq, 36) * $goods_n)::integer AS goods,
           pg_temp.nat_h(t.seq, 37) < 0.85 AS has_phone,
           t.zones[1 + (t.i - 1) % t.zone_n] AS zone,
           (t.i - 1) / t.zone_n + 1 AS number,
           1 + floor(pg_temp.nat_h(t.seq, 38) * tm.size)::integer AS member
    FROM t JOIN nat_team tm ON tm.team = t.team CROSS JOIN nat_param p
), y AS MATERIALIZED (
    -- A payer whose payments stopped paid last more than a window ago; the others within it.
    SELECT x.*,
           CASE WHEN x.stopped THEN p.window_days + 1 + (x.first_pay_ago - p.window_days - 1)
                                                        * x.pay_h
                ELSE least(x.first_pay_ago, 0.8 * p.window_days * x.pay_h) END AS last_pay_ago
    FROM x CROSS JOIN nat_param p
)
SELECT y.market_id, y.seq, y.vacant, y.has_account, y.issued, y.verified, y.payer, y.stopped,
       y.fees, y.delivered, y.revisit, y.reg_ago, y.first_pay_ago, y.last_pay_ago,
       1 + floor((y.first_pay_ago - y.last_pay_ago) / 12)::integer AS payments,
       y.zone, y.zone || '-' || y.number AS stall_code,
       upper(y.zone) || '-' || lpad(y.number::text, 8, '0') AS code_sort,
       v.user_id AS actor_id,
       nextval($stall_seq::regclass) AS stall_id,
       nextval($holder_seq::regclass) AS holder_id,
       CASE WHEN y.has_account THEN nextval($account_seq::regclass) END AS account_id,
       CASE WHEN y.onboarded THEN nextval($onboarding_seq::regclass) END AS onboarding_id,
       p.now - y.reg_ago * interval '1 day' AS reg_at,
       CASE WHEN y.issued THEN p.now - y.issued_ago * interval '1 day' END AS issued_at,
       CASE WHEN y.verified THEN p.now - y.verified_ago * interval '1 day' END AS verified_at,
       CASE WHEN y.payer THEN p.now - y.last_pay_ago * interval '1 day' END AS last_pay_at,
       CASE WHEN y.payer THEN p.now - (CASE WHEN y.first_pay_ago - y.last_pay_ago >= 12
                                            THEN y.first_pay_ago ELSE y.last_pay_ago END)
                                      * interval '1 day' END AS first_pay_at,
       CASE WHEN y.delivered THEN least(p.now - y.issued_ago * interval '1 day'
                                        + interval '2 hours', p.now) END AS delivered_at,
       CASE WHEN y.revisit THEN least(p.now - y.issued_ago * interval '1 day' + interval '1 day',
                                      p.now) END AS revisit_at,
       CASE WHEN y.onboarded THEN ($partner_codes::text[])[y.partner_n] END AS partner_code,
       CASE WHEN y.has_account THEN ($partner_bins::text[])[y.partner_n] END AS bin,
       ($family_names::text[])[y.family] || ' ' || ($middle_names::text[])[y.middle] || ' '
           || ($given_names::text[])[y.given] AS person,
       ($family_folded::text[])[y.family] || ' ' || ($middle_folded::text[])[y.middle] || ' '
           || ($given_folded::text[])[y.given] AS person_folded,
       ($family_ascii::text[])[y.family] || ' ' || ($middle_ascii::text[])[y.middle] || ' '
           || ($given_ascii::text[])[y.given] AS person_ascii,
       ($goods_names::text[])[y.goods] AS goods_name,
       ($goods_folded::text[])[y.goods] AS goods_folded,
       CASE WHEN y.has_phone THEN '+849' || lpad((y.seq % 100000000)::text, 8, '0') END AS phone
FROM y JOIN nat_volunteer v ON v.team = y.team AND v.member = y.member CROSS JOIN nat_param p
""")


async def plan_stalls(
    conn: asyncpg.Connection,
    *,
    partners: list[tuple[str, str, float]],
    names: dict[str, list[str]],
) -> int:
    """Plan every stall (nat_stall: ids, actors, times, names); returns how many."""
    total = sum(w for _, _, w in partners)
    bounds, acc = [], 0.0
    for _, _, w in partners:
        bounds.append(acc / total)
        acc += w
    await conn.execute(
        _STALLS.text,
        *_STALLS.args(
            {
                "stall_seq": await _sequence(conn, "stall"),
                "holder_seq": await _sequence(conn, "stallholder"),
                "account_seq": await _sequence(conn, "payment_account"),
                "onboarding_seq": await _sequence(conn, "onboarding"),
                "partner_bounds": bounds,
                "partner_codes": [c for c, _, _ in partners],
                "partner_bins": [b for _, b, _ in partners],
                "families": len(names["family_names"]),
                "middles": len(names["middle_names"]),
                "givens": len(names["given_names"]),
                "goods_n": len(names["goods_names"]),
                **names,
            }
        ),
    )
    await conn.execute("ANALYZE nat_stall")
    return await count(conn, "nat_stall")


async def account_ids(conn: asyncpg.Connection) -> list[int]:
    """The planned payment accounts, to seal their numbers."""
    rows = await conn.fetch("SELECT account_id FROM nat_stall WHERE account_id IS NOT NULL")
    return [r[0] for r in rows]


async def store_sealed(conn: asyncpg.Connection, rows: list[tuple[int, str]]) -> None:
    """The sealed account numbers, by account id (COPY into nat_sealed)."""
    await conn.execute(
        "CREATE TEMP TABLE nat_sealed (id bigint PRIMARY KEY, sealed text NOT NULL) ON COMMIT DROP"
    )
    await conn.copy_records_to_table("nat_sealed", records=rows, columns=["id", "sealed"])


# ---------------------------------------------------------------- the stalls' own rows

_HOLDERS_AND_STALLS = """
INSERT INTO stallholder (id, full_name, phone_e164, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT holder_id, 'Thử Nghiệm ' || person, phone, reg_at, reg_at FROM nat_stall;

INSERT INTO stall (id, market_id, stall_code, code_key, code_sort, zone, goods, holder_id, status,
                   search_text, created_by, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT stall_id, market_id, stall_code, upper(stall_code), code_sort, zone, goods_name,
       holder_id, CASE WHEN vacant THEN 'vacant' ELSE 'active' END,
       -- core.text.stall_search_text's form (codes here are ASCII: zone letter, '-', digits)
       concat_ws(' ', lower(stall_code), 'thu nghiem ' || person_folded, goods_folded,
                 '0' || substr(phone, 4),
                 regexp_replace(lower(stall_code), '[^a-z0-9]+', '', 'g')),
       actor_id, reg_at, reg_at
FROM nat_stall;
"""

_ACCOUNTS = """
INSERT INTO payment_account (id, stall_id, bin, account_number, account_name, service,
                             partner_code, position, created_by, created_at, reference,
                             name_check, name_checked_at)
OVERRIDING SYSTEM VALUE
SELECT s.account_id, s.stall_id, s.bin, z.sealed, 'THU NGHIEM ' || s.person_ascii, 'account',
       s.partner_code, 0, s.actor_id, s.reg_at,
       CASE WHEN s.bin = '971025' THEN 'MOMOW2W' || lpad(s.account_id::text, 9, '0') END,
       'disabled', s.reg_at
FROM nat_stall s JOIN nat_sealed z ON z.id = s.account_id;

INSERT INTO onboarding (id, payment_account_id, partner_code, onboarded_by, channel, status,
                        created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT onboarding_id, account_id, partner_code, actor_id, 'field_visit', 'active', reg_at, reg_at
FROM nat_stall WHERE onboarding_id IS NOT NULL;

INSERT INTO onboarding_status (onboarding_id, from_status, to_status, at, actor_id, source)
SELECT onboarding_id, NULL, 'active', reg_at, actor_id, 'registration'
FROM nat_stall WHERE onboarding_id IS NOT NULL;

INSERT INTO audit_log (actor_id, action, entity, entity_id, after, at)
SELECT actor_id, 'create', 'onboarding', onboarding_id::text,
       jsonb_build_object('payment_account_id', account_id, 'partner_code', partner_code,
                          'channel', 'field_visit', 'status', 'active', 'source', 'registration',
                          'ref', NULL),
       reg_at
FROM nat_stall WHERE onboarding_id IS NOT NULL;

INSERT INTO consent (stallholder_id, purpose, notice_version, channel, collected_by, granted_at)
SELECT s.holder_id, p.purpose, '2026-01', 'tablet', s.actor_id, s.reg_at
FROM nat_stall s,
     unnest(ARRAY['registration', 'qr_sign', 'coverage_reporting']) AS p (purpose);
"""

# Facts, and counted flags that agree with them (coverage.levels.levels_of), as a bulk loader may
# write them for coverage.counters.rebuild(trust_stall_flags=True).
_COVERAGE = """
INSERT INTO stall_coverage (stall_id, market_id, sign_issued_at, sign_issued_by, sign_delivered_at,
                            sign_delivered_by, verified_at, verified_by, verified_method,
                            verified_account_id, last_payment_at, fees_cashless, needs_revisit,
                            revisit_reason, revisit_flagged_at, counted_active, counted_qr_issued,
                            counted_qr_verified, counted_transacting, counted_fees_cashless,
                            counted_zone, counted_partners, updated_at)
SELECT s.stall_id, s.market_id, s.issued_at, CASE WHEN s.issued THEN s.actor_id END,
       s.delivered_at,
       CASE WHEN s.delivered THEN s.actor_id END,
       s.verified_at, CASE WHEN s.verified THEN s.actor_id END,
       CASE WHEN s.verified THEN 'scan' END, CASE WHEN s.verified THEN s.account_id END,
       s.last_pay_at, s.fees, s.revisit, CASE WHEN s.revisit THEN 'qr_mismatch' END,
       s.revisit_at,
       NOT s.vacant, NOT s.vacant AND (s.issued OR s.verified), NOT s.vacant AND s.verified,
       NOT s.vacant AND s.payer AND s.last_pay_at >= p.now - p.window_days * interval '1 day',
       NOT s.vacant AND s.fees,
       CASE WHEN s.vacant THEN '' ELSE s.zone END,
       CASE WHEN NOT s.vacant AND s.partner_code IS NOT NULL THEN ARRAY[s.partner_code]
            ELSE '{}' END,
       greatest(s.reg_at, s.issued_at, s.verified_at, s.last_pay_at)
FROM nat_stall s, nat_param p
"""

# Payments every 12 days at most from the first to the last (so a payer stays `transacting`
# from its first payment until a window after its last).
_PAYMENTS = """
INSERT INTO payment_event (partner_code, external_id, payment_account_id, stall_id, amount,
                           occurred_at, received_at, matched)
SELECT s.partner_code, 'TN-' || s.account_id || '-' || j, s.account_id, s.stall_id,
       (10 + floor(490 * pg_temp.nat_h(s.seq * 16 + j, 40)))::bigint * 1000, x.at,
       x.at + interval '3 seconds', true
FROM nat_stall s
CROSS JOIN LATERAL generate_series(0, s.payments - 1) AS j
CROSS JOIN LATERAL (SELECT s.last_pay_at - (s.first_pay_ago - s.last_pay_ago) * j
                               / greatest(s.payments - 1, 1) * interval '1 day' AS at) x
WHERE s.payer
"""


def _statements(script: str) -> list[str]:
    return [part for part in script.split(";\n\n") if part.strip()]


async def insert_holders_and_stalls(conn: asyncpg.Connection) -> None:
    """The stallholders and their stalls."""
    for statement in _statements(_HOLDERS_AND_STALLS):
        await conn.execute(statement)


async def insert_accounts_and_coverage(conn: asyncpg.Connection) -> None:
    """Accounts (sealed: store_sealed first), onboardings, consents, coverage rows, payments."""
    for statement in _statements(_ACCOUNTS):
        await conn.execute(statement)
    await conn.execute(_COVERAGE)
    await conn.execute(_PAYMENTS)


# ---------------------------------------------------------------- field activity

# What the volunteers did, as the use cases audit it: registrations, confirmed prints, signs put
# up, codes checked (a failed check first for stalls flagged for a return visit), fees, and later
# consents to share with the stall's partner.
_ACTIVITY = """
INSERT INTO audit_log (actor_id, action, entity, entity_id, after, at)
SELECT actor_id, 'register', 'stall', stall_id::text,
       jsonb_build_object('id', stall_id, 'market_id', market_id, 'stall_code', stall_code,
                          'zone', zone, 'status', CASE WHEN vacant THEN 'vacant' ELSE 'active' END),
       reg_at
FROM nat_stall
UNION ALL
SELECT actor_id, 'print_confirmed', 'stall', stall_id::text,
       jsonb_build_object('payment_account_id', account_id, 'print_job_id', NULL), issued_at
FROM nat_stall WHERE issued
UNION ALL
SELECT actor_id, 'sign_delivered', 'stall', stall_id::text, NULL, delivered_at
FROM nat_stall WHERE delivered
UNION ALL
SELECT actor_id, 'verify_failed', 'stall', stall_id::text,
       jsonb_build_object('reason', 'qr_mismatch', 'codes', '[]'::jsonb), revisit_at
FROM nat_stall WHERE revisit
UNION ALL
SELECT actor_id, 'verify', 'stall', stall_id::text,
       jsonb_build_object('method', 'scan', 'payment_account_id', account_id), verified_at
FROM nat_stall WHERE verified
UNION ALL
SELECT s.actor_id, 'fees_cashless', 'stall', s.stall_id::text,
       jsonb_build_object('fees_cashless', true), least(s.reg_at + interval '1 day', p.now)
FROM nat_stall s, nat_param p WHERE s.fees;

WITH later AS (
    SELECT s.holder_id, s.actor_id, 'share_partner:' || s.partner_code AS purpose,
           least(s.reg_at + interval '3 days', p.now) AS at
    FROM nat_stall s, nat_param p
    WHERE s.partner_code IS NOT NULL AND pg_temp.nat_h(s.seq, 41) < 0.05
), granted AS (
    INSERT INTO consent (stallholder_id, purpose, notice_version, channel, collected_by,
                         granted_at)
    SELECT holder_id, purpose, '2026-01', 'tablet', actor_id, at FROM later
)
INSERT INTO audit_log (actor_id, action, entity, entity_id, after, at)
SELECT actor_id, 'grant_consent', 'stallholder', holder_id::text,
       jsonb_build_object('purposes', jsonb_build_array(purpose), 'notice_version', '2026-01',
                          'channel', 'tablet'),
       at
FROM later;
"""


async def insert_activity(conn: asyncpg.Connection) -> None:
    """The audit entries of the volunteers' field work, and the consents given later."""
    await conn.execute(_ACTIVITY)


# ---------------------------------------------------------------- history: snapshots, statuses

# Each market's numbers at the end of each past day, from the days its stalls reached each level
# (a payer counts from its first payment until a window after its last), and its status under the
# rule in force that day (as coverage.levels.evaluate_status: lapsed once cashless and no longer).
_SNAPSHOTS = sql.compose("""
CREATE TEMP TABLE nat_snap ON COMMIT DROP AS
WITH ev AS (
    SELECT market_id, pg_temp.nat_day(reg_at) AS day, 1 AS a, 0 AS i, 0 AS v, 0 AS t,
           fees::integer AS f
    FROM nat_stall WHERE NOT vacant
    UNION ALL
    SELECT market_id, pg_temp.nat_day(issued_at), 0, 1, 0, 0, 0 FROM nat_stall WHERE issued
    UNION ALL
    SELECT market_id, pg_temp.nat_day(verified_at), 0, 0, 1, 0, 0
    FROM nat_stall WHERE verified
    UNION ALL
    SELECT market_id, pg_temp.nat_day(first_pay_at), 0, 0, 0, 1, 0 FROM nat_stall WHERE payer
    UNION ALL
    SELECT s.market_id, pg_temp.nat_day(s.last_pay_at + p.window_days * interval '1 day'),
           0, 0, 0, -1, 0
    FROM nat_stall s, nat_param p WHERE s.payer
), inc AS (
    SELECT ev.market_id, greatest(ev.day, p.today - p.days) AS day, sum(ev.a) AS a,
           sum(ev.i) AS i, sum(ev.v) AS v, sum(ev.t) AS t, sum(ev.f) AS f
    FROM ev, nat_param p GROUP BY 1, 2
), grid AS (
    SELECT m.id AS market_id, d::date AS day
    FROM nat_market m, nat_param p,
         generate_series(p.today - p.days, p.today - 1, interval '1 day') AS d
), run AS (
    SELECT g.market_id, g.day,
           sum(coalesce(inc.a, 0)) OVER w AS active_stalls,
           sum(coalesce(inc.i, 0)) OVER w AS qr_issued,
           sum(coalesce(inc.v, 0)) OVER w AS qr_verified,
           sum(coalesce(inc.t, 0)) OVER w AS transacting,
           sum(coalesce(inc.f, 0)) OVER w AS fees_cashless
    FROM grid g LEFT JOIN inc ON inc.market_id = g.market_id AND inc.day = g.day
    WINDOW w AS (PARTITION BY g.market_id ORDER BY g.day)
), met AS (
    SELECT run.*,
           run.active_stalls > 0
           AND ($t_issued::numeric IS NULL OR run.qr_issued >= $t_issued::numeric * run.active_stalls)
           AND ($t_verified::numeric IS NULL
                OR run.qr_verified >= $t_verified::numeric * run.active_stalls)
           AND ($t_transacting::numeric IS NULL
                OR run.transacting >= $t_transacting::numeric * run.active_stalls)
           AND ($t_fees::numeric IS NULL
                OR run.fees_cashless >= $t_fees::numeric * run.active_stalls) AS met
    FROM run
)
SELECT met.market_id, met.day, met.active_stalls::integer, met.qr_issued::integer,
       met.qr_verified::integer, met.transacting::integer, met.fees_cashless::integer,
       CASE WHEN met.met THEN 'cashless'
            WHEN coalesce(bool_or(met.met) OVER (PARTITION BY met.market_id ORDER BY met.day
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                          false) THEN 'lapsed'
            WHEN met.active_stalls = 0 OR met.qr_issued = 0 THEN 'not_started'
            ELSE 'in_progress' END AS status
FROM met
""")

_HISTORY = [
    sql.compose(part)
    for part in """
INSERT INTO coverage_snapshot (market_id, day, active_stalls, qr_issued, qr_verified, transacting,
                               fees_cashless, status, rule_version, taken_at)
SELECT market_id, day, active_stalls, qr_issued, qr_verified, transacting, fees_cashless, status,
       $rule_version, (day + 1)::timestamp AT TIME ZONE INTERVAL '07:00' - interval '5 minutes'
FROM nat_snap ORDER BY market_id, day;
---
INSERT INTO market_status_history (market_id, status, previous_status, rule_version, reason,
                                   active_stalls, qr_issued, qr_verified, transacting,
                                   fees_cashless, changed_at)
SELECT market_id, status, previous, $rule_version, 'daily', active_stalls, qr_issued, qr_verified,
       transacting, fees_cashless, (day + 1)::timestamp AT TIME ZONE INTERVAL '07:00'
           - interval '10 minutes'
FROM (SELECT n.*, lag(n.status, 1, 'not_started') OVER (PARTITION BY n.market_id ORDER BY n.day)
             AS previous
      FROM nat_snap n) x
WHERE status <> previous
ORDER BY market_id, day;
---
INSERT INTO market_coverage (market_id, status, status_since, rule_version, updated_at)
SELECT m.id, coalesce(l.status, 'not_started'),
       coalesce(h.changed_at, p.now - p.days * interval '1 day'), $rule_version, p.now
FROM nat_market m CROSS JOIN nat_param p
LEFT JOIN nat_snap l ON l.market_id = m.id AND l.day = p.today - 1
LEFT JOIN (SELECT market_id, max(changed_at) AS changed_at FROM market_status_history
           WHERE market_id IN (SELECT id FROM nat_market) GROUP BY market_id) h
       ON h.market_id = m.id
WHERE m.stalls > 0
ORDER BY m.id;
""".split("---")
]


async def insert_history(
    conn: asyncpg.Connection, *, rule_version: int, thresholds: dict[str, float]
) -> None:
    """Daily snapshots of every past day, the status changes they imply, and each market's
    counter row with its status as of yesterday (the counts come from counters.rebuild)."""
    t = {k: str(v) for k, v in thresholds.items()}
    await conn.execute(
        _SNAPSHOTS.text,
        *_SNAPSHOTS.args(
            {
                "t_issued": t.get("qr_issued"),
                "t_verified": t.get("qr_verified"),
                "t_transacting": t.get("transacting"),
                "t_fees": t.get("fees_cashless"),
            }
        ),
    )
    for statement in _HISTORY:
        await conn.execute(statement.text, *statement.args({"rule_version": rule_version}))
