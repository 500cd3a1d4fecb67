"""Tests for yomitori.wareki: era tokens, era boundaries, 元年, leap days and date/year texts."""

from datetime import date

import pytest

from yomitori.wareki import (
    ERAS,
    Era,
    WarekiError,
    era_from_token,
    format_wareki,
    parse_date_text,
    parse_year_text,
    to_gregorian,
    to_wareki,
    year_to_gregorian,
)


def test_eras_table() -> None:
    assert [e.code for e in ERAS] == ["meiji", "taisho", "showa", "heisei", "reiwa"]
    assert [e.number for e in ERAS] == [1, 2, 3, 4, 5]
    assert [e.start for e in ERAS] == [
        date(1868, 1, 25),
        date(1912, 7, 30),
        date(1926, 12, 25),
        date(1989, 1, 8),
        date(2019, 5, 1),
    ]
    # Each era ends the day before the next one starts; 令和 is open.
    assert ERAS[3].end == date(2019, 4, 30)
    assert ERAS[2].end == date(1989, 1, 7)
    assert ERAS[-1].end is None
    assert isinstance(ERAS[0], Era)


@pytest.mark.parametrize(
    "token", ["令和", "令", "R", "r", "5", "５", "Ｒ", "ｒ", "reiwa", "REIWA", " 令和 ", "㋿"]
)
def test_era_from_token_reiwa(token: str) -> None:
    assert era_from_token(token).code == "reiwa"


@pytest.mark.parametrize(
    ("token", "code"),
    [("明治", "meiji"), ("明", "meiji"), ("M", "meiji"), ("1", "meiji"), ("大正", "taisho"), ("T", "taisho"),
     ("昭", "showa"), ("s", "showa"), ("3", "showa"), ("平成", "heisei"), ("H", "heisei"), ("４", "heisei"),
     ("㍻", "heisei"), ("㍼", "showa")],
)  # fmt: skip
def test_era_from_token_others(token: str, code: str) -> None:
    assert era_from_token(token).code == code


@pytest.mark.parametrize("token", ["", "6", "0", "X", "令平", "慶応", "RR"])
def test_era_from_token_rejects(token: str) -> None:
    with pytest.raises(WarekiError, match="元号を認識できません"):
        era_from_token(token)


def test_wareki_error_is_value_error() -> None:
    assert issubclass(WarekiError, ValueError)


@pytest.mark.parametrize(
    ("era", "y", "m", "d", "expected"),
    [
        ("heisei", 31, 4, 30, date(2019, 4, 30)),  # last day of 平成
        ("reiwa", 1, 5, 1, date(2019, 5, 1)),  # first day of 令和 (元年)
        ("showa", 64, 1, 7, date(1989, 1, 7)),  # last day of 昭和
        ("heisei", 1, 1, 8, date(1989, 1, 8)),  # first day of 平成
        ("taisho", 15, 12, 24, date(1926, 12, 24)),
        ("showa", 1, 12, 25, date(1926, 12, 25)),
        ("meiji", 45, 7, 29, date(1912, 7, 29)),
        ("taisho", 1, 7, 30, date(1912, 7, 30)),
        ("reiwa", 2, 2, 29, date(2020, 2, 29)),  # leap day
        ("heisei", 12, 2, 29, date(2000, 2, 29)),  # 2000 is a leap year (divisible by 400)
        ("reiwa", 6, 1, 31, date(2024, 1, 31)),
        ("令", 6, 12, 31, date(2024, 12, 31)),
    ],
)
def test_to_gregorian(era: str, y: int, m: int, d: int, expected: date) -> None:
    assert to_gregorian(era, y, m, d) == expected


@pytest.mark.parametrize(
    ("era", "y", "m", "d"),
    [
        ("heisei", 31, 5, 1),  # 平成 ended on 4/30
        ("reiwa", 1, 4, 30),  # 令和 began on 5/1
        ("heisei", 1, 1, 7),  # still 昭和64年
        ("showa", 64, 1, 8),  # already 平成
        ("showa", 1, 12, 24),  # still 大正
        ("reiwa", 3, 2, 29),  # 2021 is not a leap year
        ("reiwa", 6, 4, 31),
        ("reiwa", 6, 13, 1),
        ("reiwa", 6, 0, 1),
        ("reiwa", 0, 5, 1),
        ("heisei", 32, 1, 1),
    ],
)
def test_to_gregorian_rejects(era: str, y: int, m: int, d: int) -> None:
    with pytest.raises(WarekiError):
        to_gregorian(era, y, m, d)


def test_to_gregorian_message_is_bilingual() -> None:
    with pytest.raises(WarekiError, match=r"平成31年5月1日は平成の期間外です \(outside the heisei era\)"):
        to_gregorian("heisei", 31, 5, 1)
    with pytest.raises(WarekiError, match="令和元年4月30日"):
        to_gregorian("reiwa", 1, 4, 30)


def test_to_gregorian_accepts_era_object() -> None:
    assert to_gregorian(ERAS[-1], 1, 5, 1) == date(2019, 5, 1)


@pytest.mark.parametrize(
    ("d", "code", "year"),
    [
        (date(2019, 4, 30), "heisei", 31),
        (date(2019, 5, 1), "reiwa", 1),
        (date(1989, 1, 7), "showa", 64),
        (date(1989, 1, 8), "heisei", 1),
        (date(1926, 12, 25), "showa", 1),
        (date(1926, 12, 24), "taisho", 15),
        (date(2024, 1, 31), "reiwa", 6),
        (date(1868, 1, 25), "meiji", 1),
    ],
)
def test_to_wareki(d: date, code: str, year: int) -> None:
    era, y = to_wareki(d)
    assert (era.code, y) == (code, year)
    assert to_gregorian(era, y, d.month, d.day) == d  # round trip


def test_to_wareki_before_meiji() -> None:
    with pytest.raises(WarekiError):
        to_wareki(date(1868, 1, 24))


def test_format_wareki() -> None:
    assert format_wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert format_wareki(date(2024, 1, 31)) == "令和6年1月31日"


@pytest.mark.parametrize(
    ("era", "year", "expected"),
    [("reiwa", 6, 2024), ("令和", 1, 2019), ("heisei", 31, 2019), ("heisei", 1, 1989), ("showa", 64, 1989),
     ("taisho", 15, 1926), ("meiji", 45, 1912), ("R", 7, 2025)],
)  # fmt: skip
def test_year_to_gregorian(era: str, year: int, expected: int) -> None:
    assert year_to_gregorian(era, year) == expected


@pytest.mark.parametrize(("era", "year"), [("heisei", 32), ("showa", 65), ("taisho", 16), ("reiwa", 0)])
def test_year_to_gregorian_rejects(era: str, year: int) -> None:
    with pytest.raises(WarekiError):
        year_to_gregorian(era, year)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和6年1月31日", date(2024, 1, 31)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R6.1.31", date(2024, 1, 31)),
        ("R06/01/31", date(2024, 1, 31)),
        ("r6.1.31", date(2024, 1, 31)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("2024年1月31日", date(2024, 1, 31)),
        ("2024-01-31", date(2024, 1, 31)),
        ("2024/1/31", date(2024, 1, 31)),
        ("2024.1.31", date(2024, 1, 31)),
        ("令和 6 年 1 月 31 日", date(2024, 1, 31)),
        ("R 6 . 1 . 31", date(2024, 1, 31)),
        ("令和６年１月３１日", date(2024, 1, 31)),  # full-width digits
        ("Ｒ６．１．３１", date(2024, 1, 31)),
        ("　令和6年1月31日　", date(2024, 1, 31)),  # ideographic spaces
        ("２０２４－０１－３１", date(2024, 1, 31)),
        ("2024‐01‐31", date(2024, 1, 31)),  # U+2010 hyphen
        ("2024−01−31", date(2024, 1, 31)),  # U+2212 minus
        ("令6年1月31日", date(2024, 1, 31)),
        ("㋿6年1月31日", date(2024, 1, 31)),
        ("令和2年2月29日", date(2020, 2, 29)),
        ("令和6年1月31", date(2024, 1, 31)),  # 日 dropped by OCR
    ],
)
def test_parse_date_text(text: str, expected: date) -> None:
    assert parse_date_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",
        "令和元年4月30日",
        "平成元年1月7日",
        "令和3年2月29日",
        "2023-02-29",
        "2024-13-01",
        "6.1.31",  # no era
        "6年1月31日",
        "R6.1/31",  # mixed separators
        "令和6年",
        "R6.1",
        "X6.1.31",
        "",
        "令和六年一月三十一日",
        "2024-01-31T00:00",
    ],
)
def test_parse_date_text_rejects(text: str) -> None:
    with pytest.raises(WarekiError):
        parse_date_text(text)


def test_parse_date_text_with_era_printed_apart() -> None:
    assert parse_date_text("6年1月31日", era="reiwa") == date(2024, 1, 31)
    assert parse_date_text("31.4.30", era="平") == date(2019, 4, 30)
    assert parse_date_text("令和6年1月31日", era="reiwa") == date(2024, 1, 31)
    assert parse_date_text("2024-01-31", era="heisei") == date(2024, 1, 31)  # Gregorian needs no era
    with pytest.raises(WarekiError, match="元号が一致しません"):
        parse_date_text("平成6年1月31日", era="reiwa")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("令和6年分", 2024), ("令和６年", 2024), ("2024", 2024), ("R6", 2024), ("R06年分", 2024),
     ("平成元年", 1989), ("令和元年分", 2019), ("2024年分", 2024), ("２０２４年", 2024), ("H31", 2019)],
)  # fmt: skip
def test_parse_year_text(text: str, expected: int) -> None:
    assert parse_year_text(text) == expected


@pytest.mark.parametrize("text", ["6", "平成32年", "令和0年", "20244", "R", "令和6年6月"])
def test_parse_year_text_rejects(text: str) -> None:
    with pytest.raises(WarekiError):
        parse_year_text(text)


def test_parse_year_text_bare_number_needs_era() -> None:
    with pytest.raises(WarekiError, match="元号がありません"):
        parse_year_text("6")
    assert parse_year_text("6", era="reiwa") == 2024
    assert parse_year_text("6年分", era="R") == 2024
