"""Rules of the 給与支払報告書（個人別明細書）: 給与所得控除 arithmetic, deductions, family counts, ages and dates."""

from __future__ import annotations

from collections.abc import Iterator

from yomitori import tax
from yomitori.validation.common import HOKOKUSHO, age_on, year_end
from yomitori.validation.findings import WARNING, Doc, Finding, wareki_date, yen
from yomitori.validation.rules import rule, year_label

DEPENDENT_COUNTS = ("dependents_specific", "dependents_elderly", "dependents_other")
DEPENDENT_NAMES = tuple(f"dependent_{i}_name" for i in range(1, 5))
UNDER16_NAMES = tuple(f"under16_{i}_name" for i in range(1, 5))
RELATIVES = ("spouse", *(f"dependent_{i}" for i in range(1, 5)), *(f"under16_{i}" for i in range(1, 5)))
EMPLOYEE_AGES = (15, 100)  # at 31 December of the tax year


def _year(doc: Doc) -> int | None:
    """The tax year when 給与所得控除 for it is implemented (tax.py knows 2020 on), else None."""
    return doc.tax_year if doc.tax_year is not None and doc.tax_year >= tax.FIRST_SUPPORTED_YEAR else None


# ---------------------------------------------------------------------------------------------
# Amounts.
@rule(HOKOKUSHO, "payment_amount", "income_after_deduction", "income_adjustment_deduction", "tax_year", identity=True)
def employment_income(doc: Doc) -> Iterator[Finding]:
    """給与所得控除後の金額 = the 別表第五 income of 支払金額, less the 所得金額調整控除 when there is one."""
    payment, income, year = doc.number("payment_amount"), doc.number("income_after_deduction"), _year(doc)
    if payment is None or income is None or year is None:
        return
    base = tax.employment_income(payment, year)
    adjustment = doc.number("income_adjustment_deduction")
    keys = ("payment_amount", "income_after_deduction")
    if adjustment is not None:
        expected, accepted = base - adjustment, {base - adjustment}
        how = (f"（{year_label(year)}の給与所得控除後 {yen(base)} − "
               f"{doc.label('income_adjustment_deduction')} {yen(adjustment)}）")
        keys += ("income_adjustment_deduction",)
    else:
        # The adjustment may apply without its amount printed (older layouts have no box for it).
        expected, accepted = base, {base, base - tax.income_adjustment_deduction(payment)}
        how = f"（{year_label(year)}の給与所得控除による）"
    if income in accepted:
        if _income_digits_independent(payment, year):
            doc.confirm("income_after_deduction")
    else:
        yield doc.finding("employment_income_mismatch", keys,
                          f"{doc.label('income_after_deduction')}が{doc.label('payment_amount')}から計算した額"
                          f"（{yen(expected)}）と一致しません{how}")


def _income_digits_independent(payment: int, year: int) -> bool:
    """Whether 給与所得控除後の金額 here comes from 支払金額 rounded to 4,000円 (the table's A brackets).

    Only there does the identity confirm the income: elsewhere the income is 支払金額 less a constant (or
    0.9 of it), so it repeats 支払金額's digits, and one printed glyph misread the same way in both boxes
    keeps the identity (1,454,761 → 804,761 read as 1,451,761 → 801,761). 支払金額 itself is never
    confirmed: its last digits vanish in the rounding.
    """
    step = tax.employment_income(payment + 10, year) - tax.employment_income(payment, year)
    return tax.employment_income(payment, year) > 0 and (step == 0 or step >= 1_000)


@rule(HOKOKUSHO, "payment_amount", "income_adjustment_deduction")
def income_adjustment(doc: Doc) -> Iterator[Finding]:
    """所得金額調整控除 (子ども・特別障害者等) = (min(P, 10M) − 8.5M) × 10 %, and none at or below 8.5M."""
    payment, adjustment = doc.number("payment_amount"), doc.number("income_adjustment_deduction")
    if payment is None or not adjustment:
        return
    expected = tax.income_adjustment_deduction(payment)
    if adjustment != expected:
        why = (f"{doc.label('payment_amount')}が850万円以下のときはありません" if expected == 0
               else f"{doc.label('payment_amount')}から計算すると{yen(expected)}です")
        yield doc.finding("income_adjustment_mismatch", ("payment_amount", "income_adjustment_deduction"),
                          f"{doc.label('income_adjustment_deduction')}（{yen(adjustment)}）は{why}")


@rule(HOKOKUSHO, "payment_amount", "withholding_tax")
def withholding(doc: Doc) -> Iterator[Finding]:
    payment, withheld = doc.number("payment_amount"), doc.number("withholding_tax")
    if payment is None or withheld is None:
        return
    keys = ("payment_amount", "withholding_tax")
    if withheld > payment:
        yield doc.finding("withholding_exceeds_payment", keys,
                          f"{doc.label('withholding_tax')}（{yen(withheld)}）が{doc.label('payment_amount')}"
                          f"（{yen(payment)}）を超えています")
    elif withheld * 100 > payment * 46:  # 45 % top rate × 1.021 (復興特別所得税) is the most any salary bears
        yield doc.finding("withholding_implausible", keys,
                          f"{doc.label('withholding_tax')}（{yen(withheld)}）が{doc.label('payment_amount')}の46%を"
                          "超えています", WARNING)


@rule(HOKOKUSHO, "social_insurance", "small_business_mutual_aid", "national_pension_premium")
def social_insurance_parts(doc: Doc) -> Iterator[Finding]:
    """小規模企業共済等掛金 and 国民年金保険料等 are printed as parts (内) of 社会保険料等."""
    social = doc.number("social_insurance")
    if social is None:
        return
    parts = [k for k in ("small_business_mutual_aid", "national_pension_premium") if doc.number(k)]
    if parts and sum(doc.n(k) for k in parts) > social:
        names = "と".join(doc.label(k) for k in parts)
        yield doc.finding("inner_amount_exceeds_total", ("social_insurance", *parts),
                          f"{names}（内訳）が{doc.label('social_insurance')}（{yen(social)}）を超えています")


@rule(HOKOKUSHO, "housing_loan_deduction", "housing_loan_possible_amount")
def housing_loan(doc: Doc) -> Iterator[Finding]:
    credit, possible = doc.number("housing_loan_deduction"), doc.number("housing_loan_possible_amount")
    if credit is not None and possible is not None and credit > possible:
        yield doc.finding("housing_loan_exceeds_possible", ("housing_loan_deduction", "housing_loan_possible_amount"),
                          f"{doc.label('housing_loan_deduction')}（{yen(credit)}）が"
                          f"{doc.label('housing_loan_possible_amount')}（{yen(possible)}）を超えています")


def _basic_amounts(year: int) -> frozenset[int]:
    """Every 基礎控除 the year's table can give."""
    incomes = (0, 1_320_000, 1_330_000, 3_360_000, 3_370_000, 4_890_000, 4_900_000, 6_550_000, 6_560_000,
               23_500_000, 23_600_000, 24_100_000, 24_600_000, 25_100_000)
    return frozenset(tax.basic_deduction(i, year) for i in incomes)


@rule(HOKOKUSHO, "basic_deduction", "income_after_deduction", "tax_year")
def basic_deduction(doc: Doc) -> Iterator[Finding]:
    printed, income, year = doc.number("basic_deduction"), doc.number("income_after_deduction"), _year(doc)
    if printed is None or year is None:
        return
    if printed not in _basic_amounts(year):
        amounts = "・".join(f"{a:,}" for a in sorted(_basic_amounts(year)))
        yield doc.finding("basic_deduction_invalid", ("basic_deduction",),
                          f"{doc.label('basic_deduction')}（{yen(printed)}）は{year_label(year)}の額（{amounts}円）の"
                          "どれでもありません")
    elif income is not None and printed != (expected := tax.basic_deduction(income, year)):
        # 合計所得 may include other income the form does not show, so this is a reason to look only.
        yield doc.finding("basic_deduction_mismatch", ("basic_deduction", "income_after_deduction"),
                          f"{doc.label('basic_deduction')}（{yen(printed)}）が{doc.label('income_after_deduction')}"
                          f"から求めた額（{yen(expected)}）と違います", WARNING)


_PERSONAL = (("self_disabled_special", 400_000), ("self_disabled_other", 270_000), ("widow", 270_000),
             ("single_parent", 350_000), ("working_student", 270_000))


@rule(HOKOKUSHO, "total_deductions", "income_after_deduction", "social_insurance", "life_insurance_deduction",
      "earthquake_insurance_deduction", "spouse_deduction_amount", "basic_deduction", *DEPENDENT_COUNTS,
      "dependents_elderly_cohabiting", "disabled_special", "disabled_special_cohabiting", "disabled_other",
      *(k for k, _ in _PERSONAL), "tax_year")
def total_deductions(doc: Doc) -> Iterator[Finding]:
    """所得控除の額の合計額 recomputed from the items the form shows (所得税の額, 2020 on)."""
    total, income, year = doc.number("total_deductions"), doc.number("income_after_deduction"), _year(doc)
    if total is None or income is None or year is None:
        return
    shown = sum(doc.n(k) for k in ("social_insurance", "life_insurance_deduction", "earthquake_insurance_deduction",
                                   "spouse_deduction_amount"))
    basic = doc.number("basic_deduction")
    basic = tax.basic_deduction(income, year) if basic is None else basic
    elderly_cohab, special_cohab = doc.n("dependents_elderly_cohabiting"), doc.n("disabled_special_cohabiting")
    dependents = (630_000 * doc.n("dependents_specific") + 580_000 * elderly_cohab
                  + 480_000 * max(0, doc.n("dependents_elderly") - elderly_cohab) + 380_000 * doc.n("dependents_other"))
    disabled = (750_000 * special_cohab + 400_000 * max(0, doc.n("disabled_special") - special_cohab)
                + 270_000 * doc.n("disabled_other"))
    personal = sum(amount for key, amount in _PERSONAL if doc.flag(key))
    expected = shown + basic + dependents + disabled + personal
    # From 2025 the 特定親族特別控除 adds an amount no item of the form shows: only a shortfall is suspect.
    if total < expected or (total > expected and year < 2025):
        yield doc.finding("total_deductions_mismatch", ("total_deductions",),
                          f"{doc.label('total_deductions')}（{yen(total)}）が各欄から計算した額（{yen(expected)}）と"
                          "一致しません", WARNING)


@rule(HOKOKUSHO, "spouse_deduction_amount", "spouse_total_income", "income_after_deduction", "spouse_elderly",
      "tax_year")
def spouse_deduction(doc: Doc) -> Iterator[Finding]:
    """配偶者特別控除 follows from both incomes when the spouse's 合計所得 is printed."""
    printed, spouse_income = doc.number("spouse_deduction_amount"), doc.number("spouse_total_income")
    income, year = doc.number("income_after_deduction"), _year(doc)
    if printed is None or spouse_income is None or income is None or year is None:
        return
    expected = tax.spouse_deduction(income, spouse_income, elderly=doc.flag("spouse_elderly"), tax_year=year)
    if printed != expected:
        yield doc.finding("spouse_deduction_mismatch",
                          ("spouse_deduction_amount", "spouse_total_income", "income_after_deduction"),
                          f"{doc.label('spouse_deduction_amount')}（{yen(printed)}）が{doc.label('spouse_total_income')}"
                          f"と{doc.label('income_after_deduction')}から求めた額（{yen(expected)}）と違います", WARNING)


# ---------------------------------------------------------------------------------------------
# Family.
def _named(doc: Doc, name_keys: tuple[str, ...]) -> tuple[int, int]:
    """(names written, name boxes the layout has)."""
    present = [k for k in name_keys if doc.has(k)]
    return sum(doc.text(k) is not None for k in present), len(present)


@rule(HOKOKUSHO, *DEPENDENT_COUNTS, *(f"{k}_other_payer" for k in DEPENDENT_COUNTS), *DEPENDENT_NAMES)
def dependent_count(doc: Doc) -> Iterator[Finding]:
    """控除対象扶養親族の数 agrees with the names listed (the form has room for four)."""
    named, boxes = _named(doc, DEPENDENT_NAMES)
    if not boxes or not any(doc.has(k) for k in DEPENDENT_COUNTS):
        return
    counted = sum(doc.n(k) for k in DEPENDENT_COUNTS)
    # Relatives deducted at a secondary payer (従) may be listed too.
    other_payer = sum(doc.n(f"{k}_other_payer") for k in DEPENDENT_COUNTS)
    if not min(counted, boxes) <= named <= min(counted + other_payer, boxes):
        yield doc.finding("dependent_count_mismatch", (*DEPENDENT_COUNTS, *DEPENDENT_NAMES),
                          f"控除対象扶養親族の数（特定・老人・その他 計{counted}人）と氏名の記載（{named}人）が"
                          "一致しません")


@rule(HOKOKUSHO, "dependents_under16", *UNDER16_NAMES)
def under16_count(doc: Doc) -> Iterator[Finding]:
    named, boxes = _named(doc, UNDER16_NAMES)
    if not boxes or not doc.has("dependents_under16"):
        return
    counted = doc.n("dependents_under16")
    if named != min(counted, boxes):
        yield doc.finding("under16_count_mismatch", ("dependents_under16", *UNDER16_NAMES),
                          f"{doc.label('dependents_under16')}（{counted}人）と16歳未満の扶養親族の氏名の記載"
                          f"（{named}人）が一致しません")


@rule(HOKOKUSHO, "dependents_elderly", "dependents_elderly_cohabiting", "disabled_special",
      "disabled_special_cohabiting")
def cohabiting_within_count(doc: Doc) -> Iterator[Finding]:
    """同居 (内) counts are part of their count."""
    for part, whole in (("dependents_elderly_cohabiting", "dependents_elderly"),
                        ("disabled_special_cohabiting", "disabled_special")):
        if doc.n(part) > doc.n(whole):
            yield doc.finding("cohabiting_exceeds_count", (part, whole),
                              f"{doc.label(part)}（{doc.n(part)}人）が{doc.label(whole)}（{doc.n(whole)}人）を"
                              "超えています")


@rule(HOKOKUSHO, *(f"{p}_{k}" for p in RELATIVES for k in ("name", "my_number")))
def number_without_name(doc: Doc) -> Iterator[Finding]:
    for prefix in RELATIVES:
        name, number = f"{prefix}_name", f"{prefix}_my_number"
        if doc.text(number) is not None and doc.has(name) and doc.text(name) is None:
            yield doc.finding("number_without_name", (name, number),
                              f"{doc.label(number)}が書かれていますが{doc.label(name)}が空欄です", WARNING)


@rule(HOKOKUSHO, "spouse_status", "spouse_deduction_amount", "spouse_name")
def spouse_named(doc: Doc) -> Iterator[Finding]:
    if not doc.has("spouse_name") or doc.text("spouse_name") is not None:
        return
    for key in ("spouse_status", "spouse_deduction_amount"):
        if doc.values.get(key):
            yield doc.finding("spouse_without_name", (key, "spouse_name"),
                              f"{doc.label(key)}が記載されていますが{doc.label('spouse_name')}が空欄です", WARNING)
            return


@rule(HOKOKUSHO, "widow", "single_parent", "spouse_name", "spouse_status", "working_student",
      "income_after_deduction", "retired_by_death", "retired_midyear", "tax_year")
def personal_status(doc: Doc) -> Iterator[Finding]:
    """本人の区分 that exclude each other or need a condition the form shows."""
    if doc.flag("widow") and doc.flag("single_parent"):
        yield doc.finding("widow_and_single_parent", ("widow", "single_parent"),
                          f"{doc.label('widow')}と{doc.label('single_parent')}は同時に当てはまりません")
    has_spouse = doc.text("spouse_name") is not None or doc.values.get("spouse_status") is not None
    for key in ("widow", "single_parent"):
        if doc.flag(key) and has_spouse:
            yield doc.finding("status_with_spouse", (key, "spouse_name", "spouse_status"),
                              f"{doc.label(key)}に印がありますが控除対象配偶者が記載されています", WARNING)
    income, year = doc.number("income_after_deduction"), doc.tax_year
    if doc.flag("working_student") and income is not None and year is not None:
        limit = 850_000 if year >= 2025 else 750_000
        if income > limit:
            yield doc.finding("working_student_income", ("working_student", "income_after_deduction"),
                              f"{doc.label('working_student')}に印がありますが{doc.label('income_after_deduction')}"
                              f"（{yen(income)}）が{yen(limit)}を超えています", WARNING)
    if doc.flag("retired_by_death") and doc.has("retired_midyear") and not doc.flag("retired_midyear"):
        yield doc.finding("retired_by_death_without_retired", ("retired_by_death", "retired_midyear"),
                          f"{doc.label('retired_by_death')}に印がありますが{doc.label('retired_midyear')}に印が"
                          "ありません", WARNING)


# ---------------------------------------------------------------------------------------------
# Dates.
@rule(HOKOKUSHO, "birth_date", "minor", "tax_year")
def recipient_age(doc: Doc) -> Iterator[Finding]:
    """The recipient is born by the year's end, of working age, and 未成年者 exactly when under age."""
    birth = doc.day("birth_date")
    if birth is None:
        return
    label = doc.label("birth_date")
    if doc.tax_year is None:
        if birth > doc.today:
            yield doc.finding("birth_date_in_future", ("birth_date",), f"{label}が今日より後です")
        return
    end = year_end(doc.tax_year)
    if birth > end:
        yield doc.finding("birth_date_after_tax_year", ("birth_date", "tax_year"),
                          f"{label}（{wareki_date(birth)}）が{year_label(doc.tax_year)}の年末より後です")
        return
    age = age_on(birth, end)
    low, high = EMPLOYEE_AGES
    if not low <= age <= high:
        yield doc.finding("age_implausible", ("birth_date",),
                          f"{label}（{wareki_date(birth)}）では年末の年齢が{age}歳で、給与所得者として"
                          "ありそうにありません", WARNING)
    if doc.has("minor"):
        adult = 18 if doc.tax_year >= 2022 else 20  # 成年年齢 18 from 2022-04-01, judged at 31 December
        if doc.flag("minor") != (age < adult):
            state = "印があります" if doc.flag("minor") else "印がありません"
            yield doc.finding("minor_mismatch", ("minor", "birth_date"),
                              f"{doc.label('minor')}に{state}が、{label}から年末の年齢は{age}歳です", WARNING)


@rule(HOKOKUSHO, "employment_change_date", "joined_midyear", "retired_midyear", "tax_year")
def employment_change(doc: Doc) -> Iterator[Finding]:
    """中途就・退職: the date falls in the tax year, with 就職 or 退職 marked."""
    key = "employment_change_date"
    changed = doc.day(key)
    marked = [k for k in ("joined_midyear", "retired_midyear") if doc.flag(k)]
    if changed is None:
        if marked and doc.has(key) and doc.values.get(key) is None:
            yield doc.finding("employment_change_date_missing", (key, *marked),
                              f"{doc.label(marked[0])}に印がありますが{doc.label(key)}が空欄です", WARNING)
        return
    if doc.tax_year is not None and changed.year != doc.tax_year:
        yield doc.finding("employment_change_date_outside_tax_year", (key, "tax_year"),
                          f"{doc.label(key)}（{wareki_date(changed)}）が{year_label(doc.tax_year)}の年内にありません")
    if not marked and doc.has("joined_midyear") and doc.has("retired_midyear"):
        yield doc.finding("employment_change_unmarked", (key, "joined_midyear", "retired_midyear"),
                          f"{doc.label(key)}がありますが就職・退職のどちらにも印がありません", WARNING)


@rule(HOKOKUSHO, "housing_loan_start_date_1", "tax_year")
def housing_move_in(doc: Doc) -> Iterator[Finding]:
    moved_in = doc.day("housing_loan_start_date_1")
    if moved_in is not None and doc.tax_year is not None and moved_in > year_end(doc.tax_year):
        yield doc.finding("housing_loan_start_after_tax_year", ("housing_loan_start_date_1", "tax_year"),
                          f"{doc.label('housing_loan_start_date_1')}（{wareki_date(moved_in)}）が"
                          f"{year_label(doc.tax_year)}の年末より後です")

