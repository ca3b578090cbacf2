"""Issue 12, A5 and A6: the stall search finds what its label promises; Vietnamese stall codes and
zone names; the sign consent on list items; no-store on answers with personal data."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import stall_body


async def _register(client, headers, market_id: int, code: str, **over) -> dict:
    over.setdefault("confirm_duplicate", True)  # stall_body's phone, again
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, **over),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _codes(client, headers, market_id: int, q: str | None = None) -> list[str]:
    params = {"q": q} if q is not None else {}
    r = await client.get(f"/api/markets/{market_id}/stalls", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [s["stall_code"] for s in r.json()["items"]]


# ---------------------------------------------------------------- A5: search


@pytest.fixture
async def searchable(client, auth, markets) -> dict:
    h = await auth("volunteer")
    m = markets["one"]
    await _register(
        client, h, m, "A-15", holder={"full_name": "Lưu Thị Lan", "phone": "0905 123 456"}
    )
    await _register(
        client, h, m, "B-84", holder={"full_name": "Trần Văn Đức", "phone": "0236 3821 999"}
    )
    await _register(client, h, m, "A-1", holder={"full_name": "Phạm Thị Hoa"}, goods="Cá_tươi")
    return {"h": h, "m": m}


@pytest.mark.parametrize("q", ["0905 123 456", "0905123456", "+84905123456", "905123456"])
async def test_a_phone_in_any_form_finds_its_stall(client, searchable, q):
    assert await _codes(client, searchable["h"], searchable["m"], q) == ["A-15"]


@pytest.mark.parametrize("q", ["a15", "a 15", "A15", "A-15", "a-15"])
async def test_a_code_without_its_dash_finds_the_stall(client, searchable, q):
    assert await _codes(client, searchable["h"], searchable["m"], q) == ["A-15"]


async def test_search_has_no_false_positives(client, searchable):
    h, m = searchable["h"], searchable["m"]
    # '84' is stall B-84, not every phone (+84...) of the market.
    assert await _codes(client, h, m, "84") == ["B-84"]
    # A compacted query does not run from the name into the code ('... Lan' + 'A-15').
    assert await _codes(client, h, m, "lana15") == []
    # LIKE's wildcards are characters like any other.
    assert await _codes(client, h, m, "%") == []
    assert await _codes(client, h, m, "c_") == []
    assert await _codes(client, h, m, "cá_tươi") == ["A-1"]
    # Names still match without diacritics, as typed.
    assert await _codes(client, h, m, "duc") == ["B-84"]
    assert await _codes(client, h, m, "ĐỨC") == ["B-84"]


async def test_a_landline_and_its_parts_find_the_stall(client, searchable):
    h, m = searchable["h"], searchable["m"]
    for q in ("0236 3821 999", "02363821999", "+84 236 3821 999", "3821999"):
        assert await _codes(client, h, m, q) == ["B-84"], q


# ---------------------------------------------------------------- A6: Vietnamese codes and zones


@pytest.fixture
async def vn_market(client, auth) -> int:
    r = await client.post(
        "/api/markets",
        json={"name": "Chợ Thử Ba", "ward_code": "20242", "zones": ["Khu Cá", "Nhà lồng A"]},
        headers=await auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["zones"] == ["Khu Cá", "Nhà lồng A"]
    return int(r.json()["id"])


async def test_vietnamese_codes_and_zones_register_and_stay_unique(client, auth, vn_market):
    h = await auth("admin")
    stall = await _register(client, h, vn_market, "Đ-5", zone="Khu Cá")
    assert (stall["stall_code"], stall["zone"]) == ("Đ-5", "Khu Cá")
    assert (await _register(client, h, vn_market, "Ư-12", zone="Nhà lồng A"))[
        "zone"
    ] == "Nhà lồng A"
    # Unique regardless of case, in NFC: 'đ-5' and 'Đ-5' (typed decomposed too) are one stall.
    for same in ("đ-5", "Đ-5", "\u0110-5 ", "đ-5".upper()):
        r = await client.post(
            f"/api/markets/{vn_market}/stalls",
            json=stall_body(same, zone="Khu Cá", confirm_duplicate=True),
            headers=h | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 409 and r.json()["code"] == "stall_code_taken", (same, r.text)
        assert r.json()["existing_stall_id"] == stall["id"]
    decomposed = "U\u031b\u0301-7"  # 'Ứ-7' as some keyboards send it: stored in NFC
    got = await _register(client, h, vn_market, decomposed, zone="Nhà lồng A")
    assert got["stall_code"] == "Ứ-7"
    assert await _codes(client, h, vn_market, "đ5") == ["Đ-5"]
    assert await _codes(client, h, vn_market, "u12") == ["Ư-12"]


async def test_natural_sort_keeps_the_vietnamese_alphabet(client, auth, vn_market):
    h = await auth("admin")
    for code in ("Đ-12", "E-1", "Đ-2", "D-9", "A-2", "Ă-1", "DA", "A-10"):
        await _register(client, h, vn_market, code, zone="Khu Cá")
    assert await _codes(client, h, vn_market) == [
        "A-2", "A-10", "Ă-1", "D-9", "DA", "Đ-2", "Đ-12", "E-1"
    ]  # fmt: skip
    # Pages follow the same order.
    r = await client.get(f"/api/markets/{vn_market}/stalls", params={"limit": 3}, headers=h)
    page2 = await client.get(
        f"/api/markets/{vn_market}/stalls",
        params={"limit": 3, "cursor": r.json()["next_cursor"]},
        headers=h,
    )
    assert [s["stall_code"] for s in page2.json()["items"]] == ["D-9", "DA", "Đ-2"]


@pytest.mark.parametrize(
    ("field", "value", "code", "limit"),
    [
        ("stall_code", "Đ" * 21, "invalid_stall_code", 20),
        ("stall_code", "A-12345678901234567890", "invalid_stall_code", 20),
        ("stall_code", "-Đ5", "invalid_stall_code", 20),
        ("stall_code", "Đ+5", "invalid_stall_code", 20),
        ("zone", "Khu " + "Cá" * 19, "invalid_zone", 40),
    ],
)
async def test_a_code_that_breaks_the_rule_is_refused_at_its_field_never_cut(
    client, auth, vn_market, conn, field, value, code, limit
):
    body = stall_body("Đ-1", zone="Khu Cá") | {field: value}
    r = await client.post(
        f"/api/markets/{vn_market}/stalls",
        json=body,
        headers=await auth("admin") | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert (problem["code"], problem["field"]) == (code, field)
    # The message states the rule: the limit, Vietnamese letters, the first character.
    assert f"1-{limit} characters" in problem["detail"]
    assert (
        "Vietnamese" in problem["detail"]
        and "starting with a letter or a digit" in problem["detail"]
    )
    assert await conn.fetchval("SELECT count(*) FROM stall WHERE market_id = $1", vn_market) == 0


async def test_a_stall_code_of_twenty_vietnamese_letters_is_kept_whole(client, auth, vn_market):
    code = "Nhà lồng Đ-ư 12345"[:20]
    stall = await _register(client, await auth("admin"), vn_market, code, zone="Khu Cá")
    assert stall["stall_code"] == code


# ---------------------------------------------------------------- the tablet's sign consent


async def test_list_items_carry_the_holders_sign_consent(client, auth, markets):
    h = await auth("volunteer")
    m = markets["one"]
    granted = await _register(client, h, m, "C-1")
    consent = {"notice_version": "2026-01", "purposes": ["registration"]}
    missing = await _register(
        client, h, m, "C-2", consent=consent, holder={"full_name": "Võ Thị Mai"}
    )
    withdrawn = await _register(client, h, m, "C-3", holder={"full_name": "Đỗ Văn Nam"})
    r = await client.post(
        f"/api/stallholders/{withdrawn['holder']['id']}/consents/withdraw",
        json={"purposes": ["qr_sign"]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    items = (await client.get(f"/api/markets/{m}/stalls", headers=h)).json()["items"]
    states = {s["id"]: s["sign_consent"] for s in items}
    assert states == {
        granted["id"]: "granted",
        missing["id"]: "missing",
        withdrawn["id"]: "withdrawn",
    }


# ---------------------------------------------------------------- caching of personal data


async def test_answers_with_personal_data_are_never_stored_by_caches(client, auth, markets):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "C-9")
    for url in (
        f"/api/stalls/{stall['id']}",
        f"/api/markets/{markets['one']}/stalls",
        f"/api/stalls/{stall['id']}/qr.png",
        f"/api/stalls/{stall['id']}/qr.svg",
        f"/api/stalls/{stall['id']}/sign.pdf",
        f"/api/markets/{markets['one']}/signs.pdf",
        f"/api/stallholders/{stall['holder']['id']}/consents",
        "/api/markets",
        "/api/stalls/999999999",  # errors too
    ):
        r = await client.get(url, headers=h)
        assert r.status_code < 500, (url, r.text)
        assert r.headers["cache-control"] == "no-store", url
    # Public reference data may be kept.
    for url in ("/api/banks", "/api/consent-notice"):
        r = await client.get(url)
        assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", ""), url
