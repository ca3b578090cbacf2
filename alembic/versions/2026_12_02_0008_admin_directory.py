"""The national directory of administrative units after the July 2025 reform, and folded names.

Loads alembic/data/admin_units_2025_07.csv (34 provinces and 3,321 wards, communes and special
zones, National Statistics Office codes; made by tools/make_admin_units_csv.py from the
vietnam-provinces package) into admin_unit scheme '2025-07'. A directory update is a data
migration: a new file under alembic/data and a new revision, never an edit of this one.

Rows already recorded stay valid: a directory unit overwrites the name, level, parent and kind of
a row with its code, other rows (pre-reform units, scheme '2025-01') are not touched.
`name_folded` (lower case, no diacritics, đ -> d, punctuation as spaces: 'Xã Ea H’leo' ->
'xa ea h leo') is computed by the database, so every writer of admin_unit gets it; the
diacritic-insensitive search of admin_units compares it with the same key of the query.

The downgrade removes the directory units that nothing refers to (a market, a user's scope, a
crosswalk row keeps its unit) and the two columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import csv
import json
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parent.parent / "data" / "admin_units_2025_07.csv"


def _units() -> str:
    """The data file as a JSON array of {code, level, kind, name, province_code}."""
    with DATA.open(encoding="utf-8", newline="") as f:
        return json.dumps(list(csv.DictReader(f)), ensure_ascii=False)


def upgrade() -> None:
    op.execute(r"""
    -- The SQL twin of admin_units.service.search_key: NFD, combining marks dropped, đ/Đ -> d/D,
    -- lower case, every run of other characters (spaces, dashes, apostrophes) one space.
    -- tests/admin_units proves both agree on every directory name.
    CREATE FUNCTION admin_unit_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
            SELECT btrim(regexp_replace(lower(translate(
                regexp_replace(normalize(value, NFD), '[\u0300-\u036f]', '', 'g'),
                'đĐ', 'dD')), '[^a-z0-9]+', ' ', 'g'))
        $$;

    ALTER TABLE admin_unit
        ADD COLUMN kind text,
        ADD COLUMN name_folded text GENERATED ALWAYS AS (admin_unit_fold(name)) STORED,
        ADD CONSTRAINT admin_unit_kind_check
            CHECK (kind IN ('tinh', 'thanh_pho', 'phuong', 'xa', 'dac_khu'));

    -- The wards of a province, in code order; and prefix search on folded names.
    CREATE INDEX admin_unit_parent_idx ON admin_unit (scheme, parent_code, code);
    CREATE INDEX admin_unit_name_folded_idx ON admin_unit (scheme, name_folded text_pattern_ops);
    """)
    op.execute(
        sa.text("""
        INSERT INTO admin_unit (scheme, code, level, name, parent_code, kind)
        SELECT '2025-07', u.code, u.level, u.name,
               CASE WHEN u.level = 'ward' THEN u.province_code END, u.kind
        FROM jsonb_to_recordset(CAST(:units AS jsonb))
             AS u(code text, level text, kind text, name text, province_code text)
        ON CONFLICT (scheme, code) DO UPDATE
            SET level = EXCLUDED.level, name = EXCLUDED.name,
                parent_code = EXCLUDED.parent_code, kind = EXCLUDED.kind
        """).bindparams(units=_units())
    )


def downgrade() -> None:
    # Wards first, then the provinces left without wards: a unit something refers to stays.
    op.execute(
        sa.text("""
        DELETE FROM admin_unit a
        USING jsonb_to_recordset(CAST(:units AS jsonb)) AS u(code text, level text)
        WHERE a.scheme = '2025-07' AND a.code = u.code AND u.level = 'ward'
          AND NOT EXISTS (SELECT 1 FROM market m
                          WHERE m.ward_scheme = a.scheme AND m.ward_code = a.code)
          AND NOT EXISTS (SELECT 1 FROM user_ward w
                          WHERE w.ward_scheme = a.scheme AND w.ward_code = a.code)
          AND NOT EXISTS (SELECT 1 FROM admin_crosswalk x
                          WHERE x.new_scheme = a.scheme AND x.new_code = a.code)
        """).bindparams(units=_units())
    )
    op.execute(
        sa.text("""
        DELETE FROM admin_unit a
        USING jsonb_to_recordset(CAST(:units AS jsonb)) AS u(code text, level text)
        WHERE a.scheme = '2025-07' AND a.code = u.code AND u.level = 'province'
          AND NOT EXISTS (SELECT 1 FROM admin_unit c
                          WHERE c.scheme = a.scheme AND c.parent_code = a.code)
          AND NOT EXISTS (SELECT 1 FROM market m WHERE m.province_code = a.code)
          AND NOT EXISTS (SELECT 1 FROM admin_crosswalk x
                          WHERE x.new_scheme = a.scheme AND x.new_code = a.code)
        """).bindparams(units=_units())
    )
    op.execute("""
    DROP INDEX admin_unit_name_folded_idx;
    DROP INDEX admin_unit_parent_idx;
    ALTER TABLE admin_unit
        DROP CONSTRAINT admin_unit_kind_check,
        DROP COLUMN name_folded,
        DROP COLUMN kind;
    DROP FUNCTION admin_unit_fold(text);
    """)
