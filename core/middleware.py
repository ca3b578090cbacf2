"""Web hardening and transport: security headers, request body limits, refusal of text PostgreSQL
cannot store, compression (pure ASGI, so streaming is kept)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus, urlsplit

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.text import unstorable

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


# API answers that hold no personal data and may be kept by caches: public reference data.
PUBLIC_API = ("/api/banks", "/api/admin-units", "/api/consent-notice", "/api/consent-notices/")


def _cacheable(path: str) -> bool:
    """Whether an answer may be kept in caches: everything but the API, and the API's public
    reference data. Every other API answer may carry personal data (stall records and lists,
    signs, QR images, exports) or depend on who asks."""
    return not path.startswith("/api/") or path.startswith(PUBLIC_API)


class SecurityHeaders:
    """Adds CSP (our own scripts only), nosniff, frame denial and a strict referrer policy; API
    answers get `Cache-Control: no-store` unless public (PUBLIC_API) or the route set its own."""

    def __init__(self, app: ASGIApp, *, https: bool = False, tile_url: str | None = None) -> None:
        self.app = app
        self.https = https
        # The map's tiles (MAP_TILE_URL) may come from another origin: images only, nothing else.
        origin = tile_origin(tile_url)
        self.csp = _add_source(CSP, "img-src", origin) if origin else CSP
        # The headers each kind of answer gets, built once: (policy, no_store) -> [(name, value)].
        self._extra = {
            (csp, no_store): self._headers(csp, no_store=no_store)
            for csp in (self.csp, *_DOCS_CSP.values())
            for no_store in (False, True)
        }

    def _headers(self, csp: str, *, no_store: bool) -> list[tuple[bytes, bytes]]:
        extra = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
        ]
        if self.https:
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        if no_store:
            extra.append((b"cache-control", b"no-store"))
        return extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = self._extra[_DOCS_CSP.get(path, self.csp), not _cacheable(path)]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}  # a header the route set is kept
                headers += [(k, v) for k, v in extra if k not in names]
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


# A JSON text that may decode to a NUL or to half of a surrogate pair: only then is it parsed here.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _unstorable_in(value: object) -> str | None:
    """The dotted path of the first key or string in a JSON value that PostgreSQL refuses.

    Iterative, so a deeply nested body cannot exhaust the stack here.
    """
    stack: list[tuple[object, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return ".".join(path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if unstorable(key):
                    return ".".join((*path, "<key>"))
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(i))) for i, child in enumerate(item))
    return None


class RefuseUnstorableText:
    """422 `invalid_text` for a NUL or lone surrogate in the path, the query string, a JSON body or
    a URL-encoded form: PostgreSQL cannot store such text, so it is refused before anything runs.

    Multipart bodies pass (files hold NUL bytes), and so do `raw_paths`: endpoints that verify a
    signature over the raw body first and answer in a partner's own format, and a page's query
    string (_page_request: the page's script sends it to the API, which refuses it).
    """

    def __init__(self, app: ASGIApp, *, raw_paths: str) -> None:
        self.app = app
        self.raw_paths = re.compile(raw_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.raw_paths.fullmatch(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") and not _page_request(scope):
            await _refuse(send, "path", "The address holds a NUL character.")
            return
        query: bytes = scope.get("query_string", b"")
        if (b"%00" in query or b"\x00" in query) and not _page_request(scope):
            name = _query_field(query)
            await _refuse(send, name, f"{name}: NUL characters are not allowed.")
            return
        kind = _content_type(scope)
        json_body = kind == "application/json" or kind.endswith("+json")
        if not json_body and kind != "application/x-www-form-urlencoded":
            await self.app(scope, receive, send)
            return
        chunks, more = bytearray(), True  # at most the body limit (BodyLimit runs outside)
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunks += message.get("body", b"")
            more = message.get("more_body", False)
        body = bytes(chunks)
        field = _unstorable_json(body) if json_body else _unstorable_form(body)
        if field is not None:
            field = field or "body"
            await _refuse(
                send, field, f"{field}: NUL characters and unpaired surrogates are not allowed."
            )
            return
        await self.app(scope, _replay(body, receive), send)


def _page_request(scope: Scope) -> bool:
    """A browser opening a page (GET, not /api/, asking for HTML): the page stores nothing and reads
    its query in the browser, where the API's own refusal is shown in the app's language (the raw
    problem+json was shown as the page); an address that is no page (a NUL in it) gets the
    not-found page."""
    if scope.get("method") not in ("GET", "HEAD") or scope.get("path", "").startswith("/api/"):
        return False
    return any(
        name == b"accept" and b"text/html" in value for name, value in scope.get("headers", [])
    )


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _query_field(query: bytes) -> str:
    for pair in query.split(b"&"):
        if b"%00" in pair or b"\x00" in pair:
            name = pair.split(b"=", 1)[0]
            return unquote_plus(name.decode("latin-1")).replace("\x00", "") or "query"
    return "query"


def _unstorable_json(body: bytes) -> str | None:
    if not _SUSPECT_ESCAPE.search(body):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route answers invalid_json
    return _unstorable_in(value)


def _unstorable_form(body: bytes) -> str | None:
    if b"%00" not in body and b"\x00" not in body:
        return None
    return _query_field(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the real channel again (so a disconnect is still seen)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, field: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": "https://choso.vn/problems/invalid_text",
            "title": "Text the service cannot store",
            "status": 422,
            "detail": detail,
            "code": "invalid_text",
            "field": field,
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Answers that are compressed already (images, PDFs, spreadsheets are zip files) are sent as they are.
NOT_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


class Compression(GZipMiddleware):
    """gzip for answers of at least `minimum_size` bytes when the client accepts it (API JSON, CSV
    and GeoJSON exports, pages), with `Vary: Accept-Encoding`. A streamed answer stays streamed: each
    chunk is compressed and flushed as it comes. Tiny answers gain nothing and go as they are, and so
    does anything that already has a Content-Encoding (static files, precompressed by web/assets.py).
    Level 6: nearly the ratio of 9 for much less CPU on a small server."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = 1024, compresslevel: int = 6) -> None:
        super().__init__(
            app,
            minimum_size=minimum_size,
            compresslevel=compresslevel,
            exclude_content_types=NOT_COMPRESSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_vary_once(message: Message) -> None:
            # Starlette adds "Accept-Encoding" to Vary even when the answer already varies by it.
            if message["type"] == "http.response.start":
                message["headers"] = _merge_vary(list(message.get("headers", [])))
            await send(message)

        await super().__call__(scope, receive, send_vary_once)


def _merge_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """One Vary header, each field named once."""
    names: list[str] = []
    rest = []
    for key, value in headers:
        if key.lower() == b"vary":
            for name in value.decode("latin-1").split(","):
                if name.strip() and name.strip().lower() not in (n.lower() for n in names):
                    names.append(name.strip())
        else:
            rest.append((key, value))
    if names:
        rest.append((b"vary", ", ".join(names).encode("latin-1")))
    return rest
