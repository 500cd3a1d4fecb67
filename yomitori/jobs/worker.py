"""`yomitori worker`: an rq worker on the configured Redis that also looks for work lost by killed workers."""

from __future__ import annotations

import logging

from rq import SimpleWorker

from yomitori.jobs.runtime import RQDispatcher, Runtime, use_runtime
from yomitori.jobs.stages import reconcile_all

log = logging.getLogger(__name__)


class YomitoriWorker(SimpleWorker):
    """Runs jobs in its own process (the recognizer stays loaded between jobs) and reconciles every few seconds."""

    runtime: Runtime

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if n := reconcile_all(self.runtime):
            log.warning("re-queued %d job(s) of work a stopped worker left unfinished", n)


def run_worker(rt: Runtime, *, burst: bool = False, name: str | None = None, logging_level: str = "WARNING") -> None:
    """Work until stopped (or, with burst, until no batch has work left that this worker could take)."""
    if not isinstance(rt.dispatcher, RQDispatcher):
        raise TypeError("a worker needs YOMITORI_REDIS_URL")
    from yomitori.forms_templates.fonts import require

    require()  # a missing font is said once, at start, not as every page failing
    use_runtime(rt)
    interval = rt.settings.reconcile_seconds
    worker = YomitoriWorker([rt.dispatcher.queue], connection=rt.dispatcher.redis, name=name,
                            maintenance_interval=interval, worker_ttl=interval + 15)  # dequeue waits ttl - 15 s
    worker.runtime = rt
    reconcile_all(rt)
    worker.work(burst=burst, logging_level=logging_level)
    while burst and reconcile_all(rt):
        worker = YomitoriWorker([rt.dispatcher.queue], connection=rt.dispatcher.redis, name=None,
                                maintenance_interval=interval, worker_ttl=interval + 15)
        worker.runtime = rt
        worker.work(burst=True, logging_level=logging_level)
