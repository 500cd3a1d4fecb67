"""フリガナ against the name beside it: UniDic's readings vouch for a reading, put one misread kana right."""

from __future__ import annotations

import pytest

from yomitori.name_readings import fits, fitting_reading, nearest_reading, readings
from yomitori.validation import check_document


def test_a_name_has_the_readings_people_give_it():
    assert {"サチコ", "ユキコ"} <= readings("幸子")
    assert "タカナシ" in readings("小鳥遊")
    assert "ショウジ" in readings("東海林")


@pytest.mark.parametrize(("name", "kana"), [
    ("田中 太郎", "タナカ タロウ"),
    ("髙橋 陽子", "タカハシ ヨウコ"),  # the variant is looked up in its common form
    ("山﨑 幸子", "ヤマザキ ユキコ"),
    ("山田太郎", "ヤマダタロウ"),  # no space in the name
])
def test_readings_that_fit(name, kana):
    assert fits(name, kana)


@pytest.mark.parametrize(("name", "kana"), [
    ("田中 太郎", "タナカ ジロウ"),
    ("田中 太郎", "タロウ タナカ"),  # parts in the wrong boxes
    ("陽子", "ヨウユ"),
    ("田中 太郎", ""),
])
def test_readings_that_do_not_fit(name, kana):
    assert not fits(name, kana)


def test_the_names_parts_decide_where_the_space_goes():
    assert fitting_reading("久保田 明美", "クボタ アケ ミ") == "クボタ アケミ"
    assert fitting_reading("池田 武", "イケダタケシ") == "イケダ タケシ"
    assert fitting_reading("山田太郎", "ヤマダ タロウ") == "ヤマダ タロウ"  # one part: spacing as read


def test_one_kana_misread_is_put_right_only_when_one_reading_is_that_close():
    assert nearest_reading("陽子", "ヨウユ") == "ヨウコ"
    assert nearest_reading("山崎 義明", "ヤマザキ コシアキ") == "ヤマザキ ヨシアキ"
    assert nearest_reading("田中 太郎", "タナカ タロウ") is None  # nothing to put right
    assert nearest_reading("田中 太郎", "タナカ ケンジ") is None  # far from every reading
    assert nearest_reading("田中 太郎", "タナカ タロワ") == "タナカ タロウ"
    assert nearest_reading("田中 太郎", "タナカ タロミ") is None  # ミ is not taken for ウ
    assert nearest_reading("田中 太郎", "ダナカ タロワ") is None  # two misreads: never two guesses
    assert nearest_reading("麿 麿麿", "マロ マロマロ") is None  # a name the dictionary does not know


def test_a_reading_of_the_name_is_vouched_for_by_the_validators():
    _, confirmed = check_document("idou_todokede",
                                  {"employee_name": "髙橋 陽子", "employee_name_kana": "タカハシ ヨウコ"})
    assert "employee_name_kana" in confirmed
    findings, confirmed = check_document(
        "kyuyo_shiharai_hokokusho", {"spouse_name": "田中 幸子", "spouse_name_kana": "タナカ サチユ"})
    assert "spouse_name_kana" not in confirmed and findings == []  # an unknown reading is no error


def test_extraction_spaces_a_reading_as_the_name_and_puts_one_misread_kana_right_for_a_person_to_confirm():
    from yomitori.extract import _fit_readings_to_names
    from yomitori.ocr.fields import FieldResult

    def read(key: str, value: str, second: str) -> FieldResult:
        return FieldResult(key, value, 0.9, False, read=True, second=second, agreement=value == second)

    fields = {"recipient_name": read("recipient_name", "久保田 明美", "久保田 明美"),
              "recipient_name_kana": read("recipient_name_kana", "クボタ アケ ミ", "クボタ アケミ"),
              "spouse_name": read("spouse_name", "久保田 陽子", "久保田 陽子"),
              "spouse_name_kana": read("spouse_name_kana", "クボタ ヨウユ", "クボタ ヨウユ")}
    _fit_readings_to_names(fields)
    kana = fields["recipient_name_kana"]
    assert (kana.value, kana.agreement, kana.review, kana.reasons) == ("クボタ アケミ", True, False, [])
    spouse = fields["spouse_name_kana"]
    assert (spouse.value, spouse.second, spouse.review) == ("クボタ ヨウコ", "クボタ ヨウユ", True)
    assert spouse.agreement is False and spouse.reasons  # the reviewer is told why


def test_when_the_readers_disagree_on_a_reading_the_one_that_reads_the_name_is_shown():
    from yomitori.extract import _fit_readings_to_names
    from yomitori.ocr.fields import FieldResult

    name = FieldResult("recipient_name", "三浦 雄一", 0.9, False, read=True, second="三浦 雄一", agreement=True)
    kana = FieldResult("recipient_name_kana", "ミウラ ユユウイチ", 0.9, False, read=True, raw_confidence=0.97,
                       char_confidences=(0.97,) * 8, second="ミウラ ユウイチ", agreement=False,
                       second_confidences=(0.8,) * 7)
    fields = {"recipient_name": name, "recipient_name_kana": kana}
    _fit_readings_to_names(fields)
    assert (kana.value, kana.second, kana.agreement) == ("ミウラ ユウイチ", "ミウラ ユユウイチ", False)
    assert kana.char_confidences == (0.8,) * 7 and kana.raw_confidence == 0.8  # the shown reading's own letters


def test_a_name_read_in_other_than_two_parts_vouches_for_nothing_and_both_go_to_a_person():
    from yomitori.validation import check_document

    # A handwritten gap read as a space: the フリガナ, spaced alike, is still a reading of the broken name.
    broken = {"employee_name": "柴 田 亮", "employee_name_kana": "シバ タ リョウ"}
    findings, confirmed = check_document("idou_todokede", broken)
    assert "employee_name_kana" not in confirmed
    assert [(f.rule, f.fields, f.severity) for f in findings] == [
        ("name_parts", ("employee_name", "employee_name_kana"), "warning")]
    whole = {"employee_name": "柴田 亮", "employee_name_kana": "シバタ リョウ"}
    findings, confirmed = check_document("idou_todokede", whole)
    assert findings == [] and "employee_name_kana" in confirmed
