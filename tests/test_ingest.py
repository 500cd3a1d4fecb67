"""Tests for yomitori.ingest: every input file is made in tmp_path at test time."""

from __future__ import annotations

import hashlib
import inspect
import struct
import warnings
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from yomitori.errors import ExitCode, InputError, YomitoriError
from yomitori.ingest import SUPPORTED, Page, PageFailure, count_pages, read_pages

# --- file makers ---------------------------------------------------------------------------------


def write_pdf(path: Path, objects: list[bytes], trailer_extra: bytes = b"") -> Path:
    """Write a minimal PDF by hand; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def page_obj(width: int = 200, height: int = 200, extra: bytes = b"") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] %s>>" % (width, height, extra)


def pages_obj(n: int, first: int = 3) -> bytes:
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(n))
    return b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def write_encrypted_pdf(path: Path, user_password: bytes = b"secret") -> Path:
    """A genuinely encrypted PDF (Standard security handler, RC4 40-bit, R2; PDF 1.7 §7.6.3).

    Neither pypdfium2 nor Pillow can encrypt, and pikepdf/pypdf are not dependencies.
    The page has no strings or streams, so only /O and /U need computing.
    """
    owner, perms, file_id = b"owner", -4, bytes(range(16))
    o_entry = _rc4(hashlib.md5((owner + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    key = hashlib.md5((user_password + _PAD)[:32] + o_entry + struct.pack("<i", perms) + file_id).digest()[:5]
    u_entry = _rc4(key, _PAD)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        o_entry.hex().encode(),
        u_entry.hex().encode(),
        perms,
    )
    ids = b"/ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode())
    return write_pdf(path, [CATALOG, pages_obj(1), page_obj(), encrypt], b"/Encrypt 4 0 R " + ids)


def write_pillow_pdf(path: Path) -> Path:
    """3 pages of 3×4 inches (resolution 100 → 300×400 px): gray, colour and 1-bit."""
    gray = Image.new("L", (300, 400), 255)
    red = Image.new("RGB", (300, 400), (255, 0, 0))
    bits = Image.new("1", (300, 400), 0)  # all black
    gray.save(path, "PDF", save_all=True, append_images=[red, bits], resolution=100)
    return path


def tiff_frames(n: int = 3) -> list[Image.Image]:
    """1-bit frames, 200 wide × 300 high, a black bar whose row tells the page apart."""
    frames = []
    for k in range(n):
        white = np.ones((300, 200), dtype=bool)
        white[100 + 40 * k : 110 + 40 * k, :] = False
        frames.append(Image.fromarray(white).convert("1"))
    return frames


def write_g4_tiff(path: Path, n: int = 3) -> Path:
    frames = tiff_frames(n)
    frames[0].save(
        path, "TIFF", save_all=True, append_images=frames[1:], compression="group4", dpi=(300, 300)
    )
    return path


def tiff_ifds(data: bytes) -> list[dict[int, int]]:
    """Little-endian classic TIFF: for each IFD, tag → file offset of that tag's 12-byte entry."""
    offset, ifds = struct.unpack_from("<I", data, 4)[0], []
    while offset:
        (count,) = struct.unpack_from("<H", data, offset)
        entries = {
            struct.unpack_from("<H", data, offset + 2 + 12 * i)[0]: offset + 2 + 12 * i for i in range(count)
        }
        ifds.append(entries)
        (offset,) = struct.unpack_from("<I", data, offset + 2 + 12 * count)
    return ifds


def only(path: Path, **kwargs: int) -> PageFailure:
    """Read a bad file: there must be exactly one file-level failure."""
    results = list(read_pages(path, **kwargs))
    assert len(results) == 1, results
    failure = results[0]
    assert isinstance(failure, PageFailure), failure
    assert failure.number is None
    assert failure.source == str(path)
    return failure


def pages(path: Path, **kwargs: int) -> list[Page]:
    results = list(read_pages(path, **kwargs))
    assert all(isinstance(r, Page) for r in results), results
    return results  # type: ignore[return-value]


def assert_rgb(image: np.ndarray, shape: tuple[int, int]) -> None:
    assert image.dtype == np.uint8
    assert image.shape == (*shape, 3)
    assert image.flags.c_contiguous and image.flags.writeable


# --- good inputs ---------------------------------------------------------------------------------


def test_supported() -> None:
    assert SUPPORTED == ("PDF", "TIFF", "JPEG", "PNG")


def test_pdf_three_pages(tmp_path: Path) -> None:
    path = write_pillow_pdf(tmp_path / "form.pdf")
    result = pages(path)  # default 200 dpi: 3×4 in → 600×800 px
    assert [p.number for p in result] == [1, 2, 3]
    assert {p.source for p in result} == {str(path)}
    for p in result:
        assert_rgb(p.image, (800, 600))
        assert p.dpi == 200.0
    assert result[0].image.min() > 240  # white gray page, returned as RGB
    r, g, b = result[1].image[400, 300]
    assert r > 240 and g < 20 and b < 20  # red stays red (channel order is RGB, not pdfium's BGR)
    assert result[2].image.max() < 20  # black 1-bit page
    assert count_pages(path) == 3


def test_pdf_dpi_and_page_rotation(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "r.pdf", [CATALOG, pages_obj(1), page_obj(144, 72, b"/Rotate 90 ")])
    (page,) = pages(path, pdf_dpi=100)  # 2×1 in rotated → 1×2 in
    assert_rgb(page.image, (200, 100))
    assert page.dpi == 100.0


def test_pdf_page_that_does_not_render_is_skipped(tmp_path: Path) -> None:
    objects = [CATALOG, pages_obj(3), page_obj(), b"42", page_obj()]  # page 2 is not a page dictionary
    results = list(read_pages(write_pdf(tmp_path / "p.pdf", objects)))
    assert [type(r) for r in results] == [Page, PageFailure, Page]
    assert [r.number for r in results] == [1, 2, 3]
    assert "could not be rendered" in results[1].message


def test_g4_tiff_multipage(tmp_path: Path) -> None:
    path = write_g4_tiff(tmp_path / "fax.tif")
    with Image.open(path) as im:
        assert im.info["compression"] == "group4" and im.mode == "1"
    result = pages(path)
    assert [p.number for p in result] == [1, 2, 3]
    for k, p in enumerate(result):
        assert_rgb(p.image, (300, 200))
        assert p.dpi == 300.0
        black_rows = np.flatnonzero((p.image == 0).all(axis=(1, 2)))
        assert black_rows.tolist() == list(range(100 + 40 * k, 110 + 40 * k))  # right frame, not inverted
    assert count_pages(path) == 3


def test_tiff_with_one_corrupt_frame(tmp_path: Path) -> None:
    path = write_g4_tiff(tmp_path / "fax.tif")
    data = bytearray(path.read_bytes())
    strip_offsets = tiff_ifds(bytes(data))[1][273]  # frame 2's StripOffsets entry
    struct.pack_into("<I", data, strip_offsets + 8, 10**8)  # point its pixels past the end of the file
    path.write_bytes(bytes(data))
    results = list(read_pages(path))
    assert [type(r) for r in results] == [Page, PageFailure, Page]
    assert [r.number for r in results] == [1, 2, 3]
    assert "damaged or truncated" in results[1].message
    assert (results[2].image[180:190] == 0).all()  # page 3 is really page 3


def test_jpeg_exif_orientation(tmp_path: Path) -> None:
    stored = np.full((20, 40, 3), 255, dtype=np.uint8)  # 40 wide × 20 high
    stored[:, :20] = 0  # left half black
    exif = Image.Exif()
    exif[0x0112] = 6  # viewers rotate 90° clockwise: the left half ends up on top
    path = tmp_path / "photo.jpg"
    Image.fromarray(stored).save(path, "JPEG", exif=exif, dpi=(300, 300), quality=95)
    (page,) = pages(path)
    assert_rgb(page.image, (40, 20))
    assert page.image[:20].mean() < 40 and page.image[20:].mean() > 215
    assert page.dpi == 300.0
    assert count_pages(path) == 1


def test_png_rgba_goes_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)  # transparent black...
    rgba[:, 6:] = (255, 0, 0, 255)  # ...and opaque red
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    (page,) = pages(path)
    assert_rgb(page.image, (10, 12))
    assert (page.image[:, :6] == 255).all()
    assert (page.image[:, 6:] == (255, 0, 0)).all()
    assert page.dpi is None


def test_png_16bit_gray_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(values).save(path, dpi=(200, 200))
    (page,) = pages(path)
    assert_rgb(page.image, (1, 4))
    assert page.image[0, :, 0].tolist() == [0, 1, 128, 255]
    assert (page.image[..., 0] == page.image[..., 2]).all()
    assert page.dpi == pytest.approx(200, abs=0.1)  # PNG stores dots per metre


def test_png_paletted_and_gray(tmp_path: Path) -> None:
    Image.new("P", (5, 7), 3).save(tmp_path / "p.png")
    Image.new("L", (5, 7), 9).save(tmp_path / "l.png")
    for name in ("p.png", "l.png"):
        (page,) = pages(tmp_path / name)
        assert_rgb(page.image, (7, 5))


def test_type_comes_from_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    Image.new("RGB", (8, 6), (0, 0, 255)).save(path, "PNG")
    (page,) = pages(path)
    assert (page.image == (0, 0, 255)).all()


def test_read_pages_is_lazy_and_checks_arguments(tmp_path: Path) -> None:
    assert inspect.isgenerator(read_pages(tmp_path / "missing.pdf"))  # nothing happens until next()
    with pytest.raises(ValueError, match="pdf_dpi"):
        read_pages(tmp_path / "x.pdf", pdf_dpi=0)
    with pytest.raises(ValueError, match="max_pages"):
        read_pages(tmp_path / "x.pdf", max_pages=0)


# --- bad inputs ----------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()
    assert "empty file (0 bytes)" in only(path).message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "not found" in only(tmp_path / "nope.tif").message
    assert "directory" in only(tmp_path).message


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_text_file_named_pdf(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("氏名,住所\n山田太郎,東京都\n", encoding=encoding)
    message = only(path).message
    assert "not a PDF, TIFF, JPEG or PNG image" in message
    assert "looks like a text file" in message
    assert "starts with '氏名,住所\\n山田太郎,東'" in message  # the text itself, not escaped bytes


def test_office_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "form.png"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    assert "Office document" in only(path).message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image(tmp_path: Path, fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    path = tmp_path / f"cut.{fmt.lower()}"
    Image.fromarray(noise).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in only(path).message  # header fine, pixel data cut
    path.write_bytes(data[:30])  # cut inside the header
    assert "truncated" in only(path).message


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf")
    # The file is a real encrypted PDF: pdfium reports a password error, and the password opens it.
    with pytest.raises(pdfium.PdfiumError) as exc:
        pdfium.PdfDocument(path)
    assert exc.value.err_code == pdfium_c.FPDF_ERR_PASSWORD
    assert len(pdfium.PdfDocument(path, password="secret")) == 1

    message = only(path).message
    assert "PDF is encrypted" in message and "password" in message
    with pytest.raises(InputError, match="encrypted"):
        count_pages(path)


def test_pdf_without_pages_and_damaged_pdf(tmp_path: Path) -> None:
    empty = write_pdf(tmp_path / "zero.pdf", [CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"])
    # Right after an encrypted PDF: pdfium's last-error code is stale then and must not be trusted.
    assert "encrypted" in only(write_encrypted_pdf(tmp_path / "locked.pdf")).message
    assert "no pages" in only(empty).message
    with pytest.raises(InputError, match="no pages"):
        count_pages(empty)
    damaged = tmp_path / "bad.pdf"
    damaged.write_bytes(b"%PDF-1.4\n this is not a PDF body")
    assert "damaged" in only(damaged).message


# --- limits --------------------------------------------------------------------------------------


def test_pdf_over_max_pages(tmp_path: Path) -> None:
    path = write_pillow_pdf(tmp_path / "long.pdf")
    message = only(path, max_pages=2).message
    assert "3 pages" in message and "limit of 2" in message
    assert len(pages(path, max_pages=3)) == 3


def test_tiff_over_max_pages(tmp_path: Path) -> None:
    path = write_g4_tiff(tmp_path / "long.tif")
    assert "more than 2 pages" in only(path, max_pages=2).message
    assert len(pages(path, max_pages=3)) == 3


def test_pdf_page_over_max_pixels(tmp_path: Path) -> None:
    path = write_pillow_pdf(tmp_path / "big.pdf")
    results = list(read_pages(path, max_pixels=400_000))  # 600×800 = 480,000 at 200 dpi
    assert [r.number for r in results] == [1, 2, 3]
    assert all(isinstance(r, PageFailure) and "too large" in r.message for r in results)
    assert "480,000" in results[0].message and "pdf_dpi" in results[0].message
    assert len(pages(path, max_pixels=400_000, pdf_dpi=150)) == 3  # 450×600 fits


def test_image_over_max_pixels(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (100, 100)).save(path)
    message = only(path, max_pixels=9_999).message
    assert "too large" in message and "100×100" in message and "9,999" in message
    assert len(pages(path, max_pixels=10_000)) == 1


def test_tiff_frame_over_max_pixels(tmp_path: Path) -> None:
    path = tmp_path / "mixed.tif"
    small, big = Image.new("L", (10, 10)), Image.new("L", (100, 100))
    small.save(path, save_all=True, append_images=[big, small])
    results = list(read_pages(path, max_pixels=5_000))
    assert [type(r) for r in results] == [Page, PageFailure, Page]
    assert "too large" in results[1].message


def test_pillow_bomb_guard_is_handled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4_000)  # Pillow raises above 2× this
    assert "too large" in only(path).message
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)  # Pillow only warns; max_pixels refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "too large" in only(path, max_pixels=5_000).message


# --- count_pages and errors ------------------------------------------------------------------------


def test_count_pages_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.tif"
    path.touch()
    with pytest.raises(InputError) as exc:
        count_pages(path)
    assert exc.value.exit_code == ExitCode.input_file == 3
    assert str(exc.value) == f"{path}: {exc.value.message}"
    assert "empty file" in exc.value.message
    assert isinstance(exc.value, YomitoriError)
