"""A stall is found from its holder and market in one index descent.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-19

Registration's duplicate check (an active stall of this market with the same phone) goes from the
phone to its holders, then to each holder's stalls in the market. With only `stall (holder_id)`
the planner's generic plan for that statement preferred `stall (market_id, ...)` and filtered
every stall of the market by holder: a cost that grew with the market (4,000 stalls read per
registration in the bench's markets). `(holder_id, market_id)` makes the holder's stalls in that
market one probe, whatever the statistics; it replaces the one-column index (the foreign key's
lookups use its leading column), so a registration writes no more index entries than before.
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX stall_holder_market_idx ON stall (holder_id, market_id)")
    op.execute("DROP INDEX stall_holder_id_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX stall_holder_id_idx ON stall (holder_id)")
    op.execute("DROP INDEX stall_holder_market_idx")
