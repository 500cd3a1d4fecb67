"""The demo tax system (examples/target_tax_system) behaves like the real ones the bots are built against."""

from __future__ import annotations

import http.cookiejar
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from yomitori.bots.demo_target import PASSWORD, USER, DemoTarget

CORP = "6010401000006"  # a valid 法人番号 (check digit 6)
PERSON = "123456789018"


class Browser:
    """A cookie-keeping HTTP client: what a clerk's browser does, without the rendering."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=10) as r:
            return r.geturl().removeprefix(self.base), r.read().decode()

    def post(self, path: str, **form: str) -> tuple[str, str]:
        data = urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as r:
                return r.geturl().removeprefix(self.base), r.read().decode()
        except urllib.error.HTTPError as e:  # 422 with the page and its messages
            return path, e.read().decode()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[DemoTarget]:
    with DemoTarget(tmp_path / "target.db", session_lifetime=4, reject_amount_suffix="13") as t:
        yield t


def _login(t: DemoTarget) -> Browser:
    b = Browser(t.url)
    url, page = b.post("/login", user=USER, password=PASSWORD)
    assert url == "/menu" and "業務メニュー" in page
    return b


def _employer(b: Browser) -> str:
    url, page = b.post("/employers/search", houjin_no=CORP)
    assert "該当する特別徴収義務者はありません" in page
    url, page = b.post("/employers/new", houjin_no=CORP, name="株式会社テスト", address="東京都千代田区1-1", phone="")
    assert url.startswith("/employers/") and "特別徴収義務者を登録しました" in page
    return url.split("?")[0]


SCREEN1 = dict(nenbun_era="5", nenbun_year="6", mn1="1234", mn2="5678", mn3="9018", name="山田 太郎",
               kana="ﾔﾏﾀﾞ ﾀﾛｳ", address="東京都千代田区霞が関2-1-2", birth_era="3", birth_y="60", birth_m="04",
               birth_d="07")


def _key(b: Browser, employer: str, amount: str) -> tuple[str, str]:
    b.get(employer + "/entry")
    url, page = b.post("/entry/1", **SCREEN1)
    assert url == "/entry/2", page
    url, page = b.post("/entry/2", shubetsu="給料・賞与", shiharai=amount, kyuyo_shotoku="3000000")
    assert url == "/entry/3", page
    return b.post("/entry/3")


def test_login_required_and_wrong_password(target: DemoTarget) -> None:
    b = Browser(target.url)
    assert b.get("/menu")[0] == "/login"
    _, page = b.post("/login", user=USER, password="wrong")
    assert "利用者IDまたはパスワードが違います" in page


def test_entry_validation_save_search_and_duplicates_allowed(target: DemoTarget) -> None:
    b = _login(target)
    employer = _employer(b)
    b.get(employer + "/entry")
    _, page = b.post("/entry/1", **{**SCREEN1, "kana": "ヤマダ タロウ", "birth_m": "4"})
    assert "フリガナは半角カナで入力してください" in page and "半角数字2桁" in page
    url, page = b.post("/entry/1", **SCREEN1)
    _, page = b.post("/entry/2", shiharai="4,560,000")
    assert "カンマを付けずに" in page
    url, page = _key(b, employer, "4560000")
    assert url.startswith("/records/") and "登録しました" in page and "4,560,000円" in page and "昭和60年4月7日" in page
    _, page = b.post(employer, nenbun_era="5", nenbun_year="6", my_number=PERSON)
    assert page.count('data-testid="hit-row"') == 1
    _key(b, employer, "4560000")  # nothing stops a second keying: exactly-once is the bot's job
    _, page = b.post(employer, nenbun_era="5", nenbun_year="6", my_number=PERSON)
    assert page.count('data-testid="hit-row"') == 2
    assert len(target.export()["records"]) == 2


def test_business_rule_fault_injection(target: DemoTarget) -> None:
    b = _login(target)
    url, page = _key(b, _employer(b), "4560013")
    assert url == "/entry/3" and "E2013" in page and 'data-testid="errors"' in page
    assert target.export()["records"] == []


def test_session_timeout_loses_the_draft(target: DemoTarget) -> None:
    b = _login(target)
    employer = _employer(b)
    b.get(employer + "/entry")
    b.post("/entry/1", **SCREEN1)
    time.sleep(4.5)
    url, page = b.post("/entry/2", shiharai="4560000")
    assert url.startswith("/login") and "セッションの有効期限が切れました" in page
    _login(target)
    assert target.export()["records"] == []
