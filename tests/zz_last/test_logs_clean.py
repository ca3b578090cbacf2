"""Runs last (tests/zz_last): no log record of the whole run holds a phone number, an account or
ID number used by the suite, a bearer token, an API key or a secret.

tests/conftest.py captures every record into CAPTURED_LOGS. Lines of httpx's request log (the
test client's own requests, and the app's outgoing calls) are checked as they would be written
in production, where ops.serve installs core.logging's filter on httpx and on uvicorn's access
log: those lines show whole URLs, exactly as uvicorn's access log would.
"""

from __future__ import annotations

import re

from core import logging as log_redaction
from tests.conftest import CAPTURED_LOGS, ROOT

_LITERAL = r"""["']([A-Za-z0-9]{6,19})["']"""
# Values the suite sends as account or citizen-ID numbers, found in the test sources themselves,
# so numbers added by new tests are covered without editing this file.
_SOURCE_VALUES = [
    re.compile(r"""["'](?:account_number|accountNumber|cccd)["']\s*:\s*""" + _LITERAL),
    re.compile(r"""\b(?:account_number|account|cccd)\s*=\s*""" + _LITERAL),
]
_FIXED = [
    (re.compile(r"\+84\d{9,10}"), "phone number (+84)"),
    (re.compile(r"(?<![\d])0[3-9]\d{8}(?!\d)"), "phone number"),
    (re.compile(r"test-[0-9a-f]{32}"), "bearer token of the suite"),
    (re.compile(r"\bcs_[0-9a-f]{8}_"), "API key"),
    (re.compile(r"(?i)bearer\s+(?!\[redacted\])[A-Za-z0-9_-]{16,}"), "bearer token"),
    (re.compile(r"(?i)secret"), "secret"),
]


def suite_numbers() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in _SOURCE_VALUES:
            found.update(m for m in pattern.findall(text) if sum(c.isdigit() for c in m) >= 6)
    return found


def offences(lines: list[str]) -> list[str]:
    numbers = suite_numbers()
    bad = []
    for line in lines:
        if line.startswith("HTTP Request: "):
            line = log_redaction.redact(line)
        reasons = [why for pattern, why in _FIXED if pattern.search(line)]
        reasons += [f"number {n} used by the tests" for n in numbers if n in line]
        if reasons:
            bad.append(f"{', '.join(reasons)}: {line[:300]}")
    return bad


def test_the_check_itself_catches_leaks():
    leaks = [
        "registered holder +84905123456",
        "lookup for 0912345678 failed",
        "Authorization: Bearer test-0123456789abcdef0123456789abcdef",
        "key cs_0a1b2c3d_xyz",
        "SECRET_KEY=abc",
        'paid to "account_number": "0123456789"',
    ]
    assert "0123456789" in suite_numbers()
    assert len(offences(leaks)) == len(leaks)
    assert (
        offences(
            [
                "GET /api/markets 200",
                'HTTP Request: GET http://test/api/x?q=0905123456 "HTTP/1.1 200 OK"',
            ]
        )
        == []
    )


def test_no_log_record_of_the_run_leaks_personal_data_or_secrets():
    bad = offences(list(CAPTURED_LOGS))
    assert not bad, f"{len(bad)} log records leak:\n" + "\n".join(bad[:40])
