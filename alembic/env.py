"""Alembic environment: hand-written SQL migrations, no autogenerate.

Migrations run through psycopg (sync) rather than asyncpg: asyncpg prepares every statement,
which forbids the multi-statement SQL scripts our migrations are written as.
"""

from __future__ import annotations

from logging.config import fileConfig

from sqlalchemy import create_engine, pool, text

from alembic import context

config = context.config
if config.config_file_name is not None and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = None
# Several app workers may start at once: one migrates, the others wait on this lock.
MIGRATION_LOCK = 727_000_001


def _url() -> str:
    url = config.attributes.get("database_url")
    if not url:
        from core.db import database_url
        from core.settings import get_settings

        url = database_url(get_settings())
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
