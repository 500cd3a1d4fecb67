"""Administrators: the template editor. A layout learned from a page (its draft) is shown on its scan with every
field's box; boxes are moved and resized, keys and types changed, each value re-read by the OCR engine at once, and
every save is a new version, validated as template files are. The newest saved version reads the tenant's pages."""

from __future__ import annotations

import threading
from typing import Annotated, Any
from urllib.parse import quote

import cv2
import numpy as np
import sqlalchemy as sa
from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from yomitori import saved_layouts as S
from yomitori.forms_templates import FieldTemplate, LayoutTemplate
from yomitori.forms_templates.contract import VALUE_TYPES, contract_forms
from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.review_ui import fields as F
from yomitori.review_ui.deps import CSRF, Administrator, NotFound, Repo, State, can_unmask, render
from yomitori.store.blobs import BlobMissing
from yomitori.store.models import Page, PageStatus, SavedLayout
from yomitori.store.repo import TenantRepo

router = APIRouter(include_in_schema=False)
_reading = threading.Lock()  # one recognizer for the web process: one re-read at a time
NEW_LAYOUT_PAGES = 30  # pages read without a template listed as sources of a new draft


@router.get("/admin/layouts")
def layout_list(request: Request, state: State, repo: Repo, admin: Administrator) -> Response:
    forms = {k: f.label for k, f in contract_forms().items()}
    pages = repo.session.scalars(sa.select(Page).where(Page.layout.is_(None), Page.form.in_(list(forms)),
                                                       Page.image_sha256.is_not(None),
                                                       Page.status.in_([PageStatus.extracted, PageStatus.done]))
                                 .order_by(Page.id.desc()).limit(NEW_LAYOUT_PAGES)).all()
    return render(state, request, "admin_layouts.html", {
        "title": "学習したレイアウト", "rows": S.latest(repo), "forms": forms, "pages": pages,
        "error": request.query_params.get("error", "")})


@router.post("/admin/layouts/draft", dependencies=[CSRF])
def draft_from_page(repo: Repo, admin: Administrator, page_id: Annotated[int, Form()]) -> Response:
    """A draft of the layout of a page that was read without a template (its fields found by their labels)."""
    from yomitori.jobs.stages import _png, load_page_image
    from yomitori.layout_editor import NoDraft, draft_from_page, shared_engine
    from yomitori.ocr.preprocess import to_working

    page = repo.get(Page, page_id)
    if page.form not in contract_forms() or not page.image_sha256:
        raise NotFound()
    try:
        gray = to_working(load_page_image(repo.blobs.get(repo.code, page.image_sha256)))
    except BlobMissing:
        raise NotFound() from None
    name = f"learned-{page.id}"
    try:
        with _reading:
            draft = draft_from_page(gray, page.form, page.rotation or 0, shared_engine(), layout=name)
        row = S.save(repo, S.dump(draft.template), actor=admin.username, active=False, page_id=page.id,
                     image_sha256=repo.blobs.put(repo.code, _png(draft.page)),
                     comment=f"ページ {page.id} から下書き")
    except (NoDraft, S.LayoutError) as e:
        return RedirectResponse(f"/admin/layouts?error={quote(str(e))}", status_code=303)
    return RedirectResponse(_editor_url(row), status_code=303)


def _editor_url(row: SavedLayout, **query: Any) -> str:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/admin/layouts/{quote(row.form)}/{quote(row.layout)}" + (f"?{q}" if q else "")


@router.get("/admin/layouts/{form}/{layout}")
def editor(request: Request, state: State, repo: Repo, admin: Administrator, form: str, layout: str,
           version: int | None = None) -> Response:
    row = S.get(repo, form, layout, version)
    rows = S.versions(repo, form, layout)
    problems: list[str] = []
    try:
        t: LayoutTemplate | None = S.parse(row.yaml)
    except S.LayoutError as e:  # the contract changed since: show why, so it can be saved right
        t, problems = None, e.problems
    contract = contract_forms()[form].fields
    data = {
        "form": form, "layout": layout, "version": row.version,
        "page_mm": [t.page.width_mm, t.page.height_mm] if t else [210, 297],
        "fields": [{"key": f.key, "type": f.type, "box": list(f.box)} for f in t.fields] if t else [],
        "contract": {k: {"label": c.label, "type": c.type} for k, c in contract.items()},
        "types": list(VALUE_TYPES),
        "reread_url": f"/admin/layouts/{quote(form)}/{quote(layout)}/reread",
        "save_url": f"/admin/layouts/{quote(form)}/{quote(layout)}",
    }
    saved = request.query_params.get("saved")
    return render(state, request, "admin_layout_edit.html", {
        "title": f"テンプレート編集 {form}/{layout}", "row": row, "latest": rows[0], "versions": rows,
        "form_label": contract_forms()[form].label, "data": data, "problems": problems,
        "image": f"/admin/layouts/{quote(form)}/{quote(layout)}/{row.version}/page.png" if row.image_sha256 else "",
        "message": f"版{saved}として保存しました。この帳票のページは以後この版で読み取ります。" if saved else ""})


@router.get("/admin/layouts/{form}/{layout}/{version}/page.png")
def page_image(state: State, repo: Repo, admin: Administrator, form: str, layout: str, version: int) -> Response:
    """The scan the layout was drafted on, registered onto it; 個人番号 boxes blacked out for roles that may not
    see them (unmasked views are audited)."""
    row = S.get(repo, form, layout, version)
    page = _page(repo, row)
    if can_unmask(state, admin):
        repo.audit(admin.username, "layout.view_image", row, layout=f"{form}/{layout}", version=version)
    else:
        page = page.copy()
        for f in S.parse(row.yaml).fields if _parses(row) else []:
            if F.is_personal_number(form, f.key):
                x, y, w, h = (round(v * PX_PER_MM) for v in f.box)
                page[max(0, y) : y + h, max(0, x) : x + w] = 0
    ok, buf = cv2.imencode(".png", page, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise NotFound()
    return Response(buf.tobytes(), media_type="image/png", headers={"Cache-Control": "no-store"})


def _parses(row: SavedLayout) -> bool:
    try:
        S.parse(row.yaml)
    except S.LayoutError:
        return False
    return True


def _page(repo: TenantRepo, row: SavedLayout) -> np.ndarray:
    from yomitori.jobs.stages import load_page_image

    if not row.image_sha256:
        raise NotFound()
    try:
        image = load_page_image(repo.blobs.get(repo.code, row.image_sha256))
    except BlobMissing:  # purged with its batch after the retention period
        raise NotFound() from None
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _edited(base: LayoutTemplate, items: list[dict[str, Any]]) -> tuple[list[FieldTemplate | None], list[str]]:
    """The editor's fields on the base version's: each keeps what the editor does not show (lines, cells, options,
    label) from the field it was (`original`), with its key, type and box from the editor. Problems per field."""
    by_key = {f.key: f for f in base.fields}
    out: list[FieldTemplate | None] = []
    problems: list[str] = []
    for item in items:
        key = str(item.get("key", ""))
        old = by_key.get(str(item.get("original") or key))
        raw = old.model_dump(mode="json", exclude_defaults=True) if old else {}
        raw.update(key=key, type=item.get("type"), box=item.get("box"))
        if old is None or old.type != item.get("type"):  # parts of another type do not carry over
            raw = {k: raw[k] for k in ("key", "type", "box", "label", "label_box") if k in raw}
        try:
            out.append(FieldTemplate.model_validate(raw))
        except Exception as e:
            out.append(None)
            problems += [f"{key}: {p}" for p in S.pydantic_problems(e)]
    return out, problems


@router.post("/admin/layouts/{form}/{layout}/reread", dependencies=[CSRF])
def reread(state: State, repo: Repo, admin: Administrator, form: str, layout: str,
           body: Annotated[dict[str, Any], Body()]) -> Response:
    """The given fields read again where their boxes now stand on the layout's scan (the other fields where the
    version has them): {values: {key: {text, confidence, review, problem}}}."""
    from yomitori.layout_editor import reread as read_fields
    from yomitori.layout_editor import shared_engine

    row = S.get(repo, form, layout, int(body.get("version", 0)) or None)
    base = S.parse(row.yaml)
    page = _page(repo, row)
    items = list(body.get("fields") or [])[:200]
    edited, _ = _edited(base, items)
    contract = contract_forms()[form].fields
    out: dict[str, Any] = {}
    readable: dict[str, FieldTemplate] = {}
    for item, f in zip(items, edited, strict=True):
        key = str(item.get("key", ""))
        if f is None or key not in contract:
            out[key] = {"text": "", "problem": "この項目は読めません（項目名・型を確かめてください）"}
        else:
            readable[key] = f
    replaced = {str(i.get("original") or i.get("key")) for i in items} | set(readable)
    t = base.model_copy(update={"fields": [f for f in base.fields if f.key not in replaced] + list(readable.values())})
    if readable:
        with _reading:
            results = read_fields(t, page, list(readable), shared_engine(state.settings.ocr_engine))
        for key, r in results.items():
            out[key] = {"text": F.display(form, key, r.value, unmasked=can_unmask(state, admin)),
                        "confidence": round(r.confidence, 3), "review": r.review,
                        "problem": "" if r.normalized else "型に合う値として読めません"}
    return JSONResponse({"values": out})


@router.post("/admin/layouts/{form}/{layout}", dependencies=[CSRF])
def save_version(repo: Repo, admin: Administrator, form: str, layout: str,
                 body: Annotated[dict[str, Any], Body()]) -> Response:
    """The editor's fields as the layout's next version (validated as template files are), read with from now."""
    row = S.get(repo, form, layout, int(body.get("version", 0)) or None)
    base = S.parse(row.yaml)
    edited, problems = _edited(base, list(body.get("fields") or []))
    if problems:
        return JSONResponse({"problems": problems}, status_code=422)
    t = base.model_copy(update={"fields": edited})
    try:
        saved = S.save(repo, S.dump(t), actor=admin.username, comment=str(body.get("comment", ""))[:500])
    except S.LayoutError as e:
        return JSONResponse({"problems": e.problems}, status_code=422)
    return JSONResponse({"version": saved.version, "url": _editor_url(saved, saved=saved.version)})

