"""Print a whole market's signs to a PDF from the command line, with a progress bar.

python -m merchants.print_signs --market 3 --out cho-con.pdf [--zone A] [--only-unprinted] [--size A5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from core import db, users
from core.crypto import Keys, SealError, secret_key
from core.settings import get_settings
from merchants import signs


def _bar(done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.perf_counter() - started, 1e-6)
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} signs  {rate:,.0f}/s"
    )
    sys.stderr.flush()


async def run(
    market_id: int, out: str, zone: str | None, only_unprinted: bool, size: str, username: str
) -> int:
    settings = get_settings()
    conn = await db.connect(db.database_url(settings), keys=Keys(secret_key(settings)))
    try:
        user = await users.find_user(conn, username)
        if user is None or user.role != "admin":
            raise SystemExit(f"user {username!r} must exist and be an admin")
        started = time.perf_counter()
        pdf = await signs.market_signs_pdf(
            conn,
            user=user,
            market_id=market_id,
            zone=zone,
            only_unprinted=only_unprinted,
            size=size,  # type: ignore[arg-type]
            window_days=settings.transacting_window_days,
            fmt="cli",
            progress=lambda done, total: _bar(done, total, started),
        )
    except SealError as exc:
        raise SystemExit(f"\n{exc} (DATA_DIR or SECRET_KEY as the app has them)") from None
    finally:
        await conn.close()
    await asyncio.to_thread(Path(out).write_bytes, pdf)
    sys.stderr.write(
        f"\nwrote {out} ({len(pdf):,} bytes) in {time.perf_counter() - started:.1f} s\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print every active stall's VietQR sign of a market."
    )
    parser.add_argument("--market", type=int, required=True, help="market id")
    parser.add_argument("--out", required=True, help="output PDF file")
    parser.add_argument("--zone", help="only this zone")
    parser.add_argument(
        "--only-unprinted", action="store_true", help="only stalls without a printed sign"
    )
    parser.add_argument("--size", choices=["A6", "A5"], default="A6")
    parser.add_argument("--user", default="admin", help="admin account recorded as the printer")
    args = parser.parse_args(argv)
    return asyncio.run(
        run(args.market, args.out, args.zone, args.only_unprinted, args.size, args.user)
    )


if __name__ == "__main__":
    sys.exit(main())
