"""Reviewers' pages: the queue (oldest first, claimed), the document view, saving fields, approval, sending back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from yomitori.forms_templates import templates as layouts
from yomitori.forms_templates.contract import contract_forms
from yomitori.review_ui import fields as F
from yomitori.review_ui import support_measure as SM
from yomitori.review_ui import workflow as W
from yomitori.review_ui.deps import CSRF, AppState, NotFound, Repo, Reviewer, SessionDep, State, can_unmask, render
from yomitori.review_ui.double_entry import entry_tokens
from yomitori.review_ui.flags import flag_reasons
from yomitori.review_ui.japanese import shown_value
from yomitori.review_ui.routers import standard_files
from yomitori.store.models import Document, Field, User

router = APIRouter(include_in_schema=False)


@router.get("/review")
def review_queue(request: Request, state: State, repo: Repo, user: Reviewer) -> Response:
    docs = W.queue(repo)
    return render(state, request, "queue.html", {"support": SM.flagged_ids(repo, [d.id for d in docs]),
        "title": "審査待ち", "docs": docs, "flagged": {d.id: len(W.flagged(d)) for d in docs},
        "others": {d.id for d in docs if W.claimed_by_other(d, user)}, "forms": contract_forms()})


@router.post("/review/next", dependencies=[CSRF])
def review_next(state: State, repo: Repo, user: Reviewer) -> Response:
    doc = W.claim_next(repo, user, state.settings.claim_minutes)
    return RedirectResponse(f"/review/documents/{doc.id}" if doc else "/review?empty=1", status_code=303)


def field_rows(state: AppState, user: User, doc: Document, rows: list[Field]) -> list[dict[str, Any]]:
    """What a field row shows: label, crop, the value to edit (blank for double entry), alternatives, findings."""
    out = []
    for f in rows:
        personal = F.is_personal_number(doc.form, f.key, f.value)
        double = W.is_double_entry(state.settings, doc.form, f.key)
        out.append({
            "f": f, "label": F.label(doc.form, f.key), "hint": F.hint(doc.form, f.key), "double": double,
            "input": "" if double else F.display(doc.form, f.key, f.value, unmasked=True),
            "alternatives": [] if personal or double else
            [F.display(doc.form, f.key, a, unmasked=True) for a in (f.alternatives or []) if a != f.value][:4],
            "findings": W.findings_of(f), "reasons": flag_reasons(doc.form, f), "doc": doc,
            "confidence": round(100 * (f.confidence or 0)),
            "crop": f"/images/fields/{f.id}.png" if F.has_crop(doc, f) and (not personal or can_unmask(state, user))
            else None,
        })
    return out


@router.get("/review/documents/{doc_id}")
def document_view(request: Request, state: State, repo: Repo, user: Reviewer, doc_id: int) -> Response:
    doc = repo.get(Document, doc_id)
    support = SM.guard(state, repo, user, doc.id, "document")  # 支援措置: 403 for roles not named, audited
    held = False
    if doc.status.value == "needs_review" and not doc.returned_reason:
        held = W.claim(repo, doc.id, user, state.settings.claim_minutes)
        repo.session.refresh(doc)
    layout = layouts().get(f"{doc.form}/{doc.layout}")
    page_mm = (layout.page.width_mm, layout.page.height_mm) if layout else None
    flagged = W.flagged(doc)
    others = [f for f in doc.fields if f not in flagged]
    return render(state, request, "document.html", {
        "title": f"書類 {doc.id}", "doc": doc, "held": held, "other_holder": W.claimed_by_other(doc, user),
        "form_label": contract_forms()[doc.form].label if doc.form in contract_forms() else "不明な帳票",
        "rows": field_rows(state, user, doc, flagged), "page_mm": page_mm,
        "boxes": [{"id": f.id, "box": f.box, "flagged": f in flagged} for f in doc.fields if f.box],
        "others": [{"f": f, "label": F.label(doc.form, f.key),
                    "personal": F.is_personal_number(doc.form, f.key, f.value),
                    "text": shown_value(doc.form, f.key, f.value)} for f in others],
        "can_unmask": can_unmask(state, user), "doc_findings": [x for x in doc.findings or [] if isinstance(x, dict)],
        "reasons": W.RETURN_REASONS, "forms": contract_forms(),
        "support_measure": SM.WARNING if support else None, "master": SM.master_view(repo, doc.id),
        **standard_files.document_context(doc, flagged),
        "image": f"/images/documents/{doc.id}.png" if doc.image_sha256 else
        (f"/images/pages/{doc.pages[0].id}.png" if doc.pages and doc.pages[0].image_sha256 else None)})


class FieldInput(BaseModel):
    value: str
    first: str | None = None  # double entry: the first entry, when this is the second
    first_token: str | None = None  # ... and the server's token for it (the answer to the first entry)
    accept: bool = False  # keep a flagged reading unchanged (Shift+Enter): plain Enter does not


def _field(repo: Repo, doc_id: int, field_id: int) -> Field:
    f = repo.get(Field, field_id)
    if f.document_id != doc_id:
        raise NotFound()
    return f


@router.post("/review/documents/{doc_id}/fields/{field_id}", dependencies=[CSRF])
def save_field(state: State, repo: Repo, user: Reviewer, s: SessionDep, doc_id: int, field_id: int,
               body: FieldInput) -> Response:
    f = _field(repo, doc_id, field_id)
    SM.guard(state, repo, user, doc_id, "save")
    W.claim(repo, doc_id, user, state.settings.claim_minutes)  # renews the hold while the reviewer works
    tokens = entry_tokens(state)
    result = W.save_field(repo, state.settings, user, f, body.value, body.first,
                          first_proven=tokens.proves(body.first_token, s, f.id, body.first), accept=body.accept)
    out = {"status": result.status, "message": result.message, "stay": result.stay,
           "remaining": result.remaining, "document_status": result.document_status,
           "fields": {str(k): v for k, v in result.fields.items()}}
    if result.status == "second_entry":
        out["first_token"] = tokens.issue(s, f.id, body.value)
    return JSONResponse(out)


@router.post("/review/documents/{doc_id}/fields/{field_id}/check", dependencies=[CSRF])
def check_field(state: State, repo: Repo, user: Reviewer, doc_id: int, field_id: int, body: FieldInput) -> Response:
    f = _field(repo, doc_id, field_id)
    SM.guard(state, repo, user, doc_id, "check")
    return JSONResponse({"findings": W.preview(repo.get(Document, doc_id), f, body.value)})


@router.post("/review/fields/{field_id}/unmask", dependencies=[CSRF])
def unmask(state: State, repo: Repo, user: Reviewer, field_id: int) -> Response:
    if not can_unmask(state, user):
        return JSONResponse({"detail": "個人番号を表示する権限がありません"}, status_code=403)
    SM.guard(state, repo, user, repo.get(Field, field_id).document_id, "unmask")
    return JSONResponse({"value": W.unmask(repo, user, repo.get(Field, field_id))})


@router.post("/review/documents/{doc_id}/approve", dependencies=[CSRF])
def approve(state: State, repo: Repo, user: Reviewer, doc_id: int) -> Response:
    SM.guard(state, repo, user, doc_id, "approve")
    W.approve_document(repo, user, repo.get(Document, doc_id))
    repo.session.commit()
    nxt = W.claim_next(repo, user, state.settings.claim_minutes)
    return RedirectResponse(f"/review/documents/{nxt.id}" if nxt else "/review?done=1", status_code=303)


@router.post("/review/documents/{doc_id}/return", dependencies=[CSRF])
def send_back(state: State, repo: Repo, user: Reviewer, doc_id: int, reason: Annotated[str, Form()],
              form: Annotated[str, Form()] = "") -> Response:
    W.return_document(repo, user, repo.get(Document, doc_id), reason, form or None)
    repo.session.commit()
    nxt = W.claim_next(repo, user, state.settings.claim_minutes)
    return RedirectResponse(f"/review/documents/{nxt.id}" if nxt else "/review?done=1", status_code=303)
