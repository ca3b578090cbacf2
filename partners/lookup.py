"""Bank account-name lookup, so a volunteer can check the name printed on a stall's QR sign.

Lookups never raise for provider trouble: every outcome is a `LookupResult` the UI can show.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, Protocol

import asyncpg
import httpx

from core import audit
from core.state import AppState
from core.types import User
from coverage import counters
from partners import schemas
from partners.queries import names as names_q

LookupStatus = Literal["found", "not_found", "unavailable", "disabled"]
MAX_RESPONSE_BYTES = 64 * 1024
_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_RETRYABLE = (httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class LookupResult:
    """The outcome of one lookup; `detail` explains anything other than "found"."""

    status: LookupStatus
    account_name: str | None = None
    detail: str | None = None


class LookupProvider(Protocol):
    async def lookup(self, bin: str, account_number: str) -> LookupResult: ...


class DisabledLookup:
    """Used when no lookup provider is configured."""

    async def lookup(self, bin: str, account_number: str) -> LookupResult:
        return LookupResult("disabled", detail="account-name lookup is not configured")


class _Retry(Exception):
    """A failed attempt worth repeating (5xx, timeout, connection error)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class VietQRLookup:
    """Client for the vietqr.io-compatible `POST /v2/lookup` API."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        client_id: str,
        api_key: str,
        retries: int = 2,
        backoff_s: float = 0.2,
        timeout_s: float = 5.0,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/v2/lookup"
        self._headers = {"x-client-id": client_id, "x-api-key": api_key}
        self._retries = retries
        self._backoff_s = backoff_s
        self._timeout = httpx.Timeout(timeout_s)

    async def lookup(self, bin: str, account_number: str) -> LookupResult:
        if not _BIN.fullmatch(bin) or not _ACCOUNT.fullmatch(account_number):
            return LookupResult("not_found", detail="invalid bank BIN or account number")
        payload = {"bin": bin, "accountNumber": account_number}
        detail = "no attempt made"
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                return await self._attempt(payload)
            except _Retry as failure:
                detail = failure.detail
        return LookupResult("unavailable", detail=f"{detail} after {self._retries + 1} attempts")

    async def _attempt(self, payload: dict[str, str]) -> LookupResult:
        try:
            async with self._client.stream(
                "POST", self._url, json=payload, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status_code >= 500:
                    raise _Retry(f"provider answered HTTP {response.status_code}")
                if response.status_code >= 400:
                    return LookupResult(
                        "unavailable", detail=f"provider refused: HTTP {response.status_code}"
                    )
                body = await _read_capped(response)
        except httpx.TimeoutException as exc:
            raise _Retry("provider timed out") from exc
        except _RETRYABLE as exc:
            raise _Retry("provider unreachable") from exc
        except httpx.HTTPError as exc:
            return LookupResult("unavailable", detail=f"request failed: {type(exc).__name__}")
        if body is None:
            return LookupResult("unavailable", detail="response too large")
        return _interpret(body)


async def _read_capped(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _interpret(body: bytes) -> LookupResult:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return LookupResult("unavailable", detail="response is not JSON")
    if not isinstance(document, dict):
        return LookupResult("unavailable", detail="response is not a JSON object")
    code, desc, data = document.get("code"), document.get("desc"), document.get("data")
    if code != "00":
        reason = desc[:200] if isinstance(desc, str) and desc else f"code {code!r}"[:200]
        return LookupResult("not_found", detail=reason)
    name = data.get("accountName") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        return LookupResult("unavailable", detail="response has no account name")
    return LookupResult("found", account_name=" ".join(name.split()))


def names_match(entered: str, bank: str) -> bool:
    """Whether a typed name matches the bank's, ignoring accents, case and spacing."""
    left, right = _fold(entered), _fold(bank)
    return bool(left) and left == right


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("đ", "D").replace("Đ", "D").upper().split())


def lookup_provider(state: AppState) -> LookupProvider:
    """The configured lookup provider (vietqr.io compatible) on the app's shared HTTP client."""
    provider: LookupProvider | None = state.providers.get("lookup")
    if provider is not None:
        return provider
    settings = state.settings
    if (
        settings.lookup_base_url
        and settings.lookup_client_id
        and settings.lookup_api_key
        and state.http is not None
    ):
        provider = VietQRLookup(
            state.http,
            base_url=settings.lookup_base_url,
            client_id=settings.lookup_client_id,
            api_key=settings.lookup_api_key.get_secret_value(),
            timeout_s=settings.lookup_timeout_s,
        )
    else:
        provider = DisabledLookup()
    state.providers["lookup"] = provider
    return provider


async def lookup_account(
    provider: LookupProvider, *, bin: str, account_number: str
) -> schemas.LookupOut:
    """The bank's name for an account, as far as the provider can tell."""
    result = await provider.lookup(bin, account_number)
    return schemas.LookupOut(
        status=result.status, account_name=result.account_name, detail=result.detail
    )


def _name_check(entered: str | None, result: LookupResult) -> str:
    if result.status != "found":
        return result.status
    if not entered:
        return "no_name"
    assert result.account_name is not None
    return "matched" if names_match(entered, result.account_name) else "mismatch"


async def check_account_names(
    conn: asyncpg.Connection,
    *,
    provider: LookupProvider,
    user: User,
    stall_id: int,
    window_days: int,
) -> None:
    """Compare unchecked accounts' entered names with the bank's; store the outcome as a warning.

    Never blocks: every provider problem becomes a status. The lookups run outside any transaction;
    only the short write of the outcomes is one.
    """
    targets = await names_q.accounts_to_check(conn, stall_id=stall_id)
    if not targets:
        return
    results = await asyncio.gather(*(provider.lookup(t.bin, t.account_number) for t in targets))
    checks = {
        t.id: (_name_check(t.account_name, r), r.account_name)
        for t, r in zip(targets, results, strict=True)
    }
    async with conn.transaction():
        for account_id, (check, bank_name) in checks.items():
            await names_q.set_name_check(
                conn, account_id=account_id, check=check, bank_account_name=bank_name
            )
            await audit.record(
                conn,
                actor_id=user.id,
                action="name_check",
                entity="payment_account",
                entity_id=account_id,
                after={"stall_id": stall_id, "name_check": check},
            )
        for account_id, (check, _) in checks.items():
            if check == "matched":
                await counters.mark_name_matched(
                    conn,
                    stall_id=stall_id,
                    account_id=account_id,
                    user=user,
                    window_days=window_days,
                )
