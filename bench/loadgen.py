"""A small async HTTP/1.1 client and closed-loop load generator on raw asyncio streams.

httpx spends several times more CPU per request than the server under test on a 2-core machine, so
the benches use this instead: keep-alive connections, Content-Length and chunked bodies, a
per-request timeout that abandons the request mid-flight (the connection is closed, as a phone
losing signal would). Its own cost is measured in every run (`client_cpu_us_per_request`), so
the report can say how much of the machine the load generator took.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    """The connection failed or the reply was unreadable (the request may or may not have run)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects on the next request after any failure."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._host_header = f"{host}:{port}".encode()

    @property
    def local_port(self) -> int | None:
        """The client-side port of the open socket (to find which server process holds it)."""
        if self._writer is None:
            return None
        sockname = self._writer.get_extra_info("sockname")
        return int(sockname[1]) if sockname else None

    async def connect(self) -> None:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        json: Any = None,
        timeout_s: float | None = None,
    ) -> Reply:
        """Send one request, read the whole reply; TimeoutError abandons it (closes the socket)."""
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            async with asyncio.timeout(self.timeout if timeout_s is None else timeout_s):
                return await self._exchange(method, path, headers or {}, body)
        except TimeoutError:
            self.close()
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    async def _exchange(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Reply:
        await self.connect()
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        lines += [f"{k}: {v}".encode() for k, v in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d" % len(body or b""))
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))
        reader = self._reader
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        reply_headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            reply_headers[name.strip().lower()] = value.strip()
        if "content-length" in reply_headers:
            data = await reader.readexactly(int(reply_headers["content-length"]))
        elif reply_headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            data = b"".join(chunks)
        elif status in (204, 304) or method == "HEAD":
            data = b""
        else:
            data = await reader.read()
            self.close()
        if reply_headers.get("connection", "").lower() == "close":
            self.close()
        return Reply(status, reply_headers, data)


# ---------------------------------------------------------------- closed-loop load


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None = None


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: Counter[int]
    errors: int
    latencies_ms: list[float] = field(repr=False)
    client_cpu_s: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "client_cpu_us_per_request": round(1e6 * self.client_cpu_s / self.requests, 1)
            if self.requests
            else None,
            "client_cpu_share": round(self.client_cpu_s / self.seconds / (os.cpu_count() or 1), 3)
            if self.seconds
            else None,
        }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


async def closed_loop(
    host: str,
    port: int,
    make_request: Callable[[], Request],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    on_reply: Callable[[Reply], Awaitable[None] | None] | None = None,
) -> LoadResult:
    """`concurrency` users, each on its own keep-alive connection, sending back to back.

    Requests that start during `warmup` are sent but not counted; the measured window follows it.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    cpu_at: list[float] = []

    async def user() -> None:
        nonlocal errors
        conn = Connection(host, port)
        try:
            while True:
                now = loop.time()
                if now >= stop_at:
                    return
                if now >= measure_from and not cpu_at:
                    cpu_at.append(time.process_time())
                req = make_request()
                began = time.perf_counter()
                counted = now >= measure_from
                try:
                    reply = await conn.request(
                        req.method, req.path, headers=req.headers, body=req.body
                    )
                except (HttpError, TimeoutError):
                    if counted:
                        errors += 1
                    continue
                elapsed_ms = (time.perf_counter() - began) * 1000
                if counted and loop.time() <= stop_at:
                    latencies.append(elapsed_ms)
                    statuses[reply.status] += 1
                if on_reply is not None:
                    maybe = on_reply(reply)
                    if maybe is not None:
                        await maybe
        finally:
            conn.close()

    await asyncio.gather(*(user() for _ in range(concurrency)))
    cpu_used = time.process_time() - (cpu_at[0] if cpu_at else time.process_time())
    return LoadResult(
        requests=len(latencies),
        seconds=seconds,
        statuses=statuses,
        errors=errors,
        latencies_ms=latencies,
        client_cpu_s=cpu_used,
    )
