"""Scoped access and personal-data protection: scopes, API keys, login throttling, access log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE app_user ADD COLUMN partner_code text;

    CREATE TABLE user_market (
        user_id   bigint NOT NULL,
        market_id bigint NOT NULL,
        CONSTRAINT user_market_pkey PRIMARY KEY (user_id, market_id),
        CONSTRAINT user_market_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id) ON DELETE CASCADE,
        CONSTRAINT user_market_market_id_fkey FOREIGN KEY (market_id) REFERENCES market (id) ON DELETE CASCADE
    );
    CREATE INDEX user_market_market_idx ON user_market (market_id);

    CREATE TABLE user_ward (
        user_id     bigint NOT NULL,
        ward_scheme text NOT NULL DEFAULT '2025-07',
        ward_code   text NOT NULL,
        CONSTRAINT user_ward_pkey PRIMARY KEY (user_id, ward_scheme, ward_code),
        CONSTRAINT user_ward_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id) ON DELETE CASCADE,
        CONSTRAINT user_ward_ward_fkey FOREIGN KEY (ward_scheme, ward_code) REFERENCES admin_unit (scheme, code)
    );

    -- Machine clients of partners. Only a hash is kept; the key is shown once.
    CREATE TABLE api_key (
        id         bigint GENERATED ALWAYS AS IDENTITY,
        user_id    bigint NOT NULL,
        prefix     text NOT NULL,
        key_hash   bytea NOT NULL,
        label      text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        revoked_at timestamptz,
        CONSTRAINT api_key_pkey PRIMARY KEY (id),
        CONSTRAINT api_key_key_hash_key UNIQUE (key_hash),
        CONSTRAINT api_key_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id) ON DELETE CASCADE
    );

    -- Failed sign-ins per (username, client address), shared by every worker. Keying on the pair
    -- means an attacker who hammers a name from one address locks only that address out.
    CREATE TABLE login_attempt (
        attempt_key  text NOT NULL,
        failures     integer NOT NULL DEFAULT 0,
        first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        locked_until timestamptz,
        CONSTRAINT login_attempt_pkey PRIMARY KEY (attempt_key)
    );

    -- Who read which person's full record, when and through which route.
    CREATE TABLE access_log (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        actor_id       bigint,
        stallholder_id bigint,
        route          text NOT NULL,
        reason         text,
        at             timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT access_log_pkey PRIMARY KEY (id)
    );
    CREATE INDEX access_log_stallholder_idx ON access_log (stallholder_id);

    -- Requests of data subjects (export, erase, withdraw) with their deadline.
    CREATE TABLE data_request (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        stallholder_id bigint NOT NULL,
        kind           text NOT NULL,
        requested_by   bigint,
        requested_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        due_at         timestamptz NOT NULL,
        completed_at   timestamptz,
        CONSTRAINT data_request_pkey PRIMARY KEY (id),
        CONSTRAINT data_request_kind_check CHECK (kind IN ('export', 'erase', 'withdraw'))
    );
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE data_request;
    DROP TABLE access_log;
    DROP TABLE login_attempt;
    DROP TABLE api_key;
    DROP TABLE user_ward;
    DROP TABLE user_market;
    ALTER TABLE app_user DROP COLUMN partner_code;
    """)
