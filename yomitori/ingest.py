"""Turn an input file (PDF, TIFF, JPEG or PNG) into RGB page images, lazily, one page at a time."""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.internal as pdfium_i
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from yomitori.errors import InputError
from yomitori.settings import MAX_PAGES, MAX_PIXELS

__all__ = ["SUPPORTED", "Page", "PageFailure", "count_pages", "read_pages"]

log = logging.getLogger(__name__)

SUPPORTED = ("PDF", "TIFF", "JPEG", "PNG")

_SUPPORTED_TEXT = "a PDF, TIFF, JPEG or PNG image"
_HEAD_SIZE = 1024  # Acrobat and pdfium accept "%PDF-" anywhere in the first 1 KiB
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Formats people send by mistake, named so the operator knows what to convert.
_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive or an Office document (.docx/.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.doc/.xls)"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (b"\xffO\xffQ", "a JPEG 2000 image"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass(frozen=True, eq=False)  # eq=False: comparing or hashing would hit the ndarray
class Page:
    """One decoded page."""

    source: str  # the path as given by the user
    number: int  # 1-based page number in the source
    image: np.ndarray  # RGB uint8, H×W×3, C-contiguous, owns its memory
    dpi: float | None  # from the file when known (PDF: the render dpi)


@dataclass(frozen=True)
class PageFailure:
    """A page (number) or a whole file (number None) that could not be read, and why."""

    source: str
    number: int | None
    message: str


def read_pages(
    path: str | Path, *, pdf_dpi: int = 200, max_pages: int = MAX_PAGES, max_pixels: int = MAX_PIXELS
) -> Iterator[Page | PageFailure]:
    """Yield the pages of ``path`` in order, decoding one page at a time.

    A bad input never raises: an unreadable file gives exactly one ``PageFailure(number=None)``, a bad
    page inside a good file gives a ``PageFailure`` for that page and reading goes on. Only invalid
    arguments raise ``ValueError`` (at call time, not on first ``next()``).

    ``max_pixels`` is checked against the header before decoding. Pillow's own global guard
    (``PIL.Image.MAX_IMAGE_PIXELS``) still applies on top of it; this module does not change it.
    pdfium is not thread-safe: read PDFs from one thread at a time.
    """
    if pdf_dpi <= 0:
        raise ValueError(f"pdf_dpi must be positive, got {pdf_dpi}")
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, got {max_pages}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
    return _read_pages(str(path), Path(path), pdf_dpi, max_pages, max_pixels)


def count_pages(path: str | Path) -> int:
    """Number of pages in ``path``, read from the file structure without decoding any image.

    Raises ``InputError`` if the file cannot be read (same reasons and messages as ``read_pages``).
    """
    source = str(path)
    kind = _sniff(Path(path), source)
    if kind == "PDF":
        with _opened_pdf(Path(path), source) as pdf:
            return len(pdf)
    try:
        with Path(path).open("rb") as fp, _open_image(fp, kind, source) as im:  # reads headers only
            return im.n_frames if kind == "TIFF" else 1  # extra APNG/MPO frames are not pages
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"damaged {kind} file, cannot count its pages ({_why(e)})", source=source) from e


# --- detection ---------------------------------------------------------------------------------------


def _sniff(path: Path, source: str) -> str:
    """Return the kind of file (one of SUPPORTED) from its first bytes, or raise InputError."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError("file not found; check the path and the file name", source=source) from None
    except PermissionError:
        raise InputError("permission denied; ask for read access to the file", source=source) from None
    except OSError as e:
        raise InputError(f"cannot read the file ({_why(e)})", source=source) from e
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file; pass the files inside it", source=source)
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        raise InputError("not a regular file", source=source)
    if st.st_size == 0:
        raise InputError("empty file (0 bytes); the scan or copy failed, make it again", source=source)
    try:
        with path.open("rb") as fp:
            head = fp.read(_HEAD_SIZE)
    except PermissionError:
        raise InputError("permission denied; ask for read access to the file", source=source) from None
    except OSError as e:
        raise InputError(f"cannot read the file ({_why(e)})", source=source) from e

    if head.startswith(_PNG_MAGIC):
        return "PNG"
    if head.startswith(_JPEG_MAGIC):
        return "JPEG"
    if head.startswith(_TIFF_MAGIC):
        return "TIFF"
    if b"%PDF-" in head:
        return "PDF"
    raise InputError(f"{_not_supported(head)}; convert it to PDF, TIFF, JPEG or PNG", source=source)


def _not_supported(head: bytes) -> str:
    start = f"starts with {head[:12]!r}"
    for magic, what in _KNOWN_OTHERS:
        if head.startswith(magic):
            return f"not {_SUPPORTED_TEXT} (looks like {what}; {start})"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
        return f"not {_SUPPORTED_TEXT} (looks like a HEIC/AVIF photo; {start})"
    text = _as_text(head)
    if text is not None:
        return f"not {_SUPPORTED_TEXT} (looks like a text file; starts with {text[:12]!r})"
    return f"not {_SUPPORTED_TEXT} ({start})"


def _as_text(head: bytes) -> str | None:
    """The decoded start of a text file, or None if ``head`` does not look like text."""
    if any(b < 0x20 and b not in b"\t\n\r\f\x1a" for b in head):
        return None
    for encoding in ("utf-8-sig", "cp932"):  # cp932: Shift_JIS CSV from Japanese office software
        try:
            return head.decode(encoding)
        except UnicodeDecodeError as e:
            if e.start >= len(head) - 3:  # only a multi-byte character cut off by the 1 KiB read
                return head[: e.start].decode(encoding)
    return None


def _why(e: BaseException) -> str:
    """Short, single-line reason for an exception raised by a decoder."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _too_large(width: int, height: int, max_pixels: int, what: str) -> str:
    return (
        f"page is too large: {what}{width}×{height} = {width * height:,} pixels, more than the limit of "
        f"{max_pixels:,} (max_pixels); this guards against decompression bombs"
    )


def _read_pages(
    source: str, path: Path, pdf_dpi: int, max_pages: int, max_pixels: int
) -> Iterator[Page | PageFailure]:
    try:
        kind = _sniff(path, source)
    except InputError as e:
        yield PageFailure(source, None, e.message)
        return
    if kind == "PDF":
        yield from _read_pdf(source, path, pdf_dpi, max_pages, max_pixels)
    else:
        yield from _read_raster(source, path, kind, max_pages, max_pixels)


# --- PDF ---------------------------------------------------------------------------------------------


_PDF_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: (
        "PDF is encrypted (password-protected); remove the password before scanning it in"
    ),
    pdfium_c.FPDF_ERR_SECURITY: (
        "PDF is encrypted with an unsupported security scheme; save an unprotected copy first"
    ),
    pdfium_c.FPDF_ERR_FILE: "cannot read the PDF file; check that it is not locked or still being copied",
}


@contextlib.contextmanager
def _opened_pdf(path: Path, source: str, *, forms: bool = False) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF that has at least one page, or raise InputError."""
    try:
        # Python opens the file, not pdfium: pdfium's fopen() mangles Japanese file names on Windows.
        fp = path.open("rb")
    except OSError as e:
        raise InputError(f"cannot read the file ({_why(e)})", source=source) from e
    with fp:
        # The raw API, not PdfDocument(fp): for a PDF with zero pages pypdfium2 raises with
        # FPDF_GetLastError(), which pdfium does not reset on success, so the code is stale (e.g. the
        # "password" error of the previous file). A NULL handle is the only reliable failure signal.
        reader, keep_alive = pdfium_i.get_bufreader(fp)
        raw = pdfium_c.FPDF_LoadCustomDocument(reader, None)
        if not raw:
            code = pdfium_c.FPDF_GetLastError()
            reason = pdfium_i.ErrorToStr.get(code, f"error {code}")
            message = _PDF_LOAD_ERRORS.get(
                code, f"damaged or invalid PDF (pdfium: {reason}); re-export or re-scan it"
            )
            raise InputError(message, source=source)
        pdf = pdfium.PdfDocument(raw)
        try:
            if forms:
                try:
                    pdf.init_forms()  # draw filled-in form fields as a viewer shows them; must precede len()
                except Exception as e:
                    log.warning("%s: PDF form fields will not be drawn: %s", source, _why(e))
            if len(pdf) < 1:
                raise InputError("PDF has no pages", source=source)
            yield pdf
        finally:
            pdf.close()
            del keep_alive  # pdfium calls back into the reader until the document is closed


def _read_pdf(
    source: str, path: Path, pdf_dpi: int, max_pages: int, max_pixels: int
) -> Iterator[Page | PageFailure]:
    with contextlib.ExitStack() as stack:
        try:
            pdf = stack.enter_context(_opened_pdf(path, source, forms=True))
        except InputError as e:
            yield PageFailure(source, None, e.message)
            return
        n = len(pdf)
        if n > max_pages:
            yield PageFailure(
                source,
                None,
                f"PDF has {n} pages, more than the limit of {max_pages} (max_pages); split it into parts",
            )
            return
        scale = pdf_dpi / 72  # PDF units are 1/72 inch
        for index in range(n):
            yield _render_pdf_page(pdf, index, source, pdf_dpi, scale, max_pixels)


def _render_pdf_page(
    pdf: pdfium.PdfDocument, index: int, source: str, pdf_dpi: int, scale: float, max_pixels: int
) -> Page | PageFailure:
    number = index + 1
    try:
        # Size check before rendering: the bitmap is allocated in one piece by pdfium.
        w_pt, h_pt = pdf.get_page_size(index)
        if not (math.isfinite(w_pt) and math.isfinite(h_pt) and w_pt > 0 and h_pt > 0):
            return PageFailure(source, number, f"page has no usable size ({w_pt} × {h_pt} pt)")
        width, height = math.ceil(w_pt * scale), math.ceil(h_pt * scale)
        if width * height > max_pixels:
            what = f"{w_pt:.0f}×{h_pt:.0f} pt at {pdf_dpi} dpi gives "
            return PageFailure(
                source, number, f"{_too_large(width, height, max_pixels, what)}; lower pdf_dpi"
            )
        page = pdf.get_page(index)
        try:
            bitmap = page.render(scale=scale, rev_byteorder=True)  # 3-byte RGB even for gray pages
            try:
                image = np.array(bitmap.to_numpy(), dtype=np.uint8, order="C")  # copy out of pdfium memory
            finally:
                bitmap.close()
        finally:
            page.close()
    except Exception as e:  # pdfium raises PdfiumError, but also MemoryError/ValueError on odd pages
        return PageFailure(source, number, f"page could not be rendered ({_why(e)}); the PDF may be damaged")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return Page(source, number, image, float(pdf_dpi))


# --- raster images -----------------------------------------------------------------------------------


def _open_image(fp: BinaryIO, kind: str, source: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # We compare against max_pixels ourselves; Pillow's softer warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp, formats=[kind])
    except Image.DecompressionBombError as e:
        raise InputError(f"image is too large ({_why(e)})", source=source) from e
    except Exception as e:  # Pillow raises many exception types for malformed headers
        raise InputError(
            f"damaged or truncated {kind} file ({_why(e)}); re-scan or re-export it", source=source
        ) from e


def _read_raster(
    source: str, path: Path, kind: str, max_pages: int, max_pixels: int
) -> Iterator[Page | PageFailure]:
    try:
        fp = path.open("rb")
    except OSError as e:
        yield PageFailure(source, None, f"cannot read the file ({_why(e)})")
        return
    with fp:
        try:
            im = _open_image(fp, kind, source)
        except InputError as e:
            yield PageFailure(source, None, e.message)
            return
        with im:
            if kind != "TIFF":
                # One page (extra MPO/APNG frames are previews or animation, not pages), so a failure
                # here is a failure of the whole file.
                result = _decode_frame(im, 1, kind, source, max_pixels)
                yield replace(result, number=None) if isinstance(result, PageFailure) else result
                return
            if _tiff_has_frame(im, max_pages):
                yield PageFailure(
                    source,
                    None,
                    f"TIFF has more than {max_pages} pages, the limit (max_pages); split it into parts",
                )
                return
            for index in itertools.count():
                try:
                    im.seek(index)
                except EOFError:
                    break  # no more frames
                except Exception as e:
                    # Without this frame's header the chain to later frames is lost too.
                    yield PageFailure(
                        source, index + 1, f"page header is damaged ({_why(e)}); later pages cannot be read"
                    )
                    break
                yield _decode_frame(im, index + 1, kind, source, max_pixels)


def _tiff_has_frame(im: Image.Image, index: int) -> bool:
    """True if the TIFF has a frame ``index`` (0-based); walks at most index+1 headers, no pixels."""
    try:
        im.seek(index)
    except Exception:  # EOFError: fewer frames; anything else: let the page loop report the damage
        return False
    finally:
        try:
            im.seek(0)
        except Exception as e:
            log.debug("seek(0) failed after counting TIFF frames: %s", e)
    return True


def _decode_frame(
    im: Image.Image, number: int, kind: str, source: str, max_pixels: int
) -> Page | PageFailure:
    width, height = im.size
    if width * height > max_pixels:
        return PageFailure(source, number, _too_large(width, height, max_pixels, ""))
    try:
        dpi = _dpi(im)
        if kind in ("JPEG", "PNG"):
            im, rotated = _exif_upright(im, source)
            if rotated and dpi:
                dpi = dpi[::-1]
        image = _to_rgb(im)
    except Image.DecompressionBombError as e:
        return PageFailure(source, number, f"image is too large ({_why(e)})")
    except Exception as e:  # OSError "image file is truncated", libtiff "decoder error", zlib errors...
        return PageFailure(
            source, number, f"image data is damaged or truncated ({_why(e)}); re-scan or re-export it"
        )
    return Page(source, number, image, dpi[0] if dpi else None)


def _dpi(im: Image.Image) -> tuple[float, float] | None:
    dpi = im.info.get("dpi")
    try:
        x, y = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    # 0 or 1 means "not set" in many writers (JFIF aspect-only density, some TIFFs).
    return (x, y) if x > 1 and y > 1 and math.isfinite(x) and math.isfinite(y) else None


def _exif_upright(im: Image.Image, source: str) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation, as photo viewers do; return (image, whether width and height swapped)."""
    try:
        orientation = im.getexif().get(0x0112, 1)
        if orientation == 1:
            return im, False
        return ImageOps.exif_transpose(im), orientation in (5, 6, 7, 8)
    except Exception as e:
        # The pixels are still good; a sideways page beats a lost one (OCR can detect rotation).
        log.warning("%s: ignoring unreadable EXIF orientation: %s", source, _why(e))
        return im, False


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Decode to an RGB uint8 array; 16-bit is scaled (Pillow would clip it) and alpha goes onto white."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        gray = np.asarray(im).astype(np.int64)
        gray = (np.clip(gray, 0, 65535) + 128) // 257  # 16-bit → 8-bit, rounded
        return np.repeat(gray.astype(np.uint8)[:, :, None], 3, axis=2)
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in im.info):
        # Transparent areas are paper, so put them on white (a plain convert would often turn them black).
        rgba = im.convert("RGBA")
        rgb = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    elif mode != "RGB":
        rgb = im.convert("RGB")  # 1-bit, L, P, CMYK, YCbCr...
    else:
        rgb = im
    return np.array(rgb, dtype=np.uint8, order="C")
