"""JSON API: upload a batch, list batches, a batch's status and documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from yomitori.review_ui import stats
from yomitori.review_ui.deps import CSRF, BatchViewer, Operator, Repo, State
from yomitori.review_ui.schemas import BatchOut, DocumentSummary
from yomitori.review_ui.submission import SubmissionRefused, submit_uploads
from yomitori.store.models import Batch

router = APIRouter(prefix="/api", tags=["batches"])


class RefusedFile(BaseModel):
    file: str
    message: str  # Japanese; the file is an input in error of the batch


class Submitted(BaseModel):
    batch_id: int
    refused: list[RefusedFile] = []


@router.post("/batches", status_code=201, response_model=Submitted, dependencies=[CSRF],
             responses={400: {"description": "no file, or too many files; nothing stored"},
                        413: {"description": "the request is larger than YOMITORI_MAX_UPLOAD_BYTES"}})
def upload_batch(state: State, repo: Repo, user: Operator, files: list[UploadFile],
                 name: Annotated[str, Form()] = "") -> Response | Submitted:
    """Submit scans (PDF, TIFF, JPEG, PNG) as a new batch; a file the guard refuses (size, type, pages, pixels)
    is an input in error of the batch, listed in `refused`, and the others go on."""
    try:
        done = submit_uploads(state, repo, user, files, name)
        return Submitted(batch_id=done.batch_id, refused=[RefusedFile(file=f, message=m) for f, m in done.refused])
    except SubmissionRefused as e:
        return JSONResponse({"detail": str(e)}, status_code=400)


@router.get("/batches", response_model=list[BatchOut])
def list_batches(state: State, repo: Repo, user: BatchViewer, limit: int = 50) -> list[BatchOut]:
    """The latest batches with per-stage progress."""
    m = state.settings.minutes_per_form_by_hand
    return [BatchOut.of(stats.batch_stats(repo, b, m)) for b in repo.batches(min(max(limit, 1), 500))]


@router.get("/batches/{batch_id}", response_model=BatchOut)
def batch_status(state: State, repo: Repo, user: BatchViewer, batch_id: int) -> BatchOut:
    """One batch: stages, counts, straight-through rate, bundle mismatches."""
    return BatchOut.of(stats.batch_stats(repo, repo.get(Batch, batch_id), state.settings.minutes_per_form_by_hand))


@router.get("/batches/{batch_id}/documents", response_model=list[DocumentSummary])
def batch_documents(repo: Repo, user: BatchViewer, batch_id: int) -> list[DocumentSummary]:
    """The batch's documents in submission order, with their status and number of flagged fields."""
    repo.get(Batch, batch_id)
    return [DocumentSummary.of(d) for d in repo.documents(batch_id)]
