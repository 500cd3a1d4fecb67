"""Income-tax arithmetic behind the 給与支払報告書: 給与所得控除, 基礎控除, 配偶者控除 and friends."""

from __future__ import annotations

# Exact for the tax years 2020 onwards (the 令和2年分 reform); earlier years raise ValueError rather
# than return a silently wrong figure. Validators compare printed amounts with these functions, so a
# mismatch means "look", not "wrong": a form may carry deductions this module does not see.
#
# 給与所得控除後の金額 follows 所得税法 別表第五 (the table the NTA 確定申告の手引き reprints), not the
# plain bracket formulas. The two differ in three places, each by at most a few thousand yen:
#
# * below 551,000 yen (651,000 from 2025) the income is 0, so 550,001–550,999 give 0, not 1–999;
# * from 1,619,000 to 1,627,999 yen the table has four short rows (1,000 / 2,000 / 2,000 / 4,000 yen
#   wide) whose income is the row's lower bound minus 550,000 (so P = 1,625,000 gives 1,074,000, not
#   1,075,000);
# * from 1,628,000 (2025 rules: 1,900,000) up to 6,599,999 yen the table works on A, the payment
#   rounded down to a multiple of 4,000, and the income is A minus the bracket's deduction of A.
#
# From the 2025 tax year (令和7年度改正) the minimum deduction is 650,000 yen; it covers payments up to
# 1,900,000 yen, where the 30 % bracket meets it, so above 1,900,000 nothing changes. Years after 2025
# use the 2025 rules (no later reform is implemented).

FIRST_SUPPORTED_YEAR = 2020

# 別表第五's short rows between the 550,000-yen minimum and the 4,000-yen steps (rules 2020–2024):
# (lower bound of the row, income for every payment in the row).
_SHORT_ROWS_2020 = ((1_619_000, 1_069_000), (1_620_000, 1_070_000), (1_622_000, 1_072_000),
                    (1_624_000, 1_074_000))


def _check_year(tax_year: int) -> None:
    if tax_year < FIRST_SUPPORTED_YEAR:
        raise ValueError(f"tax year {tax_year}: only the rules from {FIRST_SUPPORTED_YEAR} on are implemented")


def employment_income(payment: int, tax_year: int) -> int:
    """給与所得控除後の金額 (before 所得金額調整控除) for 支払金額 `payment` in `tax_year`.

    Brackets (P = payment, A = P rounded down to a multiple of 4,000):

    ================================  =================================  =========================
    P (2020–2024)                     P (2025 on)                        income
    ================================  =================================  =========================
    < 551,000                         < 651,000                          0
    551,000 – 1,618,999               651,000 – 1,899,999                P − minimum (550k / 650k)
    1,619,000 – 1,627,999             —                                  table rows (see module)
    1,628,000 – 1,799,999             —                                  0.6 A + 100,000
    1,800,000 – 3,599,999             1,900,000 – 3,599,999              0.7 A − 80,000
    3,600,000 – 6,599,999             same                               0.8 A − 440,000
    6,600,000 – 8,499,999             same                               0.9 P − 1,100,000 (floor)
    ≥ 8,500,000                       same                               P − 1,950,000
    ================================  =================================  =========================
    """
    _check_year(tax_year)
    if payment < 0:
        raise ValueError(f"payment must be ≥ 0, got {payment}")
    minimum, flat_until = (650_000, 1_900_000) if tax_year >= 2025 else (550_000, 1_619_000)
    if payment < minimum + 1_000:  # the table's first row: below 551,000 (651,000) the income is 0
        return 0
    if payment < flat_until:
        return payment - minimum
    if payment < 1_628_000:  # only reachable under the 2020–2024 rules
        return next(income for low, income in reversed(_SHORT_ROWS_2020) if payment >= low)
    if payment < 6_600_000:
        a = payment // 4_000 * 4_000
        if a < 1_800_000:
            return a * 6 // 10 + 100_000
        if a < 3_600_000:
            return a * 7 // 10 - 80_000
        return a * 8 // 10 - 440_000
    if payment < 8_500_000:
        return payment * 9 // 10 - 1_100_000
    return payment - 1_950_000


def employment_deduction(payment: int, tax_year: int) -> int:
    """給与所得控除額 as the table applies it: payment − employment_income (never more than the payment).

    In the 4,000-yen rows this is the bracket's deduction of A plus the rounding (P − A), which is
    what the law means: below 6,600,000 the deduction is defined through the table.
    """
    return payment - employment_income(payment, tax_year)


def income_adjustment_deduction(payment: int) -> int:
    """所得金額調整控除 (子ども・特別障害者等を有する者等): (min(P, 10M) − 8.5M) × 10 %, rounded up, else 0.

    It applies only when the recipient, the spouse or a dependent is 特別障害者 or a dependent is
    under 23; the caller decides that. (The other kind, for salary plus pension, is not covered.)
    """
    excess = min(payment, 10_000_000) - 8_500_000
    return -(-excess // 10) if excess > 0 else 0


def basic_deduction(total_income: int, tax_year: int) -> int:
    """基礎控除 (income tax) for 合計所得金額 `total_income`.

    2020–2024: 480,000 up to 24M, then 320k / 160k / 0. From 2025: 950,000 up to 1.32M income and
    580,000 up to 23.5M, with the 令和7・8年分 additions (880k ≤ 3.36M, 680k ≤ 4.89M, 630k ≤ 6.55M)
    for 2025 and 2026 only.
    """
    _check_year(tax_year)
    if total_income > 25_000_000:
        return 0
    if total_income > 24_500_000:
        return 160_000
    if total_income > 24_000_000:
        return 320_000
    if tax_year < 2025 or total_income > 23_500_000:
        return 480_000
    if total_income <= 1_320_000:
        return 950_000
    if tax_year <= 2026:
        for limit, amount in ((3_360_000, 880_000), (4_890_000, 680_000), (6_550_000, 630_000)):
            if total_income <= limit:
                return amount
    return 580_000


def dependent_income_limit(tax_year: int) -> int:
    """合計所得 up to which a spouse or relative counts as 控除対象 (480,000; 580,000 from 2025)."""
    _check_year(tax_year)
    return 580_000 if tax_year >= 2025 else 480_000


# 配偶者特別控除 by spouse income (upper bound of the row) for taxpayer income ≤ 9M / 9.5M / 10M.
_SPOUSE_SPECIAL = ((950_000, (380_000, 260_000, 130_000)), (1_000_000, (360_000, 240_000, 120_000)),
                   (1_050_000, (310_000, 210_000, 110_000)), (1_100_000, (260_000, 180_000, 90_000)),
                   (1_150_000, (210_000, 140_000, 70_000)), (1_200_000, (160_000, 110_000, 60_000)),
                   (1_250_000, (110_000, 80_000, 40_000)), (1_300_000, (60_000, 40_000, 20_000)),
                   (1_330_000, (30_000, 20_000, 10_000)))


def spouse_deduction(taxpayer_income: int, spouse_income: int, *, elderly: bool, tax_year: int) -> int:
    """配偶者控除 or 配偶者特別控除 (income tax); 0 when neither applies.

    `elderly` is 老人控除対象配偶者 (70 or over at 31 December); it matters only for 配偶者控除.
    """
    if taxpayer_income > 10_000_000 or spouse_income > 1_330_000:
        return 0
    column = 0 if taxpayer_income <= 9_000_000 else 1 if taxpayer_income <= 9_500_000 else 2
    if spouse_income <= dependent_income_limit(tax_year):
        return ((480_000, 320_000, 160_000) if elderly else (380_000, 260_000, 130_000))[column]
    return next(row[column] for limit, row in _SPOUSE_SPECIAL if spouse_income <= limit)


def income_tax(taxable_income: int) -> int:
    """所得税 on 課税所得 (rounded down to 1,000 yen first), before credits and 復興特別所得税."""
    taxable = max(0, taxable_income) // 1_000 * 1_000
    for limit, rate, minus in ((1_949_000, 5, 0), (3_299_000, 10, 97_500), (6_949_000, 20, 427_500),
                               (8_999_000, 23, 636_000), (17_999_000, 33, 1_536_000),
                               (39_999_000, 40, 2_796_000)):
        if taxable <= limit:
            return taxable * rate // 100 - minus
    return taxable * 45 // 100 - 4_796_000
