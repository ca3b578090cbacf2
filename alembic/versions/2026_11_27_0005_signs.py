"""Printed signs: which payload was printed for which account; wallet references for payloads.

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

    -- Tag 62.05 of the payload: MoMo wallets (BIN 971025) are only payable with their MOMOW2W reference.
    ALTER TABLE payment_account ADD COLUMN reference text;
    ALTER TABLE payment_account ADD CONSTRAINT payment_account_reference_check
        CHECK (reference ~ '^[A-Za-z0-9]{1,25}$');
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE payment_account DROP COLUMN reference;
    DROP TABLE sign_print;
    """)
