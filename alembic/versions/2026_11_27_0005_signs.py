"""Printed signs: which payload was printed for which account, when and by whom.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE sign_print (
        id                 bigint GENERATED ALWAYS AS IDENTITY,
        stall_id           bigint NOT NULL,
        payment_account_id bigint NOT NULL,
        payload            text NOT NULL,
        format             text NOT NULL,
        printed_by         bigint,
        printed_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT sign_print_pkey PRIMARY KEY (id),
        CONSTRAINT sign_print_stall_id_fkey FOREIGN KEY (stall_id) REFERENCES stall (id) ON DELETE CASCADE,
        CONSTRAINT sign_print_payment_account_id_fkey FOREIGN KEY (payment_account_id)
            REFERENCES payment_account (id) ON DELETE CASCADE,
        CONSTRAINT sign_print_format_check CHECK (format IN ('sign_pdf', 'market_pdf', 'cli'))
    );
    CREATE INDEX sign_print_stall_idx ON sign_print (stall_id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE sign_print;
    """)
