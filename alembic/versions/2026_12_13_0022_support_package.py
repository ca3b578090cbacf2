"""The digital-transformation support package, item by item, per stall (users_want #21).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-13

Đà Nẵng's 2026 pilot surveys business households and bundles free support: sales software, a
digital signature, e-invoices, a .biz.vn domain, help with an e-payment account and with selling
on e-commerce platforms; its target is that more than 90 % of the households surveyed are
consulted. A volunteer records, per stall and item, what was done: `offered` (the household was
consulted about it), `delivered` (it received it) or `declined` (it does not want it). No row:
nobody talked about that item yet. Each change is in the audit log with the stall's other changes.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE stall_support (
        stall_id   bigint NOT NULL REFERENCES stall (id),
        item       text NOT NULL CHECK (item IN ('sales_app', 'digital_signature', 'e_invoice',
                                                 'domain', 'payment_account', 'ecommerce')),
        state      text NOT NULL CHECK (state IN ('offered', 'delivered', 'declined')),
        updated_by bigint REFERENCES app_user (id),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (stall_id, item)
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE stall_support;")
