"""Account-name lookup wired into registration and GET /api/lookup, against a loopback server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import db
from core.state import state_of
from tests.conftest import make_settings, stall_body

CLIENT_ID, API_KEY = "choso-test-client", "choso-test-api-key"
# What the "bank" says each account is called.
BANK_NAMES = {
    "0123456789": "LUU THI NGOC THUY",
    "2222222": "NGUYEN VAN A",
    "3333333": "TRAN THI BICH",
}


class BankStub:
    """A vietqr.io look-alike: /ok answers from BANK_NAMES, /down always 503."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.app = Starlette(routes=[Route("/{mode}/v2/lookup", self.lookup, methods=["POST"])])

    async def lookup(self, request: Request) -> Response:
        if (request.headers.get("x-client-id"), request.headers.get("x-api-key")) != (
            CLIENT_ID,
            API_KEY,
        ):
            return JSONResponse({"code": "11", "desc": "bad credentials"}, status_code=401)
        body = await request.json()
        self.calls[body["accountNumber"]] += 1
        if request.path_params["mode"] == "down":
            return Response("maintenance", status_code=503)
        name = BANK_NAMES.get(body["accountNumber"])
        if name is None:
            return JSONResponse({"code": "42", "desc": "Số tài khoản không tồn tại", "data": None})
        return JSONResponse({"code": "00", "desc": "Success", "data": {"accountName": name}})


@pytest.fixture(scope="module")
def bank() -> Iterator[tuple[BankStub, str]]:
    stub = BankStub()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            stub.app,
            lifespan="off",
            ws="none",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "stub server did not start"
        time.sleep(0.01)
    yield stub, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


async def _client_for(
    conn, pool, session_db, tmp_path, **settings
) -> AsyncIterator[httpx.AsyncClient]:
    from main import create_app

    application = create_app(make_settings(tmp_path, session_db, **settings))
    state_of(application).pool = pool
    state_of(application).http = httpx.AsyncClient(timeout=5)

    async def _conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
        yield conn  # get_conn's replacement (core.db.request_conn calls it with the request)

    application.dependency_overrides[db.get_conn] = _conn
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://test"
    ) as c:
        yield c
    await state_of(application).http.aclose()


@pytest.fixture
async def looked_up(conn, pool, session_db, tmp_path, bank) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose lookup provider is the loopback bank."""
    async for c in _client_for(
        conn,
        pool,
        session_db,
        tmp_path,
        lookup_base_url=f"{bank[1]}/ok",
        lookup_client_id=CLIENT_ID,
        lookup_api_key=API_KEY,
        lookup_timeout_s=2.0,
    ):
        yield c


@pytest.fixture
async def bank_down(conn, pool, session_db, tmp_path, bank) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client_for(
        conn,
        pool,
        session_db,
        tmp_path,
        lookup_base_url=f"{bank[1]}/down",
        lookup_client_id=CLIENT_ID,
        lookup_api_key=API_KEY,
        lookup_timeout_s=2.0,
    ):
        yield c


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def one_account(number: str, name: str | None) -> list[dict]:
    account = {"bin": "970422", "account_number": number, "partner_code": "MB"}
    if name is not None:
        account["account_name"] = name
    return [account]


@pytest.mark.parametrize(
    ("number", "entered", "check", "bank_name"),
    [
        ("0123456789", "Lưu Thị Ngọc Thùy", "matched", "LUU THI NGOC THUY"),
        ("2222222", "LUU THI NGOC THUY", "mismatch", "NGUYEN VAN A"),
        ("4040404", "LUU THI NGOC THUY", "not_found", None),
        ("3333333", None, "no_name", "TRAN THI BICH"),
    ],
)
async def test_registration_stores_the_name_check_as_a_warning(
    looked_up, auth, markets, number, entered, check, bank_name
):
    headers = await auth("volunteer")
    body = stall_body(payment_accounts=one_account(number, entered))
    r = await looked_up.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers | key()
    )
    assert r.status_code == 201, r.text
    [account] = r.json()["payment_accounts"]
    assert (account["name_check"], account["bank_account_name"]) == (check, bank_name)
    again = await looked_up.get(f"/api/stalls/{r.json()['id']}", headers=headers)
    assert again.json()["payment_accounts"][0]["name_check"] == check


async def test_a_provider_outage_never_blocks_registration(bank_down, bank, auth, markets):
    stub, _ = bank
    before = stub.calls["0123456789"]
    body = stall_body()
    r = await bank_down.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("volunteer") | key()
    )
    assert r.status_code == 201, r.text
    assert r.json()["payment_accounts"][0]["name_check"] == "unavailable"
    assert stub.calls["0123456789"] - before == 3  # one attempt and two retries


async def test_without_a_provider_the_check_is_disabled(client, auth, markets):
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body(),
        headers=await auth("volunteer") | key(),
    )
    assert r.status_code == 201
    account = r.json()["payment_accounts"][0]
    assert (account["name_check"], account["bank_account_name"]) == ("disabled", None)


async def test_a_replayed_registration_does_not_look_up_again(looked_up, bank, conn, auth, markets):
    stub, _ = bank
    headers = await auth("volunteer") | key()
    body = stall_body("R-1", payment_accounts=one_account("3333333", "TRAN THI BICH"))
    first = await looked_up.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers
    )
    calls = stub.calls["3333333"]
    again = await looked_up.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["payment_accounts"] == first.json()["payment_accounts"]
    assert stub.calls["3333333"] == calls
    audit = await conn.fetchval(
        "SELECT after FROM audit_log WHERE action = 'name_check' AND entity = 'payment_account' "
        "AND entity_id = $1",
        str(first.json()["payment_accounts"][0]["id"]),
    )
    assert audit == {"stall_id": first.json()["id"], "name_check": "matched"}


async def test_adding_an_account_checks_only_the_new_one(looked_up, bank, auth, markets):
    stub, _ = bank
    headers = await auth("volunteer")
    r = await looked_up.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body("R-2"), headers=headers | key()
    )
    calls = stub.calls["0123456789"]
    added = await looked_up.post(
        f"/api/stalls/{r.json()['id']}/payment-accounts",
        json={"bin": "970436", "account_number": "2222222", "account_name": "NGUYEN VAN A"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert [(a["account_number"], a["name_check"]) for a in added.json()["payment_accounts"]] == [
        ("0123456789", "matched"),
        ("2222222", "matched"),
    ]
    assert stub.calls["0123456789"] == calls


async def test_tablet_lookup_endpoint(looked_up, client, auth):
    headers = await auth("volunteer")
    r = await looked_up.get("/api/lookup?bin=970422&account_number=0123456789", headers=headers)
    assert r.status_code == 200
    assert r.json() == {"status": "found", "account_name": "LUU THI NGOC THUY", "detail": None}
    missing = await looked_up.get("/api/lookup?bin=970422&account_number=999", headers=headers)
    assert missing.json()["status"] == "not_found"
    off = await client.get(
        "/api/lookup?bin=970422&account_number=0123456789", headers=await auth("volunteer")
    )
    assert off.status_code == 200 and off.json()["status"] == "disabled"
    bad = await looked_up.get("/api/lookup?bin=123456&account_number=1", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_bin"
    for role in ("viewer", "partner"):
        r = await looked_up.get(
            "/api/lookup?bin=970422&account_number=0123456789", headers=await auth(role)
        )
        assert r.status_code == 403
    assert (await looked_up.get("/api/lookup?bin=970422&account_number=1")).status_code == 401
