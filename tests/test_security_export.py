"""Issue 20 items 7 and 8: `yomitori batch export` masks 個人番号 unless a proved user may see them; a typed file
name is kept for display, never used as a path, and sanitised in exports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from _review_data import PASSWORD, add_batch, add_users
from _servers import serve_app
from typer.testing import CliRunner

from yomitori.cli import app as cli
from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import SourceFile, SourceStatus
from yomitori.store.repo import Store

TENANT = "yokohama"
NUMBER = "123456789012"  # the recipient's 個人番号 as read (_review_data.READ)
runner = CliRunner()


@pytest.fixture
def data(tmp_path, monkeypatch):
    for k in [k for k in os.environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    store = Store(UISettings(data_dir=tmp_path / "data"))
    with store.tenant(TENANT, create=True) as repo:
        add_users(repo)
        batch, _docs = add_batch(repo, 1)
    yield store, batch.id, {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "YOMITORI_TENANT": TENANT}
    store.close()
    use_runtime(None)


def _export(env, batch_id: int, *args: str, password: str | None = None):
    return runner.invoke(cli, ["batch", "export", str(batch_id), *args], env=env,
                         input=None if password is None else password + "\n")


def _last_export(store) -> tuple[str, dict]:
    with store.tenant(TENANT) as repo:
        entry = next(a for a in repo.audit_log() if a.action == "batch.export")
        return entry.actor, entry.detail


def test_export_masks_personal_numbers_unless_a_proved_user_may_see_them(data):
    """Item 7: without an acting user, or with one whose role may not see 個人番号, the export masks them;
    a reviewer proved by password gets them in clear; each export is audited as the acting user."""
    store, batch_id, env = data
    plain = _export(env, batch_id)
    assert plain.exit_code == 0, plain.output
    record = json.loads(plain.stdout.splitlines()[0])
    assert NUMBER not in plain.stdout and record["fields"]["recipient_my_number"]["value"] == "●●●● ●●●● 9012"
    actor, detail = _last_export(store)
    assert actor.startswith("cli:") and detail["masked"] is True

    operator = _export(env, batch_id, "--user", "operator1", "--password-stdin", password=PASSWORD)
    assert operator.exit_code == 0 and NUMBER not in operator.stdout
    assert _last_export(store) == ("operator1", {"format": "jsonl", "masked": True})

    reviewer = _export(env, batch_id, "--format", "csv", "--user", "reviewer1", "--password-stdin",
                       password=PASSWORD)
    assert reviewer.exit_code == 0 and NUMBER in reviewer.stdout
    assert _last_export(store) == ("reviewer1", {"format": "csv", "masked": False})

    wrong = _export(env, batch_id, "--user", "reviewer1", "--password-stdin", password="not the password")
    assert wrong.exit_code == 1 and NUMBER not in wrong.stdout


EVIL = "../../../../tmp/evil😀\u202egpj.exe.jpg"


def test_a_typed_file_name_is_shown_as_typed_but_never_a_path(data, tmp_path):
    """Item 8: an upload named with ../, and a bidi override is stored under a safe name (what exports
    carry), its typed name kept for display only; nothing is written where the name points."""
    store, _batch_id, env = data
    web = create_app(UISettings(data_dir=Path(env["YOMITORI_DATA_DIR"])))
    web.state.yomitori.runner.start = lambda *_a: None  # no reading: the name is what is tested
    scan = (Path(__file__).parents[1] / "samples" / "meisai-print.jpg").read_bytes()
    with serve_app(web) as base, httpx.Client(base_url=base, timeout=30) as c:
        login = c.post("/api/session", json={"tenant": TENANT, "username": "operator1", "password": PASSWORD})
        c.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        r = c.post("/api/batches", files=[("files", (EVIL, scan, "image/jpeg"))])
        assert r.status_code == 201, r.text
        batch_id = r.json()["batch_id"]
        with store.tenant(TENANT) as repo:
            source = repo.sources(batch_id)[0]
            assert source.original_name == EVIL
            assert source.name == "evil😀_gpj.exe.jpg"
            repo.get(SourceFile, source.id).status, repo.get(SourceFile, source.id).error = SourceStatus.error, "x"
        page = c.get(f"/batches/{batch_id}")
        assert page.status_code == 200 and "evil😀" in page.text and "../../" in page.text  # shown as typed, escaped
    web.state.yomitori.store.close()
    assert not Path("/tmp/evil😀\u202egpj.exe.jpg").exists()
    out = _export(env, batch_id)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout.splitlines()[0])["source"] == "evil😀_gpj.exe.jpg"
