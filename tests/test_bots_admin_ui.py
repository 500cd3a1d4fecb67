"""The bots' administrator pages: scenario editing with line-numbered errors, versions, export/import between
tenants, the run dashboard, roles; and a test run in a real browser against the demo tax system."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _bot_data import add_documents, approved_values
from _review_data import PASSWORD, add_users
from _review_data import web_login as login
from _servers import chromium, launch_chromium

from yomitori.bots.bench import SCENARIO
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import AuditLog, BotRun, BotScenario, KeyingReceipt, KeyingResult

DEMO = SCENARIO.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app(UISettings(data_dir=tmp_path_factory.mktemp("ui")))
    store = app.state.yomitori.store
    docs = {}
    for tenant in ("yokohama", "kawasaki"):
        with store.tenant(tenant, create=True) as repo:
            add_users(repo)
            batch = repo.create_batch("1月分")
            docs[tenant] = add_documents(repo, batch, approved_values(2, seed=41))
    yield app, docs
    app.state.yomitori.runner.stop()
    store.close()




def _line(text: str, needle: str) -> int:
    return next(n for n, s in enumerate(text.splitlines(), 1) if needle in s)


def _versions(app, name: str, tenant: str = "yokohama") -> list[int]:
    with app.state.yomitori.store.tenant(tenant) as repo:
        return list(repo.session.scalars(sa.select(BotScenario.version).where(BotScenario.name == name)
                                         .order_by(BotScenario.version)))


def test_only_administrators_reach_the_bot_pages(site):
    app, _ = site
    for user in ("reviewer1", "operator1", "auditor1"):
        c = login(app, user)
        for path in ("/admin/bots", "/admin/bots/new", "/admin/bots/runs", "/admin/bots/scenarios/demo"):
            assert c.get(path).status_code == 403, (user, path)
        r = c.post("/admin/bots/new", data={"name": "x", "text": DEMO, "csrf_token": c.headers["X-CSRF-Token"]})
        assert r.status_code == 403
        assert "/admin/bots" not in c.get("/stats" if user != "reviewer1" else "/review").text  # no menu entry
    admin = login(app, "admin1")
    assert admin.get("/admin/bots").status_code == 200 and 'href="/admin/bots"' in admin.get("/admin/bots").text


def test_save_validates_with_line_numbers_and_keeps_every_version(site):
    app, _ = site
    c = login(app, "admin1")
    r = c.post("/admin/bots/new", data={"name": "zeimu", "text": DEMO, "target_system": "住民税課税システム（デモ）",
                                        "comment": "最初の版"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/bots/scenarios/zeimu?saved=1"
    assert "版1として保存しました" in c.get(r.headers["location"]).text

    # Two mistakes: an unknown transform and an element named two ways. Nothing is saved.
    broken = DEMO.replace("transform: wareki_year}", "transform: wareki_yaer}", 1).replace(
        "{label: 源泉徴収税額, field:", "{label: 源泉徴収税額, css: '#gensen', field:")
    r = c.post("/admin/bots/scenarios/zeimu", data={"text": broken.replace("\n", "\r\n")})
    assert r.status_code == 422
    assert f'data-line="{_line(broken, "wareki_yaer")}">{_line(broken, "wareki_yaer")}行目' in r.text
    assert "unknown transform" in r.text
    assert f"{_line(broken, '#gensen')}行目" in r.text and "name the element one way" in r.text
    assert "wareki_yaer" in r.text  # the administrator's text stays in the editor
    assert _versions(app, "zeimu") == [1]

    changed = DEMO.replace("timeouts: {step: 10s", "timeouts: {step: 15s")
    r = c.post("/admin/bots/scenarios/zeimu", data={"text": changed, "target_system": "住民税課税システム（デモ）",
                                                    "comment": "待ち時間を延長"}, follow_redirects=False)
    assert r.headers["location"] == "/admin/bots/scenarios/zeimu?saved=2"
    page = c.get("/admin/bots/scenarios/zeimu?version=1")
    assert "版1（" in page.text and "最新は版2" in page.text and "timeouts: {step: 10s" in page.text
    assert "待ち時間を延長" in page.text and "最初の版" in page.text
    r = c.post("/admin/bots/scenarios/zeimu/restore", data={"version": "1"}, follow_redirects=False)
    assert r.headers["location"] == "/admin/bots/scenarios/zeimu?saved=3"
    with app.state.yomitori.store.tenant("yokohama") as repo:
        rows = {r.version: r for r in repo.session.scalars(sa.select(BotScenario).where(BotScenario.name == "zeimu"))}
        assert rows[3].yaml == rows[1].yaml == DEMO and rows[2].yaml == changed and rows[3].comment == "版1から復元"
        saves = repo.session.scalars(sa.select(AuditLog).where(AuditLog.action == "bot.scenario_save")).all()
        assert [(a.actor, a.detail["version"]) for a in saves if a.detail["name"] == "zeimu"] == [
            ("admin1", 1), ("admin1", 2), ("admin1", 3)]
    # A name that is taken is not overwritten by "new".
    r = c.post("/admin/bots/new", data={"name": "zeimu", "text": DEMO})
    assert r.status_code == 409 and _versions(app, "zeimu") == [1, 2, 3]
    listing = c.get("/admin/bots").text
    assert "zeimu" in listing and "版3" in listing and "給与支払報告書" in listing


def test_export_then_import_in_another_municipality(site):
    app, _ = site
    c = login(app, "admin1")
    c.post("/admin/bots/new", data={"name": "kyuyo", "text": DEMO, "target_system": "住民税課税システム（デモ）"})
    r = c.get("/admin/bots/scenarios/kyuyo/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert z.read("scenario.yaml").decode() == DEMO
    assert manifest["version"] == 1 and manifest["form"] == "kyuyo_shiharai_hokokusho"
    assert manifest["target_system"] == "住民税課税システム（デモ）" and manifest["name"] == "kyuyo"

    other = login(app, "admin1", tenant="kawasaki")
    assert other.get("/admin/bots/scenarios/kyuyo").status_code == 404  # another tenant's scenario
    r = other.post("/admin/bots/import", files={"package": ("kyuyo-v1.zip", r.content, "application/zip")},
                   data={"name": "yokohama-kyuyo"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/bots/scenarios/yokohama-kyuyo?saved=1"
    page = other.get(r.headers["location"]).text
    assert "取り込み: kyuyo 版1" in page and "住民税課税システム（デモ）" in page

    # Validated before saving: a broken scenario (with its line), a manifest that disagrees, not a package.
    def package(yaml_text: str, **manifest_changes: object) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("manifest.json", json.dumps({**manifest, **manifest_changes}))
            z.writestr("scenario.yaml", yaml_text)
        return buf.getvalue()

    broken = DEMO.replace("commit: true\n    timeout: 30s", "timeout: 30s")  # no save step marked
    r = other.post("/admin/bots/import", files={"package": ("b.zip", package(broken), "application/zip")})
    assert r.status_code == 422 and "行目: key_in: exactly one step must be marked commit: true" in r.text
    r = other.post("/admin/bots/import", files={"package": ("b.zip", package(DEMO, form="idou_todokede"),
                                                            "application/zip")})
    assert r.status_code == 422 and "一致しません" in r.text
    r = other.post("/admin/bots/import", files={"package": ("b.zip", b"not a zip", "application/zip")})
    assert r.status_code == 422 and "読めません" in r.text
    assert _versions(app, "kyuyo", tenant="kawasaki") == []
    assert _versions(app, "yokohama-kyuyo", tenant="kawasaki") == [1]


def test_dashboard_shows_each_run_and_failure_artifacts(site):
    app, docs = site
    store = app.state.yomitori.store
    with store.tenant("yokohama") as repo:
        run = BotRun(bot="demo", scenario_ref="zeimu 版2", batch_id=None, started_by="cli", status="done",
                     counts={"keyed": 30, "skipped": 2, "sent_back": 3, "failed": 1}, seconds=120.0)
        repo.session.add(run)
        repo.session.flush()
        shot = repo.blobs.put(repo.code, b"\x89PNG fake screenshot")
        receipt = KeyingReceipt(document_id=docs["yokohama"][0], bot="demo", run_id=str(run.id), key="k" * 32,
                                state="failed", result=KeyingResult.failed, message="key_in step 'fill' failed",
                                artifacts=[{"kind": "screenshot", "sha256": shot}])
        repo.session.add(receipt)
        repo.session.flush()
        run_id, receipt_id = run.id, receipt.id
    c = login(app, "admin1")
    page = c.get("/admin/bots/runs").text
    row = re.search(rf'<a href="/admin/bots/runs/{run_id}">.*?</tr>', page, re.S).group(0)
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)
    assert cells == ["30", "2", "3", "1", "17.5"]  # keyed, skipped, sent back, failed, records/minute (35 in 2 min)
    detail = c.get(f"/admin/bots/runs/{run_id}").text
    assert "key_in step &#39;fill&#39; failed" in detail and f"/admin/bots/receipts/{receipt_id}/screenshot" in detail
    r = c.get(f"/admin/bots/receipts/{receipt_id}/screenshot")
    assert r.status_code == 200 and r.content == b"\x89PNG fake screenshot"
    assert login(app, "admin1", "kawasaki").get(f"/admin/bots/receipts/{receipt_id}/screenshot").status_code == 404
    with store.tenant("yokohama") as repo:
        assert repo.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                   .where(AuditLog.action == "bot.artifact_view")) == 1


# ---------------------------------------------------------------- in a browser


@pytest.fixture
def live(site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from _servers import serve_app

    from yomitori.bots.demo_target import DemoTarget

    app, _ = site
    with DemoTarget(tmp_path / "target.db") as target:
        for k, v in target.env().items():
            monkeypatch.setenv(k, v)  # the test run's thread reads the scenario's credentials from here
        with serve_app(app) as url:
            yield url


@pytest.mark.skipif(chromium() is None, reason="no chromium")
def test_editor_and_a_test_run_with_step_screenshots_in_the_browser(site, live: str, screenshots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, docs = site
    c = login(app, "admin1")
    c.post("/admin/bots/new", data={"name": "demo-browser", "text": DEMO,
                                    "target_system": "住民税課税システム（デモ）"})
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP")
        page.goto(f"{live}/login")
        page.fill("input[name=tenant]", "yokohama")
        page.fill("input[name=username]", "admin1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        # The editor: a typo, saved; the problem is listed with its line, and the button selects that line.
        page.goto(f"{live}/admin/bots/scenarios/demo-browser")
        text = page.input_value("#yaml").replace("transform: wareki_year}", "transform: wareki_yaer}", 1)
        page.fill("#yaml", text)
        page.click("text=検証して保存")
        line = _line(text, "wareki_yaer")
        button = page.locator(f".goto-line[data-line='{line}']")
        expect(button).to_be_visible()
        button.click()
        selected = page.evaluate("() => { const t = document.getElementById('yaml');"
                                 " return t.value.slice(t.selectionStart, t.selectionEnd); }")
        assert "wareki_yaer" in selected
        page.screenshot(path=str(screenshots / "scenario-editor.png"))

        # A test run (dry run) on one approved document: each step's screen, then the outcome.
        page.goto(f"{live}/admin/bots/scenarios/demo-browser/test")
        page.select_option("select[name=document_id]", str(docs["yokohama"][1]))
        page.click("text=テスト実行 >> nth=-1")
        expect(page.locator("#test-state")).to_have_text("終了しました", timeout=60_000)
        expect(page.locator("#test-outcome")).to_contain_text("保存の直前まで実行")
        steps = page.locator("#test-steps li")
        assert steps.count() >= 4
        assert page.locator("#test-steps img").count() == steps.count()
        page.locator("#test-steps img").first.evaluate("img => img.decode()")
        assert page.locator("#test-steps img").first.evaluate("img => img.naturalWidth") > 200
        expect(steps.first).to_contain_text("lookup step 'goto'")
        browser.close()
    with app.state.yomitori.store.tenant("yokohama") as repo:
        (run,) = repo.session.scalars(sa.select(BotRun).where(BotRun.scenario_ref.like("demo-browser%"))).all()
        assert run.dry_run and run.status == "done" and run.counts["dry_run"] == 1 and run.counts["keyed"] == 0
