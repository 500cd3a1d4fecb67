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
from yomitori.store.models import Field, Page, SourceFile

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
    finally:
        use_runtime(None)
        rt.store.close()
