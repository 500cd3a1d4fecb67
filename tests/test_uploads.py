"""The upload guard refuses what must not be stored, with a reason an operator can act on, and keeps the rest."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from test_ingest import write_encrypted_pdf, write_pillow_pdf

from yomitori.jobs.runtime import Runtime
from yomitori.jobs.submit import submit_batch
from yomitori.settings import Settings
from yomitori.store.models import SourceStatus
from yomitori.uploads import CHUNK, UploadLimits, UploadRefused, guard_upload

SAMPLES = Path(__file__).parents[1] / "samples"


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims width × height pixels but holds a few bytes of data: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_accepted_files_report_kind_and_pages(tmp_path):
    pdf = guard_upload(write_pillow_pdf(tmp_path / "three.pdf"))
    assert (pdf.kind, pdf.pages, pdf.temporary) == ("PDF", 3, False)
    tif = tmp_path / "fax.tif"
    Image.new("1", (100, 120)).save(tif, save_all=True, append_images=[Image.new("1", (100, 120))] * 2,
                                    compression="group4")
    assert (guard_upload(tif).kind, guard_upload(tif).pages) == ("TIFF", 3)
    jpg = guard_upload(SAMPLES / "meisai-print.jpg")
    assert (jpg.kind, jpg.pages, jpg.size) == ("JPEG", 1, (SAMPLES / "meisai-print.jpg").stat().st_size)


def test_type_is_decided_by_magic_bytes_not_by_name(tmp_path):
    gif = tmp_path / "scan.pdf"
    Image.new("L", (10, 10)).save(gif, "GIF")
    with pytest.raises(UploadRefused, match="looks like a GIF image") as e:
        guard_upload(gif)
    assert e.value.source == str(gif)
    text = tmp_path / "scan.png"
    text.write_text("氏名,個人番号\n", encoding="utf-8")
    with pytest.raises(UploadRefused, match="looks like a text file"):
        guard_upload(text)
    with pytest.raises(UploadRefused, match="empty file"):
        (tmp_path / "empty.jpg").write_bytes(b"")
        guard_upload(tmp_path / "empty.jpg")
    disguised = tmp_path / "photo.gif"  # a real JPEG with the wrong name is taken
    disguised.write_bytes((SAMPLES / "meisai-hand.jpg").read_bytes())
    assert guard_upload(disguised).kind == "JPEG"


def test_encrypted_pdf_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(UploadRefused, match=r"PDF is encrypted .*remove the password"):
        guard_upload(write_encrypted_pdf(tmp_path / "locked.pdf"))


def test_page_limits(tmp_path):
    with pytest.raises(UploadRefused, match="PDF has 3 pages, more than the limit of 2"):
        guard_upload(write_pillow_pdf(tmp_path / "three.pdf"), limits=UploadLimits(max_pages=2))
    tif = tmp_path / "many.tif"
    Image.new("1", (50, 50)).save(tif, save_all=True, append_images=[Image.new("1", (50, 50))] * 4)
    with pytest.raises(UploadRefused, match="TIFF has more than 3 pages"):
        guard_upload(tif, limits=UploadLimits(max_pages=3))
    assert guard_upload(tif, limits=UploadLimits(max_pages=5)).pages == 5


def test_decompression_bombs_are_refused_from_the_header(tmp_path):
    bomb = png_header_only(tmp_path / "bomb.png", 10_000, 10_000)  # 100 M pixels in ~150 bytes
    assert bomb.stat().st_size < 200
    with pytest.raises(UploadRefused, match=r"10000×10000 = 100,000,000 pixels, more than the limit of 60,000,000"):
        guard_upload(bomb)
    huge = png_header_only(tmp_path / "huge.png", 60_000, 60_000)  # past Pillow's own guard too
    with pytest.raises(UploadRefused, match="too large"):
        guard_upload(huge)
    tif = tmp_path / "second-page-bomb.tif"  # only the second page is too large
    Image.new("1", (100, 100)).save(tif, save_all=True, append_images=[Image.new("1", (3000, 3000))])
    with pytest.raises(UploadRefused, match="page 2 is 3000×3000"):
        guard_upload(tif, limits=UploadLimits(max_pixels=1_000_000))


class ChunkSpy(io.BytesIO):
    """An upload stream that records how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(size)
        return super().read(size)


def test_streams_are_spooled_in_chunks_and_cleaned_up(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    data = (SAMPLES / "meisai-print.jpg").read_bytes()
    stream = ChunkSpy(data)
    with guard_upload(stream, name="明細.jpg", tmp_dir=spool) as up:
        assert (up.name, up.kind, up.size, up.temporary) == ("明細.jpg", "JPEG", len(data), True)
        assert up.path.read_bytes() == data and up.path.parent == spool
    assert not up.path.exists()
    assert stream.asked and all(size == CHUNK for size in stream.asked)  # never "read everything"

    big = ChunkSpy(b"%PDF-1.4\n" + b"\0" * (3 * CHUNK))
    with pytest.raises(UploadRefused, match=r"too large: 2\.0 MiB, more than the limit of 1\.5 MiB"):
        guard_upload(big, name="big.pdf", limits=UploadLimits(max_bytes=CHUNK * 3 // 2), tmp_dir=spool)
    assert len(big.asked) == 2  # stopped at the first chunk past the limit
    with pytest.raises(UploadRefused, match="not a PDF, TIFF, JPEG or PNG"):
        guard_upload(io.BytesIO(b"MZ\x90\x00" * 100), name="setup.exe", tmp_dir=spool)
    assert list(spool.iterdir()) == []  # refused uploads leave nothing behind


def test_batch_submit_refuses_files_one_by_one_and_goes_on(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = inputs / "a-good.jpg"
    good.write_bytes((SAMPLES / "meisai-print.jpg").read_bytes())
    png_header_only(inputs / "b-bomb.png", 10_000, 10_000)
    write_encrypted_pdf(inputs / "c-locked.pdf")
    (inputs / "d-big.tif").write_bytes(b"II*\x00" + b"\0" * (CHUNK + CHUNK // 4))
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", max_upload_bytes=CHUNK))
    refused: list[UploadRefused] = []
    batch_id = submit_batch(rt, [inputs], on_refused=refused.append)
    assert [Path(e.source).name for e in refused] == ["b-bomb.png", "c-locked.pdf", "d-big.tif"]
    with rt.store.tenant() as repo:
        sources = repo.sources(batch_id)
        assert [(Path(s.name).name, s.status) for s in sources] == [
            ("a-good.jpg", SourceStatus.pending), ("b-bomb.png", SourceStatus.error),
            ("c-locked.pdf", SourceStatus.error), ("d-big.tif", SourceStatus.error)]
        assert repo.blobs.exists(repo.code, sources[0].sha256)
        assert all(s.sha256 == "" for s in sources[1:])  # nothing of a refused file is stored
        errors = [r for r in repo.records(batch_id) if r["form"] == "error"]
        assert [r["error"].split(";")[0] for r in errors] == [
            "10000×10000 = 100,000,000 pixels, more than the limit of 60,000,000 (YOMITORI_MAX_PIXELS)",
            "PDF is encrypted (password-protected)",
            "file is too large: 1.3 MiB, more than the limit of 1.0 MiB (YOMITORI_MAX_UPLOAD_BYTES)"]
        assert repo.progress(batch_id).files_failed == 3
    rt.store.close()
