"""Partner registry: seeded partners, credentials (never returned or logged), partner_code refs."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from core import crypto, db
from partners import registry
from partners import registry as partners_service
from partners.queries import registry as registry_q
from qr import banks
from tests.conftest import CAPTURED_LOGS, TEST_KEYS, stall_body, with_database

MOMO_SECRET = "K951B6PE1waDMi640xX08PD3vg6EkVlz-registry-test"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_every_directory_bank_and_the_named_partners_are_seeded(client, auth):
    r = await client.get("/api/partners", headers=await auth("viewer"))
    assert r.status_code == 200
    partners = {p["code"]: p for p in r.json()}
    merged = {"971025": "MOMO", "971005": "VIETTELMONEY", "971011": "VNPTMONEY"}
    for bank in banks.all_banks():
        code = merged.get(bank.bin, registry.partner_code(bank.code))
        assert bank.bin in partners[code]["bins"], (bank.bin, code)
    assert partners["CIMB"]["bins"] == ["422589", "970459"]
    assert partners["IBK-HN"]["kind"] == "bank"
    expected = {
        "MOMO": ("wallet", "momo", ["971025", "970454"]),
        "ZALOPAY": ("wallet", "zalopay", ["970454"]),
        "VNPAY": ("gateway", "vnpay", []),
        "VIETTELMONEY": ("wallet", "none", ["971005"]),
        "VNPTMONEY": ("wallet", "none", ["971011"]),
        "PAYOS": ("aggregator", "payos", []),
        "MB": ("bank", "none", ["970422"]),
    }
    for code, (kind, scheme, bins) in expected.items():
        assert (partners[code]["kind"], partners[code]["scheme"], partners[code]["bins"]) == (
            kind,
            scheme,
            bins,
        )
    # The demo data tags accounts with these codes.
    assert {"MB", "VCB", "ICB", "BIDV", "VBA", "TCB", "MOMO", "VIETTELMONEY", "VPB"} <= set(
        partners
    )
    assert "VTLMONEY" not in partners and "momo" not in partners
    # Which credentials are set is an administrator's to see: null (not "none") for a viewer.
    assert all(p["credentials_set"] is None for p in partners.values())
    assert all(p["own_api_enabled"] is None for p in partners.values())
    r = await client.get("/api/partners", headers=await auth("admin"))
    assert all(p["credentials_set"] == [] for p in r.json())


async def test_get_one_partner_and_unknown_code(client, auth):
    headers = await auth("volunteer")
    r = await client.get("/api/partners/momo", headers=headers)
    assert r.status_code == 200 and r.json()["code"] == "MOMO"
    missing = await client.get("/api/partners/NOPE", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "partner_not_found"
    assert (await client.get("/api/partners")).status_code == 401


async def test_a_partner_user_reads_its_own_entry_and_no_other(client, auth, conn):
    """A partner user read another partner's credential state (200) while that partner's
    accounts and stats answered 404: one answer on every path."""
    headers = await auth("partner")
    own = await conn.fetchval("SELECT upper(partner_code) FROM app_user WHERE username = 'partner'")
    other = "BIDV" if own != "BIDV" else "MB"
    r = await client.get(f"/api/partners/{own}", headers=headers)
    assert r.status_code == 200 and r.json()["credentials_set"] == [], r.text
    for path in (f"/api/partners/{other}", f"/api/partners/{other}/stats", "/api/partners/NOPE"):
        r = await client.get(path, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "partner_not_found"), path
    assert [p["code"] for p in (await client.get("/api/partners", headers=headers)).json()] == [own]


async def test_credentials_are_stored_but_never_returned_logged_or_audited(client, conn, auth):
    headers = await auth("admin")
    CAPTURED_LOGS.clear()
    body = {"access_key": "F8BBA842ECF85", "secret_key": MOMO_SECRET}
    r = await client.put("/api/partners/MOMO/credentials", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["credentials_set"] == ["access_key", "secret_key"]
    for response in (
        r,
        await client.get("/api/partners/MOMO", headers=headers),
        await client.get("/api/partners", headers=headers),
    ):
        assert MOMO_SECRET not in response.text and "F8BBA842ECF85" not in response.text
    stored = await conn.fetchval("SELECT credentials FROM partner WHERE code = 'MOMO'")
    # Stored sealed (names in clear, values not), bound to the partner and the field.
    assert sorted(stored) == ["access_key", "secret_key"]
    assert all(v.startswith("g1:") and v not in body.values() for v in stored.values())
    assert TEST_KEYS.open_credentials("MOMO", stored) == body
    with pytest.raises(crypto.SealError):  # moved to another partner, it does not open
        TEST_KEYS.open_credentials("ZALOPAY", stored)
    audit = await conn.fetch("SELECT before, after FROM audit_log WHERE entity = 'partner'")
    assert audit and MOMO_SECRET not in str([dict(a) for a in audit])
    assert audit[-1]["after"]["credentials_set"] == ["access_key", "secret_key"]
    assert not [line for line in CAPTURED_LOGS if MOMO_SECRET in line]


@pytest.mark.parametrize(
    ("code", "body", "status", "problem", "field"),
    [
        ("MOMO", {"access_key": "a"}, 422, "missing_credential", "secret_key"),
        ("MOMO", {"hash_secret": "a"}, 422, "unknown_credential", "hash_secret"),
        ("VNPAY", {"hash_secret": "s", "key2": "k"}, 422, "unknown_credential", "key2"),
        ("MB", {"checksum_key": "x"}, 422, "unknown_credential", "checksum_key"),
        ("PAYOS", {"checksum_key": " padded "}, 422, "invalid_credential", "checksum_key"),
        ("PAYOS", {"checksum_key": ""}, 422, "validation_error", "checksum_key"),
        ("NOPE", {"signing_secret": "x"}, 404, "partner_not_found", None),
    ],
)
async def test_bad_credentials_are_refused_without_echoing_them(
    client, conn, auth, code, body, status, problem, field
):
    before = await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'partner'")
    r = await client.put(
        f"/api/partners/{code}/credentials", json=body, headers=await auth("admin")
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == problem
    if field:
        assert r.json()["field"].endswith(field)
    for value in body.values():
        if len(value.strip()) > 2:
            assert value not in r.text
    after = await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'partner'")
    assert after == before


async def test_only_admins_set_credentials(client, auth):
    for role in ("manager", "volunteer", "viewer", "partner"):
        r = await client.put(
            "/api/partners/MB/credentials", json={"signing_secret": "s"}, headers=await auth(role)
        )
        assert r.status_code == 403, role


async def test_a_signing_secret_enables_our_own_api_for_any_partner(client, auth):
    headers = await auth("admin")
    r = await client.put(
        "/api/partners/MB/credentials", json={"signing_secret": "x1"}, headers=headers
    )
    assert r.status_code == 200
    assert (r.json()["scheme"], r.json()["own_api_enabled"]) == ("own", True)
    # A wallet with a native scheme keeps it and gains the own API next to it.
    both = {"access_key": "a", "secret_key": "b", "signing_secret": "c"}
    r = await client.put("/api/partners/MOMO/credentials", json=both, headers=headers)
    assert (r.json()["scheme"], r.json()["own_api_enabled"]) == ("momo", True)
    cleared = await client.put("/api/partners/MB/credentials", json={}, headers=headers)
    assert cleared.json()["scheme"] == "none" and cleared.json()["credentials_set"] == []


async def test_registration_refuses_an_unknown_partner_code(client, conn, auth, markets):
    body = stall_body()
    body["payment_accounts"][0]["partner_code"] = "NOSUCHBANK"
    stalls = await conn.fetchval("SELECT count(*) FROM stall")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=await auth("volunteer") | key()
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "unknown_partner" and r.json()["field"] == "payment_accounts"
    assert await conn.fetchval("SELECT count(*) FROM stall") == stalls


async def test_registration_upper_cases_the_code_and_records_an_active_field_visit(
    client, conn, auth, markets
):
    body = stall_body()
    body["payment_accounts"][0]["partner_code"] = "mb"
    headers = await auth("volunteer")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers | key()
    )
    assert r.status_code == 201, r.text
    assert r.json()["payment_accounts"][0]["partner_code"] == "MB"
    onboardings = await client.get(f"/api/stalls/{r.json()['id']}/onboardings", headers=headers)
    [onboarding] = onboardings.json()
    volunteer_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    assert (onboarding["partner_code"], onboarding["channel"], onboarding["status"]) == (
        "MB",
        "field_visit",
        "active",
    )
    assert onboarding["onboarded_by"] == volunteer_id
    assert [(h["from_status"], h["to_status"], h["source"]) for h in onboarding["history"]] == [
        (None, "active", "registration")
    ]


async def test_adding_an_account_with_an_unknown_partner_is_refused(client, conn, auth, markets):
    headers = await auth("admin")
    stall = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body(payment_accounts=[]),
        headers=headers | key(),
    )
    account = {"bin": "970436", "account_number": "1234567", "partner_code": "ZZZ"}
    r = await client.post(
        f"/api/stalls/{stall.json()['id']}/payment-accounts", json=account, headers=headers
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_partner"
    account["partner_code"] = "vcb"
    r = await client.post(
        f"/api/stalls/{stall.json()['id']}/payment-accounts", json=account, headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["payment_accounts"][0]["partner_code"] == "VCB"


async def test_the_database_enforces_the_partner_reference(conn, markets):
    stall_id = await conn.fetchval(
        "INSERT INTO stall (market_id, stall_code, code_key, code_sort) "
        "VALUES ($1, 'Z-1', 'Z-1', 'Z-1') "
        "RETURNING id",
        markets["one"],
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError) as caught:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO payment_account (stall_id, bin, account_number, partner_code) "
                "VALUES ($1, '970422', $2, 'GHOST')",
                stall_id,
                TEST_KEYS.seal("123456"),
            )
    assert caught.value.constraint_name == "payment_account_partner_code_fkey"


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_migration_keeps_existing_partner_codes_and_backfills_onboardings(server_url):
    """Rows written before revision 0003 survive it: codes upper-cased, unknown kept, onboarded."""
    name = f"choso_p_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        await asyncio.to_thread(db.migrate, url, "0002")
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """INSERT INTO app_user (username, password_hash, role)
                       VALUES ('v', 'x', 'volunteer');
                   INSERT INTO market (name) VALUES ('Chợ Cũ');
                   INSERT INTO stall (market_id, stall_code, code_key, code_sort)
                       SELECT id, 'A-1', 'A-1', 'A-1' FROM market;
                   INSERT INTO payment_account (stall_id, bin, account_number, partner_code,
                                                created_by)
                       SELECT s.id, x.bin, x.num, x.code, (SELECT id FROM app_user)
                       FROM stall s, (VALUES ('970422', '111111', 'mb'),
                                             ('970436', '222222', 'Local-Coop'),
                                             ('970415', '333333', NULL)) AS x(bin, num, code);"""
            )
        finally:
            await conn.close()
        await asyncio.to_thread(db.migrate, url)
        conn = await asyncpg.connect(url)
        try:
            codes = await conn.fetch(
                "SELECT account_number, partner_code FROM payment_account ORDER BY account_number"
            )
            assert [tuple(r) for r in codes] == [
                ("111111", "MB"),
                ("222222", "LOCAL-COOP"),
                ("333333", None),
            ]
            placeholder = await conn.fetchrow(
                "SELECT name, kind FROM partner WHERE code = 'LOCAL-COOP'"
            )
            assert tuple(placeholder) == ("LOCAL-COOP", "bank")
            onboardings = await conn.fetch(
                """SELECT o.partner_code, o.channel, o.status, h.source,
                          o.onboarded_by IS NOT NULL AS who
                   FROM onboarding o JOIN onboarding_status h ON h.onboarding_id = o.id
                   ORDER BY o.partner_code"""
            )
            assert [tuple(r) for r in onboardings] == [
                ("LOCAL-COOP", "field_visit", "active", "migration", True),
                ("MB", "field_visit", "active", "migration", True),
            ]
        finally:
            await conn.close()
        await asyncio.to_thread(db.downgrade, url, "0002")
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT to_regclass('partner')") is None
            assert await conn.fetchval("SELECT count(*) FROM payment_account") == 3
        finally:
            await conn.close()
        await asyncio.to_thread(db.migrate, url)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_credentials_stored_before_sealing_are_sealed_at_start_up(conn):
    await conn.execute(
        "UPDATE partner SET credentials = $1 WHERE code = 'PAYOS'",
        {"checksum_key": "clear-checksum-key"},
    )
    assert await partners_service.seal_stored_credentials(conn) == 1
    stored = await conn.fetchval("SELECT credentials FROM partner WHERE code = 'PAYOS'")
    assert stored["checksum_key"].startswith("g1:")
    assert await registry_q.partner_credentials(conn, "PAYOS") == {
        "checksum_key": "clear-checksum-key"
    }
    assert await partners_service.seal_stored_credentials(conn) == 0


async def test_banks_that_join_the_directory_become_partners_at_start_up(conn, monkeypatch):
    assert await partners_service.sync_directory(conn) == []  # the migration seeded them all
    rows = registry.seed_rows()
    mb = next(r for r in rows if r.code == "MB")
    grown = [r for r in rows if r.code != "MB"] + [
        registry.SeedPartner(code="MB", name=mb.name, kind=mb.kind, scheme=mb.scheme,
                             bins=(*mb.bins, "970998")),
        registry.SeedPartner(code="NEWBANK", name="New Bank", kind="bank", scheme="none",
                             bins=("970999",)),
    ]  # fmt: skip
    monkeypatch.setattr(registry, "seed_rows", lambda: grown)

    assert await partners_service.sync_directory(conn) == ["NEWBANK"]
    assert await partners_service.sync_directory(conn) == []  # once
    new = await conn.fetchrow("SELECT name, kind, scheme, bins FROM partner WHERE code = 'NEWBANK'")
    assert tuple(new) == ("New Bank", "bank", "none", ["970999"])
    assert "970998" in await conn.fetchval("SELECT bins FROM partner WHERE code = 'MB'")


async def test_an_admin_records_a_partners_support_number(client, conn, auth):
    admin = await auth("admin")
    r = await client.put(
        "/api/partners/mb/support", json={"support_phone": " 1900  545426 "}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["support_phone"] == "1900 545426"  # spaces tidied, nothing else changed
    listed = await client.get("/api/partners", headers=await auth("volunteer"))
    assert {p["code"]: p["support_phone"] for p in listed.json()}["MB"] == "1900 545426"
    entry = await conn.fetchrow(
        "SELECT action, before, after FROM audit_log WHERE entity = 'partner' AND entity_id = 'MB' "
        "ORDER BY id DESC LIMIT 1"
    )
    assert entry["action"] == "set_support"
    assert entry["after"] == {"support_phone": "1900 545426"}
    assert entry["before"] == {"support_phone": None}
    # The same number again changes nothing and writes no second audit entry.
    again = await client.put(
        "/api/partners/MB/support", json={"support_phone": "1900 545426"}, headers=admin
    )
    assert again.status_code == 200 and again.json()["support_phone"] == "1900 545426"
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'set_support' AND entity_id = 'MB'"
        )
        == 1
    )
    # Other spaces a pasted number brings (no-break, tab) are tidied too; hyphens are kept.
    for number, stored in (("+84 24 3936 8888", None), ("1800.1091", None),
                           ("1900-545-426", None), ("1900\u00a0545\t426", "1900 545 426")):  # fmt: skip
        r = await client.put(
            "/api/partners/MOMO/support", json={"support_phone": number}, headers=admin
        )
        assert r.status_code == 200 and r.json()["support_phone"] == (stored or number)
    cleared = await client.put(
        "/api/partners/MB/support", json={"support_phone": None}, headers=admin
    )
    assert cleared.status_code == 200 and cleared.json()["support_phone"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"support_phone": "gọi 1900 545426"},
        {"support_phone": "19"},
        {"support_phone": "1.2"},
        {"support_phone": "1.......2"},
        {"support_phone": "(024) 3936 8888"},
        {"support_phone": "+84 24 3936 8888 1234"},
        {"support_phone": "1900 545426\x00"},
        {"support_phone": "1" * 25},
        {"support_phone": "1" * 100_000},
        {"support_phone": 1900545426},
        {"support_phone": "1900--545426"},
        {"support_phone": "9999-12-31"},  # a date, not a number to call (a reviewer's sweep)
        {"support_phone": "123"},
        {},
        {"support_phone": "1900 545426", "extra": 1},
    ],
)
async def test_a_bad_support_number_is_refused_and_changes_nothing(client, conn, auth, body):
    r = await client.put("/api/partners/MB/support", json=body, headers=await auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    value = body.get("support_phone")
    if len(body) == 1 and isinstance(value, str) and len(value) <= 40:
        # A NUL byte is refused by the guard every text field has, before this field's own rule.
        assert r.json()["code"] == ("invalid_text" if "\x00" in value else "invalid_support_phone")
    assert await conn.fetchval("SELECT support_phone FROM partner WHERE code = 'MB'") is None


async def test_only_admins_set_a_support_number(client, auth):
    for role in ("manager", "volunteer", "viewer", "partner"):
        r = await client.put(
            "/api/partners/MB/support", json={"support_phone": "1900 545426"},
            headers=await auth(role),
        )  # fmt: skip
        assert r.status_code == 403, role
    r = await client.put(
        "/api/partners/NOSUCH/support", json={"support_phone": None}, headers=await auth("admin")
    )
    assert r.status_code == 404 and r.json()["code"] == "partner_not_found"


async def test_the_database_holds_the_support_number_rule_too(conn):
    async with conn.transaction():
        await conn.execute("UPDATE partner SET support_phone = '1900 545426' WHERE code = 'MB'")
        for bad in ("gọi 1900", "19", "1900--545426", "+", "1.2", "1 . 2", "+84 24 3936 8888 1234"):
            with pytest.raises(asyncpg.CheckViolationError):
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE partner SET support_phone = $1 WHERE code = 'MB'", bad
                    )
        await conn.execute("UPDATE partner SET support_phone = NULL WHERE code = 'MB'")
