"""What a validator reports (Finding) and the read-only view of one document that rules look at (Doc)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from yomitori import wareki
from yomitori.forms_templates.contract import ContractField, contract_forms

Severity = Literal["error", "warning"]
ERROR: Severity = "error"  # certainly wrong, or must be looked at before the record is keyed
WARNING: Severity = "warning"  # implausible: worth a look, may be right


@dataclass(frozen=True)
class Finding:
    """One problem found in a document: the contract keys involved, a stable rule id, a Japanese message.

    `message` is written for the reviewer and names the items by their printed labels; it never
    contains a 個人番号 (number fields' values are never quoted).
    """

    fields: tuple[str, ...]
    rule: str
    message: str
    severity: Severity


def yen(amount: int) -> str:
    """An amount as a reviewer reads it: 1,234,000円."""
    return f"{amount:,}円"


def wareki_date(d: date) -> str:
    """A date as printed on the forms (令和元年5月1日); Gregorian for dates before 明治."""
    try:
        return wareki.format_wareki(d)
    except wareki.WarekiError:
        return f"{d.year}年{d.month}月{d.day}日"


def parse_iso_date(value: object) -> date | None:
    """The date of a normalized ISO value, or None when the value is not one (blank, malformed)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class Doc:
    """One document's normalized values as rules see them: typed getters that give None for blank or ill-typed.

    A key missing from `values` is an item the layout does not print; it reads as blank. Ill-typed
    values are reported once by the field checks, so the rules simply skip them.
    """

    form: str
    values: Mapping[str, object]
    tax_year: int | None = None
    today: date = field(default_factory=date.today)
    # Keys the form's arithmetic vouches for: only where no digit is shared with the other side (給与所得控除後
    # from 支払金額 rounded to 4,000円), since one glyph misread alike in two boxes keeps a digit-sharing identity.
    confirmed: set[str] = field(default_factory=set)

    @property
    def fields(self) -> dict[str, ContractField]:
        return contract_forms()[self.form].fields

    def label(self, key: str) -> str:
        return self.fields[key].label

    def has(self, key: str) -> bool:
        """Whether the layout has the item at all (a blank item is present with None)."""
        return key in self.values

    def number(self, key: str) -> int | None:
        value = self.values.get(key)
        return value if type(value) is int else None  # bool is an int subclass, and not a number here

    def n(self, key: str) -> int:
        """A count or amount with blank read as 0 (a blank count box means none)."""
        return self.number(key) or 0

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) and value else None

    def day(self, key: str) -> date | None:
        return parse_iso_date(self.values.get(key))

    def flag(self, key: str) -> bool:
        return self.values.get(key) is True

    def confirm(self, *keys: str) -> None:
        """Record that an exact identity holds among these items (only those present and not blank count)."""
        self.confirmed.update(k for k in keys if self.values.get(k) is not None)

    def finding(self, rule: str, keys: tuple[str, ...], message: str, severity: Severity = ERROR) -> Finding:
        # Name the items this layout prints; the year given by the caller is no item of the 異動届.
        named = tuple(k for k in keys if k in self.values) or tuple(k for k in keys if k in self.fields)
        return Finding(named, rule, message, severity)
