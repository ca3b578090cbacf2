"""Authorisation matrix: every route of the OpenAPI schema x every kind of caller.

A route without a rule in RULES fails `test_route_follows_its_rule[...]` with its name, so a new
route cannot ship without someone deciding who may call it. The point is authentication and
authorisation: for an allowed caller any answer below 500 other than 401/403/404 passes (a 422 for
the minimal body is fine); a denied caller must get exactly the status in the rule.

Rule format (add one line per new route):
    ("METHOD", "/path/{param}"): only("admin", "manager", body={...})
    - everyone(...)       public, no sign-in; every caller gets the same status (tokens are ignored)
    - signed(...)         authenticated by a partner's signature; same status for every caller
    - signed_in(...)      any active signed-in user; anonymous and deactivated callers 401
    - only(*roles, ...)   those roles; other signed-in roles 403; anonymous/deactivated 401
    - keyword overrides per caller: viewer=404, partner=OK ... (partner_key follows partner)
    - request parts: json=, form=, files=, query=, headers= (values, or callables of the seeded ids)
Path parameters are filled from the `seeded` fixture (objects in market "one"); a new parameter name
needs a value there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from core.settings import Settings
from tests.conftest import TEST_PASSWORD, make_token, stall_body

CALLERS = (
    "anonymous",
    "admin",
    "manager",
    "volunteer",
    "viewer",
    "partner",
    "partner_key",
    "deactivated",
)
SIGNED_IN = ("admin", "manager", "volunteer", "viewer", "partner", "partner_key")
OK = "ok"  # allowed: any status < 500 except 401, 403, 404
ANY = "any"  # any status < 500 (routes that authenticate by signature; disabled until configured)
DENIED = (401, 403, 404)

Value = Any  # a value, or a callable taking the seeded ids


@dataclass(frozen=True)
class Rule:
    expect: dict[str, int | str]
    same_for_all: bool = False
    json: Value = None
    form: Value = None
    files: Value = None
    query: Value = None
    headers: Value = None
    extra: dict[str, Any] = field(default_factory=dict)


def _rule(expect: dict[str, int | str], overrides: dict[str, Any], **kw: Any) -> Rule:
    parts = {
        k: overrides.pop(k) for k in ("json", "form", "files", "query", "headers") if k in overrides
    }
    unknown = set(overrides) - set(CALLERS)
    assert not unknown, f"unknown callers in rule: {unknown}"
    if "partner" in overrides and "partner_key" not in overrides:
        overrides["partner_key"] = overrides["partner"]
    return Rule(expect=expect | overrides, **parts, **kw)


def everyone(**overrides: Any) -> Rule:
    """Public: no sign-in needed, and a token (valid or not) changes nothing."""
    return _rule(dict.fromkeys(CALLERS, OK), overrides, same_for_all=True)


def signed(**overrides: Any) -> Rule:
    """Authenticated by a partner's signature, not by a user: every caller gets the same answer."""
    return _rule(dict.fromkeys(CALLERS, ANY), overrides, same_for_all=True)


def signed_in(**overrides: Any) -> Rule:
    """Any active signed-in user."""
    return _rule(dict.fromkeys(CALLERS, OK) | {"anonymous": 401, "deactivated": 401}, overrides)


def only(*roles: str, **overrides: Any) -> Rule:
    """Only these roles; other signed-in users 403."""
    expect: dict[str, int | str] = {c: (OK if c in roles else 403) for c in SIGNED_IN}
    if "partner" in roles:
        expect["partner_key"] = OK
    return _rule(expect | {"anonymous": 401, "deactivated": 401}, overrides)


def _point(ids: dict[str, Any]) -> dict[str, Any]:
    return {"partner_code": "MB", "market_id": ids["market_id"], "kind": "cash", "name": "Quầy"}


FIELD = ("admin", "manager", "volunteer")  # roles that read personal data and do field work
RIGHTS = ("admin", "manager")  # data-subject rights (export, erase)
_STALL = "/api/stalls/{stall_id}"
_HOLDER = "/api/stallholders/{stallholder_id}"
_PNG = ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")


def _new_stall(ids: dict[str, Any]) -> dict:
    return stall_body(f"M-{uuid.uuid4().hex[:6]}", confirm_duplicate=True)


def _new_account(ids: dict[str, Any]) -> dict:
    return {"bin": "970436", "account_number": str(uuid.uuid4().int)[:12]}


def _onboarding(ids: dict[str, Any]) -> dict:
    return {"payment_account_id": ids["account_id"], "partner_code": "MB", "channel": "field_visit"}


RULES: dict[tuple[str, str], Rule] = {
    # --- operations and sign-in
    ("GET", "/healthz"): everyone(),
    ("POST", "/api/auth/token"): everyone(form={"username": "admin", "password": TEST_PASSWORD}),
    ("POST", "/api/auth/logout"): signed_in(),
    # --- users (admins), one's own account
    ("GET", "/api/users/me"): signed_in(),
    ("POST", "/api/users/me/password"): signed_in(json={}),
    ("GET", "/api/audit-log"): only("admin"),
    ("GET", "/api/users"): only("admin"),
    ("POST", "/api/users"): only("admin", json={}),
    ("GET", "/api/users/{user_id}"): only("admin"),
    ("PATCH", "/api/users/{user_id}"): only("admin", json={}),
    ("POST", "/api/users/{user_id}/api-keys"): only("admin", json={}),
    ("GET", "/api/users/{user_id}/api-keys"): only("admin"),
    ("DELETE", "/api/users/{user_id}/api-keys/{key_id}"): only("admin"),
    ("POST", "/api/users/{user_id}/password-reset"): only("admin"),
    # --- markets and stalls: scoped; viewers see markets (numbers), never stall records
    ("GET", "/api/markets"): signed_in(),
    ("POST", "/api/markets"): only("admin", json={}),
    ("GET", "/api/markets/{market_id}"): signed_in(partner=404),
    # corrections and archive: admins, and managers for the markets in their scope
    ("PATCH", "/api/markets/{market_id}"): only(
        "admin", "manager", json={"address": "x"}, headers={"If-Match": "999"}
    ),
    ("POST", "/api/markets/{market_id}/archive"): only("admin", "manager", json={"reason": "x"}),
    ("POST", "/api/markets/{market_id}/unarchive"): only("admin", "manager", json={"reason": "x"}),
    ("POST", "/api/markets/{market_id}/stalls"): only(
        *FIELD, json=_new_stall, headers=lambda ids: {"Idempotency-Key": str(uuid.uuid4())}
    ),
    ("GET", "/api/markets/{market_id}/stalls"): only(*FIELD),
    ("GET", _STALL): only(*FIELD),
    ("GET", _STALL + "/history"): only(*FIELD),
    ("GET", _STALL + "/visits"): only(*FIELD),
    ("GET", "/api/markets/{market_id}/appointments"): only(*FIELD),
    # Assigning: administrators, managers and team leaders (volunteers who lead a team working in
    # the market, not a role of their own: the seeded volunteer leads none and gets 403
    # not_assigner, after its body was read; tests/merchants/test_assignments.py).
    ("PUT", _STALL + "/assignment"): only(
        "admin", "manager", volunteer=ANY, json={"user_id": None}
    ),
    ("GET", "/api/markets/{market_id}/assignees"): only("admin", "manager", volunteer=ANY),
    ("GET", _STALL + "/assignment"): only(*FIELD),
    ("GET", "/api/markets/{market_id}/assignments"): only(*FIELD),
    ("GET", "/api/assignments/mine"): only(*FIELD),
    ("POST", _STALL + "/visits"): only(
        *FIELD,
        json={"outcome": "absent"},
        headers=lambda ids: {"Idempotency-Key": str(uuid.uuid4())},
    ),
    ("PATCH", _STALL): only(*FIELD, json={"goods": "Cá"}, headers={"If-Match": "999"}),
    ("POST", _STALL + "/payment-accounts"): only(*FIELD, json=_new_account),
    ("PATCH", _STALL + "/payment-accounts/{account_id}"): only(
        *FIELD, json={"account_name": "NGUYEN VAN A", "reason": "x"}
    ),
    ("POST", _STALL + "/payment-accounts/{account_id}/deactivate"): only(
        *FIELD, json={"reason": "x"}
    ),
    ("POST", _STALL + "/payment-accounts/{account_id}/reactivate"): only(
        *FIELD, json={"reason": "x"}
    ),
    # --- personal data: consent (field roles), rights (admins, managers in scope)
    ("GET", "/api/consent-notice"): everyone(),  # what stallholders are told is public
    ("GET", "/api/consent-notices/{version}"): everyone(),
    ("GET", _HOLDER + "/consents"): only(*FIELD),
    ("POST", _HOLDER + "/consents"): only(
        *FIELD, json={"notice_version": "2026-01", "purposes": ["share_partner:MB"]}
    ),
    ("POST", _HOLDER + "/consents/withdraw"): only(
        *FIELD, json={"purposes": ["share_partner:MOMO"]}
    ),
    ("POST", _HOLDER + "/export"): only(*RIGHTS),
    ("POST", _HOLDER + "/erase"): only(*RIGHTS),
    ("GET", _HOLDER + "/access-log"): only(*RIGHTS),
    ("GET", "/api/data-requests"): only(*RIGHTS),
    # --- VietQR: the bank directory is public; encode/decode/scan are tools for any signed-in user;
    #     a stall's QR and sign show its account, so field roles only (viewers and partners 403)
    ("GET", "/api/banks"): everyone(),
    ("GET", "/api/admin-units"): signed_in(),
    ("POST", "/api/qr/encode"): signed_in(json={"bin": "970422", "account_number": "0123456789"}),
    ("POST", "/api/qr/decode"): signed_in(json={"payload": "000201"}),
    ("POST", "/api/qr/scan"): signed_in(files={"file": _PNG}),
    ("GET", _STALL + "/qr.png"): only(*FIELD),
    ("GET", _STALL + "/qr.svg"): only(*FIELD),
    ("GET", _STALL + "/sign.pdf"): only(*FIELD),
    # (the market's sign sheet answers 404 to roles that never print: the QR module's choice)
    ("GET", "/api/markets/{market_id}/signs.pdf"): only(*FIELD, viewer=404, partner=404),
    # --- partners: native notifications authenticate by signature (disabled until configured)
    ("POST", "/api/partners/momo/ipn"): signed(json={}),
    ("GET", "/api/partners/vnpay/ipn"): signed(query={"vnp_TxnRef": "1"}),
    ("POST", "/api/partners/zalopay/callback"): signed(json={}),
    ("POST", "/api/partners/payos/webhook"): signed(json={}),
    ("POST", "/api/partners/{code}/events"): signed(json={}),
    ("GET", "/api/partners"): signed_in(),
    ("GET", "/api/partners/{code}"): signed_in(),
    ("PUT", "/api/partners/{code}/credentials"): only("admin", json={}),
    ("PUT", "/api/partners/{code}/support"): only("admin", json={"support_phone": None}),
    # Service points: every signed-in role reads (in scope; a partner its own points); admins,
    # managers and partners record them. The seeded point is MB's in market "one": the admin
    # removes it first, so the manager and the partner (both allowed) find it gone.
    ("GET", "/api/service-points"): signed_in(),
    ("POST", "/api/service-points"): only("admin", "manager", "partner", json=_point),
    ("DELETE", "/api/service-points/{point_id}"): only(
        "admin", "manager", "partner", manager=404, partner=404
    ),
    # partners record and move their own onboardings
    ("POST", _STALL + "/onboardings"): only(*FIELD, "partner", json=_onboarding),
    ("GET", _STALL + "/onboardings"): only(*FIELD, "partner"),
    ("GET", "/api/partners/{code}/stats"): signed_in(),
    ("GET", "/api/partners/{code}/stats.xlsx"): signed_in(),
    # a partner user reads its own partner's accounts (code MB here); viewers never see accounts
    ("GET", "/api/partners/{code}/accounts"): only(*FIELD, "partner"),
    ("GET", "/api/partners/{code}/unmatched"): only("admin"),
    ("GET", "/api/partners/{code}/notifications"): only("admin"),
    ("POST", "/api/partners/{code}/imports"): only(
        "admin",
        "partner",
        query={"dry_run": "true"},
        files={"file": ("report.csv", b"account_number,status\r\n", "text/csv")},
    ),
    ("GET", "/api/lookup"): only(*FIELD, query={"bin": "970422", "account_number": "0123456789"}),
    # --- coverage: numbers for every reading role; partners are not in any market's scope
    ("GET", "/api/programme/rule"): signed_in(),
    ("PUT", "/api/programme/rule"): only("admin", json={}),
    ("POST", "/api/programme/rule/preview"): only("admin", json={}),
    ("GET", "/api/programme/rule/versions"): signed_in(),
    ("POST", "/api/programme/rule/versions/{rule_version}/withdraw"): only("admin"),
    ("GET", _STALL + "/coverage"): signed_in(partner=404),
    ("POST", _STALL + "/sign-delivered"): only(*FIELD),
    ("POST", _STALL + "/sign-printed"): only(*FIELD),
    ("POST", "/api/markets/{market_id}/print-jobs"): only(*FIELD, json={}),
    ("GET", "/api/print-jobs/{job_id}"): only(*FIELD),
    ("GET", "/api/print-jobs/{job_id}/signs.pdf"): only(*FIELD),
    ("POST", "/api/print-jobs/{job_id}/confirm"): only(*FIELD, json={}),
    ("POST", _STALL + "/verify"): only(*FIELD, json={"payload": "000201010211"}),
    ("POST", _STALL + "/verify-image"): only(*FIELD, files={"image": _PNG}),
    ("POST", _STALL + "/fees-cashless"): only(*FIELD, json={"value": True}),
    ("GET", "/api/markets/{market_id}/coverage"): signed_in(partner=404),
    ("GET", "/api/markets/{market_id}/confirm-by"): signed_in(partner=404),
    ("GET", "/api/markets/{market_id}/support"): signed_in(partner=404),
    ("GET", "/api/markets/{market_id}/also-accepts"): signed_in(partner=404),
    ("GET", "/api/support-package"): signed_in(partner=403, query={"province": "48"}),
    ("GET", _STALL + "/support"): only(*FIELD),
    ("POST", _STALL + "/support"): only(*FIELD, json={"items": {"e_invoice": "offered"}}),
    ("GET", _STALL + "/takings"): only(*FIELD),
    ("GET", "/api/markets/{market_id}/stall-tiles"): signed_in(partner=404),
    ("GET", "/api/markets/{market_id}/status-history"): signed_in(partner=404),
    ("GET", "/api/markets/{market_id}/report.pdf"): signed_in(partner=404),
    # (drill-down filters: an area limits the numbers, the scope still applies)
    ("GET", "/api/coverage"): signed_in(partner=403, query={"group_by": "ward", "province": "48"}),
    ("GET", "/api/coverage/history"): signed_in(partner=403, query={"ward": "20242"}),
    ("GET", "/api/coverage/markets.geojson"): signed_in(partner=403, query={"ward": "20242"}),
    # exports carry personal fields only for roles allowed to see them
    ("GET", "/api/exports/stalls.csv"): signed_in(partner=403),
    ("GET", "/api/exports/stalls.geojson"): signed_in(partner=403),
    ("GET", "/api/exports/stalls.xlsx"): signed_in(partner=403),
    ("GET", "/api/exports/markets.xlsx"): signed_in(partner=403),
    # --- stall list imports: administrators and the market's managers; the template is public
    # to any signed-in user (headers, an example and the bank list: nothing personal)
    ("POST", "/api/markets/{market_id}/stalls/import"): only(
        "admin",
        "manager",
        query={"dry_run": "true"},
        files={"file": ("ds.csv", "Mã sạp,Họ tên\nM-1,Lê Văn An\n".encode(), "text/csv")},
    ),
    ("GET", "/api/stalls/import-template.xlsx"): signed_in(),
    ("GET", "/api/coverage/ranking"): signed_in(partner=403),
    ("GET", "/api/markets/{market_id}/return-visits"): signed_in(partner=404),
    # --- teams: admins and managers manage them; a volunteer reads their own team
    ("POST", "/api/teams"): only(
        "admin",
        "manager",
        json=lambda ids: {"name": f"Tổ {uuid.uuid4().hex[:6]}", "ward_code": "20242"},
    ),
    ("GET", "/api/teams"): only(*FIELD),
    ("GET", "/api/teams/candidates"): only(*RIGHTS),
    ("GET", "/api/teams/{team_id}"): only(*FIELD),
    ("PATCH", "/api/teams/{team_id}"): only(*RIGHTS, json={"name": "Tổ Thử"}),
    ("GET", "/api/teams/{team_id}/return-visits"): only(*FIELD),
    # --- field activity: numbers for every reading role (names only where people may be seen)
    ("GET", "/api/activity"): signed_in(partner=403),
    ("GET", "/api/activity.csv"): signed_in(partner=403),
    ("GET", "/api/activity.xlsx"): signed_in(partner=403),
}


# ---------------------------------------------------------------- the routes of the app


def _app_routes() -> list[tuple[str, str]]:
    from main import create_app

    settings = Settings(
        secret_key=SecretStr("matrix"), database_url="postgresql://unused/unused", demo_data=False
    )
    app = create_app(settings)
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


ROUTES = _app_routes()


def test_every_rule_names_a_route_that_exists():
    stale = sorted(set(RULES) - set(ROUTES))
    assert not stale, f"rules for routes the app no longer has: {stale}"


# ---------------------------------------------------------------- seeded objects and callers


@pytest.fixture
async def seeded(client, conn, auth, markets) -> dict[str, Any]:
    """Objects the path parameters point at, all in market 'one' (every scoped caller's scope)."""
    admin = await auth("admin")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("MX-1"),
        headers=admin | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    partner_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    caller_key = await client.post(
        f"/api/users/{partner_id}/api-keys", json={"label": "caller"}, headers=admin
    )
    spare_key = await client.post(
        f"/api/users/{partner_id}/api-keys", json={"label": "spare"}, headers=admin
    )
    assert caller_key.status_code == spare_key.status_code == 201
    volunteer_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    team = await client.post(
        "/api/teams",
        json={
            "name": "Tổ Ma Trận",
            "ward_code": "20242",
            "member_ids": [volunteer_id],
            "market_ids": [markets["one"]],
        },
        headers=admin,
    )
    assert team.status_code == 201, team.text
    gone = await conn.fetchval(
        "INSERT INTO app_user (username, password_hash, role, active) "
        "SELECT 'gone', password_hash, 'admin', false FROM app_user WHERE username = 'admin' "
        "RETURNING id"
    )
    job = await client.post(f"/api/markets/{markets['one']}/print-jobs", json={}, headers=admin)
    assert job.status_code == 201, job.text
    point = await client.post(
        "/api/service-points", json=_point({"market_id": markets["one"]}), headers=admin
    )
    assert point.status_code == 201, point.text
    return {
        "point_id": point.json()["id"],
        "job_id": job.json()["id"],
        "market_id": markets["one"],
        "stall_id": stall["id"],
        "stallholder_id": stall["holder"]["id"],
        "account_id": stall["payment_accounts"][0]["id"],
        "user_id": partner_id,
        "key_id": spare_key.json()["id"],
        "code": "MB",
        "version": "2026-01",
        "rule_version": 1,
        "partner_api_key": caller_key.json()["key"],
        "deactivated_user": gone,
        "team_id": team.json()["id"],
    }


async def caller_headers(conn, caller: str, ids: dict[str, Any]) -> dict[str, str]:
    """Fresh credentials per request (a logout by one request must not change the next)."""
    if caller == "anonymous":
        return {}
    if caller == "partner_key":
        return {"X-API-Key": ids["partner_api_key"]}
    if caller == "deactivated":
        return {"Authorization": f"Bearer {await make_token(conn, 'gone')}"}
    return {"Authorization": f"Bearer {await make_token(conn, caller)}"}


def _resolve(value: Value, ids: dict[str, Any]) -> Any:
    return value(ids) if callable(value) else value


def _path(template: str, ids: dict[str, Any]) -> str:
    path = template
    for name in [p.split("}")[0] for p in template.split("{")[1:]]:
        assert name in ids, (
            f"no seeded value for path parameter {{{name}}}: add it to the `seeded` fixture"
        )
        path = path.replace("{" + name + "}", str(ids[name]))
    return path


async def call(
    client, conn, method: str, template: str, rule: Rule, caller: str, ids: dict[str, Any]
):
    headers = (_resolve(rule.headers, ids) or {}) | await caller_headers(conn, caller, ids)
    kwargs: dict[str, Any] = {"headers": headers, "params": _resolve(rule.query, ids)}
    if rule.json is not None:
        kwargs["json"] = _resolve(rule.json, ids)
    if rule.form is not None:
        kwargs["data"] = _resolve(rule.form, ids)
    if rule.files is not None:
        kwargs["files"] = _resolve(rule.files, ids)
    return await client.request(method, _path(template, ids), **kwargs)


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_route_follows_its_rule(client, conn, seeded, method, path):
    rule = RULES.get((method, path))
    assert rule is not None, (
        f"No authorisation rule for {method} {path}: add one to RULES in tests/test_authz_matrix.py"
    )
    problems, statuses = [], {}
    for caller in CALLERS:
        r = await call(client, conn, method, path, rule, caller, seeded)
        statuses[caller] = r.status_code
        expected = rule.expect[caller]
        if r.status_code >= 500:
            problems.append(f"{caller}: {r.status_code} {r.text[:200]}")
        elif expected == OK and r.status_code in DENIED:
            problems.append(f"{caller}: expected to be allowed, got {r.status_code} {r.text[:200]}")
        elif expected not in (OK, ANY) and r.status_code != expected:
            problems.append(f"{caller}: expected {expected}, got {r.status_code} {r.text[:200]}")
    if rule.same_for_all and len(set(statuses.values())) > 1:
        problems.append(f"a public route answered differently per caller: {statuses}")
    assert not problems, f"{method} {path}\n" + "\n".join(problems)
