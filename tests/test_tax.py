"""給与所得控除 and the other tax helpers at their bracket edges (所得税法 別表第五, 令和7年度改正)."""

from __future__ import annotations

import pytest

from yomitori import tax

EDGES_2024 = [
    (0, 0),
    (550_999, 0),
    (551_000, 1_000),
    (1_618_999, 1_068_999),
    (1_619_000, 1_069_000),  # the table's short rows start here
    (1_619_999, 1_069_000),
    (1_620_000, 1_070_000),
    (1_622_000, 1_072_000),
    (1_624_000, 1_074_000),
    (1_625_000, 1_074_000),  # the plain formula would say 1,075,000; the table says 1,074,000
    (1_625_001, 1_074_000),
    (1_627_999, 1_074_000),
    (1_628_000, 1_076_800),  # first 4,000-yen row: 0.6 A + 100,000
    (1_799_999, 1_177_600),  # A = 1,796,000
    (1_800_000, 1_180_000),
    (1_800_001, 1_180_000),
    (3_599_999, 2_437_200),  # A = 3,596,000: 0.7 A − 80,000
    (3_600_000, 2_440_000),
    (3_600_001, 2_440_000),
    (6_599_999, 4_836_800),  # A = 6,596,000: 0.8 A − 440,000
    (6_600_000, 4_840_000),  # no rounding from here: 0.9 P − 1,100,000
    (6_600_001, 4_840_000),
    (6_600_010, 4_840_009),
    (8_499_999, 6_549_999),
    (8_500_000, 6_550_000),
    (8_500_001, 6_550_001),  # flat 1,950,000 deduction
    (15_000_000, 13_050_000),
]


@pytest.mark.parametrize(("payment", "income"), EDGES_2024)
@pytest.mark.parametrize("year", [2020, 2023, 2024])
def test_employment_income_2020_to_2024(payment: int, income: int, year: int) -> None:
    assert tax.employment_income(payment, year) == income


@pytest.mark.parametrize(
    ("payment", "income_2024", "income_2025"),
    [
        (600_000, 50_000, 0),
        (650_000, 100_000, 0),
        (650_999, 100_999, 0),
        (651_000, 101_000, 1_000),
        (1_625_000, 1_074_000, 975_000),
        (1_700_000, 1_120_000, 1_050_000),
        (1_899_999, 1_247_200, 1_249_999),  # 2024: A = 1,896,000, 0.7 A − 80,000
        (1_900_000, 1_250_000, 1_250_000),  # where the 650,000 minimum meets the 30 % bracket
        (1_900_001, 1_250_000, 1_250_000),
        (1_903_999, 1_250_000, 1_250_000),
        (1_904_000, 1_252_800, 1_252_800),
        (5_000_000, 3_560_000, 3_560_000),
    ],
)
def test_2025_minimum_deduction(payment: int, income_2024: int, income_2025: int) -> None:
    assert tax.employment_income(payment, 2024) == income_2024
    assert tax.employment_income(payment, 2025) == income_2025
    assert tax.employment_income(payment, 2026) == income_2025  # the 2025 rules carry on


@pytest.mark.parametrize("year", [2020, 2024, 2025])
def test_small_payments_give_zero_income(year: int) -> None:
    for payment in (0, 1, 100_000, 550_000, 550_999):
        assert tax.employment_income(payment, year) == 0
        assert tax.employment_deduction(payment, year) == payment


def test_income_never_decreases_with_payment() -> None:
    for year in (2024, 2025):
        incomes = [tax.employment_income(p, year) for p in range(0, 9_000_000, 997)]
        assert incomes == sorted(incomes)


def test_deduction_is_payment_minus_income() -> None:
    assert tax.employment_deduction(1_625_000, 2024) == 551_000
    assert tax.employment_deduction(1_800_000, 2024) == 620_000  # 40 % − 100,000
    assert tax.employment_deduction(3_600_000, 2024) == 1_160_000  # 30 % + 80,000
    assert tax.employment_deduction(6_600_000, 2024) == 1_760_000  # 20 % + 440,000
    assert tax.employment_deduction(8_500_000, 2024) == 1_950_000
    assert tax.employment_deduction(12_000_000, 2024) == 1_950_000
    assert tax.employment_deduction(1_800_000, 2025) == 650_000
    assert tax.employment_deduction(3_601_999, 2024) == 1_161_999  # 1,160,000 on A plus the rounding


def test_rules_before_2020_are_refused() -> None:
    with pytest.raises(ValueError):
        tax.employment_income(3_000_000, 2019)
    with pytest.raises(ValueError):
        tax.employment_income(-1, 2024)


def test_income_adjustment_deduction() -> None:
    assert tax.income_adjustment_deduction(8_500_000) == 0
    assert tax.income_adjustment_deduction(8_500_001) == 1  # rounded up
    assert tax.income_adjustment_deduction(9_000_000) == 50_000
    assert tax.income_adjustment_deduction(12_000_000) == 150_000


@pytest.mark.parametrize(
    ("income", "year", "amount"),
    [
        (3_000_000, 2024, 480_000),
        (24_000_001, 2024, 320_000),
        (25_000_001, 2024, 0),
        (1_320_000, 2025, 950_000),
        (1_320_001, 2025, 880_000),
        (3_360_001, 2025, 680_000),
        (4_890_001, 2025, 630_000),
        (6_550_001, 2025, 580_000),
        (3_000_000, 2027, 580_000),  # the 令和7・8年分 additions end
        (23_500_001, 2025, 480_000),
    ],
)
def test_basic_deduction(income: int, year: int, amount: int) -> None:
    assert tax.basic_deduction(income, year) == amount


def test_spouse_deduction() -> None:
    assert tax.spouse_deduction(4_000_000, 0, elderly=False, tax_year=2024) == 380_000
    assert tax.spouse_deduction(4_000_000, 0, elderly=True, tax_year=2024) == 480_000
    assert tax.spouse_deduction(9_200_000, 0, elderly=False, tax_year=2024) == 260_000
    assert tax.spouse_deduction(10_000_001, 0, elderly=False, tax_year=2024) == 0
    assert tax.spouse_deduction(4_000_000, 500_000, elderly=False, tax_year=2024) == 380_000  # 特別控除
    assert tax.spouse_deduction(4_000_000, 960_000, elderly=False, tax_year=2024) == 360_000
    assert tax.spouse_deduction(4_000_000, 1_330_000, elderly=False, tax_year=2024) == 30_000
    assert tax.spouse_deduction(4_000_000, 1_330_001, elderly=False, tax_year=2024) == 0
    assert tax.spouse_deduction(4_000_000, 570_000, elderly=True, tax_year=2025) == 480_000  # 580k limit
    assert tax.spouse_deduction(4_000_000, 570_000, elderly=True, tax_year=2024) == 380_000


def test_income_tax_brackets() -> None:
    assert tax.income_tax(-5) == 0
    assert tax.income_tax(1_949_999) == 97_450  # 5 % of 1,949,000
    assert tax.income_tax(3_000_000) == 202_500
    assert tax.income_tax(7_000_000) == 974_000
