"""Web hardening: security headers and request body limits (pure ASGI, so streaming is kept)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; "
    "form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
# The API docs pages (main._offline_docs; every asset served by us from /docs-assets, no CDN) get
# their own policies, on exactly these two paths. Swagger UI bootstraps with one inline script;
# ReDoc injects its styles inline and builds its search index in a web worker made from a blob:.
_DOCS_CSP = {
    "/docs": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "/redoc": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}
# A map tile server's host as a tile URL template may name it: "{s}." stands for its subdomains.
_TILE_HOST = re.compile(r"^(?:\{s\}\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?$")


def tile_origin(tile_url: str | None) -> str | None:
    """The CSP source of a map tile URL template (https://{s}.tile.example.org/{z}/{x}/{y}.png ->
    https://*.tile.example.org); None when unset, same-origin, or not a plain http(s) URL."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.strip().lower())
    if parts.scheme not in ("http", "https") or not _TILE_HOST.match(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def _add_source(csp: str, directive: str, source: str) -> str:
    parts = [part.strip() for part in csp.split(";")]
    return "; ".join(f"{p} {source}" if p.split(" ", 1)[0] == directive else p for p in parts)


class SecurityHeaders:
    """Adds CSP (our own scripts only), nosniff, frame denial and a strict referrer policy."""

    def __init__(self, app: ASGIApp, *, https: bool = False, tile_url: str | None = None) -> None:
        self.app = app
        self.https = https
        # The map's tiles (MAP_TILE_URL) may come from another origin: images only, nothing else.
        origin = tile_origin(tile_url)
        self.csp = _add_source(CSP, "img-src", origin) if origin else CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = _DOCS_CSP.get(scope.get("path", ""), self.csp)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": csp.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                    b"permissions-policy": b"camera=(self), geolocation=(self), microphone=()",
                }
                if self.https:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over the limit with 413 problem+json (uploads get a larger limit)."""

    def __init__(
        self, app: ASGIApp, *, default: int, uploads: int, upload_paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads
        self.upload_paths = upload_paths

    def _limit(self, path: str) -> int:
        return self.uploads if any(p in path for p in self.upload_paths) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await _reject(send, limit)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, limit)


class _TooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit. An HTTPException, because
    FastAPI turns any other error while reading a body into a 400; the app's handler renders it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the limit of {limit} bytes.")


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "https://choso.vn/problems/payload_too_large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"The request body is over the limit of {limit} bytes.",
            "code": "payload_too_large",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
