"""Web hardening: security headers, body limits, CORS, cookies, and log redaction."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Request

from core import db
from core import logging as log_redaction
from core.state import state_of
from tests.conftest import ROOT, TEST_PASSWORD, make_settings


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/api/banks", "/api/users/me", "/openapi.json", "/no-such-page"])
async def test_every_response_carries_the_security_headers(client, path):
    r = await client.get(path)
    csp = directives(r.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]  # our own scripts only: no inline, no eval, no CDN
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers  # plain HTTP in tests


async def test_only_the_api_docs_allow_inline_scripts_and_load_nothing_from_a_cdn(client):
    r = await client.get("/docs")
    assert r.status_code == 200
    csp = directives(r.headers["content-security-policy"])
    assert "'unsafe-inline'" in csp["script-src"] and csp["frame-ancestors"] == ["'none'"]
    assert not any(src.startswith("http") for src in csp["script-src"])
    assert r.headers["x-frame-options"] == "DENY"
    assert "https://" not in r.text  # every asset is served by us: the docs work offline
    bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


async def test_https_deployments_send_hsts(conn, pool, session_db, tmp_path):
    async with app_client(
        conn, pool, session_db, tmp_path, public_url="https://choso.example"
    ) as c:
        r = await c.get("/api/banks")
    assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_signing_in_sets_no_cookie(client):
    r = await client.post("/api/auth/token", data={"username": "admin", "password": TEST_PASSWORD})
    assert r.status_code == 200
    assert "set-cookie" not in r.headers
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert "set-cookie" not in me.headers


# ---------------------------------------------------------------- body limits


async def test_bodies_over_the_limit_are_refused_with_413(app, client, auth):
    limit = state_of(app).settings.max_body_bytes
    big = b'{"name": "' + b"x" * limit + b'"}'
    r = await client.post(
        "/api/markets",
        content=big,
        headers=await auth("admin") | {"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert (
        r.headers["content-type"] == "application/problem+json"
        and r.json()["code"] == "payload_too_large"
    )


async def test_streamed_bodies_over_the_limit_are_refused_with_413(app, client, auth):
    limit = state_of(app).settings.max_body_bytes

    async def chunks() -> AsyncIterator[
        bytes
    ]:  # no Content-Length: the limit is counted as it arrives
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    r = await client.post(
        "/api/markets",
        content=chunks(),
        headers=await auth("admin") | {"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    anonymous = await client.post(
        "/api/auth/token",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert anonymous.status_code == 413


async def test_upload_routes_have_their_own_larger_limit(app, client):
    settings = state_of(app).settings
    size = settings.max_body_bytes + 1024
    assert size < settings.max_upload_bytes
    files = {"file": ("photo.png", b"\0" * size, "image/png")}
    r = await client.post("/api/qr/scan", files=files)
    assert r.status_code == 401  # read in full, then refused for want of a token - not 413


# ---------------------------------------------------------------- CORS


async def test_cors_is_closed_by_default(client):
    r = await client.get("/api/banks", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = await client.options(
        "/api/users/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in pre.headers


async def test_cors_opens_for_configured_origins_only(conn, pool, session_db, tmp_path):
    async with app_client(
        conn, pool, session_db, tmp_path, cors_origins=["https://partner.example"]
    ) as c:
        ok = await c.get("/api/banks", headers={"Origin": "https://partner.example"})
        assert ok.headers["access-control-allow-origin"] == "https://partner.example"
        pre = await c.options(
            "/api/users/me",
            headers={
                "Origin": "https://partner.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert (
            pre.status_code == 200
            and pre.headers["access-control-allow-origin"] == "https://partner.example"
        )
        assert "access-control-allow-credentials" not in pre.headers  # bearer tokens, never cookies
        other = await c.get("/api/banks", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


class app_client:
    """A client on an app built with extra settings, sharing the test's rolled-back connection."""

    def __init__(self, conn, pool, session_db, tmp_path, **settings: object) -> None:
        from main import create_app

        self.app = create_app(make_settings(tmp_path, session_db, **settings))
        state_of(self.app).pool = pool
        self.conn = conn

        async def _conn(request: Request) -> AsyncIterator:
            yield conn

        self.app.dependency_overrides[db.get_conn] = _conn

    async def __aenter__(self) -> httpx.AsyncClient:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test"
        )
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


# ---------------------------------------------------------------- log redaction


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        (
            '127.0.0.1:5000 - "GET /api/lookup?bin=970422&account_number=0123456789 HTTP/1.1" 200',
            "0123456789",
            "/api/lookup?[redacted] HTTP/1.1",
        ),
        (
            '"GET /api/markets/1/stalls?q=0905123456 HTTP/1.1" 200',
            "0905123456",
            "/api/markets/1/stalls?",
        ),
        (
            'HTTP Request: GET http://test/api/x?token=abc123def456 "HTTP/1.1 200 OK"',
            "abc123def456",
            "http://test/api/x?",
        ),
        ("holder phone +84905123456 changed", "905123456", "holder phone"),
        ("call 0905 123 456 now", "123 456", "call"),
        ("account 9704221234567890 added", "1234567890", "account"),
        (
            "Authorization: Bearer test-0123456789abcdef0123456789abcdef",
            "0123456789abcdef",
            "Bearer [redacted]",
        ),
        ("key cs_1a2b3c4d_XyZ-secretpart used", "XyZ-secretpart", "cs_[redacted]"),
        ('{"secret": "hunter2-value", "password":"p4ss"}', "hunter2", '"secret": "[redacted]'),
    ],
)
def test_redact_masks_personal_data_and_secrets(line, secret, kept):
    clean = log_redaction.redact(line)
    assert secret not in clean and kept in clean


def test_redact_keeps_ordinary_lines():
    line = "GET /api/markets/12/stalls 200 in 0.25 s, 2026-11-27 10:00:01, pool 3/10"
    assert log_redaction.redact(line) == line


def test_filter_keeps_uvicorns_access_record_shape():
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.9:5123", "GET", "/api/lookup?account_number=0123456789", "1.1", 200),
        None,
    )
    assert log_redaction.RedactFilter().filter(record)
    line = AccessFormatter(
        '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    ).format(record)
    assert line == '10.0.0.9:5123 - "GET /api/lookup?[redacted] HTTP/1.1" 200 OK'


def test_install_is_idempotent():
    log_redaction.install(("choso.test.redact",))
    log_redaction.install(("choso.test.redact",))
    logger = logging.getLogger("choso.test.redact")
    assert sum(isinstance(f, log_redaction.RedactFilter) for f in logger.filters) == 1


_SERVER = r"""
import asyncio, logging, sys
import httpx, uvicorn
from core import logging as log_redaction

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})

async def main():
    log_config = log_redaction.uvicorn_log_config("INFO")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=log_config)
    logging.basicConfig(level="INFO", stream=sys.stdout, format="%(name)s: %(message)s")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as c:
        await c.get(f"http://127.0.0.1:{port}/api/lookup?bin=970422&account_number=0123456789&phone=0905123456")
    server.should_exit = True
    await task

asyncio.run(main())
"""


async def test_a_real_uvicorn_server_logs_no_query_strings():
    """What `make run` does: uvicorn with core.logging's config, plus an outgoing httpx request."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SERVER,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert '"GET /api/lookup?[redacted] HTTP/1.1" 200' in text  # the access line is there ...
    assert "HTTP Request: GET http://127.0.0.1:" in text and "/api/lookup?[redacted]" in text
    for secret in ("0123456789", "0905123456", "account_number=", "phone="):
        assert secret not in text  # ... without what the query string held


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/markets/1/stalls", "GET, POST"),  # two routes share the path
        ("PUT", "/api/stalls/5", "GET, PATCH"),
        ("DELETE", "/api/banks", "GET"),
    ],
)
async def test_a_wrong_method_lists_every_method_of_the_path(client, method, path, allow):
    r = await client.request(method, path)
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == allow
