"""A `yomitori worker` on a real redis-server that is killed (SIGKILL) and started again on the same port mid-batch:
the worker stays up, reconnects and the batch finishes with every page read exactly once (issue 20, item 11)."""

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
from _servers import _stop, _wait_port, free_port

from yomitori.jobs.runtime import Runtime
from yomitori.jobs.submit import submit_batch
from yomitori.settings import Settings
from yomitori.store.models import Document, Field, Page, PageStatus

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).parents[1] / "samples" / "meisai-print.jpg"
PAGES = 2


class RedisServer:
    """redis-server on a fixed port and folder, so that it can be killed and started again as the same server."""

    def __init__(self, folder: Path, *, persistent: bool) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.skip("redis-server is not installed (Debian package redis-server)")
        self.port = free_port()
        # persistent: what docker-compose.yml runs (append-only file), fsync'd on every write so SIGKILL loses nothing
        store = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.argv = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *store, "--dir", str(folder)]
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "redis-server")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _stop(self.proc)


def _setup(tmp_path: Path, redis: RedisServer, reconcile_seconds: int) -> tuple[dict[str, str], Runtime, int]:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(PAGES):
        shutil.copy(SAMPLE, inputs / f"{i}-meisai.jpg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOMITORI_")}
    env.update(YOMITORI_DATA_DIR=str(tmp_path / "data"), YOMITORI_REDIS_URL=redis.url, YOMITORI_PAGES_PER_JOB="1",
               YOMITORI_LEASE_SECONDS="600", YOMITORI_OCR_THREADS="1",
               YOMITORI_RECONCILE_SECONDS=str(reconcile_seconds))
    settings = Settings(**{k[len("YOMITORI_"):].lower(): v for k, v in env.items() if k.startswith("YOMITORI_")})
    rt = Runtime.from_settings(settings)
    return env, rt, submit_batch(rt, [inputs])


def _pages(rt: Runtime) -> list[Page]:
    with rt.store.tenant() as repo:
        return list(repo.session.scalars(sa.select(Page).order_by(Page.id)))


def _wait(what: str, cond, worker: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()[-3000:]}"
        time.sleep(0.02)


def _assert_done_once(rt: Runtime, batch_id: int) -> None:
    with rt.store.tenant() as repo:
        progress = repo.progress(batch_id)
        assert progress.status == "done", progress
        assert (progress.files, progress.pages, progress.pages_done, progress.documents) == (PAGES, PAGES, PAGES, PAGES)
        pages = repo.pages(batch_id)
        assert all(p.status == PageStatus.done and p.lease_owner is None for p in pages)
        assert [p.attempts for p in pages] == [1] * PAGES  # every page claimed (and read) exactly once
        docs = repo.session.scalars(sa.select(Document)).all()
        assert sorted(d.id for d in docs) == sorted(p.document_id for p in pages)
        dup = repo.session.execute(sa.select(Field.document_id, Field.key).group_by(Field.document_id, Field.key)
                                   .having(sa.func.count() > 1)).all()
        assert dup == []


def _run(tmp_path: Path, *, persistent: bool, reconcile_seconds: int) -> str:
    redis = RedisServer(tmp_path, persistent=persistent)
    redis.start()
    worker = None
    log = tmp_path / "worker.log"
    try:
        env, rt, batch_id = _setup(tmp_path, redis, reconcile_seconds)
        with log.open("w") as err:
            worker = subprocess.Popen([sys.executable, "-m", "yomitori", "worker", "--log-format", "text"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=err)
        # Redis dies while the worker reads the first page (the other pages' jobs wait in the queue) …
        _wait("a page being read", lambda: any(p.lease_owner for p in _pages(rt)), worker, log)
        redis.kill()
        # … and stays away while the worker writes that page and queues its validation.
        reading = next(p.id for p in _pages(rt) if p.lease_owner)
        _wait("the page written", lambda: next(p for p in _pages(rt) if p.id == reading).status
              != PageStatus.ingested, worker, log)
        time.sleep(1.5)
        assert worker.poll() is None, log.read_text()
        redis.start()  # the same server again, on the same port
        _wait("the batch done", lambda: all(p.status == PageStatus.done for p in _pages(rt)), worker, log)
        _assert_done_once(rt, batch_id)
        time.sleep(0.5)
        assert worker.poll() is None, "the worker must keep running after Redis came back"
        rt.store.close()
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        redis.stop()
    text = log.read_text()
    assert "quitting" not in text, text
    assert "cannot be reached" in text and "answers again" in text, text
    assert worker.returncode == 0, text  # SIGTERM: a warm shut down
    return text


def test_worker_retries_the_enqueue_it_was_making_when_redis_went_away(tmp_path):
    """With the queue persisted (docker-compose's append-only Redis) and no reconcile pass during the test, only
    the retried enqueue of the page's validation finishes the batch."""
    _run(tmp_path, persistent=True, reconcile_seconds=600)


def test_worker_rebuilds_a_queue_redis_lost_from_the_store(tmp_path):
    """A Redis without persistence comes back empty: the queued jobs are gone, and the worker's reconcile loop
    queues the pages again from the store; none is read twice."""
    _run(tmp_path, persistent=False, reconcile_seconds=1)


def test_enqueue_gives_up_after_the_configured_time_when_redis_stays_away(caplog):
    """The retry of an enqueue is bounded (YOMITORI_REDIS_RETRY_SECONDS): then the job fails, and its follow-up
    work, kept in the store, is queued by the reconcile loop once Redis is back."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from yomitori.jobs.runtime import RQDispatcher
    from yomitori.jobs.stages import validate_pages

    dispatcher = RQDispatcher(f"redis://127.0.0.1:{free_port()}/0", "q", retry_seconds=1)
    started = time.monotonic()
    with pytest.raises(RedisConnectionError):
        dispatcher.submit(validate_pages, "t", [123456789012])
    assert time.monotonic() - started < 30
    text = caplog.text
    assert "cannot be reached" in text and "giving up on queueing validate_pages" in text
    assert "123456789012" not in text  # job arguments are never logged
