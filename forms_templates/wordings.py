"""How forms word their titles and labels, as data (`wordings/<form>.yaml`), beyond the contract's labels.

Classification names a form by its title and by how many of its labels a page prints; the layout-free reader
matches these wordings to a page's lines of text. A municipality whose form words a label otherwise adds it to
the file: no code changes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from .contract import contract_forms


class FormWordings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    form: str
    titles: tuple[str, ...]
    not_titles: tuple[str, ...] = ()  # other documents' titles that share a word with ours
    fields: dict[str, tuple[str, ...]] = {}

    @model_validator(mode="after")
    def _speaks_the_contract(self) -> FormWordings:
        forms = contract_forms()
        if self.form not in forms:
            raise ValueError(f"form '{self.form}' is not in the contract")
        unknown = set(self.fields) - set(forms[self.form].fields)
        if unknown:
            raise ValueError(f"{self.form}: fields {sorted(unknown)} are not in the contract")
        return self


@cache
def form_wordings() -> dict[str, FormWordings]:
    """Every form's wordings, by form key; a form without a file has its contract label as its one title."""
    root = resources.files(__package__).joinpath("wordings")
    found: dict[str, FormWordings] = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            try:
                w = FormWordings.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            except Exception as exc:  # name the file, as templates do
                raise ValueError(f"wordings/{entry.name}: {exc}") from exc
            found[w.form] = w
    for key, form in contract_forms().items():
        found.setdefault(key, FormWordings(form=key, titles=(form.label,)))
    return found
