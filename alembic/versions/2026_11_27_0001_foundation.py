"""Foundation: administrative units, users, markets, stalls, stallholders, accounts, consent, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Codes were reused by the July 2025 reform: a unit is (scheme, code), never code alone.
    CREATE TABLE admin_unit (
        scheme      text NOT NULL,
        code        text NOT NULL,
        level       text NOT NULL,
        name        text NOT NULL,
        parent_code text,
        CONSTRAINT admin_unit_pkey PRIMARY KEY (scheme, code),
        CONSTRAINT admin_unit_scheme_check CHECK (scheme IN ('2025-01', '2025-07')),
        CONSTRAINT admin_unit_level_check CHECK (level IN ('province', 'district', 'ward'))
    );

    CREATE TABLE admin_crosswalk (
        old_scheme text NOT NULL,
        old_code   text NOT NULL,
        new_scheme text NOT NULL,
        new_code   text NOT NULL,
        is_partial boolean NOT NULL DEFAULT false,
        CONSTRAINT admin_crosswalk_pkey PRIMARY KEY (old_scheme, old_code, new_scheme, new_code),
        CONSTRAINT admin_crosswalk_old_fkey FOREIGN KEY (old_scheme, old_code)
            REFERENCES admin_unit (scheme, code),
        CONSTRAINT admin_crosswalk_new_fkey FOREIGN KEY (new_scheme, new_code)
            REFERENCES admin_unit (scheme, code)
    );

    CREATE TABLE app_user (
        id            bigint GENERATED ALWAYS AS IDENTITY,
        username      text NOT NULL,
        password_hash text NOT NULL,
        role          text NOT NULL,
        active        boolean NOT NULL DEFAULT true,
        created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT app_user_pkey PRIMARY KEY (id),
        CONSTRAINT app_user_username_key UNIQUE (username),
        CONSTRAINT app_user_username_check CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 64),
        CONSTRAINT app_user_role_check
            CHECK (role IN ('admin', 'manager', 'volunteer', 'partner', 'viewer'))
    );

    -- Opaque bearer tokens, stored as SHA-256: revocable, and shared by every worker.
    CREATE TABLE auth_token (
        token_hash bytea NOT NULL,
        user_id    bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT auth_token_pkey PRIMARY KEY (token_hash),
        CONSTRAINT auth_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id) ON DELETE CASCADE
    );
    CREATE INDEX auth_token_user_id_idx ON auth_token (user_id);

    CREATE TABLE market (
        id                   bigint GENERATED ALWAYS AS IDENTITY,
        name                 text NOT NULL,
        province_code        text NOT NULL DEFAULT '48',
        ward_scheme          text NOT NULL DEFAULT '2025-07',
        ward_code            text,
        legacy_ward_code     text,
        legacy_ward_name     text,
        legacy_district_name text,
        address              text,
        lat                  double precision,
        lon                  double precision,
        zones                text[] NOT NULL DEFAULT '{}',
        created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT market_pkey PRIMARY KEY (id),
        CONSTRAINT market_ward_fkey FOREIGN KEY (ward_scheme, ward_code) REFERENCES admin_unit (scheme, code),
        CONSTRAINT market_lat_check CHECK (lat BETWEEN -90 AND 90),
        CONSTRAINT market_lon_check CHECK (lon BETWEEN -180 AND 180)
    );
    CREATE INDEX market_ward_idx ON market (ward_scheme, ward_code);

    CREATE TABLE stallholder (
        id          bigint GENERATED ALWAYS AS IDENTITY,
        full_name   text,
        phone_e164  text,
        cccd_hash   bytea,
        cccd_last4  text,
        erased_at   timestamptz,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT stallholder_pkey PRIMARY KEY (id),
        CONSTRAINT stallholder_phone_check CHECK (phone_e164 ~ '^\\+[0-9]{8,15}$'),
        CONSTRAINT stallholder_cccd_last4_check CHECK (cccd_last4 ~ '^[0-9]{4}$')
    );
    CREATE INDEX stallholder_phone_idx ON stallholder (phone_e164);
    CREATE INDEX stallholder_cccd_hash_idx ON stallholder (cccd_hash);

    CREATE TABLE stall (
        id              bigint GENERATED ALWAYS AS IDENTITY,
        market_id       bigint NOT NULL,
        stall_code      text NOT NULL,
        code_key        text NOT NULL,
        code_sort       text NOT NULL,
        zone            text,
        goods           text,
        holder_id       bigint,
        status          text NOT NULL DEFAULT 'active',
        lat             double precision,
        lon             double precision,
        accuracy_m      double precision,
        search_text     text NOT NULL DEFAULT '',
        version         integer NOT NULL DEFAULT 1,
        created_by      bigint,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT stall_pkey PRIMARY KEY (id),
        CONSTRAINT stall_market_id_fkey FOREIGN KEY (market_id) REFERENCES market (id),
        CONSTRAINT stall_holder_id_fkey FOREIGN KEY (holder_id) REFERENCES stallholder (id),
        CONSTRAINT stall_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT stall_market_id_code_key UNIQUE (market_id, code_key),
        CONSTRAINT stall_status_check CHECK (status IN ('active', 'vacant', 'closed')),
        CONSTRAINT stall_version_check CHECK (version >= 1)
    );
    CREATE INDEX stall_market_sort_idx ON stall (market_id, code_sort, id);
    CREATE INDEX stall_holder_id_idx ON stall (holder_id);

    CREATE TABLE payment_account (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        stall_id       bigint NOT NULL,
        bin            text NOT NULL,
        account_number text NOT NULL,
        account_name   text,
        service        text NOT NULL DEFAULT 'account',
        partner_code   text,
        position       integer NOT NULL DEFAULT 0,
        active         boolean NOT NULL DEFAULT true,
        created_by     bigint,
        created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT payment_account_pkey PRIMARY KEY (id),
        CONSTRAINT payment_account_stall_id_fkey FOREIGN KEY (stall_id) REFERENCES stall (id) ON DELETE CASCADE,
        CONSTRAINT payment_account_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT payment_account_stall_id_bin_account_key UNIQUE (stall_id, bin, account_number),
        CONSTRAINT payment_account_bin_check CHECK (bin ~ '^[0-9]{6}$'),
        CONSTRAINT payment_account_number_check CHECK (account_number ~ '^[!-~]{1,19}$'),
        CONSTRAINT payment_account_name_check CHECK (account_name ~ '^[A-Z0-9 .,''-]{1,50}$'),
        CONSTRAINT payment_account_service_check CHECK (service IN ('account', 'card'))
    );
    CREATE INDEX payment_account_bin_number_idx ON payment_account (bin, account_number);

    -- One row per purpose: withdrawal is per purpose, and a partner share is its own purpose.
    CREATE TABLE consent (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        stallholder_id bigint NOT NULL,
        purpose        text NOT NULL,
        notice_version text NOT NULL,
        channel        text NOT NULL DEFAULT 'tablet',
        collected_by   bigint,
        granted_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        withdrawn_at   timestamptz,
        withdrawn_by   bigint,
        CONSTRAINT consent_pkey PRIMARY KEY (id),
        CONSTRAINT consent_stallholder_id_fkey FOREIGN KEY (stallholder_id)
            REFERENCES stallholder (id) ON DELETE CASCADE,
        CONSTRAINT consent_collected_by_fkey FOREIGN KEY (collected_by) REFERENCES app_user (id),
        CONSTRAINT consent_withdrawn_by_fkey FOREIGN KEY (withdrawn_by) REFERENCES app_user (id)
    );
    CREATE UNIQUE INDEX consent_active_purpose_key ON consent (stallholder_id, purpose)
        WHERE withdrawn_at IS NULL;

    CREATE TABLE audit_log (
        id         bigint GENERATED ALWAYS AS IDENTITY,
        actor_id   bigint,
        action     text NOT NULL,
        entity     text NOT NULL,
        entity_id  text,
        before     jsonb,
        after      jsonb,
        at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT audit_log_pkey PRIMARY KEY (id)
    );
    CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);

    -- A retried request with the same key replays the first answer; keys are per user.
    CREATE TABLE idempotency_key (
        user_id      bigint NOT NULL,
        key          text NOT NULL,
        request_hash bytea NOT NULL,
        resource_id  bigint,
        status_code  integer,
        created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT idempotency_key_pkey PRIMARY KEY (user_id, key),
        CONSTRAINT idempotency_key_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id) ON DELETE CASCADE
    );
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE idempotency_key;
    DROP TABLE audit_log;
    DROP TABLE consent;
    DROP TABLE payment_account;
    DROP TABLE stall;
    DROP TABLE stallholder;
    DROP TABLE market;
    DROP TABLE auth_token;
    DROP TABLE app_user;
    DROP TABLE admin_crosswalk;
    DROP TABLE admin_unit;
    """)
