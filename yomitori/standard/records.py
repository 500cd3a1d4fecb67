"""Write contract values as a profile's records, and read such records back: item by item, with the layout's
widths, lengths and characters checked both ways.

Writing never replaces a character: a value that the layout cannot hold (a letter outside JIS X 0208, too long,
a choice with no code) refuses its whole record, with an error naming the item and the field, and the file goes
on with the next record. Reading reports a malformed line the same way, naming the line and the item.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import jaconv

from yomitori import wareki
from yomitori.standard.chars import bad_full, bad_half, describe, normalized, to_full_width, to_half_kana
from yomitori.standard.profiles import PART_OF_DATE, Column, Profile

# 法定調書の記録の仕様's 元号 codes: not the era's order (wareki.Era.number is 明治 1 … 令和 5).
ERA_CODES = {"showa": "1", "taisho": "2", "meiji": "3", "heisei": "4", "reiwa": "5"}
ERA_BY_CODE = {v: k for k, v in ERA_CODES.items()}


@dataclass(frozen=True)
class ItemError:
    """One item that could not be written or read. Never holds a 個人番号: only which item and why."""

    item_no: int
    item: str
    field: str | None
    message: str

    def __str__(self) -> str:
        if not self.item_no:  # the record as a whole (its item count, its encoding)
            return self.message
        named = f" ({self.field})" if self.field else ""
        return f"item {self.item_no} {self.item}{named}: {self.message}"


class RecordRefused(ValueError):
    def __init__(self, errors: list[ItemError]) -> None:
        self.errors = errors
        super().__init__("; ".join(map(str, errors)))


@dataclass
class ExportItem:
    """One document to write: its reference (for messages), contract values, and the submission line it came from."""

    ref: str
    values: dict[str, Any]
    source_line: str | None = None


@dataclass
class ExportResult:
    data: bytes
    written: list[str] = field(default_factory=list)  # refs, in file order
    refused: list[tuple[str, RecordRefused]] = field(default_factory=list)


# ---------------------------------------------------------------- writing


def write_file(profile: Profile, items: Iterable[ExportItem], options: dict[str, str] | None = None) -> ExportResult:
    """The file's bytes (header row only when the profile asks), the records written and those refused."""
    options = options or {}
    profile.check_options(options)
    out = io.StringIO()
    result = ExportResult(b"")
    if profile.header:
        out.write(profile.delimiter.join(c.item for c in profile.columns) + profile.newline)
    for item in items:
        try:
            cells = encode_record(profile, item.values, options=options, source_line=item.source_line)
            line = profile.delimiter.join(cells) + profile.newline
            encoded_check(profile, line)
        except RecordRefused as e:
            result.refused.append((item.ref, e))
            continue
        out.write(line)
        result.written.append(item.ref)
    result.data = out.getvalue().encode(profile.encoding)
    return result


def encoded_check(profile: Profile, line: str) -> None:
    """The encoding must hold every character as it is (never a '?')."""
    try:
        line.encode(profile.encoding)
    except UnicodeEncodeError as e:
        raise RecordRefused([ItemError(0, "record", None, f"{describe(line[e.start])} cannot be written in "
                                                          f"{profile.encoding}")]) from None


def encode_record(profile: Profile, values: dict[str, Any], *, options: dict[str, str] | None = None,
                  source_line: str | None = None) -> list[str]:
    """The record's items as text; RecordRefused lists every item that cannot be written."""
    carried = split_line(profile, source_line) if source_line else None
    if carried is not None and len(carried) != len(profile.columns):
        carried = None
    carried_options = {c.option: carried[i] for i, c in enumerate(profile.columns)
                       if c.option and carried is not None}
    opts = profile.option_values(options, carried_options)
    cells: list[str] = []
    errors: list[ItemError] = []
    for i, col in enumerate(profile.columns):
        try:
            if col.const is not None:
                text = col.const
            elif col.option is not None:
                text = opts[col.option]
            elif not col.source_fields:
                text = carried[i] if carried is not None else col.default
            else:
                text = _to_text(col, values)
            _check(profile, col, text)
        except ValueError as e:
            errors.append(ItemError(col.item_no or i + 1, col.item, col.field or None, str(e)))
            continue
        cells.append(text)
    if errors:
        raise RecordRefused(errors)
    return cells


def _to_text(col: Column, values: dict[str, Any]) -> str:
    t = col.transform or "text"
    if t == "flags":
        return next((code for key, code in (col.flags or {}).items() if values.get(key)), col.blank)
    value = values.get(col.field or "")
    if t == "flag":
        return "1" if value else "0"
    if value is None or value == "":
        return col.blank if t == "code" else ""
    if t in ("amount", "count"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{value!r} is not a whole number of 0 or more")
        return str(value)
    if t == "code":
        code = (col.codes or {}).get(str(value))
        if code is None:
            raise ValueError(f"{value!r} has no code in this layout (codes: {', '.join(col.codes or {})})")
        return code
    if t == "nenbun":
        return f"{wareki.to_wareki(date(int(value), 12, 31))[1]:02d}"  # the era in force at the year's end
    if t in PART_OF_DATE or t == "date":
        d = date.fromisoformat(str(value))
        if t == "date":
            return d.strftime(col.format or "%Y%m%d")
        era, year = wareki.to_wareki(d)
        return {"era": ERA_CODES[era.code], "year": f"{year:02d}", "month": f"{d.month:02d}",
                "day": f"{d.day:02d}"}[t]
    text = str(value)
    if t == "kana":
        return to_half_kana(text) if col.width == "half" else to_full_width(text)
    return to_full_width(text) if col.width == "full" else text


def _check(profile: Profile, col: Column, text: str) -> None:
    if col.length is not None and len(text) > col.length:
        raise ValueError(f"{len(text)} characters, the item holds at most {col.length}")
    if profile.delimiter in text or "\r" in text or "\n" in text:
        raise ValueError("holds the delimiter or a line break")
    if not profile.strict_characters:
        return
    if col.width == "full" and (ch := bad_full(text)) is not None:
        raise ValueError(f"{describe(ch)} is not a JIS X 0208 character (write the form the standard has, e.g. "
                         "高 for 髙, or send the record on paper)")
    if col.width == "half" and (ch := bad_half(text, col.allowed)) is not None:
        what = "a digit" if col.allowed == "0123456789" else "allowed here" if col.allowed else "JIS X 0201"
        raise ValueError(f"{describe(ch)} is not {what} (a half-width item)")


# ---------------------------------------------------------------- reading


@dataclass
class LineResult:
    """One line of a submission: its values, or the error that kept it out (naming line and item)."""

    number: int  # 1-based line number in the file
    text: str
    values: dict[str, Any] | None = None
    error: str | None = None


def file_encoding(data: bytes) -> str:
    """UTF-8 when the whole file is valid UTF-8 (eLTAX PCdesk's variant), else CP932 as the standard writes it."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def read_file(profile: Profile, data: bytes) -> Iterator[LineResult]:
    """Every non-blank line of a file in the profile's layout; a bad line is reported and reading goes on."""
    encoding = file_encoding(data)
    if encoding == "utf-8-sig":
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        try:
            text = raw.decode("cp932" if encoding == "cp932" else "utf-8")
        except UnicodeDecodeError as e:
            yield LineResult(number, raw.decode("cp932", errors="replace"),
                             error=f"line {number}: byte {e.start + 1} is not CP932 text")
            continue
        try:
            values = decode_record(profile, split_line(profile, text))
        except RecordRefused as e:
            yield LineResult(number, text, error=f"line {number}: {e}")
            continue
        yield LineResult(number, text, values=values)


def split_line(profile: Profile, text: str) -> list[str]:
    return next(csv.reader([text], delimiter=profile.delimiter, quoting=csv.QUOTE_NONE), [])


def decode_record(profile: Profile, cells: list[str]) -> dict[str, Any]:
    """Contract values from one record's items; RecordRefused names the items that are not as the layout says."""
    if len(cells) != len(profile.columns):
        raise RecordRefused([ItemError(0, "record", None, f"{len(cells)} items; the {profile.name} record has "
                                                          f"{len(profile.columns)}")])
    values: dict[str, Any] = {}
    parts: dict[str, dict[str, tuple[str, Column]]] = {}
    errors: list[ItemError] = []
    for i, (col, text) in enumerate(zip(profile.columns, cells, strict=True)):
        no = col.item_no or i + 1
        try:
            if col.length is not None and len(text) > col.length:
                raise ValueError(f"{len(text)} characters, the item holds at most {col.length}")
            if col.width == "half" and (ch := bad_half(text, col.allowed)) is not None:
                raise ValueError(f"{describe(ch)} is not allowed in this half-width item")
            if col.const is not None and text != col.const:
                raise ValueError(f"{text!r}, the layout has {col.const!r} here")
            if col.transform in PART_OF_DATE:
                parts.setdefault(col.field or "", {})[col.transform or ""] = (text, col)
            elif col.source_fields:
                values.update(_from_text(col, text))
        except ValueError as e:
            errors.append(ItemError(no, col.item, col.field, str(e)))
    for key, got in parts.items():
        try:
            values[key] = _date_from_parts(got, values)
        except ValueError as e:
            col = next(iter(got.values()))[1]
            errors.append(ItemError(col.item_no or 0, col.item, key, str(e)))
    if errors:
        raise RecordRefused(errors)
    return values


def _from_text(col: Column, text: str) -> dict[str, Any]:
    t, key = col.transform or "text", col.field or ""
    if t == "flags":
        flags = col.flags or {}
        if text not in (*flags.values(), col.blank, ""):
            raise ValueError(f"{text!r} is not one of {', '.join(flags.values())}")
        return {k: text == code for k, code in flags.items()}
    if t == "flag":
        if text not in ("0", "1", ""):
            raise ValueError(f"{text!r} is not 0 or 1")
        return {key: text == "1"}
    if t == "code":
        if text in (col.blank, ""):
            return {key: None}
        back = {v: k for k, v in (col.codes or {}).items()}
        if text not in back:
            raise ValueError(f"{text!r} is not one of {', '.join([col.blank, *back])}")
        return {key: back[text]}
    if text == "":
        return {key: None}
    if t in ("amount", "count"):
        return {key: int(text)}
    if t == "nenbun":
        return {key: _nenbun_year(int(text))}
    if t == "date":
        return {key: datetime.strptime(text, col.format or "%Y%m%d").date().isoformat()}
    if t == "kana":
        return {key: jaconv.hira2kata(normalized(text))}
    return {key: normalized(text) if t == "text" else text}


def _nenbun_year(two_digits: int) -> int:
    """年分 as two digits: 令和 up to the current 令和 year and the next, else 平成 (平成31年 was 2019)."""
    reiwa_now = wareki.to_wareki(date.today())[1]
    era = "reiwa" if 1 <= two_digits <= reiwa_now + 1 else "heisei"
    return wareki.year_to_gregorian(era, two_digits)


def _date_from_parts(got: dict[str, tuple[str, Column]], values: dict[str, Any]) -> str | None:
    texts = {k: v[0] for k, v in got.items()}
    if not any(texts.values()):
        return None
    era_code = texts.get("era")
    if era_code is None:  # no era item: the era of another field (中途就・退職: the 年分's)
        era_from = next((c.era_from for _, c in got.values() if c.era_from), None)
        year = values.get(era_from or "")
        if year is None:
            raise ValueError("a date without its era, and no year to take the era from")
        era = wareki.to_wareki(date(int(year), 12, 31))[0].code
    elif era_code in ERA_BY_CODE:
        era = ERA_BY_CODE[era_code]
    else:
        raise ValueError(f"元号 {era_code!r} is not one of 1 昭和, 2 大正, 3 明治, 4 平成, 5 令和")
    try:
        return wareki.to_gregorian(era, int(texts.get("year") or 0), int(texts.get("month") or 0),
                                   int(texts.get("day") or 0)).isoformat()
    except (ValueError, wareki.WarekiError) as e:
        raise ValueError(f"not a date: {e}") from None
