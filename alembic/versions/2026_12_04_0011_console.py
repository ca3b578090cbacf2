"""The console: people's display names and phones, province scopes, rule versions with a date.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

- `app_user.display_name` and `app_user.phone` (E.164, checked by core.types.Phone before it gets
  here): who a user is, for the people who manage them.
- `user_province`: managers and viewers may be scoped to a whole province (every market whose
  `province_code` it is), beside markets (`user_market`) and wards (`user_ward`).
- `programme_rule.effective_from`: a rule version applies from that moment (the start of its day in
  Vietnam); `applied_at` is when every market was re-evaluated under it: at once for a version
  effective now, by the hourly coverage job for one scheduled for a later day. The rule in force is
  the version applied last. Existing versions were applied when they were made.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE app_user
        ADD COLUMN display_name text,
        ADD COLUMN phone text,
        ADD CONSTRAINT app_user_display_name_check CHECK (length(display_name) BETWEEN 1 AND 100),
        ADD CONSTRAINT app_user_phone_check CHECK (phone ~ '^\\+[0-9]{8,15}$');

    CREATE TABLE user_province (
        user_id         bigint NOT NULL,
        province_scheme text NOT NULL DEFAULT '2025-07',
        province_code   text NOT NULL,
        CONSTRAINT user_province_pkey PRIMARY KEY (user_id, province_scheme, province_code),
        CONSTRAINT user_province_user_id_fkey FOREIGN KEY (user_id)
            REFERENCES app_user (id) ON DELETE CASCADE,
        CONSTRAINT user_province_province_fkey FOREIGN KEY (province_scheme, province_code)
            REFERENCES admin_unit (scheme, code)
    );
    CREATE INDEX market_province_idx ON market (province_code);

    ALTER TABLE programme_rule
        ADD COLUMN effective_from timestamptz,
        ADD COLUMN applied_at timestamptz;
    UPDATE programme_rule SET effective_from = created_at, applied_at = created_at;
    ALTER TABLE programme_rule
        ALTER COLUMN effective_from SET NOT NULL,
        ALTER COLUMN effective_from SET DEFAULT clock_timestamp();
    -- The rule in force: the version applied last; and the versions waiting for their day.
    CREATE INDEX programme_rule_applied_idx ON programme_rule (applied_at DESC, version DESC)
        WHERE applied_at IS NOT NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX programme_rule_applied_idx;
    -- A version that never applied never was the rule: it goes.
    DELETE FROM programme_rule WHERE applied_at IS NULL;
    ALTER TABLE programme_rule
        DROP COLUMN applied_at,
        DROP COLUMN effective_from;
    DROP INDEX market_province_idx;
    DROP TABLE user_province;
    ALTER TABLE app_user
        DROP CONSTRAINT app_user_phone_check,
        DROP CONSTRAINT app_user_display_name_check,
        DROP COLUMN phone,
        DROP COLUMN display_name;
    """)
