"""Recent notifications of a partner, for the console: what arrived and what it did, no payload."""

from __future__ import annotations

from tests.partners.test_events import enabled, event, register, send  # noqa: F401 - fixture


async def test_recent_notifications_newest_first_without_payload(client, auth, markets, enabled):  # noqa: F811
    admin = enabled
    await register(
        client,
        await auth("volunteer"),
        markets["one"],
        "N-1",
        [{"bin": "970422", "account_number": "5550001111", "partner_code": "MB"}],
    )
    paid = event(
        "payment.received", {"bin": "970422", "account_number": "5550001111", "amount": 45000}
    )
    stray = event(
        "payment.received", {"bin": "970422", "account_number": "9990009999", "amount": 1000}
    )
    assert (await send(client, paid)).status_code == 202
    r = await send(client, stray)
    assert r.status_code in (202, 422)  # unknown accounts are refused, never stored
    listed = await client.get("/api/partners/MB/notifications", headers=admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()
    assert items[0]["external_id"] == paid["id"]
    assert (items[0]["type"], items[0]["result"], items[0]["matched_account"]) == (
        "payment.received",
        "matched",
        True,
    )
    assert "5550001111" not in listed.text and "45000" not in listed.text
    # Other partners' messages are not listed; an unknown partner is a 404; admins only.
    other = (await client.get("/api/partners/MOMO/notifications", headers=admin)).json()
    assert paid["id"] not in [n["external_id"] for n in other]
    assert (await client.get("/api/partners/NOPE/notifications", headers=admin)).status_code == 404
    for who in ("manager", "volunteer", "viewer", "partner"):
        r = await client.get("/api/partners/MB/notifications", headers=await auth(who))
        assert r.status_code == 403
    assert (
        await client.get("/api/partners/MB/notifications?limit=1", headers=admin)
    ).json() == items[:1]
