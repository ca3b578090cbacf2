"""The value rules of the tables a registration writes become domains, checked the same way.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-16

PostgreSQL reads a table's CHECK constraints back from their stored text and plans them again at
every execution of a statement that writes the table: for a registration (one statement writing
ten tables) that was 20 KB of node text parsed per stall, about 11 % of the database's CPU
(docs/benchmarks.md, stop 31). A domain's CHECK is parsed and planned once per connection and kept
(the type cache), and holds for every writer exactly as the column CHECK did: the same values are
refused, with the same SQLSTATE (23514, check_violation). So each single-column rule of these
tables moves to a domain over the same base type (no table is rewritten), and the one rule over
several columns of market_coverage is written shorter (LEAST/GREATEST, the same condition on
NOT NULL columns).

Kept as they were: payment_account_number_sealed_check (added NOT VALID and validated at start-up
once stored numbers are sealed, merchants.accounts) and stall_coverage_counted_check (several
columns).
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# (domain, base type, rule over VALUE, [(table, column, the column CHECK it replaces)]).
DOMAINS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("phone_e164", "text", r"VALUE ~ '^\+[0-9]{8,15}$'",
     [("stallholder", "phone_e164", "stallholder_phone_check")]),
    ("cccd_last4", "text", "VALUE ~ '^[0-9]{4}$'",
     [("stallholder", "cccd_last4", "stallholder_cccd_last4_check")]),
    ("stall_status", "text", "VALUE IN ('active', 'vacant', 'closed')",
     [("stall", "status", "stall_status_check")]),
    ("row_version", "integer", "VALUE >= 1",
     [("stall", "version", "stall_version_check")]),
    ("confirm_methods", "text[]", "VALUE <@ ARRAY['bank_app', 'sound_box', 'sms']::text[]",
     [("stall", "confirm_by", "stall_confirm_by_check")]),
    ("other_payments", "text[]", "VALUE <@ ARRAY['card', 'intl_qr', 'phone_transfer']::text[]",
     [("stall", "also_accepts", "stall_also_accepts_check")]),
    ("bank_bin", "text", "VALUE ~ '^[0-9]{6}$'",
     [("payment_account", "bin", "payment_account_bin_check")]),
    ("account_holder_name", "text", "VALUE ~ '^[A-Z0-9 .,''-]{1,50}$'",
     [("payment_account", "account_name", "payment_account_name_check")]),
    ("account_service", "text", "VALUE IN ('account', 'card')",
     [("payment_account", "service", "payment_account_service_check")]),
    ("account_reference", "text", "VALUE ~ '^[A-Za-z0-9]{1,25}$'",
     [("payment_account", "reference", "payment_account_reference_check")]),
    ("name_check_result", "text",
     "VALUE IN ('matched', 'mismatch', 'not_found', 'no_name', 'unavailable', 'disabled')",
     [("payment_account", "name_check", "payment_account_name_check_status_check")]),
    ("onboarding_channel", "text", "VALUE IN ('field_visit', 'partner_import', 'partner_api')",
     [("onboarding", "channel", "onboarding_channel_check")]),
    ("onboarding_state", "text", "VALUE IN ('pending', 'active', 'suspended', 'removed')",
     [("onboarding", "status", "onboarding_status_check"),
      ("onboarding_status", "to_status", "onboarding_status_to_check")]),
    ("staff_name", "text", "length(VALUE) <= 100",
     [("onboarding", "staff_name", "onboarding_staff_name_check")]),
    ("onboarding_source", "text",
     "VALUE IN ('registration', 'manual', 'partner_import', 'partner_api', 'migration')",
     [("onboarding_status", "source", "onboarding_status_source_check")]),
    ("verified_method", "text", "VALUE IN ('scan', 'name_match')",
     [("stall_coverage", "verified_method", "stall_coverage_verified_method_check")]),
    ("sign_reprint_reason", "text",
     "VALUE IN ('account_corrected', 'account_deactivated', 'sign_details_changed')",
     [("stall_coverage", "sign_reprint_reason", "stall_coverage_sign_reprint_reason_check")]),
    ("market_status", "text", "VALUE IN ('not_started', 'in_progress', 'cashless', 'lapsed')",
     [("market_coverage", "status", "market_coverage_status_check")]),
]  # fmt: skip

COUNTS_BEFORE = """(active_stalls >= 0
        AND qr_issued >= 0 AND qr_issued <= active_stalls
        AND qr_verified >= 0 AND qr_verified <= active_stalls
        AND transacting >= 0 AND transacting <= active_stalls
        AND fees_cashless >= 0 AND fees_cashless <= active_stalls)"""
COUNTS_AFTER = """(least(active_stalls, qr_issued, qr_verified, transacting, fees_cashless) >= 0
        AND greatest(qr_issued, qr_verified, transacting, fees_cashless) <= active_stalls)"""


def _rule(rule: str, column: str) -> str:
    return rule.replace("VALUE", column)


def upgrade() -> None:
    statements = []
    for domain, base, rule, columns in DOMAINS:
        statements.append(f"CREATE DOMAIN {domain} AS {base} CHECK ({rule});")
        for table, column, check in columns:
            statements.append(
                f"ALTER TABLE {table} DROP CONSTRAINT {check}, ALTER COLUMN {column} TYPE {domain};"
            )
    statements.append(
        "ALTER TABLE market_coverage DROP CONSTRAINT market_coverage_counts_check, "
        f"ADD CONSTRAINT market_coverage_counts_check CHECK {COUNTS_AFTER};"
    )
    op.execute("\n".join(statements))


def downgrade() -> None:
    statements = [
        "ALTER TABLE market_coverage DROP CONSTRAINT market_coverage_counts_check, "
        f"ADD CONSTRAINT market_coverage_counts_check CHECK {COUNTS_BEFORE};"
    ]
    for domain, base, rule, columns in DOMAINS:
        for table, column, check in columns:
            statements.append(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {base}, "
                f"ADD CONSTRAINT {check} CHECK ({_rule(rule, column)});"
            )
        statements.append(f"DROP DOMAIN {domain};")
    op.execute("\n".join(statements))
