"""Normalization of recognized raw strings to the contract's normalized values, one function per type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from types import ModuleType

import jaconv
from stdnum.exceptions import ValidationError
from stdnum.jp import cn, in_

from yomitori import wareki

__all__ = [
    "DASHES",
    "TYPE_LABELS",
    "NormalizationError",
    "normalize",
    "normalize_amount",
    "normalize_checkbox",
    "normalize_choice",
    "normalize_corporate_number",
    "normalize_count",
    "normalize_dashes",
    "normalize_date",
    "normalize_digits",
    "normalize_kana",
    "normalize_month",
    "normalize_my_number",
    "normalize_payer_number",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_text",
    "normalize_year",
]

# Japanese names of the value types, for messages a reviewer reads.
TYPE_LABELS: dict[str, str] = {
    "text": "テキスト",
    "kana": "フリガナ",
    "digits": "数字",
    "my_number": "個人番号",
    "corporate_number": "法人番号",
    "payer_number": "個人番号又は法人番号",
    "amount": "金額",
    "count": "人数・件数",
    "date": "日付",
    "year": "年",
    "month": "月",
    "postal_code": "郵便番号",
    "phone": "電話番号",
    "checkbox": "チェック欄",
    "choice": "選択肢",
}

# Hyphen look-alikes seen on forms and in OCR output; NFKC leaves these apart from "-"
# (it already folds － ﹣ to "-" and ｰ to ー). ー and ─ count only where digits are expected.
DASHES = "‐‑‒–—―−⁃ー─━ｰ－﹣"
_DASH_TABLE = str.maketrans(dict.fromkeys(DASHES, "-"))
# In a kana name a dash is the long-vowel mark misread (ヤマダ タロ-).
_KANA_DASH_TABLE = str.maketrans(dict.fromkeys(DASHES + "-", "ー"))

# Marks that mean a ticked cell, after NFKC (＊ → *, ✕ stays).
_CHECK_TRUE = frozenset("✓✔☑☒○◯●◎⭕*xX×✕✗✘レv") | {"true", "yes", "1", "on"}
_CHECK_FALSE = frozenset({"", "☐", "□", "false", "no", "0", "off"})

_KANA_CHARS = re.compile(r"[ァ-ヺー・ヽヾ ]+")


class NormalizationError(ValueError):
    """A raw value that does not fit its value type; the message is Japanese and names the type.

    Messages for number types never repeat the raw value: a 個人番号 is 特定個人情報 and must not reach logs.
    """

    def __init__(self, value_type: str, message: str) -> None:
        self.value_type = value_type
        super().__init__(f"{message} ({value_type})")


def normalize_dashes(s: str) -> str:
    """Every hyphen look-alike (‐ − – — ー ｰ …) to ASCII "-"; only for numeric contexts."""
    return s.translate(_DASH_TABLE)


def _nfkc(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()


def _require(value_type: str, raw: str) -> str:
    s = _nfkc(raw)
    if not s:
        raise NormalizationError(value_type, f"{TYPE_LABELS[value_type]}が空です")
    return s


def normalize_text(raw: str) -> str:
    """NFKC, trimmed, inner whitespace runs collapsed to one space."""
    return re.sub(r"\s+", " ", _require("text", raw))


def normalize_kana(raw: str) -> str:
    """Full-width katakana (hiragana and half-width kana converted), spaces collapsed to one."""
    s = jaconv.hira2kata(jaconv.h2z(raw, kana=True, ascii=False, digit=False))
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", s).strip()).translate(_KANA_DASH_TABLE)
    if not s:
        raise NormalizationError("kana", "フリガナが空です")
    if not _KANA_CHARS.fullmatch(s):
        bad = next(c for c in s if not _KANA_CHARS.fullmatch(c))
        raise NormalizationError("kana", f"フリガナにカタカナ以外の文字「{bad}」があります")
    return s


def _digits(value_type: str, raw: str) -> str:
    s = normalize_dashes(_require(value_type, raw))
    # Groups of digits may be split by spaces or hyphens (1234 5678 9018, 03-1234); nothing else.
    if not re.fullmatch(r"[0-9]+(?:[ -]+[0-9]+)*", s):
        raise NormalizationError(value_type, f"{TYPE_LABELS[value_type]}に数字以外の文字があります")
    return re.sub(r"[ -]", "", s)


def normalize_digits(raw: str) -> str:
    """ASCII digits only; spaces and hyphens between digit groups are dropped."""
    return _digits("digits", raw)


def _checked(value_type: str, raw: str, length: int, module: ModuleType) -> str:
    number = _digits(value_type, raw)
    label = TYPE_LABELS[value_type]
    if len(number) != length:
        raise NormalizationError(value_type, f"{label}は{length}桁です（{len(number)}桁あります）")
    try:
        return module.validate(number)
    except ValidationError:
        raise NormalizationError(value_type, f"{label}のチェックディジットが一致しません") from None


def normalize_my_number(raw: str) -> str:
    """12-digit 個人番号 with a valid check digit (messages never contain the number)."""
    return _checked("my_number", raw, 12, in_)


def normalize_corporate_number(raw: str) -> str:
    """13-digit 法人番号 with a valid check digit."""
    return _checked("corporate_number", raw, 13, cn)


def normalize_payer_number(raw: str) -> str:
    """個人番号 (12 digits) or 法人番号 (13 digits), check digit valid."""
    number = _digits("payer_number", raw)
    if len(number) not in (12, 13):
        raise NormalizationError(
            "payer_number", f"個人番号又は法人番号は12桁か13桁です（{len(number)}桁あります）"
        )
    try:
        return (in_ if len(number) == 12 else cn).validate(number)
    except ValidationError:
        kind = "個人番号" if len(number) == 12 else "法人番号"
        raise NormalizationError("payer_number", f"{kind}のチェックディジットが一致しません") from None


def _integer(value_type: str, raw: str, affixes: str, problem: str) -> int:
    s = re.sub(affixes, "", _require(value_type, raw))
    # Boxed cells give digits split by spaces; commas must separate groups of three.
    s = re.sub(r"(?<=[0-9,])\s+(?=[0-9,])", "", s)
    if re.fullmatch(r"[0-9]+", s) or re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+", s):
        return int(s.replace(",", ""))
    raise NormalizationError(value_type, problem)


def normalize_amount(raw: str) -> int:
    """Integer yen from 4,560,000 / ４，５６０，０００ / ¥4560000 / 4560000円 / 4 560 000 / ¥4,560,000-."""
    # ¥10,000- : the trailing dash closes the figure against tampering.
    return _integer(
        "amount",
        normalize_dashes(raw),
        r"^[¥\\]\s*|\s*(?:円|-)$",
        "金額として読めません（使えるのは数字、3桁ごとのカンマ、¥と円だけです）",
    )


def normalize_count(raw: str) -> int:
    """Integer ≥ 0; a trailing 人/名/件/枚 is dropped."""
    return _integer("count", raw, r"\s*[人名件枚]$", "人数・件数は0以上の整数です")


def normalize_date(raw: str, *, era: str | wareki.Era | None = None) -> str:
    """ISO YYYY-MM-DD from 和暦 or Gregorian text; `era` is the circled era when printed apart."""
    s = _require("date", raw)
    try:
        d: date = wareki.parse_date_text(s, era=era)
    except wareki.WarekiError as e:
        raise NormalizationError("date", f"日付として読めません: {e}") from None
    return d.isoformat()


def normalize_year(raw: str, *, era: str | wareki.Era | None = None) -> int:
    """Gregorian year from 令和6年分 / R6 / 2024; a bare era year (6) needs `era`."""
    s = _require("year", raw)
    try:
        return wareki.parse_year_text(s, era=era)
    except wareki.WarekiError as e:
        raise NormalizationError("year", f"年として読めません: {e}") from None


def normalize_month(raw: str) -> int:
    """Month 1–12 from 4 / 04 / ４月 / 4月分."""
    s = _require("month", raw)
    m = re.fullmatch(r"([0-9]{1,2})\s*(?:月\s*(?:分)?)?", s)
    if not m or not 1 <= int(m[1]) <= 12:
        raise NormalizationError("month", "月は1から12の数です")
    return int(m[1])


def normalize_postal_code(raw: str) -> str:
    """NNN-NNNN from 〒100-8926 / 1008926 / 100‐8926."""
    s = normalize_dashes(_require("postal_code", raw)).removeprefix("〒")
    m = re.fullmatch(r"([0-9]{3})\s*-?\s*([0-9]{4})", s.strip())
    if not m:
        raise NormalizationError("postal_code", "郵便番号は7桁の数字です")
    return f"{m[1]}-{m[2]}"


def normalize_phone(raw: str) -> str:
    """ASCII digits and hyphens as grouped on paper: 03(5253)5111 → 03-5253-5111; 10–11 digits from 0."""
    s = normalize_dashes(_require("phone", raw))
    s = re.sub(r"^(?:TEL|電話(?:番号)?)\s*[:.]?\s*", "", s, flags=re.IGNORECASE)
    # Parentheses and spaces on paper are group separators, written here as hyphens.
    s = re.sub(r"[\s()-]+", "-", s).strip("-")
    if not re.fullmatch(r"[0-9]+(?:-[0-9]+)*", s):
        raise NormalizationError("phone", "電話番号に数字と区切り以外の文字があります")
    n = len(s.replace("-", ""))
    if not s.startswith("0") or not 10 <= n <= 11:
        raise NormalizationError("phone", f"電話番号は0で始まる10桁か11桁です（{n}桁あります）")
    if s.count("-") >= 2:
        return s
    # A hyphen the scan lost (075907-5587): the plan's grouping, when it keeps every hyphen that was read.
    grouped = grouped_by_plan(s.replace("-", ""))
    return grouped if _hyphen_places(s) <= _hyphen_places(grouped) else s


def _hyphen_places(s: str) -> set[int]:
    """Where the hyphens stand, counted in digits before each."""
    return {len(s[:i].replace("-", "")) for i, ch in enumerate(s) if ch == "-"}


def grouped_by_plan(digits: str) -> str:
    """A number written (or read) without separators, grouped as the numbering plan groups it (0742-55-1248:
    a 4-digit area code); a number the plan does not know is left as it is."""
    import phonenumbers

    number = phonenumbers.parse(digits, "JP")
    if not phonenumbers.is_valid_number(number):
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_checkbox(raw: str | bool | None) -> bool:
    """A mark (✓ ○ ＊ x レ …) is True; blank or None is False."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    s = _nfkc(raw)
    if s in _CHECK_FALSE or s.casefold() in _CHECK_FALSE:
        return False
    if s in _CHECK_TRUE or s.casefold() in _CHECK_TRUE:
        return True
    raise NormalizationError("checkbox", "チェック欄の印として読めません")


def normalize_choice(raw: str, choices: Sequence[str]) -> str:
    """The raw value (NFKC, so ① reads as 1) if it is one of the field's `choices` codes."""
    s = _require("choice", raw)
    if not choices:
        raise NormalizationError("choice", "選択肢が定義されていません")
    if s not in choices:
        raise NormalizationError("choice", f"選択肢「{s}」はありません（選べるのは {'・'.join(choices)}）")
    return s


_SIMPLE: dict[str, Callable[[str], object]] = {
    "text": normalize_text,
    "kana": normalize_kana,
    "digits": normalize_digits,
    "my_number": normalize_my_number,
    "corporate_number": normalize_corporate_number,
    "payer_number": normalize_payer_number,
    "amount": normalize_amount,
    "count": normalize_count,
    "month": normalize_month,
    "postal_code": normalize_postal_code,
    "phone": normalize_phone,
}


def normalize(
    value_type: str,
    raw: str | bool | None,
    *,
    choices: Sequence[str] = (),
    era: str | wareki.Era | None = None,
) -> object | None:
    """The normalized value of `raw` for `value_type`; blank is None (an unmarked checkbox is False).

    `era` is the era circled apart from a date or year field, for layouts that print 明・大・昭・平・令.
    """
    if value_type == "checkbox":
        return normalize_checkbox(raw)
    if value_type not in TYPE_LABELS:
        raise ValueError(f"unknown value type: {value_type!r}")
    if raw is None or (isinstance(raw, str) and not _nfkc(raw)):
        return None
    if not isinstance(raw, str):
        raise TypeError(f"{value_type} expects a string, got {type(raw).__name__}")
    if value_type == "date":
        return normalize_date(raw, era=era)
    if value_type == "year":
        return normalize_year(raw, era=era)
    if value_type == "choice":
        return normalize_choice(raw, choices)
    return _SIMPLE[value_type](raw)
