"""Encode throughput: our VietQR encoder against vietnam-qr-pay on the same 2,000 inputs."""

import random
import string
import time
from collections.abc import Callable
from typing import Any

from vietnam_qr_pay import QRPay, VietQRService

from qr import banks, payload

INPUTS = 2000
ROUNDS = 5
WORDS = ["thanh toan", "tien rau", "sap 12", "cho Han", "don hang", "ca phe", "hoa qua"]


def _inputs(seed: int = 20241127) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    bins = [bank.bin for bank in banks.all_banks() if bank.bin != payload.MOMO_BIN]
    return [
        {
            "bin": rng.choice(bins),
            "account": "".join(rng.choices(string.digits, k=rng.randint(6, 19))),
            "amount": rng.choice([None, rng.randint(1_000, 5_000_000)]),
            "purpose": rng.choice([None, " ".join(rng.sample(WORDS, 2))]),
        }
        for _ in range(INPUTS)
    ]


def _per_second(encode_all: Callable[[], object]) -> float:
    best = min(_timed(encode_all) for _ in range(ROUNDS))
    return INPUTS / best


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> dict[str, Any]:
    """Encode the same inputs with both libraries; report payloads per second and the ratio."""
    ours_args = _inputs()
    their_args = [
        (a["bin"], a["account"], None if a["amount"] is None else str(a["amount"]), a["purpose"])
        for a in ours_args
    ]
    account_service = VietQRService.BY_ACCOUNT_NUMBER

    def ours() -> list[str]:
        return [payload.encode(**kwargs) for kwargs in ours_args]

    def baseline() -> list[str]:
        return [
            QRPay.init_viet_qr(
                bank_bin=bin, bank_number=account, amount=amount, purpose=purpose,
                service=account_service,
            ).build()
            for bin, account, amount, purpose in their_args
        ]  # fmt: skip

    if ours() != baseline():
        raise AssertionError("the two encoders disagree on the benchmark inputs")
    ours_per_s, baseline_per_s = _per_second(ours), _per_second(baseline)
    return {
        "name": "payload_encode",
        "ours_per_s": round(ours_per_s),
        "baseline_per_s": round(baseline_per_s),
        "ratio": round(ours_per_s / baseline_per_s, 2),
    }


if __name__ == "__main__":
    print(run())
