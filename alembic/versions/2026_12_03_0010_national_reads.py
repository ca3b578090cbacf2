"""National reads: daily numbers per area, and markets found by area.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A country-wide series of 90 days read each market's last snapshot for every day (10,000 markets:
900,000 lookups, 0.8 s). `coverage_area_day` keeps, for every day, the sums over every market of
the country, of each province and of each ward, as they were that day (each market's last
snapshot on or before it, in the area it was in then): the periodic coverage job writes today's
and yesterday's rows after the day's snapshots (coverage.history), so a series is one row a day.
The upgrade fills it from the snapshots already taken.

`market_area_idx` finds the markets of a province or a ward (drill-down rollups and maps).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
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
    DROP INDEX market_area_idx;
    DROP TABLE coverage_area_day;
    """)
