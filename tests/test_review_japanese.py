"""Japanese throughout the UI (issue 20, item 17): form names instead of ids, audit actions in words, JST, the batch
page refreshing itself while its batch runs, 和暦 dates and ✓ in the review list, crops centred with a margin."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from _review_data import PASSWORD, READ, TRUTH, add_batch, add_users
from fastapi.testclient import TestClient
from PIL import Image

from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.review_ui.app import create_app
from yomitori.review_ui.auth import LOGIN_CSRF_COOKIE
from yomitori.review_ui.crops import MARGIN_MM, MIN_HEIGHT_PX, crop_window, field_crop
from yomitori.review_ui.japanese import action_name, form_name, jst, shown_value
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import Batch, Document

MEISAI = "kyuyo_shiharai_hokokusho"


def test_names_times_and_values_in_japanese():
    assert form_name("kyuyo_soukatsuhyo", "national") == "給与支払報告書（総括表）・全国統一様式"
    assert form_name("idou_todokede", "municipal_b") == "特別徴収に係る給与所得者異動届出書・市区町村様式B"
    assert form_name("unknown") == "帳票ではない・不明"
    assert action_name("field.correct") == "項目を修正" and action_name("auth.login_failed") == "ログイン失敗"
    assert action_name("bot.something_new") == "入力ボット：something_new"  # never a bare code for a known object
    assert jst(datetime(2026, 1, 5, 15, 30, tzinfo=UTC)) == "2026-01-06 00:30"
    assert jst(datetime(2026, 1, 5, 15, 30)) == "2026-01-06 00:30"  # stored naive: UTC
    assert shown_value(MEISAI, "birth_date", "1980-04-01") == "昭和55年4月1日"
    assert shown_value(MEISAI, "minor", True) == "✓" and shown_value(MEISAI, "minor", False) == ""
    assert shown_value(MEISAI, "recipient_my_number", "123456789018").endswith("9018")  # still masked
    assert "1234" not in shown_value(MEISAI, "recipient_my_number", "123456789018")


def test_a_crop_is_centred_on_its_field_with_a_margin_and_large_enough_to_read():
    page_mm = (210.0, 297.0)
    box = (100.0, 150.0, 8.0, 6.0)  # one small box
    x, y, w, h = crop_window(box, page_mm)
    assert (x + w / 2, y + h / 2) == pytest.approx((104.0, 153.0))  # centred
    assert w >= 60 and h >= 16 and x < box[0] - MARGIN_MM and y < box[1] - MARGIN_MM
    wide = (20.0, 40.0, 120.0, 10.0)
    x, y, w, h = crop_window(wide, page_mm)
    assert w == pytest.approx(120 + 2 * MARGIN_MM) and x == pytest.approx(20 - MARGIN_MM)
    corner = (1.0, 1.0, 10.0, 5.0)  # at the page's edge: shifted onto the page, the field still inside
    x, y, w, h = crop_window(corner, page_mm)
    assert x == 0 and y == 0 and w >= 60 and x + w >= 11 and y + h >= 6

    page = np.full((int(297 * PX_PER_MM), int(210 * PX_PER_MM)), 255, np.uint8)
    page[int(151 * PX_PER_MM):int(155 * PX_PER_MM), int(101 * PX_PER_MM):int(107 * PX_PER_MM)] = 30  # the ink
    hidden = (125.0, 150.0, 10.0, 6.0)  # a 個人番号 box beside it
    page[int(151 * PX_PER_MM):int(155 * PX_PER_MM), int(126 * PX_PER_MM):int(134 * PX_PER_MM)] = 100
    crop = np.asarray(Image.open(io.BytesIO(field_crop(page, box, [hidden]))))
    assert crop.shape[0] >= MIN_HEIGHT_PX
    ink = np.nonzero(crop == 30)[1]
    assert ink.size and (crop == 0).any()
    assert abs((ink.min() + ink.max()) / 2 - crop.shape[1] / 2) < crop.shape[1] * 0.2  # the field in the middle
    assert not (crop == 100).any()  # the neighbour's 個人番号 blacked out


@pytest.fixture
def site(tmp_path):
    app = create_app(UISettings(data_dir=tmp_path / "ui", embedded_processes=1))
    with app.state.yomitori.store.tenant("yokohama", create=True) as repo:
        add_users(repo)
        batch, docs = add_batch(repo, 1, read={**READ, "minor": True}, truth={**TRUTH, "minor": True},
                                flagged={"recipient_name"})
        ids = {"batch": batch.id, "doc": docs[0].id,
               "fields": {f.key: f.id for f in docs[0].fields}}
    yield app, ids
    app.state.yomitori.runner.stop()
    app.state.yomitori.store.close()


def _login(app, user: str) -> TestClient:
    c = TestClient(app)
    c.get("/login")
    r = c.post("/login", data={"username": user, "password": PASSWORD,
                               "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
    assert r.status_code == 303
    return c


def test_pages_show_form_names_actions_in_words_jst_and_wareki(site):
    app, ids = site
    operator = _login(app, "operator1")
    page = operator.get(f"/batches/{ids['batch']}").text
    assert "給与支払報告書（個人別明細書）・全国統一様式" in page and "kyuyo_shiharai_hokokusho" not in page
    assert 'http-equiv="refresh"' not in page  # done: nothing to wait for
    with app.state.yomitori.store.tenant("yokohama") as repo:
        batch = repo.get(Batch, ids["batch"])
        batch.status = "running"
        created = batch.created_at
    assert 'http-equiv="refresh"' in operator.get(f"/batches/{ids['batch']}").text  # follows the batch by itself
    batches = operator.get("/batches").text
    assert jst(created) in batches  # JST, not the server's UTC

    reviewer = _login(app, "reviewer1")
    doc = reviewer.get(f"/review/documents/{ids['doc']}").text
    others = re.search(r'<details class="others">.*?</details>', doc, re.S).group(0)
    assert "昭和55年4月1日" in others and "1980-04-01" not in others  # 和暦
    assert re.search(r"未成年者</th><td>\s*<span[^>]*>✓</span>", others)  # a ticked checkbox
    assert "全国統一様式" in doc and "（national）" not in doc

    auditor = _login(app, "auditor1")
    audit = auditor.get("/audit").text
    assert "ログイン" in audit and "<td>auth.login<" not in audit


def test_a_crop_is_cut_on_demand_and_hides_a_neighbouring_my_number(site):
    app, ids = site
    with app.state.yomitori.store.tenant("yokohama") as repo:
        doc = repo.get(Document, ids["doc"])
        for f in doc.fields:
            f.crop_sha256 = None  # as the batch now stores them: cut when asked for
    reviewer = _login(app, "reviewer1")
    r = reviewer.get(f"/images/fields/{ids['fields']['recipient_name']}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    crop = Image.open(io.BytesIO(r.content))
    assert crop.height >= MIN_HEIGHT_PX and crop.width >= 60 * PX_PER_MM * 0.99
