"""Keying scenarios: the YAML format administrators write, its schema, and a loader whose errors name the line."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from yomitori.errors import ExitCode, YomitoriError
from yomitori.forms_templates.contract import contract_forms

from . import transforms

LINE_KEY = "__line__"  # the loader stamps each step mapping with its line number under this key
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*$")


class ScenarioError(YomitoriError):
    """A scenario that cannot be used: each problem names the file and line."""

    exit_code = ExitCode.invalid_config

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = str(path), problems
        super().__init__("\n".join(problems))


def parse_duration(v: Any) -> float:
    """Seconds from 10, 2.5, "10s", "500ms", "2m"."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    m = _DURATION.match(str(v))
    if not m:
        raise ValueError(f"not a duration: {v!r} (write e.g. 10s, 500ms, 2m)")
    return float(m[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m[2]]


Duration = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Target(_Model):
    """Where on the page: exactly one of label, role (with name), test_id, css, text, placeholder."""

    label: str | None = None
    role: str | None = None
    name: str | None = None
    test_id: str | None = None
    css: str | None = None
    text: str | None = None
    placeholder: str | None = None
    exact: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> Target:
        ways = [k for k in ("label", "role", "test_id", "css", "text", "placeholder") if getattr(self, k)]
        if len(ways) != 1:
            raise ValueError("name the element one way: exactly one of label, role, test_id, css, text, placeholder"
                             f" (got {', '.join(ways) or 'none'})")
        if self.name and not self.role:
            raise ValueError("name is only for role")
        return self

    def describe(self, i: str | None = None) -> str:
        for k in ("label", "role", "test_id", "css", "text", "placeholder"):
            if v := getattr(self, k):
                v = v.replace("{i}", i) if i else v
                extra = f", name={self.name!r}" if k == "role" and self.name else ""
                return f"{k}={v!r}{extra}"
        return "?"


class _Input(Target):
    """A target plus where the value comes from: a contract `field` (with transforms), a literal or a secret."""

    field: str | None = None
    value: str | int | bool | None = None
    secret: str | None = None
    transform: list[str] = []

    @field_validator("transform", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("transform")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for spec in v:
            transforms.parse_spec(spec)
        return v

    @model_validator(mode="after")
    def _one_source(self) -> _Input:
        sources = [k for k in ("field", "value", "secret") if getattr(self, k) is not None]
        if len(sources) != 1:
            raise ValueError(f"give exactly one of field, value, secret (got {', '.join(sources) or 'none'})")
        if self.transform and self.field is None:
            raise ValueError("transform applies to a field")
        return self


class Condition(_Model):
    """True when an element is visible or a text is on the page (waits up to `wait`)."""

    visible: Target | None = None
    text: str | None = None
    wait: Duration = 0.0

    @field_validator("wait", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> float:
        return parse_duration(v)

    @model_validator(mode="after")
    def _one(self) -> Condition:
        if (self.visible is None) == (self.text is None):
            raise ValueError("a condition is either visible: <element> or text: <words>")
        return self


class StepBase(_Model):
    line: int = Field(0, alias=LINE_KEY)
    name: str | None = None
    timeout: Duration | None = None
    when: str | None = None  # run only when this contract field has a value (not null / false)
    # A step that writes to the target: key_in's save (exactly one), or a lookup step that registers an employer.
    # --dry-run stops before it.
    commit: bool = False

    @field_validator("timeout", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> float | None:
        return None if v is None else parse_duration(v)


class GotoStep(StepBase):
    goto: str


class FillStep(StepBase):
    fill: _Input


class SelectSpec(_Input):
    by: Literal["value", "label"] = "value"


class SelectStep(StepBase):
    select: SelectSpec


class CheckStep(StepBase):
    check: _Input


class ClickSpec(Target):
    navigates: bool = False  # wait for the page this click loads
    dialog: Literal["accept", "dismiss"] | None = None  # answer the confirm() the click opens


class ClickStep(StepBase):
    click: ClickSpec


class WaitSpec(Target):
    state: Literal["visible", "hidden", "attached", "detached"] = "visible"


class WaitForStep(StepBase):
    wait_for: WaitSpec


class ExpectTextStep(StepBase):
    expect_text: str


class SendBackSpec(_Model):
    message: str | None = None
    message_from: Target | None = None

    @model_validator(mode="after")
    def _one(self) -> SendBackSpec:
        if (self.message is None) == (self.message_from is None):
            raise ValueError("send_back needs message or message_from (not both)")
        return self


class SendBackStep(StepBase):
    send_back: SendBackSpec


class ReadSpec(Target):
    field: str
    map: dict[str, str | bool | int | None] = {}  # screen text → contract value (有 → "yes")


class ReadStep(StepBase):
    read: ReadSpec


class IfStep(StepBase):
    if_: Condition = Field(alias="if")
    then: list[Step] = []
    else_: list[Step] = Field([], alias="else")


class RepeatSpec(_Model):
    over: list[int | str] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)


class RepeatStep(StepBase):
    repeat: RepeatSpec


ACTIONS = {"goto": GotoStep, "fill": FillStep, "select": SelectStep, "check": CheckStep, "click": ClickStep,
           "wait_for": WaitForStep, "expect_text": ExpectTextStep, "send_back": SendBackStep, "read": ReadStep,
           "if": IfStep, "repeat": RepeatStep}


def _action_of(v: Any) -> str | None:
    if not isinstance(v, dict):
        return next((f"step:{k}" for k, cls in ACTIONS.items() if isinstance(v, cls)), None)
    found = [k for k in ACTIONS if k in v]
    return f"step:{found[0]}" if len(found) == 1 else None


Step = Annotated[
    Annotated[GotoStep, Tag("step:goto")] | Annotated[FillStep, Tag("step:fill")]
    | Annotated[SelectStep, Tag("step:select")] | Annotated[CheckStep, Tag("step:check")]
    | Annotated[ClickStep, Tag("step:click")] | Annotated[WaitForStep, Tag("step:wait_for")]
    | Annotated[ExpectTextStep, Tag("step:expect_text")] | Annotated[SendBackStep, Tag("step:send_back")]
    | Annotated[ReadStep, Tag("step:read")] | Annotated[IfStep, Tag("step:if")]
    | Annotated[RepeatStep, Tag("step:repeat")],
    Discriminator(_action_of, custom_error_type="step_action",
                  custom_error_message=f"a step has exactly one action: {', '.join(ACTIONS)}"),
]
IfStep.model_rebuild()
RepeatSpec.model_rebuild()


class SecretRef(_Model):
    """A credential's source: an environment variable and/or a file; never the secret itself."""

    env: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_inline(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("a credential comes from env: VARIABLE or file: /path, never written in the scenario")
        return v

    @model_validator(mode="after")
    def _some(self) -> SecretRef:
        if not self.env and not self.file:
            raise ValueError("a credential comes from env: VARIABLE or file: /path (never written in the scenario)")
        return self

    def resolve(self, what: str) -> str:
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.file:
            p = Path(os.path.expanduser(self.file))
            if p.is_file():
                return p.read_text(encoding="utf-8").strip()
        where = " or ".join(x for x in (self.env and f"${self.env}", self.file) if x)
        raise YomitoriError(f"credential {what!r} is not set: provide {where}")


class Setting(_Model):
    env: str | None = None
    default: str | None = None


class Lookup(_Model):
    """Steps that search the target; it must then show either present_if or absent_if, never be left to guess."""

    steps: list[Step] = Field(min_length=1)
    present_if: Condition
    absent_if: Condition


class Retry(_Model):
    attempts: int = Field(3, ge=1, le=10)
    backoff: list[Duration] = [1.0, 3.0, 10.0]
    # A save sent whose answer never came is looked up this many times (timeouts.unknown_save apart), never keyed
    # again; still not found, the record goes to a person ("may have been saved: check").
    unknown_save_lookups: int = Field(3, ge=1, le=20)

    @field_validator("backoff", mode="before")
    @classmethod
    def _durs(cls, v: Any) -> Any:
        return [parse_duration(x) for x in v] if isinstance(v, list) else v


class Timeouts(_Model):
    step: Duration = 10.0
    navigation: Duration = 30.0
    unknown_save: Duration = 10.0  # the pause before each lookup of a save whose answer did not come

    @field_validator("step", "navigation", "unknown_save", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> float:
        return parse_duration(v)


class Scenario(_Model):
    """A whole scenario: how to log in, find a record, key it, and read it back."""

    name: str
    form: str
    base_url: str | Setting
    credentials: dict[str, SecretRef] = {}
    idempotency_key: list[str] = Field(min_length=1)
    # Records sharing these fields are never keyed at the same time (their lookup may register the employer).
    exclusive_by: list[str] = []
    timeouts: Timeouts = Timeouts()
    retry: Retry = Retry()
    session_expired: Condition | None = None
    login: list[Step] = Field(min_length=1)
    lookup: Lookup
    key_in: list[Step] = Field(min_length=1)
    verify: list[Step] = Field(min_length=1)
    path: str = ""  # set by the loader

    def url(self, override: str | None = None) -> str:
        if override:
            return override.rstrip("/")
        if isinstance(self.base_url, str):
            return self.base_url.rstrip("/")
        value = (self.base_url.env and os.environ.get(self.base_url.env)) or self.base_url.default
        if not value:
            raise YomitoriError(f"the target's address is not set: export {self.base_url.env}")
        return value.rstrip("/")


# ---------------------------------------------------------------------------------------------
# Loading with line numbers.
class _LineLoader(yaml.SafeLoader):
    """Builds plain data; every mapping that is a list item gets its line, and every node's line is recorded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[tuple[Any, ...], int] = {}


def _build(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], loader: _LineLoader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            key = loader.construct_object(k_node, deep=True)
            lines[(*path, key)] = k_node.start_mark.line + 1
            out[key] = _build(v_node, (*path, key), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            v = _build(item, (*path, i), lines, loader)
            if isinstance(v, dict):
                v[LINE_KEY] = item.start_mark.line + 1
            items.append(v)
        return items
    return loader.construct_object(node, deep=True)


def _line_of(loc: tuple[Any, ...], data: Any, lines: dict[tuple[Any, ...], int]) -> tuple[int, str]:
    """The nearest line for a pydantic error location, skipping union tags that are not data keys."""
    path: tuple[Any, ...] = ()
    node = data
    for part in loc:
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
            path = (*path, part)
        elif part in ("if_", "else_") and isinstance(node, dict) and part[:-1] in node:
            node = node[part[:-1]]
            path = (*path, part[:-1])
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top)"
    return lines.get(path, 1), where


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; every problem is reported as `file:line: where: what`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(path, [f"{path}: cannot read: {e.strerror}"]) from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | str) -> Scenario:
    """Validate a scenario given as text (one kept in the store); `path` is the name its problems carry."""
    loader = _LineLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ScenarioError(path, [f"{path}:{line}: not valid YAML: {getattr(e, 'problem', e)}"]) from None
    finally:
        loader.dispose()
    if root is None:
        raise ScenarioError(path, [f"{path}:1: the file is empty"])
    lines: dict[tuple[Any, ...], int] = {}
    data = _build(root, (), lines, loader)
    if not isinstance(data, dict):
        raise ScenarioError(path, [f"{path}:1: a scenario is a mapping (name:, form:, login:, ...)"])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            line, where = _line_of(tuple(err["loc"]), data, lines)
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{line}: {where}: {msg}")
        raise ScenarioError(path, sorted(set(problems), key=_line_key)) from None
    scenario.path = str(path)
    problems = [f"{path}:{line}: {msg}" for line, msg in _check_meaning(scenario, data, lines)]
    if problems:
        raise ScenarioError(path, problems)
    return scenario


def _line_key(problem: str) -> tuple[int, str]:
    m = re.search(r":(\d+): ", problem)
    return (int(m[1]) if m else 0, problem)


def _check_meaning(s: Scenario, data: dict[str, Any], lines: dict[tuple[Any, ...], int]) -> list[tuple[int, str]]:
    """What the schema cannot see: field keys exist in the contract, one commit step, known secrets."""
    problems: list[tuple[int, str]] = []
    forms = contract_forms()
    if s.form not in forms:
        return [(lines.get(("form",), 1), f"form: unknown form {s.form!r}; the contract has {', '.join(forms)}")]
    fields = forms[s.form].fields
    for section in ("idempotency_key", "exclusive_by"):
        for i, key in enumerate(getattr(s, section)):
            if key not in fields:
                problems.append((lines.get((section, i), 1), f"{section}: {key!r} is not a field of {s.form}"))

    def walk(steps: list[Any], section: str, loop: list[int | str] | None) -> None:
        for step in steps:
            for key in _fields_of(step):
                for i in loop or [None]:
                    k = key.replace("{i}", str(i)) if i is not None else key
                    if "{i}" in k:
                        problems.append((step.line, f"{section}: {key!r} uses {{i}} outside a repeat"))
                    elif k not in fields:
                        problems.append((step.line, f"{section}: {k!r} is not a field of {s.form}"))
            spec = getattr(step, "fill", None) or getattr(step, "select", None) or getattr(step, "check", None)
            if spec is not None and spec.secret is not None and spec.secret not in s.credentials:
                problems.append((step.line, f"{section}: secret {spec.secret!r} is not under credentials:"))
            if isinstance(step, IfStep):
                walk(step.then, section, loop)
                walk(step.else_, section, loop)
            if isinstance(step, RepeatStep):
                walk(step.repeat.steps, section, step.repeat.over)

    for section in ("login", "key_in", "verify"):
        walk(getattr(s, section), section, None)
    walk(s.lookup.steps, "lookup", None)
    commits = [st for st in _all_steps(s.key_in) if st.commit]
    if len(commits) != 1:
        problems.append((lines.get(("key_in",), 1), f"key_in: exactly one step must be marked commit: true "
                                                    f"(the one that saves); found {len(commits)}"))
    for section in ("login", "verify"):
        for st in _all_steps(getattr(s, section)):
            if st.commit:
                problems.append((st.line, f"{section}: steps here must not write; commit: true belongs in key_in "
                                          "(or lookup, for a step that registers something the record needs)"))
    for st in _all_steps(s.login) + _all_steps(s.lookup.steps) + _all_steps(s.key_in):
        if isinstance(st, ReadStep):
            problems.append((st.line, "read steps belong in verify:"))
    return sorted(problems)


def _fields_of(step: Any) -> list[str]:
    keys = [step.when] if step.when else []
    for attr in ("fill", "select", "check", "read"):
        spec = getattr(step, attr, None)
        if spec is not None and spec.field:
            keys.append(spec.field)
    return keys


def _all_steps(steps: list[Any]) -> list[Any]:
    out = []
    for st in steps:
        out.append(st)
        if isinstance(st, IfStep):
            out += _all_steps(st.then) + _all_steps(st.else_)
        if isinstance(st, RepeatStep):
            out += _all_steps(st.repeat.steps)
    return out


def action_of(step: Any) -> str:
    """The step's action word (fill, click, ...)."""
    tag = _action_of(step)
    return tag.removeprefix("step:") if tag else "?"
