"""Partners' support lines: the number a stallholder calls when a transfer goes wrong.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09

A trader who cannot find a payment that a customer says was sent needs the partner that set the
account up (users ask for it: shared/reference/users_want.md #24). An administrator records each
partner's published support number; the stall page shows it next to the accounts that partner
onboarded. Nothing is filled in by default: a number is a fact someone has to look up.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE partner ADD COLUMN support_phone text
        CHECK (support_phone ~ '^\\+?[0-9]+([ .-][0-9]+)*$'
               AND length(support_phone) <= 20
               AND length(regexp_replace(support_phone, '[^0-9]', '', 'g')) >= 3);
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE partner DROP COLUMN support_phone;")
