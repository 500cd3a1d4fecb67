"""What the UI knows about a field: its label and type from the contract, display text, masking, parsing input."""

from __future__ import annotations

from typing import Any

from yomitori.forms_templates.contract import ContractField, contract_forms
from yomitori.values import TYPE_LABELS, NormalizationError, normalize

MASK = "●"


def contract_field(form: str, key: str) -> ContractField | None:
    spec = contract_forms().get(form)
    return spec.fields.get(key) if spec else None


def label(form: str, key: str) -> str:
    f = contract_field(form, key)
    return f.label if f else key


def value_type(form: str, key: str) -> str:
    f = contract_field(form, key)
    return str(f.type) if f else "text"


def is_personal_number(form: str, key: str, value: Any = None) -> bool:
    """個人番号 fields, and a payer number that is an individual's 個人番号 (12 digits, not a 13-digit 法人番号)."""
    t = value_type(form, key)
    if t == "my_number":
        return True
    return t == "payer_number" and isinstance(value, str) and len(value) == 12


def mask_number(value: Any) -> str:
    """●●●● ●●●● 1234: only the last four digits stay."""
    digits = "".join(c for c in str(value) if c.isdigit())
    if not digits:
        return ""
    shown = digits[-4:]
    hidden = MASK * (len(digits) - len(shown))
    grouped = " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))
    return f"{grouped} {shown}".strip()


def display(form: str, key: str, value: Any, *, unmasked: bool = False) -> str:
    """The value as a reviewer reads it; 個人番号 masked unless `unmasked`."""
    if value is None:
        return ""
    if is_personal_number(form, key, value) and not unmasked:
        return mask_number(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def audit_value(form: str, key: str, value: Any) -> Any:
    """A value as the audit log may hold it: never a 個人番号 in clear."""
    if value is not None and is_personal_number(form, key, value):
        return mask_number(value)
    return value


class InvalidInput(ValueError):
    """Typed text that is not a value of the field's type; the message is Japanese and never repeats the text."""


def parse(form: str, key: str, text: str) -> Any:
    """A reviewer's typed text as the contract's normalized value."""
    f = contract_field(form, key)
    if f is None:
        return text.strip() or None
    try:
        return normalize(str(f.type), text, choices=f.choices)
    except NormalizationError as e:
        reason = str(e).removesuffix(f" ({e.value_type})")
        raise InvalidInput(f"{f.label}：{reason}") from None
    except (ValueError, TypeError):
        raise InvalidInput(f"{f.label}：{TYPE_LABELS.get(str(f.type), f.type)}として読めません") from None


def has_crop(doc: Any, f: Any) -> bool:
    """A crop was stored at extraction, or can be cut from the document's registered page."""
    return bool(f.crop_sha256 or (f.box and doc.image_sha256))


def hint(form: str, key: str) -> str:
    """How to type a value of this field."""
    t = value_type(form, key)
    return {
        "amount": "円単位の数字", "count": "数字", "date": "例 R6.1.31 / 2024-01-31", "year": "例 令和6 / 2024",
        "checkbox": "1 = 印あり、0 = なし", "my_number": "12桁", "postal_code": "例 100-8926",
        "kana": "カタカナ", "phone": "例 03-1234-5678",
    }.get(t, "")
