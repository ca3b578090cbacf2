"""A stall whose latest check read another account's code is not counted as verified.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-20

From this version a check that reads a valid VietQR of another account ends the stall's earlier
verification (coverage.verify). Stalls checked before it that way kept theirs: still counted as
"code verified" while flagged for a return visit because their sign sends money elsewhere. Their
verification is ended here as the app now ends it, and their counted flags and the market and
partner counters move with it (set-based: the counters stay equal to a recount). A market's
status follows at the coverage job's next run (at start-up, then hourly), as after a rule change.
The stalls are found by their flag: a return visit for qr_mismatch flagged after the verification
(a passing check clears the flag, so the flag says the latest check failed).

The downgrade leaves the data as it is: the earlier verification is not recorded anywhere else.
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TEMPORARY TABLE unverified ON COMMIT DROP AS
    WITH ended AS (
        UPDATE stall_coverage c
        SET verified_at = NULL, verified_account_id = NULL, verified_method = NULL,
            verified_by = NULL, updated_at = clock_timestamp()
        WHERE c.needs_revisit AND c.revisit_reason = 'qr_mismatch'
          AND c.verified_at IS NOT NULL AND c.revisit_flagged_at > c.verified_at
        RETURNING c.stall_id, c.market_id, c.counted_partners, c.counted_qr_verified AS was_verified,
                  c.counted_qr_issued AS was_issued,
                  c.counted_active AND (c.sign_issued_at IS NOT NULL
                                        OR c.sign_delivered_at IS NOT NULL) AS still_issued
    )
    SELECT * FROM ended;

    UPDATE stall_coverage c
    SET counted_qr_verified = false, counted_qr_issued = u.still_issued
    FROM unverified u WHERE u.stall_id = c.stall_id;

    UPDATE market_coverage m
    SET qr_verified = m.qr_verified - d.verified, qr_issued = m.qr_issued - d.issued,
        updated_at = clock_timestamp()
    FROM (SELECT market_id, count(*) FILTER (WHERE was_verified) AS verified,
                 count(*) FILTER (WHERE was_issued AND NOT still_issued) AS issued
          FROM unverified GROUP BY market_id) d
    WHERE d.market_id = m.market_id AND (d.verified > 0 OR d.issued > 0);

    UPDATE partner_coverage p
    SET qr_verified = p.qr_verified - d.verified, qr_issued = p.qr_issued - d.issued
    FROM (SELECT u.market_id, x.code,
                 count(*) FILTER (WHERE u.was_verified) AS verified,
                 count(*) FILTER (WHERE u.was_issued AND NOT u.still_issued) AS issued
          FROM unverified u, unnest(u.counted_partners) AS x (code)
          GROUP BY u.market_id, x.code) d
    WHERE d.market_id = p.market_id AND d.code = p.partner_code
      AND (d.verified > 0 OR d.issued > 0);
    """)


def downgrade() -> None:
    pass
