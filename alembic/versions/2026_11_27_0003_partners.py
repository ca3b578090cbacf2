"""Partners registry, onboardings, partner events and payments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from sqlalchemy import text

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Banks, wallets, gateways and aggregators. Credentials never leave the server: the API only
    -- says which fields are set.
    CREATE TABLE partner (
        code        text NOT NULL,
        name        text NOT NULL,
        kind        text NOT NULL,
        scheme      text NOT NULL DEFAULT 'none',
        bins        text[] NOT NULL DEFAULT '{}',
        credentials jsonb NOT NULL DEFAULT '{}',
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT partner_pkey PRIMARY KEY (code),
        CONSTRAINT partner_code_check CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
        CONSTRAINT partner_kind_check CHECK (kind IN ('bank', 'wallet', 'gateway', 'aggregator')),
        CONSTRAINT partner_scheme_check
            CHECK (scheme IN ('own', 'momo', 'vnpay', 'zalopay', 'payos', 'none')),
        CONSTRAINT partner_credentials_check CHECK (jsonb_typeof(credentials) = 'object')
    );
    CREATE INDEX partner_bins_idx ON partner USING gin (bins);

    -- Which partner set up each payment account, who, how, and where it stands now.
    CREATE TABLE onboarding (
        id                 bigint GENERATED ALWAYS AS IDENTITY,
        payment_account_id bigint NOT NULL,
        partner_code       text NOT NULL,
        onboarded_by       bigint,
        staff_name         text,
        channel            text NOT NULL,
        status             text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT onboarding_pkey PRIMARY KEY (id),
        CONSTRAINT onboarding_payment_account_id_fkey FOREIGN KEY (payment_account_id)
            REFERENCES payment_account (id) ON DELETE CASCADE,
        CONSTRAINT onboarding_partner_code_fkey FOREIGN KEY (partner_code)
            REFERENCES partner (code),
        CONSTRAINT onboarding_onboarded_by_fkey FOREIGN KEY (onboarded_by) REFERENCES app_user (id),
        CONSTRAINT onboarding_account_partner_key UNIQUE (payment_account_id, partner_code),
        CONSTRAINT onboarding_channel_check
            CHECK (channel IN ('field_visit', 'partner_import', 'partner_api')),
        CONSTRAINT onboarding_status_check
            CHECK (status IN ('pending', 'active', 'suspended', 'removed')),
        CONSTRAINT onboarding_staff_name_check CHECK (length(staff_name) <= 100)
    );
    CREATE INDEX onboarding_partner_status_idx ON onboarding (partner_code, status);

    CREATE TABLE onboarding_status (
        id            bigint GENERATED ALWAYS AS IDENTITY,
        onboarding_id bigint NOT NULL,
        from_status   text,
        to_status     text NOT NULL,
        at            timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_id      bigint,
        source        text NOT NULL,
        effective_on  date,
        ref           text,
        CONSTRAINT onboarding_status_pkey PRIMARY KEY (id),
        CONSTRAINT onboarding_status_onboarding_id_fkey FOREIGN KEY (onboarding_id)
            REFERENCES onboarding (id) ON DELETE CASCADE,
        CONSTRAINT onboarding_status_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES app_user (id),
        CONSTRAINT onboarding_status_to_check
            CHECK (to_status IN ('pending', 'active', 'suspended', 'removed')),
        CONSTRAINT onboarding_status_source_check
            CHECK (source IN ('registration', 'manual', 'partner_import', 'partner_api',
                              'migration'))
    );
    CREATE INDEX onboarding_status_onboarding_idx ON onboarding_status (onboarding_id, id);

    -- Every verified partner message, once per (partner, id): own events and native notifications.
    -- The payload keeps what was applied, never payer data; body_sha256 identifies the raw message.
    CREATE TABLE partner_event (
        id                 bigint GENERATED ALWAYS AS IDENTITY,
        partner_code       text NOT NULL,
        external_id        text NOT NULL,
        type               text NOT NULL,
        payload            jsonb NOT NULL DEFAULT '{}',
        fingerprint        bytea NOT NULL,
        body_sha256        bytea NOT NULL,
        received_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
        processed_at       timestamptz,
        result             text,
        payment_account_id bigint,
        CONSTRAINT partner_event_pkey PRIMARY KEY (id),
        CONSTRAINT partner_event_partner_code_fkey FOREIGN KEY (partner_code)
            REFERENCES partner (code),
        CONSTRAINT partner_event_payment_account_id_fkey FOREIGN KEY (payment_account_id)
            REFERENCES payment_account (id) ON DELETE SET NULL,
        CONSTRAINT partner_event_partner_external_key UNIQUE (partner_code, external_id)
    );

    -- Money received by a stall. Unmatched (verified) notifications stay here for review.
    CREATE TABLE payment_event (
        id                 bigint GENERATED ALWAYS AS IDENTITY,
        partner_code       text NOT NULL,
        external_id        text NOT NULL,
        payment_account_id bigint,
        stall_id           bigint,
        amount             bigint NOT NULL,
        occurred_at        timestamptz NOT NULL,
        received_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
        matched            boolean NOT NULL,
        account_number     text,
        reference          text,
        CONSTRAINT payment_event_pkey PRIMARY KEY (id),
        CONSTRAINT payment_event_partner_code_fkey FOREIGN KEY (partner_code)
            REFERENCES partner (code),
        CONSTRAINT payment_event_payment_account_id_fkey FOREIGN KEY (payment_account_id)
            REFERENCES payment_account (id) ON DELETE SET NULL,
        CONSTRAINT payment_event_stall_id_fkey FOREIGN KEY (stall_id)
            REFERENCES stall (id) ON DELETE SET NULL,
        CONSTRAINT payment_event_partner_external_key UNIQUE (partner_code, external_id),
        CONSTRAINT payment_event_amount_check CHECK (amount > 0)
    );
    CREATE INDEX payment_event_stall_idx ON payment_event (stall_id, occurred_at);
    CREATE INDEX payment_event_account_idx ON payment_event (payment_account_id, occurred_at);
    CREATE INDEX payment_event_unmatched_idx ON payment_event (partner_code, id) WHERE NOT matched;

    -- One row per imported report file: the same file twice changes nothing.
    CREATE TABLE partner_import (
        id           bigint GENERATED ALWAYS AS IDENTITY,
        partner_code text NOT NULL,
        sha256       bytea NOT NULL,
        filename     text,
        created_by   bigint,
        created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        summary      jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT partner_import_pkey PRIMARY KEY (id),
        CONSTRAINT partner_import_partner_code_fkey FOREIGN KEY (partner_code)
            REFERENCES partner (code),
        CONSTRAINT partner_import_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT partner_import_partner_sha256_key UNIQUE (partner_code, sha256)
    );

    -- What the bank says the account is called, compared with what the volunteer typed.
    ALTER TABLE payment_account
        ADD COLUMN name_check text,
        ADD COLUMN bank_account_name text,
        ADD COLUMN name_checked_at timestamptz,
        ADD CONSTRAINT payment_account_name_check_status_check
            CHECK (name_check IN ('matched', 'mismatch', 'not_found', 'no_name', 'unavailable',
                                  'disabled'));
    """)

    from partners import registry

    op.get_bind().execute(
        text(
            "INSERT INTO partner (code, name, kind, scheme, bins) "
            "VALUES (:code, :name, :kind, :scheme, CAST(:bins AS text[])) "
            "ON CONFLICT (code) DO NOTHING"
        ),
        [
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind,
                "scheme": p.scheme,
                "bins": list(p.bins),
            }
            for p in registry.seed_rows()
        ],
    )

    op.execute("""
    -- Registration accepted any code pattern until now: upper-case the codes, keep unknown ones as
    -- placeholder partners (an admin can rename them), then enforce the reference.
    UPDATE payment_account SET partner_code = upper(partner_code)
        WHERE partner_code IS NOT NULL AND partner_code <> upper(partner_code);
    INSERT INTO partner (code, name, kind, scheme)
        SELECT DISTINCT partner_code, partner_code, 'bank', 'none' FROM payment_account
        WHERE partner_code IS NOT NULL
        ON CONFLICT (code) DO NOTHING;
    ALTER TABLE payment_account ADD CONSTRAINT payment_account_partner_code_fkey
        FOREIGN KEY (partner_code) REFERENCES partner (code);

    -- Accounts registered before this revision were set up on a field visit and are live.
    INSERT INTO onboarding (payment_account_id, partner_code, onboarded_by, channel, status,
                            created_at, updated_at)
        SELECT id, partner_code, created_by, 'field_visit', 'active', created_at, created_at
        FROM payment_account WHERE partner_code IS NOT NULL;
    INSERT INTO onboarding_status (onboarding_id, from_status, to_status, at, actor_id, source)
        SELECT id, NULL, status, created_at, onboarded_by, 'migration' FROM onboarding;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE payment_account
        DROP CONSTRAINT payment_account_partner_code_fkey,
        DROP CONSTRAINT payment_account_name_check_status_check,
        DROP COLUMN name_checked_at,
        DROP COLUMN bank_account_name,
        DROP COLUMN name_check;
    DROP TABLE partner_import;
    DROP TABLE payment_event;
    DROP TABLE partner_event;
    DROP TABLE onboarding_status;
    DROP TABLE onboarding;
    DROP TABLE partner;
    """)
