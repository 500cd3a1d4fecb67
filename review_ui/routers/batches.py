"""Operators' pages: the batch list (stages, straight-through, errors), a batch's documents, upload, productivity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from yomitori.review_ui import stats
from yomitori.review_ui.deps import CSRF, BatchViewer, Operator, Repo, State, Supervisor, render
from yomitori.review_ui.routers import standard_files
from yomitori.review_ui.submission import SubmissionRefused, submit_uploads
from yomitori.review_ui.support_measure import flagged_ids
from yomitori.review_ui.workflow import RETURN_REASONS, flagged
from yomitori.store.models import Batch, Document, SourceStatus

router = APIRouter(include_in_schema=False)


@router.get("/batches")
def batch_list(request: Request, state: State, repo: Repo, user: BatchViewer) -> Response:
    rows = [stats.batch_stats(repo, b, state.settings.minutes_per_form_by_hand) for b in repo.batches()]
    return render(state, request, "batches.html", {"rows": rows, "title": "バッチ一覧"})


@router.get("/batches/{batch_id}")
def batch_page(request: Request, state: State, repo: Repo, user: BatchViewer, batch_id: int) -> Response:
    batch = repo.get(Batch, batch_id)
    docs = repo.documents(batch_id)
    errors = [s for s in repo.sources(batch_id) if s.status == SourceStatus.error]
    page_errors = [p for p in repo.pages(batch_id) if p.error]
    return render(state, request, "batch.html", {
        "title": f"バッチ {batch.id} {batch.name}", "batch": batch,
        "s": stats.batch_stats(repo, batch, state.settings.minutes_per_form_by_hand),
        "docs": docs, "flagged": {d.id: len(flagged(d)) for d in docs},
        "support": flagged_ids(repo, [d.id for d in docs]), "file_errors": errors,
        "page_errors": page_errors, "reasons": RETURN_REASONS, "bundle_findings": _bundle_findings(docs),
        **standard_files.batch_page_context(state, repo, user, batch_id, docs)})


def _bundle_findings(docs: list[Document]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for d in docs:
        msgs = [str(x.get("message", "")) for x in d.findings or [] if isinstance(x, dict)
                and str(x.get("rule", "")).startswith("bundle_")]
        if msgs:
            out[d.id] = msgs
    return out


@router.get("/upload")
def upload_form(request: Request, state: State, user: Operator) -> Response:
    return render(state, request, "upload.html", {"title": "スキャンの取り込み", "message": ""})


@router.post("/upload", dependencies=[CSRF])
def upload(request: Request, state: State, repo: Repo, user: Operator, files: list[UploadFile],
           name: Annotated[str, Form()] = "") -> Response:
    try:
        batch_id = submit_uploads(state, repo, user, files, name).batch_id
    except SubmissionRefused as e:
        return render(state, request, "upload.html", {"title": "スキャンの取り込み", "message": str(e)}, 400)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)  # refused files are listed there


@router.get("/stats")
def productivity(request: Request, state: State, repo: Repo, user: Supervisor, days: int = 30) -> Response:
    batches = [stats.batch_stats(repo, b, state.settings.minutes_per_form_by_hand) for b in repo.batches()]
    return render(state, request, "stats.html", {
        "title": "生産性", "reviewers": stats.reviewer_stats(repo, days), "days": days, "batches": batches,
        "saved": sum(b.hours_saved for b in batches)})
