"""The VietQR API: bank directory, encode/decode/scan, stall QR images and sign PDFs that scan back."""

from __future__ import annotations

import io
import uuid

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from qr import payload, render
from tests.conftest import TEST_KEYS, stall_body

STATIC_970422 = (
    "00020101021138540010A00000072701240006970422011001234567890208QRIBFTTA53037045802VN6304"
)


async def _stall(client, headers, market_id, code="A-12", **over) -> dict:
    body = stall_body(code, **over)
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=body,
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _scan(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


async def test_banks_are_public_and_searchable(client):
    r = await client.get("/api/banks")
    assert r.status_code == 200
    by_bin = {b["bin"]: b for b in r.json()}
    assert by_bin["970422"]["short_name"] == "MBBank"
    assert set(by_bin["970422"]) == {"bin", "code", "short_name", "name", "kind"}
    assert by_bin["971025"]["kind"] != "bank"
    found = (await client.get("/api/banks", params={"q": "ngoai thuong"})).json()
    assert "970436" in {b["bin"] for b in found}


async def test_encode_matches_the_reference_payload(client, auth):
    r = await client.post(
        "/api/qr/encode",
        json={"bin": "970422", "account_number": "0123456789"},
        headers=await auth("volunteer"),
    )
    assert r.status_code == 200
    text = r.json()["payload"]
    assert text.startswith(STATIC_970422)
    assert text[-4:] == f"{payload.crc16_ccitt_false(text[:-4].encode()):04X}"


async def test_encode_names_field_limit_and_length(client, auth):
    r = await client.post(
        "/api/qr/encode",
        json={"bin": "970422", "account_number": "0123456789", "purpose": "x" * 31},
        headers=await auth("volunteer"),
    )
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "purpose" and body["limit"] == 25 and body["length"] == 31
    assert "25" in body["detail"] and "31" in body["detail"]
    bad_bin = await client.post(
        "/api/qr/encode",
        json={"bin": "999999", "account_number": "1"},
        headers=await auth("volunteer"),
    )
    assert bad_bin.status_code == 422 and bad_bin.json()["field"] == "bin"


async def test_decode_reports_problems_without_failing(client, auth):
    headers = await auth("volunteer")
    good = (
        await client.post(
            "/api/qr/encode",
            json={"bin": "970436", "account_number": "0011001932418"},
            headers=headers,
        )
    ).json()["payload"]
    ok = (await client.post("/api/qr/decode", json={"payload": good}, headers=headers)).json()
    assert (
        ok["valid"]
        and ok["bin"] == "970436"
        and ok["account"] == "0011001932418"
        and ok["bank"]["short_name"] == "Vietcombank"
    )
    broken = (
        await client.post("/api/qr/decode", json={"payload": good[:-4] + "0000"}, headers=headers)
    ).json()
    assert broken["valid"] is False and broken["crc_valid"] is False and broken["problems"]
    garbage = await client.post("/api/qr/decode", json={"payload": "hello"}, headers=headers)
    assert garbage.status_code == 200 and garbage.json()["valid"] is False
    too_long = await client.post("/api/qr/decode", json={"payload": "0" * 513}, headers=headers)
    assert too_long.status_code == 422


async def test_scan_reads_a_photo(client, auth):
    headers = await auth("volunteer")
    text = payload.encode(bin="970422", account="0123456789")
    png = render.png(text, scale=6)
    r = await client.post(
        "/api/qr/scan", files={"file": ("sign.png", png, "image/png")}, headers=headers
    )
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["payload"] == text and result["decoded"]["valid"]


async def test_scan_errors(client, auth):
    headers = await auth("volunteer")
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, "PNG")
    r = await client.post(
        "/api/qr/scan", files={"file": ("x.png", blank.getvalue(), "image/png")}, headers=headers
    )
    assert r.status_code == 422 and r.json()["code"] == "no_qr_found"
    r = await client.post(
        "/api/qr/scan", files={"file": ("x.png", b"not an image", "image/png")}, headers=headers
    )
    assert r.status_code == 422 and r.json()["code"] == "bad_image"
    big = b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 10)
    r = await client.post(
        "/api/qr/scan", files={"file": ("x.png", big, "image/png")}, headers=headers
    )
    assert r.status_code == 413


async def test_stall_png_and_svg_scan_back_to_the_stored_account(client, auth, markets):
    headers = await auth("volunteer")
    stall = await _stall(client, headers, markets["one"])
    expected = payload.encode(bin="970422", account="0123456789", poi="11")
    png = await client.get(
        f"/api/stalls/{stall['id']}/qr.png", params={"scale": 5}, headers=headers
    )
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert _scan(Image.open(io.BytesIO(png.content))) == [expected]
    svg = await client.get(f"/api/stalls/{stall['id']}/qr.svg", headers=headers)
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<")


async def test_an_account_number_written_in_groups_goes_on_the_sign_as_its_digits(
    client, auth, markets
):
    """ "0123-456.789" as a stallholder writes it down: the dashes and dots are not part of the
    number (a payload holding them names no account), so they are dropped like spaces."""
    headers = await auth("volunteer")
    account = stall_body()["payment_accounts"][0] | {"account_number": "0123-456.789 "}
    stall = await _stall(client, headers, markets["one"], payment_accounts=[account])
    assert stall["payment_accounts"][0]["account_number"] == "0123456789"
    png = await client.get(f"/api/stalls/{stall['id']}/qr.png", headers=headers)
    assert _scan(Image.open(io.BytesIO(png.content))) == [
        payload.encode(bin="970422", account="0123456789", poi="11")
    ]


async def test_second_account_is_chosen_by_account_id(client, auth, markets):
    headers = await auth("volunteer")
    stall = await _stall(client, headers, markets["one"])
    acc = {"bin": "970436", "account_number": "0011001932418", "account_name": "LUU THI NGOC THUY"}
    second = (
        await client.post(f"/api/stalls/{stall['id']}/payment-accounts", json=acc, headers=headers)
    ).json()["payment_accounts"][1]
    png = await client.get(
        f"/api/stalls/{stall['id']}/qr.png",
        params={"account_id": second["id"], "scale": 5},
        headers=headers,
    )
    assert _scan(Image.open(io.BytesIO(png.content))) == [
        payload.encode(bin="970436", account="0011001932418")
    ]
    missing = await client.get(
        f"/api/stalls/{stall['id']}/qr.png", params={"account_id": 999999}, headers=headers
    )
    assert missing.status_code == 404


async def test_stall_without_account_has_no_sign(client, auth, markets):
    headers = await auth("volunteer")
    stall = await _stall(client, headers, markets["one"], payment_accounts=[])
    r = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "no_payment_account"


def _pdf_pages(data: bytes, dpi: int = 150) -> list[Image.Image]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72).to_pil() for page in pdf]
    finally:
        pdf.close()


async def test_sign_pdf_scans_back_and_only_a_confirmed_print_counts(client, conn, auth, markets):
    headers = await auth("volunteer")
    stall = await _stall(client, headers, markets["one"])
    r = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    [page] = _pdf_pages(r.content)
    assert _scan(page) == [payload.encode(bin="970422", account="0123456789")]
    # Looking at the sign records nothing and issues nothing.
    assert await conn.fetchval("SELECT count(*) FROM sign_print") == 0
    level = (await client.get(f"/api/stalls/{stall['id']}/coverage", headers=headers)).json()
    assert level["levels"]["qr_issued"] is False and level["sign_issued_at"] is None
    # The volunteer confirms the sheet came out of the printer.
    done = await client.post(f"/api/stalls/{stall['id']}/sign-printed", headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["levels"]["qr_issued"] is True
    printed = await conn.fetch(
        "SELECT payload, format FROM sign_print WHERE stall_id = $1", stall["id"]
    )
    # The payload is stored sealed (it holds the account number).
    assert [(TEST_KEYS.open(p["payload"]), p["format"]) for p in printed] == [
        (payload.encode(bin="970422", account="0123456789"), "sign_pdf")
    ]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'print_confirmed' AND entity_id = $1",
            str(stall["id"]),
        )
        == 1
    )


async def test_a_print_job_prints_every_stall_in_code_order_and_counts_once_confirmed(
    client, conn, auth, markets
):
    headers = await auth("admin")
    accounts = {}
    for i, code in enumerate(["A-10", "A-2", "B-1", "A-1", "B-3"]):
        number = f"10000{i}"
        accounts[code] = payload.encode(bin="970436", account=number)
        await _stall(
            client,
            headers,
            markets["one"],
            code,
            zone=code[0],
            holder={"full_name": f"Người Bán {chr(65 + i)}", "phone": f"090512345{i}"},
            payment_accounts=[{"bin": "970436", "account_number": number}],
        )
    market = f"/api/markets/{markets['one']}"
    issued = lambda: client.get(f"{market}/coverage", headers=headers)  # noqa: E731
    before = (await issued()).json()["levels"]["qr_issued"]["count"]
    preview = await client.get(f"{market}/signs.pdf", headers=headers)
    assert preview.status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM sign_print") == 0  # a preview records nothing
    job = await client.post(f"{market}/print-jobs", json={}, headers=headers)
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    assert job.json()["stall_count"] == 5 and job.json()["confirmed_count"] == 0
    order = ["A-1", "A-2", "A-10", "B-1", "B-3"]
    assert [s["stall_code"] for s in job.json()["stalls"]] == order
    pdf = await client.get(job.json()["pdf_url"], headers=headers)
    assert pdf.status_code == 200
    pages = [set(_scan(page)) for page in _pdf_pages(pdf.content)]
    expected = [accounts[c] for c in order]
    assert pages == [set(expected[:4]), set(expected[4:])]  # 4 A6 per page, in stall-code order
    assert (await issued()).json()["levels"]["qr_issued"]["count"] == before  # not yet printed
    # The first sheet came out; the printer jammed on the second.
    first = [s["stall_id"] for s in job.json()["stalls"][:4]]
    part = await client.post(
        f"/api/print-jobs/{job_id}/confirm", json={"stall_ids": first}, headers=headers
    )
    assert part.status_code == 200 and part.json()["confirmed_count"] == 4
    assert (await issued()).json()["levels"]["qr_issued"]["count"] == before + 4
    rest = await client.post(f"/api/print-jobs/{job_id}/confirm", json={}, headers=headers)
    again = await client.post(f"/api/print-jobs/{job_id}/confirm", json={}, headers=headers)
    assert rest.json()["confirmed_count"] == again.json()["confirmed_count"] == 5
    rows = await conn.fetch(
        "SELECT s.stall_code FROM sign_print p JOIN stall s ON s.id = p.stall_id ORDER BY p.id"
    )
    assert sorted(r["stall_code"] for r in rows) == sorted(order)  # each print recorded once
    unprinted = await client.post(
        f"{market}/print-jobs", json={"only_unprinted": True}, headers=headers
    )
    assert unprinted.status_code == 409 and unprinted.json()["code"] == "nothing_to_print"
    zone_b = await client.post(f"{market}/print-jobs", json={"zone": "b"}, headers=headers)
    assert zone_b.status_code == 201 and zone_b.json()["stall_count"] == 2


async def test_missing_signs_are_the_ones_the_dashboard_counts_plus_those_to_reprint(
    client, auth, markets
):
    """ "In biển các sạp chưa in" prints the stalls without a sign: a sign delivered without a print
    recorded in the app is a sign (the dashboard counts it), and a sign showing an account
    corrected since must be reprinted."""
    headers = await auth("volunteer")
    one = markets["one"]
    made = {
        code: await _stall(
            client,
            headers,
            one,
            code,
            holder={"full_name": f"Người Bán {'ABC'[i]}", "phone": f"09051110{i}0"},
        )
        for i, code in enumerate(("D-1", "D-2", "D-3"))
    }
    delivered = await client.post(
        f"/api/stalls/{made['D-1']['id']}/sign-delivered", headers=headers
    )
    assert delivered.status_code == 200
    printed = await client.post(f"/api/stalls/{made['D-2']['id']}/sign-printed", headers=headers)
    assert printed.status_code == 200, printed.text
    job = await client.post(
        f"/api/markets/{one}/print-jobs", json={"only_unprinted": True}, headers=headers
    )
    assert [s["stall_code"] for s in job.json()["stalls"]] == ["D-3"]
    # D-2's account was typed wrong: corrected, its sign is to be reprinted.
    account = made["D-2"]["payment_accounts"][0]["id"]
    fixed = await client.patch(
        f"/api/stalls/{made['D-2']['id']}/payment-accounts/{account}",
        json={"account_number": "0123456780", "reason": "Nhập sai số cuối"},
        headers=headers,
    )
    assert fixed.status_code == 200, fixed.text
    job = await client.post(
        f"/api/markets/{one}/print-jobs", json={"only_unprinted": True}, headers=headers
    )
    assert [s["stall_code"] for s in job.json()["stalls"]] == ["D-2", "D-3"]


async def test_signs_respect_scope(client, auth, markets):
    stall = await _stall(client, await auth("volunteer"), markets["one"])
    other = await auth("volunteer2")
    assert (
        await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=other)
    ).status_code == 404
    # A role without personal data is refused outright (403); another scope does not see it (404).
    assert (
        await client.get(f"/api/stalls/{stall['id']}/qr.png", headers=await auth("viewer"))
    ).status_code == 403
    assert (
        await client.get(f"/api/markets/{markets['one']}/signs.pdf", headers=other)
    ).status_code == 404


@pytest.mark.parametrize("size", ["A6", "A5"])
async def test_sign_sizes(client, auth, markets, size):
    headers = await auth("volunteer")
    stall = await _stall(client, headers, markets["one"])
    r = await client.get(
        f"/api/stalls/{stall['id']}/sign.pdf", params={"size": size}, headers=headers
    )
    pdf = pypdfium2.PdfDocument(r.content)
    w, h = pdf[0].get_size()
    pdf.close()
    expected = {"A6": (105, 148), "A5": (148, 210)}[size]
    assert (round(w / 72 * 25.4), round(h / 72 * 25.4)) == expected


async def test_momo_wallet_needs_its_reference_and_prints_with_it(client, auth, markets):
    headers = await auth("volunteer")
    momo = {"bin": "971025", "account_number": "PSP0123456789", "account_name": "LUU THI NGOC THUY"}
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body(payment_accounts=[momo]),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422 and r.json()["code"] == "momo_reference_required"
    stall = await _stall(
        client, headers, markets["one"], payment_accounts=[momo | {"reference": "MOMOW2W123456789"}]
    )
    assert stall["payment_accounts"][0]["reference"] == "MOMOW2W123456789"
    png = await client.get(
        f"/api/stalls/{stall['id']}/qr.png", params={"scale": 5}, headers=headers
    )
    [text] = _scan(Image.open(io.BytesIO(png.content)))
    decoded = payload.decode(text)
    assert (
        decoded.valid
        and decoded.scheme == "momo_vietqr"
        and decoded.reference == "MOMOW2W123456789"
    )
    assert text == payload.encode(
        bin="971025", account="PSP0123456789", reference="MOMOW2W123456789"
    )


def _pdf_texts(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_bounded() for page in pypdfium2.PdfDocument(pdf)]


async def test_signs_print_the_support_number_of_the_partner_that_set_the_account_up(
    client, auth, markets
):
    """A stallholder whose transfer went wrong calls the partner that set the account up: its
    support number, once an administrator recorded it, is on the sign under that account; an
    account no partner set up, or a partner without a number, prints none."""
    volunteer, admin = await auth("volunteer"), await auth("admin")
    with_partner = await _stall(client, volunteer, markets["one"], "SP-1")
    no_partner = await _stall(
        client, volunteer, markets["one"], "SP-2",
        holder={"full_name": "Trần Văn Hỗ", "phone": "0905123457"},
        payment_accounts=[{"bin": "970436", "account_number": "0011001932418"}],
    )  # fmt: skip
    sign_of = lambda stall: client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=volunteer)  # noqa: E731
    [before] = _pdf_texts((await sign_of(with_partner)).content)
    assert "VietQR · NAPAS 247" in before and "Hỗ trợ" not in before

    r = await client.put("/api/partners/MB/support", json={"support_phone": "1900 545426"},
                         headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    line = f"VietQR · NAPAS 247 · Hỗ trợ {name}: 1900 545426"
    pdf = (await sign_of(with_partner)).content
    [text] = _pdf_texts(pdf)
    assert line in text
    [page] = _pdf_pages(pdf)
    assert _scan(page) == [payload.encode(bin="970422", account="0123456789")]  # the same code
    [other] = _pdf_texts((await sign_of(no_partner)).content)
    assert "Hỗ trợ" not in other and "VietQR · NAPAS 247" in other

    # A whole market's sheet and a print job show it under the same account only.
    market = f"/api/markets/{markets['one']}"
    sheet = await client.get(f"{market}/signs.pdf", headers=admin)
    assert sheet.status_code == 200
    assert sum(t.count("1900 545426") for t in _pdf_texts(sheet.content)) == 1
    job = await client.post(f"{market}/print-jobs", json={}, headers=admin)
    assert job.status_code == 201, job.text
    job_pdf = await client.get(job.json()["pdf_url"], headers=admin)
    assert sum(t.count(line) for t in _pdf_texts(job_pdf.content)) == 1

    # The number taken back: the signs print none again.
    await client.put("/api/partners/MB/support", json={"support_phone": None}, headers=admin)
    [after] = _pdf_texts((await sign_of(with_partner)).content)
    assert "Hỗ trợ" not in after


async def test_a_markets_signs_are_in_each_holders_access_log(client, conn, auth, markets):
    """A whole market's signs (the preview and a print job's PDF) show every holder's name and
    account: each read is in that person's access log, as one stall's sign is. A reviewer printed
    66 signs and found none of it in the stallholders' logs."""
    headers = await auth("manager")
    holders = []
    for i, code in enumerate(["LG-1", "LG-2"]):
        stall = await _stall(
            client, headers, markets["one"], code,
            holder={"full_name": f"Người Ghi {'AB'[i]}", "phone": f"090712345{i}"},
            payment_accounts=[{"bin": "970436", "account_number": f"20000{i}"}],
        )  # fmt: skip
        holders.append(stall["holder"]["id"])

    async def logged() -> list[tuple[int, str, str]]:
        rows = await conn.fetch(
            "SELECT stallholder_id, route, reason FROM access_log WHERE stallholder_id = any($1)"
            " ORDER BY id",
            holders,
        )
        return [(r["stallholder_id"], r["route"], r["reason"]) for r in rows]

    before = await logged()
    market = f"/api/markets/{markets['one']}"
    assert (await client.get(f"{market}/signs.pdf", headers=headers)).status_code == 200
    preview = [x for x in await logged() if x not in before]
    assert sorted(preview) == sorted((h, f"{market}/signs.pdf", "stall_sign") for h in holders), (
        preview
    )
    job = await client.post(f"{market}/print-jobs", json={}, headers=headers)
    assert job.status_code == 201, job.text
    seen = await logged()
    assert (await client.get(job.json()["pdf_url"], headers=headers)).status_code == 200
    printed = (await logged())[len(seen) :]
    route = f"/api/print-jobs/{job.json()['id']}/signs.pdf"
    assert sorted(printed) == sorted((h, route, "stall_sign") for h in holders), printed
