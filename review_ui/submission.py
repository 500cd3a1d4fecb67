"""A batch from uploaded files: each passes the upload guard (size, type, pages, pixels), then is stored and run."""

from __future__ import annotations

from fastapi import UploadFile

from yomitori.filenames import safe_name
from yomitori.review_ui.deps import AppState
from yomitori.store.models import User
from yomitori.store.repo import TenantRepo
from yomitori.uploads import UploadLimits, UploadRefused, guard_upload

MAX_FILES = 200  # files in one upload request


class SubmissionRefused(Exception):
    """Nothing was stored; the message says which file and why."""


def submit_uploads(state: AppState, repo: TenantRepo, user: User, files: list[UploadFile], name: str) -> int:
    """Check every file first (all or nothing), then create the batch and start it; returns its id."""
    files = [f for f in files if f.filename]
    if not files:
        raise SubmissionRefused("ファイルを選んでください")
    if len(files) > MAX_FILES:
        raise SubmissionRefused(f"一度に取り込めるのは{MAX_FILES}ファイルまでです")
    limits = UploadLimits.from_settings(state.settings)
    checked = []
    try:
        for f in files:
            try:
                checked.append(guard_upload(f.file, name=f.filename or "upload", limits=limits))
            except UploadRefused as e:
                raise SubmissionRefused(f"{f.filename}：取り込めません（{e.message}）") from None
        batch = repo.create_batch(name.strip(), created_by=user.username)
        for up in checked:  # one file in memory at a time, ≤ the size limit; the typed name only for display
            source = repo.add_source(batch, safe_name(up.name), up.path.read_bytes())
            source.original_name = up.name
        repo.audit(user.username, "batch.submit", batch, files=len(checked), via="web")
        batch_id = batch.id
        repo.session.commit()  # the runner reads it from another session
    finally:
        for up in checked:
            up.discard()
    state.runner.start(repo.code, batch_id)
    return batch_id
