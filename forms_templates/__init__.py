"""Form templates: the declarative layouts yomitori reads, one YAML file per layout."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from .contract import contract_forms
from .schema import FieldTemplate, LayoutTemplate, Option

__all__ = ["FieldTemplate", "LayoutTemplate", "Option", "contract_forms", "load_template", "templates"]


class TemplateError(ValueError):
    """A template file that does not load; the message names the file."""


def load_template(path: str | Path) -> LayoutTemplate:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return LayoutTemplate.model_validate(raw)
    except Exception as exc:  # pydantic and YAML errors alike: name the file
        raise TemplateError(f"{path}: {exc}") from exc


@cache
def templates() -> dict[str, LayoutTemplate]:
    """Every bundled layout, by id `form/layout`."""
    root = Path(str(resources.files(__package__)))
    found: dict[str, LayoutTemplate] = {}
    for path in sorted(root.glob("*/*.yaml")):
        if path.parent.name in ("contract", "wordings"):
            continue
        t = load_template(path)
        found[t.id] = t
    return found
