"""Corrections: markets are edited (version), archived and have retired zones; a corrected payment
account flags the stall's sign for reprint; stall search texts get the compacted code.

- `market.version` (optimistic concurrency of PATCH /api/markets/{id}), `archived_at`,
  `archived_by`, `archive_reason` (an archived market leaves lists, dashboards and rollups; its
  rows stay), `retired_zones` (zones that take no new stalls; `zones` stays the current list).
- `stall_coverage.sign_reprint_needed`, `sign_reprint_reason`, `sign_reprint_flagged_at`: the
  printed sign shows an account that was corrected or deactivated since.
- `stall.search_text` in the form core.text.stall_search_text makes now: the phone only in its
  national form (the E.164 form made '84' find every stall) and the compacted code appended
  ('a15' finds 'A-15'). Codes stored before this revision are ASCII (the old rule), so the SQL
  here gives exactly what the Python function gives; tests/merchants/test_corrections_migration.py
  compares them. A row whose text is not in the old form keeps it and only gets the code key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# SQL twins of core.text for the values stored before this revision (ASCII codes).
_NATIONAL = "(CASE WHEN x.phone LIKE '+84%' THEN '0' || substr(x.phone, 4) ELSE x.phone END)"
_CODE_KEY = "regexp_replace(lower(x.stall_code), '[^a-z0-9]+', '', 'g')"
# How the old search text ended when the holder had a phone: ' <E.164> <national>'.
_OLD_TAIL = f"(' ' || x.phone || ' ' || {_NATIONAL})"
_NEW_TAIL = f"(' ' || {_NATIONAL})"
_STALLS = """(SELECT s2.id, s2.stall_code, h.phone_e164 AS phone
             FROM stall s2 LEFT JOIN stallholder h ON h.id = s2.holder_id) x"""


def upgrade() -> None:
    op.execute(f"""
    ALTER TABLE market
        ADD COLUMN version        integer NOT NULL DEFAULT 1,
        ADD COLUMN retired_zones  text[] NOT NULL DEFAULT '{{}}',
        ADD COLUMN archived_at    timestamptz,
        ADD COLUMN archived_by    bigint,
        ADD COLUMN archive_reason text,
        ADD CONSTRAINT market_version_check CHECK (version >= 1),
        ADD CONSTRAINT market_archived_by_fkey FOREIGN KEY (archived_by) REFERENCES app_user (id);

    ALTER TABLE stall_coverage
        ADD COLUMN sign_reprint_needed     boolean NOT NULL DEFAULT false,
        ADD COLUMN sign_reprint_reason     text,
        ADD COLUMN sign_reprint_flagged_at timestamptz,
        ADD CONSTRAINT stall_coverage_sign_reprint_reason_check
            CHECK (sign_reprint_reason IN ('account_corrected', 'account_deactivated'));

    UPDATE stall s
    SET search_text = CASE
            WHEN x.phone IS NOT NULL AND right(s.search_text, length({_OLD_TAIL})) = {_OLD_TAIL}
            THEN left(s.search_text, length(s.search_text) - length({_OLD_TAIL})) || {_NEW_TAIL}
            ELSE s.search_text END
        || ' ' || {_CODE_KEY}
    FROM {_STALLS}
    WHERE x.id = s.id;
    """)


def downgrade() -> None:
    # The code key off the end, then the E.164 form back before the national one.
    op.execute(f"""
    UPDATE stall s
    SET search_text = left(s.search_text, length(s.search_text) - length({_CODE_KEY}) - 1)
    FROM {_STALLS}
    WHERE x.id = s.id AND right(s.search_text, length({_CODE_KEY}) + 1) = ' ' || {_CODE_KEY};

    UPDATE stall s
    SET search_text = left(s.search_text, length(s.search_text) - length({_NEW_TAIL})) || {_OLD_TAIL}
    FROM {_STALLS}
    WHERE x.id = s.id AND x.phone IS NOT NULL
      AND right(s.search_text, length({_NEW_TAIL})) = {_NEW_TAIL};

    ALTER TABLE stall_coverage
        DROP COLUMN sign_reprint_flagged_at,
        DROP COLUMN sign_reprint_reason,
        DROP COLUMN sign_reprint_needed;
    ALTER TABLE market
        DROP COLUMN archive_reason,
        DROP COLUMN archived_by,
        DROP COLUMN archived_at,
        DROP COLUMN retired_zones,
        DROP COLUMN version;
    """)
