"""JSON API: a document with its fields and crops, field corrections, approval; and the OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from yomitori.review_ui import workflow as W
from yomitori.review_ui.deps import CSRF, AnyUser, BatchViewer, Repo, Reviewer, SessionDep, State, can_unmask
from yomitori.review_ui.double_entry import entry_tokens
from yomitori.review_ui.schemas import DocumentOut, FieldOut
from yomitori.review_ui.support_measure import guard
from yomitori.store.models import Document, Field

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/documents/{doc_id}", response_model=DocumentOut)
def document(state: State, repo: Repo, user: BatchViewer, doc_id: int) -> DocumentOut:
    """A document: status, findings, and every field with value, confidence, gate status, box and crop URL."""
    doc = repo.get(Document, doc_id)
    guard(state, repo, user, doc.id, "api")  # 支援措置: 403 for roles not named, audited
    out = DocumentOut.full(doc, unmasked=can_unmask(state, user))
    if any(f.masked is False and f.value is not None and _personal(doc, f) for f in out.fields):
        repo.audit(user.username, "document.unmask", doc, via="api")  # 個人番号 went out in clear
    return out


def _personal(doc: Document, f: FieldOut) -> bool:
    from yomitori.review_ui.fields import is_personal_number

    return is_personal_number(doc.form, f.key, f.value)


class Correction(BaseModel):
    value: str  # as typed; normalized to the field's type (amounts, dates in 和暦 or ISO, …)
    first: str | None = None  # double entry: the first entry, when this is the second ...
    first_token: str | None = None  # ... and the first_token the answer to it carried


class Saved(BaseModel):
    status: str  # saved | accepted | unchanged | invalid | second_entry | retry
    message: str
    document_status: str
    remaining: int
    field: FieldOut
    first_token: str | None = None  # second_entry: send it back with the second entry


def _saved(state: State, repo: Repo, user: Any, f: Field, result: W.SaveResult) -> Saved:
    doc = repo.get(Document, f.document_id)
    return Saved(status=result.status, message=result.message, document_status=result.document_status,
                 remaining=result.remaining, field=FieldOut.of(doc, f, unmasked=can_unmask(state, user)))


@router.post("/fields/{field_id}", response_model=Saved, dependencies=[CSRF])
def correct(state: State, repo: Repo, user: Reviewer, s: SessionDep, field_id: int, body: Correction) -> Saved:
    """Correct a field (or accept it: the same value); validators re-run on the whole document.

    A critical field (YOMITORI_DOUBLE_ENTRY) is entered as on the review page: a value unlike the reading answers
    `second_entry` with a `first_token`; the same value typed again, sent with `first` and `first_token`, saves it.
    """
    f = repo.get(Field, field_id)
    tokens = entry_tokens(state)
    result = W.save_field(repo, state.settings, user, f, body.value, body.first,
                          first_proven=tokens.proves(body.first_token, s, f.id, body.first))
    if result.status in ("second_entry", "retry"):
        result = W._after(repo, repo.get(Document, f.document_id), result)
    saved = _saved(state, repo, user, f, result)
    if result.status == "second_entry":
        saved.first_token = tokens.issue(s, f.id, body.value)
    return saved


@router.post("/fields/{field_id}/approve", response_model=Saved, dependencies=[CSRF])
def approve_field(state: State, repo: Repo, user: Reviewer, field_id: int) -> Saved:
    """Accept a field's current value."""
    f = repo.get(Field, field_id)
    doc = repo.get(Document, f.document_id)
    W.check_editable(doc, user)
    if f.status.value == "needs_review" and W.is_double_entry(state.settings, doc.form, f.key):
        raise W.ReviewError("この項目は読取結果を見ずに入力して確定してください（二重入力）")
    result = W.SaveResult("unchanged")
    if f.status.value == "needs_review":
        repo.approve_field(f.id, actor=user.username, user_id=user.id)
        W._regate(repo, doc)
        result = W.SaveResult("accepted")
    return _saved(state, repo, user, f, W._after(repo, doc, result))


@router.post("/documents/{doc_id}/approve", response_model=DocumentOut, dependencies=[CSRF],
             responses={409: {"description": "fields still flagged, keyed already, or held by another reviewer"}})
def approve_document(state: State, repo: Repo, user: Reviewer, doc_id: int) -> DocumentOut:
    """Approve a document with nothing flagged: it is ready for keying."""
    doc = repo.get(Document, doc_id)
    W.approve_document(repo, user, doc)
    repo.session.flush()
    return DocumentOut.full(doc, unmasked=False)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: AnyUser) -> dict[str, Any]:
    """This API's OpenAPI description (behind the login like everything else)."""
    return request.app.openapi()
