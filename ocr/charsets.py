"""The characters a field may contain, per charset name (applied inside the decoder)."""

from __future__ import annotations

from functools import cache

from yomitori.forms_templates.schema import Charset

DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヶ") + 1)) + "ヴー・ "
HIRAGANA = "".join(chr(c) for c in range(ord("ぁ"), ord("ゖ") + 1))
ERA_CHARS = "明治大正昭和平成令元"

_SETS: dict[str, str] = {
    "digits": DIGITS,
    "amount": DIGITS + ",¥円",
    "kana": KATAKANA + HIRAGANA,
    "date": DIGITS + ERA_CHARS + "年月日./-MTSHR",
    "number_text": DIGITS + ERA_CHARS,  # 令和6 (the 年分 after it is printed on the form)
    "phone": DIGITS + "-()",
    "postal": DIGITS + "-〒",
}


@cache
def japanese_repertoire() -> frozenset[str]:
    """Every character Japanese office systems can store (Windows-31J, with its IBM and NEC extensions).

    The recognizer's dictionary is mostly Chinese; simplified forms (东, 门) and Chinese-only
    traditional forms (每, 稅) fall outside this set, so the decoder never emits them.
    """
    chars = set()
    for code in range(0x20, 0x10000):
        c = chr(code)
        try:
            c.encode("cp932")
        except UnicodeEncodeError:
            continue
        chars.add(c)
    return frozenset(chars)


@cache
def allowed_chars(charset: Charset) -> frozenset[str] | None:
    """The characters `charset` allows, or None for no restriction."""
    if charset == "any":
        return japanese_repertoire()
    chars = _SETS.get(charset)
    return frozenset(chars) if chars is not None else None
