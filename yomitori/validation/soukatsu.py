"""Rules of the 給与支払報告書（総括表）: head counts, the filing date, and the bundle of 明細書 it covers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from yomitori.validation.common import HOKOKUSHO, SOUKATSU
from yomitori.validation.findings import ERROR, WARNING, Doc, Finding, wareki_date
from yomitori.validation.rules import rule, year_label

COLLECTION_COUNTS = ("special_collection_count", "ordinary_collection_retired_count",
                     "ordinary_collection_other_count")


@rule(SOUKATSU, "reported_recipients", "total_recipients", *COLLECTION_COUNTS, identity=True)
def recipient_counts(doc: Doc) -> Iterator[Finding]:
    """報告人員 = 特別徴収対象者 + 普通徴収対象者 (退職者, その他), and no more than 受給者総人員."""
    reported, total = doc.number("reported_recipients"), doc.number("total_recipients")
    present = [k for k in COLLECTION_COUNTS if doc.has(k)]
    if reported is not None and present and any(doc.number(k) is not None for k in present):
        parts = sum(doc.n(k) for k in present)
        if parts != reported:
            yield doc.finding("reported_recipients_mismatch", ("reported_recipients", *present),
                              f"{doc.label('reported_recipients')}（{reported}人）が特別徴収・普通徴収の対象者数の計"
                              f"（{parts}人）と一致しません")
    if reported is not None and total is not None and reported > total:
        yield doc.finding("reported_exceeds_total", ("reported_recipients", "total_recipients"),
                          f"{doc.label('reported_recipients')}（{reported}人）が{doc.label('total_recipients')}"
                          f"（{total}人）を超えています")


@rule(SOUKATSU, "submitted_date", "tax_year")
def submitted_date(doc: Doc) -> Iterator[Finding]:
    """Filed after the year's payroll closes (due 31 January of the next year); some layouts print 年度."""
    submitted = doc.day("submitted_date")
    if submitted is None:
        return
    if (submitted - doc.today).days > 31:
        yield doc.finding("submitted_date_in_future", ("submitted_date",),
                          f"{doc.label('submitted_date')}（{wareki_date(submitted)}）が1か月以上先です", WARNING)
    elif doc.tax_year is not None and not date(doc.tax_year, 1, 1) <= submitted <= date(doc.tax_year + 2, 12, 31):
        yield doc.finding("submitted_date_implausible", ("submitted_date", "tax_year"),
                          f"{doc.label('submitted_date')}（{wareki_date(submitted)}）が{year_label(doc.tax_year)}の"
                          "報告としてありそうな時期ではありません", WARNING)


def check_bundle(soukatsu_values: Mapping[str, object], meisai_count: int, *,
                 meisai: Sequence[Mapping[str, object]] = ()) -> list[Finding]:
    """A 総括表 against the 明細書 pages linked to it: 報告人員 = their number; same year and payer when given.

    `meisai` (optional) are the linked 明細書' values; findings about them name the 総括表's keys.
    """
    doc = Doc(SOUKATSU, soukatsu_values)
    out: list[Finding] = []
    reported = doc.number("reported_recipients")
    label = doc.label("reported_recipients")
    if reported is None:
        out.append(doc.finding("bundle_count_unchecked", ("reported_recipients",),
                               f"{label}が空欄のため、明細書の枚数（{meisai_count}枚）と照合できません", WARNING))
    elif reported != meisai_count:
        out.append(doc.finding("bundle_count_mismatch", ("reported_recipients",),
                               f"{label}（{reported}人）と添付の個人別明細書の枚数（{meisai_count}枚）が一致しません",
                               ERROR))
    year, payer = doc.number("tax_year"), doc.text("payer_number")
    other_years = sorted({y for m in meisai if (y := Doc(HOKOKUSHO, m).number("tax_year")) not in (None, year)})
    if year is not None and other_years:
        years = "・".join(year_label(y) for y in other_years)
        out.append(doc.finding("bundle_tax_year_mismatch", ("tax_year",),
                               f"{doc.label('tax_year')}（{year_label(year)}）と違う年分の明細書（{years}）が含まれています",
                               WARNING))
    if payer is not None:
        differing = sum(1 for m in meisai if (p := Doc(HOKOKUSHO, m).text("payer_number")) and p != payer)
        if differing:  # the numbers themselves are never quoted: a sole proprietor's is a 個人番号
            out.append(doc.finding("bundle_payer_mismatch", ("payer_number",),
                                   f"{doc.label('payer_number')}が総括表と違う明細書が{differing}枚あります", WARNING))
    return out
