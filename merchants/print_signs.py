"""Print a whole market's signs to a PDF from the command line, with a progress bar.

python -m merchants.print_signs --market 3 --out cho-con.pdf [--zone A] [--only-unprinted] [--size A5]
                                [--confirm]

It creates a print job (the stalls and payloads in the PDF), so the prints can be confirmed once
the sheets came out of the printer: in the app, or right away with --confirm.
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
from merchants import schemas, signs


def _bar(done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.perf_counter() - started, 1e-6)
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} signs  {rate:,.0f}/s"
    )
    sys.stderr.flush()


async def run(
    market_id: int,
    out: str,
    zone: str | None,
    only_unprinted: bool,
    size: str,
    username: str,
    confirm: bool,
) -> int:
    settings = get_settings()
    conn = await db.connect(db.database_url(settings), keys=Keys(secret_key(settings)))
    try:
        user = await users.find_user(conn, username)
        if user is None or user.role != "admin":
            raise SystemExit(f"user {username!r} must exist and be an admin")
        started = time.perf_counter()
        body = schemas.PrintJobIn(
            zone=zone,
            only_unprinted=only_unprinted,
            size="A5" if size == "A5" else "A6",
        )
        job = await signs.create_print_job(conn, user=user, market_id=market_id, body=body)
        pdf = await signs.print_job_pdf(
            conn,
            user=user,
            job_id=job.id,
            route="python -m merchants.print_signs",
            progress_bar=lambda done, total: _bar(done, total, started),
        )
        if confirm:
            await signs.confirm_print_job(
                conn,
                user=user,
                job_id=job.id,
                body=schemas.PrintConfirmIn(),
                window_days=settings.transacting_window_days,
                fmt="cli",
            )
    except SealError as exc:
        raise SystemExit(f"\n{exc} (DATA_DIR or SECRET_KEY as the app has them)") from None
    finally:
        await conn.close()
    await asyncio.to_thread(Path(out).write_bytes, pdf)
    state = "confirmed printed" if confirm else f"confirm it in the app (print job {job.id})"
    sys.stderr.write(
        f"\nwrote {out} ({len(pdf):,} bytes, {job.stall_count} signs) in "
        f"{time.perf_counter() - started:.1f} s; {state}\n"
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
    parser.add_argument(
        "--confirm", action="store_true", help="record the prints now (the sheets are printed)"
    )
    args = parser.parse_args(argv)
    return asyncio.run(
        run(
            args.market,
            args.out,
            args.zone,
            args.only_unprinted,
            args.size,
            args.user,
            args.confirm,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
