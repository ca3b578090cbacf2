"""The registration route's direct path (merchants.router._RegistrationRoute): an ordinary request
skips FastAPI's parameter solving, and every request it does not take gets FastAPI's own answer."""

from __future__ import annotations

import json
import uuid

import fastapi.routing
import pytest

from merchants import router as merchants_router
from tests.conftest import stall_body


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests FastAPI solved parameters for (its standard handler ran)."""
    seen: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def counting(*, request, **kw):  # type: ignore[no-untyped-def]
        seen.append(request.url.path)
        return await solve(request=request, **kw)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return seen


async def test_an_ordinary_registration_takes_the_direct_path(client, auth, markets, solved):
    path = f"/api/markets/{markets['one']}/stalls"
    headers = await auth("volunteer") | {"Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(path, json=stall_body(), headers=headers)
    assert r.status_code == 201, r.text
    assert path not in solved
    again = await client.post(path, json=stall_body(), headers=headers)  # a retry, the same way
    assert again.json()["id"] == r.json()["id"] and path not in solved
    bad = await client.post(path, json=stall_body(stall_code=""), headers=headers)
    assert bad.status_code == 422 and solved.count(path) == 1  # a refusal is FastAPI's


def _requests(market: int) -> list[tuple[str, str, dict[str, str], bytes]]:
    path = f"/api/markets/{market}/stalls"
    body = json.dumps(stall_body()).encode()
    as_json = {"Content-Type": "application/json"}
    return [
        ("no JSON", path, as_json, b"{not json"),
        ("empty body", path, as_json, b""),
        ("an array", path, as_json, b"[1, 2]"),
        ("NaN", path, as_json, body.replace(b"16.06", b"NaN") if b"16.06" in body else b"NaN"),
        ("field fails", path, as_json, json.dumps(stall_body(stall_code="")).encode()),
        ("no content type", path, {}, body),
        ("text/plain", path, {"Content-Type": "text/plain"}, body),
        ("+json type", path, {"Content-Type": "application/merge-patch+json"}, body),
        ("charset", path, {"Content-Type": "application/json; charset=utf-8"}, body),
        ("leading zero id", f"/api/markets/0{market}/stalls", as_json, body),
        ("zero id", "/api/markets/0/stalls", as_json, body),
        ("signed id", f"/api/markets/+{market}/stalls", as_json, body),
        ("huge id", "/api/markets/99999999999999999999/stalls", as_json, body),
        ("over the id range", f"/api/markets/{2**63}/stalls", as_json, body),
        ("not a number", "/api/markets/abc/stalls", as_json, body),
        ("unknown market", "/api/markets/987654321/stalls", as_json, body),
    ]


@pytest.mark.parametrize("case", range(16))
async def test_every_other_request_gets_the_answer_fastapi_gives(
    client, auth, markets, monkeypatch, case
):
    name, path, headers, body = _requests(markets["one"])[case]
    auth_headers = await auth("volunteer")

    async def send(n: int):  # type: ignore[no-untyped-def]
        # Another stall (code and phone) each time, so that a success is not a duplicate next.
        content = body.replace(b"A-12", b"Z-%d" % n).replace(b"0905 123 456", b"0905 123 45%d" % n)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        r = await client.post(path, content=content, headers=auth_headers | headers | key)
        answer = r.json()
        if r.status_code == 201:  # what two registrations share
            answer = {k: answer[k] for k in ("market_id", "zone", "goods", "version", "status")}
        return r.status_code, r.headers.get("content-type"), answer

    direct = await send(1)
    with monkeypatch.context() as m:
        m.setattr(merchants_router, "plain_id", lambda raw: None)  # FastAPI's handler only
        standard = await send(2)
    assert direct == standard, name
