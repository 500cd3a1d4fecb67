"""The characters a record layout allows: JIS X 0208 (full-width items) and JIS X 0201 (half-width items) in CP932.

The 光ディスク等 technical standard writes 全角 items in JIS X 0208 and 半角 items in JIS X 0201, as Shift_JIS bytes
(CP932 is what Windows software writes). CP932 also encodes NEC's row 13 (①, ㈱ …) and the IBM extensions (髙, 﨑 …);
those are not JIS X 0208, so they are refused here rather than written or replaced by '?'.
"""

from __future__ import annotations

import unicodedata

import jaconv

FULL_SPACE = "\u3000"


def jis_x0208_row(ch: str) -> int | None:
    """The JIS X 0208 row (区) of a character as CP932 encodes it, or None when it is not a JIS X 0208 character."""
    try:
        b = ch.encode("cp932")
    except UnicodeEncodeError:
        return None
    if len(b) != 2:
        return None
    lead, trail = b
    if 0x81 <= lead <= 0x9F:
        row = (lead - 0x81) * 2 + 1
    elif 0xE0 <= lead <= 0xEF:
        row = (lead - 0xC1) * 2 + 1
    else:  # 0xF0-0xF9 user-defined, 0xFA-0xFC IBM extensions
        return None
    row += trail >= 0x9F
    # Rows 1-8 symbols and kana, 16-47 level 1 kanji, 48-84 level 2; 13 is NEC's, 89-92 NEC-selected IBM.
    return row if 1 <= row <= 8 or 16 <= row <= 84 else None


def is_jis_x0201(ch: str) -> bool:
    """ASCII printable (the Roman set as CP932 reads it) or half-width katakana."""
    return 0x20 <= ord(ch) <= 0x7E or 0xFF61 <= ord(ch) <= 0xFF9F


def to_full_width(text: str) -> str:
    """A contract text value (NFKC, ASCII digits and spaces) written in full-width characters."""
    out = jaconv.h2z(text, kana=True, ascii=True, digit=True)
    return out.replace(" ", FULL_SPACE)


def to_half_kana(text: str) -> str:
    """Full-width katakana (a contract kana value) as JIS X 0201 half-width katakana; ダ becomes ﾀﾞ."""
    return jaconv.z2h(jaconv.hira2kata(text), kana=True, ascii=True, digit=True).replace(FULL_SPACE, " ")


def normalized(text: str) -> str:
    """What the contract stores for a text read from a file: NFKC, trimmed, inner space runs collapsed to one."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def bad_full(text: str) -> str | None:
    """The first character of `text` that a full-width item may not hold, or None."""
    return next((ch for ch in text if jis_x0208_row(ch) is None), None)


def bad_half(text: str, allowed: str | None = None) -> str | None:
    """The first character of `text` that a half-width item may not hold (`allowed`: the only ones it may)."""
    for ch in text:
        if not is_jis_x0201(ch) or (allowed is not None and ch not in allowed):
            return ch
    return None


def local_government_code_ok(code: str) -> bool:
    """A 6-digit 全国地方公共団体コード whose last digit is its check digit (modulus 11, weights 6 to 2)."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10 == int(code[5])


def describe(ch: str) -> str:
    """A character as an error message names it: the character and its code point."""
    return f"「{ch}」(U+{ord(ch):04X})"
