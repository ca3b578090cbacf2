"""Coverage levels, counters, programme rule and market status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Counters are maintained by merchants/coverage.py in the transaction of every change; this
migration only creates the tables, back-fills them from the stalls that already exist, and keeps
the per-area rollups right when a market is created, moved to another ward or deleted (triggers).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Programme rule: thresholds on level shares, versioned; the newest version is in force.
    CREATE TABLE programme_rule (
        version    integer NOT NULL,
        thresholds jsonb NOT NULL,
        created_by bigint,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT programme_rule_pkey PRIMARY KEY (version),
        CONSTRAINT programme_rule_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT programme_rule_thresholds_check CHECK (jsonb_typeof(thresholds) = 'object')
    );
    INSERT INTO programme_rule (version, thresholds)
    VALUES (1, '{"qr_verified": 0.9, "transacting": 0.3}');

    -- Field progress of one stall, and what the counters currently hold for it (counted_*).
    CREATE TABLE stall_coverage (
        stall_id            bigint NOT NULL,
        market_id           bigint NOT NULL,
        sign_issued_at      timestamptz,
        sign_issued_by      bigint,
        sign_delivered_at   timestamptz,
        sign_delivered_by   bigint,
        verified_at         timestamptz,
        verified_by         bigint,
        verified_method     text,
        verified_account_id bigint,
        last_payment_at     timestamptz,
        fees_cashless       boolean NOT NULL DEFAULT false,
        needs_revisit       boolean NOT NULL DEFAULT false,
        revisit_reason      text,
        revisit_flagged_at  timestamptz,
        counted_active        boolean NOT NULL DEFAULT false,
        counted_qr_issued     boolean NOT NULL DEFAULT false,
        counted_qr_verified   boolean NOT NULL DEFAULT false,
        counted_transacting   boolean NOT NULL DEFAULT false,
        counted_fees_cashless boolean NOT NULL DEFAULT false,
        counted_zone          text NOT NULL DEFAULT '',
        counted_partners      text[] NOT NULL DEFAULT '{}',
        updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT stall_coverage_pkey PRIMARY KEY (stall_id),
        CONSTRAINT stall_coverage_stall_id_fkey FOREIGN KEY (stall_id) REFERENCES stall (id),
        CONSTRAINT stall_coverage_market_id_fkey FOREIGN KEY (market_id) REFERENCES market (id),
        CONSTRAINT stall_coverage_verified_account_id_fkey FOREIGN KEY (verified_account_id)
            REFERENCES payment_account (id) ON DELETE SET NULL,
        CONSTRAINT stall_coverage_sign_issued_by_fkey FOREIGN KEY (sign_issued_by) REFERENCES
            app_user (id),
        CONSTRAINT stall_coverage_sign_delivered_by_fkey FOREIGN KEY (sign_delivered_by)
            REFERENCES app_user (id),
        CONSTRAINT stall_coverage_verified_by_fkey FOREIGN KEY (verified_by) REFERENCES app_user
            (id),
        CONSTRAINT stall_coverage_verified_method_check CHECK (verified_method IN ('scan',
            'name_match')),
        CONSTRAINT stall_coverage_counted_check CHECK (
            counted_active OR NOT (counted_qr_issued OR counted_qr_verified OR counted_transacting
                                   OR counted_fees_cashless))
    );
    CREATE INDEX stall_coverage_market_idx ON stall_coverage (market_id);
    -- The daily job finds stalls whose last payment left the window without scanning the rest.
    CREATE INDEX stall_coverage_expiry_idx ON stall_coverage (last_payment_at) INCLUDE (market_id)
        WHERE counted_transacting;

    -- Per-market counters and status. Levels never exceed the active stalls (a bug fails here).
    CREATE TABLE market_coverage (
        market_id     bigint NOT NULL,
        active_stalls integer NOT NULL DEFAULT 0,
        qr_issued     integer NOT NULL DEFAULT 0,
        qr_verified   integer NOT NULL DEFAULT 0,
        transacting   integer NOT NULL DEFAULT 0,
        fees_cashless integer NOT NULL DEFAULT 0,
        status        text NOT NULL DEFAULT 'not_started',
        status_since  timestamptz NOT NULL DEFAULT clock_timestamp(),
        rule_version  integer,
        updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT market_coverage_pkey PRIMARY KEY (market_id),
        CONSTRAINT market_coverage_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE,
        CONSTRAINT market_coverage_status_check
            CHECK (status IN ('not_started', 'in_progress', 'cashless', 'lapsed')),
        CONSTRAINT market_coverage_counts_check CHECK (
            active_stalls >= 0
            AND qr_issued BETWEEN 0 AND active_stalls AND qr_verified BETWEEN 0 AND active_stalls
            AND transacting BETWEEN 0 AND active_stalls AND fees_cashless BETWEEN 0
                AND active_stalls)
    );

    -- No CHECK here: an upsert's delta row is checked before it turns into an update.
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

    -- Stalls with at least one active account of the partner, per market.
    CREATE TABLE partner_coverage (
        market_id     bigint NOT NULL,
        partner_code  text NOT NULL,
        active_stalls integer NOT NULL DEFAULT 0,
        qr_issued     integer NOT NULL DEFAULT 0,
        qr_verified   integer NOT NULL DEFAULT 0,
        transacting   integer NOT NULL DEFAULT 0,
        fees_cashless integer NOT NULL DEFAULT 0,
        CONSTRAINT partner_coverage_pkey PRIMARY KEY (market_id, partner_code),
        CONSTRAINT partner_coverage_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE
    );

    -- Area and partner rollups. Each group is split over 16 slots so that
    -- registrations in different markets of one city do not queue on one hot row; a read sums
    -- at most 16 rows per group. Slot = mod(market_id, 16).
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

    -- Every status change with the numbers and the rule version that caused it.
    CREATE TABLE market_status_history (
        id              bigint GENERATED ALWAYS AS IDENTITY,
        market_id       bigint NOT NULL,
        status          text NOT NULL,
        previous_status text,
        rule_version    integer NOT NULL,
        reason          text NOT NULL,
        active_stalls   integer NOT NULL,
        qr_issued       integer NOT NULL,
        qr_verified     integer NOT NULL,
        transacting     integer NOT NULL,
        fees_cashless   integer NOT NULL,
        changed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT market_status_history_pkey PRIMARY KEY (id),
        CONSTRAINT market_status_history_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE,
        CONSTRAINT market_status_history_rule_version_fkey FOREIGN KEY (rule_version)
            REFERENCES programme_rule (version),
        CONSTRAINT market_status_history_reason_check
            CHECK (reason IN ('stall_change', 'daily', 'rule_change'))
    );
    CREATE INDEX market_status_history_market_idx ON market_status_history (market_id, changed_at);

    -- Daily numbers per market (day in Vietnam time); the last write of a day wins.
    CREATE TABLE coverage_snapshot (
        market_id     bigint NOT NULL,
        day           date NOT NULL,
        active_stalls integer NOT NULL,
        qr_issued     integer NOT NULL,
        qr_verified   integer NOT NULL,
        transacting   integer NOT NULL,
        fees_cashless integer NOT NULL,
        status        text NOT NULL,
        rule_version  integer,
        taken_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT coverage_snapshot_pkey PRIMARY KEY (market_id, day),
        CONSTRAINT coverage_snapshot_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE
    );
    CREATE INDEX coverage_snapshot_day_idx ON coverage_snapshot (day);

    -- Adds (sign = 1) or removes (sign = -1) a market's numbers to the rollups of its area.
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

    -- Existing data: every stall gets its coverage row, every market its counters.
    INSERT INTO stall_coverage (stall_id, market_id, counted_active, counted_zone, counted_partners)
    SELECT s.id, s.market_id, s.status = 'active', coalesce(s.zone, ''),
           CASE WHEN s.status = 'active' THEN coalesce(
               (SELECT array_agg(DISTINCT a.partner_code ORDER BY a.partner_code)
                FROM payment_account a
                WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL), '{}')
           ELSE '{}' END
    FROM stall s;

    INSERT INTO market_coverage (market_id, active_stalls, rule_version)
    SELECT m.id, (SELECT count(*) FROM stall s WHERE s.market_id = m.id AND s.status = 'active'), 1
    FROM market m;

    INSERT INTO zone_coverage (market_id, zone, active_stalls)
    SELECT market_id, counted_zone, count(*) FROM stall_coverage WHERE counted_active
    GROUP BY market_id, counted_zone;

    INSERT INTO partner_coverage (market_id, partner_code, active_stalls)
    SELECT market_id, p, count(*) FROM stall_coverage, unnest(counted_partners) AS p
    GROUP BY market_id, p;

    SELECT coverage_market_area(m.id, m.ward_code, m.legacy_district_name, m.province_code, 1)
    FROM market m ORDER BY m.id;

    INSERT INTO coverage_rollup (kind, key, slot, active_stalls)
    SELECT 'partner', partner_code, mod(market_id, 16)::smallint, sum(active_stalls)
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


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER market_coverage_delete ON market;
    DROP TRIGGER market_coverage_move ON market;
    DROP TRIGGER market_coverage_insert ON market;
    DROP FUNCTION coverage_market_trigger();
    DROP FUNCTION coverage_market_area(bigint, text, text, text, integer);
    DROP TABLE coverage_snapshot;
    DROP TABLE market_status_history;
    DROP TABLE coverage_rollup;
    DROP TABLE partner_coverage;
    DROP TABLE zone_coverage;
    DROP TABLE market_coverage;
    DROP TABLE stall_coverage;
    DROP TABLE programme_rule;
    """)
