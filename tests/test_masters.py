"""The municipality's masters: import (re-import updates, never duplicates; 個人番号 only as a keyed HMAC), matching
with variant letters folded, the gate on the master's evidence, and the checks (送付先誤り, roll, 指定番号)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yomitori.cli import app
from yomitori.masters.gate import MISDIRECTED, NOT_ON_ROLL, UNKNOWN_DESIGNATED, apply_master
from yomitori.masters.keys import my_number_hmac
from yomitori.masters.matching import MasterIndex, compare, fold
from yomitori.masters.records import Employer, Resident, RollEntry
from yomitori.masters.store import load_index
from yomitori.ocr.fields import FieldResult
from yomitori.settings import Settings
from yomitori.store.models import Field, MasterResident
from yomitori.store.repo import Store

MY_NUMBER = "123456789018"  # a valid check digit, no real person
OTHER_NUMBER = "987654321098"
RESIDENTS_CSV = (
    "宛名番号,氏名,カナ氏名,生年月日,住所,個人番号,住定日,転出日,支援措置\n"
    f"A001,髙橋　一郎,タカハシ イチロウ,昭和55年4月1日,東京都千代田区霞が関2丁目1番2号,{MY_NUMBER},,,\n"
    "A002,山﨑 花子,ヤマザキ ハナコ,1990/12/3,東京都港区芝公園4丁目2番8号,,,2024-06-30,\n"
    "A003,渡邊 健,ワタナベ ケン,1975-01-20,東京都新宿区西新宿2丁目8番1号,,,,1\n"
)


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YOMITORI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("YOMITORI_MASTER_KEY", raising=False)
    monkeypatch.setattr("yomitori.jobs.runtime._current", None)  # the pipeline's key: this test's data folder
    return Settings()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_import_updates_on_reimport_and_keeps_no_personal_number_in_clear(tmp_path, monkeypatch, caplog):
    settings = _env(tmp_path, monkeypatch)
    csv_file = tmp_path / "residents.csv"
    csv_file.write_text(RESIDENTS_CSV, encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    out = _run("masters", "import", "residents", str(csv_file), "--tenant", "demo")
    assert "3 added" in out
    csv_file.write_text(RESIDENTS_CSV.replace("芝公園4丁目2番8号", "芝公園4丁目2番9号"), encoding="utf-8")
    out = _run("masters", "import", "residents", str(csv_file), "--tenant", "demo")
    assert "0 added, 1 updated, 2 unchanged" in out
    store = Store(settings)
    with store.tenant("demo") as repo:
        rows = repo.session.query(MasterResident).order_by(MasterResident.resident_id).all()
        assert [r.resident_id for r in rows] == ["A001", "A002", "A003"]  # never a duplicate
        assert rows[0].name == "髙橋 一郎" and rows[0].birth_date == "1980-04-01"
        assert rows[1].address.endswith("4丁目2番9号") and rows[1].moved_out == "2024-06-30"
        assert rows[2].support_measure and not rows[0].support_measure
        key = (settings.data_dir / "master-key").read_bytes()
        assert rows[0].my_number_hmac == my_number_hmac(key, "demo", MY_NUMBER)
    store.close()
    key_file = settings.data_dir / "master-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Nowhere on disk in the data folder (database, WAL, blobs, key), in no log line, nor in what the CLI printed.
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert MY_NUMBER.encode() not in data and MY_NUMBER.encode("utf-16-le") not in data, path
    assert MY_NUMBER not in caplog.text and MY_NUMBER not in out
    assert not any(p.suffix == ".csv" for p in settings.data_dir.rglob("*"))  # the import CSV is not kept


def test_a_bad_line_is_refused_by_number_and_the_rest_imported(tmp_path, monkeypatch):
    _env(tmp_path, monkeypatch)
    bad = RESIDENTS_CSV + "A004,鈴木 一,スズキ ハジメ,1980-01-01,東京都,123456789012,,,\n"  # wrong check digit
    (tmp_path / "r.csv").write_text(bad, encoding="utf-8")
    out = _run("masters", "import", "residents", str(tmp_path / "r.csv"), "--tenant", "demo")
    assert "3 added" in out and "line 5" in out and "123456789012" not in out


def test_a_custom_mapping_and_cp932(tmp_path, monkeypatch):
    settings = _env(tmp_path, monkeypatch)
    (tmp_path / "m.yaml").write_text("kind: employers\nencoding: cp932\ncolumns:\n  designated_number: 特徴指定番号\n"
                                     "  name: 事業所名\n  corporate_number: 法人番号\n", encoding="utf-8")
    (tmp_path / "e.csv").write_bytes("特徴指定番号,事業所名,法人番号\n00012345,株式会社ヨミトリ,7000012050002\n"
                                     .encode("cp932"))
    out = _run("masters", "import", "employers", str(tmp_path / "e.csv"), "--mapping", str(tmp_path / "m.yaml"),
               "--tenant", "demo")
    assert "1 added" in out
    store = Store(settings)
    with store.tenant("demo") as repo:
        index = load_index(repo)
    store.close()
    assert index.by_designated["00012345"].name == "株式会社ヨミトリ"
    missing = CliRunner().invoke(app, ["masters", "import", "employers", str(tmp_path / "e.csv"), "--tenant", "demo"])
    assert missing.exit_code == 2 and "cp932" in missing.output  # the bundled mapping reads UTF-8: told how to fix


def test_masters_are_per_tenant(tmp_path, monkeypatch):
    settings = _env(tmp_path, monkeypatch)
    (tmp_path / "r.csv").write_text(RESIDENTS_CSV, encoding="utf-8")
    _run("masters", "import", "residents", str(tmp_path / "r.csv"), "--tenant", "a")
    store = Store(settings)
    with store.tenant("b", create=True) as repo:
        assert not load_index(repo)
    store.close()


def test_fold_and_compare():
    assert fold("髙橋 一郎") == fold("高橋一郎") and fold("山﨑") == fold("山崎") and fold("渡邊") == fold("渡辺")
    assert compare("name", "高橋 一郎", "髙橋 一郎") == "folded"
    assert compare("name", "髙橋　一郎", "髙橋 一郎") == "equal"
    assert compare("name", "高槁 一郎", "髙橋 一郎") == "differs"
    assert compare("birth_date", None, "1980-04-01") == "absent"


def _index() -> MasterIndex:
    h = lambda n: my_number_hmac(b"k", "t", n)  # noqa: E731
    return MasterIndex(
        [Resident("A001", "髙橋 一郎", "タカハシ イチロウ", "1980-04-01", "東京都千代田区霞が関2丁目1番2号",
                  h(MY_NUMBER)),
         Resident("A002", "高橋 一郎", "タカハシ イチロウ", "1985-02-02", "大阪府大阪市北区梅田1丁目1番1号"),
         Resident("A003", "渡邊 健", "ワタナベ ケン", "1975-01-20", "東京都新宿区西新宿2丁目8番1号",
                  support_measure=True),
         Resident("A004", "鈴木 一", "スズキ ハジメ", "1970-01-01", "東京都", moved_in="2025-03-01")],
        [Employer("00012345", "7000012050002", "株式会社ヨミトリ", "東京都千代田区丸の内1丁目1番1号", "03-1234-5678")],
        [RollEntry("00012345", "A001")])


def _f(key: str, value: object, review: bool = True) -> FieldResult:
    return FieldResult(key, value, 0.9, review, read=True, raw_confidence=0.9)


def _meisai(**values: object) -> dict[str, FieldResult]:
    base = {"tax_year": 2024, "recipient_name": "高橋 一郎", "recipient_name_kana": "タカハシ イチロウ",
            "birth_date": "1980-04-01", "recipient_address": "東京都千代田区霞が関2丁目1番2号",
            "recipient_my_number": MY_NUMBER, "payer_number": "7000012050002", "payer_name": "株式会社ヨミトリ",
            "payer_address": "東京都千代田区丸の内1丁目1番1号", "payer_phone": "03-1234-5678"}
    return {k: _f(k, v) for k, v in {**base, **values}.items()}


HMAC = lambda n: my_number_hmac(b"k", "t", n)  # noqa: E731


def test_a_variant_name_comes_back_in_the_masters_characters_and_passes():
    fields = _meisai()
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC)
    assert out.person is not None and out.person.resident.resident_id == "A001" and out.person.by == "my_number"
    assert fields["recipient_name"].value == "髙橋 一郎" and not fields["recipient_name"].review
    assert fields["recipient_name"].second == "高橋 一郎"  # what was read stays offered
    assert not any(fields[k].review for k in ("recipient_address", "birth_date", "recipient_my_number",
                                              "payer_name", "payer_address"))
    assert out.person.evidence["name"] == "folded" and not out.misdirected and not out.findings


def test_without_personal_number_the_attributes_decide_and_a_difference_is_the_masters_candidate():
    fields = _meisai(recipient_my_number=None, recipient_address="東京都千代田区霞が関2丁目1番3号")
    fields["recipient_address"].review = False  # the gate let a misread through
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC)
    assert out.person is not None and out.person.resident.resident_id == "A001" and out.person.by == "attributes"
    assert fields["recipient_address"].review
    assert out.candidates["recipient_address"] == "東京都千代田区霞が関2丁目1番2号"
    assert fields["recipient_name"].value == "髙橋 一郎"


def test_a_field_a_validator_names_stays_for_a_person_in_the_masters_characters():
    fields = _meisai()
    finding = {"fields": ["recipient_name"], "rule": "x", "message": "", "severity": "error"}
    apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC, findings=[finding])
    assert fields["recipient_name"].review and fields["recipient_name"].value == "髙橋 一郎"
    assert fields["recipient_name"].second == "高橋 一郎"


def test_a_name_a_letter_off_a_strong_match_comes_back_in_the_masters_characters():
    # One letter misread (朗 for 郎) in the name of the person カナ, 生年月日 and 住所 all point to.
    unsure = _meisai(recipient_my_number=None, recipient_name="高橋 一朗")
    unsure["recipient_name"].raw_confidence = 0.5  # the recognizer doubted a letter: the misread it explains
    out = apply_master("kyuyo_shiharai_hokokusho", unsure, _index(), hmac_of=HMAC)
    assert unsure["recipient_name"].value == "髙橋 一郎" and not unsure["recipient_name"].review
    assert unsure["recipient_name"].second == "高橋 一朗" and out.person.evidence["name"] == "near"
    # Read surely: the document may really say so, a person decides, the value already the master's, offered too.
    sure = _meisai(recipient_my_number=None, recipient_name="高橋 一朗")
    out = apply_master("kyuyo_shiharai_hokokusho", sure, _index(), hmac_of=HMAC)
    assert sure["recipient_name"].value == "髙橋 一郎" and sure["recipient_name"].review
    assert out.candidates["recipient_name"] == "髙橋 一郎" and "recipient_name" not in out.passed
    # The 個人番号 alone is strong evidence too, even where the address was misread.
    by_number = _meisai(recipient_name="高橋 一朗", recipient_address="東京都千代田区霞が関2丁目1番3号")
    by_number["recipient_name"].agreement = False  # the second reader disagreed
    apply_master("kyuyo_shiharai_hokokusho", by_number, _index(), hmac_of=HMAC)
    assert by_number["recipient_name"].value == "髙橋 一郎" and not by_number["recipient_name"].review
    # Only a letter of it read (a fax lost the rest): the 個人番号's person's name, for a person to confirm.
    fragment = _meisai(recipient_name="郎")
    fragment["recipient_name"].raw_confidence = 0.5
    out = apply_master("kyuyo_shiharai_hokokusho", fragment, _index(), hmac_of=HMAC)
    assert fragment["recipient_name"].value == "髙橋 一郎" and fragment["recipient_name"].review
    assert out.person.evidence["name"] == "partial" and out.candidates["recipient_name"] == "髙橋 一郎"


def test_a_name_a_letter_off_a_weak_match_or_two_letters_off_stays_as_read():
    weak = _meisai(recipient_my_number=None, recipient_name="高橋 一朗",
                   recipient_address="東京都千代田区霞が関2丁目1番3号")  # the address does not agree
    weak["recipient_name"].raw_confidence = 0.5
    out = apply_master("kyuyo_shiharai_hokokusho", weak, _index(), hmac_of=HMAC)
    assert out.person is not None and weak["recipient_name"].value == "高橋 一朗" and weak["recipient_name"].review
    assert out.candidates["recipient_name"] == "髙橋 一郎"  # offered, not decided
    far = _meisai(recipient_name="高田 一朗")
    far["recipient_name"].raw_confidence = 0.5
    apply_master("kyuyo_shiharai_hokokusho", far, _index(), hmac_of=HMAC)
    assert far["recipient_name"].value == "高田 一朗" and far["recipient_name"].review


def test_too_little_evidence_passes_nothing():
    fields = _meisai(recipient_my_number=None, birth_date=None, recipient_address=None)
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC)
    assert out.person is None  # name and kana fit two people equally: no match
    assert fields["recipient_name"].review and out.misdirected


def test_misdirected_support_measure_roll_and_unknown_designated_number():
    absent = _meisai(recipient_my_number=None, recipient_name="佐藤 次郎", recipient_name_kana="サトウ ジロウ",
                     birth_date="1999-09-09", recipient_address="神奈川県横浜市中区1丁目")
    out = apply_master("kyuyo_shiharai_hokokusho", absent, _index(), hmac_of=HMAC)
    assert out.misdirected and [f.rule for f in out.findings] == [MISDIRECTED]
    moved_in_later = _meisai(recipient_my_number=None, recipient_name="鈴木 一", recipient_name_kana="スズキ ハジメ",
                             birth_date="1970-01-01", recipient_address="東京都")
    assert apply_master("kyuyo_shiharai_hokokusho", moved_in_later, _index(), hmac_of=HMAC).misdirected
    dv = _meisai(recipient_my_number=None, recipient_name="渡邊 健", recipient_name_kana="ワタナベ ケン",
                 birth_date="1975-01-20", recipient_address="東京都新宿区西新宿2丁目8番1号")
    assert apply_master("kyuyo_shiharai_hokokusho", dv, _index(), hmac_of=HMAC).support_measure
    idou_values = {"payer_designated_number": "00012345", "employee_name": "渡邊 健",
                   "employee_name_kana": "ワタナベ ケン", "employee_birth_date": "1975-01-20"}
    idou = {k: _f(k, v) for k, v in idou_values.items()}
    out = apply_master("idou_todokede", idou, _index(), hmac_of=HMAC)
    assert [f.rule for f in out.findings] == [NOT_ON_ROLL]
    idou["payer_designated_number"] = _f("payer_designated_number", "00099999")
    out = apply_master("idou_todokede", idou, _index(), hmac_of=HMAC)
    assert UNKNOWN_DESIGNATED in [f.rule for f in out.findings]
    on_roll = {k: _f(k, v) for k, v in {"payer_designated_number": "00012345", "employee_my_number": MY_NUMBER,
                                        "employee_name": "髙橋 一郎", "employee_birth_date": "1980-04-01"}.items()}
    assert not apply_master("idou_todokede", on_roll, _index(), hmac_of=HMAC).findings


def test_key_from_the_environment_wins(tmp_path, monkeypatch):
    from yomitori.masters.keys import master_key

    monkeypatch.setenv("YOMITORI_MASTER_KEY", "s3cret")
    assert master_key(Settings(data_dir=tmp_path)) == b"s3cret" and not (tmp_path / "master-key").exists()
    os.environ.pop("YOMITORI_MASTER_KEY")


def test_the_pipeline_keeps_the_match_and_lists_the_misdirected(tmp_path, monkeypatch):
    from yomitori.extract import PageResult
    from yomitori.masters.pipeline import gate_with_masters, misdirected, record_match
    from yomitori.store.models import Document, DocumentMaster

    settings = _env(tmp_path, monkeypatch)
    (tmp_path / "r.csv").write_text(RESIDENTS_CSV, encoding="utf-8")
    _run("masters", "import", "residents", str(tmp_path / "r.csv"), "--tenant", "demo")
    store = Store(settings)
    with store.tenant("demo") as repo:
        batch = repo.create_batch("b")
        source = repo.add_source(batch, "a.png", b"x")
        outcomes = []
        for n, values in enumerate([{}, {"recipient_name": "佐藤 次郎", "recipient_my_number": None,
                                         "birth_date": "1999-09-09", "recipient_name_kana": "サトウ ジロウ"}], 1):
            result = PageResult("a.png", [n], "kyuyo_shiharai_hokokusho", "national", fields=_meisai(**values))
            doc = Document(batch_id=batch.id, source_id=source.id, first_page=n, form=result.form)
            repo.session.add(doc)
            repo.session.flush()
            outcome = gate_with_masters(repo, result)
            outcomes.append(outcome)
            findings = record_match(repo, doc, outcome)
            for key, f in result.fields.items():
                repo.session.add(Field(document_id=doc.id, key=key, value=f.value))
        repo.session.flush()
        assert outcomes[0].person.resident.resident_id == "A001" and not findings[1:]
        assert [r["氏名"] for r in misdirected(repo)] == ["佐藤 次郎"]
        row = repo.session.query(DocumentMaster).filter_by(resident_id="A001").one()
        assert row.evidence["person"]["evidence"]["name"] == "folded" and MY_NUMBER not in str(row.evidence)
    store.close()
    out = _run("masters", "misdirected", "--tenant", "demo")
    assert out.splitlines()[0] == "書類番号,バッチ,氏名,住所,生年月日,支払者,理由" and "佐藤 次郎" in out


def test_the_demo_master_is_what_the_generator_writes():
    from yomitori.synth.masters import demo_masters

    folder = Path(__file__).parents[1] / "examples" / "masters"
    for name, data in demo_masters().items():
        assert (folder / name).read_bytes() == data, f"regenerate: python -m yomitori.synth.masters {folder}"


def test_extract_with_a_master_folder_adds_the_match_to_each_record(tmp_path):
    from yomitori.extract import PageResult
    from yomitori.masters.gate import with_master

    folder = Path(__file__).parents[1] / "examples" / "masters"
    values = {"tax_year": 2024, "recipient_name": "島田 純子", "recipient_name_kana": "シマダ ジュンコ",
              "birth_date": "1992-07-10", "recipient_address": "京都府木津川市梅美台1丁目13番13号",
              "recipient_my_number": "552774459890", "payer_number": "399849771531"}
    page = PageResult("s.jpg", [1], "kyuyo_shiharai_hokokusho", "national",
                      fields={k: _f(k, v) for k, v in values.items()})
    record = with_master(folder)(page)
    assert record["fields"]["recipient_name"] == {"value": "嶋田 純子", "confidence": 0.999, "review": False}
    assert record["master"]["person"]["resident_id"] == "R0000001" and not record["master"]["misdirected"]
    assert "552774459890" not in str(record["master"])


def test_a_reviewers_correction_matches_the_document_again(tmp_path, monkeypatch):
    """A misread 個人番号 and name: no one in the master, so 送付先誤り. The reviewer types the right 個人番号: the
    document is matched again, leaves the list, and the name comes back in the master's characters."""
    from _review_data import add_batch

    from yomitori.masters.pipeline import document_master, misdirected, under_support_measure
    from yomitori.review_ui.settings import UISettings
    from yomitori.review_ui.workflow import save_field
    from yomitori.store.models import Role

    settings = _env(tmp_path, monkeypatch)
    (tmp_path / "r.csv").write_text(RESIDENTS_CSV, encoding="utf-8")
    _run("masters", "import", "residents", str(tmp_path / "r.csv"), "--tenant", "demo")
    read = {"tax_year": 2024, "recipient_name": "高槁 一郎", "recipient_name_kana": "タカハツ イチロウ",
            "birth_date": "1980-04-01", "recipient_address": "東京都千代田区霞が関2丁目1番2号",
            "recipient_my_number": OTHER_NUMBER, "payment_amount": 4650000}
    store = Store(settings)
    with store.tenant("demo") as repo:
        user = repo.add_user("rev", Role.reviewer, display_name="rev", password_hash="x")
        _, (doc,) = add_batch(repo, 1, read=read, flagged={"recipient_name", "recipient_my_number"})
        assert document_master(repo, doc.id).resident_id is None
        assert [r["書類番号"] for r in misdirected(repo)] == [doc.id]
        number = next(f for f in doc.fields if f.key == "recipient_my_number")
        result = save_field(repo, UISettings(), user, number, MY_NUMBER, first=MY_NUMBER, first_proven=True)
        assert result.status == "saved"
        match = document_master(repo, doc.id)
        assert match.resident_id == "A001" and match.evidence["person"]["by"] == "my_number"
        assert not misdirected(repo) and "master_not_resident" not in {x["rule"] for x in doc.findings}
        name = next(f for f in doc.fields if f.key == "recipient_name")
        assert name.value == "髙橋 一郎"  # a letter off the 個人番号's person: theirs, in the city's characters
        # The reviewer's own name stands: matched again, it is evidence and is never replaced.
        save_field(repo, UISettings(), user, name, "高橋 一郎")
        assert name.value == "高橋 一郎" and document_master(repo, doc.id).evidence["person"]["evidence"]["name"] \
            == "folded"
        # A correction that loses the match of a person under 支援措置 never lifts the guard.
        dv = {**read, "recipient_name": "渡邊 健", "recipient_name_kana": "ワタナベ ケン", "birth_date": "1975-01-20",
              "recipient_address": "東京都新宿区西新宿2丁目8番1号", "recipient_my_number": None}
        _, (dv_doc,) = add_batch(repo, 1, name="dv", read=dv, flagged={"recipient_name"})
        assert document_master(repo, dv_doc.id).resident_id == "A003" and under_support_measure(repo, dv_doc.id)
        for key, value in (("recipient_name", "佐藤 次郎"), ("recipient_name_kana", "サトウ ジロウ")):
            save_field(repo, UISettings(), user, next(f for f in dv_doc.fields if f.key == key), value)
        assert document_master(repo, dv_doc.id).resident_id is None and under_support_measure(repo, dv_doc.id)
    store.close()


def test_exports_write_a_support_measure_document_only_for_an_allowed_role_and_audit_it(tmp_path, monkeypatch):
    import json

    from _review_data import PASSWORD, TRUTH, add_batch, add_users

    from yomitori.masters.pipeline import SUPPORT_MEASURE_WITHHELD
    from yomitori.standard.exporting import export_batch
    from yomitori.standard.profiles import load_profile
    from yomitori.store.models import AuditLog, DocumentMaster

    for k in [k for k in os.environ if k.startswith("YOMITORI_")]:
        monkeypatch.delenv(k)
    settings = _env(tmp_path, monkeypatch)
    store = Store(settings)
    with store.tenant("demo", create=True) as repo:
        add_users(repo)
        batch, docs = add_batch(repo, 2, read=TRUTH, flagged=set())
        dv, plain = docs
        repo.session.add_all([MasterResident(resident_id="A003", name="渡邊 健", support_measure=True),
                              DocumentMaster(document_id=dv.id, resident_id="A003", support_measure=True,
                                             evidence={})])
        sources = {d.id: d.source.name for d in docs}
    env = {"YOMITORI_DATA_DIR": str(settings.data_dir), "YOMITORI_TENANT": "demo"}

    def export(*args: str, password: str | None = None) -> list[str]:
        r = CliRunner().invoke(app, ["batch", "export", str(batch.id), *args], env=env,
                               input=None if password is None else password + "\n")
        assert r.exit_code == 0, r.output
        return [json.loads(line)["source"] for line in r.stdout.splitlines()]

    assert export() == [sources[plain.id]]  # an OS user has no role: withheld
    assert export("--user", "operator1", "--password-stdin", password=PASSWORD) == [sources[plain.id]]
    assert export("--user", "reviewer1", "--password-stdin", password=PASSWORD) == [sources[dv.id], sources[plain.id]]
    with store.tenant("demo") as repo:
        profile = load_profile("315")
        refused = export_batch(repo, batch.id, profile, actor="operator1", role="operator").refused
        assert [(ref, str(e)) for ref, e in refused if SUPPORT_MEASURE_WITHHELD in str(e)] and \
            all(f"document {plain.id} " not in ref for ref, _ in refused)
        allowed = export_batch(repo, batch.id, profile, actor="reviewer1", role="reviewer").refused
        assert not any(SUPPORT_MEASURE_WITHHELD in str(e) for _, e in allowed)
        audits = [(a.action, a.actor, a.detail["view"]) for a in repo.session.query(AuditLog).order_by(AuditLog.id)
                  if a.action.startswith("support_measure.")]
    store.close()
    assert audits == [("support_measure.refused", audits[0][1], "export:batch_export"),
                      ("support_measure.refused", "operator1", "export:batch_export"),
                      ("support_measure.view", "reviewer1", "export:batch_export"),
                      ("support_measure.refused", "operator1", "export:cli"),
                      ("support_measure.view", "reviewer1", "export:cli")]
    assert audits[0][1].startswith("cli:")


def test_the_spouse_and_dependents_are_matched_and_gated_like_the_recipient():
    home = "東京都千代田区霞が関2丁目1番2号"
    base = _index()
    index = MasterIndex([*base.residents,
                         Resident("A005", "髙橋 花子", "タカハシ ハナコ", "1982-05-05", home),
                         Resident("A006", "髙橋 翔太", "タカハシ ショウタ", "2015-08-08", home),
                         Resident("A007", "鈴木 梅", "スズキ ウメ", "1940-03-03", "大阪府堺市1丁目",
                                  HMAC(OTHER_NUMBER), support_measure=True)], base.employers)
    fields = _meisai(spouse_name="高橋 花子", spouse_name_kana="タカハシ ハナコ",
                     under16_1_name="高橋 翔大", under16_1_name_kana="タカハシ ショウタ",
                     dependent_1_name="鈴木 梅", dependent_1_name_kana="スズキ ウメ",
                     dependent_1_my_number=OTHER_NUMBER,
                     dependent_2_name="田中 一", dependent_2_name_kana="タナカ ハジメ")
    fields["under16_1_name"].raw_confidence = 0.5  # one letter doubted and misread (大 for 太)
    out = apply_master("kyuyo_shiharai_hokokusho", fields, index, hmac_of=HMAC)
    # The spouse, by name, カナ and the household's address: the city's characters, straight through.
    assert out.family["spouse"].resident.resident_id == "A005"
    assert fields["spouse_name"].value == "髙橋 花子" and not fields["spouse_name"].review
    # A child a letter off: the master's name, straight through (the recognizer doubted the letter).
    assert out.family["under16_1"].resident.resident_id == "A006" and fields["under16_1_name"].value == "髙橋 翔太"
    assert not fields["under16_1_name"].review
    # A parent living elsewhere, by 個人番号: matched, and under 支援措置, so the document is guarded.
    assert out.family["dependent_1"].by == "my_number" and not fields["dependent_1_my_number"].review
    assert out.support_measure and not out.person.resident.support_measure
    assert "dependent_2" not in out.family and fields["dependent_2_name"].review  # no one: no evidence
    assert out.summary()["family"]["spouse"]["resident_id"] == "A005" and OTHER_NUMBER not in str(out.summary())
    # Without the household's address or a 個人番号, a name and カナ alone are no match (a homonym elsewhere).
    alone = _meisai(recipient_name="佐藤 次郎", recipient_name_kana="サトウ ジロウ", birth_date="1999-09-09",
                    recipient_address="北海道札幌市中央区1丁目", recipient_my_number=None, spouse_name="高橋 花子",
                    spouse_name_kana="タカハシ ハナコ")
    assert "spouse" not in apply_master("kyuyo_shiharai_hokokusho", alone, index, hmac_of=HMAC).family
