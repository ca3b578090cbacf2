"""Rollups are read, not written: area and zone numbers are summed from per-market and per-stall rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

A registration used to add its stall to seven counter rows (market, zone, partner, and the ward,
district, province and partner rollups, the latter kept right by triggers when a market moved).
Only what cannot be summed cheaply stays written: the market's counters (one row per market,
created with its first stall, no trigger) and the partner's counters per market. A ward, district or province
is a sum over its markets' rows (at most a few hundred), a zone a sum over one market's stalls.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    DROP TRIGGER market_coverage_delete ON market;
    DROP TRIGGER market_coverage_move ON market;
    DROP TRIGGER market_coverage_insert ON market;
    DROP FUNCTION coverage_market_trigger();
    DROP FUNCTION coverage_market_area(bigint, text, text, text, integer);
    DROP TABLE coverage_rollup;
    DROP TABLE zone_coverage;
    """)


def downgrade() -> None:
    op.execute("""
    INSERT INTO market_coverage (market_id, rule_version)
    SELECT m.id, (SELECT max(version) FROM programme_rule) FROM market m
    ON CONFLICT (market_id) DO NOTHING;

    CREATE TABLE zone_coverage (
        market_id     bigint NOT NULL,
        zone          text NOT NULL,
        active_stalls integer NOT NULL DEFAULT 0,
        qr_issued     integer NOT NULL DEFAULT 0,
        qr_verified   integer NOT NULL DEFAULT 0,
        transacting   integer NOT NULL DEFAULT 0,
        fees_cashless integer NOT NULL DEFAULT 0,
        CONSTRAINT zone_coverage_pkey PRIMARY KEY (market_id, zone),
        CONSTRAINT zone_coverage_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE
    );
    INSERT INTO zone_coverage (market_id, zone, active_stalls, qr_issued, qr_verified,
                               transacting, fees_cashless)
    SELECT market_id, counted_zone, count(*), count(*) FILTER (WHERE counted_qr_issued),
           count(*) FILTER (WHERE counted_qr_verified), count(*) FILTER (WHERE counted_transacting),
           count(*) FILTER (WHERE counted_fees_cashless)
    FROM stall_coverage WHERE counted_active GROUP BY market_id, counted_zone;

    CREATE TABLE coverage_rollup (
        kind          text NOT NULL,
        key           text NOT NULL,
        slot          smallint NOT NULL,
        markets       integer NOT NULL DEFAULT 0,
        active_stalls integer NOT NULL DEFAULT 0,
        qr_issued     integer NOT NULL DEFAULT 0,
        qr_verified   integer NOT NULL DEFAULT 0,
        transacting   integer NOT NULL DEFAULT 0,
        fees_cashless integer NOT NULL DEFAULT 0,
        not_started   integer NOT NULL DEFAULT 0,
        in_progress   integer NOT NULL DEFAULT 0,
        cashless      integer NOT NULL DEFAULT 0,
        lapsed        integer NOT NULL DEFAULT 0,
        CONSTRAINT coverage_rollup_pkey PRIMARY KEY (kind, key, slot),
        CONSTRAINT coverage_rollup_kind_check
            CHECK (kind IN ('ward', 'legacy_district', 'province', 'partner')),
        CONSTRAINT coverage_rollup_slot_check CHECK (slot BETWEEN 0 AND 15)
    );

    CREATE FUNCTION coverage_market_area(m_id bigint, m_ward text, m_district text, m_province text,
                                         sign integer) RETURNS void
    LANGUAGE plpgsql AS $fn$
    DECLARE
        c record;
    BEGIN
        SELECT * INTO c FROM market_coverage WHERE market_id = m_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        INSERT INTO coverage_rollup AS r (kind, key, slot, markets, active_stalls, qr_issued,
                                          qr_verified, transacting, fees_cashless, not_started,
                                          in_progress, cashless, lapsed)
        SELECT k.kind, k.key, mod(m_id, 16)::smallint, sign, sign * c.active_stalls,
               sign * c.qr_issued, sign * c.qr_verified, sign * c.transacting,
               sign * c.fees_cashless,
               sign * (c.status = 'not_started')::int, sign * (c.status = 'in_progress')::int,
               sign * (c.status = 'cashless')::int, sign * (c.status = 'lapsed')::int
        FROM (VALUES ('legacy_district', coalesce(m_district, '')),
                     ('province', coalesce(m_province, '')),
                     ('ward', coalesce(m_ward, ''))) AS k (kind, key)
        ORDER BY k.kind, k.key
        ON CONFLICT (kind, key, slot) DO UPDATE SET
            markets = r.markets + excluded.markets,
            active_stalls = r.active_stalls + excluded.active_stalls,
            qr_issued = r.qr_issued + excluded.qr_issued,
            qr_verified = r.qr_verified + excluded.qr_verified,
            transacting = r.transacting + excluded.transacting,
            fees_cashless = r.fees_cashless + excluded.fees_cashless,
            not_started = r.not_started + excluded.not_started,
            in_progress = r.in_progress + excluded.in_progress,
            cashless = r.cashless + excluded.cashless,
            lapsed = r.lapsed + excluded.lapsed;
    END
    $fn$;

    CREATE FUNCTION coverage_market_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO market_coverage (market_id) VALUES (NEW.id);
            PERFORM coverage_market_area(NEW.id, NEW.ward_code, NEW.legacy_district_name,
                                         NEW.province_code, 1);
            RETURN NEW;
        ELSIF TG_OP = 'UPDATE' THEN
            PERFORM coverage_market_area(OLD.id, OLD.ward_code, OLD.legacy_district_name,
                                         OLD.province_code, -1);
            PERFORM coverage_market_area(NEW.id, NEW.ward_code, NEW.legacy_district_name,
                                         NEW.province_code, 1);
            RETURN NEW;
        ELSE
            PERFORM coverage_market_area(OLD.id, OLD.ward_code, OLD.legacy_district_name,
                                         OLD.province_code, -1);
            RETURN OLD;
        END IF;
    END
    $fn$;

    SELECT coverage_market_area(m.id, m.ward_code, m.legacy_district_name, m.province_code, 1)
    FROM market m ORDER BY m.id;
    INSERT INTO coverage_rollup (kind, key, slot, active_stalls, qr_issued, qr_verified,
                                 transacting, fees_cashless)
    SELECT 'partner', partner_code, mod(market_id, 16)::smallint, sum(active_stalls),
           sum(qr_issued), sum(qr_verified), sum(transacting), sum(fees_cashless)
    FROM partner_coverage GROUP BY partner_code, mod(market_id, 16);

    CREATE TRIGGER market_coverage_insert AFTER INSERT ON market
        FOR EACH ROW EXECUTE FUNCTION coverage_market_trigger();
    CREATE TRIGGER market_coverage_move AFTER UPDATE OF ward_code, legacy_district_name,
        province_code
        ON market FOR EACH ROW
        WHEN (OLD.ward_code IS DISTINCT FROM NEW.ward_code
              OR OLD.legacy_district_name IS DISTINCT FROM NEW.legacy_district_name
              OR OLD.province_code IS DISTINCT FROM NEW.province_code)
        EXECUTE FUNCTION coverage_market_trigger();
    CREATE TRIGGER market_coverage_delete BEFORE DELETE ON market
        FOR EACH ROW EXECUTE FUNCTION coverage_market_trigger();
    """)
