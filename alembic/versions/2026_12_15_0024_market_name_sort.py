"""Markets in Vietnamese alphabet order wherever the database sorts them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-15

The embedded PostgreSQL has no ICU collation and compares text byte by byte (C.UTF-8), so
"Chợ Đống Đa" came after "Chợ Vật tư" in exports, the partner's numbers and every list the server
ordered by name. `vi_sort_key(text)` is a key that sorts in the Vietnamese alphabet in any
byte-wise comparison, as core.text.natural_key does for stall codes: tone marks sort with the bare
letter, ă â đ ê ô ơ ư become their base letter and one or two '~' (a < ă < â, d < đ, o < ô < ơ),
case is ignored. `market.name_sort` keeps it, computed by the database for every writer.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(r"""
    -- NFD, tone marks (grave, acute, tilde, hook above, dot below) dropped, đ/Đ -> D~, upper case
    -- (ASCII letters only by then), then the letters of their own by their remaining mark:
    -- breve, circumflex, horn. Any other mark goes.
    CREATE FUNCTION vi_sort_key(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
            SELECT regexp_replace(
                replace(replace(replace(replace(replace(replace(
                    upper(replace(replace(
                        regexp_replace(normalize(value, NFD), '[\u0300\u0301\u0303\u0309\u0323]', '', 'g'),
                        'đ', 'd~'), 'Đ', 'D~')),
                    'A' || chr(774), 'A~'), 'A' || chr(770), 'A~~'), 'E' || chr(770), 'E~'),
                    'O' || chr(770), 'O~'), 'O' || chr(795), 'O~~'), 'U' || chr(795), 'U~'),
                '[\u0300-\u036f]', '', 'g')
        $$;

    ALTER TABLE market ADD COLUMN name_sort text GENERATED ALWAYS AS (vi_sort_key(name)) STORED;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE market DROP COLUMN name_sort;
    DROP FUNCTION vi_sort_key(text);
    """)
