"""Printing is confirmed, not inferred from opening a PDF: print jobs and confirmed prints.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Opening a sign PDF used to record a print and count the stall's sign as issued, so previewing a
market's signs moved its numbers. Now a GET only renders. `sign_print` holds prints someone
confirmed came out of the printer: one stall's sign (confirmed on its own), or the stalls of a
print job (a batch of a market's signs, rendered from the payloads frozen in the job, confirmed
together or stall by stall).
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE print_job (
        id          bigint GENERATED ALWAYS AS IDENTITY,
        market_id   bigint NOT NULL,
        zone        text,
        size        text NOT NULL DEFAULT 'A6',
        created_by  bigint,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT print_job_pkey PRIMARY KEY (id),
        CONSTRAINT print_job_market_id_fkey FOREIGN KEY (market_id) REFERENCES market (id)
            ON DELETE CASCADE,
        CONSTRAINT print_job_created_by_fkey FOREIGN KEY (created_by) REFERENCES app_user (id),
        CONSTRAINT print_job_size_check CHECK (size IN ('A6', 'A5'))
    );
    CREATE INDEX print_job_market_idx ON print_job (market_id, created_at);

    -- The signs of a job, each with the exact payload rendered (sealed: it holds the number).
    CREATE TABLE print_job_stall (
        job_id             bigint NOT NULL,
        stall_id           bigint NOT NULL,
        payment_account_id bigint NOT NULL,
        position           integer NOT NULL,
        payload            text NOT NULL,
        confirmed_at       timestamptz,
        confirmed_by       bigint,
        CONSTRAINT print_job_stall_pkey PRIMARY KEY (job_id, stall_id),
        CONSTRAINT print_job_stall_job_id_fkey FOREIGN KEY (job_id) REFERENCES print_job (id)
            ON DELETE CASCADE,
        CONSTRAINT print_job_stall_stall_id_fkey FOREIGN KEY (stall_id) REFERENCES stall (id)
            ON DELETE CASCADE,
        CONSTRAINT print_job_stall_payment_account_id_fkey FOREIGN KEY (payment_account_id)
            REFERENCES payment_account (id) ON DELETE CASCADE,
        CONSTRAINT print_job_stall_confirmed_by_fkey FOREIGN KEY (confirmed_by)
            REFERENCES app_user (id),
        CONSTRAINT print_job_stall_payload_sealed_check
            CHECK (payload LIKE 'v1:%' OR payload = '[erased]')
    );

    -- A confirmed print: from a job, or one stall's sign confirmed on its own.
    ALTER TABLE sign_print ADD COLUMN job_id bigint;
    ALTER TABLE sign_print ADD CONSTRAINT sign_print_job_id_fkey FOREIGN KEY (job_id)
        REFERENCES print_job (id) ON DELETE SET NULL;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE sign_print DROP CONSTRAINT sign_print_job_id_fkey;
    ALTER TABLE sign_print DROP COLUMN job_id;
    DROP TABLE print_job_stall;
    DROP TABLE print_job;
    """)
