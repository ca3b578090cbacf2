"""Return visits assigned to a person: who goes back to which stall.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-10

A market's return-visit list (stalls flagged, days agreed with stallholders) is work for a team;
users ask for it to be assignable to volunteers (shared/reference/users_want.md #12). One row per
stall that someone is asked to visit again: who, asked by whom, since when. Taking it back deletes
the row; both are in the audit log. Whether the stall was visited since is read from stall_visit,
never written here.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE stall_assignment (
        stall_id    bigint      NOT NULL,
        user_id     bigint      NOT NULL,
        assigned_by bigint      NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT stall_assignment_pkey PRIMARY KEY (stall_id),
        CONSTRAINT stall_assignment_stall_id_fkey FOREIGN KEY (stall_id) REFERENCES stall (id),
        CONSTRAINT stall_assignment_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_user (id),
        CONSTRAINT stall_assignment_assigned_by_fkey FOREIGN KEY (assigned_by)
            REFERENCES app_user (id)
    );
    -- A person's list.
    CREATE INDEX stall_assignment_user_idx ON stall_assignment (user_id, assigned_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE stall_assignment;")
