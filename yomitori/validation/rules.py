"""The cross-field rule registry: each rule names its form and the keys it reads, so an edit re-runs only its rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from yomitori import wareki
from yomitori.validation.findings import Doc, Finding

__all__ = ["RULES", "Rule", "rule", "year_label"]

Check = Callable[[Doc], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    form: str
    name: str
    reads: frozenset[str]  # contract keys whose values the rule looks at ("tax_year" for year-dependent rules)
    check: Check
    # An exact identity among its reads: it vouches for one only while the others are sure (see the gate).
    identity: bool = False


RULES: dict[str, list[Rule]] = {}


def rule(form: str, *reads: str, identity: bool = False) -> Callable[[Check], Check]:
    """Register a check for `form` reading `reads`; the tax year counts as a read of "tax_year"."""

    def register(check: Check) -> Check:
        RULES.setdefault(form, []).append(Rule(form, check.__name__, frozenset(reads), check, identity))
        return check

    return register


def year_label(year: int) -> str:
    """令和6年分 for 2024 (the year as the 給与支払報告書 prints it)."""
    era, n = wareki.to_wareki(date(year, 12, 31))
    return f"{era.kanji}{'元' if n == 1 else n}年分"
