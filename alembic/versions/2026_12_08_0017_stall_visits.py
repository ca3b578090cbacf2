"""Visits: what a volunteer found at a stall when nothing else could be recorded.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08

Most stalls take more than one visit: the stallholder is away, says no for now, or cannot open an
account yet (no CCCD with them, no SIM in their own name). A visit records the outcome, what was
missing, the day agreed to come back and a short note, so the next volunteer does not start over.
`client_key` is the device's Idempotency-Key: a visit sent twice over a bad connection is one row.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE stall_visit (
        id            bigserial PRIMARY KEY,
        stall_id      bigint      NOT NULL REFERENCES stall(id),
        outcome       text        NOT NULL CHECK (outcome IN
                          ('absent', 'declined', 'come_back', 'blocked', 'trained', 'follow_up')),
        blockers      text[]      NOT NULL DEFAULT '{}'
                          CHECK (blockers <@ ARRAY['no_cccd', 'no_own_sim', 'no_smartphone',
                                                   'no_bank_account']::text[]),
        come_back_on  date,
        note          text        CHECK (char_length(note) <= 500),
        visited_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        created_by    bigint      NOT NULL REFERENCES app_user(id),
        client_key    text        NOT NULL,
        UNIQUE (created_by, client_key)
    );
    CREATE INDEX stall_visit_stall_idx ON stall_visit (stall_id, visited_at DESC, id DESC);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE stall_visit;")
