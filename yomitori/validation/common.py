"""Rules several forms share: legal age, postal code vs address, municipality names, repeated 個人番号, the tax year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from yomitori.name_readings import KANA_SUFFIX, fits
from yomitori.validation.findings import ERROR, WARNING, Doc, Finding
from yomitori.validation.postal import (
    address_places,
    fold,
    known_municipality,
    municipalities_of,
    postal_places,
    split_prefecture,
)
from yomitori.validation.rules import rule, year_label

HOKOKUSHO, SOUKATSU, IDOU = "kyuyo_shiharai_hokokusho", "kyuyo_soukatsuhyo", "idou_todokede"

# (postal code key, address key) printed together on each form.
POSTAL_PAIRS = {
    SOUKATSU: (("payer_postal_code", "payer_address"),),
    IDOU: (("payer_postal_code", "payer_address"), ("address_after_postal_code", "address_after")),
}


def age_on(birth: date, day: date) -> int:
    """Age at the end of `day` as the law counts it: one grows a year older on the day before the birthday.

    So at 31 December a person born on 1 January has already reached the next age (年齢計算ニ関スル法律):
    for 令和6年分, 16歳未満 means born on or after 2009-01-02.
    """
    after = day + timedelta(days=1)
    return after.year - birth.year - ((after.month, after.day) < (birth.month, birth.day))


def year_end(year: int) -> date:
    return date(year, 12, 31)


# ---------------------------------------------------------------------------------------------
# Postal code vs address.
def _place_names(places: frozenset[tuple[str, str]]) -> str:
    return "・".join(sorted(f"{p}{c}" for p, c in places))


def postal_agreement(doc: Doc, code_key: str, address_key: str) -> Iterator[Finding]:
    """The address's prefecture and municipality (when it names them) are those of the postal code."""
    code, address = doc.text(code_key), doc.text(address_key)
    if code is None or address is None:
        return
    places = postal_places(code)
    if places is None:  # an unknown code is reported by the field check
        return
    written, named = address_places(address)
    if named is not None:
        agrees = bool(named & places)
    elif written is not None:  # a prefecture, then no municipality of it we know
        agrees = False
    else:  # written from the 町域 on: nothing to compare
        return
    if not agrees and written is not None and all(p != written for p, _ in places):
        why = f"{doc.label(address_key)}の都道府県（{written}）と違います"
    elif not agrees:
        why = f"{doc.label(address_key)}の市区町村と一致しません"
    else:
        return
    yield doc.finding("postal_code_address_mismatch", (code_key, address_key),
                      f"{doc.label(code_key)}（{code}）は{_place_names(places)}の番号で、{why}")


def _register_postal(form: str, code_key: str, address_key: str) -> None:
    def postal_code_address(doc: Doc) -> Iterator[Finding]:
        return postal_agreement(doc, code_key, address_key)

    postal_code_address.__name__ = f"postal_{address_key}"
    rule(form, code_key, address_key)(postal_code_address)


for _form, _pairs in POSTAL_PAIRS.items():
    for _code_key, _address_key in _pairs:
        _register_postal(_form, _code_key, _address_key)


# ---------------------------------------------------------------------------------------------
# Names and their フリガナ.
NAMED_PEOPLE = {
    HOKOKUSHO: ("recipient_name", "spouse_name",
                *(f"{who}_{i}_name" for who in ("dependent", "under16") for i in range(1, 5))),
    IDOU: ("employee_name",),
}


def _register_reading(form: str, name_key: str) -> None:
    def name_reading(doc: Doc) -> Iterator[Finding]:
        """A フリガナ that is a dictionary reading of the name beside it is vouched for by the name. One that is not
        is no error: many names are read in ways no dictionary lists."""
        name, kana = doc.text(name_key), doc.text(name_key + KANA_SUFFIX)
        if name and len(name.split()) != 2:
            # 姓 and 名 with one space between. A gap in handwriting read as a space (柴田 亮 → 柴 田 亮) would carry
            # its フリガナ with it (シバ タ リョウ is a reading of 柴 田 亮), so neither vouches for the other then.
            keys = (name_key, name_key + KANA_SUFFIX) if kana else (name_key,)
            yield doc.finding("name_parts", keys, f"{doc.label(name_key)}の姓と名の区切りが読み取れません", WARNING)
        elif name and kana and fits(name, kana):
            doc.confirm(name_key + KANA_SUFFIX)

    name_reading.__name__ = f"reading_{name_key}"
    rule(form, name_key, name_key + KANA_SUFFIX)(name_reading)


for _form, _names in NAMED_PEOPLE.items():
    for _name_key in _names:
        _register_reading(_form, _name_key)


# ---------------------------------------------------------------------------------------------
# Municipality names.
def addressee_known(doc: Doc) -> Iterator[Finding]:
    name = doc.text("addressee_municipality")
    if name is not None and not known_municipality(name.removesuffix("長")):
        yield doc.finding("municipality_unknown", ("addressee_municipality",),
                          f"{doc.label('addressee_municipality')}の市区町村名（{name}）が見つかりません", WARNING)


rule(SOUKATSU, "addressee_municipality")(addressee_known)
rule(IDOU, "addressee_municipality")(addressee_known)


@rule(IDOU, "address_jan1", "addressee_municipality")
def jan1_address_in_addressee(doc: Doc) -> Iterator[Finding]:
    """The 異動届 goes to the municipality where the employee lived on 1 January."""
    name, address = doc.text("addressee_municipality"), doc.text("address_jan1")
    if name is None or address is None or not known_municipality(name):
        return
    _, named = address_places(address)
    if named is None:
        return
    addressee = fold(split_prefecture(name)[1])
    wards = {fold(c) for _, c in named}  # 横浜市中区 written as the addressee
    if addressee not in municipalities_of(named) and addressee not in wards:
        yield doc.finding("address_jan1_municipality_mismatch", ("address_jan1", "addressee_municipality"),
                          f"{doc.label('address_jan1')}が{doc.label('addressee_municipality')}（{name}）の"
                          "区域にありません", WARNING)


# ---------------------------------------------------------------------------------------------
# 個人番号 repeated within one document (a person cannot be his own dependent).
@rule(HOKOKUSHO, "recipient_my_number", "spouse_my_number",
      *(f"{p}_{i}_my_number" for p in ("dependent", "under16") for i in range(1, 5)))
def repeated_my_number(doc: Doc) -> Iterator[Finding]:
    seen: dict[str, list[str]] = {}
    for key, field in doc.fields.items():
        if field.type == "my_number" and (number := doc.text(key)) is not None:
            seen.setdefault(number, []).append(key)
    for keys in seen.values():
        if len(keys) > 1:
            names = "と".join(doc.label(k) for k in keys)
            yield doc.finding("duplicate_my_number", tuple(keys), f"{names}に同じ個人番号が書かれています", ERROR)


# ---------------------------------------------------------------------------------------------
# The tax year the caller expects vs the one printed.
def tax_year_expected(doc: Doc) -> Iterator[Finding]:
    printed = doc.number("tax_year")
    if printed is not None and doc.tax_year is not None and printed != doc.tax_year:
        yield doc.finding("tax_year_unexpected", ("tax_year",),
                          f"{doc.label('tax_year')}が{year_label(printed)}で、この処理の対象年"
                          f"（{year_label(doc.tax_year)}）と違います", WARNING)


rule(HOKOKUSHO, "tax_year")(tax_year_expected)
rule(SOUKATSU, "tax_year")(tax_year_expected)
