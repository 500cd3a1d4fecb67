"""One value against its type and its item's limits: check digits, real dates, phones, postal codes, ranges."""

from __future__ import annotations

import re
from datetime import date

from stdnum.jp import cn, in_

from yomitori.forms_templates.contract import ContractField, contract_forms
from yomitori.validation.findings import ERROR, WARNING, Finding, parse_iso_date, yen
from yomitori.validation.phone import check_phone
from yomitori.validation.postal import postal_places

__all__ = ["LEGAL_CAPS", "check_value"]

HOKOKUSHO, SOUKATSU, IDOU = "kyuyo_shiharai_hokokusho", "kyuyo_soukatsuhyo", "idou_todokede"

# Deductions the law caps (所得税, 2020 on): a larger printed figure is certainly a misreading.
LEGAL_CAPS: dict[tuple[str, str], int] = {
    (HOKOKUSHO, "life_insurance_deduction"): 120_000,
    (HOKOKUSHO, "earthquake_insurance_deduction"): 50_000,
    (HOKOKUSHO, "spouse_deduction_amount"): 480_000,  # 老人控除対象配偶者, the largest
    (HOKOKUSHO, "income_adjustment_deduction"): 150_000,  # (10M − 8.5M) × 10 %
    (HOKOKUSHO, "housing_loan_deduction"): 600_000,  # the largest cap any move-in year has had
    (HOKOKUSHO, "basic_deduction"): 950_000,
}
# Above these an amount is implausible for the item (a digit too many is the usual cause).
_PLAUSIBLE_AMOUNT: dict[tuple[str, str], int] = {
    (HOKOKUSHO, "payment_amount"): 200_000_000,
    (HOKOKUSHO, "withholding_tax"): 100_000_000,
    (HOKOKUSHO, "social_insurance"): 20_000_000,
    (HOKOKUSHO, "spouse_total_income"): 100_000_000,
    (IDOU, "annual_tax"): 20_000_000,
    (IDOU, "collected_tax"): 20_000_000,
    (IDOU, "uncollected_tax"): 20_000_000,
    (IDOU, "lump_sum_amount"): 20_000_000,
}
_PLAUSIBLE_AMOUNT_DEFAULT = 1_000_000_000
# Per-person counts on a 明細書 are small; an employer's head counts are not.
_PLAUSIBLE_COUNT = {HOKOKUSHO: 20, SOUKATSU: 500_000, IDOU: 1_000}
_POSTAL = re.compile(r"[0-9]{3}-[0-9]{4}")
# 丁目 always follows its number (2丁目, 二丁目): alone, the number was lost in reading (南2丁目 read 南丁目). Also
# how the OCR lexicon judges two readings of an address.
CHOME_WITHOUT_NUMBER = re.compile(r"(?<![0-9０-９一二三四五六七八九十])丁目")
# The titles a 代表者の職氏名 begins with. A first word that is the end of one and no title itself (事長, 表取締役) is
# that title with its first letters lost to the reader (a fax's thin 理 dropped: 事長 山田 加奈子 passed).
REPRESENTATIVE_TITLES = frozenset({
    "代表取締役", "代表取締役社長", "取締役社長", "取締役", "代表社員", "代表理事", "理事長", "会長", "社長", "所長",
    "院長", "園長", "学長", "校長", "組合長", "代表", "代表者", "事業主", "店主", "代表執行役", "代表清算人",
    "業務執行社員",
})
_FIRST_DAY = date(1868, 1, 25)  # 明治元年1月1日: no date on these forms comes before


def _number_problem(field: ContractField, value: str) -> str | None:
    """Why a 個人番号 / 法人番号 value is not one (never quoting it), or None."""
    if not (value.isascii() and value.isdigit()):
        return f"{field.label}に数字以外の文字があります"
    lengths = {"my_number": (12,), "corporate_number": (13,), "payer_number": (12, 13)}[field.type]
    if len(value) not in lengths:
        return f"{field.label}は{'桁か'.join(map(str, lengths))}桁です（{len(value)}桁あります）"
    kind, module = ("個人番号", in_) if len(value) == 12 else ("法人番号", cn)
    if not module.is_valid(value):
        return f"{field.label}の{kind}のチェックディジットが一致しません"
    return None


def _clipped_title(value: str) -> str | None:
    """The titles a representative's first word is the end of (「理事長」), when it is no title itself; else None."""
    words = value.split()
    if len(words) < 2 or words[0] in REPRESENTATIVE_TITLES:
        return None
    ends = sorted((t for t in REPRESENTATIVE_TITLES if t.endswith(words[0])), key=lambda t: (len(t), t))
    return "・".join(f"「{t}」" for t in ends[:3]) or None


def check_value(form: str, key: str, value: object, *, today: date) -> list[Finding]:
    """Findings about one normalized value on its own (type, check digit, existence, range); blank is fine."""
    field = contract_forms()[form].fields[key]
    label, kind = field.label, field.type
    if value is None:
        return []

    def bad(rule: str, message: str, severity: str = ERROR) -> list[Finding]:
        return [Finding((key,), rule, message, severity)]  # type: ignore[arg-type]

    def wrong_type(what: str) -> list[Finding]:
        # The value itself is never quoted: it may be a 個人番号.
        return bad("invalid_type", f"{label}の値が{what}ではありません")

    if kind in ("my_number", "corporate_number", "payer_number"):
        if not isinstance(value, str):
            return wrong_type("番号の文字列")
        problem = _number_problem(field, value)
        return bad(f"{kind}_invalid", problem) if problem else []
    if kind in ("amount", "count"):
        if type(value) is not int:
            return wrong_type("整数")
        if value < 0:
            return bad("negative_value", f"{label}が負の数です")
        cap = LEGAL_CAPS.get((form, key))
        if cap is not None and value > cap:
            return bad("deduction_cap_exceeded", f"{label}（{yen(value)}）が法定の上限{yen(cap)}を超えています")
        if kind == "amount" and value > _PLAUSIBLE_AMOUNT.get((form, key), _PLAUSIBLE_AMOUNT_DEFAULT):
            return bad("amount_implausible", f"{label}（{yen(value)}）が大きすぎます（桁の読み違いの可能性）", WARNING)
        if kind == "count" and value > _PLAUSIBLE_COUNT[form]:
            return bad("count_implausible", f"{label}（{value:,}）が大きすぎます", WARNING)
        return []
    if kind == "date":
        d = parse_iso_date(value)
        if d is None:
            return bad("date_invalid", f"{label}が暦にある日付ではありません")
        if d < _FIRST_DAY:
            return bad("date_out_of_range", f"{label}が明治より前の日付です")
        return []
    if kind == "year":
        if type(value) is not int:
            return wrong_type("年（整数）")
        if not 2000 <= value <= today.year + 1:  # type: ignore[operator]
            return bad("year_implausible", f"{label}（{value}年）がありそうな年ではありません", WARNING)
        return []
    if kind == "month":
        if type(value) is not int or not 1 <= value <= 12:  # type: ignore[operator]
            return bad("month_invalid", f"{label}は1から12の月です")
        return []
    if kind == "checkbox":
        return [] if isinstance(value, bool) else wrong_type("チェックの有無（真偽値）")
    if kind == "choice":
        if value not in field.choices:
            return bad("choice_invalid", f"{label}の選択肢にない値です")
        return []
    if not isinstance(value, str) or not value:
        return wrong_type("文字列")
    if kind == "digits" and not (value.isascii() and value.isdigit()):
        return bad("invalid_type", f"{label}に数字以外の文字があります")
    if kind == "postal_code":
        if not _POSTAL.fullmatch(value):
            return bad("invalid_type", f"{label}は3桁-4桁の数字です")
        if postal_places(value) is None:
            return bad("postal_code_unknown", f"{label}（{value}）は存在しない郵便番号です")
    if key.endswith("_representative") and (titles := _clipped_title(value)):
        first = value.split()[0]
        return bad("title_clipped", f"{label}の職名「{first}」は{titles}の頭が欠けて読まれた可能性があります")
    if "address" in key and CHOME_WITHOUT_NUMBER.search(value):
        return bad("chome_without_number", f"{label}の丁目の前に数字がありません")
    if kind == "phone" and (problem := check_phone(value)):
        if problem.certain:
            return bad("phone_invalid", f"{label}: {problem.message}")
        return bad("phone_grouping", f"{label}: {problem.message}", WARNING)
    return []
