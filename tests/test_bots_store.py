"""Keying a batch from the store into the real demo tax system: journal in keying_receipts, document statuses,
sent back to review (seen in the review UI), failures with artifacts in the blob store, SIGKILL and resume."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _bot_data import FORM, add_documents, approved_values

from yomitori.bots import library
from yomitori.bots.batch_run import run_batch
from yomitori.bots.bench import SCENARIO, verify_target
from yomitori.bots.demo_target import DemoTarget
from yomitori.bots.runner import CHROMIUM
from yomitori.bots.scenario import load_scenario, parse_scenario
from yomitori.settings import Settings
from yomitori.store.models import (
    AuditLog,
    BotRun,
    Document,
    DocumentStatus,
    Field,
    FieldStatus,
    KeyingReceipt,
)
from yomitori.store.repo import Store

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
TENANT = "yokohama"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(Settings(data_dir=tmp_path / "data"))
    yield s
    s.close()


def as_jsonl(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": str(i), "form": FORM, "fields": {k: {"value": x} for k, x in v.items()}}
            for i, v in enumerate(values)]


def test_batch_run_keys_ready_documents_once_and_marks_them_keyed(target: DemoTarget, store: Store) -> None:
    values = approved_values(4, seed=31)
    with store.tenant(TENANT, create=True) as repo:
        batch = repo.create_batch("1月分")
        approved = add_documents(repo, batch, values[:2])
        auto = add_documents(repo, batch, values[2:3], DocumentStatus.auto)  # straight through
        waiting = add_documents(repo, batch, values[3:], DocumentStatus.needs_review)
        batch_id = batch.id
    run_id, summary = run_batch(store, TENANT, load_scenario(SCENARIO), batch_id=batch_id)
    assert summary.counts["keyed"] == 3 and summary.counts["failed"] == 0, summary
    check = verify_target(target.export(), as_jsonl(values[:3]))
    assert check == {"target_rows": 3, "duplicates": 0, "missing": 0, "mismatched_records": 0,
                     "mismatched_fields": 0}
    with store.tenant(TENANT) as repo:
        assert {d: repo.get(Document, d).status for d in approved + auto + waiting} == {
            **dict.fromkeys(approved + auto, DocumentStatus.keyed), waiting[0]: DocumentStatus.needs_review}
        receipts = repo.session.scalars(sa.select(KeyingReceipt).order_by(KeyingReceipt.document_id)).all()
        assert [(r.document_id, r.state, r.result.value, r.run_id) for r in receipts] == [
            (d, "verified", "ok", str(run_id)) for d in approved + auto]
        assert all(r.attempts == 1 and "payment_amount" in r.keyed_fields and len(r.key) == 32 for r in receipts)
        assert all(values[0]["recipient_my_number"] not in str(r.key) for r in receipts)
        keyed = repo.session.scalars(sa.select(AuditLog.object_id).where(AuditLog.action == "document.keyed")).all()
        assert sorted(map(int, keyed)) == approved + auto
        run = repo.get(BotRun, run_id)
        assert run.status == "done" and run.counts["keyed"] == 3 and run.batch_id == batch_id
    # Again: the journal in the store knows them (and they are keyed now): nothing typed, nothing new.
    _, again = run_batch(store, TENANT, load_scenario(SCENARIO), batch_id=batch_id)
    assert again.counts["keyed"] == 0 and len(target.export()["records"]) == 3


def test_sent_back_goes_to_review_with_the_targets_words_then_keys_once_corrected(
        target: DemoTarget, store: Store) -> None:
    from _review_data import PASSWORD, add_users
    from fastapi.testclient import TestClient

    from yomitori.review_ui.app import create_app
    from yomitori.review_ui.auth import LOGIN_CSRF_COOKIE
    from yomitori.review_ui.settings import UISettings

    v = approved_values(1, seed=32)[0]
    v["payment_amount"] = int(v["payment_amount"]) // 100 * 100 + 13  # the demo system refuses this at save
    with store.tenant(TENANT, create=True) as repo:
        add_users(repo)
        batch = repo.create_batch("1月分")
        (doc_id,) = add_documents(repo, batch, [v])
        batch_id = batch.id
    scenario = load_scenario(SCENARIO)
    _, summary = run_batch(store, TENANT, scenario, batch_id=batch_id)
    assert summary.counts["sent_back"] == 1
    with store.tenant(TENANT) as repo:
        doc = repo.get(Document, doc_id)
        assert doc.status == DocumentStatus.needs_review
        (finding,) = [x for x in doc.findings if x["rule"] == "keying_sent_back"]
        assert "E2013 支払金額が前年度の異動届出の金額と一致しません" in finding["message"]
        flagged = [f.key for f in doc.fields if f.status == FieldStatus.needs_review]
        assert flagged == ["payment_amount"]  # the field the target's message names
        (receipt,) = repo.keying_receipts(doc_id)
        assert receipt.state == "sent_back" and receipt.result.value == "failed"
    assert target.export()["records"] == []

    # The reviewer sees the target's message on the document and corrects the amount (typed twice: double entry).
    app = create_app(UISettings(data_dir=store.settings.data_dir))
    c = TestClient(app)
    c.get("/login")
    c.post("/login", data={"tenant": TENANT, "username": "reviewer1", "password": PASSWORD,
                           "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)})
    page = c.get(f"/review/documents/{doc_id}")
    assert "E2013 支払金額が前年度の異動届出の金額と一致しません" in page.text
    assert "税務システムへの入力で差し戻されました" in page.text
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    with store.tenant(TENANT) as repo:
        field_id = repo.session.scalar(sa.select(Field.id).where(Field.document_id == doc_id,
                                                                 Field.key == "payment_amount"))
    fixed = str(int(v["payment_amount"]) + 87)
    r = c.post(f"/review/documents/{doc_id}/fields/{field_id}", json={"value": fixed})
    r = c.post(f"/review/documents/{doc_id}/fields/{field_id}", json={"value": fixed, "first": fixed,
                                                                      "first_token": r.json()["first_token"]})
    assert r.json()["status"] == "saved", r.text
    assert c.post(f"/review/documents/{doc_id}/approve").status_code in (200, 303)
    app.state.yomitori.runner.stop()

    _, summary = run_batch(store, TENANT, scenario, batch_id=batch_id)
    assert summary.counts["keyed"] == 1, summary
    with store.tenant(TENANT) as repo:
        doc = repo.get(Document, doc_id)
        assert doc.status == DocumentStatus.keyed
        assert not [x for x in doc.findings if x.get("rule") == "keying_sent_back"]
    (row,) = target.export()["records"]
    assert row["shiharai"] == int(fixed)


def test_failure_keeps_screenshot_and_trace_in_the_blob_store(target: DemoTarget, store: Store) -> None:
    broken = (SCENARIO.read_text(encoding="utf-8")
              .replace("{label: 源泉徴収税額, field: withholding_tax", "{label: 源泉徴収額, field: withholding_tax")
              .replace("timeouts: {step: 10s", "timeouts: {step: 2s"))
    values = approved_values(1, seed=33)
    with store.tenant(TENANT, create=True) as repo:
        batch = repo.create_batch("1月分")
        (doc_id,) = add_documents(repo, batch, values)
        batch_id = batch.id
    artifacts = store.settings.data_dir / "bot-artifacts"
    _, summary = run_batch(store, TENANT, parse_scenario(broken, "broken.yaml"), batch_id=batch_id,
                           artifacts=artifacts)
    assert summary.counts["failed"] == 1
    with store.tenant(TENANT) as repo:
        (receipt,) = repo.keying_receipts(doc_id)
        assert receipt.state == "failed" and "label='源泉徴収額'" in receipt.message
        assert values[0]["recipient_my_number"] not in receipt.message
        kinds = {a["kind"]: repo.blobs.get(repo.code, a["sha256"]) for a in receipt.artifacts}
        assert kinds["screenshot"].startswith(b"\x89PNG") and kinds["trace"].startswith(b"PK")
        assert repo.get(Document, doc_id).status == DocumentStatus.approved  # not keyed, still ready
    assert list(artifacts.iterdir()) == []  # moved into the store, no loose copy with personal data
    assert artifacts.stat().st_mode & 0o077 == 0


def _verified(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("select count(*) from keying_receipts where state = 'verified'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_batch_run_then_resume_keys_each_document_once(target: DemoTarget, store: Store,
                                                                    tmp_path: Path) -> None:
    values = approved_values(6, seed=34)
    with store.tenant(TENANT, create=True) as repo:
        batch = repo.create_batch("1月分")
        ids = add_documents(repo, batch, values)
        batch_id = batch.id
        # The same scenario kept in the store: the rerun names it instead of the file.
        library.save(repo, "demo", SCENARIO.read_text(encoding="utf-8"), actor="admin1")
    env = {**os.environ, **target.env(), "YOMITORI_DATA_DIR": str(store.settings.data_dir)}
    env.pop("YOMITORI_DATABASE_URL", None)
    env.pop("YOMITORI_REDIS_URL", None)
    base = [sys.executable, "-m", "yomitori", "bot", "run", "--batch", str(batch_id), "--tenant", TENANT,
            "--parallel", "2"]
    proc = subprocess.Popen([*base[:5], str(SCENARIO), *base[5:]], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    db = store.settings.data_dir / "yomitori.db"
    deadline = time.monotonic() + 120
    while _verified(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and the browser it started
    proc.wait()
    with store.tenant(TENANT) as repo:
        states = Counter(r.state for r in repo.session.scalars(sa.select(KeyingReceipt)))
        assert 2 <= states["verified"] < 6
        assert sum(repo.get(Document, d).status == DocumentStatus.keyed for d in ids) == states["verified"]
    done = subprocess.run([*base, "--scenario-name", "demo"], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    check = verify_target(target.export(), as_jsonl(values))
    assert check == {"target_rows": 6, "duplicates": 0, "missing": 0, "mismatched_records": 0,
                     "mismatched_fields": 0}
    with store.tenant(TENANT) as repo:
        receipts = repo.session.scalars(sa.select(KeyingReceipt)).all()
        assert sorted(r.document_id for r in receipts) == ids  # one journal row per document
        assert {r.state for r in receipts} == {"verified"}
        assert all(repo.get(Document, d).status == DocumentStatus.keyed for d in ids)
        runs = repo.session.scalars(sa.select(BotRun).order_by(BotRun.id)).all()
        assert [r.status for r in runs] == ["running", "done"]  # the killed run never finished
        assert runs[1].scenario_ref == "demo 版1"
