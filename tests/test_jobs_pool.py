"""The embedded runtime with a process pool: pages are read in child processes, each written once, nothing lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from yomitori import metrics
from yomitori.jobs import stages
from yomitori.jobs.runtime import InlineDispatcher, Runtime, use_runtime
from yomitori.jobs.submit import run_inline, submit_batch
from yomitori.settings import Settings
from yomitori.store.models import Document, Field, Page

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).parents[1] / "samples"


def test_pool_reads_every_page_once_and_reports_back(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "_extractor", None)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i, name in enumerate(["meisai-print.jpg", "meisai-hand.jpg", "idou-fax.tif"]):
        shutil.copy(SAMPLES / name, inputs / f"{i}-{name}")
    shutil.copy(SAMPLES / "bundle-soukatsu-meisai.pdf", inputs / "3-bundle.pdf")
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", pages_per_job=1, embedded_processes=2))
    assert isinstance(rt.dispatcher, InlineDispatcher) and rt.dispatcher.processes == 2
    use_runtime(rt)
    ok = metrics.PAGES.labels("extract", "ok")
    before = ok._value.get()
    try:
        batch_id = submit_batch(rt, [inputs])
        seen = []
        final = run_inline(rt, rt.settings.tenant, batch_id, seen.append)
    finally:
        use_runtime(None)
    assert stages._extractor is None  # no page was read in this process: the children did it
    assert rt.dispatcher._pool is None  # and they are gone once the batch is done
    assert (final.status, final.pages, final.pages_done, final.documents) == ("done", 5, 5, 5)
    assert seen[-1].pages_done == 5
    assert ok._value.get() - before == 5  # the children's counts came back to this process
    with rt.store.tenant() as repo:
        pages = repo.session.scalars(sa.select(Page)).all()
        assert all(p.attempts == 1 and p.lease_owner is None and p.document_id for p in pages)
        assert len({p.document_id for p in pages}) == repo.session.scalar(sa.select(sa.func.count(Document.id))) == 5
        dup = repo.session.execute(sa.select(Field.document_id, Field.key).group_by(Field.document_id, Field.key)
                                   .having(sa.func.count() > 1)).all()
        assert dup == []
        forms = sorted(d.form for d in repo.documents(batch_id))
        assert forms == sorted(["kyuyo_shiharai_hokokusho"] * 3 + ["idou_todokede", "kyuyo_soukatsuhyo"])
    rt.store.close()
