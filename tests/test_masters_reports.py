"""The 入力確認票 and 異動者リスト guard a 支援措置 person's document as exports do (shown in full only to a role in
YOMITORI_SUPPORT_MEASURE_ROLES, audited either way), and the batch page's count of records to write leaves out the
documents an export would hold back."""

from __future__ import annotations

import csv
import io
import re

import pytest
from _review_data import TRUTH, add_batch, add_users, web_login

from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.settings import Settings
from yomitori.standard import reports
from yomitori.store.models import AuditLog, DocumentMaster, MasterResident
from yomitori.store.repo import Store

MOVED = {**TRUTH, "retired_midyear": True, "employment_change_date": "2024-09-30"}


def _flag(repo, doc) -> None:
    repo.session.add_all([MasterResident(resident_id="A003", name="渡邊 健", support_measure=True),
                          DocumentMaster(document_id=doc.id, resident_id="A003", support_measure=True, evidence={})])
    repo.session.flush()


def _rows(report: reports.Report) -> dict[str, list[str]]:
    text = reports.to_csv(report).decode("utf-8-sig")
    return {r[0]: r for r in list(csv.reader(io.StringIO(text)))[1:]}


def _audits(repo) -> list[tuple[str, str, str]]:
    return [(a.action, a.actor, a.detail.get("view")) for a in repo.session.query(AuditLog).order_by(AuditLog.id)
            if a.action.startswith("support_measure.")]


def test_the_lists_show_a_support_measure_document_only_to_an_allowed_role_and_audit_it(tmp_path):
    store = Store(Settings(data_dir=tmp_path / "data"))
    with store.tenant("demo", create=True) as repo:
        batch, (dv, plain) = add_batch(repo, 2, read=MOVED, flagged=set())
        _flag(repo, dv)
        name = TRUTH["recipient_name"]
        for kind in ("kakunin", "idou"):
            hidden = _rows(reports.build(repo, batch.id, kind, "cli:yamada", support_measure_roles=["reviewer"]))
            assert reports.HIDDEN in hidden[str(dv.id)] and name not in ",".join(hidden[str(dv.id)])
            assert "3456" not in ",".join(hidden[str(dv.id)])  # not even the masked 個人番号's last digits
            assert name in hidden[str(plain.id)]  # any other document as before
            shown = _rows(reports.build(repo, batch.id, kind, "suzuki", role="reviewer",
                                        support_measure_roles=["reviewer"]))
            assert name in shown[str(dv.id)]
            refused_by_operator = _rows(reports.build(repo, batch.id, kind, "sato", role="operator",
                                                      support_measure_roles=["reviewer"]))
            assert reports.HIDDEN in refused_by_operator[str(dv.id)]
        kakunin = reports.build(repo, batch.id, "kakunin", "cli:yamada", support_measure_roles=["reviewer"])
        assert any("支援措置対象者 1 件を除く" in n for n in kakunin.notes)
        assert f"支払金額合計 {TRUTH['payment_amount']:,} 円" in kakunin.notes[0]  # only the shown one counted
        assert _audits(repo) == [
            ("support_measure.refused", "cli:yamada", "report:kakunin:cli"),
            ("support_measure.view", "suzuki", "report:kakunin:cli"),
            ("support_measure.refused", "sato", "report:kakunin:cli"),
            ("support_measure.refused", "cli:yamada", "report:idou:cli"),
            ("support_measure.view", "suzuki", "report:idou:cli"),
            ("support_measure.refused", "sato", "report:idou:cli"),
            ("support_measure.refused", "cli:yamada", "report:kakunin:cli")]
    store.close()


@pytest.fixture
def site(tmp_path):
    # Reviewers may see 個人番号 (and so export) but not open 支援措置 documents; administrators may.
    app = create_app(UISettings(data_dir=tmp_path / "data", embedded_processes=1,
                                support_measure_roles=["administrator"]))
    state = app.state.yomitori
    with state.store.tenant("yokohama", create=True) as repo:
        add_users(repo)
        batch, (dv, plain) = add_batch(repo, 2, read=TRUTH, flagged=set())
        _flag(repo, dv)
    app.state.ids = (batch.id, dv.id, plain.id)
    yield app
    state.runner.stop()
    use_runtime(None)
    state.store.close()


def test_the_batch_page_counts_only_the_records_an_export_would_write(site):
    batch_id = site.state.ids[0]
    reviewer = web_login(site, "reviewer1")
    page = reviewer.get(f"/batches/{batch_id}").text
    assert re.search(r"<option value=\"315\">[^<]*（1 件）</option>", page), page
    assert "支援措置対象者の書類 1 件は出力しません" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    got = reviewer.post(f"/batches/{batch_id}/export", data={"profile": "315", "csrf_token": csrf})
    assert got.headers["x-records-written"] == "1"  # what the page said
    listed = reviewer.get(f"/batches/{batch_id}/reports/kakunin.csv").content.decode("utf-8-sig")
    assert reports.HIDDEN in listed and listed.count(TRUTH["recipient_name"]) == 1
    admin = web_login(site, "admin1")
    assert listed != admin.get(f"/batches/{batch_id}/reports/kakunin.csv").content.decode("utf-8-sig")
    with site.state.yomitori.store.tenant("yokohama") as repo:
        audits = _audits(repo)
    assert ("support_measure.refused", "reviewer1", "report:kakunin:web") in audits
    assert ("support_measure.view", "admin1", "report:kakunin:web") in audits


def test_the_report_command_lists_a_support_measure_document_in_full_only_for_an_allowed_user(tmp_path, monkeypatch):
    import os

    from _review_data import PASSWORD
    from typer.testing import CliRunner

    from yomitori.cli import app

    for k in [k for k in os.environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    monkeypatch.setattr("yomitori.jobs.runtime._current", None)
    store = Store(Settings(data_dir=tmp_path / "data"))
    with store.tenant("demo", create=True) as repo:
        add_users(repo)
        batch, (dv, _) = add_batch(repo, 2, read=TRUTH, flagged=set())
        _flag(repo, dv)
    store.close()
    env = {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "YOMITORI_TENANT": "demo"}
    out = tmp_path / "k.csv"

    def report(*args: str, password: str | None = None) -> str:
        r = CliRunner().invoke(app, ["batch", "report", str(batch.id), "--format", "csv", "--out", str(out), *args],
                               env=env, input=None if password is None else password + "\n")
        assert r.exit_code == 0, r.output
        return r.output

    assert "1 document(s) of persons under 支援措置 listed by number only" in report()  # an OS user: no role
    assert reports.HIDDEN in out.read_bytes().decode("utf-8-sig")
    assert "支援措置" not in report("--user", "reviewer1", "--password-stdin", password=PASSWORD)
    assert reports.HIDDEN not in out.read_bytes().decode("utf-8-sig")
