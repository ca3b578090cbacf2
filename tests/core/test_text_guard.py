"""Text PostgreSQL cannot store (NUL, a lone surrogate) is a 422 `invalid_text` naming the field,
whatever route it is sent to, and changes nothing (core/middleware.py RefuseUnstorableText)."""

from __future__ import annotations

import uuid

import pytest

from merchants.queries import stalls as stalls_q
from tests.conftest import TEST_PASSWORD, stall_body


def assert_invalid_text(r, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "invalid_text" and problem["field"] == field, problem


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/banks", "q=Vi%00et", "q"),
        ("/api/markets/{one}/stalls", "q=a%00", "q"),
        ("/api/markets/{one}/signs.pdf", "zone=A%00", "zone"),
        ("/api/markets/{one}/stalls", "limit=5&cursor=%00abc", "cursor"),
    ],
)
async def test_nul_in_a_query_string(client, auth, markets, path, query, field):
    url = path.replace("{one}", str(markets["one"])) + "?" + query
    assert_invalid_text(await client.get(url, headers=await auth("admin")), field)


@pytest.mark.parametrize("path", ["/markets/%00", "/console/markets/%00/import", "/teams%00"])
async def test_a_page_address_with_nul_is_the_not_found_page(client, path):
    """It showed the raw problem+json in English; other addresses that are no page get the
    not-found page in the app's language. A script asking the same address is still refused."""
    page = await client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert_invalid_text(await client.get(path), "path")


@pytest.mark.parametrize("path", ["/dashboard?province=%00", "/partner?code=%00", "/map?ward=a%00"])
async def test_a_page_opened_with_nul_in_its_query_is_the_page(client, path):
    """A browser opening a page gets the page (its script sends the query to the API, which
    refuses it, and says so in the app's language): it showed the raw problem+json. The same
    address asked by a script is still refused."""
    page = await client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_invalid_text(await client.get(path), path.split("?")[1].split("=")[0])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"label": "a\\u0000b"}', "label"),
        ('{"label": "a\\ud800"}', "label"),
        ('{"label": "\\udc00 tail"}', "label"),
        ('"\\u0000"', "body"),
    ],
)
async def test_nul_and_lone_surrogates_in_json(client, conn, auth, body, field):
    partner = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    before = await conn.fetchval("SELECT count(*) FROM api_key")
    r = await client.post(
        f"/api/users/{partner}/api-keys",
        content=body.encode(),
        headers=await auth("admin") | {"Content-Type": "application/json"},
    )
    assert_invalid_text(r, field)
    assert await conn.fetchval("SELECT count(*) FROM api_key") == before


async def test_a_nested_field_is_named_and_the_registration_changes_nothing(
    client, conn, auth, markets
):
    body = stall_body()
    body["holder"]["full_name"] = "Lan\x00Anh"
    before = await stalls_q.table_counts(conn)
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=await auth("admin") | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_invalid_text(r, "holder.full_name")
    assert await stalls_q.table_counts(conn) == before


@pytest.mark.parametrize(
    "text",
    [
        "Dưa hấu 🍉",  # an emoji is a valid surrogate pair in JSON: not refused here
        "C:\\u0000 is only text",  # a backslash-u, not a NUL
    ],
)
async def test_storable_text_with_escapes_passes(client, conn, auth, text):
    partner = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    r = await client.post(
        f"/api/users/{partner}/api-keys", json={"label": text}, headers=await auth("admin")
    )
    assert r.status_code == 201, r.text
    assert r.json()["label"] == text


async def test_deeply_nested_json_with_a_nul_is_refused_not_a_crash(client, auth):
    deep = "[" * 900 + '"\\u0000"' + "]" * 900
    r = await client.post(
        "/api/qr/decode",
        content=b'{"payload": ' + deep.encode() + b"}",
        headers=await auth("admin") | {"Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500 and r.json()["code"], r.text


@pytest.mark.parametrize("encoding", ["form", "multipart"])
@pytest.mark.parametrize("field", ["username", "password"])
async def test_nul_in_the_sign_in_form(client, conn, encoding, field):
    """Unauthenticated: the username is written to the failed-attempt counter in the database."""
    values = {"username": "admin", "password": TEST_PASSWORD} | {field: "adm\x00in"}
    before = await conn.fetchval("SELECT count(*) FROM login_attempt")
    if encoding == "form":
        r = await client.post("/api/auth/token", data=values)
    else:
        r = await client.post(
            "/api/auth/token", files={k: (None, v.encode()) for k, v in values.items()}
        )
    assert_invalid_text(r, field)
    assert await conn.fetchval("SELECT count(*) FROM login_attempt") == before


async def test_signed_partner_endpoints_read_their_raw_query_untouched(client, auth):
    """Exempt from the guard: they verify a signature over the raw bytes first and answer in the
    partner's own format (VNPay: RspCode 97 for anything unsigned), never the guard's problem."""
    r = await client.put(
        "/api/partners/VNPAY/credentials",
        json={"hash_secret": "guard-test"},
        headers=await auth("admin"),
    )
    assert r.status_code == 200, r.text
    r = await client.get("/api/partners/vnpay/ipn?vnp_TxnRef=%00&vnp_SecureHash=00")
    assert r.status_code == 200 and r.json() == {"RspCode": "97", "Message": "Invalid Checksum"}
