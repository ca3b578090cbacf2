"""What the registration bench and the soak share: databases, seeded users, server processes.

Servers run as separate processes (uvicorn or `python -m ops.serve`), started and stopped by pid;
the embedded PostgreSQL is pgserver's, restarted with its own pg_ctl as its own OS user.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

from bench.loadgen import Connection, HttpError

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


# ---------------------------------------------------------------- PostgreSQL


class EmbeddedPostgres:
    """pgserver's embedded PostgreSQL under data_dir/pg, with stop/start for fault injection."""

    def __init__(self, data_dir: Path) -> None:
        from core import db

        data_dir.mkdir(parents=True, exist_ok=True)
        self.server = db.embedded_server(data_dir)
        self.pgdata = Path(self.server.pgdata)
        self.url = str(self.server.get_uri())
        self._socket_dir = self.server.get_postmaster_info().socket_dir

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        done = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.server.system_user,  # pgserver runs postgres as 'pgserver' when we are root
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stdout} {done.stderr}")

    def stop(self) -> None:
        """pg_ctl stop -m fast: open connections are terminated, as in a crash-free failover."""
        self._pg_ctl("-w", "stop", "-m", "fast")

    def start(self) -> None:
        """Start again with the options pgserver used (unix socket only, same socket directory)."""
        from pgserver.utils import PostmasterInfo

        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self._socket_dir}",
            "-l",
            str(self.pgdata / "log"),
            "start",
        )
        # pgserver stops the server it knows at exit: let it know the new postmaster.
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is not None:
            self.server._postmaster_info = info

    def shutdown(self) -> None:
        """Stop the server now (pgserver would also do it at exit)."""
        try:
            self._pg_ctl("-w", "stop", "-m", "fast")
        except RuntimeError:
            pass
        self.server._postmaster_info = None  # nothing left for pgserver to stop at exit


async def admin_sql(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def migrated_template(server_url: str, name: str) -> str:
    """Create (again) a database `name` and migrate it to head; returns its URL."""
    from core import db

    await admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_sql(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    await asyncio.to_thread(db.migrate, url)
    return url


async def clone_database(server_url: str, template: str, name: str) -> str:
    """A fresh database `name` cloned from `template` (which nobody may be connected to)."""
    await admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_sql(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    await admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- seed data


@dataclass
class Seed:
    market_ids: list[int]
    tokens: dict[str, str]  # username -> bearer token
    user_ids: dict[str, int]


async def seed(
    url: str,
    *,
    markets: int = 1,
    volunteers: int = 1,
    admin: bool = True,
    extra_users: Mapping[str, tuple[str, str]] | None = None,
) -> Seed:
    """Markets in one ward, volunteers scoped to all of them, an admin; a live token for each user.

    extra_users: username -> (role, password) for users that sign in with a password.
    """
    from core.auth import hash_password, token_hash

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO admin_unit (scheme, code, level, name, parent_code) VALUES
                   ('2025-07', '48', 'province', 'Thành phố Đà Nẵng', NULL),
                   ('2025-07', '20242', 'ward', 'Phường Hải Châu', '48')
                   ON CONFLICT DO NOTHING"""
            )
            market_ids = [
                int(
                    await conn.fetchval(
                        "INSERT INTO market (name, ward_code, lat, lon, zones) "
                        "VALUES ($1, '20242', 16.068, 108.224, '{A,B,C}') RETURNING id",
                        f"Chợ Tải {i + 1}",
                    )
                )
                for i in range(markets)
            ]
            users: list[tuple[str, str, str]] = [
                (f"vol{i:03d}", "volunteer", "") for i in range(volunteers)
            ]
            if admin:
                users.append(("benchadmin", "admin", ""))
            for name, (role, password) in (extra_users or {}).items():
                users.append((name, role, password))
            tokens: dict[str, str] = {}
            user_ids: dict[str, int] = {}
            unusable = (
                "!unusable"  # no password sign-in for token-only users (argon2 is slow to seed)
            )
            expires = datetime.now(UTC) + timedelta(days=1)
            for name, role, password in users:
                user_id = int(
                    await conn.fetchval(
                        "INSERT INTO app_user (username, password_hash, role) "
                        "VALUES ($1, $2, $3) RETURNING id",
                        name,
                        hash_password(password) if password else unusable,
                        role,
                    )
                )
                user_ids[name] = user_id
                if role == "volunteer":
                    await conn.executemany(
                        "INSERT INTO user_market (user_id, market_id) VALUES ($1, $2)",
                        [(user_id, m) for m in market_ids],
                    )
                token = f"bench-{uuid.uuid4().hex}"
                await conn.execute(
                    "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                    token_hash(token),
                    user_id,
                    expires,
                )
                tokens[name] = token
    finally:
        await conn.close()
    return Seed(market_ids=market_ids, tokens=tokens, user_ids=user_ids)


# ---------------------------------------------------------------- server processes


class ServerProcess:
    """A server started by us (uvicorn or ops.serve), its worker processes, their memory."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], port: int, log_path: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def processes(self) -> list[psutil.Process]:
        """The server process and all its descendants."""
        try:
            top = psutil.Process(self.pid)
            return [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        """Processes serving HTTP: those with the listening socket or a connection on our port."""
        pids = []
        for p in self.processes():
            try:
                conns = p.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if any(c.laddr and c.laddr.port == self.port for c in conns):
                pids.append(p.pid)
        workers = [pid for pid in pids if pid != self.pid]
        return workers or pids

    def owner_of(self, client_port: int) -> int | None:
        """The pid of the worker holding the server side of our connection from client_port."""
        for p in self.processes():
            try:
                for c in p.net_connections(kind="tcp"):
                    if (
                        c.raddr
                        and c.raddr.port == client_port
                        and c.laddr
                        and c.laddr.port == self.port
                    ):
                        return p.pid
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return None

    def rss_bytes(self) -> int:
        """Resident memory of the server and its workers (multiprocessing helpers included)."""
        total = 0
        for p in self.processes():
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_ready(self, path: str = "/healthz", within_s: float = 90) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            conn = Connection("127.0.0.1", self.port, timeout=2)
            try:
                reply = await conn.request("GET", path)
                if reply.status == 200:
                    return
            except (HttpError, TimeoutError):
                pass
            finally:
                conn.close()
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready in {within_s}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the server (uvicorn stops its workers), then kill any of its descendants left."""
        if self.proc is None:
            return
        family = self.processes()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for p in family[1:]:
            try:
                p.wait(5)
            except psutil.TimeoutExpired:
                p.kill()
            except psutil.NoSuchProcess:
                pass


class RssSampler:
    """Samples a server's resident memory while load runs."""

    def __init__(self, server: ServerProcess, every: float = 0.25) -> None:
        self.server = server
        self.every = every
        self.samples: list[int] = []
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            self.samples.append(await asyncio.to_thread(self.server.rss_bytes))
            await asyncio.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def peak_mb(self) -> float:
        return round(max(self.samples, default=0) / 1_048_576, 1)

    @property
    def mean_mb(self) -> float:
        return round(sum(self.samples) / len(self.samples) / 1_048_576, 1) if self.samples else 0.0


def app_env(
    *,
    database_url: str,
    data_dir: Path,
    port: int,
    workers: int,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment of an app process: our database, no demo data, no migrations (the caller's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WORKERS": str(workers),
            "AUTO_MIGRATE": "false",
            "DEMO_DATA": "false",
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def uvicorn_argv(target: str, *, port: int, workers: int) -> list[str]:
    """The same uvicorn flags for the app and the bare baseline."""
    return [
        PYTHON, "-m", "uvicorn", target, "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
