"""Stall registration end to end through the ASGI app, on the real database."""

from __future__ import annotations

import json
import uuid

import pytest

from merchants.queries import stalls as stalls_q
from tests.conftest import stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_register_returns_the_stall(client, auth, markets):
    headers = await auth("volunteer")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    assert stall["market_id"] == markets["one"]
    assert stall["stall_code"] == "A-12"
    assert stall["version"] == 1
    assert stall["holder"] == {
        "id": stall["holder"]["id"],
        "full_name": "Lưu Thị Ngọc Thùy",
        "phone": "+84905123456",
        "cccd_last4": None,
        "erased": False,
    }
    [account] = stall["payment_accounts"]
    assert account["bin"] == "970422" and account["bank_short_name"] == "MBBank"
    assert account["account_name"] == "LUU THI NGOC THUY" and account["partner_code"] == "MB"
    assert r.headers["etag"] == '"1"'
    got = await client.get(f"/api/stalls/{stall['id']}", headers=headers)
    assert got.status_code == 200 and got.json()["id"] == stall["id"]


async def test_account_name_is_transliterated_and_upper_cased(client, auth, markets):
    body = stall_body()
    body["payment_accounts"][0]["account_name"] = "  Lưu thị  Ngọc Thùy đẹp "
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("admin") | key()
    )
    assert r.status_code == 201
    assert r.json()["payment_accounts"][0]["account_name"] == "LUU THI NGOC THUY DEP"


async def test_stall_without_account_and_minimal_fields(client, auth, markets):
    body = {
        "stall_code": "B 7",
        "holder": {"full_name": "Trần Văn Đức"},
        "consent": {"notice_version": "2026-01", "purposes": ["registration"]},
    }
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("admin") | key()
    )
    assert r.status_code == 201, r.text
    assert r.json()["payment_accounts"] == [] and r.json()["holder"]["phone"] is None


async def test_same_key_same_body_replays_the_same_stall(client, conn, auth, markets):
    headers = await auth("volunteer") | key()
    first = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers
    )
    counts = await stalls_q.table_counts(conn)
    again = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await stalls_q.table_counts(conn) == counts


async def test_same_key_other_body_is_refused(client, conn, auth, markets):
    headers = await auth("volunteer") | key()
    await client.post(f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers)
    counts = await stalls_q.table_counts(conn)
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body("A-13"), headers=headers
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "idempotency_key_reused"
    assert await stalls_q.table_counts(conn) == counts


async def test_missing_idempotency_key(client, auth, markets):
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=await auth("admin")
    )
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_required"


async def test_stall_code_taken(client, auth, markets):
    headers = await auth("volunteer")
    await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
    )
    other = stall_body("a-12", holder={"full_name": "Người Khác", "phone": "0912345678"})
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=other, headers=headers | key()
    )
    assert r.status_code == 409
    assert r.json()["code"] == "stall_code_taken" and r.json()["field"] == "stall_code"


async def test_same_phone_is_a_possible_duplicate_unless_confirmed(client, auth, markets):
    headers = await auth("volunteer")
    first = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
    )
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body("A-14"), headers=headers | key()
    )
    assert r.status_code == 409
    assert r.json()["code"] == "possible_duplicate"
    assert r.json()["existing_stall_id"] == first.json()["id"]
    ok = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("A-14", confirm_duplicate=True),
        headers=headers | key(),
    )
    assert ok.status_code == 201


async def test_an_account_another_stall_is_paid_on_is_refused_when_the_tablet_asks(
    client, conn, auth, markets
):
    """The same account typed for another stallholder of the market (read from the wrong card):
    the sign would send this stall's money to that holder. The tablet asks the check
    (check_shared_account); the volunteer who confirms both stalls are paid on it sends without."""
    headers = await auth("volunteer")
    url = f"/api/markets/{markets['one']}/stalls"
    first = (await client.post(url, json=stall_body(), headers=headers | key())).json()
    other = {"full_name": "Hồ Thị Sáu", "phone": "0912 000 111"}
    second_account = {"bin": "970436", "account_number": "0011001932418"}
    shared = stall_body("A-13", holder=other, check_shared_account=True)
    shared["payment_accounts"] = [second_account, shared["payment_accounts"][0]]
    before = await stalls_q.table_counts(conn)
    r = await client.post(url, json=shared, headers=headers | key())
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "account_in_use"
    assert problem["field"] == "payment_accounts.1.account_number"
    assert problem["existing_stall_id"] == first["id"]
    assert await stalls_q.table_counts(conn) == before
    # Written another way (grouped digits), it is the same account.
    shared["payment_accounts"][1]["account_number"] = "0123-456-789"
    r = await client.post(url, json=shared, headers=headers | key())
    assert r.json()["code"] == "account_in_use"
    # Not in use any more (its stall closed), or in another market: nothing to ask.
    other_market = stall_body("A-13", holder=other, check_shared_account=True)
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls", json=other_market, headers=headers | key()
    )
    assert r.status_code in (201, 403), r.text  # the volunteer may not work there
    # Confirmed: sent without the check.
    shared["check_shared_account"] = False
    ok = await client.post(url, json=shared, headers=headers | key())
    assert ok.status_code == 201, ok.text
    # The same person's second stall (confirm_duplicate) is not asked about the account again.
    same_person = stall_body("A-15", confirm_duplicate=True, check_shared_account=True)
    assert (await client.post(url, json=same_person, headers=headers | key())).status_code == 201


async def test_same_phone_in_another_market_is_fine(client, auth, markets):
    headers = await auth("admin")
    await client.post(
        f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
    )
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls", json=stall_body(), headers=headers | key()
    )
    assert r.status_code == 201


async def test_a_purpose_ticked_twice_is_one_consent_in_the_order_first_ticked(
    client, conn, auth, markets
):
    """The registration writes its consents as plain inserts (a new person has none to conflict
    with): a purpose sent twice must still be one row, not a unique violation."""
    purposes = ["qr_sign", "registration", "qr_sign", "coverage_reporting", "registration"]
    body = stall_body(consent={"notice_version": "2026-01", "purposes": purposes})
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("admin") | key()
    )
    assert r.status_code == 201, r.text
    rows = await conn.fetch(
        "SELECT purpose FROM consent WHERE stallholder_id = $1 ORDER BY id",
        r.json()["holder"]["id"],
    )
    assert [x["purpose"] for x in rows] == ["qr_sign", "registration", "coverage_reporting"]


async def test_several_accounts_keep_the_order_entered_in_every_row_written(
    client, conn, auth, markets
):
    """The statement reads the accounts it wrote in the order it wrote them, with no sort: the
    answer, the ids, the onboardings and the audit entry all follow the order entered."""
    entered = [
        {"bin": "970436", "account_number": "1000000003", "account_name": "LUU THI C",
         "partner_code": "VCB"},
        {"bin": "970422", "account_number": "1000000001", "account_name": "LUU THI A"},
        {"bin": "970422", "account_number": "1000000002", "account_name": "LUU THI B",
         "partner_code": "MB"},
    ]  # fmt: skip
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body(payment_accounts=entered),
        headers=await auth("admin") | key(),
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    answered = stall["payment_accounts"]
    assert [a["account_name"] for a in answered] == ["LUU THI C", "LUU THI A", "LUU THI B"]
    ids = [a["id"] for a in answered]
    assert ids == sorted(ids)
    rows = await conn.fetch(
        "SELECT id, position FROM payment_account WHERE stall_id = $1 ORDER BY id", stall["id"]
    )
    assert [(x["id"], x["position"]) for x in rows] == list(zip(ids, range(3), strict=True))
    onboardings = await conn.fetch(
        "SELECT payment_account_id, partner_code FROM onboarding"
        " WHERE payment_account_id = any($1::bigint[]) ORDER BY id",
        ids,
    )
    assert [(x["payment_account_id"], x["partner_code"]) for x in onboardings] == [
        (ids[0], "VCB"),
        (ids[2], "MB"),
    ]
    after = await conn.fetchval(
        "SELECT after FROM audit_log WHERE entity = 'stall' AND action = 'register'"
        " AND entity_id = $1",
        str(stall["id"]),
    )
    after = json.loads(after) if isinstance(after, str) else after
    assert [(a["id"], a["account_name"]) for a in after["payment_accounts"]] == [
        (ids[0], "LUU THI C"),
        (ids[1], "LUU THI A"),
        (ids[2], "LUU THI B"),
    ]


async def test_a_registration_makes_no_speculative_insert(client, conn, auth, markets):
    """Nothing a registration writes can conflict but its Idempotency-Key and its counters (the
    holder, stall, accounts, onboardings and consents are new): the key, the market's and
    partners' counter rows and the day's snapshot (written when the status changes) are the only
    INSERT ... ON CONFLICT of the statement, so the only rows it writes speculatively. Read from
    the statement's own plan: one ModifyTable with an ON CONFLICT action per such table."""
    from merchants.queries import registration as registration_q

    statement = registration_q._REGISTER_STALL
    plan = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) " + statement.text, *[None] * len(statement.names)
    )

    found: list[tuple[str, str]] = []

    def walk(node: dict) -> None:
        if node.get("Node Type") == "ModifyTable" and node.get("Conflict Resolution"):
            found.append((node["Relation Name"], node["Conflict Resolution"]))
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    assert sorted(found) == [
        ("coverage_snapshot", "UPDATE"),
        ("idempotency_key", "NOTHING"),
        ("market_coverage", "UPDATE"),
        ("partner_coverage", "UPDATE"),
    ]


async def test_the_duplicate_check_reads_the_phones_stalls_not_the_market(conn, markets):
    """The duplicate check's plan, as the pool's connections run it after five executions (a
    generic plan: no parameter value known): every read of `stall` is a probe of the holder's
    stalls in the market (stall_holder_market_idx) or a stall read by id (the shared-account
    check), never a walk of the market's stalls, whose cost would grow with the market."""
    from merchants.queries import registration as registration_q

    async def stall_reads() -> list[tuple[str, str | None]]:
        text = registration_q._REGISTER_STALL.text
        types = [
            await conn.fetchval("SELECT format_type($1::oid, NULL)", t.oid)
            for t in (await conn.prepare(text)).get_parameters()
        ]
        await conn.execute(f"PREPARE duplicate_plan ({', '.join(types)}) AS {text}")
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        plan = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE duplicate_plan ({', '.join(['NULL'] * len(types))})"
        )
        await conn.execute("DEALLOCATE duplicate_plan")
        reads: list[tuple[str, str | None]] = []

        def walk(node: dict) -> None:
            if node.get("Relation Name") == "stall" and node["Node Type"] != "ModifyTable":
                reads.append((node["Node Type"], node.get("Index Name")))
            for child in node.get("Plans", []):
                walk(child)

        walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        return reads

    # 40 markets of 15 stalls, each with its own holder, and statistics that say so: the plan a
    # young programme's connections keep while its markets grow.
    await conn.execute(
        """INSERT INTO market (name, ward_code, lat, lon)
           SELECT 'Chợ Kiểm ' || g, '20242', 16.05, 108.2 FROM generate_series(1, 40) g;
           WITH h AS (
               INSERT INTO stallholder (full_name, phone_e164)
               SELECT 'Người ' || g, '+8490' || lpad(g::text, 7, '0')
               FROM generate_series(1, 600) g RETURNING id
           ), m AS (
               SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
               FROM market WHERE name LIKE 'Chợ Kiểm %'
           )
           INSERT INTO stall (market_id, holder_id, stall_code, code_key, code_sort, search_text)
           SELECT m.id, h.id, 'P-' || h.id, 'P-' || h.id, 'P-' || h.id, 'P-' || h.id
           FROM h JOIN m ON m.k = h.id % 40;
           ANALYZE market; ANALYZE stallholder; ANALYZE stall"""
    )
    # The duplicate check reads the phone's stalls in this market; the shared-account check reads
    # the stalls of the accounts found by number, by id.
    expected = [("Index Scan", "stall_holder_market_idx"), ("Index Scan", "stall_pkey")]
    assert await stall_reads() == expected


async def test_registration_requires_consent_to_registration(client, conn, auth, markets):
    counts = await stalls_q.table_counts(conn)
    body = stall_body(consent={"notice_version": "2026-01", "purposes": ["qr_sign"]})
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("admin") | key()
    )
    assert r.status_code == 422 and r.json()["code"] == "consent_required"
    assert await stalls_q.table_counts(conn) == counts


async def test_unknown_market_and_stall_are_404(client, auth):
    headers = await auth("admin")
    r = await client.post("/api/markets/999999/stalls", json=stall_body(), headers=headers | key())
    assert r.status_code == 404 and r.json()["code"] == "market_not_found"
    r = await client.get("/api/stalls/999999", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == "stall_not_found"
    r = await client.get("/api/markets/999999", headers=headers)
    assert r.status_code == 404


async def test_missing_or_bad_token_is_401(client, markets):
    r = await client.get("/api/markets")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.get("/api/markets", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


async def test_patch_with_if_match(client, auth, markets):
    headers = await auth("volunteer")
    stall = (
        await client.post(
            f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
        )
    ).json()
    r = await client.patch(
        f"/api/stalls/{stall['id']}",
        json={"goods": "Trái cây"},
        headers=headers | {"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["goods"] == "Trái cây" and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    )
    stale = await client.patch(
        f"/api/stalls/{stall['id']}", json={"goods": "Cá"}, headers=headers | {"If-Match": "1"}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "version_conflict"
    assert stale.json()["current_version"] == 2
    missing = await client.patch(
        f"/api/stalls/{stall['id']}", json={"goods": "Cá"}, headers=headers
    )
    assert missing.status_code == 428


async def test_patch_holder_phone_and_code(client, auth, markets):
    headers = await auth("admin")
    stall = (
        await client.post(
            f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
        )
    ).json()
    r = await client.patch(
        f"/api/stalls/{stall['id']}",
        json={"stall_code": "A-99", "holder": {"phone": "+84 91 234 5678"}},
        headers=headers | {"If-Match": "1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["stall_code"] == "A-99" and r.json()["holder"]["phone"] == "+84912345678"


async def test_an_edit_that_gives_a_stall_a_phone_in_use_is_refused_unless_confirmed(
    client, conn, auth, markets
):
    """Registration's duplicate check holds for an edit too (a volunteer found an edit let two
    stalls of one market share a phone number without a word)."""
    headers = await auth("volunteer")
    url = f"/api/markets/{markets['one']}/stalls"
    first = (await client.post(url, json=stall_body("D-1"), headers=headers | key())).json()
    other = stall_body("D-2", holder={"full_name": "Trần Văn Khác", "phone": "0905 999 888"})
    second = (await client.post(url, json=other, headers=headers | key())).json()
    before = await conn.fetchrow(
        "SELECT h.phone_e164, s.version FROM stall s JOIN stallholder h ON h.id = s.holder_id"
        " WHERE s.id = $1",
        second["id"],
    )
    edit = {"holder": {"phone": "0905 123 456"}}  # the first stall's number
    r = await client.patch(
        f"/api/stalls/{second['id']}", json=edit, headers=headers | {"If-Match": "1"}
    )
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "possible_duplicate" and problem["existing_stall_id"] == first["id"]
    assert r.headers["content-type"].startswith("application/problem+json")
    after = await conn.fetchrow(
        "SELECT h.phone_e164, s.version FROM stall s JOIN stallholder h ON h.id = s.holder_id"
        " WHERE s.id = $1",
        second["id"],
    )
    assert after == before  # nothing changed
    # The stall's own number typed again, or another field, is no duplicate.
    same = {"holder": {"phone": "0905 999 888"}, "goods": "Cá"}
    r = await client.patch(
        f"/api/stalls/{second['id']}", json=same, headers=headers | {"If-Match": "1"}
    )
    assert r.status_code == 200, r.text
    # The same person renting both stalls: confirmed, saved.
    r = await client.patch(
        f"/api/stalls/{second['id']}",
        json=edit | {"confirm_duplicate": True},
        headers=headers | {"If-Match": "2"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["holder"]["phone"] == "+84905123456"
    said = await conn.fetchval(
        "SELECT after->>'confirm_duplicate' FROM audit_log WHERE entity = 'stall'"
        " AND entity_id = $1 AND action = 'update' ORDER BY id DESC LIMIT 1",
        str(second["id"]),
    )
    assert said == "true"  # the audit keeps that the volunteer said it is the same person
    # A stall that is no longer active does not count.
    gone = stall_body("D-4", holder={"full_name": "Lê Văn Đi", "phone": "0905 777 666"})
    left = (await client.post(url, json=gone, headers=headers | key())).json()
    closed = {"status": "closed"}
    r = await client.patch(
        f"/api/stalls/{left['id']}", json=closed, headers=headers | {"If-Match": "1"}
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/stalls/{first['id']}",
        json={"holder": {"phone": "0905 777 666"}},
        headers=headers | {"If-Match": "1"},
    )
    assert r.status_code == 200, r.text


async def test_add_payment_account(client, auth, markets):
    headers = await auth("volunteer")
    stall = (
        await client.post(
            f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
        )
    ).json()
    acc = {
        "bin": "971025",
        "account_number": "PSP0123456789",
        "account_name": "LUU THI NGOC THUY",
        "partner_code": "MOMO",
        "reference": "MOMOW2W99887766",
    }
    r = await client.post(f"/api/stalls/{stall['id']}/payment-accounts", json=acc, headers=headers)
    assert r.status_code == 201, r.text
    assert [a["bin"] for a in r.json()["payment_accounts"]] == ["970422", "971025"]
    assert r.json()["version"] == 2
    dup = await client.post(
        f"/api/stalls/{stall['id']}/payment-accounts", json=acc, headers=headers
    )
    assert dup.status_code == 409 and dup.json()["code"] == "account_exists"


async def test_list_and_search_without_diacritics(client, auth, markets):
    headers = await auth("volunteer")
    url = f"/api/markets/{markets['one']}/stalls"
    await client.post(url, json=stall_body("A-2"), headers=headers | key())
    other = stall_body("A-10", holder={"full_name": "Trần Văn Đức", "phone": "0912345678"})
    await client.post(url, json=other, headers=headers | key())
    third = stall_body("B-1", holder={"full_name": "Phạm Thị Hoa", "phone": "0987654321"})
    await client.post(url, json=third, headers=headers | key())

    page = (await client.get(url, headers=headers)).json()
    assert [s["stall_code"] for s in page["items"]] == ["A-2", "A-10", "B-1"]  # natural order
    assert page["items"][0]["phone_masked"] == "090****456"
    assert (await client.get(url, params={"q": "thuy"}, headers=headers)).json()["items"][0][
        "stall_code"
    ] == "A-2"
    assert [
        s["stall_code"]
        for s in (await client.get(url, params={"q": "duc"}, headers=headers)).json()["items"]
    ] == ["A-10"]
    assert [
        s["stall_code"]
        for s in (await client.get(url, params={"q": "ĐỨC"}, headers=headers)).json()["items"]
    ] == ["A-10"]
    assert [
        s["stall_code"]
        for s in (await client.get(url, params={"q": "0987"}, headers=headers)).json()["items"]
    ] == ["B-1"]
    assert [
        s["stall_code"]
        for s in (await client.get(url, params={"q": "b-1"}, headers=headers)).json()["items"]
    ] == ["B-1"]


async def test_cursor_pagination_visits_every_stall_once(client, auth, markets):
    headers = await auth("admin")
    url = f"/api/markets/{markets['one']}/stalls"
    for i in range(7):
        body = stall_body(f"C-{i}", holder={"full_name": f"Người Bán {chr(65 + i)}"})
        assert (await client.post(url, json=body, headers=headers | key())).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=headers)).json()
        seen += [s["stall_code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"C-{i}" for i in range(7)]
    bad = await client.get(url, params={"cursor": "garbage!"}, headers=headers)
    assert bad.status_code == 422


async def test_every_write_is_audited_without_clear_personal_data(client, conn, auth, markets):
    headers = await auth("volunteer")
    stall = (
        await client.post(
            f"/api/markets/{markets['one']}/stalls", json=stall_body(), headers=headers | key()
        )
    ).json()
    await client.patch(
        f"/api/stalls/{stall['id']}", json={"goods": "Cá"}, headers=headers | {"If-Match": "1"}
    )
    rows = await conn.fetch(
        "SELECT actor_id, action, before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 ORDER BY id",
        str(stall["id"]),
    )
    assert [r["action"] for r in rows] == ["register", "update"]
    volunteer_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    assert all(r["actor_id"] == volunteer_id for r in rows)
    assert rows[1]["before"]["goods"] == "Rau củ" and rows[1]["after"]["goods"] == "Cá"
    text = str([dict(r) for r in rows])
    assert "905123456" not in text and "0123456789" not in text


async def test_market_create_and_list(client, auth, conn):
    headers = await auth("admin")
    body = {
        "name": "Chợ Mới",
        "ward_code": "20285",
        "address": "1 Lê Duẩn",
        "lat": 16.0,
        "lon": 108.2,
        "zones": ["A", "B"],
    }
    r = await client.post("/api/markets", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["ward_name"] == "Phường Ngũ Hành Sơn" and r.json()["zones"] == ["A", "B"]
    names = [m["name"] for m in (await client.get("/api/markets", headers=headers)).json()]
    assert "Chợ Mới" in names
    unknown = await client.post(
        "/api/markets", json={"name": "Chợ X", "ward_code": "99999"}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_ward"
    # A ward is picked from the national directory, never invented with a name.
    new_ward = await client.post(
        "/api/markets",
        json={"name": "Chợ Y", "ward_code": "99999", "ward_name": "Phường Mới"},
        headers=headers,
    )
    assert new_ward.status_code == 422
    assert not await conn.fetchval("SELECT count(*) FROM admin_unit WHERE code = '99999'")
    assert not await conn.fetchval("SELECT count(*) FROM market WHERE name = 'Chợ Y'")
    # A ward of another province than the one named is refused; without a province the ward's is used.
    other = await client.post(
        "/api/markets",
        json={"name": "Chợ Z", "ward_code": "20242", "province_code": "01"},
        headers=headers,
    )
    assert other.status_code == 422 and other.json()["code"] == "unknown_ward"
    volunteer = await client.post("/api/markets", json=body, headers=await auth("volunteer"))
    assert volunteer.status_code == 403


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
async def test_openapi_docs_are_served(client, path):
    assert (await client.get(path)).status_code == 200


async def test_a_role_that_may_not_register_gets_403_whatever_it_sends(client, auth, markets):
    """The role is checked before the body is validated (RegisteringWorker): a viewer or a partner learns
    nothing about the body rules, and an anonymous caller is 401."""
    path = f"/api/markets/{markets['one']}/stalls"
    for body in ({"stall_code": ""}, {"nonsense": True}, []):
        for role in ("viewer", "partner"):
            reply = await client.post(
                path, json=body, headers=await auth(role) | {"Idempotency-Key": "role-check-1"}
            )
            assert reply.status_code == 403, (role, body, reply.text)
            assert reply.json()["code"] == "forbidden"
        assert (await client.post(path, json=body)).status_code == 401
