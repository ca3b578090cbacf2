"""The shipped browser files as served: content-hashed URLs, import graphs, precompressed bodies.

There is no build step: the files under web/static are read as they are, once (and again when one
changes on disk). A module's URL carries a hash of its content and of every module it imports,
directly or not (`/static/js/app.js?v=3f2a…`), and the relative imports inside each module are
rewritten to those URLs. So a browser may keep every script and style sheet for a year: a change to
one file changes its URL and the URL of every module that imports it, up to the page. Files that
are named from elsewhere (icons, the manifest) keep their plain names and are revalidated.

Bodies are compressed once per file and encoding (brotli at its best quality, gzip) and kept in
memory; a browser gets the encoding it asks for (Accept-Encoding), or the file as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import brotli

STATIC = Path(__file__).resolve().parent / "static"

TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".map": "application/json",
}
# Text compresses; images and fonts are compressed already.
COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt", ".map"}
# Scripts and styles get hashed URLs; the rest is named by plain URL in code, the manifest or HTML.
VERSIONED = {".js", ".mjs", ".css"}
# A relative module specifier in an import: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`.
_IMPORT = re.compile(
    r"""(?P<head>\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(?P<q>["'])(?P<spec>\.{1,2}/[^"'\s]+?)(?P=q)"""
)
_STATIC_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s+)["'](\.{1,2}/[^"'\s]+?)["']""")
# How often the files on disk are checked for changes (a running dev server picks up an edit).
RECHECK_S = 1.0


@dataclass
class Asset:
    """One shipped file as served."""

    path: str  # relative to web/static, posix
    media_type: str
    body: bytes  # as served (imports rewritten to hashed URLs)
    version: str  # hash of the file and everything it imports ("" for plain-named files)
    imports: tuple[str, ...] = ()  # paths of the modules it imports statically
    _encoded: dict[str, bytes | None] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        plain = "/static/" + self.path
        return f"{plain}?v={self.version}" if self.version else plain

    @property
    def etag(self) -> str:
        return '"' + (self.version or hashlib.sha256(self.body).hexdigest()[:16]) + '"'

    @property
    def compressible(self) -> bool:
        return PurePosixPath(self.path).suffix in COMPRESSIBLE

    def encoded(self, coding: str) -> bytes | None:
        """The body in `coding` ("br" or "gzip"), or None when that does not make it smaller."""
        if coding not in self._encoded:
            self._encoded[coding] = compress(self.body, coding) if self.compressible else None
        return self._encoded[coding]


def compress(body: bytes, coding: str) -> bytes | None:
    """`body` compressed once and for all (best ratio), or None if that saves under 10%."""
    if coding == "br":
        out = brotli.compress(body, quality=11)
    elif coding == "gzip":
        out = gzip.compress(body, compresslevel=9, mtime=0)
    else:
        return None
    return out if len(out) < 0.9 * len(body) else None


def negotiate(accept_encoding: str) -> str:
    """The coding to send for an Accept-Encoding header: "br", "gzip" or "" (as is)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding.strip():
            weights[coding.strip()] = q
    star = weights.get("*", 0.0)
    best, best_q = "", 0.0
    for coding in ("br", "gzip"):  # on a tie brotli wins: smaller
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


@dataclass
class Index:
    """Every shipped file by path, and the version of the whole set."""

    assets: dict[str, Asset]
    version: str
    fingerprint: tuple[tuple[str, int, int], ...]

    def get(self, path: str) -> Asset | None:
        return self.assets.get(path)

    def url(self, path: str) -> str:
        """The URL a page names a shipped file by (hashed for scripts and styles)."""
        return self.assets[path].url

    def preloads(self, entry: str) -> list[str]:
        """URLs of the modules `entry` imports statically, directly or not (not entry itself)."""
        seen: list[str] = []

        def visit(path: str) -> None:
            for dep in self.assets[path].imports:
                if dep not in seen and dep != entry:
                    seen.append(dep)
                    visit(dep)

        visit(entry)
        return [self.assets[p].url for p in seen]

    def urls(self) -> list[str]:
        """Every file's URL, as pages name them (the service worker's list)."""
        return [a.url for p, a in sorted(self.assets.items()) if p != "sw.js"]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in TYPES)


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in _files(root):
        st = p.stat()
        out.append((p.relative_to(root).as_posix(), st.st_mtime_ns, st.st_size))
    return tuple(out)


def _resolve(importer: str, spec: str) -> str:
    """The path (relative to web/static) a relative specifier in `importer` names."""
    parts: list[str] = list(PurePosixPath(importer).parent.parts)
    for part in PurePosixPath(spec.split("?", 1)[0]).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def build(root: Path = STATIC) -> Index:
    """Read every file under `root` and work out URLs, rewritten modules and versions."""
    fingerprint = _fingerprint(root)
    raw = {p.relative_to(root).as_posix(): p.read_bytes() for p in _files(root)}
    deps: dict[str, set[str]] = {}  # static and dynamic imports: what a module's URL depends on
    static_deps: dict[str, list[str]] = {}
    for path, body in raw.items():
        if PurePosixPath(path).suffix not in (".js", ".mjs") or path == "sw.js":
            continue
        text = body.decode("utf-8")
        found = {_resolve(path, m.group("spec")) for m in _IMPORT.finditer(text)}
        deps[path] = {d for d in found if d in raw}
        static_deps[path] = [
            d
            for d in dict.fromkeys(_resolve(path, s) for s in _STATIC_IMPORT.findall(text))
            if d in raw
        ]
    content = {path: hashlib.sha256(body).hexdigest() for path, body in raw.items()}

    def closure(path: str) -> list[str]:
        seen = {path}
        todo = [path]
        while todo:
            for dep in deps.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return sorted(seen)

    versions: dict[str, str] = {}
    for path in raw:
        if PurePosixPath(path).suffix not in VERSIONED or path == "sw.js":
            versions[path] = ""
            continue
        digest = hashlib.sha256()
        for member in closure(path):  # cycles are fine: a set of files, not a chain
            digest.update(member.encode() + b"\0" + content[member].encode() + b"\n")
        versions[path] = digest.hexdigest()[:12]

    assets: dict[str, Asset] = {}
    for path, body in raw.items():
        if path in deps:
            body = _rewrite(path, body.decode("utf-8"), versions, raw).encode("utf-8")
        elif PurePosixPath(path).suffix == ".css":
            body = css_without_comments(body)
        assets[path] = Asset(
            path=path,
            media_type=TYPES[PurePosixPath(path).suffix],
            body=body,
            version=versions[path],
            imports=tuple(static_deps.get(path, ())),
        )
    whole = hashlib.sha256()
    for path in sorted(raw):
        whole.update(path.encode() + b"\0" + content[path].encode() + b"\n")
    return Index(assets=assets, version=whole.hexdigest()[:12], fingerprint=fingerprint)


# A CSS string (kept whole: it may hold "/*") or a comment.
_CSS_STRING_OR_COMMENT = re.compile(rb"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|/\*.*?\*/""", re.S)


def css_without_comments(body: bytes) -> bytes:
    """A style sheet as served: its comments (there for whoever reads the source: a fifth of the
    style sheet, which is part of the app shell a tablet on 3G waits for) left out."""
    return _CSS_STRING_OR_COMMENT.sub(lambda m: m.group(1) or b"", body)


def _rewrite(path: str, text: str, versions: dict[str, str], raw: dict[str, bytes]) -> str:
    def swap(m: re.Match[str]) -> str:
        spec = m.group("spec")
        target = _resolve(path, spec)
        if target not in raw or not versions.get(target):
            return m.group(0)
        bare = spec.split("?", 1)[0]
        return f"{m.group('head')}{m.group('q')}{bare}?v={versions[target]}{m.group('q')}"

    return _IMPORT.sub(swap, text)


class _Current:
    """The index of web/static, rebuilt when a file there changes (checked at most once a second)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: Index | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> Index:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._checked < RECHECK_S:
            return index
        with self._lock:
            if self._index is None or _fingerprint(self.root) != self._index.fingerprint:
                self._index = build(self.root)
            self._checked = time.monotonic()
            return self._index


current = _Current(STATIC)


def warm(index: Index, codings: Iterable[str] = ("br", "gzip")) -> None:
    """Compress every file now (at start-up) rather than at its first request."""
    for asset in index.assets.values():
        for coding in codings:
            asset.encoded(coding)
