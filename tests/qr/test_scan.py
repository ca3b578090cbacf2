"""The one photo reader (qr/scan.py): only PNG, JPEG and WebP are opened, sizes are checked from
the header before decoding, and decoding runs on worker threads, off the event loop."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid

import pytest
from PIL import Image, ImageFile

from qr import payload, render, scan
from tests.conftest import stall_body
from tests.test_input_sweep import bomb_png, psd_bytes

TEXT = payload.encode(bin="970422", account="0123456789", poi="11")  # the seeded stall's account


def qr_photo(fmt: str, size: tuple[int, int] | None = None) -> bytes:
    """The stall's QR code, alone or in the middle of a white canvas of `size`, in `fmt`."""
    code = Image.open(io.BytesIO(render.png(TEXT, scale=8))).convert("L")
    if size is not None:
        canvas = Image.new("L", size, 255)
        canvas.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
        code = canvas
    buf = io.BytesIO()
    code.save(buf, format=fmt)
    return buf.getvalue()


class Spy:
    """Counts calls to a Pillow function while delegating to it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        self.calls = 0
        original = getattr(owner, name)

        def spy(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_photos_are_read(fmt):
    assert scan.read_qr_codes_sync(qr_photo(fmt)) == [TEXT]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("GIF", lambda: qr_photo("GIF")),
        ("BMP", lambda: qr_photo("BMP")),
        ("TIFF", lambda: qr_photo("TIFF")),
        ("PSD", psd_bytes),
    ],
)
def test_other_formats_are_refused_without_their_plugin_ever_running(monkeypatch, name, data):
    """The GIF, BMP and TIFF files hold a readable QR code: refusing them is not a decoding
    failure. Their Pillow plug-ins are never asked about the data, let alone decode it."""
    blob = data()
    Image.init()
    factory, accept = Image.OPEN[name]
    asked, opened = [], []

    def spy_accept(prefix: bytes) -> bool:
        asked.append(name)
        return bool(accept(prefix)) if accept else True

    def spy_factory(*args):
        opened.append(name)
        return factory(*args)

    monkeypatch.setitem(Image.OPEN, name, (spy_factory, spy_accept))
    decoded = Spy(monkeypatch, ImageFile.ImageFile, "load")
    with pytest.raises(scan.BadImage) as refused:
        scan.read_qr_codes_sync(blob)
    assert refused.value.code == "bad_image" and refused.value.status == 422
    assert asked == [] and opened == [] and decoded.calls == 0
    # The same file through Pillow's default open (what the readers did before) reaches the plug-in.
    with Image.open(io.BytesIO(blob)) as image:
        assert image.format == name
    assert opened == [name]


@pytest.mark.parametrize(
    ("what", "data"),
    [
        ("30000x30000 bomb", lambda: bomb_png()),
        ("13000 px wide", lambda: qr_photo("PNG", (13_000, 400))),
        ("7000x7000 (49 MP)", lambda: qr_photo("PNG", (7_000, 7_000))),
    ],
)
def test_oversized_images_are_refused_from_their_header_before_decoding(monkeypatch, what, data):
    blob = data()
    decoded = Spy(monkeypatch, ImageFile.ImageFile, "load")
    with pytest.raises(scan.BadImage):
        scan.read_qr_codes_sync(blob)
    assert decoded.calls == 0, what


@pytest.mark.parametrize("blob", [b"", b"not an image", qr_photo("PNG")[:200]])
def test_empty_garbage_and_truncated_files_are_bad_image(blob):
    with pytest.raises(scan.BadImage):
        scan.read_qr_codes_sync(blob)


async def test_both_photo_endpoints_answer_a_bomb_with_422_bad_image(client, auth, markets):
    headers = await auth("volunteer")
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("SC-1"),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    stall_id = r.json()["id"]
    bomb = ("sign.png", bomb_png(), "image/png")
    for path, field in (
        (f"/api/stalls/{stall_id}/verify-image", "image"),
        ("/api/qr/scan", "file"),
    ):
        r = await client.post(path, files={field: bomb}, headers=headers)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "bad_image"
        gif = await client.post(
            path, files={field: ("sign.gif", qr_photo("GIF"), "image/gif")}, headers=headers
        )
        assert gif.status_code == 422 and gif.json()["code"] == "bad_image", (path, gif.text)
    good = await client.post(
        f"/api/stalls/{stall_id}/verify-image",
        files={"image": ("sign.webp", qr_photo("WEBP"), "image/webp")},
        headers=headers,
    )
    assert good.status_code == 200 and good.json()["level"] == "qr_verified", good.text


async def test_healthz_answers_while_six_large_photos_are_being_decoded(live, monkeypatch):
    """Decoding runs on worker threads: /healthz is answered before the first of six concurrent
    scans of a 4000x4000 photo is done (on the event loop, it would wait for them)."""
    photo = qr_photo("PNG", (4_000, 4_000))
    decoding = threading.Event()
    read = scan.read_qr_codes_sync

    def reading(data: bytes) -> list[str]:
        decoding.set()
        return read(data)

    monkeypatch.setattr(scan, "read_qr_codes_sync", reading)
    headers = await live.token("volunteer")
    finished: list[str] = []
    async with live.client() as client:

        async def one_scan() -> None:
            r = await client.post(
                "/api/qr/scan", files={"file": ("big.png", photo, "image/png")}, headers=headers
            )
            assert r.status_code == 200, r.text
            assert [x["payload"] for x in r.json()["results"]] == [TEXT]
            finished.append("scan")

        scans = [asyncio.create_task(one_scan()) for _ in range(6)]
        await asyncio.to_thread(decoding.wait)  # a scan is decoding now
        health = await client.get("/healthz")
        finished.append("healthz")
        assert health.status_code == 200
        await asyncio.gather(*scans)
    assert finished == ["healthz"] + ["scan"] * 6
