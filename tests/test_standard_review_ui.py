"""An electronic submission in the review UI: uploaded like a scan, its line shown in place of an image (個人番号
masked), the batch page's download in the 315 layout for roles that may see 個人番号, and the printable lists."""

from __future__ import annotations

import re

import pytest
from _review_data import PASSWORD, add_users
from fastapi.testclient import TestClient
from test_review_api import login
from test_standard_import import submission

from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings


@pytest.fixture
def site(tmp_path):
    app = create_app(UISettings(data_dir=tmp_path / "data", embedded_processes=1))
    state = app.state.yomitori
    with state.store.tenant("yokohama", create=True) as repo:
        add_users(repo)
    yield app
    state.runner.stop()
    use_runtime(None)
    state.store.close()


def test_a_submission_uploaded_is_reviewed_by_its_line_and_downloaded_again(site):
    values, data = submission(3, seed=51)
    api = TestClient(site)
    api.headers["X-CSRF-Token"] = api.post("/api/session", json={
        "tenant": "yokohama", "username": "operator1", "password": PASSWORD}).json()["csrf_token"]
    r = api.post("/api/batches", data={"name": "電子"}, files=[("files", ("kyuyo.csv", data, "text/csv"))])
    assert r.status_code == 201, r.text
    site.state.yomitori.runner.wait()
    batch_id = r.json()["batch_id"]

    reviewer = login(site, "reviewer1")
    docs = reviewer.get(f"/api/batches/{batch_id}/documents").json()
    assert len(docs) == 3
    page = reviewer.get(f"/review/documents/{docs[0]['id']}").text
    assert "電子データ" in page and "kyuyo.csv 1行目" in page and "支払金額" in page
    assert str(values[0]["payment_amount"]) in page
    assert values[0]["recipient_my_number"] not in page and values[0]["recipient_my_number"][-4:] in page

    batch_page = reviewer.get(f"/batches/{batch_id}").text
    assert 'id="export-btn"' in batch_page and "（3 件）" in batch_page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', batch_page).group(1)
    got = reviewer.post(f"/batches/{batch_id}/export", data={"profile": "315", "csrf_token": csrf,
                                                              "municipality_code": "141003"})
    assert got.status_code == 200 and got.content == data and got.headers["x-records-refused"] == "0"
    assert "attachment" in got.headers["content-disposition"]

    pdf = reviewer.get(f"/batches/{batch_id}/reports/kakunin.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv_text = reviewer.get(f"/batches/{batch_id}/reports/kakunin.csv").content.decode("utf-8-sig")
    assert "電子" in csv_text and values[1]["recipient_my_number"] not in csv_text

    operator = login(site, "operator1")
    assert 'id="export-btn"' not in operator.get(f"/batches/{batch_id}").text
    assert operator.post(f"/batches/{batch_id}/export", data={"profile": "315"}).status_code == 403
    with site.state.yomitori.store.tenant("yokohama") as repo:
        actions = [(a.action, a.actor, a.detail.get("via")) for a in repo.audit_log()]
    assert ("batch.export", "reviewer1", "web") in actions and ("batch.export_refused", "operator1", None) in actions
