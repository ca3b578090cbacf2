"""`make run`: start PostgreSQL (embedded unless DATABASE_URL is set), migrate, load demo data, serve."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import warnings

import uvicorn

from core import db
from core import logging as log_redaction
from core.crypto import Keys, secret_key
from core.settings import Settings, get_settings
from ops import demo


async def _prepare(url: str, settings: Settings) -> None:
    conn = await db.connect(url, keys=Keys(secret_key(settings)))
    try:
        if settings.demo_data:
            await demo.load_if_empty(conn, window_days=settings.transacting_window_days)
    finally:
        await conn.close()


def _exit_on_sigterm() -> None:
    """SIGTERM (a service manager, or `kill` of `make run`'s process group) ends the process the way
    Ctrl-C does: uvicorn shuts down, then re-raises the signal, which lands here as SystemExit, so
    the embedded PostgreSQL is stopped (`finally` below and pgserver's atexit) instead of being left
    running on the data directory."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main() -> None:
    _exit_on_sigterm()
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The embedded server and the migrator are chatty at INFO; a newcomer needs the banner, not them.
    for quiet in ("pgserver", "alembic", "psycopg"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    log_redaction.install()
    url = db.database_url(settings)
    # Workers inherit the URL, so they join this server instead of starting their own.
    os.environ["DATABASE_URL"] = url
    if settings.auto_migrate:
        db.migrate(url)
    asyncio.run(_prepare(url, settings))

    where = (
        "embedded PostgreSQL in " + str(settings.data_dir / "pg")
        if not settings.database_url
        else "DATABASE_URL"
    )
    lines = [
        "",
        "  Chợ Số is starting",
        f"  Open:      http://{settings.host}:{settings.port}/",
        f"  Dashboard: http://{settings.host}:{settings.port}/dashboard",
        f"  API docs:  http://{settings.host}:{settings.port}/docs",
        f"  Database:  {where}",
    ]
    if settings.demo_data:
        lines.append("  Demo sign-in (password for all: " + demo.DEMO_PASSWORD + "):")
        lines += [f"    {u:<11} {r:<9} {scope}" for u, r, scope in demo.DEMO_USERS]
    print("\n".join(lines) + "\n", flush=True)
    try:
        uvicorn.run(
            "main:app_factory",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers if settings.workers > 1 else None,
            log_level=settings.log_level.lower(),
            log_config=log_redaction.uvicorn_log_config(settings.log_level),
            # The app reads X-Forwarded-For itself, from TRUSTED_PROXIES only (core/network.py).
            proxy_headers=False,
        )
    finally:
        db.stop_embedded()


if __name__ == "__main__":
    main()
