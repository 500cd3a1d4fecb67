"""Rules of the 特別徴収に係る給与所得者異動届出書: remaining tax arithmetic, how it is collected, the dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from yomitori.validation.common import IDOU, age_on
from yomitori.validation.findings import WARNING, Doc, Finding, wareki_date, yen
from yomitori.validation.rules import rule

EMPLOYEE_AGES = (15, 100)
# 異動年月日 within this many days before / after the reference day (提出年月日, else the tax year, else today).
CHANGE_WINDOW = (2 * 366, 366)
REASON_LABELS = {"retirement": "退職", "transfer": "転勤", "leave": "休職", "long_absence": "長欠", "death": "死亡",
                 "dissolution": "会社解散", "address_error": "住所誤報", "other": "その他"}
METHOD_LABELS = {"continue_special": "特別徴収継続", "lump_sum": "一括徴収", "ordinary": "普通徴収"}


@rule(IDOU, "annual_tax", "collected_tax", "uncollected_tax", identity=True)
def uncollected_tax(doc: Doc) -> Iterator[Finding]:
    """（ウ）未徴収税額 = （ア）年税額 − （イ）徴収済税額."""
    annual, collected, uncollected = (doc.number(k) for k in ("annual_tax", "collected_tax", "uncollected_tax"))
    if annual is not None and collected is not None and collected > annual:
        yield doc.finding("collected_exceeds_annual", ("annual_tax", "collected_tax"),
                          f"{doc.label('collected_tax')}（{yen(collected)}）が{doc.label('annual_tax')}"
                          f"（{yen(annual)}）を超えています")
    elif annual is not None and collected is not None and uncollected is not None and \
            uncollected != annual - collected:
        yield doc.finding("uncollected_tax_mismatch", ("annual_tax", "collected_tax", "uncollected_tax"),
                          f"{doc.label('uncollected_tax')}（{yen(uncollected)}）が年税額−徴収済税額"
                          f"（{yen(annual - collected)}）と一致しません")


@rule(IDOU, "change_reason", "change_date", "collection_method")
def lump_sum_required(doc: Doc) -> Iterator[Finding]:
    """Leaving between 1 January and 30 April obliges 一括徴収 (地方税法 第321条の5第2項).

    The law excepts a leaver whose last pay is smaller than the remaining tax, so this asks for a
    look, not a correction.
    """
    changed, method = doc.day("change_date"), doc.values.get("collection_method")
    if doc.values.get("change_reason") != "retirement" or changed is None or method in (None, "lump_sum"):
        return
    if date(changed.year, 1, 1) <= changed <= date(changed.year, 4, 30):
        yield doc.finding("lump_sum_required", ("collection_method", "change_date", "change_reason"),
                          f"1月1日から4月30日までの退職（{doc.label('change_date')} {wareki_date(changed)}）は"
                          f"一括徴収です（{doc.label('collection_method')}が{METHOD_LABELS.get(str(method), method)}）")


@rule(IDOU, "collection_method", "lump_sum_amount", "uncollected_tax")
def lump_sum_amount(doc: Doc) -> Iterator[Finding]:
    method, amount, uncollected = (doc.values.get("collection_method"), doc.number("lump_sum_amount"),
                                   doc.number("uncollected_tax"))
    label = doc.label("lump_sum_amount")
    if method == "lump_sum":
        if amount is None and doc.has("lump_sum_amount"):
            yield doc.finding("lump_sum_amount_missing", ("lump_sum_amount", "collection_method"),
                              f"一括徴収ですが{label}が空欄です", WARNING)
        elif amount is not None and uncollected is not None and amount > uncollected:
            yield doc.finding("lump_sum_amount_exceeds_uncollected", ("lump_sum_amount", "uncollected_tax"),
                              f"{label}（{yen(amount)}）が{doc.label('uncollected_tax')}（{yen(uncollected)}）を"
                              "超えています")
        elif amount is not None and uncollected is not None and amount != uncollected:
            yield doc.finding("lump_sum_amount_mismatch", ("lump_sum_amount", "uncollected_tax"),
                              f"{label}（{yen(amount)}）が{doc.label('uncollected_tax')}（{yen(uncollected)}）と"
                              "違います", WARNING)
    elif method is not None and amount:
        yield doc.finding("lump_sum_amount_without_lump_sum", ("lump_sum_amount", "collection_method"),
                          f"{label}が書かれていますが徴収方法が{METHOD_LABELS.get(str(method), method)}です", WARNING)


@rule(IDOU, "collected_through_month", "uncollected_from_month", "uncollected_to_month")
def collection_months(doc: Doc) -> Iterator[Finding]:
    """未徴収 starts the month after 徴収済 ends, and runs to May (the 年度's last installment)."""
    through, start, end = (doc.number(k) for k in ("collected_through_month", "uncollected_from_month",
                                                   "uncollected_to_month"))
    if through is not None and start is not None and 1 <= through <= 12 and start != through % 12 + 1:
        yield doc.finding("uncollected_months_mismatch", ("collected_through_month", "uncollected_from_month"),
                          f"{doc.label('uncollected_from_month')}（{start}月）が{doc.label('collected_through_month')}"
                          f"（{through}月）の翌月ではありません", WARNING)
    if end is not None and end != 5:
        yield doc.finding("uncollected_to_month_unusual", ("uncollected_to_month",),
                          f"{doc.label('uncollected_to_month')}が{end}月です（特別徴収は5月分まで）", WARNING)


@rule(IDOU, "collection_method", "change_reason", "new_employer_name", "new_employer_address", "ordinary_reason")
def collection_method_details(doc: Doc) -> Iterator[Finding]:
    """The parts of the form each 徴収方法 needs (and those it does not)."""
    method, reason = doc.values.get("collection_method"), doc.values.get("change_reason")
    if method == "continue_special" and reason == "death":
        yield doc.finding("death_continue_special", ("collection_method", "change_reason"),
                          "異動の事由が死亡ですが徴収方法が特別徴収継続です")
    new = [k for k in ("new_employer_name", "new_employer_address") if doc.has(k)]
    if method == "continue_special" and new and all(doc.text(k) is None for k in new):
        yield doc.finding("new_employer_missing", ("collection_method", *new),
                          f"特別徴収継続ですが{doc.label(new[0])}が空欄です", WARNING)
    if method in ("lump_sum", "ordinary") and any(doc.text(k) is not None for k in new):
        yield doc.finding("new_employer_without_continue", ("collection_method", *new),
                          f"新しい勤務先が書かれていますが徴収方法が{METHOD_LABELS[str(method)]}です", WARNING)
    if method in ("continue_special", "lump_sum") and doc.text("ordinary_reason") is not None:
        yield doc.finding("ordinary_reason_without_ordinary", ("ordinary_reason", "collection_method"),
                          f"{doc.label('ordinary_reason')}が書かれていますが徴収方法が"
                          f"{METHOD_LABELS[str(method)]}です", WARNING)


@rule(IDOU, "salary_paid_until_change", "social_insurance_deducted")
def social_insurance_within_salary(doc: Doc) -> Iterator[Finding]:
    salary, social = doc.number("salary_paid_until_change"), doc.number("social_insurance_deducted")
    if salary is not None and social is not None and social > salary:
        yield doc.finding("inner_amount_exceeds_total", ("social_insurance_deducted", "salary_paid_until_change"),
                          f"{doc.label('social_insurance_deducted')}（{yen(social)}）が"
                          f"{doc.label('salary_paid_until_change')}（{yen(salary)}）を超えています")


def _reference(doc: Doc) -> tuple[date, str]:
    """The day the change is judged against: 提出年月日, else the middle of the tax year's 年度, else today."""
    if (submitted := doc.day("submitted_date")) is not None:
        return submitted, doc.label("submitted_date")
    if doc.tax_year is not None:
        return date(doc.tax_year + 1, 12, 1), "対象年度"
    return doc.today, "今日"


@rule(IDOU, "change_date", "submitted_date", "employee_birth_date", "tax_year")
def change_dates(doc: Doc) -> Iterator[Finding]:
    """異動年月日 near the filing; the employee of working age on that day and born before it."""
    changed, birth = doc.day("change_date"), doc.day("employee_birth_date")
    if changed is not None:
        reference, what = _reference(doc)
        before, after = CHANGE_WINDOW
        if not -before <= (changed - reference).days <= after:
            yield doc.finding("change_date_implausible", ("change_date", "submitted_date"),
                              f"{doc.label('change_date')}（{wareki_date(changed)}）が{what}"
                              f"（{wareki_date(reference)}）から離れすぎています", WARNING)
    if birth is None:
        return
    on = changed or doc.day("submitted_date") or doc.today
    label = doc.label("employee_birth_date")
    if birth > on:
        yield doc.finding("birth_date_after_change", ("employee_birth_date", "change_date"),
                          f"{label}（{wareki_date(birth)}）が{doc.label('change_date')}より後です")
        return
    age = age_on(birth, on)
    if not EMPLOYEE_AGES[0] <= age <= EMPLOYEE_AGES[1]:
        yield doc.finding("age_implausible", ("employee_birth_date",),
                          f"{label}（{wareki_date(birth)}）では異動時の年齢が{age}歳で、給与所得者としてありそうに"
                          "ありません", WARNING)


@rule(IDOU, "submitted_date")
def submitted_not_future(doc: Doc) -> Iterator[Finding]:
    submitted = doc.day("submitted_date")
    if submitted is not None and (submitted - doc.today).days > 31:
        yield doc.finding("submitted_date_in_future", ("submitted_date",),
                          f"{doc.label('submitted_date')}（{wareki_date(submitted)}）が1か月以上先です", WARNING)
