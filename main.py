"""create_app(settings) -> FastAPI: lifespan, routers, error handlers. No business logic here."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from admin_units.router import router as admin_units_router
from core import auth, db, errors, network, users
from core.auth_router import router as auth_router
from core.crypto import Keys, secret_key
from core.middleware import BodyLimit, Compression, RefuseUnstorableText, SecurityHeaders
from core.settings import Settings, get_settings
from core.state import AppState, State, attach, state_of
from coverage import job
from coverage.router import router as coverage_router
from merchants import accounts
from merchants.router import imports_router as stall_imports_router
from merchants.router import registration_router, signs_router
from merchants.router import router as merchants_router
from ops import demo, metrics
from partners import registry
from partners.router import router as partners_router
from privacy import notices
from privacy.router import router as privacy_router
from qr.router import router as qr_router
from teams.router import router as teams_router
from web.router import not_found_page
from web.router import router as web_router

log = logging.getLogger("choso")
JOB_INTERVAL_S = 3600  # the coverage job: transacting windows expire with time alone


async def startup(state: AppState) -> None:
    """Database, migrations, pool, first administrator, demo data."""
    settings = state.settings
    url = await asyncio.to_thread(db.database_url, settings)
    if settings.auto_migrate:
        await asyncio.to_thread(db.migrate, url)
    state.pool = await db.create_pool(
        url, keys=state.keys, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    async with state.pool.acquire() as conn:
        await accounts.seal_stored_accounts(conn)
        await registry.seal_stored_credentials(conn)
        await registry.sync_directory(conn)
        if settings.admin_username and settings.admin_password:
            user, created = await users.ensure_user(
                conn,
                username=settings.admin_username,
                password=settings.admin_password.get_secret_value(),
                role="admin",
            )
            if created:
                log.info("created administrator %s", user.username)
        if settings.demo_data:
            await demo.load_if_empty(conn, window_days=settings.transacting_window_days)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole service, configured by `settings`."""
    settings = settings or get_settings()
    notices.require_current(settings.notice_version)
    state = AppState(
        settings=settings,
        keys=Keys(secret_key(settings)),
        trusted_proxies=network.parse_networks(settings.trusted_proxies),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.lookup_timeout_s, connect=3.0)
        )
        try:
            await startup(state)
            assert state.pool is not None
            coverage_job = asyncio.create_task(
                job.run_periodically(
                    state.pool,
                    interval_s=JOB_INTERVAL_S,
                    window_days=settings.transacting_window_days,
                )
            )
            try:
                yield
            finally:
                coverage_job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await coverage_job
        finally:
            if state.pool is not None:
                await state.pool.close()
            await state.http.aclose()

    app = FastAPI(
        title="Chợ Số API",
        version="0.1.0",
        description="Stall registration, VietQR signs and cashless-market coverage for Vietnamese markets.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    attach(app, state)
    errors.install(app, page_not_found=not_found_page, confirm_session=auth.confirm_session)

    # Inside the body limit. Signed partner messages are read raw and answered in their own format.
    app.add_middleware(
        RefuseUnstorableText,
        raw_paths=r"/api/partners/[^/]+/(events|ipn|callback|webhook)",
    )
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        uploads=settings.max_upload_bytes,
        upload_paths=("/imports", "/stalls/import", "/qr/scan", "/verify-image"),
    )
    app.add_middleware(
        SecurityHeaders,
        https=bool(settings.public_url and settings.public_url.startswith("https")),
        tile_url=settings.map_tile_url,
    )
    app.add_middleware(Compression)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "X-API-Key",
            ],
        )
    metrics.install(app)  # outermost: counts and times every request; serves GET /metrics

    @app.get("/healthz", tags=["operations"])
    async def healthz(state: State) -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            assert state.pool is not None
            async with state.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return errors.problem(503, "database_unavailable", "Database unavailable")
        return JSONResponse({"status": "ok"})

    _offline_docs(app)
    # Routes are matched in this order, one by one: registration (its own router) first, then
    # the rest of the field work's routes. The import routes go before the stall routes
    # ("/stalls/{stall_id}" would take "/stalls/import-template.xlsx").
    app.include_router(registration_router)
    app.include_router(stall_imports_router)
    app.include_router(merchants_router)
    app.include_router(auth_router)
    app.include_router(privacy_router)
    app.include_router(qr_router)
    app.include_router(signs_router)
    app.include_router(partners_router)
    app.include_router(coverage_router)
    app.include_router(admin_units_router)
    app.include_router(teams_router)
    app.include_router(web_router)
    errors.document_problems(app)
    return app


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI 5 and ReDoc 2 from the fastapi-offline package (both read OpenAPI 3.1): /docs
    and /redoc work with no internet."""
    assets = files("fastapi_offline") / "static"

    @functools.cache
    def redoc_bundle() -> bytes:
        # ReDoc's sidebar credit loads its logo from a CDN (hard-coded): ours instead, so the page
        # asks no third party for anything and the CSP has nothing to refuse.
        js = (assets / "redoc.standalone.js").read_bytes()
        return js.replace(b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/docs-assets/favicon.png")

    @app.get("/docs-assets/redoc.js", include_in_schema=False)  # before the mount, which would win
    async def redoc_js() -> Response:
        return Response(redoc_bundle(), media_type="text/javascript; charset=utf-8")

    app.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Chợ Số API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Chợ Số API",
            redoc_js_url="/docs-assets/redoc.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


def app_factory() -> FastAPI:
    """Entry point for uvicorn --factory (several workers)."""
    return create_app(get_settings())


__all__ = ["app_factory", "create_app", "state_of"]
