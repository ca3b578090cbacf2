"""Other ways a stall takes payment besides its VietQR sign (users_want #26 and #7).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-14

At Hội An's night markets most tourists pay by card or scan a foreign QR (cross-border QR with
Thailand and Cambodia exists); Viettel's model lets people without a smartphone be paid by phone
number. A tourist-facing market wants to know which stalls take what. Kept on the stall like its
other fields: NULL = not asked yet; '{}' = asked, the VietQR sign only; otherwise some of card
(a card terminal, POS), intl_qr (a foreign QR: cross-border schemes, tourists' wallets) and
phone_transfer (a transfer to the stallholder's phone number, no smartphone needed).
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE stall ADD COLUMN also_accepts text[];
    ALTER TABLE stall ADD CONSTRAINT stall_also_accepts_check
        CHECK (also_accepts <@ ARRAY['card', 'intl_qr', 'phone_transfer']::text[]);
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE stall DROP COLUMN also_accepts;")
