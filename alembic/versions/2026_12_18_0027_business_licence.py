"""A stall's business licence number, where its market's programme asks for it (users_want #6).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-18

Long Biên's youth volunteers collected stallholders' business licences along with their bank
details, and the ward liked that the stall's record lets it check licence and location. Most
programmes do not ask, and what is not needed is not collected (personal-data minimisation), so
a market asks for it or not (market.asks_licence, off by default); only a stall of a market that
asks may be given one. The number is kept as written (letters upper-cased, spaces dropped), up to
30 letters, digits and . / - (the certificates of household businesses number by district, e.g.
32A8012345). No image is kept. Erasing the stallholder clears it.
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE market ADD COLUMN asks_licence boolean NOT NULL DEFAULT false;
    CREATE DOMAIN business_licence AS text CHECK (VALUE ~ '^[0-9A-Z][0-9A-Z./-]{0,29}$');
    ALTER TABLE stall ADD COLUMN licence_no business_licence;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE stall DROP COLUMN licence_no;
    DROP DOMAIN business_licence;
    ALTER TABLE market DROP COLUMN asks_licence;
    """)
