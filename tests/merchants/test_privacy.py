"""Personal data of stallholders against the real database: minimisation, masking, access log,
consent per purpose, export and erasure."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

import pypdfium2
import pytest

from core.state import state_of
from privacy import consent as privacy
from privacy import errors as privacy_errors
from privacy import notices
from tests.conftest import TEST_KEYS, stall_body

NAME = "Lưu Thị Ngọc Thùy"
PHONE_E164 = "+84905123456"
PHONE_NATIONAL = "0905123456"
ACCOUNT = "0123456789"
ACCOUNT_NAME = "LUU THI NGOC THUY"
CCCD = "079123456789"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def register(client, headers, market_id: int, code: str = "A-12", **over) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls", json=stall_body(code, **over), headers=headers | key()
    )
    assert r.status_code == 201, r.text
    return r.json()


async def rows_containing(conn, needle: str) -> list[str]:
    """Every table (all columns, any type: the whole row as text) holding `needle`."""
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    found = []
    for t in tables:
        name = t["table_name"]
        count = await conn.fetchval(
            f'SELECT count(*) FROM "{name}" r WHERE r::text ILIKE $1', f"%{needle}%"
        )
        if count:
            rows = await conn.fetch(
                f'SELECT r::text AS t FROM "{name}" r WHERE r::text ILIKE $1', f"%{needle}%"
            )
            found.append(f"{name} ({count} rows): {[x['t'][:600] for x in rows]}")
    return found


# ---------------------------------------------------------------- minimisation and masking


async def test_full_cccd_is_nowhere_in_the_database(client, conn, auth, markets):
    holder = {"full_name": NAME, "phone": PHONE_NATIONAL, "cccd": CCCD}
    stall = await register(client, await auth("volunteer"), markets["one"], holder=holder)
    assert CCCD not in str(stall) and stall["holder"]["cccd_last4"] == "6789"

    assert await rows_containing(conn, CCCD) == []
    # Also not as bytes (a bytea column would show the ASCII digits in hex).
    assert await rows_containing(conn, CCCD.encode().hex()) == []
    row = await conn.fetchrow(
        "SELECT cccd_hash, cccd_last4 FROM stallholder WHERE id = $1", stall["holder"]["id"]
    )
    assert row["cccd_last4"] == "6789"
    # A keyed hash: the plain SHA-256 of the number (which anyone could recompute) is not stored.
    assert (
        bytes(row["cccd_hash"])
        == hmac.new(b"test-secret-key", CCCD.encode(), hashlib.sha256).digest()
    )
    assert bytes(row["cccd_hash"]) != hashlib.sha256(CCCD.encode()).digest()
    read = await client.get(f"/api/stalls/{stall['id']}", headers=await auth("admin"))
    assert CCCD not in read.text


async def test_lists_mask_phones(client, auth, markets):
    headers = await auth("volunteer")
    await register(client, headers, markets["one"])
    page = await client.get(f"/api/markets/{markets['one']}/stalls", headers=headers)
    assert page.status_code == 200
    item = page.json()["items"][0]
    assert item["phone_masked"] == "090****456"
    assert "905123456" not in page.text and ACCOUNT not in page.text


async def test_reading_a_full_record_is_logged(client, conn, auth, markets):
    stall = await register(client, await auth("volunteer"), markets["one"])
    holder_id = stall["holder"]["id"]
    before = await conn.fetchval(
        "SELECT count(*) FROM access_log WHERE stallholder_id = $1", holder_id
    )
    # A masked list is not a read of the full record.
    await client.get(f"/api/markets/{markets['one']}/stalls", headers=await auth("manager"))
    assert (
        await conn.fetchval("SELECT count(*) FROM access_log WHERE stallholder_id = $1", holder_id)
        == before
    )

    r = await client.get(f"/api/stalls/{stall['id']}", headers=await auth("manager"))
    assert r.status_code == 200 and r.json()["holder"]["phone"] == PHONE_E164
    entry = await conn.fetchrow(
        """SELECT u.username, l.route, l.reason, l.at
           FROM access_log l JOIN app_user u ON u.id = l.actor_id
           WHERE l.stallholder_id = $1 ORDER BY l.id DESC LIMIT 1""",
        holder_id,
    )
    assert entry["username"] == "manager"
    assert entry["route"] == f"/api/stalls/{stall['id']}"
    assert entry["reason"] == "stall_record" and entry["at"] is not None
    # Its QR code (which shows the account) is a read of its own, said as such: the stall page
    # that shows both is not two openings of the record.
    qr = await client.get(f"/api/stalls/{stall['id']}/qr.png", headers=await auth("manager"))
    assert qr.status_code == 200
    reasons = [
        r["reason"]
        for r in await conn.fetch(
            "SELECT reason FROM access_log WHERE stallholder_id = $1 ORDER BY id DESC LIMIT 2",
            holder_id,
        )
    ]
    assert reasons == ["stall_sign", "stall_record"]
    before += 1
    # A denied read leaves no entry and reveals nothing.
    denied = await client.get(f"/api/stalls/{stall['id']}", headers=await auth("volunteer2"))
    assert denied.status_code == 404
    assert (
        await conn.fetchval("SELECT count(*) FROM access_log WHERE stallholder_id = $1", holder_id)
        == before + 1
    )


async def test_who_read_a_record_is_shown_to_those_who_act_on_rights(client, conn, auth, markets):
    """GET .../access-log: the reads of a person's full record, newest first, for admins and the
    managers of their markets; reading it records nothing (no data-subject request, no entry)."""
    stall = await register(client, await auth("volunteer"), markets["one"])
    holder_id = stall["holder"]["id"]
    await client.get(f"/api/stalls/{stall['id']}", headers=await auth("volunteer"))
    await client.get(f"/api/stalls/{stall['id']}", headers=await auth("manager"))
    entries = await conn.fetchval("SELECT count(*) FROM access_log")
    requests = await conn.fetchval("SELECT count(*) FROM data_request")
    r = await client.get(f"/api/stallholders/{holder_id}/access-log", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert [(e["actor"], e["reason"]) for e in got[:2]] == [
        ("manager", "stall_record"),
        ("volunteer", "stall_record"),
    ]
    assert got[0]["route"] == f"/api/stalls/{stall['id']}" and got[0]["at"] >= got[1]["at"]
    r = await client.get(f"/api/stallholders/{holder_id}/access-log", headers=await auth("manager"))
    assert r.status_code == 200 and len(r.json()) == len(got)
    assert await conn.fetchval("SELECT count(*) FROM access_log") == entries
    assert await conn.fetchval("SELECT count(*) FROM data_request") == requests
    # Other roles are refused; a person out of scope or unknown is not found (nothing revealed).
    for who in ("volunteer", "viewer", "partner"):
        r = await client.get(f"/api/stallholders/{holder_id}/access-log", headers=await auth(who))
        assert r.status_code == 403, who
    other = await register(client, await auth("admin"), markets["two"], code="Z-1")
    r = await client.get(
        f"/api/stallholders/{other['holder']['id']}/access-log", headers=await auth("manager")
    )
    assert r.status_code == 404 and r.json()["code"] == "stallholder_not_found"


# ---------------------------------------------------------------- consent


async def test_consents_are_recorded_per_purpose_with_notice_time_and_collector(
    client, auth, markets
):
    stall = await register(client, await auth("volunteer"), markets["one"])
    r = await client.get(
        f"/api/stallholders/{stall['holder']['id']}/consents", headers=await auth("volunteer")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active_purposes"] == ["coverage_reporting", "qr_sign", "registration"]
    for c in body["consents"]:
        assert c["notice_version"] == "2026-01" and c["collected_by"] == "volunteer"
        assert c["granted_at"] and c["withdrawn_at"] is None and c["channel"] == "tablet"


async def test_grant_needs_ticked_purposes(client, auth, markets, monkeypatch):
    headers = await auth("volunteer")
    stall = await register(client, headers, markets["one"])
    url = f"/api/stallholders/{stall['holder']['id']}/consents"
    empty = await client.post(
        url, json={"notice_version": "2026-01", "purposes": []}, headers=headers
    )
    assert empty.status_code == 422 and empty.json()["code"] == "no_purpose"
    unknown = await client.post(
        url, json={"notice_version": "2026-01", "purposes": ["marketing"]}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_purpose"
    no_notice = await client.post(url, json={"purposes": ["share_partner:MB"]}, headers=headers)
    assert no_notice.status_code == 422
    unpublished = await client.post(
        url, json={"notice_version": "2031-09", "purposes": ["share_partner:MB"]}, headers=headers
    )
    assert unpublished.status_code == 422
    assert unpublished.json()["code"] == "unknown_notice_version"
    assert unpublished.json()["field"] == "notice_version"
    # A later notice, published after the stall registered (consent under 2026-01).
    published = notices._all() | {"2026-02": notices._all()["2026-01"]}
    monkeypatch.setattr(notices, "_all", lambda: published)

    granted = await client.post(
        url,
        json={"notice_version": "2026-02", "purposes": ["share_partner:MB"], "channel": "paper"},
        headers=headers,
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["changed"] == ["share_partner:MB"]
    assert "share_partner:MB" in granted.json()["active_purposes"]
    share = next(c for c in granted.json()["consents"] if c["purpose"] == "share_partner:MB")
    assert share["notice_version"] == "2026-02" and share["channel"] == "paper"
    again = await client.post(
        url, json={"notice_version": "2026-02", "purposes": ["share_partner:MB"]}, headers=headers
    )
    assert again.json()["changed"] == []


async def test_withdrawing_qr_sign_stops_sign_generation(client, conn, auth, markets):
    headers = await auth("volunteer")
    stall = await register(client, headers, markets["one"])
    holder_id = stall["holder"]["id"]
    await privacy.require_purpose(conn, holder_id, "qr_sign")  # consented at registration

    r = await client.post(
        f"/api/stallholders/{holder_id}/consents/withdraw",
        json={"purposes": ["qr_sign"]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == ["qr_sign"] and r.json()["erase_request"] is None
    assert "qr_sign" not in r.json()["active_purposes"]
    with pytest.raises(privacy_errors.ConsentWithdrawn) as exc:
        await privacy.require_purpose(conn, holder_id, "qr_sign")
    assert exc.value.code == "consent_withdrawn" and exc.value.status == 409
    assert await privacy.has_purpose(conn, holder_id, "registration")
    # The withdrawal is a logged, completed data-subject request.
    req = await conn.fetchrow(
        "SELECT kind, completed_at FROM data_request WHERE stallholder_id = $1", holder_id
    )
    assert req["kind"] == "withdraw" and req["completed_at"] is not None
    # The sign route answers 409 consent_withdrawn (the QR router asks privacy.require_purpose).
    sign = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    assert sign.status_code == 409 and sign.json()["code"] == "consent_withdrawn"


async def test_purpose_never_given_is_missing(client, conn, auth, markets):
    consent = {"notice_version": "2026-01", "purposes": ["registration"]}
    stall = await register(client, await auth("volunteer"), markets["one"], consent=consent)
    with pytest.raises(privacy_errors.ConsentMissing):
        await privacy.require_purpose(conn, stall["holder"]["id"], "qr_sign")
    with pytest.raises(privacy_errors.ConsentMissing):
        await privacy.require_purpose(conn, None, "qr_sign")


async def test_partner_share_is_a_purpose_per_partner(client, conn, auth, markets):
    headers = await auth("volunteer")
    stall = await register(client, headers, markets["one"])
    holder_id = stall["holder"]["id"]
    url = f"/api/stallholders/{holder_id}/consents"
    mb, momo = privacy.partner_purpose("MB"), privacy.partner_purpose("MOMO")
    assert await privacy.consent_states(conn, [holder_id], mb) == {}
    await client.post(
        url, json={"notice_version": "2026-01", "purposes": [mb, momo]}, headers=headers
    )
    assert await privacy.has_purpose(conn, holder_id, mb) and await privacy.has_purpose(
        conn, holder_id, momo
    )

    await client.post(url + "/withdraw", json={"purposes": [mb]}, headers=headers)
    assert not await privacy.has_purpose(conn, holder_id, mb)
    assert await privacy.has_purpose(conn, holder_id, momo)
    assert await privacy.consent_states(conn, [holder_id], mb) == {holder_id: "withdrawn"}
    # Asking again and getting a yes is a new record; the history keeps the withdrawal.
    await client.post(url, json={"notice_version": "2026-01", "purposes": [mb]}, headers=headers)
    assert await privacy.consent_states(conn, [holder_id], mb) == {holder_id: "granted"}
    history = (await client.get(url, headers=headers)).json()["consents"]
    assert [c["withdrawn_at"] is None for c in history if c["purpose"] == mb] == [False, True]


async def test_withdrawing_registration_opens_an_erase_request(app, client, conn, auth, markets):
    state_of(app).settings = state_of(app).settings.model_copy(
        update={"data_request_deadline_days": 10}
    )
    stall = await register(client, await auth("volunteer"), markets["one"])
    holder_id = stall["holder"]["id"]
    r = await client.post(
        f"/api/stallholders/{holder_id}/consents/withdraw",
        json={"purposes": ["registration"]},
        headers=await auth("volunteer"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active_purposes"] == []
    assert body["changed"] == ["coverage_reporting", "qr_sign", "registration"]
    erase_request = body["erase_request"]
    assert erase_request["kind"] == "erase" and erase_request["completed_at"] is None

    row = await conn.fetchrow(
        "SELECT requested_at, due_at FROM data_request WHERE id = $1", erase_request["id"]
    )
    assert row["due_at"] - row["requested_at"] == timedelta(days=10)  # the setting, not a constant
    listed = await client.get("/api/data-requests", headers=await auth("manager"))
    assert [d["id"] for d in listed.json()] == [erase_request["id"]]
    # The list says whose request it is by stall and market, never by name.
    assert listed.json()[0]["stalls"] == [
        {
            "id": stall["id"],
            "stall_code": stall["stall_code"],
            "market_id": markets["one"],
            "market_name": "Chợ Thử Một",
        }
    ]
    assert stall["holder"]["full_name"] not in listed.text
    assert (
        await client.get("/api/data-requests", headers=await auth("volunteer"))
    ).status_code == 403

    done = await client.post(f"/api/stallholders/{holder_id}/erase", headers=await auth("manager"))
    assert done.status_code == 200, done.text
    assert done.json()["data_request"]["id"] == erase_request["id"]
    assert done.json()["data_request"]["completed_at"] is not None
    assert (await client.get("/api/data-requests", headers=await auth("admin"))).json() == []


# ---------------------------------------------------------------- export


async def test_export_holds_everything_about_the_person(client, conn, auth, markets):
    stall = await register(
        client,
        await auth("volunteer"),
        markets["one"],
        holder={"full_name": NAME, "phone": PHONE_NATIONAL, "cccd": CCCD},
    )
    holder_id = stall["holder"]["id"]
    await client.get(f"/api/stalls/{stall['id']}", headers=await auth("volunteer"))

    r = await client.post(f"/api/stallholders/{holder_id}/export", headers=await auth("manager"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["stallholder"]["full_name"] == NAME and doc["stallholder"]["phone"] == PHONE_E164
    assert doc["stallholder"]["cccd_last4"] == "6789" and CCCD not in r.text
    assert [s["stall_code"] for s in doc["stalls"]] == ["A-12"]
    assert doc["stalls"][0]["market_name"] == "Chợ Thử Một"
    assert [a["account_number"] for a in doc["payment_accounts"]] == [ACCOUNT]
    assert sorted(c["purpose"] for c in doc["consents"]) == [
        "coverage_reporting",
        "qr_sign",
        "registration",
    ]
    assert [(a["actor"], a["reason"]) for a in doc["access_log"]] == [
        ("volunteer", "stall_record"),
        ("manager", "export"),
    ]
    assert doc["audit"][0]["action"] == "register" and doc["audit"][0]["actor"] == "volunteer"
    assert [(o["partner_code"], o["status"]) for o in doc["partner_onboardings"]] == [
        ("MB", "active")
    ]
    assert doc["payments_received"] == []
    # Times in ISO 8601 with their offset (a plain str() wrote "2026-12-06 03:10:09.21+00:00").
    created = doc["stallholder"]["created_at"]
    assert "T" in created and datetime.fromisoformat(created).utcoffset() is not None
    assert all("T" in a["at"] for a in doc["access_log"]), doc["access_log"]
    export_req = next(d for d in doc["data_requests"] if d["id"] == doc["export_request_id"])
    assert export_req["kind"] == "export" and export_req["completed_at"] is not None
    row = await conn.fetchrow(
        "SELECT requested_at, due_at FROM data_request WHERE id = $1", doc["export_request_id"]
    )
    assert row["due_at"] - row["requested_at"] == timedelta(days=3)


async def test_the_printed_export_is_in_vietnamese_and_recorded_like_the_json(
    client, conn, auth, markets
):
    """The page a market board hands the person: their own data whole (name, phone, account), in
    Vietnamese only, recorded as their export request and as a read, like the JSON."""
    stall = await register(
        client,
        await auth("volunteer"),
        markets["one"],
        holder={"full_name": NAME, "phone": PHONE_NATIONAL, "cccd": CCCD},
    )
    holder_id = stall["holder"]["id"]
    # A manager's stall list carries the person's name: a read of its own kind, not their export
    # (a reviewer found the list downloads printed as "xuất dữ liệu theo yêu cầu").
    listed = await client.get("/api/exports/stalls.csv", headers=await auth("manager"))
    assert listed.status_code == 200, listed.text
    r = await client.post(
        f"/api/stallholders/{holder_id}/export?format=pdf", headers=await auth("manager")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert f"du-lieu-ca-nhan-{holder_id}.pdf" in r.headers["content-disposition"]
    text = " ".join(pdf_text(r.content).split())
    for words in (
        "Dữ liệu cá nhân do Chợ Số lưu giữ",
        NAME,
        "0905 123 456",
        "chỉ 4 số cuối: 6789",
        "A-12",
        "Chợ Thử Một",
        "MBBank",
        ACCOUNT,
        "In họ tên, tên và số tài khoản lên biển mã QR treo tại sạp",
        "đang hoạt động",
        "Chưa ghi nhận giao dịch nào.",
        "xuất dữ liệu theo yêu cầu",
        "tải danh sách sạp có tên người này",
        "91/2025/QH15",
    ):
        assert words in text, words
    assert text.count("xuất dữ liệu theo yêu cầu") == 1  # the export itself, once
    # A row logged before list downloads had their own reason is read by its route, for every
    # reader of the log (the API here; the stall page and the printed page read the same).
    await conn.execute(
        "INSERT INTO access_log (stallholder_id, route, reason) VALUES"
        " ($1, '/api/exports/stalls.xlsx', 'export')",
        holder_id,
    )
    log = await client.get(
        f"/api/stallholders/{holder_id}/access-log", headers=await auth("manager")
    )
    reasons = {(e["route"], e["reason"]) for e in log.json()}
    assert ("/api/exports/stalls.xlsx", "list_export") in reasons
    assert ("/api/exports/stalls.xlsx", "export") not in reasons
    assert any(r == "export" and "/export" in route for route, r in reasons), reasons
    assert CCCD not in text
    for english in ("Stall", "account", "consent", "export", "registration", "qr_sign", "None"):
        assert english not in text, english
    rows = await conn.fetch(
        "SELECT completed_at FROM data_request WHERE stallholder_id = $1 AND kind = 'export'",
        holder_id,
    )
    assert len(rows) == 1 and rows[0]["completed_at"] is not None
    reads = await conn.fetch(
        "SELECT reason FROM access_log WHERE stallholder_id = $1 AND reason = 'export'"
        " AND route NOT LIKE '/api/exports/%'",
        holder_id,
    )
    assert len(reads) == 1
    # Not offered to others, and a format we do not make is a clear 422 that records nothing.
    for who in ("volunteer", "viewer"):
        r = await client.post(
            f"/api/stallholders/{holder_id}/export?format=pdf", headers=await auth(who)
        )
        assert r.status_code == 403, who
    r = await client.post(
        f"/api/stallholders/{holder_id}/export?format=xml", headers=await auth("manager")
    )
    assert r.status_code == 422
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM data_request WHERE stallholder_id = $1", holder_id
        )
        == 1
    )
    # After an erasure the page says the numbers are gone (not the '~' the store keeps).
    r = await client.post(f"/api/stallholders/{holder_id}/erase", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/stallholders/{holder_id}/export?format=pdf", headers=await auth("admin")
    )
    assert r.status_code == 200, r.text
    text = " ".join(pdf_text(r.content).split())
    assert "(đã xóa theo yêu cầu)" in text and "~" not in text and ACCOUNT not in text


def pdf_text(data: bytes) -> str:
    doc = pypdfium2.PdfDocument(data)
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


async def test_export_and_erase_respect_role_and_scope(client, auth, markets):
    other = await register(client, await auth("admin"), markets["two"])
    holder_id = other["holder"]["id"]
    # The manager's ward holds market one only: reading or erasing someone in market two is 404
    # (a 403 told them the person exists).
    assert (
        await client.post(f"/api/stallholders/{holder_id}/export", headers=await auth("manager"))
    ).status_code == 404
    assert (
        await client.post(f"/api/stallholders/{holder_id}/erase", headers=await auth("manager"))
    ).status_code == 404
    assert (
        await client.get(f"/api/stallholders/{holder_id}/consents", headers=await auth("volunteer"))
    ).status_code == 404
    withdraw = await client.post(
        f"/api/stallholders/{holder_id}/consents/withdraw",
        json={"purposes": ["qr_sign"]},
        headers=await auth("volunteer"),
    )
    assert withdraw.status_code == 404
    # Volunteers collect consent but do not act on export or erasure.
    assert (
        await client.post(f"/api/stallholders/{holder_id}/export", headers=await auth("volunteer2"))
    ).status_code == 403
    assert (
        await client.get(f"/api/stallholders/{holder_id}/consents", headers=await auth("viewer"))
    ).status_code == 403
    assert (
        await client.post("/api/stallholders/999999999/export", headers=await auth("admin"))
    ).status_code == 404


# ---------------------------------------------------------------- erasure


async def test_erase_anonymises_the_person_and_keeps_the_stall_counted(client, conn, auth, markets):
    admin = await auth("admin")
    stall = await register(
        client,
        await auth("volunteer"),
        markets["one"],
        holder={"full_name": NAME, "phone": PHONE_NATIONAL, "cccd": CCCD},
    )
    neighbour = await register(
        client,
        admin,
        markets["one"],
        "A-13",
        holder={"full_name": "Trần Văn Đức"},
        payment_accounts=[
            {"bin": "970436", "account_number": "1029384756", "account_name": "TRAN VAN DUC"}
        ],
    )
    holder_id = stall["holder"]["id"]
    await client.patch(
        f"/api/stalls/{stall['id']}", json={"goods": "Cá"}, headers=admin | {"If-Match": "1"}
    )
    account_id = stall["payment_accounts"][0]["id"]
    await conn.execute(  # a printed sign keeps the payload, which holds the account number
        "INSERT INTO sign_print (stall_id, payment_account_id, payload, format) "
        "VALUES ($1, $2, $3, 'cli')",
        stall["id"],
        account_id,
        TEST_KEYS.seal(f"000201...0010A000000727...{ACCOUNT}...6304ABCD"),
    )
    await conn.execute(  # a payment received, and the partner message that reported it
        """INSERT INTO payment_event (partner_code, external_id, payment_account_id, stall_id,
                                      amount, occurred_at, matched, account_number, reference)
           VALUES ('MB', 'tx-1', $1, $2, 25000, now(), true, $3, 'CK cho LUU THI NGOC THUY')""",
        account_id,
        stall["id"],
        TEST_KEYS.seal(ACCOUNT),
    )
    await conn.execute(
        """INSERT INTO partner_event (partner_code, external_id, type, payload, fingerprint,
                                      body_sha256, payment_account_id)
           VALUES ('MB', 'ev-1', 'payment.received', $1, '\\x00', '\\x00', $2)""",
        {
            "type": "payment.received",
            "data": {"account_number": TEST_KEYS.seal(ACCOUNT), "amount": 25000},
        },
        None,  # found by the sealed number it names, not by a link
    )
    await conn.execute(
        "UPDATE payment_account SET bank_account_name = $2, name_check = 'matched' WHERE id = $1",
        account_id,
        ACCOUNT_NAME,
    )
    await conn.execute(  # its code was checked on the sign
        """UPDATE stall_coverage SET verified_at = now(), verified_method = 'scan',
                  verified_account_id = $2, verified_by = (SELECT id FROM app_user LIMIT 1)
           WHERE stall_id = $1""",
        stall["id"],
        account_id,
    )
    # A MoMo wallet: its MOMOW2W… reference names the person's wallet as a number does.
    wallet = {"bin": "971025", "account_number": "0905123456", "reference": "MOMOW2W466121630"}
    r = await client.post(f"/api/stalls/{stall['id']}/payment-accounts", json=wallet, headers=admin)
    assert r.status_code == 201, r.text
    market_before = (await client.get(f"/api/markets/{markets['one']}", headers=admin)).json()[
        "stall_count"
    ]
    stalls_before = await conn.fetchval("SELECT count(*) FROM stall")
    active_before = await conn.fetchval("SELECT count(*) FROM stall WHERE status = 'active'")
    sealed = TEST_KEYS.seal(ACCOUNT)
    for needle in (NAME, PHONE_E164, PHONE_NATIONAL, sealed, ACCOUNT_NAME, "MOMOW2W466121630"):
        assert await rows_containing(conn, needle), needle  # present before, so the check can fail
    assert await rows_containing(conn, ACCOUNT) == []  # stored sealed, never in clear

    r = await client.post(f"/api/stallholders/{holder_id}/erase", headers=admin)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["already_erased"] is False and result["stall_ids"] == [stall["id"]]
    assert result["accounts_deactivated"] == 2

    # No trace of the person anywhere: holder, accounts, search text, audit, printed payloads.
    for needle in (
        NAME,
        "luu thi ngoc thuy",
        PHONE_E164,
        PHONE_NATIONAL,
        "905123456",
        ACCOUNT,
        sealed,
        ACCOUNT_NAME,
        "MOMOW2W466121630",
    ):
        assert await rows_containing(conn, needle) == [], needle
    holder = await conn.fetchrow("SELECT * FROM stallholder WHERE id = $1", holder_id)
    assert holder["full_name"] is None and holder["phone_e164"] is None
    assert (
        holder["cccd_hash"] is None
        and holder["cccd_last4"] is None
        and holder["erased_at"] is not None
    )
    account = await conn.fetchrow(
        "SELECT active, account_number, account_name FROM payment_account WHERE id = $1", account_id
    )
    assert (
        account["active"] is False
        and account["account_name"] is None
        and account["account_number"].startswith("~")
    )
    payment = await conn.fetchrow(
        "SELECT amount, account_number, reference FROM payment_event WHERE external_id = 'tx-1'"
    )
    assert (payment["amount"], payment["account_number"], payment["reference"]) == (
        25000,
        None,
        None,
    )
    event = await conn.fetchval("SELECT payload FROM partner_event WHERE external_id = 'ev-1'")
    assert event == {"type": "payment.received", "data": {"account_number": None, "amount": 25000}}
    assert (
        await conn.fetchval("SELECT search_text FROM stall WHERE id = $1", stall["id"])
        == "a-12 ca a12"  # code, goods, compacted code (core.text.stall_search_text)
    )
    audit = await conn.fetch(
        "SELECT before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1",
        str(stall["id"]),
    )
    assert audit and all(
        (row["after"] or {}).get("holder", {}).get("full_name") is None for row in audit
    )

    # The stall, its status and the coverage counts survive; the neighbour is untouched.
    assert await conn.fetchval("SELECT count(*) FROM stall") == stalls_before
    assert (
        await conn.fetchval("SELECT count(*) FROM stall WHERE status = 'active'") == active_before
    )
    assert (await client.get(f"/api/markets/{markets['one']}", headers=admin)).json()[
        "stall_count"
    ] == market_before
    read = (await client.get(f"/api/stalls/{stall['id']}", headers=admin)).json()
    assert (
        read["status"] == "active"
        and read["holder"]["erased"] is True
        and read["holder"]["full_name"] is None
    )
    assert [a["active"] for a in read["payment_accounts"]] == [False, False]
    assert [a["reference"] for a in read["payment_accounts"]] == [None, None]
    # The sign at the stall showed the erased account: no check of its code is kept either.
    checked = await conn.fetchrow(
        "SELECT verified_at, verified_method, verified_by, verified_account_id "
        "FROM stall_coverage WHERE stall_id = $1",
        stall["id"],
    )
    assert dict(checked) == dict.fromkeys(checked.keys())
    assert (await client.get(f"/api/stalls/{neighbour['id']}", headers=admin)).json()["holder"][
        "full_name"
    ] == "Trần Văn Đức"
    found = await client.get(
        f"/api/markets/{markets['one']}/stalls", params={"q": "thuy"}, headers=admin
    )
    assert found.json()["items"] == []

    # Logged with its deadline and completion; every purpose is withdrawn; a retry changes nothing.
    req = await conn.fetchrow(
        "SELECT kind, requested_at, due_at, completed_at FROM data_request "
        "WHERE stallholder_id = $1",
        holder_id,
    )
    assert req["kind"] == "erase" and req["completed_at"] is not None
    assert req["due_at"] - req["requested_at"] == timedelta(days=3)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM consent WHERE stallholder_id = $1 AND withdrawn_at IS NULL",
            holder_id,
        )
        == 0
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log "
            "WHERE action = 'erase' AND entity = 'stallholder' AND entity_id = $1",
            str(holder_id),
        )
        == 1
    )
    again = await client.post(f"/api/stallholders/{holder_id}/erase", headers=admin)
    assert again.status_code == 200 and again.json()["already_erased"] is True
    regrant = await client.post(
        f"/api/stallholders/{holder_id}/consents",
        json={"notice_version": "2026-01", "purposes": ["qr_sign"]},
        headers=admin,
    )
    assert regrant.status_code == 409 and regrant.json()["code"] == "stallholder_erased"
    with pytest.raises(privacy_errors.ConsentWithdrawn):
        await privacy.require_purpose(conn, holder_id, "qr_sign")


async def test_an_erased_stall_can_still_be_edited_without_bringing_data_back(
    client, conn, auth, markets
):
    admin = await auth("admin")
    stall = await register(client, admin, markets["one"])
    erased = await client.post(f"/api/stallholders/{stall['holder']['id']}/erase", headers=admin)
    version = (await client.get(f"/api/stalls/{stall['id']}", headers=admin)).json()["version"]
    assert version > stall["version"]  # tablets holding the old copy must reload
    patch = {"status": "vacant", "holder": {"full_name": "Ai Đó"}}
    r = await client.patch(
        f"/api/stalls/{stall['id']}", json=patch, headers=admin | {"If-Match": str(version)}
    )
    assert erased.status_code == 200 and r.status_code == 200, r.text
    assert r.json()["status"] == "vacant" and r.json()["holder"]["full_name"] is None


async def test_the_consent_notice_is_served_and_registration_needs_a_published_one(
    client, auth, markets
):
    """The tablet shows the server's notice; a consent names a version the server published."""
    r = await client.get("/api/consent-notice")  # public: it is what stallholders are told
    assert r.status_code == 200
    notice = r.json()
    assert notice["version"] == "2026-01" and notice["current"] is True
    assert notice["vi"] and notice["en"] and "CCCD" in " ".join(notice["vi"])
    assert (await client.get("/api/consent-notices/2026-01")).json() == notice
    missing = await client.get("/api/consent-notices/1999-01")
    assert missing.status_code == 404 and missing.json()["code"] == "notice_not_found"

    headers = await auth("volunteer")
    body = stall_body("N-1")
    body["consent"]["notice_version"] = "2099-12"
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_notice_version"
    assert r.json()["field"] == "consent.notice_version"


def test_an_app_will_not_start_with_a_notice_version_it_cannot_show(tmp_path):
    from main import create_app
    from tests.conftest import make_settings

    with pytest.raises(RuntimeError, match="NOTICE_VERSION"):
        create_app(make_settings(tmp_path, None, notice_version="2099-12"))
