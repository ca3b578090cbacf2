"""Account-name lookup against a real HTTP server on 127.0.0.1 (no patching)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from partners.lookup import DisabledLookup, LookupResult, VietQRLookup, names_match

CLIENT_ID, API_KEY = "test-client", "test-key"
FOUND = {"code": "00", "desc": "Success", "data": {"accountName": "NGUYEN  VAN A"}}
SLOW_S = 1.0
_accounts = itertools.count(100000)


class ProviderStub:
    """A tiny vietqr.io look-alike; the first path segment picks its behaviour."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.app = Starlette(routes=[Route("/{mode}/v2/lookup", self.lookup, methods=["POST"])])

    async def lookup(self, request: Request) -> Response:
        mode = request.path_params["mode"]
        if (request.headers.get("x-client-id"), request.headers.get("x-api-key")) != (
            CLIENT_ID,
            API_KEY,
        ):
            return JSONResponse({"code": "11", "desc": "bad credentials"}, status_code=401)
        body = await request.json()
        if set(body) != {"bin", "accountNumber"}:
            return JSONResponse({"code": "12", "desc": "bad body"}, status_code=422)
        key = (mode, body["accountNumber"])
        self.calls[key] += 1
        if mode == "slow":
            await asyncio.sleep(SLOW_S)
        if mode == "flaky" and self.calls[key] == 1:
            return Response("boom", status_code=500)
        if mode == "down":
            return Response("maintenance", status_code=503)
        if mode == "bad-request":
            return JSONResponse({"code": "01", "desc": "invalid"}, status_code=400)
        if mode == "not-found":
            return JSONResponse({"code": "42", "desc": "Số tài khoản không tồn tại", "data": None})
        if mode == "garbage":
            return Response("<html>oops</html>", media_type="text/html")
        if mode == "huge":
            return JSONResponse({**FOUND, "padding": "x" * 1_000_000})
        if mode == "no-name":
            return JSONResponse({"code": "00", "desc": "Success", "data": {}})
        return JSONResponse(FOUND)


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[ProviderStub, str]]:
    stub = ProviderStub()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        stub.app,
        lifespan="off",
        ws="none",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "stub server did not start"
        time.sleep(0.01)
    yield stub, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # A generous client default: the lookup's own per-request timeout must be what applies.
    async with httpx.AsyncClient(timeout=30) as shared:
        yield shared


def make_lookup(client: httpx.AsyncClient, base_url: str, **options: float) -> VietQRLookup:
    settings = {"retries": 2, "backoff_s": 0.01, "timeout_s": 2.0, **options}
    return VietQRLookup(
        client,
        base_url=base_url,
        client_id=CLIENT_ID,
        api_key=API_KEY,
        retries=int(settings["retries"]),
        backoff_s=settings["backoff_s"],
        timeout_s=settings["timeout_s"],
    )


def new_account() -> str:
    return f"0{next(_accounts)}"


async def test_found_returns_the_bank_name(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    account = new_account()
    result = await make_lookup(client, f"{url}/ok/").lookup("970422", account)
    assert result == LookupResult("found", account_name="NGUYEN VAN A")
    assert stub.calls["ok", account] == 1


async def test_wrong_credentials_are_refused_without_retry(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    _, url = provider
    lookup = VietQRLookup(client, base_url=f"{url}/ok", client_id=CLIENT_ID, api_key="wrong")
    result = await lookup.lookup("970422", new_account())
    assert result == LookupResult("unavailable", detail="provider refused: HTTP 401")


async def test_unknown_account_is_not_found(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    _, url = provider
    result = await make_lookup(client, f"{url}/not-found").lookup("970422", new_account())
    assert result == LookupResult("not_found", detail="Số tài khoản không tồn tại")


async def test_invalid_input_is_not_sent(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    before = sum(stub.calls.values())
    for bin_, account in [("97042", "0123456"), ("970422", ""), ("970422", "1" * 20)]:
        result = await make_lookup(client, f"{url}/ok").lookup(bin_, account)
        assert result.status == "not_found"
    assert sum(stub.calls.values()) == before


async def test_slow_provider_times_out_per_request_and_retries(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    account = new_account()
    started = time.monotonic()
    result = await make_lookup(client, f"{url}/slow", retries=1, timeout_s=0.2).lookup(
        "970422", account
    )
    elapsed = time.monotonic() - started
    assert result == LookupResult("unavailable", detail="provider timed out after 2 attempts")
    assert elapsed < SLOW_S
    assert stub.calls["slow", account] == 2


async def test_server_error_then_success_is_retried(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    account = new_account()
    result = await make_lookup(client, f"{url}/flaky").lookup("970422", account)
    assert result == LookupResult("found", account_name="NGUYEN VAN A")
    assert stub.calls["flaky", account] == 2


async def test_persistent_server_error_backs_off_exponentially_then_gives_up(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    account = new_account()
    started = time.monotonic()
    result = await make_lookup(client, f"{url}/down", retries=2, backoff_s=0.1).lookup(
        "970422", account
    )
    assert time.monotonic() - started >= 0.1 + 0.2
    assert result == LookupResult(
        "unavailable", detail="provider answered HTTP 503 after 3 attempts"
    )
    assert stub.calls["down", account] == 3


async def test_client_error_is_not_retried(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient
) -> None:
    stub, url = provider
    account = new_account()
    result = await make_lookup(client, f"{url}/bad-request").lookup("970422", account)
    assert result == LookupResult("unavailable", detail="provider refused: HTTP 400")
    assert stub.calls["bad-request", account] == 1


@pytest.mark.parametrize(
    ("mode", "detail"),
    [
        ("garbage", "response is not JSON"),
        ("huge", "response too large"),
        ("no-name", "response has no account name"),
    ],
)
async def test_unusable_responses_are_unavailable(
    provider: tuple[ProviderStub, str], client: httpx.AsyncClient, mode: str, detail: str
) -> None:
    stub, url = provider
    account = new_account()
    result = await make_lookup(client, f"{url}/{mode}").lookup("970422", account)
    assert result == LookupResult("unavailable", detail=detail)
    assert stub.calls[mode, account] == 1


async def test_connection_refused_is_retried_then_unavailable(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    lookup = make_lookup(client, f"http://127.0.0.1:{closed_port}", retries=2)
    result = await lookup.lookup("970422", new_account())
    assert result == LookupResult("unavailable", detail="provider unreachable after 3 attempts")


async def test_disabled_lookup() -> None:
    result = await DisabledLookup().lookup("970422", "0123456789")
    assert result.status == "disabled"
    assert result.account_name is None


@pytest.mark.parametrize(
    ("entered", "bank", "expected"),
    [
        ("Nguyễn Văn A", "NGUYEN VAN A", True),
        ("  nguyễn   văn\ta ", "NGUYEN VAN A", True),
        (unicodedata.normalize("NFD", "Trần Thị Ánh"), "TRAN THI ANH", True),
        ("Đỗ Thị Hoa", "DO THI HOA", True),
        ("đặng văn đức", "DANG VAN DUC", True),
        ("Nguyen Van An", "NGUYEN VAN A", False),
        ("Nguyen Van B", "NGUYEN VAN A", False),
        ("Van A Nguyen", "NGUYEN VAN A", False),
        ("", "", False),
        ("   ", "NGUYEN VAN A", False),
    ],
)
def test_names_match(entered: str, bank: str, expected: bool) -> None:
    assert names_match(entered, bank) is expected
