"""`yomitori batch submit/status/export/purge`, `yomitori db`, `yomitori worker` as an operator runs them."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from yomitori.cli import app
from yomitori.errors import YomitoriError
from yomitori.jobs import stages
from yomitori.jobs.runtime import use_runtime

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch, extractor):
    monkeypatch.setattr(stages, "_extractor", extractor)
    for k in [k for k in __import__("os").environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    yield {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "YOMITORI_RETENTION_DAYS": "0", "COLUMNS": "200",
           "YOMITORI_EMBEDDED_PROCESSES": "1"}  # the session's recognizer, in this process
    use_runtime(None)


def _run(env, *args: str, ok: bool = True):
    result = runner.invoke(app, list(args), env=env)
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture
def inputs(tmp_path):
    blank = tmp_path / "blank.png"  # a page with no form on it: classified unknown, nothing to recognize
    Image.fromarray(np.full((1169, 827), 255, np.uint8)).save(blank)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF")
    return blank, broken


def test_submit_status_export_and_purge(env, inputs, tmp_path):
    blank, broken = inputs
    result = _run(env, "batch", "submit", str(blank), str(broken), "--name", "1月分 第1便")
    assert result.stdout.strip() == "1"  # only the id on stdout, for scripts
    assert "2 file(s), 1 page(s): 1 done" in " ".join(result.stderr.split())
    assert f"refused {broken}: damaged or invalid PDF" in " ".join(result.stderr.split())  # by the upload guard

    records = [json.loads(line) for line in _run(env, "batch", "export", "1", "--format", "jsonl").stdout.splitlines()]
    assert records[0] == {"source": str(blank), "pages": [1], "form": "unknown", "layout": None,
                          "form_confidence": records[0]["form_confidence"], "fields": {}}
    assert records[1]["source"] == str(broken) and records[1]["form"] == "error" and "PDF" in records[1]["error"]

    out = tmp_path / "batch1.csv"
    _run(env, "batch", "export", "1", "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["source"], r["form"]) for r in rows] == [(str(blank), "unknown"), (str(broken), "error")]

    status = " ".join(_run(env, "batch", "status").stdout.split())
    assert "1月分 第1便" in status and "done" in status
    assert "batch 1: done" in " ".join(_run(env, "batch", "status", "1", "--follow").stderr.split())

    blobs = tmp_path / "data" / "blobs" / "default"
    assert sum(1 for p in blobs.rglob("*") if p.is_file()) == 2  # an original and its page image; not the refused PDF
    purged = _run(env, "batch", "purge", "1", "--yes")
    assert "2 stored file(s) deleted" in " ".join(purged.stderr.split())
    assert not any(p.is_file() for p in blobs.rglob("*"))
    assert "purged" in _run(env, "batch", "status").stdout
    assert len(_run(env, "batch", "export", "1").stdout.splitlines()) == 2  # the results outlive the images


def test_batches_belong_to_their_tenant(env, inputs):
    blank, _ = inputs
    assert _run(env, "batch", "submit", str(blank), "--tenant", "yokohama").stdout.strip() == "1"
    result = _run(env, "batch", "status", "1", "--tenant", "kawasaki", ok=False)
    assert isinstance(result.exception, YomitoriError) and "unknown tenant" in str(result.exception)
    _run(env, "batch", "submit", str(blank), "--tenant", "kawasaki")
    result = _run(env, "batch", "export", "1", "--tenant", "kawasaki", ok=False)
    assert isinstance(result.exception, YomitoriError) and "no batch 1 in tenant kawasaki" in str(result.exception)


def test_missing_input_is_refused_before_anything_is_stored(env, tmp_path):
    result = _run(env, "batch", "submit", str(tmp_path / "nope.pdf"), ok=False)
    assert isinstance(result.exception, YomitoriError) and "file not found" in str(result.exception)
    assert not (tmp_path / "data" / "blobs").exists()


def test_db_commands_and_worker_needs_redis(env, tmp_path):
    env = {**env, "YOMITORI_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    assert _run(env, "db", "current").stdout.startswith("None (head ")
    _run(env, "db", "upgrade")
    rev, head = _run(env, "db", "current").stdout.split(" (head ")
    assert rev == head.rstrip(")\n")
    _run(env, "db", "downgrade", "base")
    assert _run(env, "db", "current").stdout.startswith("None")
    result = _run(env, "worker", "--burst", ok=False)
    assert isinstance(result.exception, YomitoriError) and "YOMITORI_REDIS_URL" in str(result.exception)
