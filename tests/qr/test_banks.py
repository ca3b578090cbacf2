"""The bank directory: every reference BIN ships, lookups, and diacritic-blind search."""

from importlib import resources
from pathlib import Path

import pytest

from qr import banks

# The 72 BINs of shared/reference/banks.json (vietqr.io, SBV-2023 and three open-source lists).
REFERENCE_BINS = """
422589 458761 533948 546034 546035 668888 796500 801011 963369 963388 970400 970403 970405
970406 970407 970408 970409 970410 970412 970414 970415 970416 970418 970419 970421 970422
970423 970424 970425 970426 970427 970428 970429 970430 970431 970432 970433 970434 970436
970437 970438 970439 970440 970441 970442 970443 970444 970446 970448 970449 970452 970454
970455 970456 970457 970458 970459 970460 970462 970463 970464 970465 970466 970467 970468
970470 971005 971011 971025 971133 977777 999888
""".split()
REFERENCE_FILE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "banks.json"


def test_every_reference_bin_is_in_the_directory() -> None:
    assert sorted(bank.bin for bank in banks.all_banks()) == sorted(REFERENCE_BINS)
    assert all(banks.get(bin) is not None for bin in REFERENCE_BINS)


def test_shipped_file_is_the_reference_copy() -> None:
    if not REFERENCE_FILE.exists():
        pytest.skip("shared/reference is not beside this checkout")
    shipped = resources.files("qr").joinpath("data/banks.json").read_bytes()
    assert shipped == REFERENCE_FILE.read_bytes()


def test_get() -> None:
    assert banks.get("970436") == banks.Bank(
        bin="970436",
        code="VCB",
        short_name="Vietcombank",
        name="Ngân hàng TMCP Ngoại Thương Việt Nam",
        kind="bank",
    )
    momo = banks.get("971025")
    assert momo is not None and momo.kind == "e-wallet"
    # Two wallets by the names on their own apps (the reference writes them as one word).
    assert [banks.get(b).short_name for b in ("971005", "971011")] == [  # type: ignore[union-attr]
        "Viettel Money",
        "VNPT Money",
    ]
    assert banks.search("viettel money")[0].bin == "971005"
    assert banks.search("vtlmoney")[0].bin == "971005"
    assert banks.get("999999") is None
    assert banks.get("") is None


def test_all_banks_are_sorted_by_short_name_and_well_formed() -> None:
    listed = banks.all_banks()
    assert [b.short_name.casefold() for b in listed] == sorted(
        b.short_name.casefold() for b in listed
    )
    assert all(len(b.bin) == 6 and b.bin.isdigit() for b in listed)
    assert {b.kind for b in listed} == {"bank", "e-wallet", "finance_company"}
    listed.clear()
    assert len(banks.all_banks()) == 72  # callers get a copy


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("ngoai thuong", "Vietcombank"),
        ("NGOẠI THƯƠNG", "Vietcombank"),
        ("vcb", "Vietcombank"),
        ("970436", "Vietcombank"),
        ("quan doi", "MBBank"),
        ("MB", "MBBank"),  # an exact code beats names that merely contain it
        ("dau tu va phat trien viet nam", "BIDV"),
        ("đông nam á", "SeABank"),
        ("momo", "MoMo"),
        ("  sai   gon thuong tin ", "Sacombank"),
    ],
)
def test_search_ignores_case_diacritics_and_spacing(query: str, first: str) -> None:
    assert banks.search(query)[0].short_name == first


def test_search_by_bin_prefix() -> None:
    found = banks.search("9710")
    assert [b.bin for b in found] and all(b.bin.startswith("9710") for b in found)
    assert {"971005", "971011", "971025"} <= {b.bin for b in found}


def test_search_without_a_match_or_query() -> None:
    assert banks.search("khong co ngan hang nay") == []
    assert banks.search("  ") == banks.all_banks()
