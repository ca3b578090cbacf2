"""Write alembic/data/admin_units_2025_07.csv from the `vietnam-provinces` package (dev extra).

The national directory of administrative units after the 1 July 2025 reform (National Statistics
Office codes: provinces two digits, wards and communes five, zero-padded as the Office writes them).
Run once per directory release (the package needs Python 3.12 or later); the file is then loaded
by a new data migration, never edited:

    python3.12 -m venv /tmp/vp && /tmp/vp/bin/pip install vietnam-provinces==2026.9.0
    /tmp/vp/bin/python -m tools.make_admin_units_csv

The file in the repository was made from vietnam-provinces 2026.9.0 (data of 2026-09-20), whose
codes agree with the project's reference (Phường Hải Vân 20194, Phường An Khê 20305); release
2025.10.1 numbered 121 units differently. Names are the package's; a province of type "tỉnh" is
given its full name ("Tỉnh Cao Bằng") if a release leaves it off.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "alembic" / "data" / "admin_units_2025_07.csv"
COLUMNS = ("code", "level", "kind", "name", "province_code")
# The package's division types, as the ASCII values of admin_unit.kind.
KINDS = {
    "tỉnh": "tinh",
    "thành phố trung ương": "thanh_pho",
    "phường": "phuong",
    "xã": "xa",
    "đặc khu": "dac_khu",
}


def rows() -> list[dict[str, str]]:
    """Every province, then every ward, commune and special zone, in code order."""
    from vietnam_provinces import Province, Ward

    out: list[dict[str, str]] = []
    for p in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        kind = KINDS[p.division_type.value]
        name = f"Tỉnh {p.name}" if kind == "tinh" and not p.name.startswith("Tỉnh ") else p.name
        code = f"{int(p.code):02d}"
        out.append(
            {"code": code, "level": "province", "kind": kind, "name": name, "province_code": code}
        )
    for w in sorted(Ward.iter_all(), key=lambda w: (int(w.province_code), int(w.code))):
        out.append(
            {
                "code": f"{int(w.code):05d}",
                "level": "ward",
                "kind": KINDS[w.division_type.value],
                "name": w.name,
                "province_code": f"{int(w.province_code):02d}",
            }
        )
    return out


def render(units: list[dict[str, str]]) -> str:
    """The CSV text: UTF-8, comma-separated, a header line, '\\n' line ends."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(units)
    return buf.getvalue()


def main() -> None:
    import vietnam_provinces

    units = rows()
    OUTPUT.write_text(render(units), encoding="utf-8")
    provinces = sum(1 for u in units if u["level"] == "province")
    print(
        f"{OUTPUT}: {provinces} provinces, {len(units) - provinces} wards "
        f"(vietnam-provinces {vietnam_provinces.__version__}, "
        f"data of {vietnam_provinces.__data_version__})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
