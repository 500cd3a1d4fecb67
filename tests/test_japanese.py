"""Post-processing of recognizer output: unambiguous fixes applied, name variants flagged, never changed."""

from __future__ import annotations

import pytest

from yomitori.ocr.charsets import allowed_chars
from yomitori.ocr.japanese import ambiguous_variants, fix_address, fix_text


@pytest.mark.parametrize(
    ("read", "fixed"),
    [
        ("特別徵収", "特別徴収"),  # Chinese form of 徴
        ("サト一", "サトー"),  # kanji 一 between/after katakana is the long vowel
        ("コ-ポ", "コーポ"),
        ("第ービル", "第一ビル"),  # ー never follows a kanji
        ("2丁目3−5", "2丁目3-5"),  # dashes between digits are hyphens
        ("ジョン·スミス", "ジョン・スミス"),
    ],
)
def test_fix_text(read, fixed):
    assert fix_text(read) == fixed


def test_place_name_ke_and_address_variants():
    assert fix_address("龍ヶ崎市綠ヶ丘") == "龍ケ崎市緑ケ丘"
    assert fix_address("ヶ月") == "ヶ月"  # not between kanji: left alone


def test_name_variants_are_flagged_not_changed():
    assert ambiguous_variants("高橋 一郎") == ["高"]
    assert ambiguous_variants("山﨑 花子") == ["﨑"]
    assert ambiguous_variants("田中 太郎") == []
    assert fix_text("髙橋") == "髙橋"


def test_japanese_repertoire_excludes_chinese_only_forms():
    japanese = allowed_chars("any")
    assert japanese is not None
    for c in "徴髙﨑毎税東門ーヶ":
        assert c in japanese
    for c in "徵每稅东门":
        assert c not in japanese
