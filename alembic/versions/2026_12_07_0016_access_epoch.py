"""A version number of who may do what: a signed-in session kept in a worker's memory is checked
against it inside the statement that writes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

`access_epoch.n` goes up with every change to the rows a user's rights are read from
(core.queries._SCOPE_FACTS): a user's role or active flag, their market, ward and province scope
rows, and a market's ward or province. A registration whose session came from the worker's memory
(core.sessions) writes only while the token is live, the user active and the epoch the same as when
the session was read (core.queries.SESSION_STILL_VALID); otherwise it writes nothing and the route
signs the request in again from the database.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE access_epoch (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        n        bigint  NOT NULL DEFAULT 1
    );
    INSERT INTO access_epoch DEFAULT VALUES;

    CREATE FUNCTION access_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE access_epoch SET n = n + 1;
        RETURN NULL;
    END $$;

    CREATE TRIGGER user_market_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON user_market FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_bump();
    CREATE TRIGGER user_ward_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON user_ward FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_bump();
    CREATE TRIGGER user_province_access_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON user_province FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_bump();
    CREATE TRIGGER app_user_access_epoch AFTER UPDATE OF role, active OR DELETE OR TRUNCATE
        ON app_user FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_bump();
    CREATE TRIGGER market_access_epoch
        AFTER INSERT OR UPDATE OF ward_scheme, ward_code, province_code OR DELETE OR TRUNCATE
        ON market FOR EACH STATEMENT EXECUTE FUNCTION access_epoch_bump();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER market_access_epoch ON market;
    DROP TRIGGER app_user_access_epoch ON app_user;
    DROP TRIGGER user_province_access_epoch ON user_province;
    DROP TRIGGER user_ward_access_epoch ON user_ward;
    DROP TRIGGER user_market_access_epoch ON user_market;
    DROP FUNCTION access_epoch_bump();
    DROP TABLE access_epoch;
    """)
