"""A batch as fast as `yomitori extract` (issue 20, item 13): both cores by default, pages handed to an idle reader
before the rest of the batch is split, a colour scan kept as it came (no PNG written), crops cut only when asked."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from yomitori.ingest import read_pages
from yomitori.jobs import stages
from yomitori.jobs.runtime import InlineDispatcher, Runtime, use_runtime
from yomitori.jobs.submit import run_inline, submit_batch
from yomitori.settings import Settings
from yomitori.store.models import Document, Field, Page, SourceFile

SAMPLES = Path(__file__).parents[1] / "samples"


def test_a_batch_reads_pages_on_every_core_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("YOMITORI_EMBEDDED_PROCESSES", raising=False)  # conftest keeps the other tests in-process
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data"))
    try:
        assert isinstance(rt.dispatcher, InlineDispatcher)
        assert rt.dispatcher.processes == max(1, min(len(os.sched_getaffinity(0)), 8))
    finally:
        rt.store.close()


def _job(name: str, pooled: bool = False):
    def job(*_: object) -> None:
        pass

    job.__name__ = name
    job.pooled = pooled  # type: ignore[attr-defined]
    return job


def test_pages_go_to_an_idle_reader_before_the_rest_of_the_batch_is_split():
    ingest, extract = _job("ingest_source"), _job("extract_pages", pooled=True)
    d = InlineDispatcher(processes=2, settings=Settings())
    for i in range(3):
        d.submit(ingest, "t", i)
    d.submit(extract, "t", [1])
    d._pool = object()  # type: ignore[assignment]  # a pool with idle readers
    assert d._next_job()[1] is extract  # not after the two other files are split
    assert d._next_job()[1] is ingest  # nothing to read: this process splits the next file meanwhile
    d._running = {object(): "a", object(): "b", object(): "c", object(): "d"}  # type: ignore[dict-item]
    d.submit(extract, "t", [2])
    assert d._next_job()[1] is ingest  # readers busy: go on splitting, the pages wait for a free reader
    assert d._next_job()[1] is ingest
    assert d._next_job() is None  # only pages to read, every reader busy: wait


def _scan(mode: str, fmt: str, **save) -> bytes:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    im = Image.fromarray(pixels).convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_colour_scan_is_its_own_page_image_with_the_pixels_ingest_reads(tmp_path, fmt):
    data = _scan("RGB", fmt)
    assert stages._page_is_original(data)
    path = tmp_path / f"scan.{fmt.lower()}"
    path.write_bytes(data)
    page = next(iter(read_pages(path)))
    assert np.array_equal(stages.load_page_image(data), page.image)  # what the extraction sees: the same


def test_a_gray_or_turned_scan_is_still_written_as_png():
    assert not stages._page_is_original(_scan("L", "JPEG"))  # gray: its PNG is small and quick, one channel
    exif = Image.Exif()
    exif[0x0112] = 6  # to be turned upright first
    assert not stages._page_is_original(_scan("RGB", "JPEG", exif=exif.tobytes()))
    assert not stages._page_is_original(b"%PDF-1.7")


@pytest.mark.slow
def test_a_batch_writes_no_field_crops_and_no_copy_of_a_colour_scan(tmp_path, extractor, monkeypatch):
    monkeypatch.setattr(stages, "_extractor", extractor)
    monkeypatch.setattr(extractor, "keep_images", True)  # as the batch's own reader does (stages.extractor)
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", embedded_processes=1))
    use_runtime(rt)
    try:
        batch_id = submit_batch(rt, [SAMPLES / "meisai-print.jpg"])
        assert run_inline(rt, rt.settings.tenant, batch_id).pages_done == 1
        with rt.store.tenant() as repo:
            source = repo.session.scalars(sa.select(SourceFile)).one()
            page = repo.session.scalars(sa.select(Page)).one()
            fields = repo.session.scalars(sa.select(Field)).all()
            assert page.image_sha256 == source.sha256  # the original is the page image
            assert fields and all(f.crop_sha256 is None for f in fields) and any(f.box for f in fields)
            blobs = [p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()]
            assert len(blobs) == 2  # the original and the registered page, nothing per field
            doc = repo.session.scalars(sa.select(Document)).one()
            registered = repo.blobs.get(repo.code, doc.image_sha256)
            assert registered.startswith(b"\xff\xd8\xff")  # a JPEG scan's registered page is a JPEG too
            assert stages.load_page_image(registered).ndim == 2  # gray, as the reviewers' crops are cut from it
    finally:
        use_runtime(None)
        rt.store.close()


# ---------------------------------------------------------------- less work per page (issue 20, item 13)


@pytest.fixture
def embedded(tmp_path):
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", embedded_processes=1))
    use_runtime(rt)
    yield rt
    use_runtime(None)
    rt.store.close()


def test_a_colour_scan_is_split_without_decoding_it_and_a_cut_off_one_still_is(embedded, tmp_path, monkeypatch):
    """Splitting a colour JPEG reads its size from the header (its reader decodes it, once); a file cut off in
    the middle is still decoded here, so that it is reported as the file's error, as before."""
    import yomitori.ingest

    real, decoded = yomitori.ingest.read_pages, []
    monkeypatch.setattr(yomitori.ingest, "read_pages", lambda path, **kw: decoded.append(path) or real(path, **kw))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes((SAMPLES / "meisai-print.jpg").read_bytes()[:5000])
    batch_id = submit_batch(embedded, [SAMPLES / "meisai-print.jpg", cut])
    with embedded.store.tenant() as repo:
        whole, broken = repo.sources(batch_id)
    assert stages.ingest_source(embedded.settings.tenant, whole.id) == 1
    assert decoded == []
    with Image.open(SAMPLES / "meisai-print.jpg") as im:
        width, height = im.size
    with embedded.store.tenant() as repo:
        page = repo.session.scalars(sa.select(Page)).one()
        assert (page.height, page.width, page.image_sha256) == (height, width, whole.sha256)
    stages.ingest_source(embedded.settings.tenant, broken.id)
    assert len(decoded) == 1
    with embedded.store.tenant() as repo:
        assert "damaged or truncated" in repo.get(SourceFile, broken.id).error


def test_the_validate_stage_decrypts_no_value(embedded, monkeypatch):
    """Gating a document needs the fields' statuses and findings, not their values (encrypted at rest)."""
    from datetime import UTC, datetime, timedelta

    from yomitori.extract import PageResult
    from yomitori.gate import apply_gate
    from yomitori.ocr.fields import FieldResult
    from yomitori.store import field_crypto
    from yomitori.store.models import DocumentStatus, FieldStatus, PageStatus

    def read(key: str, value: object, sure: bool = True) -> FieldResult:
        return FieldResult(key, value, 0.999 if sure else 0.4, not sure, raw=str(value), read=True,
                           raw_confidence=0.999, char_confidences=(0.999,) * len(str(value)), second=value,
                           agreement=sure)

    form = "kyuyo_shiharai_hokokusho"
    fields = {"tax_year": read("tax_year", 2024), "payment_amount": read("payment_amount", 4_560_000, sure=False)}
    result = PageResult("a.png", [1], form, "national", 0.9, fields)
    result.findings = apply_gate(form, fields, registration=0.9)
    with embedded.store.tenant(create=True) as repo:
        batch = repo.create_batch()
        source = repo.add_source(batch, "a.png", b"a")
        page = Page(batch_id=batch.id, source_id=source.id, number=1, status=PageStatus.ingested, lease_owner="me",
                    lease_until=datetime.now(UTC) + timedelta(minutes=5))
        repo.session.add(page)
        repo.session.flush()
        assert stages._write_result(repo, page.id, "me", result)
        page_id = page.id

    def refuse(*_: object) -> None:
        raise AssertionError("a value was decrypted")

    with monkeypatch.context() as m:
        m.setattr(field_crypto.EncryptedJSON, "process_result_value", refuse)
        assert stages.validate_pages(embedded.settings.tenant, [page_id]) == 1
    with embedded.store.tenant() as repo:
        doc = repo.session.scalars(sa.select(Document)).one()
        assert doc.status == DocumentStatus.needs_review
        by_key = {f.key: f for f in doc.fields}
        assert by_key["payment_amount"].status == FieldStatus.needs_review
        assert (by_key["tax_year"].value, by_key["payment_amount"].value) == (2024, 4_560_000)
