"""The 315 record as the 光ディスク等 standard lays it out: written from approved records through
`yomitori batch export --profile 315`, read back item by item against the specification below."""

from __future__ import annotations

import os
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from _bot_data import add_documents, approved_values
from typer.testing import CliRunner

from yomitori.cli import app
from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.auth import hash_password
from yomitori.settings import Settings
from yomitori.store.models import AuditLog, DocumentStatus, Role
from yomitori.store.repo import Store

TENANT = "yokohama"
PASSWORD = "correct horse battery"
runner = CliRunner()

# The 315 record, item by item: number, name, H (半角) or F (全角) and its length. Restated from the
# specification tables (see yomitori/standard/profiles/315.yaml for the edition), not read from the profile.
SPEC_TEXT = """
1 法定資料の種類 H3; 2 整理番号1 H10; 3 本支店等区分番号 H5; 4 提出義務者の住所 F60; 5 提出義務者の氏名 F30;
6 提出義務者の電話番号 H15; 7 整理番号2 H13; 8 提出者の住所 F60; 9 提出者の氏名 F30; 10 訂正表示 H1; 11 年分 H2;
12 住所又は居所 F60; 13 国外住所表示 H1; 14 氏名 F30; 15 役職名 F15; 16 種別 F10; 17 支払金額 H10; 18 未払金額 H10;
19 給与所得控除後の金額 H10; 20 所得控除の額の合計額 H10; 21 源泉徴収税額 H10; 22 未徴収税額 H10;
23 控除対象配偶者の有無等 H1; 24 老人控除対象配偶者 H1; 25 配偶者特別控除の額 H10; 26 特定主 H2; 27 特定従 H2;
28 老人主 H2; 29 老人内 H2; 30 老人従 H2; 31 その他主 H2; 32 その他従 H2; 33 特別障害者 H2; 34 同居 H2;
35 その他の障害者 H2; 36 社会保険料等 H10; 37 小規模企業共済等 H10; 38 生命保険料 H10; 39 地震保険料 H10;
40 住宅借入金等特別控除 H10; 41 旧個人年金保険料 H10; 42 配偶者の合計所得 H10; 43 旧長期損害保険料 H10;
44 生年月日元号 H1; 45 生年月日年 H2; 46 生年月日月 H2; 47 生年月日日 H2; 48 夫あり H1; 49 未成年者 H1;
50 乙欄 H1; 51 本人特別障害者 H1; 52 本人その他障害者 H1; 53 老年者 H1; 54 寡婦 H1; 55 寡夫 H1; 56 勤労学生 H1;
57 死亡退職 H1; 58 災害者 H1; 59 外国人 H1; 60 中途就退職区分 H1; 61 中途年 H2; 62 中途月 H2; 63 中途日 H2;
64 フリガナ H60; 65 個人番号 H12; 66 摘要 F100; 67 16歳未満扶養親族の数 H2; 68 国民年金保険料等 H10;
69 非居住者である親族の数 H2; 70 ひとり親 H1; 71 新生命保険料 H10; 72 旧生命保険料 H10; 73 介護医療保険料 H10;
74 新個人年金保険料 H10; 75 住宅借入金等特別控除適用数 H1; 76 住宅借入金等特別控除可能額 H10; 77 居住開始元号 H1;
78 居住開始年 H2; 79 居住開始月 H2; 80 居住開始日 H2; 81 住宅借入金等特別控除区分 F5; 82 年末残高 H10;
83 基礎控除の額 H10; 84 所得金額調整控除額 H10; 85 配偶者フリガナ H60; 86 配偶者氏名 F30; 87 配偶者区分 H1;
88 配偶者個人番号 H12
"""
SPEC: dict[int, tuple[str, str, int]] = {}
for entry in SPEC_TEXT.replace("\n", " ").split(";"):
    no, name, wl = entry.split()
    SPEC[int(no)] = (name, wl[0], int(wl[1:]))
for block, start in (("控除対象扶養親族", 89), ("16歳未満の扶養親族", 105)):  # four people, four items each
    for k in range(4):
        for j, (what, wl) in enumerate((("フリガナ", "H60"), ("氏名", "F30"), ("区分", "H1"), ("個人番号", "H12"))):
            SPEC[start + 4 * k + j] = (f"{block}{k + 1}{what}", wl[0], int(wl[1:]))
SPEC.update({121: ("支払者番号", "H", 13), 122: ("作成区分", "H", 1), 123: ("提出先市町村コード", "H", 6),
             124: ("指定番号", "H", 15), 125: ("受給者番号", "H", 15)})
ERA = {"明治": "3", "大正": "2", "昭和": "1", "平成": "4", "令和": "5"}
BIRTHS = {"1911-02-03": ("明治", "44"), "1920-05-01": ("大正", "09"), "1960-07-15": ("昭和", "35"),
          "1995-11-30": ("平成", "07"), "2020-01-02": ("令和", "02")}


def is_jis_x0208(ch: str) -> bool:
    """Two bytes in Shift_JIS, and none of CP932's vendor rows (NEC row 13 at 0x87, IBM at 0xED-0xFC)."""
    try:
        b = ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and b[0] != 0x87 and b[0] < 0xED


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for k in [k for k in os.environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    yield {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "YOMITORI_TENANT": TENANT, "COLUMNS": "200"}
    use_runtime(None)


@pytest.fixture
def store(env):
    s = Store(Settings(data_dir=Path(env["YOMITORI_DATA_DIR"])))
    with s.tenant(TENANT, create=True) as repo:
        repo.add_user("tanaka", Role.reviewer, password_hash=hash_password(PASSWORD))
        repo.add_user("sato", Role.operator, password_hash=hash_password(PASSWORD))
    yield s
    s.close()


def _batch(store: Store, values: list[dict], review: int = 1) -> int:
    with store.tenant(TENANT) as repo:
        batch = repo.create_batch("1月分")
        add_documents(repo, batch, values)
        add_documents(repo, batch, approved_values(review, seed=99), status=DocumentStatus.needs_review)
        return batch.id


def _export(env, batch_id: int, out: Path, user: str = "tanaka", password: str = PASSWORD, ok: bool = True):
    result = runner.invoke(app, ["batch", "export", str(batch_id), "--profile", "315", "--out", str(out),
                                 "--option", "municipality_code=141003", "--user", user, "--password-stdin"],
                           env=env, input=password + "\n")
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def jis_clean(n: int, seed: int) -> list[dict]:
    """Generated records whose every letter the standard can write (the generator also writes 髙, 﨑 …)."""
    values = [v for v in approved_values(4 * n, seed=seed) if all(
        is_jis_x0208(ch) for s in v.values() if isinstance(s, str) for ch in s if not ch.isascii())]
    return values[:n]


def test_a_315_file_read_back_item_by_item_against_the_specification(env, store, tmp_path):
    values = jis_clean(len(BIRTHS), seed=7)
    for v, birth in zip(values, BIRTHS, strict=True):
        v["birth_date"] = birth
    values[0].update(tax_year=2024, joined_midyear=True, employment_change_date="2024-04-01", recipient_title="主任",
                     spouse_status="yes_other_payer", dependents_specific=2)
    batch_id = _batch(store, values)
    out = tmp_path / "315.csv"
    result = _export(env, batch_id, out)
    assert f"{len(values)} record(s) written" in " ".join(result.stderr.split())  # not the one under review

    data = out.read_bytes()
    assert data.endswith(b"\r\n") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert len(lines) == len(values)  # no header row: every line is a record
    for v, raw in zip(values, lines, strict=True):
        items = raw.split(b",")
        assert len(items) == len(SPEC) == 125
        for no, item in enumerate(items, start=1):
            name, width, length = SPEC[no]
            text = item.decode("cp932")
            if width == "H":
                assert len(item) == len(text) <= length, (no, name, text)  # one byte a character
            else:
                assert len(item) == 2 * len(text) and len(text) <= length, (no, name, text)
                assert all(is_jis_x0208(ch) for ch in text), (no, name, text)
        cell = {no: items[no - 1].decode("cp932") for no in SPEC}
        assert cell[1] == "315" and cell[10] == "0" and cell[11] == f"{v['tax_year'] - 2018:02d}"  # 令和
        assert cell[122] == "0" and cell[123] == "141003"  # 作成区分 新規, 提出先 横浜市
        era, year = BIRTHS[v["birth_date"]]
        birth = date.fromisoformat(v["birth_date"])
        assert (cell[44], cell[45], cell[46], cell[47]) == (ERA[era], year, f"{birth.month:02d}", f"{birth.day:02d}")
        assert unicodedata.normalize("NFKC", cell[14]) == v["recipient_name"]
        assert "\u3000" in cell[14] and " " not in cell[14]  # 姓 名 with a full-width space
        assert unicodedata.normalize("NFKC", cell[64]) == v["recipient_name_kana"]
        assert all("\uff61" <= ch <= "\uff9f" or ch == " " for ch in cell[64])  # half-width katakana
        assert cell[17] == str(v["payment_amount"]) and cell[21] == str(v["withholding_tax"])
        assert cell[65] == v["recipient_my_number"] and cell[121] == v["payer_number"]
        assert unicodedata.normalize("NFKC", cell[4]) == v["payer_address"]
    first = {no: lines[0].split(b",")[no - 1].decode("cp932") for no in SPEC}
    assert first[15] == "主任" and first[23] == "2" and first[26] == "2"
    assert (first[60], first[61], first[62], first[63]) == ("1", "06", "04", "01")  # 就職, 令和6年4月1日

    with store.tenant(TENANT) as repo:
        entry = next(a for a in repo.audit_log() if a.action == "batch.export")
    assert entry.actor == "tanaka" and entry.detail["profile"] == "315" and entry.detail["records"] == len(values)
    assert not any(v["recipient_my_number"] in str(a.detail) for a in repo_log(store))


def repo_log(store: Store) -> list[AuditLog]:
    with store.tenant(TENANT) as repo:
        return repo.audit_log(1000)


def test_a_letter_outside_jis_x0208_refuses_its_record_naming_the_field(env, store, tmp_path):
    values = jis_clean(3, seed=8)
    values[1]["recipient_name"] = "髙橋 一郎"  # 髙 is an IBM extension in CP932, not JIS X 0208
    batch_id = _batch(store, values, review=0)
    out = tmp_path / "315.csv"
    result = _export(env, batch_id, out, ok=False)
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "not written" in said and "item 14" in said and "(recipient_name)" in said and "U+9AD9" in said
    assert "2 record(s) written" in said and "1 refused" in said
    data = out.read_bytes()
    assert data.count(b"\r\n") == 2 and "髙".encode("cp932") not in data and b"?" not in data


def test_only_a_role_that_may_see_my_numbers_exports_and_only_with_its_password(env, store, tmp_path):
    batch_id = _batch(store, jis_clean(1, seed=9), review=0)
    out = tmp_path / "315.csv"
    result = _export(env, batch_id, out, user="sato", ok=False)
    assert result.exit_code != 0 and "may not see 個人番号" in str(result.exception)  # main() prints it
    result = _export(env, batch_id, out, password="wrong password!", ok=False)
    assert result.exit_code != 0 and not out.exists()
    actions = [a.action for a in repo_log(store)]
    assert "batch.export_refused" in actions and "batch.export" not in actions
