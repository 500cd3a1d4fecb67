"""Submitting a batch: keep the originals, record them, hand the work to the dispatcher (or run it here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from yomitori.errors import InputError
from yomitori.jobs.runtime import InlineDispatcher, Runtime
from yomitori.jobs.stages import reconcile
from yomitori.store.repo import BatchProgress


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
                 actor: str = "cli") -> int:
    """Store the originals and create the batch; its jobs are queued (run them with `run_inline` when embedded)."""
    tenant = tenant or rt.settings.tenant
    files = input_files(paths)
    with rt.store.tenant(tenant, create=True) as repo:
        batch = repo.create_batch(name, created_by=actor)
        for f in files:
            try:
                data = f.read_bytes()
            except OSError as e:
                raise InputError(f"cannot read the file ({e.strerror})", source=str(f)) from e
            repo.add_source(batch, str(f), data)
        repo.audit(actor, "batch.submit", batch, files=len(files))
        batch_id = batch.id
    reconcile(rt, tenant, batch_id)
    return batch_id


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
    while rt.dispatcher.drain(report) or reconcile(rt, tenant, batch_id):
        pass  # reconcile picks up what a previous, killed run of this batch left claimed
    with rt.store.tenant(tenant) as repo:
        return repo.progress(batch_id)
