"""Export profiles: YAML that maps contract fields and transforms onto a target's import columns, its encoding and
line ends. Validated like keying scenarios (bots/scenario.py): every problem names the file and line.

A profile is either shipped (yomitori/standard/profiles/NAME.yaml: `315`, `idou-example`) or a file path.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yomitori.bots.scenario import LINE_KEY, _build, _line_of, _LineLoader
from yomitori.errors import ExitCode, YomitoriError
from yomitori.forms_templates.contract import contract_forms

Transform = Literal["text", "kana", "digits", "amount", "count", "flag", "code", "flags", "nenbun", "era", "year",
                    "month", "day", "date"]
# What each transform writes: the half-width characters it may produce (None: any JIS X 0201 / JIS X 0208).
DIGITS = "0123456789"
PART_OF_DATE = ("era", "year", "month", "day")


class ProfileError(YomitoriError):
    exit_code = ExitCode.invalid_config

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        super().__init__("\n".join(problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Option(_Model):
    """A value set per export (作成区分, 提出先市町村コード …), with its default and what it may be."""

    default: str = ""
    choices: list[str] | None = None
    check: Literal["local_government_code"] | None = None
    follows: dict[str, Any] | None = None  # {option: NAME, codes: {value: this}}: derived unless given
    help: str = ""


class Column(_Model):
    item_no: int | None = None  # the item number in the layout's specification (checked: its position)
    item: str  # the target's column name (the header row, when the profile writes one)
    width: Literal["half", "full", "any"] = "any"
    length: int | None = Field(None, gt=0)  # at most this many characters
    field: str | None = None
    const: str | None = None
    option: str | None = None
    default: str = ""  # written when a carried column has nothing to carry
    transform: Transform | None = None
    format: str | None = None  # transform date: strftime pattern (default %Y%m%d)
    codes: dict[str, str] | None = None  # transform code: contract choice → written code
    blank: str = ""  # transform code/flags: what a null value is written as
    flags: dict[str, str] | None = None  # transform flags: checkbox field → code, the first true one is written
    era_from: str | None = None  # transform year without an era column: the era of this field's value
    chars: Literal["digits", "phone"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Column:
        sources = [x for x in (self.field, self.const, self.option) if x is not None]
        if len(sources) > 1:
            raise ValueError("a column takes one of field, const and option")
        if self.transform == "flags" and not self.flags:
            raise ValueError("transform flags needs flags: {checkbox_field: code}")
        if self.transform == "code" and not self.codes:
            raise ValueError("transform code needs codes: {choice: code}")
        if self.transform not in (None, "flags") and self.field is None:
            raise ValueError(f"transform {self.transform} needs a field")
        return self

    @property
    def source_fields(self) -> list[str]:
        if self.transform == "flags":
            return list(self.flags or {})
        return [self.field] if self.field else []

    @property
    def allowed(self) -> str | None:
        """The only characters a half-width column may hold, when it is a number or a code."""
        if self.chars == "phone":
            return DIGITS + "-"
        if self.chars == "digits" or self.transform in ("amount", "count", "flag", "nenbun", *PART_OF_DATE):
            return DIGITS
        return None


class Profile(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    title: str = ""
    form: str
    encoding: Literal["cp932", "utf-8", "utf-8-sig"] = "cp932"
    line_end: Literal["crlf", "lf"] = "crlf"
    header: bool = False
    delimiter: str = Field(",", min_length=1, max_length=1)
    # Refuse a record holding a character outside JIS X 0208 / 0201 even when the encoding could write it.
    strict_characters: bool = True
    options: dict[str, Option] = {}
    columns: list[Column] = Field(min_length=1)
    path: str = ""

    @property
    def newline(self) -> str:
        return "\r\n" if self.line_end == "crlf" else "\n"

    def option_values(self, given: dict[str, str] | None = None, carried: dict[str, str] | None = None
                      ) -> dict[str, str]:
        """Options for one record: given on the command line, else carried from its submission, else default."""
        given, carried = given or {}, carried or {}
        out: dict[str, str] = {}
        for name, opt in self.options.items():
            if name in given:
                out[name] = given[name]
            elif name in carried:
                out[name] = carried[name]
            elif opt.follows and out.get(str(opt.follows.get("option"))) is not None:
                out[name] = str((opt.follows.get("codes") or {}).get(out[str(opt.follows["option"])], opt.default))
            else:
                out[name] = opt.default
        return out

    def check_options(self, given: dict[str, str]) -> None:
        from yomitori.standard.chars import local_government_code_ok

        problems = []
        for name, value in given.items():
            opt = self.options.get(name)
            if opt is None:
                problems.append(f"profile {self.name} has no option {name!r} (it has: {', '.join(self.options)})")
            elif opt.choices is not None and value not in opt.choices:
                problems.append(f"{name}: {value!r} is not one of {', '.join(opt.choices)} ({opt.help})")
            elif opt.check == "local_government_code" and value and not local_government_code_ok(value):
                problems.append(f"{name}: {value!r} is not a 6-digit 全国地方公共団体コード with a valid check digit")
        if problems:
            raise YomitoriError("; ".join(problems))


ALIASES = {"kyuhou_315": "315"}  # 給報 315, the name the README uses


def shipped_profiles() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(__package__).joinpath("profiles").iterdir()
                  if p.name.endswith(".yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (`315`), or a profile file."""
    name_or_path = ALIASES.get(str(name_or_path), name_or_path)
    text_path = Path(name_or_path)
    shipped = resources.files(__package__).joinpath("profiles", f"{name_or_path}.yaml")
    if re.fullmatch(r"[A-Za-z0-9_-]+", str(name_or_path)) and shipped.is_file():
        return parse_profile(shipped.read_text(encoding="utf-8"), f"profiles/{name_or_path}.yaml")
    try:
        text = text_path.read_text(encoding="utf-8")
    except OSError as e:
        raise ProfileError(str(name_or_path), [f"{name_or_path}: no such profile (shipped: "
                                               f"{', '.join(shipped_profiles())}) and cannot read it as a file "
                                               f"({e.strerror})"]) from None
    return parse_profile(text, str(name_or_path))


def parse_profile(text: str, path: str) -> Profile:
    loader = _LineLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ProfileError(path, [f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: "
                                  f"{getattr(e, 'problem', e)}"]) from None
    finally:
        loader.dispose()
    if root is None:
        raise ProfileError(path, [f"{path}:1: the file is empty"])
    lines: dict[tuple[Any, ...], int] = {}
    data = _build(root, (), lines, loader)
    if not isinstance(data, dict):
        raise ProfileError(path, [f"{path}:1: a profile is a mapping (name:, form:, columns:, ...)"])
    for column in data.get("columns") or []:
        if isinstance(column, dict):
            column.pop(LINE_KEY, None)  # the scenario loader's stamp; lines[] has the line already
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            line, where = _line_of(tuple(err["loc"]), data, lines)
            problems.append(f"{path}:{line}: {where}: {err['msg'].removeprefix('Value error, ')}")
        raise ProfileError(path, sorted(set(problems))) from None
    problems = [f"{path}:{lines.get(loc, 1)}: {msg}" for loc, msg in _meaning(profile)]
    if problems:
        raise ProfileError(path, problems)
    profile.path = path
    return profile


def _meaning(p: Profile) -> list[tuple[tuple[Any, ...], str]]:
    forms = contract_forms()
    if p.form not in forms:
        return [(("form",), f"form: {p.form!r} is not a form of the contract ({', '.join(forms)})")]
    fields = forms[p.form].fields
    out: list[tuple[tuple[Any, ...], str]] = []
    for i, c in enumerate(p.columns):
        at = ("columns", i)
        if c.item_no is not None and c.item_no != i + 1:
            out.append((at, f"columns[{i}]: item {c.item_no} stands at position {i + 1}; the layout's order is its "
                            "item numbers"))
        for key in c.source_fields + ([c.era_from] if c.era_from else []):
            if key not in fields:
                out.append((at, f"columns[{i}]: {key!r} is not a field of {p.form}"))
        if c.option is not None and c.option not in p.options:
            out.append((at, f"columns[{i}]: option {c.option!r} is not declared under options:"))
        if c.field in fields and c.transform in (None, "text", "kana") and fields[c.field].type in (
                "amount", "count", "date", "year", "checkbox", "choice"):
            out.append((at, f"columns[{i}]: {c.field} is a {fields[c.field].type}; give it a transform"))
        if c.transform in PART_OF_DATE and c.field in fields and fields[c.field].type != "date":
            out.append((at, f"columns[{i}]: transform {c.transform} takes a date; {c.field} is "
                            f"{fields[c.field].type}"))
    return out
