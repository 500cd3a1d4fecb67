"""Prometheus metrics: a real worker's exporter counts what it did; /metrics shows the queue and the store's backlog."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _servers import free_port, redis_server
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from yomitori import metrics
from yomitori.jobs.runtime import Runtime
from yomitori.jobs.submit import submit_batch
from yomitori.settings import Settings
from yomitori.store.models import DocumentStatus, Field, FieldStatus

SAMPLES = Path(__file__).parents[1] / "samples"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from exposition text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_pool_children_hand_their_observations_to_the_parent():
    before = metrics.PAGES.labels("extract", "ok")._value.get()
    with metrics.buffered() as events:
        metrics.count_pages("extract", "ok", 3)
        metrics.count_gated(5, 2, "needs_review")
    assert metrics.PAGES.labels("extract", "ok")._value.get() == before  # not counted twice
    metrics.replay(events)
    assert metrics.PAGES.labels("extract", "ok")._value.get() == before + 3
    body, content_type = metrics.render_latest()
    assert content_type.startswith("text/plain") and b'yomitori_fields_total{review="true"}' in body


def test_backlog_says_so_when_the_store_cannot_be_read(tmp_path, monkeypatch):
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data"))
    collector = metrics.BacklogCollector(rt)
    up = {s.name: s.value for f in collector.collect() for s in f.samples}
    assert up["yomitori_backlog_up"] == 1
    monkeypatch.setattr(collector, "_store", lambda: 1 / 0)
    assert [(s.name, s.value) for f in collector.collect() for s in f.samples] == [("yomitori_backlog_up", 0)]
    rt.store.close()


@pytest.mark.slow
def test_worker_exporter_and_api_metrics_follow_a_batch_on_redis(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "meisai-print.jpg", inputs / "a.jpg")
    (inputs / "b-truncated.jpg").write_bytes((SAMPLES / "meisai-hand.jpg").read_bytes()[:3000])
    with redis_server() as redis_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YOMITORI_")}
        env.update(YOMITORI_DATA_DIR=str(tmp_path / "data"), YOMITORI_REDIS_URL=redis_url,
                   YOMITORI_QUEUE_NAME="metrics-test", YOMITORI_OCR_THREADS="1")
        rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", redis_url=redis_url,
                                            queue_name="metrics-test"))
        batch_id = submit_batch(rt, [inputs])
        api = FastAPI()
        api.mount("/metrics", metrics.metrics_app(rt))
        client = TestClient(api)

        queued = samples(client.get("/metrics/").text)
        assert value(queued, "yomitori_queue_jobs", queue="metrics-test", state="queued") == 2  # one job per file
        assert value(queued, "yomitori_pages_waiting", tenant="default", stage="ingest") == 2
        assert value(queued, "yomitori_batches_running", tenant="default") == 1

        port = free_port()
        worker = subprocess.Popen([sys.executable, "-m", "yomitori", "worker", "--metrics-port", str(port),
                                   "--metrics-addr", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                with rt.store.tenant() as repo:
                    if repo.progress(batch_id).finished:
                        break
                assert worker.poll() is None, worker.stderr.read()
                assert time.monotonic() < deadline, "the worker did not finish the batch"
                time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                exported = samples(r.read().decode())
        finally:
            worker.terminate()
            worker.wait(20)
        done = samples(client.get("/metrics/").text)

    with rt.store.tenant() as repo:
        docs = repo.documents(batch_id)
        statuses = [f.status for d in docs for f in d.fields]
        to_review = sum(d.status == DocumentStatus.needs_review for d in docs)
        assert repo.session.query(Field).count() == len(statuses)
    assert len(docs) == 1 and statuses
    # The worker's own counters: what it did with this batch, and nothing else.
    assert value(exported, "yomitori_files_total", outcome="ok") == 1
    assert value(exported, "yomitori_files_total", outcome="error") == 1  # the truncated JPEG
    assert value(exported, "yomitori_pages_total", stage="ingest", outcome="ok") == 1
    assert value(exported, "yomitori_pages_total", stage="extract", outcome="ok") == 1
    assert value(exported, "yomitori_pages_total", stage="validate", outcome="ok") == 1
    assert value(exported, "yomitori_fields_total", review="false") == statuses.count(FieldStatus.auto)
    assert value(exported, "yomitori_fields_total", review="true") == statuses.count(FieldStatus.needs_review)
    assert value(exported, "yomitori_job_seconds_count", stage="extract") == 1
    assert value(exported, "yomitori_job_seconds_count", stage="ingest") == 2
    assert value(exported, "yomitori_queue_jobs", queue="metrics-test", state="queued") is None  # API's job
    # The API's view of the store once the batch is done.
    assert value(done, "yomitori_queue_jobs", queue="metrics-test", state="queued") == 0
    assert all(value(done, "yomitori_pages_waiting", tenant="default", stage=s) == 0
               for s in ("ingest", "extract", "validate"))
    assert value(done, "yomitori_batches_running", tenant="default") == 0
    assert value(done, "yomitori_documents_needing_review", tenant="default") == to_review
    assert value(done, "yomitori_straight_through_ratio", tenant="default") == pytest.approx(
        statuses.count(FieldStatus.auto) / len(statuses))
    rt.store.close()
