"""Stall levels: signs, verification (payload and photo), fees, payments, the transacting window."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta

from PIL import Image

from coverage import counters, job
from qr import payload, render
from tests.conftest import stall_body

GOOD = payload.encode(bin="970422", account="0123456789")


async def register(client, headers, market_id: int, code: str = "A-12", **over) -> int:
    body = stall_body(code, **over)
    if "holder" not in over:
        body["holder"] = {"full_name": "Lưu Thị Ngọc Thùy", "phone": None}
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=body,
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def market_cov(client, headers, market_id: int) -> dict:
    r = await client.get(f"/api/markets/{market_id}/coverage", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_registration_counts_an_active_stall_and_nothing_else(client, auth, markets, conn):
    h = await auth("volunteer")
    await register(client, h, markets["one"])
    cov = await market_cov(client, h, markets["one"])
    assert cov["active_stalls"] == 1
    assert {k: v["count"] for k, v in cov["levels"].items()} == {
        "qr_issued": 0,
        "qr_verified": 0,
        "transacting": 0,
        "fees_cashless": 0,
    }
    assert cov["status"] == "not_started"
    assert cov["thresholds"] == {"qr_verified": 0.9, "transacting": 0.3}
    assert [z["zone"] for z in cov["zones"]] == ["A", "B"]
    assert cov["zones"][0]["active_stalls"] == 1
    assert (await counters.recount(conn, window_days=30)).ok


async def test_sign_delivered_reaches_qr_issued_and_starts_the_market(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    r = await client.post(f"/api/stalls/{stall_id}/sign-delivered", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["level"] == "qr_issued"
    assert r.json()["levels"]["qr_issued"] is True
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["qr_issued"] == {"count": 1, "share": 1.0}
    assert cov["status"] == "in_progress"
    # Delivering twice still counts the stall once.
    await client.post(f"/api/stalls/{stall_id}/sign-delivered", headers=h)
    assert (await market_cov(client, h, markets["one"]))["levels"]["qr_issued"]["count"] == 1
    assert (await counters.recount(conn, window_days=30)).ok


async def test_mark_sign_issued_is_what_the_qr_module_calls(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    await counters.mark_sign_issued(conn, stall_id, window_days=30)
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["qr_issued"]["count"] == 1


async def test_verify_with_the_stored_account_reaches_qr_verified(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["level"] == "qr_verified"
    assert body["verified_method"] == "scan"
    assert body["levels"]["qr_issued"] is True  # a verified code was evidently issued
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["qr_verified"]["count"] == 1
    assert (await counters.recount(conn, window_days=30)).ok


async def test_mismatch_is_422_and_the_return_visit_flag_stays(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    other = payload.encode(bin="970436", account="0123456789")
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": other}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "qr_mismatch"
    assert r.json()["reason"] == "qr_mismatch"
    assert r.json()["needs_revisit"] is True
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert state["needs_revisit"] is True
    assert state["revisit_reason"] == "qr_mismatch"
    assert state["levels"]["qr_verified"] is False
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log "
            "WHERE entity = 'stall' AND entity_id = $1 AND action = 'verify_failed'",
            str(stall_id),
        )
        == 1
    )
    # A later good scan verifies and clears the flag.
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 200
    assert r.json()["needs_revisit"] is False
    assert r.json()["revisit_reason"] is None


async def test_a_failed_check_ends_an_earlier_verification(client, auth, markets, conn):
    """A stall checked once, whose sign is later read as another account's code, is no longer
    counted as verified (the market's number moves back, the recount agrees) until a check passes
    again; a code that is no VietQR at all leaves the verification as it was."""
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 200 and r.json()["level"] == "qr_verified"
    # Not a VietQR (the market's Zalo code photographed): says nothing of the sign.
    r = await client.post(
        f"/api/stalls/{stall_id}/verify", json={"payload": "https://zalo.me/g/abc"}, headers=h
    )
    assert r.status_code == 422 and r.json()["reason"] == "qr_invalid"
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert state["levels"]["qr_verified"] is True and state["verified_at"] is not None
    # Another account's code on the sign: the verification ends.
    other = payload.encode(bin="970436", account="0123456789")
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": other}, headers=h)
    assert r.status_code == 422 and r.json()["reason"] == "qr_mismatch"
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert state["levels"]["qr_verified"] is False and state["verified_at"] is None
    # No sign with the right code is known at the stall any more (the check had implied one).
    assert state["level"] == "registered" and state["needs_revisit"] is True
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["qr_verified"]["count"] == 0
    assert (await counters.recount(conn, window_days=30)).ok
    after = await conn.fetchval(
        "SELECT after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND action = 'verify_failed' ORDER BY id DESC LIMIT 1",
        str(stall_id),
    )
    assert (json.loads(after) if isinstance(after, str) else after)["verification_ended"] is True
    # Checked again with the right sign: verified.
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 200 and r.json()["level"] == "qr_verified"
    assert (await market_cov(client, h, markets["one"]))["levels"]["qr_verified"]["count"] == 1


async def test_same_account_at_another_bank_or_card_service_does_not_verify(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    for wrong in (
        payload.encode(bin="970422", account="0123456780"),
        payload.encode(bin="970422", account="0123456789", service="card"),
    ):
        r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": wrong}, headers=h)
        assert r.status_code == 422, wrong
        assert r.json()["code"] == "qr_mismatch"


async def test_broken_payload_is_a_mismatch_with_reason_qr_invalid(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    broken = GOOD[:-4] + "0000"
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": broken}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "qr_mismatch"
    assert r.json()["reason"] == "qr_invalid"
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert state["revisit_reason"] == "qr_invalid"


async def test_stall_without_accounts_cannot_be_verified(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"], payment_accounts=[])
    r = await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 422
    assert r.json()["reason"] == "no_account"


def _png_of(text: str) -> bytes:
    return render.png(text, scale=6)


def _photo_of(pngs: list[bytes]) -> bytes:
    """A JPEG 'photo' with the codes side by side on a grey background."""
    codes = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs]
    canvas = Image.new(
        "RGB",
        (sum(c.width for c in codes) + 40 * (len(codes) + 1), max(c.height for c in codes) + 80),
        (200, 200, 200),
    )
    x = 40
    for c in codes:
        canvas.paste(c, (x, 40))
        x += c.width + 40
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_verify_image_reads_the_code_in_a_photo(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    # Beside a QR that is no payment code (the stall's Zalo page), the sign's code passes.
    photo = _photo_of([_png_of("https://zalo.me/0905123456"), _png_of(GOOD)])
    r = await client.post(
        f"/api/stalls/{stall_id}/verify-image",
        files={"image": ("sign.jpg", photo, "image/jpeg")},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["level"] == "qr_verified"
    assert r.json()["codes_read"] == 2


async def test_another_payment_code_beside_the_sign_fails_the_check(client, auth, markets):
    """A photo holding the stall's code and another account's passed as "✓ ĐÚNG": a sticker on
    or beside the sign (how QR fraud works) took customers' money elsewhere, unseen."""
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    stranger = payload.encode(bin="970422", account="9999888877776")
    for order in ([stranger, GOOD], [GOOD, stranger]):
        photo = _photo_of([_png_of(p) for p in order])
        r = await client.post(
            f"/api/stalls/{stall_id}/verify-image",
            files={"image": ("sign.jpg", photo, "image/jpeg")},
            headers=h,
        )
        assert (r.status_code, r.json()["code"], r.json()["beside_own"]) == (
            422,
            "qr_mismatch",
            True,
        ), r.text
        assert sorted((c["account"], c["matches"]) for c in r.json()["scanned"]) == sorted(
            (payload.decode(p).account, p == GOOD) for p in order
        )
    coverage = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert (coverage["needs_revisit"], coverage["revisit_reason"]) == (True, "qr_mismatch")
    assert coverage["level"] != "qr_verified"


async def test_every_code_of_a_camera_frame_is_checked(client, auth, markets):
    """The camera sends every code of one frame (`payloads`), as a photo's are read: another
    payment code beside the sign fails; a repeated code counts once; exactly one of payload and
    payloads, each code 1-2000 characters, at most 8."""
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    url = f"/api/stalls/{stall_id}/verify"
    stranger = payload.encode(bin="970422", account="9999888877776")
    r = await client.post(url, json={"payloads": [GOOD, stranger]}, headers=h)
    assert (r.status_code, r.json()["code"], r.json()["beside_own"]) == (422, "qr_mismatch", True)
    r = await client.post(url, json={"payloads": [GOOD, GOOD]}, headers=h)
    assert (r.status_code, r.json()["codes_read"]) == (200, 1), r.text
    before = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    for bad in ({}, {"payload": GOOD, "payloads": [GOOD]}, {"payloads": []},
                {"payloads": [""]}, {"payloads": [GOOD] * 9}, {"payloads": GOOD}):  # fmt: skip
        r = await client.post(url, json=bad, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith(
            "application/problem+json"
        ), (bad, r.text)
    assert (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json() == before


async def test_verify_image_mismatch_flags_and_blank_image_is_no_qr_found(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    wrong = _photo_of([_png_of(payload.encode(bin="970436", account="111222333"))])
    r = await client.post(
        f"/api/stalls/{stall_id}/verify-image",
        files={"image": ("a.jpg", wrong, "image/jpeg")},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "qr_mismatch"
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), (255, 255, 255)).save(blank, "PNG")
    r = await client.post(
        f"/api/stalls/{stall_id}/verify-image",
        files={"image": ("b.png", blank.getvalue(), "image/png")},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "no_qr_found"
    r = await client.post(
        f"/api/stalls/{stall_id}/verify-image",
        files={"image": ("c.png", b"not an image", "image/png")},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bad_image"


async def test_fees_cashless_flag(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    r = await client.post(f"/api/stalls/{stall_id}/fees-cashless", json={"value": True}, headers=h)
    assert r.status_code == 200
    assert r.json()["levels"]["fees_cashless"] is True
    assert (await market_cov(client, h, markets["one"]))["levels"]["fees_cashless"]["count"] == 1
    await client.post(f"/api/stalls/{stall_id}/fees-cashless", json={"value": False}, headers=h)
    assert (await market_cov(client, h, markets["one"]))["levels"]["fees_cashless"]["count"] == 0
    r = await client.post(f"/api/stalls/{stall_id}/fees-cashless", json={"value": "yes"}, headers=h)
    assert r.status_code == 422
    assert (await counters.recount(conn, window_days=30)).ok


async def test_field_actions_need_write_scope(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    for who in ("viewer", "partner"):  # roles that never write: 403 before any lookup
        r = await client.post(f"/api/stalls/{stall_id}/sign-delivered", headers=await auth(who))
        assert r.status_code == 403, who
    # A writer outside the stall's market: as if it did not exist (a 403 told them it does).
    r = await client.post(
        f"/api/stalls/{stall_id}/sign-delivered", headers=await auth("volunteer2")
    )
    assert (r.status_code, r.json()["code"]) == (404, "stall_not_found")
    r = await client.post("/api/stalls/999999999/sign-delivered", headers=h)
    assert r.status_code == 404
    r = await client.post(f"/api/stalls/{2**63}/verify", json={"payload": GOOD}, headers=h)
    assert r.status_code == 422


async def test_vacant_stall_leaves_the_denominator_and_comes_back(client, auth, markets, conn):
    h = await auth("volunteer")
    a = await register(client, h, markets["one"], "A-1")
    await register(client, h, markets["one"], "A-2")
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    cov = await market_cov(client, h, markets["one"])
    assert (cov["active_stalls"], cov["levels"]["qr_issued"]["share"]) == (2, 0.5)
    r = await client.patch(
        f"/api/stalls/{a}", json={"status": "vacant"}, headers=h | {"If-Match": "1"}
    )
    assert r.status_code == 200, r.text
    cov = await market_cov(client, h, markets["one"])
    assert (cov["active_stalls"], cov["levels"]["qr_issued"]["count"]) == (1, 0)
    assert cov["status"] == "not_started"
    tiles = (await client.get(f"/api/markets/{markets['one']}/stall-tiles", headers=h)).json()
    levels = {t["stall_code"]: t["level"] for z in tiles["zones"] for t in z["stalls"]}
    assert levels == {"A-1": "inactive", "A-2": "registered"}
    await client.patch(f"/api/stalls/{a}", json={"status": "active"}, headers=h | {"If-Match": "2"})
    cov = await market_cov(client, h, markets["one"])
    assert (cov["active_stalls"], cov["levels"]["qr_issued"]["count"]) == (2, 1)
    assert (await counters.recount(conn, window_days=30)).ok


async def test_zone_change_moves_the_stall_between_zone_counts(client, auth, markets, conn):
    h = await auth("volunteer")
    a = await register(client, h, markets["one"], "A-1")
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    await client.patch(f"/api/stalls/{a}", json={"zone": "B"}, headers=h | {"If-Match": "1"})
    zones = {z["zone"]: z for z in (await market_cov(client, h, markets["one"]))["zones"]}
    assert zones["A"]["active_stalls"] == 0
    assert zones["B"]["active_stalls"] == 1
    assert zones["B"]["levels"]["qr_issued"]["count"] == 1
    assert (await counters.recount(conn, window_days=30)).ok


async def test_payment_makes_a_stall_transacting_until_the_window_passes(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    now = datetime.now(UTC)
    await counters.record_payment(
        conn, window_days=30, stall_id=stall_id, occurred_at=now - timedelta(days=2)
    )
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["transacting"] == {"count": 1, "share": 1.0}
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert state["level"] == "transacting"
    # An older payment does not move the last payment back.
    await counters.record_payment(
        conn, window_days=30, stall_id=stall_id, occurred_at=now - timedelta(days=20)
    )
    assert (await counters.recount(conn, window_days=30)).ok
    # The daily job, 27 days later: still inside 30 days.
    assert await job.reevaluate_all(conn, window_days=30, now=now + timedelta(days=27)) == 0
    assert (await market_cov(client, h, markets["one"]))["levels"]["transacting"]["count"] == 1
    # 29 days later the last payment (2 days before now) is 31 days old.
    later = now + timedelta(days=29)
    assert await job.reevaluate_all(conn, window_days=30, now=later) == 1
    assert (await market_cov(client, h, markets["one"]))["levels"]["transacting"]["count"] == 0
    assert (await counters.recount(conn, window_days=30, now=later)).ok


async def test_a_payment_older_than_the_window_does_not_count(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    await counters.record_payment(
        conn, window_days=30, stall_id=stall_id, occurred_at=datetime.now(UTC) - timedelta(days=45)
    )
    assert (await market_cov(client, h, markets["one"]))["levels"]["transacting"]["count"] == 0
    # A payment dated in the future (partner clock skew) is clamped to now, not kept for months.
    await counters.record_payment(
        conn, window_days=30, stall_id=stall_id, occurred_at=datetime.now(UTC) + timedelta(days=300)
    )
    last = await conn.fetchval(
        "SELECT last_payment_at FROM stall_coverage WHERE stall_id = $1", stall_id
    )
    assert last <= datetime.now(UTC) + timedelta(seconds=5)


async def test_name_match_counts_as_verified(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    account_id = await conn.fetchval("SELECT id FROM payment_account WHERE stall_id = $1", stall_id)
    assert await counters.mark_name_matched(
        conn, window_days=30, stall_id=stall_id, account_id=account_id
    )
    state = (await client.get(f"/api/stalls/{stall_id}/coverage", headers=h)).json()
    assert (state["level"], state["verified_method"]) == ("qr_verified", "name_match")
    assert not await counters.mark_name_matched(
        conn, window_days=30, stall_id=stall_id, account_id=account_id
    )


async def test_deactivated_verified_account_drops_qr_verified(client, auth, markets, conn):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    await client.post(f"/api/stalls/{stall_id}/verify", json={"payload": GOOD}, headers=h)
    await conn.execute("UPDATE payment_account SET active = false WHERE stall_id = $1", stall_id)
    await counters.on_stall_changed(conn, window_days=30, stall_id=stall_id)
    cov = await market_cov(client, h, markets["one"])
    assert cov["levels"]["qr_verified"]["count"] == 0
    assert (await counters.recount(conn, window_days=30)).ok


async def test_stall_coverage_is_scoped(client, auth, markets):
    h = await auth("volunteer")
    stall_id = await register(client, h, markets["one"])
    assert (
        await client.get(f"/api/stalls/{stall_id}/coverage", headers=await auth("viewer"))
    ).status_code == 200
    assert (
        await client.get(f"/api/stalls/{stall_id}/coverage", headers=await auth("volunteer2"))
    ).status_code == 404
    assert (
        await client.get(f"/api/stalls/{stall_id}/coverage", headers=await auth("partner"))
    ).status_code == 404
