"""A scheduled rule version can be withdrawn before its day.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-21

A version saved for a later day by mistake could only be overridden by saving another version for
the same day, which put a rule nobody chose into the history. From this version an admin withdraws
it: it keeps its row (who made it, when, who withdrew it), is never applied, and the rule in force
stays. A version applied once can no longer be withdrawn (the check).
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE programme_rule
        ADD COLUMN withdrawn_at timestamptz,
        ADD COLUMN withdrawn_by bigint REFERENCES app_user (id),
        ADD CONSTRAINT programme_rule_withdrawn_not_applied
            CHECK (withdrawn_at IS NULL OR applied_at IS NULL)
    """)


def downgrade() -> None:
    # A withdrawn version would otherwise become due again: it goes (its audit entries stay).
    op.execute("""
    DELETE FROM programme_rule WHERE withdrawn_at IS NOT NULL;
    ALTER TABLE programme_rule DROP CONSTRAINT programme_rule_withdrawn_not_applied,
        DROP COLUMN withdrawn_by, DROP COLUMN withdrawn_at
    """)
