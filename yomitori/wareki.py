"""Japanese era (和暦) conversion: era tokens, era dates and years to and from the Gregorian calendar."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "ERAS",
    "Era",
    "WarekiError",
    "era_from_token",
    "format_wareki",
    "parse_date_text",
    "parse_year_text",
    "to_gregorian",
    "to_wareki",
    "year_to_gregorian",
]


class WarekiError(ValueError):
    """A date, year or era token that is not a valid 和暦 (or Gregorian) value."""


@dataclass(frozen=True)
class Era:
    code: str  # "reiwa"
    kanji: str  # "令和"
    short: str  # "令" (the printed choice 明・大・昭・平・令)
    latin: str  # "R"
    number: int  # code printed on some layouts: 1 明治 … 5 令和
    start: date  # first day
    end: date | None  # last day, inclusive; None for the current era

    def contains(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)


def _build_eras() -> tuple[Era, ...]:
    # (code, kanji, short, latin, first day). 明治 is counted from 1868-01-25, the Gregorian date of
    # 慶応4年1月1日 (the era was proclaimed later and made retroactive); systems differ, and the exact
    # day matters for no living person, so treat the 明治 start as approximate.
    rows = [
        ("meiji", "明治", "明", "M", date(1868, 1, 25)),
        ("taisho", "大正", "大", "T", date(1912, 7, 30)),
        ("showa", "昭和", "昭", "S", date(1926, 12, 25)),
        ("heisei", "平成", "平", "H", date(1989, 1, 8)),
        ("reiwa", "令和", "令", "R", date(2019, 5, 1)),
    ]
    eras = []
    for i, (code, kanji, short, latin, start) in enumerate(rows):
        end = rows[i + 1][4] - timedelta(days=1) if i + 1 < len(rows) else None
        eras.append(Era(code, kanji, short, latin, i + 1, start, end))
    return tuple(eras)


ERAS: tuple[Era, ...] = _build_eras()

_TOKENS: dict[str, Era] = {}
for _era in ERAS:
    for _tok in (_era.code, _era.kanji, _era.short, _era.latin, str(_era.number)):
        _TOKENS[_tok.casefold()] = _era

# Regex alternatives for an era written in a date or year (kanji first, so 令和 wins over 令).
_ERA_RE = "|".join([*(e.kanji for e in ERAS), *(e.short for e in ERAS), *(e.latin for e in ERAS)])
_Y = r"(?P<y>元|[0-9]{1,2})"
_MD = r"(?P<m>[0-9]{1,2})"
_DD = r"(?P<d>[0-9]{1,2})"
_SEP = r"\s*(?P<sep>[./-])\s*"
_ERA_DATE_PATTERNS = (
    re.compile(rf"(?P<era>{_ERA_RE})?\s*{_Y}\s*年\s*{_MD}\s*月\s*{_DD}\s*日?", re.IGNORECASE),
    re.compile(rf"(?P<era>{_ERA_RE})?\s*{_Y}{_SEP}{_MD}\s*(?P=sep)\s*{_DD}", re.IGNORECASE),
)
_WESTERN_DATE_PATTERNS = (
    re.compile(r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*日?"),
    re.compile(rf"(?P<y>[0-9]{{4}}){_SEP}(?P<m>[0-9]{{1,2}})\s*(?P=sep)\s*(?P<d>[0-9]{{1,2}})"),
)
_ERA_YEAR_PATTERN = re.compile(rf"(?P<era>{_ERA_RE})?\s*{_Y}\s*(?:年\s*(?:分)?)?", re.IGNORECASE)
_WESTERN_YEAR_PATTERN = re.compile(r"(?P<y>[1-9][0-9]{3})\s*(?:年\s*(?:分)?)?")


def era_from_token(token: str | Era) -> Era:
    """The era named by 令和 / 令 / R / r / 5 / "reiwa" (full-width forms and ㋿-style ligatures too)."""
    if isinstance(token, Era):
        return token
    key = unicodedata.normalize("NFKC", token).strip().casefold()
    try:
        return _TOKENS[key]
    except KeyError:
        raise WarekiError(f"元号を認識できません: {token!r} (unknown era)") from None


def _era_year_to_gregorian(era: Era, year: int) -> int:
    if year < 1:
        raise WarekiError(f"{era.kanji}{year}年は存在しません (era year must be 1 or more)")
    return era.start.year + year - 1


def _era_year_label(era: Era, year: int) -> str:
    return f"{era.kanji}{'元' if year == 1 else year}年"


def to_gregorian(era: str | Era, year: int, month: int, day: int) -> date:
    """The Gregorian date of era year/month/day; the date must exist and fall inside the era."""
    e = era_from_token(era)
    label = f"{_era_year_label(e, year)}{month}月{day}日"
    try:
        d = date(_era_year_to_gregorian(e, year), month, day)
    except ValueError:
        raise WarekiError(f"{label}は暦にない日付です (not a calendar date)") from None
    if not e.contains(d):
        raise WarekiError(f"{label}は{e.kanji}の期間外です (outside the {e.code} era)")
    return d


def to_wareki(d: date) -> tuple[Era, int]:
    """The era and era year (1 = 元年) of a Gregorian date."""
    for e in reversed(ERAS):
        if d >= e.start:
            return e, d.year - e.start.year + 1
    raise WarekiError(f"{d.isoformat()}は明治より前の日付です (before the Meiji era)")


def format_wareki(d: date) -> str:
    """A date as written on forms, e.g. 令和元年5月1日."""
    e, y = to_wareki(d)
    return f"{_era_year_label(e, y)}{d.month}月{d.day}日"


def year_to_gregorian(era: str | Era, year: int) -> int:
    """The Gregorian year of an era year (令和6年分 → 2024); the era year must exist."""
    e = era_from_token(era)
    g = _era_year_to_gregorian(e, year)
    if e.end is not None and g > e.end.year:
        raise WarekiError(f"{_era_year_label(e, year)}は存在しません ({e.code} ended in {e.end.year})")
    return g


def _clean(s: str) -> str:
    # Imported here: values builds on this module, so a top-level import would be circular.
    from yomitori.values import normalize_dashes

    return normalize_dashes(unicodedata.normalize("NFKC", s)).strip()


def _pick_era(written: str | None, given: str | Era | None, s: str) -> Era:
    if written is None:
        if given is None:
            raise WarekiError(f"元号がありません: {s!r} (era missing)")
        return era_from_token(given)
    e = era_from_token(written)
    if given is not None and (g := era_from_token(given)) != e:
        raise WarekiError(f"元号が一致しません: {s!r} (era differs from the given {g.code})")
    return e


def _year_number(y: str) -> int:
    return 1 if y == "元" else int(y)


def parse_date_text(s: str, *, era: str | Era | None = None) -> date:
    """A date as written on paper: 令和6年1月31日, R6.1.31, R06/01/31, 2024年1月31日, 2024-01-31, ….

    `era` supplies the era when the form prints it apart from the date (circled 明・大・昭・平・令);
    a date that names its own era must agree with it.
    """
    text = _clean(s)
    for pattern in _WESTERN_DATE_PATTERNS:
        if m := pattern.fullmatch(text):
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                raise WarekiError(f"暦にない日付です: {s!r} (not a calendar date)") from None
    for pattern in _ERA_DATE_PATTERNS:
        if m := pattern.fullmatch(text):
            e = _pick_era(m["era"], era, s)
            return to_gregorian(e, _year_number(m["y"]), int(m["m"]), int(m["d"]))
    raise WarekiError(f"日付として読めません: {s!r} (unrecognized date)")


def parse_year_text(s: str, *, era: str | Era | None = None) -> int:
    """A Gregorian year from 令和6年分, 令和６年, R6, 平成元年, 2024, 2024年分; a bare 6 needs `era`."""
    text = _clean(s)
    if m := _WESTERN_YEAR_PATTERN.fullmatch(text):
        return int(m["y"])
    if m := _ERA_YEAR_PATTERN.fullmatch(text):
        return year_to_gregorian(_pick_era(m["era"], era, s), _year_number(m["y"]))
    raise WarekiError(f"年として読めません: {s!r} (unrecognized year)")
