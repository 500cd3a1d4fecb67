"""The upload guard: what the API and `batch submit` check before a file is stored (size, type, pages, pixels).

A file is refused before it is stored when it is larger than `max_upload_bytes`, is not a PDF, TIFF, JPEG or PNG
(or an electronic 315 submission) by its first bytes (whatever its name says), is an encrypted or unreadable PDF,
has more than `max_pages` pages, or holds an image of more than `max_pixels` pixels (a decompression bomb: checked
from the headers, nothing is decoded). An upload stream is copied to a temporary file in chunks, never held in
memory whole.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from yomitori.errors import InputError
from yomitori.settings import MAX_PAGES, MAX_PIXELS, MAX_UPLOAD_BYTES, Settings

CHUNK = 1024 * 1024


class UploadRefused(InputError):
    """The file is not taken; the message says why and what to do (no file content is ever quoted beyond magic)."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = MAX_UPLOAD_BYTES
    max_pages: int = MAX_PAGES
    max_pixels: int = MAX_PIXELS

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(settings.max_upload_bytes, settings.max_pages, settings.max_pixels)


@dataclass(frozen=True)
class Upload:
    """A file that passed the guard. A temporary copy (of a stream) is deleted by `discard` or the with-block."""

    path: Path
    name: str  # as the user called it: the contract's "source"
    kind: str  # PDF, TIFF, JPEG or PNG, or 315 (an electronic submission, one record a line)
    pages: int
    size: int
    temporary: bool = False

    def discard(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def guard_upload(source: str | Path | BinaryIO, *, name: str | None = None, limits: UploadLimits | None = None,
                 tmp_dir: str | Path | None = None) -> Upload:
    """Check a file (a path) or an upload (a binary stream, copied to a temporary file first); raise UploadRefused.

    `name` is the name shown in messages and stored as the source (default: the path as given).
    """
    limits = limits or UploadLimits()
    if isinstance(source, str | Path):
        path, shown = Path(source), name or str(source)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise UploadRefused("file not found; check the path and the file name", source=shown) from None
        except OSError as e:
            raise UploadRefused(f"cannot read the file ({e.strerror})", source=shown) from e
        _check_size(size, limits, shown)
        kind, pages = _inspect(path, shown, limits)
        return Upload(path, shown, kind, pages, size)
    shown = name or getattr(source, "name", None) or "upload"
    path, size = _spool(source, shown, limits, tmp_dir)
    try:
        kind, pages = _inspect(path, shown, limits)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path, shown, kind, pages, size, temporary=True)


def _check_size(size: int, limits: UploadLimits, shown: str) -> None:
    if size > limits.max_bytes:
        raise UploadRefused(f"file is too large: {_mib(size)}, more than the limit of {_mib(limits.max_bytes)} "
                            "(YOMITORI_MAX_UPLOAD_BYTES); split it into parts", source=shown)


def _mib(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:,.1f} MiB"
    return f"{n / 1024:,.1f} KiB" if n >= 1024 else f"{n} bytes"


def _spool(stream: BinaryIO, shown: str, limits: UploadLimits, tmp_dir: str | Path | None) -> tuple[Path, int]:
    """Copy the stream to a temporary file chunk by chunk; stop as soon as it is over the size limit."""
    fd, name = tempfile.mkstemp(prefix="yomitori-upload-", dir=tmp_dir)
    path, size = Path(name), 0
    try:
        with open(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    _check_size(size, limits, shown)  # raises (the size shown is what was read so far)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


def _inspect(path: Path, shown: str, limits: UploadLimits) -> tuple[str, int]:
    """Kind by magic bytes, and page count, from the file structure only (no page is rendered or decoded)."""
    from PIL import Image

    from yomitori.ingest import _open_image, _opened_pdf, _sniff  # the readers' own checks and messages
    from yomitori.standard.importing import SUBMISSION_KIND, count_lines, looks_like_submission

    kind = "image"
    try:
        if path.is_file():
            with contextlib.suppress(OSError), path.open("rb") as fp:
                if looks_like_submission(fp.read(16)):  # an electronic submission: its records are its pages
                    return SUBMISSION_KIND, count_lines(path)
        kind = _sniff(path, shown)
        if kind == "PDF":
            with _opened_pdf(path, shown) as pdf:  # an encrypted PDF is refused here, with what to do about it
                pages = len(pdf)
            _check_pages(pages, limits, shown, kind)
            return kind, pages
        with path.open("rb") as fp, _open_image(fp, kind, shown) as im:
            pages = 0
            while True:
                width, height = im.size
                if width * height > limits.max_pixels:
                    where = f"page {pages + 1} is " if kind == "TIFF" else ""
                    raise UploadRefused(f"{where}{width}×{height} = {width * height:,} pixels, more than the limit "
                                        f"of {limits.max_pixels:,} (YOMITORI_MAX_PIXELS); a decompression bomb or "
                                        "a scan at too high a resolution", source=shown)
                pages += 1
                if kind != "TIFF":  # extra JPEG/PNG frames (MPO previews, APNG) are not pages
                    return kind, 1
                _check_pages(pages, limits, shown, kind)
                try:
                    im.seek(pages)  # the next page's header only
                except EOFError:
                    return kind, pages
    except InputError as e:
        if isinstance(e, UploadRefused):
            raise
        raise UploadRefused(e.message, source=shown) from e
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError) as e:  # Pillow on a broken page header
        raise UploadRefused(f"damaged {kind} file ({' '.join(str(e).split())[:200]}); re-scan or re-export it",
                            source=shown) from e


def _check_pages(pages: int, limits: UploadLimits, shown: str, kind: str) -> None:
    if pages > limits.max_pages:
        count = f"more than {limits.max_pages}" if kind == "TIFF" else str(pages)  # a TIFF is counted up to the limit
        raise UploadRefused(f"{kind} has {count} pages, more than the limit of {limits.max_pages} "
                            "(YOMITORI_MAX_PAGES); split it into parts", source=shown)
