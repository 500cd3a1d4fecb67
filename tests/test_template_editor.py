"""Learn a layout once: `yomitori draft-template` drafts a page without an outer frame and keeps the draft; an
administrator opens it in the template editor (a real browser), moves a box, sees the value re-read, saves a new
version, which the tenant's batches then read with (registered as a bundled layout is)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _review_data import PASSWORD, add_users
from _review_data import web_login as login
from _servers import chromium, launch_chromium, serve_app
from typer.testing import CliRunner

from yomitori import saved_layouts as S
from yomitori.classify.page_rules import page_corners
from yomitori.cli import app as cli
from yomitori.ocr.preprocess import PX_PER_MM, find_frame, to_working
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import AuditLog, SavedLayout
from yomitori.synth.frozen import frozen_layouts
from yomitori.synth.layouts import generate_page

FORM = "kyuyo_shiharai_hokokusho"
EDITOR = f"/admin/layouts/{FORM}/vendor-a"
# A payroll program's printout of the 明細書 (a frozen hand-made layout): boxed rows, no outer ruled frame.
VENDOR = next(d for d in frozen_layouts() if d.template.layout == "frozen_vendor_meisai_a4")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The draft-template command run on the printout (kept in the store), and the web app on that store."""
    data = tmp_path_factory.mktemp("ui")
    sample = generate_page(VENDOR, 3, hand=False, clean=True)
    scan = data / "vendor.png"
    sample.image.save(scan)
    app = create_app(UISettings(data_dir=data))
    store = app.state.yomitori.store
    for tenant in ("yokohama", "kawasaki"):
        with store.tenant(tenant, create=True) as repo:
            add_users(repo)
    mp = pytest.MonkeyPatch()
    mp.setenv("YOMITORI_DATA_DIR", str(data))
    res = CliRunner().invoke(cli, ["draft-template", str(scan), "--form", FORM, "--layout", "vendor-a", "--save",
                                   "--tenant", "yokohama", "--out", str(data / "vendor-a.yaml")])
    mp.undo()
    yield app, res, sample, to_working(np.asarray(sample.image.convert("RGB")))
    app.state.yomitori.runner.stop()
    store.close()




def _draft(app) -> S.LayoutTemplate:
    with app.state.yomitori.store.tenant("yokohama") as repo:
        return S.parse(S.get(repo, FORM, "vendor-a", 1).yaml)


def _fields(t) -> list[dict]:
    return [{"key": f.key, "type": f.type, "box": list(f.box), "original": f.key} for f in t.fields]


def test_draft_template_drafts_a_page_without_an_outer_frame(site):
    app, res, _, gray = site
    frame = find_frame(gray)  # its largest ruled box is one section: the print reaches beyond it
    assert frame is None or not np.allclose(frame, page_corners(gray))
    assert res.exit_code == 0, res.output
    assert "no ruled frame" not in res.output
    assert "kept as draft kyuyo_shiharai_hokokusho/vendor-a version 1" in res.output
    with app.state.yomitori.store.tenant("yokohama") as repo:
        row = S.get(repo, FORM, "vendor-a")
        assert (row.version, row.active) == (1, False) and row.image_sha256
        t = S.parse(row.yaml)
        page = repo.blobs.get(repo.code, row.image_sha256)
    assert {"payment_amount", "withholding_tax", "recipient_address"} <= {f.key for f in t.fields}
    assert page[:4] == b"\x89PNG"
    # The page it was drafted on lies on the draft's millimetres: the image is the draft's page size.
    from yomitori.jobs.stages import load_page_image

    h, w = load_page_image(page).shape[:2]
    assert (round(w / PX_PER_MM), round(h / PX_PER_MM)) == (round(t.page.width_mm), round(t.page.height_mm))


def test_only_administrators_reach_the_editor_and_only_with_the_csrf_token(site):
    app, *_ = site
    for user in ("reviewer1", "operator1", "auditor1"):
        c = login(app, user)
        for path in ("/admin/layouts", EDITOR, f"{EDITOR}/1/page.png"):
            assert c.get(path).status_code == 403, (user, path)
        assert c.post(f"{EDITOR}/reread", json={"fields": []}).status_code == 403
    admin = login(app, "admin1")
    assert "vendor-a" in admin.get("/admin/layouts").text and admin.get(EDITOR).status_code == 200
    del admin.headers["X-CSRF-Token"]
    assert admin.post(EDITOR, json={"version": 1, "fields": []}).status_code == 403
    assert login(app, "admin1", "kawasaki").get(EDITOR).status_code == 404  # another tenant's layout


def test_a_moved_box_is_read_again_and_saved_as_a_new_version(site):
    app, _, sample, _ = site
    t = _draft(app)
    admin = login(app, "admin1")
    amount = t.field("payment_amount").box
    onto = t.field("withholding_tax").box  # the box moved onto another value reads that value
    r = admin.post(f"{EDITOR}/reread", json={"version": 1, "fields": [
        {"key": "payment_amount", "type": "amount", "box": list(onto), "original": "payment_amount"}]})
    assert r.status_code == 200
    assert r.json()["values"]["payment_amount"]["text"] == str(sample.truth["withholding_tax"])
    r = admin.post(f"{EDITOR}/reread", json={"version": 1, "fields": [
        {"key": "payment_amount", "type": "amount", "box": list(amount), "original": "payment_amount"}]})
    assert r.json()["values"]["payment_amount"]["text"] == str(sample.truth["payment_amount"])

    # Validation as template files get it: nothing is saved.
    wrong = _fields(t)
    wrong[0]["type"] = "phone" if wrong[0]["type"] != "phone" else "text"
    r = admin.post(EDITOR, json={"version": 1, "fields": wrong})
    assert r.status_code == 422 and any("the contract says" in p for p in r.json()["problems"])
    twice = [*_fields(t), _fields(t)[0]]
    assert "appears twice" in " ".join(admin.post(EDITOR, json={"version": 1, "fields": twice}).json()["problems"])
    with app.state.yomitori.store.tenant("yokohama") as repo:
        assert [v.version for v in S.versions(repo, FORM, "vendor-a")] == [1] and S.active_layouts(repo) == []

    r = admin.post(EDITOR, json={"version": 1, "fields": _fields(t), "comment": "確認済み"})
    assert r.status_code == 200 and r.json()["url"].endswith("?saved=2")
    with app.state.yomitori.store.tenant("yokohama") as repo:
        [active] = S.active_layouts(repo)
        assert active.id == f"{FORM}/vendor-a" and active.fields == t.fields
        assert repo.session.query(AuditLog).filter_by(action="layout.save").one().actor == "admin1"


def test_page_image_hides_personal_numbers_from_an_administrator(site):
    app, *_ = site
    t = _draft(app)
    png = login(app, "admin1").get(f"{EDITOR}/1/page.png")
    assert png.status_code == 200 and png.headers["cache-control"] == "no-store"
    import cv2

    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    numbers = [f for f in t.fields if f.type == "my_number"]
    assert numbers
    for f in numbers:
        x, y, w, h = (round(v * PX_PER_MM) for v in f.box)
        assert image[y : y + h, x : x + w].max() == 0, f.key  # blacked out: administrators may not see them


# ---------------------------------------------------------------- in a real browser


@pytest.mark.skipif(chromium() is None,
                    reason="Debian's chromium is not installed")
def test_editor_in_a_browser_open_move_a_box_save_and_read_again(site, screenshots):
    from playwright.sync_api import expect, sync_playwright

    app, _, sample, _ = site
    with serve_app(app) as base, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="ja-JP")
        page.goto(f"{base}/login")
        page.fill("input[name=tenant]", "yokohama")
        page.fill("input[name=username]", "admin1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/admin/layouts")
        page.click("a:text-is('vendor-a')")
        page.wait_for_function("document.querySelector('#layout-page img').naturalWidth > 0")
        value = page.locator("tr[data-key=payment_amount] output.fvalue")
        expect(value).to_have_text(str(sample.truth["payment_amount"]), timeout=60_000)  # every box read on opening

        box, onto = (page.locator(f".lbox[data-key={k}]").bounding_box() for k in ("payment_amount", "withholding_tax"))
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + onto["x"] - box["x"], y + onto["y"] - box["y"], steps=8)
        page.mouse.up()
        expect(value).to_have_text(str(sample.truth["withholding_tax"]), timeout=30_000)  # re-read where it now is
        moved = page.locator("tr[data-key=payment_amount] .fbox").inner_text()

        page.fill("#layout-comment", "支払金額の枠を移動")
        page.click("#save-layout")
        expect(page.locator("#saved-message")).to_contain_text("として保存しました", timeout=10_000)
        version = int(re.search(r"saved=(\d+)", page.url).group(1))
        # Read back: the new version has the box where it was dropped, and reads the value there again.
        expect(page.locator("tr[data-key=payment_amount] .fbox")).to_have_text(moved)
        expect(value).to_have_text(str(sample.truth["withholding_tax"]), timeout=60_000)
        page.locator("tr[data-key=payment_amount] td").first.click()  # its row and box highlighted
        page.screenshot(path=str(screenshots / "template-editor.png"))  # docs/ only by `./run.sh screenshots`
        browser.close()
    with app.state.yomitori.store.tenant("yokohama") as repo:
        row = repo.session.query(SavedLayout).filter_by(layout="vendor-a", version=version).one()
        saved = S.parse(row.yaml).field("payment_amount").box
        assert row.active and row.comment == "支払金額の枠を移動" and row.created_by == "admin1"
        assert abs(saved[1] - _draft(app).field("withholding_tax").box[1]) < 1.5  # dropped onto the other row
