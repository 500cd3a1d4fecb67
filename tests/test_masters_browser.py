"""支援措置 and the master's evidence in a real browser (Debian's chromium through Playwright): the document's warning,
the refusal of a role not allowed, the audit of every view; the match's evidence and the master's candidate (Alt+1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _review_data import PASSWORD, add_batch, add_users
from _servers import chromium, launch_chromium, serve_app

from yomitori.masters.pipeline import approve_keying, may_key
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import AuditLog, DocumentMaster, Field, MasterResident

pytestmark = pytest.mark.skipif(chromium() is None,
                                reason="Debian's chromium is not installed")
EVIDENCE = {"person": {"resident_id": "R0000001", "name": "髙橋 一郎", "by": "attributes", "score": 8.0,
                       "evidence": {"name": "folded", "name_kana": "equal", "birth_date": "equal",
                                    "address": "differs"}}, "passed": ["recipient_name"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = UISettings(data_dir=tmp_path_factory.mktemp("ui"))
    app = create_app(settings)
    store = app.state.yomitori.store
    with store.tenant("yokohama", create=True) as repo:
        add_users(repo)
        batch, docs = add_batch(repo, 2, name="1月分 支援措置")
        repo.session.add_all([
            MasterResident(resident_id="R0000001", name="髙橋 一郎", support_measure=True),
            MasterResident(resident_id="R0000002", name="山田 花子"),
            DocumentMaster(document_id=docs[0].id, resident_id="R0000001", support_measure=True, evidence=EVIDENCE),
            DocumentMaster(document_id=docs[1].id, resident_id="R0000002", evidence=EVIDENCE)])
        name = next(f for f in docs[1].fields if f.key == "recipient_name")
        name.alternatives = ["髙橋 一郎", *name.alternatives]  # the master's candidate first, as the pipeline stores it
        ids = (batch.id, docs[0].id, docs[1].id)
    with serve_app(app) as url:
        yield url, app, ids
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def login(browser, base: str, user: str):
    """Log in; a single-tenant install asks for no tenant code."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP", accept_downloads=True)
    page.goto(f"{base}/login")
    if page.locator("input[name=tenant]:visible").count():
        page.fill("input[name=tenant]", "yokohama")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _audit(app, action: str) -> list[AuditLog]:
    with app.state.yomitori.store.tenant("yokohama") as repo:
        rows = [a for a in repo.audit_log(500) if a.action == action]
        repo.session.expunge_all()
    return rows


def test_support_measure_warning_refusal_and_audit(server, browser):
    url, app, (batch_id, dv_doc, plain_doc) = server
    page = login(browser, url, "reviewer1")
    page.goto(f"{url}/review/documents/{dv_doc}")
    warning = page.locator("#support-measure")
    assert warning.is_visible() and "支援措置" in warning.inner_text()
    assert page.evaluate(f"fetch('/images/documents/{dv_doc}.png').then(r => r.status)") == 200
    page.goto(f"{url}/review/documents/{plain_doc}")
    assert page.locator("#support-measure").count() == 0
    views = _audit(app, "support_measure.view")
    assert {(a.actor, a.object_id, a.detail["view"]) for a in views} >= {
        ("reviewer1", str(dv_doc), "document"), ("reviewer1", str(dv_doc), "document_image")}
    assert not any(a.object_id == str(plain_doc) for a in views)
    page.close()

    operator = login(browser, url, "operator1")  # operators are not named in support_measure_roles
    operator.goto(f"{url}/batches/{batch_id}")
    assert "支援措置" in operator.locator("table.list").last.inner_text()  # the list carries the warning
    response = operator.goto(f"{url}/images/documents/{dv_doc}.png")
    assert response.status == 403
    assert operator.evaluate(f"fetch('/api/documents/{dv_doc}').then(r => r.status)") == 403
    assert operator.evaluate(f"fetch('/api/documents/{plain_doc}').then(r => r.status)") == 200
    refused = _audit(app, "support_measure.refused")
    assert {(a.actor, a.detail["view"]) for a in refused} >= {("operator1", "document_image"), ("operator1", "api")}
    operator.close()

    app.state.yomitori.settings.support_measure_roles = []  # no role named: even a reviewer is refused
    try:
        page = login(browser, url, "reviewer2")
        assert page.goto(f"{url}/review/documents/{dv_doc}").status == 403
        assert "権限" in page.content()
        page.close()
    finally:
        app.state.yomitori.settings.support_measure_roles = ["reviewer"]


def test_the_match_evidence_and_the_masters_candidate_on_alt_1(server, browser):
    url, _, (_, _, plain_doc) = server
    page = login(browser, url, "reviewer1")
    page.goto(f"{url}/review/documents/{plain_doc}")
    panel = page.locator("#master")
    assert "宛名台帳：髙橋 一郎（R0000001）" in panel.inner_text() and "一致（異体字）" in panel.inner_text()
    row = page.locator("li.field-row", has=page.locator("label", has_text="氏名")).first
    row.locator("input.value").focus()
    page.keyboard.press("Alt+1")
    assert row.locator("input.value").input_value() == "髙橋 一郎"
    page.close()


def test_bots_key_a_support_measure_document_only_after_explicit_approval(server):
    _, app, (_, dv_doc, plain_doc) = server
    with app.state.yomitori.store.tenant("yokohama") as repo:
        assert may_key(repo, plain_doc) and not may_key(repo, dv_doc)
        approve_keying(repo, dv_doc, "kanri")
        assert may_key(repo, dv_doc)
        assert repo.session.query(DocumentMaster).filter_by(document_id=dv_doc).one().keying_approved_by == "kanri"
        assert any(a.action == "support_measure.approve_keying" for a in repo.audit_log(50))
        assert repo.session.query(Field).count() > 0


def test_an_administrator_imports_a_master_and_reads_the_misdirected_list(server, browser, tmp_path):
    from test_masters import MY_NUMBER, RESIDENTS_CSV

    url, app, (_, _, plain_doc) = server
    csv_file = tmp_path / "residents.csv"
    csv_file.write_text(RESIDENTS_CSV, encoding="utf-8")
    with app.state.yomitori.store.tenant("yokohama") as repo:
        repo.session.query(DocumentMaster).filter_by(document_id=plain_doc).one().misdirected = True
    page = login(browser, url, "admin1")
    page.goto(f"{url}/admin/masters")
    page.select_option("select[name=kind]", "residents")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_load_state()
    assert "追加 3" in page.locator("[role=status]").inner_text()
    assert str(plain_doc) in page.locator("#misdirected").inner_text()
    with page.expect_download() as download:
        page.click("text=CSVでダウンロード")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("書類番号,バッチ,氏名") and str(plain_doc) in text
    data_dir = app.state.yomitori.settings.data_dir
    assert not any(MY_NUMBER.encode() in p.read_bytes() for p in Path(data_dir).rglob("*") if p.is_file())
    page.close()
