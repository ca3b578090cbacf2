"""The batch sign printer on the command line: a progress bar, a PDF whose codes scan back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pypdfium2
import zxingcpp

from qr import payload
from tests.conftest import ROOT, TEST_SECRET, stall_body


async def test_print_signs_command(live, tmp_path: Path):
    async with live.pool.acquire() as c:
        market_id = await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
    headers = await live.token("admin")
    expected = []
    async with live.client() as client:
        for i in range(6):
            number = f"55500{i}"
            body = stall_body(
                f"K-{i}",
                holder={"full_name": f"Người Bán {chr(65 + i)}"},
                payment_accounts=[{"bin": "970415", "account_number": number}],
            )
            r = await client.post(
                f"/api/markets/{market_id}/stalls",
                json=body,
                headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text
            expected.append(payload.encode(bin="970415", account=number))
    out = tmp_path / "signs.pdf"
    env = os.environ | {"DATABASE_URL": live.url, "DATA_DIR": str(tmp_path), "DEMO_DATA": "false"}

    def print_signs(secret: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "merchants.print_signs",
                "--market",
                str(market_id),
                "--out",
                str(out),
                *extra,
            ],
            cwd=ROOT,
            env=env | {"SECRET_KEY": secret},
            capture_output=True,
            text=True,
            timeout=120,
        )

    # Account numbers are stored sealed: without the app's secret the command says so and stops.
    wrong = await asyncio.to_thread(print_signs, "not-the-app-secret")
    assert wrong.returncode == 1 and "SECRET_KEY" in wrong.stderr, wrong.stderr
    assert "Traceback" not in wrong.stderr and not out.exists()
    proc = await asyncio.to_thread(print_signs, TEST_SECRET)
    assert proc.returncode == 0, proc.stderr
    assert "6/6 signs" in proc.stderr and "[###" in proc.stderr
    pdf = pypdfium2.PdfDocument(out.read_bytes())
    found = []
    for page in pdf:
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())]
    pdf.close()
    assert sorted(found) == sorted(expected)
    async with live.pool.acquire() as c:
        # Writing the PDF made a print job; nothing counts as printed until it is confirmed.
        assert await c.fetchval("SELECT count(*) FROM print_job_stall") == 6
        assert await c.fetchval("SELECT count(*) FROM sign_print") == 0
    confirmed = await asyncio.to_thread(print_signs, TEST_SECRET, "--confirm")
    assert confirmed.returncode == 0 and "confirmed printed" in confirmed.stderr
    async with live.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM sign_print WHERE format = 'cli'") == 6
