"""Teams (Tổ Công nghệ số cộng đồng): members with their history, markets, and the scope they give.

A team belongs to a ward of the national directory, has a leader and members, and is assigned
markets. A user is in at most one team at a time (a partial unique index on the open
memberships); a membership that ends keeps its row with `left_at`, so the team a user was in at
any moment can be read back (activity is attributed that way, from the audit log).

Members' field scope follows their team's markets: the teams service writes user_market rows
marked with `team_id`, in the same transaction as the membership or market change, so core's
scope check (user_market / user_ward) needs no knowledge of teams. A direct assignment (team_id
NULL) and a team's row for the same market may both exist; the unique key treats NULL as a value.

audit_log gets an index on `at`: activity reads a period of it.

The downgrade drops the teams and the team-derived scope rows; direct assignments stay.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE team (
        id          bigint GENERATED ALWAYS AS IDENTITY,
        name        text NOT NULL,
        ward_scheme text NOT NULL DEFAULT '2025-07',
        ward_code   text NOT NULL,
        leader_id   bigint,
        created_by  bigint,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT team_pkey PRIMARY KEY (id),
        CONSTRAINT team_ward_fkey FOREIGN KEY (ward_scheme, ward_code)
            REFERENCES admin_unit (scheme, code),
        CONSTRAINT team_leader_id_fkey FOREIGN KEY (leader_id) REFERENCES app_user (id),
        CONSTRAINT team_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT team_name_check CHECK (length(name) BETWEEN 1 AND 100)
    );
    -- Two teams of a ward never share a name (compared without case).
    CREATE UNIQUE INDEX team_ward_name_key ON team (ward_scheme, ward_code, lower(name));

    CREATE TABLE team_membership (
        id         bigint GENERATED ALWAYS AS IDENTITY,
        team_id    bigint NOT NULL,
        user_id    bigint NOT NULL,
        joined_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        left_at    timestamptz,
        added_by   bigint,
        removed_by bigint,
        CONSTRAINT team_membership_pkey PRIMARY KEY (id),
        CONSTRAINT team_membership_team_id_fkey FOREIGN KEY (team_id) REFERENCES team (id),
        CONSTRAINT team_membership_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id),
        CONSTRAINT team_membership_added_by_fkey FOREIGN KEY (added_by) REFERENCES app_user (id),
        CONSTRAINT team_membership_removed_by_fkey FOREIGN KEY (removed_by)
            REFERENCES app_user (id),
        CONSTRAINT team_membership_period_check CHECK (left_at IS NULL OR left_at >= joined_at)
    );
    -- One team at a time.
    CREATE UNIQUE INDEX team_membership_current_key ON team_membership (user_id)
        WHERE left_at IS NULL;
    -- The team of a user at a moment (activity), and a team's members.
    CREATE INDEX team_membership_user_idx ON team_membership (user_id, joined_at);
    CREATE INDEX team_membership_team_idx ON team_membership (team_id, joined_at);

    CREATE TABLE team_market (
        team_id   bigint NOT NULL,
        market_id bigint NOT NULL,
        CONSTRAINT team_market_pkey PRIMARY KEY (team_id, market_id),
        CONSTRAINT team_market_team_id_fkey FOREIGN KEY (team_id)
            REFERENCES team (id) ON DELETE CASCADE,
        CONSTRAINT team_market_market_id_fkey FOREIGN KEY (market_id)
            REFERENCES market (id) ON DELETE CASCADE
    );
    CREATE INDEX team_market_market_idx ON team_market (market_id);

    ALTER TABLE user_market
        ADD COLUMN team_id bigint,
        ADD CONSTRAINT user_market_team_id_fkey FOREIGN KEY (team_id)
            REFERENCES team (id) ON DELETE CASCADE,
        DROP CONSTRAINT user_market_pkey,
        ADD CONSTRAINT user_market_user_id_market_id_team_id_key
            UNIQUE NULLS NOT DISTINCT (user_id, market_id, team_id);
    CREATE INDEX user_market_team_idx ON user_market (team_id) WHERE team_id IS NOT NULL;

    CREATE INDEX audit_log_at_idx ON audit_log (at);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX audit_log_at_idx;
    DELETE FROM user_market WHERE team_id IS NOT NULL;
    DROP INDEX user_market_team_idx;
    ALTER TABLE user_market
        DROP CONSTRAINT user_market_user_id_market_id_team_id_key,
        DROP CONSTRAINT user_market_team_id_fkey,
        DROP COLUMN team_id,
        ADD CONSTRAINT user_market_pkey PRIMARY KEY (user_id, market_id);
    DROP TABLE team_market;
    DROP TABLE team_membership;
    DROP TABLE team;
    """)
