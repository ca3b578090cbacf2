"""A stall's takings as partners reported them (users_want #25): GET /api/stalls/{id}/takings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tests.conftest import stall_body
from tests.partners.test_events import enabled, event, register, send  # noqa: F401

VN = timezone(timedelta(hours=7))


def _at(day_offset: int, hour: int, minute: int = 0) -> str:
    today = datetime.now(VN).date()
    when = datetime.combine(today + timedelta(days=day_offset), datetime.min.time(), VN)
    return (when + timedelta(hours=hour, minutes=minute)).isoformat()


async def _paid(client, stall_id: int, amount: int, occurred_at: str) -> None:
    r = await send(
        client,
        event(
            "payment.received", {"stall_id": stall_id, "amount": amount}, occurred_at=occurred_at
        ),
    )
    assert r.status_code == 202 and r.json()["result"] == "matched", r.text


async def test_each_day_of_the_window_since_the_first_report_with_what_partners_reported(
    client,
    conn,
    markets,
    enabled,  # noqa: F811
    auth,
):
    vol = await auth("volunteer")
    stall = await register(
        client,
        vol,
        markets["one"],
        "TK-1",
        [{"bin": "970422", "account_number": "9100", "partner_code": "MB"}],
    )
    sid = stall["id"]
    await _paid(client, sid, 30_000, _at(-10, 9))  # before the window: not summed, but "since"
    await _paid(client, sid, 45_000, _at(-2, 8, 15))
    await _paid(client, sid, 20_000, _at(0, 0, 0))  # today's first second (Vietnamese day)
    await _paid(client, sid, 12_000, _at(0, -1, 30))  # 22:30 yesterday, Vietnamese time
    await _paid(client, sid, 5_500, _at(0, 0, 1))
    r = await client.get(f"/api/stalls/{sid}/takings", headers=vol)
    assert r.status_code == 200, r.text
    body = r.json()
    today = datetime.now(VN).date()
    assert body["today"] == today.isoformat()
    assert body["partners"] == ["MB"]
    assert datetime.fromisoformat(body["reported_since"]) == datetime.fromisoformat(_at(-10, 9))
    assert body["holder_erased"] is False
    days = {d["day"]: (d["payments"], d["amount"]) for d in body["days"]}
    assert [d["day"] for d in body["days"]] == [
        (today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert days[today.isoformat()] == (2, 25_500)
    assert days[(today - timedelta(days=1)).isoformat()] == (1, 12_000)
    assert days[(today - timedelta(days=2)).isoformat()] == (1, 45_000)
    assert sum(p for p, _ in days.values()) == 4  # the payment 10 days ago is outside
    # One day: today so far. A read is in the access log, as the stall record's is.
    one = (await client.get(f"/api/stalls/{sid}/takings?days=1", headers=vol)).json()
    assert one["days"] == [{"day": today.isoformat(), "payments": 2, "amount": 25_500}]
    logged = await conn.fetchval(
        "SELECT count(*) FROM access_log WHERE stallholder_id = $1 AND reason = 'stall_takings'",
        stall["holder"]["id"],
    )
    assert logged == 2


async def test_days_start_at_the_first_report_and_a_stall_never_reported_has_none(
    client,
    markets,
    enabled,  # noqa: F811
    auth,
):
    vol = await auth("volunteer")
    quiet = await register(
        client, vol, markets["one"], "TK-2", [{"bin": "970422", "account_number": "9200"}]
    )
    body = (await client.get(f"/api/stalls/{quiet['id']}/takings", headers=vol)).json()
    # Nobody reported a payment: no days at all, never a row of zeros that would read "unpaid".
    assert (body["days"], body["reported_since"], body["partners"]) == ([], None, [])
    fresh = await register(
        client,
        vol,
        markets["one"],
        "TK-3",
        [{"bin": "970422", "account_number": "9300", "partner_code": "MB"}],
    )
    await _paid(client, fresh["id"], 10_000, _at(-1, 15))
    days = (await client.get(f"/api/stalls/{fresh['id']}/takings?days=31", headers=vol)).json()[
        "days"
    ]
    today = datetime.now(VN).date()
    assert days == [
        {"day": (today - timedelta(days=1)).isoformat(), "payments": 1, "amount": 10_000},
        {"day": today.isoformat(), "payments": 0, "amount": 0},
    ]


async def test_no_amounts_once_the_holders_data_is_erased_and_no_access_logged(
    client,
    conn,
    markets,
    enabled,  # noqa: F811
    auth,
):
    vol, manager = await auth("volunteer"), await auth("manager")
    stall = await register(
        client,
        vol,
        markets["one"],
        "TK-4",
        [{"bin": "970422", "account_number": "9400", "partner_code": "MB"}],
    )
    await _paid(client, stall["id"], 99_000, _at(0, 0, 5))
    r = await client.post(f"/api/stallholders/{stall['holder']['id']}/erase", headers=manager)
    assert r.status_code == 200, r.text
    before = await conn.fetchval("SELECT count(*) FROM access_log")
    body = (await client.get(f"/api/stalls/{stall['id']}/takings", headers=vol)).json()
    assert body["holder_erased"] is True
    assert (body["days"], body["reported_since"], body["partners"]) == ([], None, [])
    assert await conn.fetchval("SELECT count(*) FROM access_log") == before


async def test_who_reads_takings_and_what_a_bad_window_gets(client, markets, enabled, auth):  # noqa: F811
    vol = await auth("volunteer")
    stall = await register(
        client, vol, markets["one"], "TK-5", [{"bin": "970422", "account_number": "9500"}]
    )
    path = f"/api/stalls/{stall['id']}/takings"
    for who, status in (("admin", 200), ("manager", 200), ("viewer", 403), ("partner", 403)):
        assert (await client.get(path, headers=await auth(who))).status_code == status, who
    # A stall out of scope reads as one that does not exist.
    other = await client.get(f"/api/stalls/{stall['id']}/takings", headers=await auth("volunteer2"))
    assert other.status_code == 404 and other.json()["code"] == "stall_not_found"
    for days in ("0", "32", "x", "1e3", "-1"):
        r = await client.get(path, params={"days": days}, headers=vol)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (
            days
        )
    assert datetime.fromisoformat((await client.get(path, headers=vol)).json()["as_of"]).tzinfo


async def test_one_transfer_reported_by_a_gateway_and_the_bank_counts_once(
    client,
    conn,
    markets,
    auth,
):
    vol = await auth("volunteer")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body(
            "TK-6",
            payment_accounts=[
                {"bin": "970422", "account_number": "9600", "partner_code": "MB"},
                {"bin": "970436", "account_number": "9601"},
            ],
        ),
        headers=vol | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    mb, vcb = (a["id"] for a in stall["payment_accounts"])
    rows = [
        # payOS and MB report the same 50,000 into the MB account, 30 s apart: once.
        ("PAYOS", "p-1", mb, 50_000, "-10 minutes"),
        ("MB", "m-1", mb, 50_000, "-9 minutes 30 seconds"),
        # The same amount into the other account: another payment.
        ("VCB", "v-1", vcb, 50_000, "-10 minutes"),
        # MB twice with its own ids: two payments, whatever the amounts.
        ("MB", "m-2", mb, 20_000, "-5 minutes"),
        ("MB", "m-3", mb, 20_000, "-5 minutes"),
        # Dated ahead of now (a partner's clock): not counted until its time comes.
        ("MB", "m-4", mb, 70_000, "+3 minutes"),
    ]
    for partner, ext, account, amount, offset in rows:
        await conn.execute(
            "INSERT INTO payment_event (partner_code, external_id, payment_account_id, stall_id, "
            "amount, occurred_at, matched) "
            "VALUES ($1, $2, $3, $4, $5, clock_timestamp() + $6::text::interval, true)",
            partner,
            ext,
            account,
            stall["id"],
            amount,
            offset,
        )
    body = (await client.get(f"/api/stalls/{stall['id']}/takings?days=2", headers=vol)).json()
    # Summed over today and yesterday, whichever side of midnight the last ten minutes fell.
    counted = (sum(d["payments"] for d in body["days"]), sum(d["amount"] for d in body["days"]))
    assert counted == (4, 140_000)
    assert body["partners"] == ["MB", "PAYOS", "VCB"]
