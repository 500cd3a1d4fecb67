"""Post-processing of recognizer output: unambiguous fixes applied, name variants flagged, never changed."""

from __future__ import annotations

import pytest

from yomitori.ocr.charsets import allowed_chars
from yomitori.ocr.japanese import ambiguous_variants, fix_address, fix_kana, fix_text


@pytest.mark.parametrize(
    ("read", "fixed"),
    [
        ("特別徵収", "特別徴収"),  # Chinese form of 徴
        ("サト一", "サトー"),  # kanji 一 between/after katakana is the long vowel
        ("コ-ポ", "コーポ"),
        ("第ービル", "第一ビル"),  # ー never follows a kanji
        ("2丁目3−5", "2丁目3-5"),  # dashes between digits are hyphens
        ("ジョン·スミス", "ジョン・スミス"),
        ("第ニビル", "第二ビル"),  # katakana ニ as an ordinal
        ("山ロ 太郎", "山口 太郎"),  # a lone katakana between kanji is the kanji it looks like
        ("口イヤルA", "ロイヤルA"),  # and that kanji inside a katakana word is the katakana
        ("口ーズ", "ローズ"),
        ("三カ月", "三カ月"),  # the counter カ stays
        ("ハイツ八王子", "ハイツ八王子"),
        ("控除外額30.000円", "控除外額30,000円"),  # yen amounts have no decimal point
        ("2.5倍", "2.5倍"),
    ],
)
def test_fix_text(read, fixed):
    assert fix_text(read) == fixed


@pytest.mark.parametrize(
    ("read", "fixed"),
    [("春里町1丁日16番", "春里町1丁目16番"), ("栄町6T目28番", "栄町6丁目28番"), ("白石2丁月12番", "白石2丁目12番"),
     ("日本橋一丁目", "日本橋一丁目")],
)
def test_chome(read, fixed):
    assert fix_address(read) == fixed


@pytest.mark.parametrize(
    ("read", "fixed"),
    [("コマッ サオリ", "コマツ サオリ"), ("タカハシ ノブォ", "タカハシ ノブオ"), ("モリ レィコ", "モリ レイコ"),
     ("サノ ュウナ", "サノ ユウナ"), ("ハットリ", "ハットリ"), ("ショウタ", "ショウタ"), ("ティナ", "ティナ"),
     ("ツチヤ", "ツチヤ"), ("ツチャ", "ツチャ")],  # after チ both are Japanese: left for the reviewer
)
def test_fix_kana_small_letters(read, fixed):
    assert fix_kana(read) == fixed


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
