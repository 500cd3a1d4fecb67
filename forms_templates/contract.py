"""The extraction contract (form keys, field keys, value types), read from the vendored copy.

`contract/` is a byte-for-byte copy of `shared/contract/forms`; a test keeps the two identical,
so an installed yomitori knows the vocabulary without the monorepo beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

ValueType = Literal[
    "text", "kana", "digits", "my_number", "corporate_number", "payer_number", "amount", "count",
    "date", "year", "month", "postal_code", "phone", "checkbox", "choice",
]
VALUE_TYPES: tuple[str, ...] = ValueType.__args__  # type: ignore[attr-defined]
UNKNOWN_FORM = "unknown"
ERROR_FORM = "error"


@dataclass(frozen=True)
class ContractField:
    key: str
    label: str
    type: ValueType
    tier: Literal["core", "full"]
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractForm:
    key: str
    label: str
    fields: dict[str, ContractField]


@cache
def contract_forms() -> dict[str, ContractForm]:
    """All forms of the contract, by form key."""
    forms: dict[str, ContractForm] = {}
    for entry in sorted(resources.files(__package__).joinpath("contract").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(entry.read_text(encoding="utf-8"))
        fields = {
            f["key"]: ContractField(
                key=f["key"], label=f["label"], type=f["type"], tier=f["tier"],
                choices=tuple(str(c) for c in f.get("choices", ())),
            )
            for f in raw["fields"]
        }
        forms[raw["form"]] = ContractForm(key=raw["form"], label=raw["label"], fields=fields)
    return forms
