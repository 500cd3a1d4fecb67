"""Numbers for operators and supervisors: per batch (stages, straight-through, bundle mismatches, hours saved)
and per reviewer (documents and fields per hour)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from yomitori.store.models import Batch, Document, DocumentStatus, Field, FieldStatus, ReviewEvent
from yomitori.store.repo import BatchProgress, TenantRepo

IDLE_GAP = timedelta(minutes=5)  # a pause longer than this between two review actions is not work time
FIRST_ACTION = timedelta(seconds=30)  # the look at a field before the first action of a stretch


@dataclass(frozen=True)
class BatchStats:
    batch: Batch
    progress: BatchProgress
    documents_auto: int
    documents_approved: int
    documents_keyed: int
    documents_returned: int
    fields: int
    fields_auto: int
    bundle_mismatches: int
    review_hours: float
    minutes_per_form: float

    @property
    def straight_through(self) -> float | None:
        """Share of documents no person had to look at."""
        return self.documents_auto / self.progress.documents if self.progress.documents else None

    @property
    def fields_straight_through(self) -> float | None:
        return self.fields_auto / self.fields if self.fields else None

    @property
    def hours_by_hand(self) -> float:
        return self.progress.documents * self.minutes_per_form / 60

    @property
    def hours_saved(self) -> float:
        """Keying every form by hand, less the time reviewers spent on this batch."""
        return self.hours_by_hand - self.review_hours


def batch_stats(repo: TenantRepo, batch: Batch, minutes_per_form: float) -> BatchStats:
    docs = dict(repo.session.execute(sa.select(Document.status, sa.func.count()).where(Document.batch_id == batch.id)
                                     .group_by(Document.status)).all())
    returned = repo.session.scalar(sa.select(sa.func.count()).select_from(Document).where(
        Document.batch_id == batch.id, Document.returned_reason.is_not(None))) or 0
    fields = dict(repo.session.execute(
        sa.select(Field.status, sa.func.count()).join(Document, Field.document_id == Document.id)
        .where(Document.batch_id == batch.id).group_by(Field.status)).all())
    mismatches = 0
    for findings in repo.session.scalars(sa.select(Document.findings).where(Document.batch_id == batch.id,
                                                                             Document.form == "kyuyo_soukatsuhyo")):
        mismatches += any(str(x.get("rule", "")).startswith("bundle_") and x.get("rule") != "bundle_count_unchecked"
                          for x in findings or [] if isinstance(x, dict))
    events = repo.session.execute(
        sa.select(ReviewEvent.actor, ReviewEvent.at).join(Document, ReviewEvent.document_id == Document.id)
        .where(Document.batch_id == batch.id).order_by(ReviewEvent.actor, ReviewEvent.at)).all()
    by_actor: dict[str, list[datetime]] = defaultdict(list)
    for actor, at in events:
        by_actor[actor].append(at)
    hours = sum(active_time(times) for times in by_actor.values()) / 3600
    return BatchStats(batch, repo.progress(batch.id), docs.get(DocumentStatus.auto, 0),
                      docs.get(DocumentStatus.approved, 0), docs.get(DocumentStatus.keyed, 0), returned,
                      sum(fields.values()), fields.get(FieldStatus.auto, 0), mismatches, hours, minutes_per_form)


def active_time(times: list[datetime]) -> float:
    """Seconds of work behind a reviewer's actions: gaps up to IDLE_GAP count, longer pauses do not."""
    if not times:
        return 0.0
    total = FIRST_ACTION
    for a, b in itertools.pairwise(times):
        gap = b - a
        total += gap if gap <= IDLE_GAP else FIRST_ACTION
    return total.total_seconds()


@dataclass(frozen=True)
class ReviewerStats:
    actor: str
    documents: int
    fields: int
    hours: float

    @property
    def documents_per_hour(self) -> float:
        return self.documents / self.hours if self.hours else 0.0

    @property
    def fields_per_hour(self) -> float:
        return self.fields / self.hours if self.hours else 0.0


def reviewer_stats(repo: TenantRepo, days: int = 30) -> list[ReviewerStats]:
    since = datetime.now(UTC) - timedelta(days=days)
    rows = repo.session.execute(sa.select(ReviewEvent.actor, ReviewEvent.at, ReviewEvent.document_id)
                                .where(ReviewEvent.at >= since).order_by(ReviewEvent.actor, ReviewEvent.at)).all()
    times: dict[str, list[datetime]] = defaultdict(list)
    docs: dict[str, set[int]] = defaultdict(set)
    for actor, at, doc_id in rows:
        times[actor].append(at)
        docs[actor].add(doc_id)
    return [ReviewerStats(a, len(docs[a]), len(times[a]), active_time(times[a]) / 3600) for a in sorted(times)]
