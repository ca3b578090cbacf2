"""Pages and static assets: the volunteer app, the manager dashboard, the map and market pages.

Everything is plain files under web/static (ES modules, CSS, icons) and web/templates (HTML
shells); there is no build step. The shells carry the few settings the browser needs as data
attributes, so the strict CSP (no inline script or style) holds. The service worker is served from
/sw.js (scope /) with the list of files to cache and a version derived from their contents, so a
changed file updates it. Leaflet and its marker clustering come from their XStatic packages on PyPI
(no CDN, no node toolchain) under /static/vendor/<versions>/, cached for a year.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
from email.utils import formatdate
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from xstatic.pkg import leaflet as xs_leaflet
from xstatic.pkg import leaflet_markercluster as xs_markercluster

from core.errors import NotFound
from core.params import Id
from core.state import state_of

router = APIRouter(include_in_schema=False)

WEB = Path(__file__).resolve().parent
STATIC = WEB / "static"
TEMPLATES = WEB / "templates"
# The shipped market list: its points are the reference points of the markets' wards.
MARKET_LIST = WEB.parent / "data" / "danang_markets.json"

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
# Shells are revalidated on every load (they are small and name the current assets); assets are
# revalidated too (their names carry no hash) but answer 304 cheaply; icons change rarely.
HTML_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=0, must-revalidate"
ICON_CACHE = "public, max-age=86400"
# Third-party browser libraries, by the name the pages use. Their URL names the package versions,
# so a browser may keep a file for a year: an upgrade changes every URL.
VENDOR = {"leaflet": xs_leaflet, "leaflet.markercluster": xs_markercluster}
VENDOR_TAG = "-".join(pkg.PACKAGE_VERSION for _, pkg in sorted(VENDOR.items()))
VENDOR_DIRS = {name: Path(pkg.BASE_DIR).resolve() for name, pkg in VENDOR.items()}
VENDOR_CACHE = "public, max-age=31536000, immutable"
# One HTML shell for every page: (title, entry module, layout class).
PAGES = {
    "app": ("Đăng ký sạp", "app.js", "layout-app"),
    "dashboard": ("Bảng điều khiển", "dashboard.js", "layout-wide"),
    "map": ("Bản đồ chợ", "mappage.js", "layout-wide"),
    "market": ("Chợ", "market.js", "layout-wide"),
    # The admin and manager console (web/static/js/console/): one page per section.
    "console": ("Quản trị", "console/index.js", "layout-wide"),
    "console-markets": ("Quản trị chợ", "console/markets.js", "layout-wide"),
    "console-import": ("Nhập danh sách sạp", "console/import.js", "layout-wide"),
    "console-people": ("Người dùng", "console/people.js", "layout-wide"),
    "console-rule": ("Tiêu chí chợ không tiền mặt", "console/rule.js", "layout-wide"),
    "console-partners": ("Đối tác", "console/partners.js", "layout-wide"),
    "console-requests": ("Yêu cầu về dữ liệu cá nhân", "console/requests.js", "layout-wide"),
    "activity": ("Hoạt động", "activity.js", "layout-wide"),
    "teams": ("Tổ công nghệ số", "teams.js", "layout-wide"),
    "visits": ("Danh sách quay lại", "visits.js", "layout-wide"),
}


@functools.cache
def _asset_index() -> tuple[str, tuple[str, ...]]:
    """(version, URLs to precache): the version is a hash of every shipped file."""
    digest = hashlib.sha256()
    urls: list[str] = []
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        rel = path.relative_to(STATIC).as_posix()
        if rel == "sw.js" or path.suffix not in TYPES:
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes())
        urls.append("/static/" + rel)
    digest.update((TEMPLATES / "page.html").read_bytes())
    digest.update((STATIC / "sw.js").read_bytes())
    return digest.hexdigest()[:12], tuple(urls)


def _version() -> str:
    return _asset_index()[0]


def _page(request: Request, name: str) -> HTMLResponse:
    settings = state_of(request.app).settings
    text = (TEMPLATES / "page.html").read_text(encoding="utf-8")
    title, script, layout = PAGES[name]
    values = {
        "title": title,
        "script": script,
        "layout": layout,
        "page": name,
        "version": _version(),
        "tile_url": settings.map_tile_url or "",
        "vendor": f"/static/vendor/{VENDOR_TAG}/",
        "notice_version": settings.notice_version,
        "lookup": "on" if settings.lookup_base_url else "off",
    }
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(str(value), quote=True))
    return HTMLResponse(text, headers={"Cache-Control": HTML_CACHE})


@router.get("/")
async def volunteer_app(request: Request) -> HTMLResponse:
    """The volunteer tablet app (a PWA)."""
    return _page(request, "app")


@router.get("/dashboard")
async def dashboard(request: Request) -> HTMLResponse:
    """The manager dashboard."""
    return _page(request, "dashboard")


@router.get("/map")
async def city_map(request: Request) -> HTMLResponse:
    """The city's markets on a map, coloured by status."""
    return _page(request, "map")


@router.get("/markets/{market_id}")
async def market_page(request: Request, market_id: Id) -> HTMLResponse:
    """One market: stall tiles by zone, progress toward the rule, coverage over time."""
    return _page(request, "market")


@router.get("/console")
async def console_home(request: Request) -> HTMLResponse:
    """The admin and manager console: what needs doing in each section."""
    return _page(request, "console")


@router.get("/console/markets")
async def console_markets(request: Request) -> HTMLResponse:
    """Markets: create, edit (ward from the directory, point on the map, zones), archive."""
    return _page(request, "console-markets")


@router.get("/console/markets/{market_id}/import")
async def console_import(request: Request, market_id: Id) -> HTMLResponse:
    """A market board's stall list: upload, dry run, confirm."""
    return _page(request, "console-import")


@router.get("/console/people")
async def console_people(request: Request) -> HTMLResponse:
    """People: users, their scopes, passwords, API keys (admins)."""
    return _page(request, "console-people")


@router.get("/console/rule")
async def console_rule(request: Request) -> HTMLResponse:
    """The cashless rule: versions, a new one with its day, and its preview (admins)."""
    return _page(request, "console-rule")


@router.get("/console/partners")
async def console_partners(request: Request) -> HTMLResponse:
    """Partners: credentials, what to hand to them, their notifications (admins)."""
    return _page(request, "console-partners")


@router.get("/console/requests")
async def console_requests(request: Request) -> HTMLResponse:
    """Data-subject requests by deadline, with export and erase."""
    return _page(request, "console-requests")


@router.get("/activity")
async def activity_page(request: Request) -> HTMLResponse:
    """Field activity per day, team, volunteer and market (managers)."""
    return _page(request, "activity")


@router.get("/teams")
async def teams_page(request: Request) -> HTMLResponse:
    """Community digital-technology teams: members, leader, markets (admins, managers)."""
    return _page(request, "teams")


@router.get("/return-visits")
async def return_visits_page(request: Request) -> HTMLResponse:
    """A printable list of the stalls to visit again, per market (?market=) or team (?team=)."""
    return _page(request, "visits")


@router.get("/manifest.webmanifest")
async def manifest() -> Response:
    """The web app manifest (served from the root so the app's scope is the whole site)."""
    body = (STATIC / "manifest.webmanifest").read_bytes()
    return Response(body, media_type=TYPES[".webmanifest"], headers={"Cache-Control": ASSET_CACHE})


@router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker, with the asset list and version filled in."""
    version, urls = _asset_index()
    shells = ["/", "/dashboard", "/map", "/markets/1", "/manifest.webmanifest"]
    text = (STATIC / "sw.js").read_text(encoding="utf-8")
    text = text.replace('"__VERSION__"', json.dumps(version)).replace(
        '["__ASSETS__"]', json.dumps(shells + list(urls))
    )
    return Response(
        text,
        media_type=TYPES[".js"],
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/favicon.ico")
async def favicon(request: Request) -> Response:
    """The icon browsers ask for by default."""
    return _file(request, STATIC / "icons" / "icon-192.png")


@router.get("/map/wards.json")
async def ward_points() -> Response:
    """Ward names at their reference points: the map's backdrop when no tile server is set."""
    return Response(
        _ward_points(), media_type=TYPES[".json"], headers={"Cache-Control": "public, max-age=3600"}
    )


@functools.cache
def _ward_points() -> bytes:
    """Each current ward at the mean of its former wards' reference points (data/danang_markets.json).

    The shipped list carries the geocoded reference point of each market's pre-2025 ward; a current
    ward (after the 1 Jul 2025 reform) gathers one or more of them. No boundaries are shipped: see
    docs/map.md.
    """
    refs: dict[str, set[tuple[float, float]]] = {}
    listed = json.loads(MARKET_LIST.read_text(encoding="utf-8")) if MARKET_LIST.is_file() else {}
    for m in listed.get("markets", []):
        if m.get("new_ward") and m.get("lat") is not None and m.get("lon") is not None:
            refs.setdefault(m["new_ward"], set()).add((m["lat"], m["lon"]))
    wards = [
        {
            "name": name,
            "lat": round(sum(p[0] for p in points) / len(points), 5),
            "lon": round(sum(p[1] for p in points) / len(points), 5),
        }
        for name, points in sorted(refs.items())
    ]
    return json.dumps({"wards": wards}, ensure_ascii=False).encode()


# Before /static/{path}, which would otherwise take these paths.
@router.get("/static/vendor/{tag}/{package}/{path:path}")
async def vendor(request: Request, tag: str, package: str, path: str) -> Response:
    """A file of a third-party library's XStatic package (Leaflet, its marker clustering)."""
    base = VENDOR_DIRS.get(package)
    if tag != VENDOR_TAG or base is None:
        raise NotFound("No such file.")
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file() or target.suffix not in TYPES:
        raise NotFound("No such file.")
    return _file(request, target, cache=VENDOR_CACHE)


@router.get("/static/{path:path}")
async def static(request: Request, path: str) -> Response:
    """A shipped file, with its type, an ETag and revalidation (304 when unchanged)."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.suffix not in TYPES:
        raise NotFound("No such file.")
    return _file(request, target)


def _file(request: Request, target: Path, cache: str | None = None) -> Response:
    stat = target.stat()
    etag = '"' + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16] + '"'
    cache = cache or (ICON_CACHE if target.parent.name == "icons" else ASSET_CACHE)
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(target.read_bytes(), media_type=TYPES[target.suffix], headers=headers)
