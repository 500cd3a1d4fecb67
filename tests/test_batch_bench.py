"""`yomitori bench-batch` on a tiny batch: distinct files, every page accounted for, extract, embedded and on an rq
worker, the batch's pages/s beside extract's in one report."""

from __future__ import annotations

import hashlib
import json

import pytest
from rich.console import Console

from yomitori.batch_bench import make_batch, run_bench
from yomitori.jobs import stages

pytestmark = pytest.mark.slow


def test_tiny_bench_accounts_for_every_page(tmp_path, extractor, monkeypatch):
    monkeypatch.setattr(stages, "_extractor", extractor)  # the embedded run reads with the session's recognizer
    scans = tmp_path / "scans"
    files = make_batch(scans, 3, seed=2_000_100, workers=1, distinct=1)
    assert len(files) == 3 and len({hashlib.sha256(f.read_bytes()).hexdigest() for f in files}) == 3
    assert make_batch(scans, 3, seed=2_000_100, workers=1, distinct=1) == files  # cached

    out = tmp_path / "batch.json"
    report = run_bench(pages=3, seed=2_000_100, runs=["extract", "embedded-1", "rq-1"], out=out, scans=scans,
                       redis_url=None, console=Console(file=open(tmp_path / "log.txt", "w")), distinct=1)  # noqa: SIM115
    assert json.loads(out.read_text()) == report
    runs = {r["name"]: r for r in report["runs"]}
    assert report["embedded-1_over_extract"] == pytest.approx(
        runs["embedded-1"]["pages_per_s"] / runs["extract"]["pages_per_s"], rel=0.01)
    assert all(r["cpu_s_per_page"] > 0 for r in runs.values() if r["name"] != "rq-1")
    if "rq-1" not in runs:
        pytest.skip("redis-server is not installed: only the embedded run was made")
    for r in runs.values():
        assert r["tries_s"] == [r["seconds"]]
        assert (r["pages_submitted"], r["done"], r["errors"], r["missing"], r["accounted"]) == (3, 3, 0, 0, True)
        assert r["pages_per_s"] == pytest.approx(3 / r["seconds"], rel=0.01)
    assert "rq_2_over_1" not in report  # only with both rq runs
