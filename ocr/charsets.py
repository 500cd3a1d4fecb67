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
    "date": DIGITS + ERA_CHARS + "年月日./-",
    "number_text": DIGITS + ERA_CHARS + "年分度",
    "phone": DIGITS + "-()",
    "postal": DIGITS + "-〒",
}


@cache
def allowed_chars(charset: Charset) -> frozenset[str] | None:
    """The characters `charset` allows, or None for no restriction."""
    chars = _SETS.get(charset)
    return frozenset(chars) if chars is not None else None
