"""A sign whose printed details changed needs a reprint.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

A sign shows the stall's code and zone, its stallholder's name and goods besides the payment code. When an
edit changes one of them on a stall whose sign is printed, issued or delivered, the sign no longer
matches the stall: `stall_coverage.sign_reprint_reason` takes `sign_details_changed`
(coverage.stalls.sign_details_changed), cleared like the others by a confirmed new print.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE stall_coverage
        DROP CONSTRAINT stall_coverage_sign_reprint_reason_check,
        ADD CONSTRAINT stall_coverage_sign_reprint_reason_check
            CHECK (sign_reprint_reason IN ('account_corrected', 'account_deactivated',
                                           'sign_details_changed'));
    """)


def downgrade() -> None:
    # The older schema has no word for this reason: the flag stays, without a reason.
    op.execute("""
    UPDATE stall_coverage SET sign_reprint_reason = NULL
    WHERE sign_reprint_reason = 'sign_details_changed';
    ALTER TABLE stall_coverage
        DROP CONSTRAINT stall_coverage_sign_reprint_reason_check,
        ADD CONSTRAINT stall_coverage_sign_reprint_reason_check
            CHECK (sign_reprint_reason IN ('account_corrected', 'account_deactivated'));
    """)
