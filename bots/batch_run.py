"""Keying a batch from the store: its approved documents as records, the store's journal, a `bot_runs` row per run."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from yomitori.masters.pipeline import may_key
from yomitori.store.models import Batch, BotRun, Document, DocumentStatus, KeyingReceipt
from yomitori.store.repo import Store, TenantRepo

from .batch_journal import StoreReceiptLog
from .outcomes import Outcome, OutcomeKind
from .runner import RunOptions, RunSummary, run_scenario
from .scenario import Scenario
from .sources import SourceRecord

# Ready for keying: approved by a reviewer, or `auto` — every field passed the confidence gate and no validator
# named one (straight-through; `TenantRepo.refresh_document_status` gives that status only then).
KEYABLE = (DocumentStatus.approved, DocumentStatus.auto)


class StoreRecordSource:
    """The documents of a batch (or the ids given) that are ready for keying, of the scenario's form."""

    def __init__(self, store: Store, tenant: str, form: str, *, batch_id: int | None = None,
                 document_ids: Sequence[int] | None = None) -> None:
        if batch_id is None and document_ids is None:
            raise ValueError("a batch or document ids")
        self.store, self.tenant, self.form = store, tenant, form
        self.batch_id, self.document_ids = batch_id, document_ids

    def __iter__(self) -> Iterator[SourceRecord]:
        # Read once, in one short session: the runner reads the source from a thread of its own.
        with self.store.tenant(self.tenant) as repo:
            if self.batch_id is not None:
                docs = [d for d in repo.documents(self.batch_id) if d.status in KEYABLE]
            else:
                docs = [repo.get(Document, i) for i in self.document_ids or []]
                docs = [d for d in docs if d.status in KEYABLE]
            # 支援措置: a flagged person's documents are keyed only after an explicit approval (masters approve-keying).
            records = [SourceRecord(str(d.id), d.form, {f.key: f.value for f in d.fields})
                       for d in docs if d.form == self.form and not d.returned_reason and may_key(repo, d.id)]
        yield from records


def run_batch(store: Store, tenant: str, scenario: Scenario, *, batch_id: int | None = None,
              document_ids: Sequence[int] | None = None, scenario_ref: str = "", started_by: str = "cli",
              parallel: int = 1, dry_run: bool = False, base_url: str | None = None, artifacts: Path | None = None,
              step_screenshots: Path | None = None, lease_wait: float = 0.0,
              on_outcome: Callable[[Outcome], None] | None = None) -> tuple[int, RunSummary]:
    """Key the batch's ready documents once each; returns the `bot_runs` id and the runner's summary."""
    with store.tenant(tenant) as repo:
        if batch_id is not None:
            repo.get(Batch, batch_id)  # another tenant's batch is a missing one
        run = BotRun(bot=scenario.name[:100], scenario_ref=(scenario_ref or scenario.path)[:300], batch_id=batch_id,
                     dry_run=dry_run, parallel=parallel, started_by=started_by[:100], counts={})
        repo.session.add(run)
        repo.session.flush()
        run_id = run.id
        repo.audit(started_by, "bot.run", run, bot=run.bot, scenario=run.scenario_ref, batch_id=batch_id,
                   dry_run=dry_run)
    source = StoreRecordSource(store, tenant, scenario.form, batch_id=batch_id, document_ids=document_ids)
    journal = StoreReceiptLog(store, tenant, scenario, str(run_id))
    counts: dict[str, int] = {}

    def sink(o: Outcome) -> None:
        counts[o.kind.value] = counts.get(o.kind.value, 0) + 1
        with store.tenant(tenant) as repo:
            repo.session.execute(sa.update(BotRun).where(BotRun.id == run_id).values(counts=dict(counts)))
            if o.kind == OutcomeKind.skipped:
                _note_duplicate(repo, o, journal.bot, run_id)
        if on_outcome is not None:
            on_outcome(o)

    options = RunOptions(parallel=parallel, dry_run=dry_run, base_url=base_url, step_screenshots=step_screenshots,
                         lease_wait=lease_wait,
                         artifacts=artifacts or store.settings.data_dir / "bot-artifacts")
    try:
        summary = run_scenario(scenario, source, journal, sink, options)
    except BaseException as e:
        _finish(store, tenant, run_id, "error", counts, None, f"{type(e).__name__}: {e}")
        raise
    _finish(store, tenant, run_id, "aborted" if summary.aborted else "done", summary.counts, summary.seconds,
            summary.aborted)
    return run_id, summary


def _note_duplicate(repo: TenantRepo, o: Outcome, bot: str, run_id: int) -> None:
    """A second document with the key of one keyed earlier: the journal row is the other's, so say it here."""
    row = repo.session.scalar(sa.select(KeyingReceipt).where(KeyingReceipt.bot == bot, KeyingReceipt.key == o.key))
    if row is not None and str(row.document_id) != o.record_id:
        repo.audit(bot, "document.keying_skipped", repo.get(Document, int(o.record_id)), bot=bot, run_id=str(run_id),
                   message=o.message)


def _finish(store: Store, tenant: str, run_id: int, status: str, counts: dict[str, int], seconds: float | None,
            message: str) -> None:
    with store.tenant(tenant) as repo:
        run = repo.get(BotRun, run_id)
        run.status, run.counts, run.message = status, dict(counts), message[:2000]
        run.finished_at = datetime.now(UTC)
        run.seconds = seconds if seconds is not None else (run.finished_at - _aware(run.started_at)).total_seconds()


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def per_minute(run: BotRun) -> float:
    """Records finished (keyed, skipped, sent back) per minute of the run so far."""
    c = run.counts or {}
    done = c.get("keyed", 0) + c.get("skipped", 0) + c.get("sent_back", 0)
    seconds = run.seconds if run.seconds is not None else (datetime.now(UTC) - _aware(run.started_at)).total_seconds()
    return 60.0 * done / seconds if seconds > 0 else 0.0
