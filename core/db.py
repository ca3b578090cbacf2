"""PostgreSQL: the embedded server (pgserver), the asyncpg pool, migrations, the connection dependency."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import asyncpg
from fastapi import Request

from core.crypto import Keys
from core.errors import Unavailable
from core.settings import Settings, get_settings
from core.state import state_of

log = logging.getLogger("choso.db")

ROOT = Path(__file__).resolve().parent.parent
_embedded: dict[Path, Any] = {}


def embedded_server(data_dir: Path) -> Any:
    """Start (or join) the embedded PostgreSQL whose data lives under data_dir/pg."""
    import pgserver  # imported lazily: only needed without DATABASE_URL

    pgdata = (data_dir / "pg").resolve()
    if pgdata not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(pgdata)
        _embedded[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _embedded[pgdata]


def stop_embedded() -> None:
    """Let go of the embedded servers this process started or joined; the last user stops them."""
    while _embedded:
        _, server = _embedded.popitem()
        server.cleanup()


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from pgserver's list of server users.

    pgserver stops the server when its last user exits, but a process that was killed never removes
    itself, and the server would then never stop again.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the embedded server's URL (starting it if needed)."""
    if settings.database_url:
        return settings.database_url
    return str(embedded_server(settings.data_dir).get_uri())


class Connection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg ships no types
    """A connection that carries the keys sealing the columns it reads and writes (crypto.keys_of).

    Given back to the pool, it is reset without a round trip: asyncpg still rolls back a transaction
    left open, and our requests leave no other session state (they never SET outside a transaction,
    LISTEN or keep cursors or temporary tables past it). Code that takes session state (a session
    advisory lock) says so with `hold_session_state`, and that connection gets asyncpg's full reset
    (locks released, settings reset, ...) when it goes back.
    """

    keys: Keys
    holds_session_state = False

    def get_reset_query(self) -> str:
        return str(super().get_reset_query()) if self.holds_session_state else ""

    async def reset(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg's
        await super().reset(timeout=timeout)
        self.holds_session_state = False

    def hold_session_state(self) -> None:
        self.holds_session_state = True


def hold_session_state(conn: asyncpg.Connection) -> None:
    """Mark a connection that takes session state: the pool fully resets it on release (a pooled
    connection is a proxy: the call reaches the connection itself; other connections always get
    asyncpg's full reset)."""
    if isinstance(conn, Connection):
        conn.hold_session_state()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    url: str, *, keys: Keys, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """One pool per process; JSON columns decode to Python objects; connections carry `keys`."""

    async def init(conn: asyncpg.Connection) -> None:
        cast(Connection, conn).keys = keys
        await _init_connection(conn)

    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=init,
        connection_class=Connection,
        command_timeout=30,
        max_inactive_connection_lifetime=60,
    )


async def connect(url: str, *, keys: Keys) -> Connection:
    """A single connection like the pool's (CLI tools, tests)."""
    conn: Connection = await asyncpg.connect(url, connection_class=Connection)
    conn.keys = keys
    await _init_connection(conn)
    return conn


ACQUIRE_TIMEOUT_S = 10.0  # a request waits this long for a pooled connection, then gets a 503


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """FastAPI dependency: one pooled connection per request."""
    pool = state_of(request.app).pool
    if pool is None:
        raise Unavailable("The database is not reachable right now; try again.")
    try:
        # asyncio.timeout rather than acquire(timeout=...): asyncpg wraps the latter in wait_for,
        # a task of its own on every request; a cancelled wait is handed back the same way.
        async with asyncio.timeout(ACQUIRE_TIMEOUT_S):
            conn = await pool.acquire()
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise Unavailable("The database is not reachable right now; try again.") from exc
    try:
        yield conn
    except Exception as exc:
        # The server went away mid-request (restart, failover): a retryable 503, not a 500.
        if _connection_lost(exc, conn):
            raise Unavailable("The database connection was lost; try again.") from exc
        raise
    finally:
        try:
            await pool.release(conn)
        except Exception:  # noqa: BLE001 - a broken connection is terminated by the pool itself
            if not _is_closed(conn):
                raise


def request_conn(request: Request) -> AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection as the app's routes get theirs from get_conn (errors turned into 503 the same
    way), for a route that takes it itself rather than as a dependency (registration: FastAPI's
    handling of a dependency with `yield` costs more than the rest of its dependencies) and for
    work outside a route (an error handler). What the app put in get_conn's place is used
    instead (the tests run every request on one connection); it takes the request, as get_conn
    does."""
    provider = request.app.dependency_overrides.get(get_conn)
    if provider is None:
        return _get_conn_cm(request)
    return asynccontextmanager(provider)(request)


_get_conn_cm = asynccontextmanager(get_conn)

_LOST = (
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.AdminShutdownError,  # 57P01, pg_ctl stop -m fast
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    ConnectionError,
)


def _is_closed(conn: asyncpg.Connection) -> bool:
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:  # the pool already took the dead connection back
        return True


def _connection_lost(exc: BaseException, conn: asyncpg.Connection) -> bool:
    """Whether a request failed because its database connection died (not because of a bug)."""
    if _is_closed(conn):
        return True
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, _LOST):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """alembic upgrade <revision> (blocking; run it in a thread from async code)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """alembic downgrade <revision>."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def main(argv: list[str]) -> None:
    settings = get_settings()
    url = database_url(settings)
    if argv[:1] == ["migrate"]:
        migrate(url, argv[1] if len(argv) > 1 else "head")
    elif argv[:1] == ["downgrade"]:
        downgrade(url, argv[1] if len(argv) > 1 else "base")
    elif argv[:1] == ["url"]:
        print(url)
    else:
        print("usage: python -m core.db migrate|downgrade [rev]|url")


if __name__ == "__main__":
    main(sys.argv[1:])
