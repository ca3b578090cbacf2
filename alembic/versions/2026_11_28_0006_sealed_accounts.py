"""Bank account numbers stored sealed (core/crypto.py): only `v1:…` or an erased marker `~…`.

The checks are added NOT VALID because sealing needs the app's SECRET_KEY, which migrations do not
have: the app seals rows written before this revision when it starts (merchants.service.
seal_stored_accounts) and then validates the checks. New rows are checked from now on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE payment_account DROP CONSTRAINT payment_account_number_check;
    ALTER TABLE payment_account ADD CONSTRAINT payment_account_number_sealed_check
        CHECK (account_number ~ '^(v1:[A-Za-z0-9_-]+|~[0-9a-f]+)$') NOT VALID;
    ALTER TABLE payment_event ADD CONSTRAINT payment_event_number_sealed_check
        CHECK (account_number ~ '^v1:[A-Za-z0-9_-]+$') NOT VALID;
    """)


def downgrade() -> None:
    # Sealed rows stay sealed (opening them needs SECRET_KEY); the old check applies to new rows.
    op.execute("""
    ALTER TABLE payment_event DROP CONSTRAINT payment_event_number_sealed_check;
    ALTER TABLE payment_account DROP CONSTRAINT payment_account_number_sealed_check;
    ALTER TABLE payment_account ADD CONSTRAINT payment_account_number_check
        CHECK (account_number ~ '^[!-~]{1,19}$') NOT VALID;
    """)
