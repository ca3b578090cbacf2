"""Partners' service points near markets: where a stallholder can put in or take out cash, find a
counter, or get help with an account (shared/reference/users_want.md #22).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-12

Viettel built cash-in/cash-out points in and around the Chợ 4.0 markets and a post-office counter;
a stallholder who takes payments by QR needs to know where to turn the balance into cash and where
to ask when the account misbehaves. A point belongs to one partner and is listed with one market
(the one it serves); its place on the map is optional, never guessed from the market's. Not
personal data: a business location. Additions and removals are in the audit log.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE service_point (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partner_code  text NOT NULL REFERENCES partner (code),
        market_id     bigint NOT NULL REFERENCES market (id),
        kind          text NOT NULL CHECK (kind IN ('cash', 'counter', 'help')),
        name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
        address       text CHECK (length(address) BETWEEN 1 AND 200),
        opening_hours text CHECK (length(opening_hours) BETWEEN 1 AND 80),
        lat           double precision CHECK (lat BETWEEN -90 AND 90),
        lon           double precision CHECK (lon BETWEEN -180 AND 180),
        created_by    bigint REFERENCES app_user (id),
        created_at    timestamptz NOT NULL DEFAULT now(),
        CHECK ((lat IS NULL) = (lon IS NULL))
    );
    CREATE INDEX service_point_market_idx ON service_point (market_id, kind, name);
    CREATE INDEX service_point_partner_idx ON service_point (partner_code);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE service_point;")
