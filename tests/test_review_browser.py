"""The review UI in a real browser (Debian's chromium through Playwright): keyboard-only review, field-wise mode,
double entry, roles and tenants; takes the README's screenshots from the running app."""

from __future__ import annotations

import re

import pytest
from _review_data import PASSWORD, TRUTH, add_batch, add_users
from _servers import chromium, launch_chromium, serve_app

from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import Document, DocumentStatus, FieldStatus

pytestmark = pytest.mark.skipif(chromium() is None,
                                reason="Debian's chromium is not installed")
KEYSTROKE_BUDGET = 20  # beyond typing the corrected characters, for a 給与支払報告書 with five flagged fields


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = UISettings(data_dir=tmp_path_factory.mktemp("ui"))
    app = create_app(settings)
    store = app.state.yomitori.store
    ids: dict[str, list[int]] = {}
    with store.tenant("yokohama", create=True) as repo:
        add_users(repo)
        _, ids["keyboard"] = [], [d.id for d in add_batch(repo, 2, name="1月分 第1便")[1]]
        ids["fieldwise"] = [d.id for d in add_batch(repo, 10, name="1月分 第2便")[1]]
        ids["double"] = [d.id for d in add_batch(repo, 1, name="1月分 第3便")[1]]
        add_batch(repo, 4, name="12月分 追加", read=TRUTH, flagged=set())  # read right: straight through
    with store.tenant("kawasaki", create=True) as repo:
        add_users(repo)
        ids["other_tenant"] = [d.id for d in add_batch(repo, 1, name="川崎 1月分")[1]]
    with serve_app(app) as url:
        yield url, store, ids
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


class Keys:
    """The keyboard, counting every key pressed apart from the characters of the values typed."""

    def __init__(self, page) -> None:
        self.page, self.pressed, self.typed = page, [], 0

    def press(self, key: str) -> None:
        self.pressed.extend(key.split("+"))  # a chord (Shift+Enter) is as many keys as it holds
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.typed += len(text)
        self.page.keyboard.insert_text(text) if not text.isascii() else self.page.keyboard.type(text)


def login(browser, base: str, user: str, tenant: str = "yokohama"):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP",
                            bypass_csp=True)  # the test's own wait_for_function scripts, not the app's
    page.goto(f"{base}/login")
    page.fill("input[name=tenant]", tenant)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _row(page, key_label: str):
    return page.locator(".field-row", has=page.locator(".flabel", has_text=key_label))


def test_review_a_document_with_five_flagged_fields_by_keyboard_only(server, browser, screenshots):
    base, store, ids = server
    page = login(browser, base, "reviewer1")
    assert page.url.endswith("/review")
    keys = Keys(page)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'start'")
    keys.press("Enter")  # 次の書類を審査 has the focus
    page.wait_for_url(f"**/review/documents/{ids['keyboard'][0]}")
    assert page.locator(".field-row").count() == 5
    assert page.locator("svg rect.flagged").count() == 5 and page.locator("img.crop").count() == 5
    my_number = _row(page, "（個人番号）")
    assert "チェックディジット" in my_number.locator(".msg").inner_text()  # the validator's message
    for i in range(5):  # every flag says why, in Japanese, and how sure the reading was
        why = page.locator(".field-row").nth(i).locator(".why").inner_text()
        assert "確からしさ" in why and re.search(r"[ぁ-んァ-ン一-龥]", why.replace("確からしさ", "")), why
    name = _row(page, "氏名").first
    assert "2つの読み取りエンジン" in name.locator(".why").inner_text()
    assert "高橋 一郎" in name.locator(".alts").inner_text()  # the other reading, Alt+1
    page.screenshot(path=str(screenshots / "document-review.png"))

    # In the document's order: 氏名 misread, フリガナ right, 個人番号 misread (check digit), 支払金額 misread,
    # 生年月日 right. The first flagged field has the focus, its reading selected: typing replaces it.
    order = [page.locator(".field-row").nth(i).locator(".flabel").inner_text() for i in range(5)]
    assert order == ["氏名", "氏名（フリガナ）", "（個人番号）", "支払金額", "受給者生年月日（元号・年・月・日）"]
    expect_focus(page, "氏名")
    keys.type(TRUTH["recipient_name"])
    keys.press("Enter")
    expect_focus(page, "氏名（フリガナ）")
    kana = _row(page, "氏名（フリガナ）")
    keys.press("Enter")  # the reading unchanged: plain Enter does not accept it, it says how
    kana.locator(".msg", has_text="Shift+Enter").wait_for()
    expect_focus(page, "氏名（フリガナ）")
    with store.tenant("yokohama") as repo:
        assert next(f for f in repo.get(Document, ids["keyboard"][0]).fields
                    if f.key == "recipient_name_kana").status == FieldStatus.needs_review
    keys.press("Shift+Enter")  # accepted as read, on purpose
    expect_focus(page, "（個人番号）")
    keys.type(TRUTH["recipient_my_number"])  # typed blind; differs from the reading → asked again
    keys.press("Enter")
    page.wait_for_function("document.querySelector('.field-row.current .state').textContent.includes('2回目')")
    keys.type(TRUTH["recipient_my_number"])
    keys.press("Enter")
    expect_focus(page, "支払金額")
    assert my_number.locator(".msg").inner_text() == ""  # validators re-ran: the check digit is right now
    keys.type("4650000")
    keys.press("Enter")
    page.wait_for_function("document.querySelector('.field-row.current .state').textContent.includes('2回目')")
    keys.type("4650000")
    keys.press("Enter")
    expect_focus(page, "受給者生年月日（元号・年・月・日）")
    keys.press("Shift+Enter")  # accepted as read
    page.wait_for_function("document.activeElement && document.activeElement.id === 'approve-btn'")
    keys.press("Enter")  # approve: the next document opens
    page.wait_for_url(f"**/review/documents/{ids['keyboard'][1]}")

    extra = len(keys.pressed)
    print(f"\nkeystrokes beyond the corrected characters: {extra} ({' '.join(keys.pressed)}); typed {keys.typed}")
    assert extra <= KEYSTROKE_BUDGET
    # 7 Enter (2 of them approve, 1 refused on an unchanged reading) and 2 Shift+Enter: keeping a flagged reading
    # costs a chord, confirming a typed value one Enter.
    assert extra == 12 and keys.pressed.count("Shift") == 2
    with store.tenant("yokohama") as repo:
        doc = repo.get(Document, ids["keyboard"][0])
        assert doc.status == DocumentStatus.approved
        assert {f.key: f.value for f in doc.fields} == TRUTH
        assert {f.key: f.status for f in doc.fields if f.status != FieldStatus.auto} == {
            "recipient_name_kana": FieldStatus.approved, "recipient_my_number": FieldStatus.corrected,
            "recipient_name": FieldStatus.corrected, "payment_amount": FieldStatus.corrected,
            "birth_date": FieldStatus.approved}
    page.close()


def expect_focus(page, label: str) -> None:
    page.wait_for_function(
        "label => { const r = document.activeElement && document.activeElement.closest('.field-row');"
        " return r && r.querySelector('.flabel').textContent === label; }", arg=label)


def test_field_wise_correction_of_ten_documents(server, browser, screenshots):
    base, store, ids = server
    page = login(browser, base, "reviewer2")
    page.goto(f"{base}/review/fieldwise")
    page.click("text=支払金額")
    page.wait_for_url("**/review/fieldwise/*/*")
    rows = page.locator(".field-row")
    assert rows.count() >= 10
    assert page.locator("img.crop").count() == rows.count()
    page.screenshot(path=str(screenshots / "field-wise.png"))
    keys = Keys(page)
    wanted = set(ids["fieldwise"])
    for i in range(rows.count()):
        row = rows.nth(i)
        doc_id = int(row.get_attribute("data-url").split("/")[3])
        # The page moves the focus after saving the row before; a person waits for it too.
        page.wait_for_function(
            f"document.activeElement && document.activeElement.closest('.field-row') === "
            f"document.querySelectorAll('.field-row')[{i}]")
        if doc_id not in wanted:
            keys.press("Tab")  # another batch's document: leave it
            continue
        keys.type("4650000")  # the reading was 4,560,000: typed twice (double entry)
        keys.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('.field-row')[{i}].dataset.first !== undefined")
        keys.type("4650000")
        keys.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('.field-row')[{i}].classList.contains('done')")
    with store.tenant("yokohama") as repo:
        for doc_id in ids["fieldwise"]:
            amount = next(f for f in repo.get(Document, doc_id).fields if f.key == "payment_amount")
            assert (amount.value, amount.status) == (4650000, FieldStatus.corrected)
    page.close()


def test_double_entry_with_a_mismatch(server, browser):
    base, store, ids = server
    page = login(browser, base, "reviewer2")
    doc_id = ids["double"][0]
    page.goto(f"{base}/review/documents/{doc_id}")
    row = _row(page, "支払金額")
    field = row.locator("input")
    assert field.input_value() == "" and "4,560,000" not in page.content()  # blind: the reading is not shown
    field.focus()
    page.keyboard.type("4650000")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.field-row.current .state').textContent.includes('2回目')")
    assert "もう一度入力" in row.locator(".msg").inner_text() and field.input_value() == ""
    page.keyboard.type("4605000")  # a slip on the second entry
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.field-row.current .state').textContent.includes('1回目')")
    assert "一致しません" in row.locator(".msg").inner_text()
    with store.tenant("yokohama") as repo:
        amount = next(f for f in repo.get(Document, doc_id).fields if f.key == "payment_amount")
        assert (amount.value, amount.status) == (4560000, FieldStatus.needs_review)  # nothing saved yet
    page.keyboard.type("4650000")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.field-row.current .state').textContent.includes('2回目')")
    page.keyboard.type("4650000")
    page.keyboard.press("Enter")
    row.locator(".state", has_text="修正済").wait_for()
    with store.tenant("yokohama") as repo:
        amount = next(f for f in repo.get(Document, doc_id).fields if f.key == "payment_amount")
        assert (amount.value, amount.status) == (4650000, FieldStatus.corrected)
    page.close()


def test_operator_is_denied_reviewer_pages_and_sees_the_batch_list(server, browser, screenshots):
    base, _, ids = server
    page = login(browser, base, "operator1")
    assert page.url.endswith("/batches")
    assert page.locator("table.list tbody tr").count() == 4
    assert "100%" in page.locator("table.list tbody tr", has_text="12月分 追加").inner_text()
    page.screenshot(path=str(screenshots / "batch-list.png"))
    for path in ("/review", f"/review/documents/{ids['keyboard'][1]}", "/review/fieldwise"):
        response = page.goto(f"{base}{path}")
        assert response.status == 403 and "権限がありません" in page.content()
    assert page.locator("nav a", has_text="審査待ち").count() == 0
    page.close()


def test_a_reviewer_of_one_tenant_cannot_open_another_tenants_document(server, browser):
    base, _, ids = server
    page = login(browser, base, "reviewer1", tenant="yokohama")
    response = page.goto(f"{base}/review/documents/{ids['other_tenant'][0]}")
    assert response.status == 404 and "見つかりません" in page.content()
    image = page.goto(f"{base}/images/documents/{ids['other_tenant'][0]}.png")
    assert image.status == 404
    page.close()
