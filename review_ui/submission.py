"""A batch from uploaded files: each passes the upload guard (size, type, pages, pixels), then is stored and run.

As on the command line, a refused file does not stop the others: it becomes an input in error of the batch (its
export is an error record), with a Japanese reason that never shows a server path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import UploadFile

from yomitori.filenames import safe_name
from yomitori.jobs.submit import add_refused_source
from yomitori.review_ui.deps import AppState
from yomitori.store.models import User
from yomitori.store.repo import TenantRepo
from yomitori.uploads import UploadLimits, UploadRefused, guard_upload

MAX_FILES = 200  # files in one upload request


class SubmissionRefused(Exception):
    """Nothing was stored; the message says why."""


@dataclass
class Submission:
    batch_id: int
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file name, Japanese reason)


# The guard's reasons (English, for the CLI and logs) as an operator at the counter reads them. Checked in order.
_REASONS: tuple[tuple[str, str], ...] = (
    (r"too large: ", "ファイルが大きすぎます（上限 {limit}）。分けて取り込んでください"),
    (r"pixels, more than the limit|image is too large",
     "画像の画素数が上限を超えています。解像度を下げて（200〜300 dpi）スキャンし直してください"),
    (r"pages, more than the limit", "ページ数が上限を超えています。ファイルを分けて取り込んでください"),
    (r"encrypted|password", "PDF にパスワードが設定されています。パスワードを外してから取り込んでください"),
    (r"empty file", "ファイルが空です（0 バイト）。スキャンまたはコピーをやり直してください"),
    (r"has no pages", "PDF にページがありません"),
    (r"convert it to PDF, TIFF, JPEG or PNG|not a regular file",
     "対応していない形式です。PDF・TIFF・JPEG・PNG のいずれかで取り込んでください"),
    (r"damaged|truncated|cannot count",
     "ファイルが壊れているか、途中で切れています。スキャンし直すか、書き出し直してください"),
)
_UNKNOWN = "このファイルは取り込めません。形式と内容を確認してください"


def japanese_reason(refusal: UploadRefused, limits: UploadLimits) -> str:
    """Why a file was refused, in Japanese, without the guard's details (temporary paths, library messages)."""
    for pattern, text in _REASONS:
        if re.search(pattern, refusal.message, re.IGNORECASE):
            return text.format(limit=f"{limits.max_bytes / 1024 / 1024:.0f} MiB")
    return _UNKNOWN


def submit_uploads(state: AppState, repo: TenantRepo, user: User, files: list[UploadFile], name: str) -> Submission:
    """Store the good files as a new batch and start it; a refused file is an input in error of that batch."""
    files = [f for f in files if f.filename]
    if not files:
        raise SubmissionRefused("ファイルを選んでください")
    if len(files) > MAX_FILES:
        raise SubmissionRefused(f"一度に取り込めるのは{MAX_FILES}ファイルまでです")
    limits = UploadLimits.from_settings(state.settings)
    batch = repo.create_batch(name.strip(), created_by=user.username)
    refused: list[tuple[str, str]] = []
    for f in files:
        shown = f.filename or "upload"
        try:
            up = guard_upload(f.file, name=shown, limits=limits)
        except UploadRefused as e:
            reason = japanese_reason(e, limits)
            refused.append((shown, reason))
            # the typed name is for display only: the batch stores (and exports) a safe one
            refused_source = add_refused_source(repo, batch, UploadRefused(reason, source=safe_name(shown)),
                                                size=f.size or 0)
            refused_source.original_name = shown
            continue
        try:
            # one file in memory at a time, ≤ the size limit; the typed name is kept for display only
            source = repo.add_source(batch, safe_name(up.name), up.path.read_bytes())
            source.original_name = up.name
        finally:
            up.discard()
    repo.audit(user.username, "batch.submit", batch, files=len(files), refused=len(refused), via="web")
    batch_id = batch.id
    repo.session.commit()  # the runner reads it from another session
    state.runner.start(repo.code, batch_id)
    return Submission(batch_id, refused)
