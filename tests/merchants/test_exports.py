"""Exports (CSV with BOM, GeoJSON), personal fields only for allowed roles; the PDF report."""

from __future__ import annotations

import csv
import io

import pypdfium2

from tests.merchants.test_coverage import GOOD, register


async def _seed(client, auth, markets) -> dict[str, int]:
    v1, v2 = await auth("volunteer"), await auth("volunteer2")
    ids = {
        "a": await register(
            client,
            v1,
            markets["one"],
            "A-1",
            holder={"full_name": "Lưu Thị Ngọc Thùy", "phone": "0905 123 456"},
        ),
        "b": await register(
            client,
            v1,
            markets["one"],
            "B-1",
            zone="B",
            location=None,
            holder={"full_name": "Trần Văn Hùng"},
        ),
        "d": await register(
            client, v2, markets["two"], "A-1", holder={"full_name": "Phan Thị Mai"}
        ),
    }
    await client.post(f"/api/stalls/{ids['a']}/verify", json={"payload": GOOD}, headers=v1)
    await client.post(
        f"/api/stalls/{ids['b']}/verify", json={"payload": GOOD[:-1] + "0"}, headers=v1
    )
    return ids


def _rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_csv_for_a_volunteer_has_personal_fields_and_logs_the_read(
    client, auth, markets, conn
):
    ids = await _seed(client, auth, markets)
    r = await client.get("/api/exports/stalls.csv", headers=await auth("volunteer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = _rows(r.content)
    assert [row["stall_code"] for row in rows] == ["A-1", "B-1"]  # market two is out of scope
    a = rows[0]
    assert (a["holder_name"], a["phone"]) == ("Lưu Thị Ngọc Thùy", "'+84905123456")
    assert (a["level"], a["qr_verified"], a["needs_revisit"], a["banks"]) == (
        "qr_verified",
        "true",
        "false",
        "MBBank",
    )
    assert (a["market_name"], a["ward_name"], a["location_source"]) == (
        "Chợ Thử Một",
        "Phường Hải Châu",
        "stall",
    )
    assert (rows[1]["needs_revisit"], rows[1]["revisit_reason"], rows[1]["location_source"]) == (
        "true",
        "qr_invalid",
        "market",
    )
    assert "account_number" not in a and "0123456789" not in r.text
    logged = await conn.fetch(
        "SELECT stallholder_id, route, reason FROM access_log WHERE reason = 'list_export'"
    )
    holders = await conn.fetch(
        "SELECT holder_id FROM stall WHERE id = any($1::bigint[])", [ids["a"], ids["b"]]
    )
    assert sorted(x["stallholder_id"] for x in logged) == sorted(x["holder_id"] for x in holders)
    assert {x["route"] for x in logged} == {"/api/exports/stalls.csv"}


async def test_csv_for_a_viewer_has_no_personal_fields_and_logs_nothing(
    client, auth, markets, conn
):
    await _seed(client, auth, markets)
    r = await client.get("/api/exports/stalls.csv", headers=await auth("viewer"))
    rows = _rows(r.content)
    assert len(rows) == 3
    assert "holder_name" not in rows[0] and "phone" not in rows[0]
    assert "Lưu" not in r.text and "+8490" not in r.text
    assert await conn.fetchval("SELECT count(*) FROM access_log WHERE reason = 'list_export'") == 0
    assert (
        await client.get("/api/exports/stalls.csv", headers=await auth("partner"))
    ).status_code == 403


async def test_csv_filters(client, auth, markets):
    await _seed(client, auth, markets)
    h = await auth("admin")

    async def codes(query: str) -> list[tuple[str, str]]:
        r = await client.get(f"/api/exports/stalls.csv?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [(row["market_id"], row["stall_code"]) for row in _rows(r.content)]

    one, two = str(markets["one"]), str(markets["two"])
    # Markets in the Vietnamese alphabet ("Chợ Thử Hai" before "Chợ Thử Một"), stalls by code.
    assert await codes("") == [(two, "A-1"), (one, "A-1"), (one, "B-1")]
    assert await codes(f"market_id={markets['two']}") == [(two, "A-1")]
    assert await codes("ward_code=20242") == [(one, "A-1"), (one, "B-1")]
    assert await codes("level=qr_verified") == [(one, "A-1")]
    assert await codes("level=registered&needs_revisit=true") == [(one, "B-1")]
    assert (await client.get("/api/exports/stalls.csv?level=rich", headers=h)).status_code == 422
    # A province's stalls, and those of its markets whose ward is not recorded (the dashboard's
    # "Chưa rõ phường, xã" at a province; the province's export had been the whole scope).
    assert await codes("province=48") == [(two, "A-1"), (one, "A-1"), (one, "B-1")]
    assert await codes("province=1") == []
    assert await codes("province=48&without_ward=true") == []
    r = await client.post(
        "/api/markets", json={"name": "Chợ Chưa Rõ Phường", "province_code": "48"}, headers=h
    )
    assert r.status_code == 201, r.text
    unplaced = r.json()["id"]
    await register(client, h, unplaced, "U-1", holder={"full_name": "Đỗ Thị Chưa"}, location=None)
    assert await codes("province=48&without_ward=true") == [(str(unplaced), "U-1")]
    assert await codes("without_ward=true&level=registered") == [(str(unplaced), "U-1")]
    assert (await client.get("/api/exports/stalls.csv?province=4x", headers=h)).status_code == 422
    assert (
        await client.get("/api/exports/stalls.csv?ward_code=x;drop", headers=h)
    ).status_code == 422
    r = await client.get(
        f"/api/exports/stalls.csv?market_id={markets['two']}", headers=await auth("volunteer")
    )
    assert r.status_code == 404


async def test_geojson_export(client, auth, markets):
    await _seed(client, auth, markets)
    r = await client.get(
        f"/api/exports/stalls.geojson?market_id={markets['one']}", headers=await auth("viewer")
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    a, b = fc["features"]
    assert a["geometry"] == {"type": "Point", "coordinates": [108.2, 16.06]}
    assert b["geometry"] == {"type": "Point", "coordinates": [108.22, 16.047]}  # the market's point
    assert all(not isinstance(v, (dict, list)) for v in a["properties"].values())
    assert a["properties"]["level"] == "qr_verified"
    assert "holder_name" not in a["properties"]
    r = await client.get("/api/exports/stalls.geojson", headers=await auth("volunteer"))
    assert r.json()["features"][0]["properties"]["holder_name"] == "Lưu Thị Ngọc Thùy"


async def test_empty_export_is_a_header_only(client, auth, markets):
    r = await client.get(
        f"/api/exports/stalls.csv?market_id={markets['two']}", headers=await auth("admin")
    )
    assert _rows(r.content) == []
    assert r.content.decode("utf-8-sig").startswith("stall_id,market_id,")
    r = await client.get(
        f"/api/exports/stalls.geojson?market_id={markets['two']}", headers=await auth("admin")
    )
    assert r.json() == {"type": "FeatureCollection", "features": []}


async def test_the_report_dates_a_status_by_vietnams_day(client, auth, markets, conn):
    """A status reached at 01:30 in Vietnam is that day's, not the day before (UTC's)."""
    await conn.execute(
        "INSERT INTO market_coverage (market_id) VALUES ($1) ON CONFLICT DO NOTHING", markets["one"]
    )
    await conn.execute(
        "UPDATE market_coverage SET status_since = '2026-12-01T18:30:00Z' WHERE market_id = $1",
        markets["one"],
    )
    r = await client.get(f"/api/markets/{markets['one']}/report.pdf", headers=await auth("viewer"))
    assert r.status_code == 200, r.text
    text = pypdfium2.PdfDocument(r.content)[0].get_textpage().get_text_range()
    assert "Trạng thái từ 02/12/2026" in text, text[:400]


async def test_market_report_is_one_page_with_vietnamese_text(client, auth, markets, tmp_path):
    await _seed(client, auth, markets)
    r = await client.get(f"/api/markets/{markets['one']}/report.pdf", headers=await auth("viewer"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(r.content)
    assert len(pdf) == 1
    page = pdf[0]
    text = page.get_textpage().get_text_range()
    assert "Chợ Thử Một" in text
    assert "Đang triển khai" in text
    assert (
        "Cần quay lại (mã sai, hỏng hoặc tài khoản bị ngưng) (1)" in text
    )  # the flagged stall heads the visit list
    assert (
        text.index("B-1") < text.index("Chưa có biển") if "Chưa có biển" in text else "B-1" in text
    )
    assert "Lưu Thị" not in text  # no personal data
    image = page.render(scale=1.5).to_pil()
    image.save(tmp_path / "report.png")
    assert image.width > 800
    assert (
        await client.get(
            f"/api/markets/{markets['two']}/report.pdf", headers=await auth("volunteer")
        )
    ).status_code == 404


def _boxes(textpage, needle: str) -> list[tuple[float, float, float, float]]:
    """The boxes (left, bottom, right, top) of every occurrence of `needle` on the page."""
    out = []
    search = textpage.search(needle, match_case=True)
    while (found := search.get_next()) is not None:
        start, count = found
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        out.append(
            (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
        )
    return out


async def test_the_report_keeps_a_long_market_name_and_its_zone_headers_apart(
    client, auth, markets, conn
):
    """A market named after its streets keeps its whole name; the per-zone table's headings (the
    level names the report uses elsewhere) do not run into each other."""
    await _seed(client, auth, markets)
    name = "Chợ đêm Trần Quý Cáp - Bạch Đằng - Tiểu La - Hoàng Văn Thụ"
    await conn.execute("UPDATE market SET name = $1 WHERE id = $2", name, markets["one"])
    r = await client.get(f"/api/markets/{markets['one']}/report.pdf", headers=await auth("viewer"))
    assert r.status_code == 200
    page = pypdfium2.PdfDocument(r.content)[0]
    textpage = page.get_textpage()
    assert name in textpage.get_text_range()
    # The table's headings, drawn last: each ends before the next begins.
    heads = [_boxes(textpage, word)[-1] for word in ("Đã in", "Đã kiểm", "Đang")]
    assert all(a[2] < b[0] for a, b in zip(heads, heads[1:], strict=False)), heads


def test_the_report_draws_each_level_in_the_charts_colour():
    """The market page's chart drew "Đã kiểm tra mã" green and the printed report dark blue."""
    import re

    from coverage.report_pdf import LEVEL_COLOR
    from tests.conftest import ROOT

    css = (ROOT / "web/static/css/wide.css").read_text(encoding="utf-8")
    for level, colour in LEVEL_COLOR.items():
        chart = re.search(rf"\.series-{level} {{ stroke: (#[0-9a-f]{{6}});", css)
        assert chart and chart[1] == "#" + colour.hexval()[2:].lower(), level


async def test_the_report_of_a_market_without_stalls_says_it_has_none(client, auth, markets):
    """It said "thiếu 0 sạp" in red under every level and "no stall left to visit", as if the work
    were done. It has no active stall (none yet, or every one closed: not "none registered")."""
    r = await client.get(f"/api/markets/{markets['two']}/report.pdf", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    text = pypdfium2.PdfDocument(r.content)[0].get_textpage().get_text_range()
    assert "thiếu 0 sạp" not in text and "Không còn sạp nào cần đến" not in text
    assert "không có sạp" in text and "Không có sạp nào đang hoạt động." in text
