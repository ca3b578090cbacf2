"""One rule on every path: a record outside the caller's markets answers as one that does not
exist, for writes as for reads (a 403 told the caller it exists). A live fuzz found the stall and
stallholder writes answering 403 for an out-of-scope id and 404 for a missing one."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import stall_body
from tests.merchants.test_coverage import GOOD

MISSING = 999_999_999


def _writes(stall: dict) -> list[tuple[str, str, dict | None]]:
    account = stall["payment_accounts"][0]["id"]
    return [
        ("PATCH", "/api/stalls/{id}", {"goods": "Cá"}),
        ("POST", "/api/stalls/{id}/payment-accounts", {"bin": "970418", "account_number": "99887766"}),
        ("PATCH", f"/api/stalls/{{id}}/payment-accounts/{account}", {"account_name": "DEMO X", "reason": "sửa tên"}),
        ("POST", f"/api/stalls/{{id}}/payment-accounts/{account}/deactivate", {"reason": "Lý do"}),
        ("POST", f"/api/stalls/{{id}}/payment-accounts/{account}/reactivate", {"reason": "Lý do"}),
        ("POST", "/api/stalls/{id}/onboardings", {"payment_account_id": account, "partner_code": "MB", "channel": "field_visit"}),
        ("POST", "/api/stalls/{id}/sign-printed", None),
        ("POST", "/api/stalls/{id}/sign-delivered", None),
        ("POST", "/api/stalls/{id}/verify", {"payload": GOOD}),
        ("POST", "/api/stalls/{id}/fees-cashless", {"value": False}),
        ("POST", "/api/stallholders/{holder}/consents", {"notice_version": "2026-01", "purposes": ["registration"]}),
        ("POST", "/api/stallholders/{holder}/consents/withdraw", {"purposes": ["qr_sign"]}),
        ("POST", "/api/stallholders/{holder}/erase", None),
    ]  # fmt: skip


@pytest.mark.parametrize("who", ["volunteer", "manager"])
async def test_writes_to_records_outside_ones_markets_answer_as_missing(client, auth, markets, who):
    admin = await auth("admin")
    body = stall_body(
        "HID-1",
        payment_accounts=[{"bin": "970422", "account_number": "0123456789", "partner_code": "MB"}],
    )
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls",
        json=body,
        headers=admin | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    theirs = r.json()
    h = await auth(who) | {"If-Match": '"1"'}
    for method, path, payload in _writes(theirs):
        answers = []
        for stall_id, holder_id in ((theirs["id"], theirs["holder"]["id"]), (MISSING, MISSING)):
            url = path.format(id=stall_id, holder=holder_id)
            res = await client.request(method, url, json=payload, headers=h)
            problem = res.json()
            answers.append((res.status_code, problem.get("code"), sorted(problem)))
        assert answers[0] == answers[1], (who, method, path, answers)
        # A role that never does it is refused before any lookup (a volunteer erasing): 403 for
        # both, which reveals nothing; anything else is not found.
        assert answers[0][0] == 404 or answers[0][1] == "forbidden", (who, method, path, answers)
