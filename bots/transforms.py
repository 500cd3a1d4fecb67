"""Value transforms a scenario applies between a contract value and what a target screen's input expects."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import jaconv

from yomitori import wareki

Value = object
Transform = Callable[[Value, str | None], Value]


def _as_date(value: Value) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, int):  # a year (年分): its era is the one in force at the year's end
        return date(value, 12, 31)
    return date.fromisoformat(str(value))


def _era(value: Value, arg: str | None) -> Value:
    """The 和暦 era of a date or year: `kanji` (令和, default), `short` (令), `latin` (R) or `number` (5)."""
    era, _ = wareki.to_wareki(_as_date(value))
    style = arg or "kanji"
    if style not in ("kanji", "short", "latin", "number"):
        raise ValueError(f"wareki_era: unknown style {style!r} (kanji, short, latin or number)")
    return getattr(era, style)


def _era_year(value: Value, arg: str | None) -> Value:
    """The 和暦 year of a date or year (元年 is 1)."""
    return wareki.to_wareki(_as_date(value))[1]


def _part(attr: str) -> Transform:
    def part(value: Value, arg: str | None) -> Value:
        return getattr(_as_date(value), attr)

    part.__doc__ = f"The {attr} of an ISO date."
    return part


def _zero_pad(value: Value, arg: str | None) -> Value:
    """Left-pad with zeros to `arg` digits (zero_pad:2 → 04)."""
    return str(value).zfill(int(arg or 2))


def _half_kana(value: Value, arg: str | None) -> Value:
    """Full-width katakana to half-width (ヤマダ タロウ → ﾔﾏﾀﾞ ﾀﾛｳ); digits and ASCII untouched."""
    return jaconv.z2h(str(value), kana=True, ascii=False, digit=False)


def _full_kana(value: Value, arg: str | None) -> Value:
    """Half-width or hiragana to full-width katakana."""
    return jaconv.hira2kata(jaconv.h2z(str(value), kana=True, ascii=False, digit=False))


def _hiragana(value: Value, arg: str | None) -> Value:
    """Katakana to hiragana."""
    return jaconv.kata2hira(str(value))


def _digits(value: Value, arg: str | None) -> Value:
    """An amount or number as plain ASCII digits, no commas (4560000)."""
    return str(int(value)) if isinstance(value, int) else re.sub(r"[^0-9]", "", str(value))


def _comma(value: Value, arg: str | None) -> Value:
    """An amount with thousands separators (4,560,000)."""
    return f"{int(value):,}"


def _slice(value: Value, arg: str | None) -> Value:
    """Characters start:end of the value (slice:0:4 → the first four digits of a 個人番号)."""
    start, _, end = (arg or ":").partition(":")
    return str(value)[int(start) if start else None:int(end) if end else None]


def _unit(value: Value, arg: str | None) -> Value:
    """An amount in units of `arg` yen, rounded down (unit:10000 → 万円 part of 4,567,890 is 456)."""
    return int(value) // int(arg or 1)


def _remainder(value: Value, arg: str | None) -> Value:
    """What is left below a unit of `arg` yen (remainder:10000 → 7890 of 4,567,890)."""
    return int(value) % int(arg or 1)


def _spaces(value: Value, arg: str | None) -> Value:
    """Spaces removed (山田 太郎 → 山田太郎), for screens that want the name in one piece."""
    return re.sub(r"\s+", "", str(value))


def _space_part(value: Value, arg: str | None) -> Value:
    """One space-separated part (space_part:0 → surname of 山田 太郎), empty when absent."""
    parts = str(value).split()
    i = int(arg or 0)
    return parts[i] if i < len(parts) else ""


def _choice(value: Value, arg: str | None) -> Value:
    """A contract choice code to the screen's option value (choice:yes=1,yes_other_payer=2)."""
    table = dict(pair.split("=", 1) for pair in (arg or "").split(",") if "=" in pair)
    if str(value) not in table:
        raise ValueError(f"choice: no option for code {value!r} (the scenario maps {', '.join(table)})")
    return table[str(value)]


TRANSFORMS: dict[str, Transform] = {
    "wareki_era": _era, "wareki_year": _era_year, "year": _part("year"), "month": _part("month"),
    "day": _part("day"), "zero_pad": _zero_pad, "half_kana": _half_kana, "full_kana": _full_kana,
    "hiragana": _hiragana, "digits": _digits, "comma": _comma, "slice": _slice, "unit": _unit,
    "remainder": _remainder, "no_spaces": _spaces, "space_part": _space_part,
    "choice": _choice,
}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`name` or `name:arg` (arg may itself contain colons, as in slice:0:4)."""
    name, sep, arg = spec.partition(":")
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(sorted(TRANSFORMS))}")
    return name, arg if sep else None


def apply(value: Value, specs: list[str]) -> Value:
    """Run `value` through the transforms in order; None (a blank field) stays None."""
    for spec in specs:
        if value is None:
            return None
        name, arg = parse_spec(spec)
        value = TRANSFORMS[name](value, arg)
    return value


def as_text(value: Value) -> str:
    """What is typed into an input: blank for None."""
    return "" if value is None else str(value)
