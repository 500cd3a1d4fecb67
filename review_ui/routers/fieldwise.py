"""Field-wise review: one field (e.g. 支払金額) across many documents, as a column of crops and values."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from yomitori.review_ui import fields as F
from yomitori.review_ui import workflow as W
from yomitori.review_ui.deps import Forbidden, NotFound, Repo, Reviewer, State, render
from yomitori.review_ui.routers.review import field_rows
from yomitori.review_ui.support_measure import guard
from yomitori.store.models import Document, DocumentStatus, Field, FieldStatus

router = APIRouter(include_in_schema=False)
ROWS = 30


def _open_fields():
    return (sa.select(Field).join(Document, Field.document_id == Document.id)
            .where(Field.status == FieldStatus.needs_review, Document.status == DocumentStatus.needs_review,
                   Document.returned_reason.is_(None)))


@router.get("/review/fieldwise")
def fieldwise_index(request: Request, state: State, repo: Repo, user: Reviewer) -> Response:
    rows = repo.session.execute(_open_fields().with_only_columns(Document.form, Field.key, sa.func.count())
                                .group_by(Document.form, Field.key).order_by(sa.func.count().desc()))
    groups = [{"form": form, "key": key, "label": F.label(form, key), "count": n} for form, key, n in rows]
    return render(state, request, "fieldwise_index.html", {"title": "項目別審査", "groups": groups})


@router.get("/review/fieldwise/{form}/{key}")
def fieldwise(request: Request, state: State, repo: Repo, user: Reviewer, form: str, key: str) -> Response:
    if F.contract_field(form, key) is None:
        raise NotFound()
    fields = list(repo.session.scalars(_open_fields().where(Document.form == form, Field.key == key)
                                       .order_by(Document.created_at, Document.id).limit(ROWS * 2)))
    rows = []
    for f in fields:
        doc = repo.get(Document, f.document_id)
        support = _may_open(state, repo, user, doc.id)
        if not W.claimed_by_other(doc, user) and support is not None:
            rows.extend({**row, "support": support} for row in field_rows(state, user, doc, [f]))
        if len(rows) >= ROWS:
            break
    return render(state, request, "fieldwise.html", {
        "title": f"項目別審査：{F.label(form, key)}", "rows": rows, "label": F.label(form, key), "form": form,
        "key": key, "double": W.is_double_entry(state.settings, form, key)})


def _may_open(state: State, repo: Repo, user: Reviewer, doc_id: int) -> bool | None:
    """Whether a document is under 支援措置 (its view audited); None for a role that may not open it (row left out)."""
    try:
        return guard(state, repo, user, doc_id, "fieldwise")
    except Forbidden:
        return None
