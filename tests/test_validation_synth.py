"""Validators on generated ground truth: consistent records pass clean; one corrupted value is caught and named."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date
from functools import cache

import pytest

from yomitori.synth.data import FORMS, make_record
from yomitori.validation import rules_for, validate_document
from yomitori.validation.findings import Doc

N = 250
TWELVE_DIGITS = re.compile(r"\d{12}")
Record = dict[str, object]


@cache
def records(form: str) -> tuple[Record, ...]:
    rng = random.Random(f"validation-{form}")
    return tuple(make_record(form, rng, density=rng.choice((0.3, 0.6, 1.0))) for _ in range(N))


@pytest.mark.parametrize("form", FORMS)
def test_generated_records_have_no_findings(form: str) -> None:
    errors, warned = [], 0
    for rec in records(form):
        found = validate_document(form, rec)
        errors += [(f.rule, f.message) for f in found if f.severity == "error"]
        warned += any(f.severity == "warning" for f in found)
    assert errors == []
    assert warned <= N // 100  # the generator is consistent; a warning is a rule too eager


def _bump_check_digit(number: str) -> str:
    # The check digit is the last of a 個人番号 and the first of a 法人番号; any other value is invalid.
    i = 0 if len(number) == 13 else -1
    digits = list(number)
    digits[i] = str((int(digits[i]) + 1) % 10)
    return "".join(digits)


def _other_postal_code(rec: Record, key: str) -> str:
    address = str(rec[key.replace("_postal_code", "") if key != "payer_postal_code" else "payer_address"])
    return "060-0001" if address.startswith("沖縄県") else "900-0006"  # 札幌市中央区 / 那覇市


Corrupt = Callable[[Record, str], object]  # the corrupted value, or None when the record does not apply
CASES: list[tuple[str, str, Corrupt, str]] = [
    ("kyuyo_shiharai_hokokusho", "income_after_deduction",
     lambda r, k: r[k] + 1_000 if r[k] is not None else None, "employment_income_mismatch"),  # type: ignore[operator]
    ("kyuyo_shiharai_hokokusho", "recipient_my_number", lambda r, k: _bump_check_digit(str(r[k])),
     "my_number_invalid"),
    ("kyuyo_shiharai_hokokusho", "payer_number", lambda r, k: _bump_check_digit(str(r[k])), "payer_number_invalid"),
    ("kyuyo_shiharai_hokokusho", "withholding_tax", lambda r, k: r["payment_amount"] + 1,  # type: ignore[operator]
     "withholding_exceeds_payment"),
    ("kyuyo_shiharai_hokokusho", "dependents_other",
     lambda r, k: (r[k] or 0) + 1 if r["dependent_4_name"] is None else None,  # type: ignore[operator]
     "dependent_count_mismatch"),
    ("kyuyo_shiharai_hokokusho", "birth_date", lambda r, k: f"{r['tax_year'] + 1}-01-01",  # type: ignore[operator]
     "birth_date_after_tax_year"),
    ("kyuyo_shiharai_hokokusho", "payer_phone", lambda r, k: "090-1234-567", "phone_invalid"),
    ("kyuyo_soukatsuhyo", "reported_recipients", lambda r, k: r[k] + 1, "reported_recipients_mismatch"),  # type: ignore[operator]
    ("kyuyo_soukatsuhyo", "payer_postal_code", _other_postal_code, "postal_code_address_mismatch"),
    ("kyuyo_soukatsuhyo", "payer_number", lambda r, k: _bump_check_digit(str(r[k])), "payer_number_invalid"),
    ("kyuyo_soukatsuhyo", "addressee_municipality", lambda r, k: f"{r[k]}市", "municipality_unknown"),
    ("idou_todokede", "uncollected_tax", lambda r, k: r[k] + 100, "uncollected_tax_mismatch"),  # type: ignore[operator]
    ("idou_todokede", "employee_my_number", lambda r, k: _bump_check_digit(str(r[k])), "my_number_invalid"),
    ("idou_todokede", "address_after_postal_code",
     lambda r, k: _other_postal_code(r, k) if r[k] is not None else None, "postal_code_address_mismatch"),
    ("idou_todokede", "collection_method",
     lambda r, k: "ordinary" if r["change_reason"] == "retirement" and str(r["change_date"])[5:7] <= "04" else None,
     "lump_sum_required"),
    ("idou_todokede", "contact_phone", lambda r, k: "03-1234-56789", "phone_invalid"),
]


@pytest.mark.parametrize(("form", "key", "corrupt", "rule"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_one_corrupted_value_is_named(form: str, key: str, corrupt: Corrupt, rule: str) -> None:
    applied = 0
    for rec in records(form)[:120]:
        bad = corrupt(rec, key)
        if bad is None:
            continue
        applied += 1
        found = validate_document(form, {**rec, key: bad})
        assert any(f.rule == rule and key in f.fields for f in found), (key, bad, found)
        assert not any(TWELVE_DIGITS.search(f.message) for f in found)
    assert applied >= 5


def test_rules_name_only_keys_they_read() -> None:
    """So that validate_field, which re-runs the rules reading a key, sees every finding naming it."""
    today = date.today()
    for form, key, corrupt, _ in CASES:
        for rec in records(form)[:30]:
            bad = corrupt(rec, key)
            doc = Doc(form, {**rec, key: rec[key] if bad is None else bad}, rec.get("tax_year"), today)  # type: ignore[arg-type]
            for r in rules_for(form):
                for f in r.check(doc):
                    assert set(f.fields) <= r.reads, (r.name, f)
