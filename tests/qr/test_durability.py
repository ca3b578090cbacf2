"""Signs that survive a market hall.

Real A6 signs (sign_pdf, rasterised with pypdfium2) are stained, taped over and washed by sleeve
glare, then photographed tilted, from up to a metre, blurred, JPEG-compressed and in poor light,
alone and in combination, with seeded damage (bench/bench_durability.py). zxing-cpp must read our
sign back to the exact payload more often than a plain `qrcode.make(payload)` (level M, box 10,
border 4) printed in the same square under the same damage, and never to any other text. These
are counts of photos, not timings; `make bench` reports the same on more photos.
"""

import pytest
import zxingcpp

from bench import bench_durability as durability
from qr import render, service

PER_CELL = 12  # photos per (wear, shot) pair: 23 pairs, 276 photos of each print


@pytest.fixture(scope="module")
def outcomes() -> list[durability.Outcome]:
    return durability.measure(durability.cases(durability.sign_payloads(), PER_CELL))


def scanned(image: object) -> zxingcpp.Barcode:
    (code,) = zxingcpp.read_barcodes(image, formats=durability.QR_ONLY)
    return code


def test_prints_compared_are_our_level_h_sign_and_the_plain_level_m_default() -> None:
    for (bin_, account, kind, reference), text in zip(
        durability.ACCOUNTS, durability.sign_payloads(), strict=True
    ):
        # exactly the bytes the service prints for such an account: the payload did not change
        assert text == service.payload_for(bin_, account, kind, reference)
        ours, plain = scanned(durability.sign_print(text)), scanned(durability.plain_print(text))
        assert (ours.text, ours.ec_level) == (text, "H")
        assert (plain.text, plain.ec_level) == (text, "M")
    assert durability.sign_payloads()[0] == (
        "00020101021138570010A00000072701270006970415011300110019324180208QRIBFTTA"
        "53037045802VN6304635F"
    )


def test_every_kind_of_damage_is_measured_on_both_prints(outcomes) -> None:
    kinds = {(o.case.wear, o.case.shot) for o in outcomes}
    assert len(kinds) == len(durability.WEAR) * len(durability.SHOT) - 1
    assert len(outcomes) == PER_CELL * len(kinds)
    assert len({o.case.payload for o in outcomes}) == len(durability.ACCOUNTS)


def test_no_damaged_photo_of_our_sign_ever_scans_to_a_wrong_text(outcomes) -> None:
    # (The plain code's wrong reads, if any, are the baseline's and are reported by the bench.)
    assert durability.tally(outcomes, "ours").wrong == 0
    for o in outcomes:
        assert set(o.ours) <= {o.case.payload}, o.case


def test_our_sign_scans_90_percent_and_10_points_more_than_the_plain_code(outcomes) -> None:
    ours, plain = durability.tally(outcomes, "ours"), durability.tally(outcomes, "plain")
    assert ours.share >= 0.90, (ours, plain)
    assert ours.share >= plain.share + 0.10, (ours, plain)


@pytest.mark.parametrize("wear", ["stain", "tape", "glare"])
def test_each_kind_of_wear_hurts_our_sign_less(outcomes, wear: str) -> None:
    ours, plain = (
        durability.tally(outcomes, "ours", wear),
        durability.tally(outcomes, "plain", wear),
    )
    assert ours.share > plain.share, (wear, ours, plain)


def test_a_clean_sign_still_scans_in_every_kind_of_shot(outcomes) -> None:
    # Level H costs smaller modules at the same size (1.55 mm against 1.85 mm): on an unworn sign
    # photographed tilted, from a metre, blurred, compressed or in poor light it must still scan.
    clean = [o for o in outcomes if o.case.wear == "none"]
    assert durability.tally(clean, "ours").share >= 0.90
    assert render.matrix(durability.sign_payloads()[0]).version == 6
