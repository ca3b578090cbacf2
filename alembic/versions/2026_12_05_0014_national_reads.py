"""National reads: daily numbers per area, markets found by area; registration in one statement.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

A country-wide series of 90 days read each market's last snapshot for every day (10,000 markets:
900,000 lookups, 0.8 s). `coverage_area_day` keeps, for every day, the sums over every market of
the country, of each province and of each ward, as they were that day (each market's last
snapshot on or before it, in the area it was in then): the periodic coverage job writes today's
and yesterday's rows after the day's snapshots (coverage.history), so a series is one row a day.
The upgrade fills it from the snapshots already taken.

`market_area_idx` finds the markets of a province or a ward (drill-down rollups and maps).

A registration is one statement (one round trip): it takes the shared rule lock and reads the rule
in force after it through `coverage_rule_in_force()` (VOLATILE: its query takes a fresh snapshot,
so a rule committed before the lock was granted is the one read), and evaluates its market's
status with `coverage_status(...)`, the SQL twin of coverage.levels.evaluate_status
(tests/coverage/test_status_sql.py compares them).
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE coverage_area_day (
        kind          text NOT NULL,
        key           text NOT NULL,
        day           date NOT NULL,
        markets       integer NOT NULL,
        active_stalls integer NOT NULL,
        qr_issued     integer NOT NULL,
        qr_verified   integer NOT NULL,
        transacting   integer NOT NULL,
        fees_cashless integer NOT NULL,
        not_started   integer NOT NULL,
        in_progress   integer NOT NULL,
        cashless      integer NOT NULL,
        lapsed        integer NOT NULL,
        written_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT coverage_area_day_pkey PRIMARY KEY (kind, key, day),
        CONSTRAINT coverage_area_day_kind_check CHECK (kind IN ('all', 'province', 'ward'))
    );

    CREATE INDEX market_area_idx ON market (province_code, ward_code);

    -- 727000006 is coverage.queries.counters.RULE_LOCK.
    CREATE FUNCTION coverage_rule_in_force() RETURNS TABLE (version integer, thresholds jsonb)
        LANGUAGE plpgsql VOLATILE ROWS 1 AS $fn$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared(727000006);
        -- The version applied last (coverage.queries.counters.RULE_IN_FORCE; migration 0011:
        -- a version waits for its effective day before the job applies it).
        RETURN QUERY SELECT r.version, r.thresholds FROM programme_rule r
                     WHERE r.applied_at IS NOT NULL
                     ORDER BY r.applied_at DESC, r.effective_from DESC, r.version DESC LIMIT 1;
    END
    $fn$;

    -- One expression (no sub-select), so the planner inlines it into the statement.
    CREATE FUNCTION coverage_status(active integer, qr_issued integer, qr_verified integer,
                                    transacting integer, fees_cashless integer, thresholds jsonb,
                                    previous text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT CASE
            WHEN active > 0
                 AND (thresholds -> 'qr_issued' IS NULL
                      OR qr_issued >= (thresholds ->> 'qr_issued')::numeric * active)
                 AND (thresholds -> 'qr_verified' IS NULL
                      OR qr_verified >= (thresholds ->> 'qr_verified')::numeric * active)
                 AND (thresholds -> 'transacting' IS NULL
                      OR transacting >= (thresholds ->> 'transacting')::numeric * active)
                 AND (thresholds -> 'fees_cashless' IS NULL
                      OR fees_cashless >= (thresholds ->> 'fees_cashless')::numeric * active)
                THEN 'cashless'
            WHEN previous IN ('cashless', 'lapsed') THEN 'lapsed'
            WHEN active = 0 OR qr_issued = 0 THEN 'not_started'
            ELSE 'in_progress' END
    $fn$;

    INSERT INTO coverage_area_day (kind, key, day, markets, active_stalls, qr_issued,
                                   qr_verified, transacting, fees_cashless, not_started,
                                   in_progress, cashless, lapsed)
    SELECT CASE WHEN GROUPING(m.province_code) = 0 THEN 'province'
                WHEN GROUPING(m.ward_code) = 0 THEN 'ward' ELSE 'all' END,
           coalesce(CASE WHEN GROUPING(m.province_code) = 0 THEN m.province_code
                         WHEN GROUPING(m.ward_code) = 0 THEN m.ward_code END, ''),
           d.day, count(*), sum(x.active_stalls), sum(x.qr_issued), sum(x.qr_verified),
           sum(x.transacting), sum(x.fees_cashless),
           count(*) FILTER (WHERE x.status = 'not_started'),
           count(*) FILTER (WHERE x.status = 'in_progress'),
           count(*) FILTER (WHERE x.status = 'cashless'),
           count(*) FILTER (WHERE x.status = 'lapsed')
    FROM (SELECT generate_series(min(day), max(day), '1 day')::date AS day
          FROM coverage_snapshot) d
    CROSS JOIN market m
    JOIN LATERAL (SELECT s.active_stalls, s.qr_issued, s.qr_verified, s.transacting,
                         s.fees_cashless, s.status
                  FROM coverage_snapshot s WHERE s.market_id = m.id AND s.day <= d.day
                  ORDER BY s.day DESC LIMIT 1) x ON true
    GROUP BY GROUPING SETS ((d.day), (d.day, m.province_code), (d.day, m.ward_code));
    """)


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION coverage_status(integer, integer, integer, integer, integer, jsonb, text);
    DROP FUNCTION coverage_rule_in_force();
    DROP INDEX market_area_idx;
    DROP TABLE coverage_area_day;
    """)
