"""The template format: one YAML file describes one layout of one form.

Coordinates are millimetres from the top-left corner of the page, boxes are `[x, y, w, h]`.
A template carries everything needed both to read a scan (where each value is, how it is
written, which characters it may contain) and to print the blank form (the generator and the
blank reference used for form dropout are rendered from it). Adding a layout is adding a file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .contract import ContractField, ValueType, contract_forms

Box = Annotated[tuple[float, float, float, float], Field(description="[x, y, w, h] in mm")]

# How a value is written on paper.
#   text      free writing, one or more lines, read by the recognizer
#   cells     one character per printed cell (個人番号, 郵便番号, ...); `cells` gives the count
#   choice    printed options, one circled or ticked, or its printed number written in a box;
#             each option maps to a contract code, whatever number the municipality prints
#   checkbox  a cell that is marked or not
#   date      era printed as options (circled, ticked or its number written), written, or preprinted;
#             then year / month / day parts
Kind = Literal["text", "cells", "choice", "checkbox", "date"]

# How one of several printed options is chosen on paper.
#   circle    a ring drawn around the option's box (the whole label, or only its printed number)
#   tick      a tick in the small square printed at the left end of the option's box
#   write     the option's printed `number` written in a box (a legend lists number → option)
Mark = Literal["circle", "tick", "write"]

# Character sets the recognizer's decoder may emit for a field (see ocr/charsets.py).
Charset = Literal["any", "digits", "amount", "kana", "date", "phone", "postal", "number_text"]

DEFAULT_CHARSET: dict[str, Charset] = {
    "text": "any", "kana": "kana", "digits": "digits", "my_number": "digits",
    "corporate_number": "digits", "payer_number": "digits", "amount": "digits", "count": "digits",
    "date": "date", "year": "number_text", "month": "digits", "postal_code": "postal",
    "phone": "phone", "checkbox": "any", "choice": "any",
}

ERAS = ("meiji", "taisho", "showa", "heisei", "reiwa")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One printed option of a choice field (or of a date's era)."""

    code: str
    label: str = Field(description="printed text, e.g. '1 退職' or '有'")
    box: Box = Field(description="the area a circle or tick around this option covers (the legend entry for 'write')")
    number: str | None = Field(None, description="what is written for this option when the mark is 'write'")


class DateParts(_Strict):
    era: list[Option] = Field(default_factory=list, description="era options; empty if the era is written")
    era_mark: Mark = Field("circle", description="how an era option is chosen")
    era_box: Box | None = Field(
        None, description="where the era (or, for era_mark 'write', its number) is written, or printed when fixed")
    era_fixed: str | None = Field(None, description="code of the era printed on the form: nothing to choose")
    year: Box
    month: Box
    day: Box | None = None

    @model_validator(mode="after")
    def _era_is_readable(self) -> DateParts:
        if self.era_fixed is not None and self.era:
            raise ValueError("a fixed era has no era options")
        if self.era_mark == "write":
            _check_numbers("era", self.era)
            if self.era_box is None:
                raise ValueError("era_mark 'write' needs 'era_box' for the written number")
        return self


class FieldTemplate(_Strict):
    key: str
    type: ValueType
    kind: Kind = Field("text", description="defaults from type and parts: choice, checkbox, cells, date, text")
    box: Box
    label: str | None = Field(None, description="printed label near the field")
    label_box: Box | None = None
    lines: int = Field(1, ge=1, le=4, description="lines of writing the box holds")
    cells: int | None = Field(None, ge=1, le=20)
    options: list[Option] = Field(default_factory=list)
    mark: Mark = Field("circle", description="how options are chosen on paper")
    code_box: Box | None = Field(None, description="where the chosen option's number is written (mark 'write')")
    date: DateParts | None = None
    charset: Charset | None = Field(None, description="overrides the value type's default charset")
    suffix: str | None = Field(None, description="unit printed inside the box, e.g. 円 or 人")

    @property
    def allowed(self) -> Charset:
        return self.charset or DEFAULT_CHARSET[self.type]

    @model_validator(mode="before")
    @classmethod
    def _default_kind(cls, raw: object) -> object:
        if isinstance(raw, dict) and "kind" not in raw:
            if raw.get("type") in ("choice", "checkbox"):
                raw = {**raw, "kind": raw["type"]}
            elif "date" in raw:
                raw = {**raw, "kind": "date"}
            elif "cells" in raw:
                raw = {**raw, "kind": "cells"}
        return raw

    @model_validator(mode="after")
    def _kind_has_its_parts(self) -> FieldTemplate:
        if self.kind == "cells" and not self.cells:
            raise ValueError(f"{self.key}: kind 'cells' needs 'cells'")
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError(f"{self.key}: kind 'choice' needs at least two options")
        if self.kind == "date" and self.date is None:
            raise ValueError(f"{self.key}: kind 'date' needs 'date' parts")
        if self.kind == "choice" and self.mark == "write":
            _check_numbers(self.key, self.options)
            if self.code_box is None:
                raise ValueError(f"{self.key}: mark 'write' needs 'code_box' for the written number")
        return self


def _check_numbers(what: str, options: list[Option]) -> None:
    numbers = [o.number for o in options]
    if None in numbers or len(set(numbers)) != len(numbers):
        raise ValueError(f"{what}: mark 'write' needs a distinct 'number' on every option")


class Decor(_Strict):
    """Printed matter that is not a field: titles, headings, ruled boxes, fixed text."""

    text: str | None = None
    box: Box
    size: float | None = Field(None, description="font size in mm; default fits the box")
    ruled: bool = Field(False, description="draw the box outline")
    align: Literal["left", "center", "right"] = "left"
    line_mm: float | None = Field(None, description="rule weight; default the layout's line_mm")


class Page(_Strict):
    width_mm: float
    height_mm: float


class LayoutTemplate(_Strict):
    form: str
    layout: str
    title: str = Field(description="the printed title, used by classification")
    municipality: str | None = None
    page: Page
    frame: Box = Field(description="outer ruled frame, the registration anchor")
    frame_mm: float = Field(0.5, ge=0.2, description="weight of the outer frame (it must survive a fax)")
    line_mm: float = Field(0.25, gt=0, description="weight of ruled boxes: official forms heavier, printouts lighter")
    title_box: Box
    decor: list[Decor] = Field(default_factory=list)
    fields: list[FieldTemplate]

    @property
    def id(self) -> str:
        return f"{self.form}/{self.layout}"

    def field(self, key: str) -> FieldTemplate:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @model_validator(mode="after")
    def _speaks_the_contract(self) -> LayoutTemplate:
        forms = contract_forms()
        if self.form not in forms:
            raise ValueError(f"form '{self.form}' is not in the contract")
        contract = forms[self.form].fields
        seen: set[str] = set()
        for f in self.fields:
            if f.key in seen:
                raise ValueError(f"field '{f.key}' appears twice")
            seen.add(f.key)
            if f.key not in contract:
                raise ValueError(f"field '{f.key}' is not in the contract for {self.form}")
            _check_against_contract(f, contract[f.key])
        return self


def _check_against_contract(f: FieldTemplate, c: ContractField) -> None:
    if f.type != c.type:
        raise ValueError(f"field '{f.key}': type {f.type} but the contract says {c.type}")
    if f.type == "choice":
        codes = {o.code for o in f.options}
        unknown = codes - set(c.choices)
        if unknown:
            raise ValueError(f"field '{f.key}': codes {sorted(unknown)} are not in the contract")
    if f.kind == "date" and f.date:
        for code in [o.code for o in f.date.era] + ([f.date.era_fixed] if f.date.era_fixed else []):
            if code not in ERAS:
                raise ValueError(f"field '{f.key}': era code '{code}' is not one of {ERAS}")
