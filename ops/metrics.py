"""Prometheus metrics at /metrics: requests and latency by route template, pool use, event queue.

One process (WORKERS=1): the metrics live in this process. Several workers (WORKERS>1): every
worker writes its values to files under PROMETHEUS_MULTIPROC_DIR (default DATA_DIR/metrics/<pid of
the process that started the workers>), and the worker answering /metrics sums them all, so a
scrape sees the whole instance, not one worker. Values that only exist at scrape time (the
notification queue, whether the database answers) are read from PostgreSQL by the worker that is
scraped.

Wire it with one line in create_app, after the other middleware: `metrics.install(app)`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings
from core.state import state_of
from partners import events

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)

router = APIRouter(tags=["operations"])


class _Metrics:
    """The metric objects of this process (created once, after the value storage is chosen)."""

    def __init__(self, registry: CollectorRegistry | None, multiprocess_dir: Path | None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = registry
        self.requests = Counter(
            "choso_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "choso_http_request_duration_seconds",
            "Seconds from request start to the end of the response body, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "choso_http_requests_in_progress",
            "Requests being handled right now.",
            ["method"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_size = Gauge(
            "choso_db_pool_connections",
            "Open connections in the database pools (all workers).",
            ["state"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_max = Gauge(
            "choso_db_pool_max_connections",
            "Configured pool maximum, summed over workers.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        # Children looked up once (labels() takes a lock and builds a key on every call).
        self._pool_in_use = self.pool_size.labels("in_use")
        self._pool_idle = self.pool_size.labels("idle")
        self._children: dict[tuple[Any, ...], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """metric.labels(*labels), kept: routes, methods and statuses are a bounded set."""
        key = (metric, *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def observe_pool(self, pool: asyncpg.Pool | None) -> None:
        if pool is None:
            return
        try:
            size, idle = pool.get_size(), pool.get_idle_size()
            self._pool_in_use.set(size - idle)
            self._pool_idle.set(idle)
            self.pool_max.set(pool.get_max_size())
        except Exception:  # noqa: BLE001 - a closing pool must never fail a request
            pass


_metrics: _Metrics | None = None


def _worker_group_dir(settings: Settings) -> Path:
    """DATA_DIR/metrics/<parent pid>: one directory per server start, shared by its workers."""
    base = (settings.data_dir / "metrics").resolve()
    group = base / str(os.getppid())
    group.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():  # directories of servers that have exited
        if old != group and old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    return group


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def setup(settings: Settings) -> _Metrics:
    """Create this process's metrics; multi-process storage when several workers serve the app."""
    global _metrics
    if _metrics is not None:
        return _metrics
    directory: Path | None = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    elif settings.workers > 1:
        directory = _worker_group_dir(settings)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        # prometheus_client picks its storage when imported; switch it before any value exists.
        if not getattr(values.ValueClass, "_multiprocess", False):
            values.ValueClass = values.MultiProcessValue()
        pid = os.getpid()
        atexit.register(lambda: multiprocess.mark_process_dead(pid, str(directory)))
        _metrics = _Metrics(None, directory)
    else:
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        _metrics = _Metrics(registry, None)
    return _metrics


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = getattr(route, "path", None) or UNMATCHED
    if isinstance(route, Mount):
        return path.rstrip("/") + "/{path:path}"
    return str(path)


class MetricsMiddleware:
    """Counts every HTTP request and times it up to the last byte of the response."""

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        method = scope.get("method", "GET")
        method = method if method in METHODS else "OTHER"
        status = 500
        began = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        gauge = metrics.child(metrics.in_progress, method)
        gauge.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            gauge.dec()
            route = _route_of(scope)
            metrics.child(metrics.requests, method, route, str(status)).inc()
            metrics.child(metrics.latency, method, route).observe(time.perf_counter() - began)
            app = scope.get("app")
            state = getattr(app, "state", None)
            metrics.observe_pool(getattr(state, "pool", None))


class _ScrapeTime(Collector):
    """Values read from the database by the worker answering this scrape."""

    def __init__(self, found: dict[str, float]) -> None:
        self.found = found

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("choso_db_up", "1 when the database answered this scrape.")
        up.add_metric([], self.found.get("db_up", 0.0))
        yield up
        if "unprocessed" in self.found:
            queue = GaugeMetricFamily(
                "choso_partner_events_unprocessed",
                "Partner notifications received and not yet processed (processed_at IS NULL).",
            )
            queue.add_metric([], self.found["unprocessed"])
            yield queue


async def _read_database(pool: asyncpg.Pool | None) -> dict[str, float]:
    if pool is None:
        return {}
    try:
        async with pool.acquire(timeout=2) as conn:
            found: dict[str, float] = {"db_up": 1.0}
            queued = await events.unprocessed_count(conn, limit_s=5)
            if queued is not None:
                found["unprocessed"] = float(queued)
            return found
    except Exception:  # noqa: BLE001 - a scrape reports the database as down instead of failing
        return {"db_up": 0.0}


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format: this instance's requests, latencies, pools and queues."""
    state = state_of(request.app)
    metrics = _metrics
    if metrics is None:
        metrics = setup(state.settings)
    pool = state.pool
    metrics.observe_pool(pool)
    found = await _read_database(pool)
    registry = CollectorRegistry()
    if metrics.multiprocess_dir is not None:
        multiprocess.MultiProcessCollector(registry, path=str(metrics.multiprocess_dir))
    else:
        assert metrics.registry is not None
        registry = metrics.registry
    scrape = _ScrapeTime(found)
    registry.register(scrape)
    try:
        body = generate_latest(registry)
    finally:
        registry.unregister(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Measure every request of `app` (outermost middleware) and serve GET /metrics; idempotent."""
    if any(m.cls is MetricsMiddleware for m in app.user_middleware):
        return
    metrics = setup(state_of(app).settings)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(router)
