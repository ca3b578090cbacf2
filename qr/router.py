"""HTTP routes of the bank directory and VietQR encode, decode and scan (no database)."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from core.auth import CurrentUser
from core.db import get_conn
from core.errors import Invalid, PayloadTooLarge
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
    results: list[dict]  # type: ignore[type-arg]  # free-form decode results (OpenAPI: object)


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
async def decode(body: DecodeIn, user: CurrentUser) -> dict:  # type: ignore[type-arg]
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
    texts = await service.scan_image(data)
    return ScanOut(
        results=[{"payload": t, "decoded": service.decoded_dict(payload.decode(t))} for t in texts]
    )
