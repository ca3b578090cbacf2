"""Pages and static assets: the volunteer app, the manager dashboard, the map and market pages.

Everything is plain files under web/static (ES modules, CSS, icons) and web/templates (HTML
shells); there is no build step. web/assets.py gives scripts and styles URLs that carry a hash of
their content (and of what they import), so they are cached for a year (immutable), and keeps each
file compressed (brotli, gzip) in memory; a browser gets the encoding it asks for. The shells name
those URLs, preload the modules their page imports (one round trip for the whole module graph on a
slow network) and carry the few settings the browser needs as data attributes, so the strict CSP
(no inline script or style) holds. The service worker is served from /sw.js (scope /) with the
list of files to cache and a version derived from their contents and the shells' settings, so a
changed file or setting updates it. Leaflet and its marker clustering come from their XStatic
packages on PyPI (no CDN, no node toolchain) under /static/vendor/<versions>/, cached for a year.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from xstatic.pkg import leaflet as xs_leaflet
from xstatic.pkg import leaflet_markercluster as xs_markercluster

from core.errors import NotFound
from core.params import Id
from core.state import state_of
from web import assets
from web.assets import TYPES

router = APIRouter(include_in_schema=False)

WEB = Path(__file__).resolve().parent
STATIC = assets.STATIC
TEMPLATES = WEB / "templates"
# The shipped market list: its points are the reference points of the markets' wards.
MARKET_LIST = WEB.parent / "data" / "danang_markets.json"

# Shells are revalidated on every load (they are small and name the current assets). Scripts and
# styles named by their hashed URL never change: a year, immutable. Anything named by plain URL is
# revalidated (answers 304 cheaply); icons change rarely.
HTML_CACHE = "no-cache"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
ASSET_CACHE = "public, max-age=0, must-revalidate"
ICON_CACHE = "public, max-age=86400"
# Third-party browser libraries, by the name the pages use. Their URL names the package versions,
# so a browser may keep a file for a year: an upgrade changes every URL.
VENDOR = {"leaflet": xs_leaflet, "leaflet.markercluster": xs_markercluster}
VENDOR_TAG = "-".join(pkg.PACKAGE_VERSION for _, pkg in sorted(VENDOR.items()))
VENDOR_DIRS = {name: Path(pkg.BASE_DIR).resolve() for name, pkg in VENDOR.items()}
VENDOR_CACHE = IMMUTABLE_CACHE
# One HTML shell for every page: (title, entry module, layout class).
PAGES = {
    "app": ("Đăng ký sạp", "js/app.js", "layout-app"),
    "dashboard": ("Bảng điều khiển", "js/dashboard.js", "layout-wide"),
    "map": ("Bản đồ chợ", "js/mappage.js", "layout-wide"),
    "market": ("Chợ", "js/market.js", "layout-wide"),
    # The admin and manager console (web/static/js/console/): one page per section.
    "console": ("Quản trị", "js/console/index.js", "layout-wide"),
    "console-markets": ("Quản trị chợ", "js/console/markets.js", "layout-wide"),
    "console-import": ("Nhập danh sách sạp", "js/console/import.js", "layout-wide"),
    "console-people": ("Người dùng", "js/console/people.js", "layout-wide"),
    "console-rule": ("Tiêu chí chợ không tiền mặt", "js/console/rule.js", "layout-wide"),
    "console-partners": ("Đối tác", "js/console/partners.js", "layout-wide"),
    "console-requests": ("Yêu cầu về dữ liệu cá nhân", "js/console/requests.js", "layout-wide"),
    "console-audit": ("Nhật ký thao tác", "js/console/audit.js", "layout-wide"),
    "activity": ("Hoạt động", "js/activity.js", "layout-wide"),
    "teams": ("Tổ công nghệ số", "js/teams.js", "layout-wide"),
    "visits": ("Danh sách quay lại", "js/visits.js", "layout-wide"),
    "partner": ("Đối tác", "js/partner.js", "layout-wide"),
}
STYLESHEET = "css/app.css"
# The manager, console and partner pages' own rules, after app.css (every page but the volunteer app:
# its shell, which a tablet on 3G waits for, stays without them).
WIDE_STYLESHEET = "css/wide.css"
# What a page opened on a device that is signed in already shows first, without the sign-in form
# (the volunteer app: the worklist): its modules' URLs, so the page fetches them side by side at
# once instead of one import level at a time (app.js adds them as modulepreload links).
WARM = {
    "app": ("js/views/worklist.js", "js/lib/outbox.js", "js/lib/consents.js", "js/views/common.js")
}
# The copy of a page the service worker keeps (`?copy=device`, static/sw.js DEVICE_COPIES): a device
# that opens it has usually signed in already, so it lists the WARM modules as preloads too, read
# from the device while the page is parsed instead of after the app has started. The page the
# server sends a new device does not: on 3G they would compete with the sign-in form's own files.
DEVICE_COPY = "device"
# A classic script the device's copy runs while it is parsed, before any module: the first screen as
# the app last drew it on this device (static/js/instant.js; the volunteer app: the worklist).
INSTANT = {"app": "js/instant.js"}
# The pages the service worker keeps (every market page is the same shell).
SHELLS = ["/", "/dashboard", "/map", "/markets/1", "/manifest.webmanifest"]


def _settings_values(request: Request) -> dict[str, str]:
    """What the shells carry from the settings (part of the service worker's version)."""
    settings = state_of(request.app).settings
    return {
        "tile_url": settings.map_tile_url or "",
        "vendor": f"/static/vendor/{VENDOR_TAG}/",
        "notice_version": settings.notice_version,
        "lookup": "on" if settings.lookup_base_url else "off",
    }


def _template() -> str:
    return (TEMPLATES / "page.html").read_text(encoding="utf-8")


def _version(request: Request) -> str:
    """The version of everything a shell shows: files, templates, the service worker, settings."""
    digest = hashlib.sha256(assets.current().version.encode())
    digest.update(_template().encode())
    digest.update(json.dumps(_settings_values(request), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _page(request: Request, name: str) -> HTMLResponse:
    index = assets.current()
    title, script, layout = PAGES[name]
    preloads = index.preloads(script)
    first = {index.url(script), *preloads}
    warm = [
        url
        for entry in WARM.get(name, ())
        for url in (index.url(entry), *index.preloads(entry))
        if url not in first
    ]
    warm = list(dict.fromkeys(warm))
    device_copy = request.query_params.get("copy") == DEVICE_COPY
    if device_copy:
        preloads = [*preloads, *warm]
    scripts = (
        "".join(
            f'<link rel="modulepreload" href="{html.escape(url, quote=True)}">\n'
            for url in preloads
        )
        + f'<script type="module" src="{html.escape(index.url(script), quote=True)}"></script>\n'
    )
    head, after_main = scripts, ""
    if device_copy and name in INSTANT:
        # The modules after instant.js: in the head they arrived from the device with it and were
        # compiled first, which put its list 0.3-0.5 s later on a slow tablet (docs/benchmarks.md).
        url = html.escape(index.url(INSTANT[name]), quote=True)
        head, after_main = "", f'<script src="{url}"></script>\n' + scripts
    values = {
        "title": title,
        "warm": " ".join(warm),
        "layout": layout,
        "page": name,
        "version": _version(request),
        **_settings_values(request),
    }
    sheets = [STYLESHEET] if name == "app" else [STYLESHEET, WIDE_STYLESHEET]
    styles = "".join(
        f'<link rel="stylesheet" href="{html.escape(index.url(sheet), quote=True)}">\n'
        for sheet in sheets
    )
    text = _template()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(str(value), quote=True))
    text = text.replace("{{styles}}\n", styles)
    text = text.replace("{{scripts}}\n", head)
    text = text.replace("{{after_main}}\n", after_main)
    return HTMLResponse(text, headers={"Cache-Control": HTML_CACHE})


def not_found_page(request: Request) -> HTMLResponse:
    """What a browser shows at an address that is no page (core.errors.install): Vietnamese, with
    the ways into the app, instead of the API's problem+json."""
    sheet = html.escape(assets.current().url(STYLESHEET), quote=True)
    text = (
        '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>Chợ Số — Không tìm thấy trang</title>\n<link rel="stylesheet" href="{sheet}">\n'
        '</head>\n<body class="layout-wide">\n<main id="main"><div class="card" id="not-found">\n'
        "<h1>Không tìm thấy trang này</h1>\n"
        "<p>Địa chỉ này không có trang nào của Chợ Số: có thể gõ nhầm, hoặc trang đã đổi chỗ.</p>\n"
        '<p class="row-actions"><a class="btn btn-primary" href="/">Ứng dụng tình nguyện viên</a>'
        ' <a class="btn" href="/dashboard">Bảng điều khiển</a>'
        ' <a class="btn" href="/map">Bản đồ</a></p>\n</div></main>\n</body>\n</html>\n'
    )
    return HTMLResponse(text, status_code=404, headers={"Cache-Control": "no-store"})


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


@router.get("/console/audit")
async def console_audit(request: Request) -> HTMLResponse:
    """The audit log for administrators: what was done, by whom, to which record."""
    return _page(request, "console-audit")


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


@router.get("/partner")
async def partner_page(request: Request) -> HTMLResponse:
    """A partner's own page: its accounts by market, the accounts themselves, its report import."""
    return _page(request, "partner")


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    """The web app manifest (served from the root so the app's scope is the whole site)."""
    return _asset(request, "manifest.webmanifest")


@router.get("/sw.js")
async def service_worker(request: Request) -> Response:
    """The service worker, with the asset list and version filled in."""
    index = assets.current()
    text = index.assets["sw.js"].body.decode("utf-8")
    text = text.replace('"__VERSION__"', json.dumps(_version(request))).replace(
        '["__ASSETS__"]', json.dumps(SHELLS + index.urls())
    )
    return Response(
        text,
        media_type=TYPES[".js"],
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/favicon.ico")
async def favicon(request: Request) -> Response:
    """The icon browsers ask for by default."""
    return _asset(request, "icons/icon-192.png")


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
    return _send(request, _vendor_asset(str(target)), VENDOR_CACHE)


@functools.cache
def _vendor_asset(target: str) -> assets.Asset:
    path = Path(target)
    body = path.read_bytes()
    return assets.Asset(
        path=path.name,
        media_type=TYPES[path.suffix],
        body=body,
        version=hashlib.sha256(body).hexdigest()[:16],
    )


@router.get("/static/{path:path}")
async def static(request: Request, path: str) -> Response:
    """A shipped file: its type, an ETag, compressed when asked; immutable under its hashed URL."""
    return _asset(request, path)


def _asset(request: Request, path: str) -> Response:
    asset = assets.current().get(path)
    if asset is None:
        raise NotFound("No such file.")
    asked = request.query_params.get("v")
    if asset.version and asked == asset.version:
        cache = IMMUTABLE_CACHE
    elif path.startswith("icons/"):
        cache = ICON_CACHE
    else:  # a plain name, or a hash of an older version: revalidate
        cache = ASSET_CACHE
    return _send(request, asset, cache)


def _send(request: Request, asset: assets.Asset, cache: str) -> Response:
    """The asset in the best encoding the client accepts; 304 when its ETag still matches."""
    headers = {"Cache-Control": cache}
    coding = (
        assets.negotiate(request.headers.get("accept-encoding", "")) if asset.compressible else ""
    )
    body = asset.encoded(coding) if coding else None
    if body is None:
        coding, body = "", asset.body
    # One ETag per representation (RFC 9110 8.8.3): the encoding is part of it.
    headers["ETag"] = asset.etag[:-1] + (f"-{coding}" if coding else "") + '"'
    if asset.compressible:
        headers["Vary"] = "Accept-Encoding"
    if coding:
        headers["Content-Encoding"] = coding
    if _matches(request.headers.get("if-none-match", ""), asset):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=asset.media_type, headers=headers)


def _matches(if_none_match: str, asset: assets.Asset) -> bool:
    """Whether If-None-Match names any representation of the asset (weak comparison)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = asset.etag.strip('"')
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag in (bare, f"{bare}-br", f"{bare}-gzip"):
            return True
    return False
