"""How a stallholder learns that a payment arrived: the stall's confirmation tools.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11

Shoppers show forged "transfer done" screenshots, and crooks send 200 đồng so that a sound box
reads "hai trăm" (shared/reference/users_want.md #23): a stall that checks nothing is the one to
train again, and a partner handing out sound boxes wants to know where none is. Asked when the
sign is handed over and kept on the stall: NULL = not asked yet; '{}' = asked, the stallholder
checks nothing; otherwise some of bank_app (the bank's or wallet's app), sound_box (a speaker
that reads each payment aloud), sms (balance-change text messages). Changes are in the audit log
with the stall's other fields.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE stall ADD COLUMN confirm_by text[];
    ALTER TABLE stall ADD CONSTRAINT stall_confirm_by_check
        CHECK (confirm_by <@ ARRAY['bank_app', 'sound_box', 'sms']::text[]);
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE stall DROP COLUMN confirm_by;")
