"""GET /api/admin-units: provinces, a province's wards, diacritic-insensitive search; bad input."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from admin_units import service


async def _units(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list:
    r = await client.get("/api/admin-units", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _rank(key: str, q: str) -> int:
    bare = key.split(" ", 2)[2] if key.startswith("dac khu ") else key.split(" ", 1)[1]
    if q in (key, bare):
        return 0
    if bare.startswith(q) or key.startswith(q):
        return 2
    return 3 if f" {q}" in f" {key}" else 4


async def test_without_parameters_every_province(client, auth) -> None:
    units = await _units(client, await auth("viewer"))
    assert len(units) == 34
    assert {u["level"] for u in units} == {"province"}
    danang = next(u for u in units if u["code"] == "48")
    assert danang == {
        "code": "48",
        "name": "Thành phố Đà Nẵng",
        "level": "province",
        "kind": "thanh_pho",
        "province_code": "48",
    }
    # Alphabetical by proper name: An Giang first, whatever the "Tỉnh"/"Thành phố" in front.
    assert units[0]["name"] == "Tỉnh An Giang"


async def test_a_province_lists_all_its_wards(client, auth) -> None:
    units = await _units(client, await auth("volunteer"), province="48")
    assert len(units) == 94
    assert {u["level"] for u in units} == {"ward"}
    assert {u["province_code"] for u in units} == {"48"}
    assert {u["kind"] for u in units} == {"phuong", "xa", "dac_khu"}  # Đặc khu Hoàng Sa
    assert {"code": "20242", "name": "Phường Hải Châu"}.items() <= next(
        u for u in units if u["code"] == "20242"
    ).items()
    # "1" is Hà Nội's "01".
    assert len(await _units(client, await auth("volunteer"), province="1")) == 126


@pytest.mark.parametrize(
    "q",
    ["hai chau", "Hải Châu", "HẢI CHÂU", "  hai   chau ", "phuong hai chau", "Phường Hải Châu"],
)
async def test_search_within_a_province_ignores_diacritics_and_case(client, auth, q) -> None:
    units = await _units(client, await auth("manager"), province="48", q=q)
    assert units[0]["code"] == "20242"
    assert all(u["province_code"] == "48" for u in units)


async def test_search_across_the_country_puts_the_best_match_first(client, auth) -> None:
    headers = await auth("partner")
    units = await _units(client, headers, q="hai chau")
    # Two units are named Hải Châu: the ward in Đà Nẵng, then the commune in Nghệ An.
    assert [u["code"] for u in units[:2]] == ["20242", "17419"]
    assert units[1]["name"] == "Xã Hải Châu" and units[1]["province_code"] == "40"
    # Exact names, then names that start with the query, then a word, then anywhere in a word.
    units = await _units(client, headers, q="hoa")
    assert len(units) == 50  # limited
    ranks = [_rank(service.search_key(u["name"]), "hoa") for u in units]
    assert ranks == sorted(ranks) and ranks[0] <= 2
    assert len(await _units(client, headers, q="hoa", limit=5)) == 5


async def test_d_with_stroke_is_searched_as_d(client, auth) -> None:
    headers = await auth("volunteer")
    for q in ("dong da", "Đống Đa", "đống đa", "ĐỐNG ĐA", "Dong Da"):
        units = await _units(client, headers, q=q, province="01")
        assert [u["name"] for u in units] == ["Phường Đống Đa"], q
    # With or without the stroke, the same units in the same order.
    stroked = await _units(client, headers, q="Đại", province="48")
    assert [u["name"] for u in stroked] == ["Xã Đại Lộc"]
    assert await _units(client, headers, q="dai", province="48") == stroked


async def test_punctuation_in_names_does_not_hide_them(client, auth) -> None:
    headers = await auth("volunteer")
    assert (await _units(client, headers, q="chan may – lang co"))[0]["name"] == (
        "Xã Chân Mây - Lăng Cô"
    )
    assert (await _units(client, headers, q="Ea H’leo"))[0]["name"] == "Xã Ea H'Leo"
    assert (await _units(client, headers, q="ea hleo")) == []  # the apostrophe separates words
    assert await _units(client, headers, q="%") == []  # no wildcard: nothing matches "%"
    assert await _units(client, headers, q="zzzz qqq") == []


async def test_signed_in_only(client) -> None:
    r = await client.get("/api/admin-units")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": "hai\x00chau"}, 422, "invalid_text"),  # the text guard, before routing
        ({"q": "hai\nchau"}, 422, "invalid_query"),
        ({"q": "x" * 101}, 422, "validation_error"),
        ({"province": "4800"}, 422, "validation_error"),
        ({"province": "4a"}, 422, "validation_error"),
        ({"province": "\x00"}, 422, "invalid_text"),
        ({"province": "99"}, 404, "province_not_found"),
        ({"limit": "0"}, 422, "validation_error"),
        ({"limit": "101"}, 422, "validation_error"),
        ({"limit": "x"}, 422, "validation_error"),
    ],
)
async def test_bad_parameters_are_problems_not_crashes(client, auth, params, status, code) -> None:
    r = await client.get("/api/admin-units", params=params, headers=await auth("admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert r.json()["field"] == next(iter(params))


async def test_markets_can_check_wards_and_read_units(conn: asyncpg.Connection) -> None:
    assert await service.ward_exists(conn, "20242")
    assert await service.ward_exists(conn, "70")  # Phường Hoàn Kiếm, written 00070
    assert not await service.ward_exists(conn, "48")  # a province, not a ward
    assert not await service.ward_exists(conn, "99999")
    assert not await service.ward_exists(conn, "20236")  # a pre-reform ward only
    unit = await service.get_unit(conn, "20242")
    assert unit is not None
    assert unit.model_dump() == {
        "code": "20242",
        "name": "Phường Hải Châu",
        "level": "ward",
        "kind": "phuong",
        "province_code": "48",
    }
    province = await service.get_unit(conn, "48")
    assert province is not None and province.level == "province" and province.province_code == "48"
    assert await service.get_unit(conn, "20236") is None
    assert await service.get_unit(conn, "nope") is None
