"""How a normalized value is written on paper: the inverse of normalization, with people's variety."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

from yomitori.forms_templates.schema import FieldTemplate, LayoutTemplate
from yomitori.wareki import to_wareki

from .render import Style

_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def paper_values(t: LayoutTemplate, record: dict[str, object], rng: random.Random, style: Style) -> dict[str, object]:
    """The value each field of the layout shows on paper (strings for writing, codes and bools for marks)."""
    return {f.key: _on_paper(f, record.get(f.key), rng, style) for f in t.fields}


def _on_paper(f: FieldTemplate, value: object, rng: random.Random, style: Style) -> object:
    if value is None or f.kind in ("checkbox", "choice", "date"):
        return value
    if f.kind == "cells":
        return str(value).replace("-", "")
    text = _text(f, value, rng, style)
    if f.type in ("text", "kana"):
        text = text.replace(" ", "　")  # 姓と名、住所と建物名の間は全角スペース, as forms are written
    if not style.hand and f.type in ("text",) and rng.random() < 0.3:
        text = text.translate(_FULLWIDTH)  # payroll programs often print full-width digits
    return text


def _text(f: FieldTemplate, value: object, rng: random.Random, style: Style) -> str:
    match f.type:
        case "amount":
            return f"{value:,}" if style.amount_commas else str(value)
        case "date":
            return _date_text(dt.date.fromisoformat(str(value)), rng)
        case "year":
            era, year = to_wareki(dt.date(int(value), 12, 31))  # type: ignore[call-overload]
            return f"{era.kanji}{'元' if year == 1 else year}"
        case "phone":
            parts = str(value).split("-")
            if len(parts) == 3 and rng.random() < 0.3:
                return f"{parts[0]}({parts[1]}){parts[2]}"
            return str(value)
        case "postal_code":
            return f"〒{value}" if rng.random() < 0.5 else str(value)
        case _:
            return unicodedata.normalize("NFKC", str(value))


def _date_text(d: dt.date, rng: random.Random) -> str:
    era, year = to_wareki(d)
    if rng.random() < 0.8:
        y = "元" if year == 1 and rng.random() < 0.7 else str(year)
        return f"{era.kanji}{y}年{d.month}月{d.day}日"
    return f"{era.latin}{year}.{d.month}.{d.day}"
