"""Submitting a batch: keep the originals, record them, hand the work to the dispatcher (or run it here)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import sqlalchemy as sa

from yomitori.errors import InputError
from yomitori.jobs.runtime import InlineDispatcher, Runtime
from yomitori.jobs.stages import reconcile
from yomitori.store.models import Batch, SourceFile, SourceStatus
from yomitori.store.repo import BatchProgress, TenantRepo
from yomitori.uploads import UploadLimits, UploadRefused, guard_upload

log = logging.getLogger(__name__)


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to submit: files as given, directories expanded to the files inside them (sorted, hidden skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts)))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError("file not found; check the path and the file name", source=str(p))
    if not out:
        raise InputError("no files to submit")
    return out


def submit_batch(rt: Runtime, paths: Sequence[str | Path], *, tenant: str | None = None, name: str = "",
                 actor: str = "cli", on_refused: Callable[[UploadRefused], None] | None = None) -> int:
    """Store the originals and create the batch; its jobs are queued (run them with `run_inline` when embedded).

    Each file passes the upload guard first; a refused file is not stored but kept in the batch as an input in
    error (the reason is its error record) and reported to `on_refused`; the batch goes on with the others.
    """
    tenant = tenant or rt.settings.tenant
    files = input_files(paths)
    limits = UploadLimits.from_settings(rt.settings)
    refused = 0
    with rt.store.tenant(tenant, create=True) as repo:
        batch = repo.create_batch(name, created_by=actor)
        for f in files:
            try:
                guard_upload(f, limits=limits)
                data = f.read_bytes()
            except OSError as e:
                raise InputError(f"cannot read the file ({e.strerror})", source=str(f)) from e
            except UploadRefused as e:
                refused += 1
                add_refused_source(repo, batch, e)
                if on_refused:
                    on_refused(e)
                continue
            repo.add_source(batch, str(f), data)
        repo.audit(actor, "batch.submit", batch, files=len(files), refused=refused)
        batch_id, tenant = batch.id, repo.code  # the tenant's own code, where the default named the only one
    reconcile(rt, tenant, batch_id)
    return batch_id


def add_refused_source(repo: TenantRepo, batch: Batch, refusal: UploadRefused, size: int | None = None) -> SourceFile:
    """Record a file the guard refused as an input in error (its export is an error record); nothing is stored."""
    name = refusal.source or "upload"
    log.warning("batch %d: refused %s: %s", batch.id, name, refusal.message)
    if size is None:
        try:
            size = Path(name).stat().st_size
        except OSError:
            size = 0
    position = repo.session.scalar(sa.select(sa.func.count()).select_from(SourceFile)
                                   .where(SourceFile.batch_id == batch.id)) or 0
    source = SourceFile(batch_id=batch.id, position=position, name=name, sha256="", size=size,
                        status=SourceStatus.error, error=refusal.message)  # sha256 "": no blob to purge
    repo.session.add(source)
    repo.session.flush()
    return source


def run_inline(rt: Runtime, tenant: str, batch_id: int,
               on_progress: Callable[[BatchProgress], None] | None = None) -> BatchProgress:
    """Run the batch's queued jobs in this process until none are left (the embedded default)."""
    if not isinstance(rt.dispatcher, InlineDispatcher):
        raise TypeError("run_inline needs the in-process dispatcher (no YOMITORI_REDIS_URL)")

    def report() -> None:
        if on_progress:
            with rt.store.tenant(tenant) as repo:
                on_progress(repo.progress(batch_id))

    report()
    try:
        while rt.dispatcher.drain(report) or reconcile(rt, tenant, batch_id):
            pass  # reconcile picks up what a previous, killed run of this batch left claimed
    finally:
        rt.dispatcher.close()  # the page-reading processes, if any: their memory is not kept between batches
    with rt.store.tenant(tenant) as repo:
        return repo.progress(batch_id)
