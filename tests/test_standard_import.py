"""Electronic submissions: a 315 file (CP932, or eLTAX PCdesk's UTF-8) submitted as a batch beside a scan becomes
documents through the same validators and gate; a malformed line is an error record naming line and item; exported
again in the 315 layout it gives the same bytes; and its records reach `keyed` in the demo tax system by bot."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_standard_315 import PASSWORD, TENANT, jis_clean
from typer.testing import CliRunner

from yomitori.cli import app
from yomitori.jobs import stages
from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.auth import hash_password
from yomitori.settings import Settings
from yomitori.standard.importing import profile
from yomitori.standard.records import ExportItem, write_file
from yomitori.store.models import DocumentStatus, PageStatus, Role
from yomitori.store.repo import Store

runner = CliRunner()
RECORDS = int(os.environ.get("YOMITORI_315_RECORDS", "10"))  # 200 for the acceptance run (~3 s a record)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extractor):
    monkeypatch.setattr(stages, "_extractor", extractor)
    for k in [k for k in os.environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    yield {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "YOMITORI_TENANT": TENANT, "COLUMNS": "200"}
    use_runtime(None)


def _run(env, *args: str, input: str | None = None):
    result = runner.invoke(app, list(args), env=env, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def submission(n: int, seed: int) -> tuple[list[dict], bytes]:
    values = jis_clean(n, seed=seed)
    result = write_file(profile(), [ExportItem(str(i), v) for i, v in enumerate(values)],
                        {"municipality_code": "141003"})
    assert not result.refused
    return values, result.data


def _store(env) -> Store:
    return Store(Settings(data_dir=Path(env["YOMITORI_DATA_DIR"])))


def test_a_315_file_in_cp932_and_utf8_becomes_documents_beside_a_scan_and_exports_to_the_same_bytes(env, tmp_path):
    values, data = submission(6, seed=21)
    lines = data.split(b"\r\n")
    bad = lines[2].split(b",")
    bad[16] = b"12a45"  # 支払金額 with a letter in it
    cp932 = tmp_path / "kyuyo-cp932.csv"
    cp932.write_bytes(b"\r\n".join([*lines[:2], b",".join(bad), *lines[3:]]))
    utf8 = tmp_path / "kyuyo-utf8.txt"
    utf8.write_bytes(data.decode("cp932").replace("\r\n", "\n").encode("utf-8"))
    scan = tmp_path / "scan.png"
    Image.fromarray(np.full((1169, 827), 255, np.uint8)).save(scan)

    result = _run(env, "batch", "submit", str(scan), str(cp932), str(utf8), "--name", "電子と紙")
    assert "3 file(s), 13 page(s): 12 done, 1 error(s)" in " ".join(result.stderr.split())
    store = _store(env)
    with store.tenant(TENANT) as repo:
        errors = [p for p in repo.pages(1) if p.status == PageStatus.error]
        assert [(p.source.name, p.number) for p in errors] == [(str(cp932), 3)]
        assert errors[0].error.startswith("line 3: item 17 支払金額 (payment_amount):")
        docs = [d for d in repo.documents(1) if d.layout == "315"]
        assert len(docs) == 11 and all(d.status == DocumentStatus.auto for d in docs)  # validated, gated
        by_source = {}
        for d in docs:
            by_source.setdefault(d.source.name, []).append({f.key: f.value for f in d.fields})
            assert d.pages[0].record_line and d.pages[0].image_sha256 is None
        assert by_source[str(utf8)] == values
        assert by_source[str(cp932)] == values[:2] + values[3:]
        repo.add_user("tanaka", Role.reviewer, password_hash=hash_password(PASSWORD))
    store.close()

    out = tmp_path / "again.csv"
    _run(env, "batch", "export", "1", "--profile", "315", "--out", str(out), "--user", "tanaka", "--password-stdin",
         input=PASSWORD + "\n")
    # the file's records in submission order: the CP932 file less its bad line, then the UTF-8 one, as CP932
    assert out.read_bytes() == b"\r\n".join([*lines[:2], *lines[3:-1]]) + b"\r\n" + data


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_a_generated_315_file_goes_through_a_batch_to_keyed_with_no_person(env, tmp_path, target):
    from yomitori.bots.batch_run import run_batch
    from yomitori.bots.bench import SCENARIO
    from yomitori.bots.scenario import load_scenario

    values, data = submission(RECORDS, seed=22)
    path = tmp_path / "kyuyo.csv"
    path.write_bytes(data)
    started = time.monotonic()
    _run(env, "batch", "submit", str(path))
    read = time.monotonic() - started
    store = _store(env)
    try:
        _, summary = run_batch(store, TENANT, load_scenario(SCENARIO), batch_id=1, parallel=2)
        assert summary.counts.get("keyed") == len(values) and not summary.counts.get("failed"), summary.counts
        with store.tenant(TENANT) as repo:
            assert {d.status for d in repo.documents(1)} == {DocumentStatus.keyed}
    finally:
        store.close()
    assert len(target.export()["records"]) == len(values)
    print(f"\n{len(values)} records of a 315 file: read {read:.1f} s, keyed {time.monotonic() - started - read:.1f} s")
