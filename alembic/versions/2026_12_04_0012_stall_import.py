"""Stall lists imported from a market board's spreadsheet, and the stalls each import created.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

A market board keeps its stall list in Excel. An import (merchants.imports) creates the stalls it
does not know yet, without consent: the stallholders have not been asked anything, so a volunteer
still visits each one to collect it. `stall_import` records where those stalls came from (which
market, who uploaded which file, the date of the board's list) and `stall.import_id` names the
import that created a stall (NULL: registered on a tablet).
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE stall_import (
        id              bigint GENERATED ALWAYS AS IDENTITY,
        market_id       bigint NOT NULL,
        uploaded_by     bigint,
        filename        text,
        sha256          bytea NOT NULL,
        list_date       date,
        row_count       integer NOT NULL,
        created_count   integer NOT NULL,
        updated_count   integer NOT NULL,
        unchanged_count integer NOT NULL,
        error_count     integer NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT stall_import_pkey PRIMARY KEY (id),
        CONSTRAINT stall_import_market_id_fkey FOREIGN KEY (market_id) REFERENCES market (id)
            ON DELETE CASCADE,
        CONSTRAINT stall_import_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES app_user (id),
        CONSTRAINT stall_import_sha256_check CHECK (octet_length(sha256) = 32),
        CONSTRAINT stall_import_counts_check CHECK (
            least(row_count, created_count, updated_count, unchanged_count, error_count) >= 0
            AND created_count + updated_count + unchanged_count + error_count = row_count)
    );
    CREATE INDEX stall_import_market_idx ON stall_import (market_id, created_at);

    ALTER TABLE stall ADD COLUMN import_id bigint;
    ALTER TABLE stall ADD CONSTRAINT stall_import_id_fkey
        FOREIGN KEY (import_id) REFERENCES stall_import (id);
    CREATE INDEX stall_import_id_idx ON stall (import_id) WHERE import_id IS NOT NULL;
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX IF EXISTS stall_import_id_idx;
    ALTER TABLE stall DROP CONSTRAINT IF EXISTS stall_import_id_fkey;
    ALTER TABLE stall DROP COLUMN IF EXISTS import_id;
    DROP TABLE IF EXISTS stall_import;
    """)
