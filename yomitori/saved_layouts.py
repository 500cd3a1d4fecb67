"""Layouts learned per tenant and kept in the store: every save a new version, validated as template files are.

A draft comes from a page's printed labels (`yomitori.layout_editor`); an administrator corrects it in the template
editor and saves it, and from then on pages of that layout are registered and read with its newest saved version,
as the bundled layouts of `forms_templates/` are. A draft (`active` False) is never read with.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlalchemy as sa
import yaml

from yomitori.errors import YomitoriError
from yomitori.forms_templates import LayoutTemplate, templates
from yomitori.store.db import StoreError
from yomitori.store.models import SavedLayout
from yomitori.store.repo import TenantRepo

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
EDGE_MM = 1.0  # a box may stand this far past the page's edge (a scan's margin), no further


class LayoutError(YomitoriError):
    """A layout that does not validate; `problems` lists every reason, in the words of the template loader."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(text: str) -> LayoutTemplate:
    """The YAML as a template, with the checks `forms_templates` applies to its files (`load_template`) and those
    a stored layout needs: a usable name, no bundled layout's id, every box on the page."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise LayoutError([f"YAML: {e}"]) from None
    try:
        t = LayoutTemplate.model_validate(raw)
    except Exception as e:  # pydantic's errors, one a line, as `load_template` reports them
        raise LayoutError(_pydantic_problems(e)) from None
    problems = []
    if not NAME.match(t.layout):
        problems.append(f"layout name {t.layout!r}: letters, digits, - and _ (at most 64)")
    if t.id in templates():
        problems.append(f"layout {t.id} is a bundled layout: save it under another name")
    pw, ph = t.page.width_mm, t.page.height_mm
    for f in t.fields:
        x, y, w, h = f.box
        if w <= 0 or h <= 0 or x < -EDGE_MM or y < -EDGE_MM or x + w > pw + EDGE_MM or y + h > ph + EDGE_MM:
            problems.append(f"field '{f.key}': box {list(f.box)} is not on the {pw:g}×{ph:g} mm page")
    if problems:
        raise LayoutError(problems)
    return t


def _pydantic_problems(e: Exception) -> list[str]:
    errors = getattr(e, "errors", None)
    if not callable(errors):
        return [str(e)]
    out = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append(f"{where}: {msg}" if where else msg)
    return out or [str(e)]


def dump(t: LayoutTemplate) -> str:
    """Template YAML as the bundled files are written (what `forms_templates` loads)."""
    raw = t.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)


def save(repo: TenantRepo, text: str, *, actor: str, active: bool = True, comment: str = "",
         page_id: int | None = None, image_sha256: str | None = None) -> SavedLayout:
    """Validate and keep as the next version of its layout; an invalid layout raises LayoutError, nothing saved."""
    t = parse(text)
    current = repo.session.scalar(sa.select(sa.func.max(SavedLayout.version)).where(
        SavedLayout.form == t.form, SavedLayout.layout == t.layout)) or 0
    if current and (page_id is None or image_sha256 is None):  # a new version keeps the scan it is edited on
        previous = get(repo, t.form, t.layout)
        page_id, image_sha256 = page_id or previous.page_id, image_sha256 or previous.image_sha256
    row = SavedLayout(form=t.form, layout=t.layout, version=current + 1, yaml=text, active=active,
                      page_id=page_id, image_sha256=image_sha256, comment=comment, created_by=actor)
    repo.session.add(row)
    repo.session.flush()
    repo.audit(actor, "layout.save" if active else "layout.draft", row, layout=f"{t.form}/{t.layout}",
               version=row.version, fields=len(t.fields))
    return row


def get(repo: TenantRepo, form: str, layout: str, version: int | None = None) -> SavedLayout:
    q = sa.select(SavedLayout).where(SavedLayout.form == form, SavedLayout.layout == layout)
    q = q.where(SavedLayout.version == version) if version is not None else q.order_by(SavedLayout.version.desc())
    row = repo.session.scalars(q.limit(1)).first()
    if row is None:
        raise StoreError(f"no saved layout {form}/{layout}" + (f" version {version}" if version is not None else "")
                         + f" in tenant {repo.code}")
    return row


def versions(repo: TenantRepo, form: str, layout: str) -> list[SavedLayout]:
    return list(repo.session.scalars(sa.select(SavedLayout).where(
        SavedLayout.form == form, SavedLayout.layout == layout).order_by(SavedLayout.version.desc())))


def latest(repo: TenantRepo) -> list[SavedLayout]:
    """The newest version of every layout (a draft or a saved one), by form and name."""
    newest = sa.select(SavedLayout.form, SavedLayout.layout, sa.func.max(SavedLayout.version).label("v")).group_by(
        SavedLayout.form, SavedLayout.layout).subquery()
    return list(repo.session.scalars(sa.select(SavedLayout).join(newest, sa.and_(
        SavedLayout.form == newest.c.form, SavedLayout.layout == newest.c.layout,
        SavedLayout.version == newest.c.v)).order_by(SavedLayout.form, SavedLayout.layout)))


def active_layouts(repo: TenantRepo) -> list[LayoutTemplate]:
    """The newest saved (active) version of each of the tenant's layouts, as templates to read pages with."""
    newest = sa.select(SavedLayout.form, SavedLayout.layout, sa.func.max(SavedLayout.version).label("v")).where(
        SavedLayout.active.is_(True)).group_by(SavedLayout.form, SavedLayout.layout).subquery()
    texts = repo.session.scalars(sa.select(SavedLayout.yaml).join(newest, sa.and_(
        SavedLayout.form == newest.c.form, SavedLayout.layout == newest.c.layout,
        SavedLayout.version == newest.c.v)).order_by(SavedLayout.form, SavedLayout.layout))
    out = []
    for text in texts:
        try:
            out.append(template_of(text))
        except LayoutError:  # the contract changed since it was saved: the editor shows why; read without it
            continue
    return out


@lru_cache(maxsize=256)
def template_of(text: str) -> LayoutTemplate:
    """One template object per stored text: blank forms rendered for registration are cached by the object."""
    return parse(text)

