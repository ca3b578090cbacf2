"""HTTP routes of the bank directory, VietQR encode/decode/scan, QR images and printable signs."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.auth import CurrentUser
from core.db import get_conn
from core.errors import Invalid, PayloadTooLarge
from core.params import Id
from qr import banks, payload, service

router = APIRouter(prefix="/api", tags=["VietQR and signs"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
MAX_SCAN_BYTES = 10 * 1024 * 1024


class BankOut(BaseModel):
    bin: str
    code: str
    short_name: str
    name: str
    kind: str


class EncodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bin: str = Field(max_length=32)
    account_number: str = Field(max_length=64)
    service: Literal["account", "card"] = "account"
    amount: int | None = Field(default=None, ge=-(10**15), le=10**15)
    purpose: str | None = Field(default=None, max_length=400)
    reference: str | None = Field(default=None, max_length=400)
    poi: Literal["11", "12"] | None = None


class EncodeOut(BaseModel):
    payload: str


class DecodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: str = Field(max_length=512)


class ScanOut(BaseModel):
    results: list[dict]


@router.get("/banks", response_model=list[BankOut])
async def list_banks(q: Annotated[str | None, Query(max_length=100)] = None) -> list[BankOut]:
    """Every institution that receives VietQR transfers (public); `q` searches BIN, code or name without diacritics."""
    found = banks.search(q) if q and q.strip() else banks.all_banks()
    return [
        BankOut(bin=b.bin, code=b.code, short_name=b.short_name, name=b.name, kind=b.kind)
        for b in found
    ]


@router.post("/qr/encode", response_model=EncodeOut)
async def encode(body: EncodeIn, user: CurrentUser) -> EncodeOut:
    """Build a NAPAS VietQR payload; invalid input is a 422 naming the field, its limit and length."""
    try:
        text = payload.encode(
            bin=body.bin,
            account=body.account_number,
            service=body.service,
            amount=body.amount,
            purpose=body.purpose,
            reference=body.reference,
            poi=body.poi,
        )
    except payload.PayloadError as exc:
        field = "account_number" if exc.field == "account" else exc.field
        raise Invalid(
            str(exc), field=field, reason=exc.code, limit=exc.limit, length=exc.length
        ) from None
    return EncodeOut(payload=text)


@router.post("/qr/decode")
async def decode(body: DecodeIn, user: CurrentUser) -> dict:
    """Decode any EMVCo merchant-presented payload; a broken payload is a result with problems, not an error."""
    return service.decoded_dict(payload.decode(body.payload))


@router.post("/qr/scan", response_model=ScanOut)
async def scan(
    user: CurrentUser, file: Annotated[UploadFile, File(description="PNG or JPEG photo of a sign")]
) -> ScanOut:
    """Read every QR code in a photo and decode each; no code → 422 no_qr_found; over 10 MB → 413."""
    data = await file.read(MAX_SCAN_BYTES + 1)
    if len(data) > MAX_SCAN_BYTES:
        raise PayloadTooLarge("Images are limited to 10 MB.")
    texts = service.scan_image(data)
    return ScanOut(
        results=[{"payload": t, "decoded": service.decoded_dict(payload.decode(t))} for t in texts]
    )


AccountId = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="default: the first")]
Scale = Annotated[int, Query(ge=1, le=40, description="pixels per module")]


async def _stall_payload(
    stall_id: Id, conn: Conn, user: CurrentUser, request: Request, account_id: AccountId = None
) -> str:
    """The payload of the stall's chosen (or first) account, after the scope and consent checks."""
    return await service.stall_qr(
        conn, user=user, stall_id=stall_id, account_id=account_id, route=request.url.path
    )


StallPayload = Annotated[str, Depends(_stall_payload)]


@router.get(
    "/stalls/{stall_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def stall_qr_png(text: StallPayload, scale: Scale = 10) -> Response:
    """The stall's VietQR as PNG (quiet zone 4 modules, error correction M)."""
    return _image(service.qr_png(text, scale), "image/png")


@router.get(
    "/stalls/{stall_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def stall_qr_svg(text: StallPayload, scale: Scale = 10) -> Response:
    """The stall's VietQR as SVG."""
    return _image(service.qr_svg(text, scale).encode(), "image/svg+xml")


def _image(body: bytes, media_type: str) -> Response:
    # Private: a sign names a person; short-lived so an edited account shows at once.
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, max-age=60"})


@router.get(
    "/stalls/{stall_id}/sign.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def stall_sign(
    stall_id: Id,
    conn: Conn,
    user: CurrentUser,
    request: Request,
    account_id: AccountId = None,
    size: Literal["A6", "A5"] = "A6",
) -> Response:
    """The stall's printable sign (A6 by default, A5 option)."""
    pdf = await service.stall_sign_pdf(
        conn, user=user, stall_id=stall_id, account_id=account_id, size=size, route=request.url.path
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bien-vietqr-{stall_id}.pdf"'},
    )


@router.get(
    "/markets/{market_id}/signs.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def market_signs(
    market_id: Id,
    conn: Conn,
    user: CurrentUser,
    zone: Annotated[str | None, Query(max_length=20)] = None,
    only_unprinted: bool = False,
    size: Literal["A6", "A5"] = "A6",
) -> Response:
    """Every active stall's sign, several per A4 page with cut marks, in stall-code order."""
    pdf = await service.market_signs_pdf(
        conn, user=user, market_id=market_id, zone=zone, only_unprinted=only_unprinted, size=size
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bien-vietqr-cho-{market_id}.pdf"'},
    )
