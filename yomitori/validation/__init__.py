"""Validators of extracted documents: value checks and cross-field rules, as Findings for the gate and reviewers.

    findings = validate_document("kyuyo_shiharai_hokokusho", values)          # whole document
    findings = validate_field(form, "payment_amount", 4_560_000, values=values)  # one edited value
    findings = check_bundle(soukatsu_values, meisai_count=12)                  # 総括表 vs its 明細書

Values are the contract's normalized values (yomitori.values); a key missing from `values` is an
item the layout does not print. Year-dependent rules use `tax_year`, else the year printed on the
document (明細書・総括表), and are skipped when neither is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from yomitori.forms_templates.contract import contract_forms
from yomitori.validation import common, idou, meisai, soukatsu  # noqa: F401  (each registers its rules)
from yomitori.validation.field_checks import check_value
from yomitori.validation.findings import ERROR, WARNING, Doc, Finding, Severity
from yomitori.validation.rules import RULES, Rule
from yomitori.validation.soukatsu import check_bundle

__all__ = [
    "ERROR",
    "WARNING",
    "Finding",
    "Rule",
    "Severity",
    "check_bundle",
    "check_document",
    "rules_for",
    "validate_document",
    "validate_field",
]


def _doc(form: str, values: Mapping[str, object], tax_year: int | None, today: date | None) -> Doc:
    fields = contract_forms()[form].fields
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"{form}: keys not in the contract: {sorted(unknown)}")
    if tax_year is None and "tax_year" in fields and type(values.get("tax_year")) is int:
        tax_year = values["tax_year"]  # type: ignore[assignment]
    return Doc(form, values, tax_year, today or date.today())


def _form(form: str) -> None:
    if form not in contract_forms():
        raise ValueError(f"unknown form {form!r}; expected one of {', '.join(sorted(contract_forms()))}")


def rules_for(form: str) -> list[Rule]:
    """The cross-field rules of `form`, each with the keys it reads."""
    _form(form)
    return list(RULES.get(form, ()))


def validate_document(form: str, values: Mapping[str, object], *, tax_year: int | None = None,
                      today: date | None = None) -> list[Finding]:
    """Every finding for one document: each value on its own, then the form's cross-field rules.

    `today` (default: the system date) bounds dates such as a 提出年月日 in the future.
    """
    return check_document(form, values, tax_year=tax_year, today=today)[0]


def check_document(form: str, values: Mapping[str, object], *, tax_year: int | None = None,
                   today: date | None = None) -> tuple[list[Finding], frozenset[str]]:
    """validate_document's findings, and the keys an exact identity of the form found consistent."""
    _form(form)
    doc = _doc(form, values, tax_year, today)
    findings = [f for key, value in values.items() for f in check_value(form, key, value, today=doc.today)]
    for r in RULES.get(form, ()):
        findings.extend(r.check(doc))
    return findings, frozenset(doc.confirmed)


def validate_field(form: str, key: str, value: object, *, values: Mapping[str, object] | None = None,
                   tax_year: int | None = None, today: date | None = None) -> list[Finding]:
    """The findings that name `key` once it holds `value`: its own checks and the cross-field rules reading it.

    `values` is the rest of the document (without it only `key` itself is judged). A reviewer's edit
    replaces the findings naming `key`; a whole-document re-run is cheap too (see validate_document).
    """
    _form(form)
    if key not in contract_forms()[form].fields:
        raise ValueError(f"{form}: {key!r} is not a contract key")
    merged = {**(values or {}), key: value}
    doc = _doc(form, merged, tax_year, today)
    findings = check_value(form, key, value, today=doc.today)
    for r in RULES.get(form, ()):
        if key in r.reads:
            findings.extend(f for f in r.check(doc) if key in f.fields)
    return findings
