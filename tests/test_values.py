"""Tests for yomitori.values: every contract value type, blanks, full-width input and check digits."""

import pytest
from stdnum.jp import cn, in_

from yomitori.forms_templates.contract import VALUE_TYPES
from yomitori.values import (
    TYPE_LABELS,
    NormalizationError,
    normalize,
    normalize_amount,
    normalize_dashes,
    normalize_date,
    normalize_kana,
    normalize_my_number,
    normalize_text,
    normalize_year,
)

MY_NUMBER = "621498320257"  # the python-stdnum documentation example
MY_NUMBER_2 = "123456789018"  # the contract README example (1234 5678 9018)
CORPORATE_NUMBER = "5835678256246"  # the python-stdnum documentation example


def _my_number(body: str) -> str:
    return body + in_.calc_check_digit(body)


def _corporate_number(body: str) -> str:
    return cn.calc_check_digit(body) + body


def _wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _wrong_first_digit(number: str) -> str:
    return str(int(number[0]) % 9 + 1) + number[1:]


def test_every_contract_type_is_handled() -> None:
    assert set(TYPE_LABELS) == set(VALUE_TYPES)
    for value_type in VALUE_TYPES:
        expected = False if value_type == "checkbox" else None
        assert normalize(value_type, None) is expected
        assert normalize(value_type, "") is expected
        assert normalize(value_type, " 　\t") is expected


def test_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown value type"):
        normalize("money", "1")


def test_normalization_error_names_type() -> None:
    assert issubclass(NormalizationError, ValueError)
    with pytest.raises(NormalizationError) as info:
        normalize("amount", "abc")
    assert info.value.value_type == "amount"
    assert "(amount)" in str(info.value)
    assert "金額" in str(info.value)


def test_normalize_dashes() -> None:
    assert normalize_dashes("1‐2-3−4–5—6ー7ｰ8―9－0") == "1-2-3-4-5-6-7-8-9-0"


# text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("東京都千代田区霞が関２丁目１番２号", "東京都千代田区霞が関2丁目1番2号"),
        ("  山田　　太郎  ", "山田 太郎"),
        ("山田\t\n太郎", "山田 太郎"),
        ("ＡＢＣ　ｶﾅ", "ABC カナ"),
        ("髙橋 﨑山", "髙橋 﨑山"),  # variant characters are kept as written
    ],
)
def test_text(raw: str, expected: str) -> None:
    assert normalize("text", raw) == expected
    assert normalize_text(raw) == expected


def test_text_function_rejects_blank() -> None:
    with pytest.raises(NormalizationError):
        normalize_text("   ")


# kana


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),  # half-width, with dakuten
        ("やまだ たろう", "ヤマダ タロウ"),  # hiragana
        ("ヤマダ　　タロウ", "ヤマダ タロウ"),  # ideographic spaces collapsed
        ("ﾊﾟｰｸ", "パーク"),  # handakuten and half-width long-vowel mark
        ("スミス・ジョン", "スミス・ジョン"),
        ("ｽﾐｽ･ｼﾞｮﾝ", "スミス・ジョン"),
        ("さとう　ゆうこ", "サトウ ユウコ"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("タロ-", "タロー"),  # a hyphen among kana is the long-vowel mark
        (" ｷﾑﾗ ", "キムラ"),
    ],
)
def test_kana(raw: str, expected: str) -> None:
    assert normalize("kana", raw) == expected


@pytest.mark.parametrize("raw", ["山田", "YAMADA", "ヤマダ1", "ヤマダ。", "ヤマダ（タロウ）"])
def test_kana_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="フリガナにカタカナ以外の文字"):
        normalize_kana(raw)


# digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("００１２３", "00123"), ("0123", "0123"), ("12 34", "1234"), ("12-34", "1234"), ("12‐34 56", "123456")],
)
def test_digits(raw: str, expected: str) -> None:
    assert normalize("digits", raw) == expected


@pytest.mark.parametrize("raw", ["12a4", "12.34", "-1234", "1234-", "一二三", "١٢٣"])
def test_digits_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="数字以外"):
        normalize("digits", raw)


# my_number


@pytest.mark.parametrize(
    "raw",
    [
        MY_NUMBER,
        "6214 9832 0257",
        "6214-9832-0257",
        "６２１４　９８３２　０２５７",
        "６２１４－９８３２－０２５７",
    ],
)
def test_my_number(raw: str) -> None:
    assert normalize("my_number", raw) == MY_NUMBER


def test_my_number_computed_and_readme_example() -> None:
    assert normalize("my_number", "1234 5678 9018") == MY_NUMBER_2
    for body in ("00000000000", "98765432109", "55555555555"):
        number = _my_number(body)
        assert normalize_my_number(number) == number


@pytest.mark.parametrize("number", [MY_NUMBER, MY_NUMBER_2, _my_number("31415926535")])
def test_my_number_bad_check_digit_message_hides_number(number: str) -> None:
    bad = _wrong_last_digit(number)
    with pytest.raises(NormalizationError) as info:
        normalize("my_number", bad)
    message = str(info.value)
    assert "個人番号のチェックディジットが一致しません" in message
    assert "my_number" in message
    # 特定個人情報: neither the number nor any 4-digit run of it may appear in the message.
    for i in range(len(bad) - 3):
        assert bad[i : i + 4] not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("raw", ["12345678901", "1234567890123", "6214 9832 025X"])
def test_my_number_wrong_length_or_format(raw: str) -> None:
    with pytest.raises(NormalizationError) as info:
        normalize("my_number", raw)
    assert "個人番号" in str(info.value)
    assert "6214" not in str(info.value) and "1234" not in str(info.value)


# corporate_number


def test_corporate_number() -> None:
    assert normalize("corporate_number", CORPORATE_NUMBER) == CORPORATE_NUMBER
    assert normalize("corporate_number", "5-8356-7825-6246") == CORPORATE_NUMBER
    assert normalize("corporate_number", "５８３５６７８２５６２４６") == CORPORATE_NUMBER
    number = _corporate_number("000012050002")
    assert normalize("corporate_number", number) == number


def test_corporate_number_rejects() -> None:
    with pytest.raises(NormalizationError, match="法人番号のチェックディジットが一致しません"):
        normalize("corporate_number", _wrong_first_digit(CORPORATE_NUMBER))
    with pytest.raises(NormalizationError, match="法人番号は13桁です"):
        normalize("corporate_number", MY_NUMBER)


# payer_number


def test_payer_number() -> None:
    assert normalize("payer_number", MY_NUMBER) == MY_NUMBER
    assert normalize("payer_number", "5-8356-7825-6246") == CORPORATE_NUMBER
    with pytest.raises(NormalizationError, match="12桁か13桁") as info:
        normalize("payer_number", "12345")
    assert "12345" not in str(info.value)
    with pytest.raises(NormalizationError, match="個人番号のチェックディジット") as info:
        normalize("payer_number", _wrong_last_digit(MY_NUMBER))
    assert _wrong_last_digit(MY_NUMBER) not in str(info.value)
    with pytest.raises(NormalizationError, match="法人番号のチェックディジット"):
        normalize("payer_number", _wrong_first_digit(CORPORATE_NUMBER))


# amount and count


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4,560,000", 4560000),
        ("４，５６０，０００", 4560000),
        ("¥4560000", 4560000),
        ("￥4,560,000", 4560000),
        ("4560000円", 4560000),
        ("4,560,000 円", 4560000),
        ("4 560 000", 4560000),  # boxed cells
        ("4 5 6 0 0 0 0", 4560000),
        ("¥4,560,000-", 4560000),
        ("0", 0),
        ("999", 999),
        ("1,000", 1000),
    ],
)
def test_amount(raw: str, expected: int) -> None:
    assert normalize("amount", raw) == expected
    assert normalize_amount(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["4,56,000", "4560,000", "4,5600,000", ",560,000", "4,560,", "4560000.5", "4.560.000", "45600O0", "-5",
     "4,560,000ドル", "四百万", "¥"],
)  # fmt: skip
def test_amount_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="金額"):
        normalize("amount", raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", 0), ("１２", 12), ("12人", 12), ("3 名", 3), ("1,234", 1234), ("1 2", 12)]
)
def test_count(raw: str, expected: int) -> None:
    assert normalize("count", raw) == expected


@pytest.mark.parametrize("raw", ["-1", "1.5", "十二", "12円"])
def test_count_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="0以上の整数"):
        normalize("count", raw)


# date, year, month


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("令和6年1月31日", "2024-01-31"),
        ("令和元年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("R6.1.31", "2024-01-31"),
        ("R06/01/31", "2024-01-31"),
        ("H31.4.30", "2019-04-30"),
        ("昭和64年1月7日", "1989-01-07"),
        ("平成元年1月8日", "1989-01-08"),
        ("2024年1月31日", "2024-01-31"),
        ("2024-01-31", "2024-01-31"),
        ("2024/1/31", "2024-01-31"),
        ("令和６年１月３１日", "2024-01-31"),
        ("令和2年2月29日", "2020-02-29"),
    ],
)
def test_date(raw: str, expected: str) -> None:
    assert normalize("date", raw) == expected


@pytest.mark.parametrize(
    "raw", ["平成31年5月1日", "令和元年4月30日", "平成元年1月7日", "令和3年2月29日", "1月31日"]
)
def test_date_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="日付として読めません") as info:
        normalize("date", raw)
    assert "(date)" in str(info.value)


def test_date_with_era_printed_apart() -> None:
    assert normalize("date", "6年1月31日", era="reiwa") == "2024-01-31"
    assert normalize_date("元年5月1日", era="令") == "2019-05-01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("令和6年分", 2024), ("令和６年", 2024), ("2024", 2024), ("R6", 2024), ("平成元年分", 1989),
     ("２０２４年分", 2024)],
)  # fmt: skip
def test_year(raw: str, expected: int) -> None:
    assert normalize("year", raw) == expected


def test_year_bare_number_is_ambiguous() -> None:
    with pytest.raises(NormalizationError, match="元号がありません"):
        normalize("year", "6")
    assert normalize("year", "6", era="reiwa") == 2024
    assert normalize_year("６年分", era="R") == 2024


@pytest.mark.parametrize("raw", ["平成32年", "R6年X", "令和"])
def test_year_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="年として読めません"):
        normalize("year", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("4", 4), ("４月", 4), ("4月分", 4), ("04", 4), ("１２月分", 12), ("1", 1), ("4 月", 4)],
)
def test_month(raw: str, expected: int) -> None:
    assert normalize("month", raw) == expected


@pytest.mark.parametrize("raw", ["0", "13", "00", "4日", "四月", "4.5"])
def test_month_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="月は1から12"):
        normalize("month", raw)


# postal_code and phone


@pytest.mark.parametrize(
    "raw",
    ["〒100-8926", "1008926", "100‐8926", "100−8926", "100ー8926", "100ｰ8926", "100–8926", "100—8926",
     "１００－８９２６", "〒 100 - 8926", "〒１００８９２６"],
)  # fmt: skip
def test_postal_code(raw: str) -> None:
    assert normalize("postal_code", raw) == "100-8926"


@pytest.mark.parametrize("raw", ["100-892", "10-08926", "100 89 26", "1008926a", "〒"])
def test_postal_code_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="郵便番号"):
        normalize("postal_code", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03(5253)5111", "03-5253-5111"),
        ("(03)5253-5111", "03-5253-5111"),
        ("03-5253-5111", "03-5253-5111"),
        ("０３－５２５３－５１１１", "03-5253-5111"),
        ("０３（５２５３）５１１１", "03-5253-5111"),
        # No separator on paper or none read (a thin hyphen lost to a scan): grouped as the numbering plan
        # groups it, and a number the plan does not know is left ungrouped.
        ("0352535111", "03-5253-5111"), ("0742551248", "0742-55-1248"), ("0842154782", "0842154782"),
        ("090-1234-5678", "090-1234-5678"),
        # One hyphen lost: the plan's grouping, if it keeps the hyphen read; otherwise as read.
        ("075907-5587", "075-907-5587"), ("03-52535111", "03-5253-5111"), ("0759-075587", "0759-075587"),
        ("045 671 2121", "045-671-2121"),
        ("03‐5253‐5111", "03-5253-5111"),
        ("TEL 03-5253-5111", "03-5253-5111"),
        ("℡03-5253-5111", "03-5253-5111"),
        ("電話番号：03-5253-5111", "03-5253-5111"),
    ],
)
def test_phone(raw: str, expected: str) -> None:
    assert normalize("phone", raw) == expected


@pytest.mark.parametrize(
    "raw", ["5253-5111", "03-5253-51111-1", "3-5253-5111", "03-5253-511X", "03-5253-5111 内線12"]
)
def test_phone_rejects(raw: str) -> None:
    with pytest.raises(NormalizationError, match="電話番号"):
        normalize("phone", raw)


# checkbox and choice


@pytest.mark.parametrize("raw", [True, "✓", "✔", "○", "◯", "＊", "*", "x", "X", "×", "レ", "1"])
def test_checkbox_marked(raw: str | bool) -> None:
    assert normalize("checkbox", raw) is True


@pytest.mark.parametrize("raw", [False, None, "", "  ", "　", "□", "0"])
def test_checkbox_blank(raw: str | bool | None) -> None:
    assert normalize("checkbox", raw) is False


def test_checkbox_rejects_unknown_mark() -> None:
    with pytest.raises(NormalizationError, match="チェック欄"):
        normalize("checkbox", "山")


def test_choice() -> None:
    assert normalize("choice", "2", choices=("1", "2", "3")) == "2"
    assert normalize("choice", "２", choices=("1", "2", "3")) == "2"
    assert normalize("choice", "②", choices=("1", "2", "3")) == "2"
    assert normalize("choice", " special ", choices=("special", "ordinary")) == "special"
    with pytest.raises(NormalizationError, match="選択肢") as info:
        normalize("choice", "4", choices=("1", "2", "3"))
    assert "(choice)" in str(info.value)
    with pytest.raises(NormalizationError, match="選択肢が定義されていません"):
        normalize("choice", "1")


def test_non_string_raw_rejected() -> None:
    with pytest.raises(TypeError):
        normalize("amount", True)
