"""The index of stallholders' CCCD hashes holds only the people who gave a CCCD.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-17

Most stallholders are registered without a CCCD (it is optional), and an erased person's hash is
cleared; the full index still took an entry for every one of them, written by every registration
and never read (a lookup by hash, `cccd_hash = $1`, never matches NULL, so the planner uses the
partial index for it as it did the full one).
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX stallholder_cccd_hash_idx")
    op.execute(
        "CREATE INDEX stallholder_cccd_hash_idx ON stallholder (cccd_hash) "
        "WHERE cccd_hash IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX stallholder_cccd_hash_idx")
    op.execute("CREATE INDEX stallholder_cccd_hash_idx ON stallholder (cccd_hash)")
