"""rq workers on a real redis-server: one killed with SIGKILL mid-batch, another finishes; no page lost or doubled."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from _servers import redis_server

from yomitori.jobs.runtime import RQDispatcher, Runtime
from yomitori.jobs.submit import submit_batch
from yomitori.settings import Settings
from yomitori.store.models import Document, Field, Page, PageStatus

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).parents[1] / "samples"


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


def _env(data: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOMITORI_")}
    env.update(YOMITORI_DATA_DIR=str(data), YOMITORI_REDIS_URL=redis_url, YOMITORI_PAGES_PER_JOB="1",
               YOMITORI_LEASE_SECONDS="600",  # recovery must not wait for the lease: the dead process is seen
               YOMITORI_OCR_THREADS="1", YOMITORI_QUEUE_NAME=data.parent.name)
    return env


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yomitori", "worker", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _pages(rt: Runtime) -> list[Page]:
    with rt.store.tenant() as repo:
        return list(repo.session.scalars(sa.select(Page).order_by(Page.id)))


def test_killed_worker_leaves_the_batch_to_finish_with_every_page_done_once(tmp_path, redis_url):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i, name in enumerate(["meisai-print.jpg", "meisai-hand.jpg", "idou-fax.tif", "meisai-print.jpg"]):
        shutil.copy(SAMPLES / name, inputs / f"{i}-{name}")
    shutil.copy(SAMPLES / "bundle-soukatsu-meisai.pdf", inputs / "4-bundle.pdf")
    env = _env(tmp_path / "data", redis_url)
    settings = Settings(**{k[len("YOMITORI_"):].lower(): v for k, v in env.items() if k.startswith("YOMITORI_")})
    rt = Runtime.from_settings(settings)
    assert isinstance(rt.dispatcher, RQDispatcher)
    batch_id = submit_batch(rt, [inputs])  # queued: nothing runs until a worker starts

    first = _worker(env)
    try:
        deadline = time.monotonic() + 90
        while True:  # kill it while it holds a page, after it has finished at least one
            pages = _pages(rt)
            busy = [p for p in pages if p.status == PageStatus.ingested and p.lease_owner]
            if busy and any(p.status in (PageStatus.extracted, PageStatus.done) for p in pages):
                break
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first worker made no progress"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_on = {p.id for p in _pages(rt) if p.status == PageStatus.ingested and p.lease_owner}
    assert killed_on

    second = _worker(env, "--burst")
    try:
        _, stderr = second.communicate(timeout=180)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, stderr

    with rt.store.tenant() as repo:
        progress = repo.progress(batch_id)
        assert progress.status == "done", progress
        assert (progress.files, progress.pages, progress.pages_done, progress.documents) == (5, 6, 6, 6)
        pages = repo.pages(batch_id)
        assert len({(p.source_id, p.number) for p in pages}) == 6
        assert all(p.document_id is not None and p.lease_owner is None for p in pages)
        docs = repo.session.scalars(sa.select(Document)).all()
        assert sorted(d.id for d in docs) == sorted(p.document_id for p in pages)  # one document per page
        dup = repo.session.execute(sa.select(Field.document_id, Field.key).group_by(Field.document_id, Field.key)
                                   .having(sa.func.count() > 1)).all()
        assert dup == []
        # The page the first worker was reading when it died was claimed again, once; no other page was.
        assert {p.id for p in pages if p.attempts > 1} <= killed_on
        assert all(p.attempts == 2 for p in pages if p.id in killed_on)
        forms = sorted(d.form for d in docs)
        assert forms.count("kyuyo_shiharai_hokokusho") == 4 and "idou_todokede" in forms
    rt.store.close()
