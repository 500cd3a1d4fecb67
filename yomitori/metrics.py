"""Prometheus metrics of the batch pipeline: what each process did (counters, latencies) and the store's backlog.

Two kinds of series:

* Process metrics — `yomitori_pages_total`, `yomitori_files_total`, `yomitori_fields_total`,
  `yomitori_documents_total`, `yomitori_job_seconds` — count what *this* process did. Every `yomitori worker` serves
  its own on `--metrics-port` (no prometheus multiprocess mode: workers run on several machines anyway);
  Prometheus scrapes each and `sum()` adds them up.
* Backlog gauges — `yomitori_queue_jobs`, `yomitori_pages_waiting`, `yomitori_documents_needing_review`,
  `yomitori_straight_through_ratio`, `yomitori_batches_running` — are read from Redis and the store when scraped,
  so any one process gives the whole deployment's numbers. The API serves them at /metrics (`metrics_app`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_asgi_app,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from yomitori.logs import log_context

if TYPE_CHECKING:
    from yomitori.jobs.runtime import Runtime

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

PAGES = Counter("yomitori_pages", "Pages a stage finished in this process, by outcome: ok; error (an error record); "
                "skipped (already done, or another job holds it)", ["stage", "outcome"])
FILES = Counter("yomitori_files", "Input files split into pages in this process, by outcome (ok, error)", ["outcome"])
FIELDS = Counter("yomitori_fields", "Fields gated in this process: review=false went straight through", ["review"])
DOCUMENTS = Counter("yomitori_documents", "Documents gated in this process, by status (auto, needs_review)",
                    ["status"])
JOB_SECONDS = Histogram("yomitori_job_seconds", "Wall time of one job of a stage (ingest: one file; extract: up to "
                        "YOMITORI_PAGES_PER_JOB pages; validate: a page chunk)", ["stage"],
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600, 1800))

# Pool children of the embedded runtime keep their observations here and hand them to the parent (`replay`).
_buffer: list[tuple[str, tuple[str, ...], float]] | None = None


def _record(metric: str, labels: tuple[str, ...], value: float) -> None:
    if _buffer is not None:
        _buffer.append((metric, labels, value))
        return
    if metric == "job_seconds":
        JOB_SECONDS.labels(*labels).observe(value)
    else:
        _COUNTERS[metric].labels(*labels).inc(value)


_COUNTERS = {"pages": PAGES, "files": FILES, "fields": FIELDS, "documents": DOCUMENTS}


def count_pages(stage: str, outcome: str, n: int = 1) -> None:
    if n:
        _record("pages", (stage, outcome), n)


def count_file(outcome: str) -> None:
    _record("files", (outcome,), 1)


def count_gated(fields_auto: int, fields_review: int, document_status: str) -> None:
    if fields_auto:
        _record("fields", ("false",), fields_auto)
    if fields_review:
        _record("fields", ("true",), fields_review)
    _record("documents", (document_status,), 1)


@contextmanager
def buffered() -> Iterator[list[tuple[str, tuple[str, ...], float]]]:
    """Collect this process's observations in a list instead of the registry (for another process to `replay`)."""
    global _buffer
    saved, _buffer = _buffer, []
    try:
        yield _buffer
    finally:
        _buffer = saved


def replay(events: list[tuple[str, tuple[str, ...], float]]) -> None:
    for metric, labels, value in events:
        _record(metric, tuple(labels), value)


def instrumented_job(stage: str) -> Callable[[F], F]:
    """A stage function: timed into yomitori_job_seconds, and its log records carry the stage, tenant and ids."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def job(tenant: str, ids: Any, *args: Any, **kwargs: Any) -> Any:
            key = "pages" if isinstance(ids, list | tuple) else "source"
            start = time.perf_counter()
            with log_context(stage=stage, tenant=tenant, **{key: ids}):
                log.debug("%s job started", stage)
                try:
                    return func(tenant, ids, *args, **kwargs)
                finally:
                    seconds = time.perf_counter() - start
                    _record("job_seconds", (stage,), seconds)
                    log.debug("%s job finished in %.2f s", stage, seconds)

        return job  # type: ignore[return-value]

    return wrap


# ---------------------------------------------------------------- backlog, read when scraped


class BacklogCollector(Collector):
    """Queue depth (rq), pages waiting per stage, documents to review and the straight-through rate, per tenant."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("yomitori_backlog_up", "1 if the store (and Redis, when configured) could be read")
        try:
            families = [*self._queue(), *self._store()]
        except Exception as exc:  # a scrape must not fail because the database is down; say so instead
            log.warning("metrics: backlog not readable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _queue(self) -> list[GaugeMetricFamily]:
        from yomitori.jobs.runtime import RQDispatcher

        d = self.rt.dispatcher
        if not isinstance(d, RQDispatcher):
            return []
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        g = GaugeMetricFamily("yomitori_queue_jobs", "rq jobs on the queue: queued (waiting for a worker), started "
                              "(a worker has it), failed (kept for a week)", labels=["queue", "state"])
        q = d.queue
        g.add_metric([q.name, "queued"], q.count)
        g.add_metric([q.name, "started"], StartedJobRegistry(queue=q).count)
        g.add_metric([q.name, "failed"], FailedJobRegistry(queue=q).count)
        return [g]

    def _store(self) -> list[GaugeMetricFamily]:
        import sqlalchemy as sa
        from sqlalchemy.orm import Session

        from yomitori.store.models import (
            Batch,
            BatchStatus,
            Document,
            DocumentStatus,
            Field,
            FieldStatus,
            Page,
            PageStatus,
            SourceFile,
            SourceStatus,
            Tenant,
        )

        waiting = GaugeMetricFamily("yomitori_pages_waiting", "Work waiting for a stage: files to ingest, pages to "
                                    "extract or validate (the store's view of the queue)", labels=["tenant", "stage"])
        review = GaugeMetricFamily("yomitori_documents_needing_review", "Documents a reviewer has to look at",
                                   labels=["tenant"])
        ratio = GaugeMetricFamily("yomitori_straight_through_ratio", "Stored fields that passed the gate without "
                                  "review (status auto) / all stored fields", labels=["tenant"])
        running = GaugeMetricFamily("yomitori_batches_running", "Batches with pages not yet done", labels=["tenant"])
        live = sa.select(Batch.id).where(Batch.status != BatchStatus.purged)
        with Session(self.rt.store.engine) as s:  # no tenant scope: one query per metric for all tenants
            codes = dict(s.execute(sa.select(Tenant.id, Tenant.code)).all())

            def per_tenant(query: sa.Select) -> dict[tuple[Any, ...], int]:
                return {tuple(row[:-1]): row[-1] for row in s.execute(query).all()}

            sources = per_tenant(sa.select(SourceFile.tenant_id, sa.func.count())
                                 .where(SourceFile.status == SourceStatus.pending).group_by(SourceFile.tenant_id))
            pages = per_tenant(sa.select(Page.tenant_id, Page.status, sa.func.count())
                               .where(Page.status.in_([PageStatus.ingested, PageStatus.extracted]))
                               .group_by(Page.tenant_id, Page.status))
            docs = per_tenant(sa.select(Document.tenant_id, sa.func.count())
                              .where(Document.status == DocumentStatus.needs_review, Document.batch_id.in_(live))
                              .group_by(Document.tenant_id))
            fields = per_tenant(sa.select(Field.tenant_id, Field.status == FieldStatus.auto, sa.func.count())
                                .join(Document, Field.document_id == Document.id)
                                .where(Document.batch_id.in_(live)).group_by(Field.tenant_id,
                                                                             Field.status == FieldStatus.auto))
            batches = per_tenant(sa.select(Batch.tenant_id, sa.func.count())
                                 .where(Batch.status == BatchStatus.running).group_by(Batch.tenant_id))
        for tid, code in codes.items():
            waiting.add_metric([code, "ingest"], sources.get((tid,), 0))
            waiting.add_metric([code, "extract"], pages.get((tid, PageStatus.ingested), 0))
            waiting.add_metric([code, "validate"], pages.get((tid, PageStatus.extracted), 0))
            review.add_metric([code], docs.get((tid,), 0))
            running.add_metric([code], batches.get((tid,), 0))
            auto, other = fields.get((tid, True), 0), fields.get((tid, False), 0)
            if auto + other:
                ratio.add_metric([code], auto / (auto + other))
        return [waiting, review, ratio, running]


_backlog: BacklogCollector | None = None


def watch_backlog(rt: Runtime, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve the backlog gauges of this runtime's store and queue from `registry` (once per process)."""
    global _backlog
    if _backlog is not None:
        if _backlog.rt is rt:
            return
        registry.unregister(_backlog)
    _backlog = BacklogCollector(rt)
    registry.register(_backlog)


def render_latest(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The exposition text and its content type, for a web framework's own /metrics route."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def metrics_app(rt: Runtime | None = None, registry: CollectorRegistry = REGISTRY) -> Callable[..., Any]:
    """An ASGI app serving the metrics; mount it: `app.mount("/metrics", metrics_app(rt))`.

    With a runtime, the backlog gauges of its store and queue are included.
    """
    if rt is not None:
        watch_backlog(rt, registry)
    return make_asgi_app(registry)


def start_exporter(port: int, addr: str = "0.0.0.0", rt: Runtime | None = None) -> None:
    """Serve /metrics over HTTP from a background thread (`yomitori worker --metrics-port`)."""
    if rt is not None:
        watch_backlog(rt)
    start_http_server(port, addr=addr)
    log.info("metrics on http://%s:%d/metrics", addr, port)
