"""Form templates: the declarative layouts yomitori reads, one YAML file per layout."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from .contract import contract_forms
from .schema import FieldTemplate, LayoutTemplate, Option

__all__ = [
    "FieldTemplate", "LayoutTemplate", "Option", "contract_forms", "load_template", "template_paths", "templates",
]


class TemplateError(ValueError):
    """A template file that does not load; the message names the file."""


def load_template(path: str | Path) -> LayoutTemplate:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return LayoutTemplate.model_validate(raw)
    except Exception as exc:  # pydantic and YAML errors alike: name the file
        raise TemplateError(f"{path}: {exc}") from exc


# Folders beside the layouts that hold other data (the contract, label wordings).
NOT_LAYOUTS = ("contract", "wordings")


def template_paths() -> list[Path]:
    """The bundled layout files, one per layout."""
    root = Path(str(resources.files(__package__)))
    return [p for p in sorted(root.glob("*/*.yaml")) if p.parent.name not in NOT_LAYOUTS]


@cache
def templates() -> dict[str, LayoutTemplate]:
    """Every bundled layout, by id `form/layout`."""
    found: dict[str, LayoutTemplate] = {}
    for path in template_paths():
        t = load_template(path)
        found[t.id] = t
    return found
