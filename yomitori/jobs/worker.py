"""`yomitori worker`: an rq worker on the configured Redis that also looks for work lost by killed workers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rq import SimpleWorker

from yomitori.jobs.reconnect import REDIS_DOWN, wait_for
from yomitori.jobs.runtime import RQDispatcher, Runtime, use_runtime
from yomitori.jobs.stages import reconcile_all

log = logging.getLogger(__name__)
T = TypeVar("T")


class YomitoriWorker(SimpleWorker):
    """Runs jobs in its own process (the recognizer stays loaded between jobs) and reconciles every few seconds.

    Redis going away (a restart) does not stop it: rq's own loop waits only while it dequeues, so every other call
    of the loop that talks to Redis waits for it here (capped backoff, logged) and the worker goes on.
    """

    runtime: Runtime

    def _redis_back(self, what: str) -> None:
        wait_for(self.connection, what)
        if not self.connection.exists(self.key):  # a Redis restarted without its data: register again
            self.register_birth()

    def _through_outage(self, what: str, call: Callable[[], T]) -> T:
        while True:
            try:
                return call()
            except REDIS_DOWN:
                self._redis_back(what)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None:  # queued on the caller's pipeline: the caller's execute is what fails
            return super().heartbeat(timeout, pipeline)
        self._through_outage(f"worker {self.name}", lambda: super(YomitoriWorker, self).heartbeat(timeout))

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is not None:
            return super().set_state(state, pipeline)
        self._through_outage(f"worker {self.name}", lambda: super(YomitoriWorker, self).set_state(state))

    def check_for_suspension(self, burst: bool) -> None:
        self._through_outage(f"worker {self.name}",
                             lambda: super(YomitoriWorker, self).check_for_suspension(burst))

    def run_maintenance_tasks(self) -> None:
        self._through_outage(f"worker {self.name}", lambda: super(YomitoriWorker, self).run_maintenance_tasks())
        if n := reconcile_all(self.runtime):
            log.warning("re-queued %d job(s) of work a stopped worker left unfinished", n)

    def execute_job(self, job: Any, queue: Any) -> None:
        """A job whose bookkeeping in Redis failed is not run again: its work (or its claim) is in the store,
        and what it left undone is queued again by the reconcile loop."""
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN:
            log.warning("Redis went away while job %s was being started or recorded; the store keeps its pages",
                        job.id)
            self._redis_back(f"worker {self.name}")

    def teardown(self) -> None:
        try:
            super().teardown()
        except REDIS_DOWN:  # stopping while Redis is away: its registration expires by itself
            log.warning("worker %s stopped while Redis could not be reached", self.name)


def _worker(rt: Runtime, name: str | None) -> YomitoriWorker:
    assert isinstance(rt.dispatcher, RQDispatcher)
    interval = rt.settings.reconcile_seconds
    worker = YomitoriWorker([rt.dispatcher.queue], connection=rt.dispatcher.redis, name=name,
                            maintenance_interval=interval, worker_ttl=interval + 15)  # dequeue waits ttl - 15 s
    worker.runtime = rt
    return worker


def run_worker(rt: Runtime, *, burst: bool = False, name: str | None = None, logging_level: str = "WARNING") -> None:
    """Work until stopped (or, with burst, until no batch has work left that this worker could take)."""
    if not isinstance(rt.dispatcher, RQDispatcher):
        raise TypeError("a worker needs YOMITORI_REDIS_URL")
    from yomitori.forms_templates.fonts import require

    require()  # a missing font is said once, at start, not as every page failing
    use_runtime(rt)
    wait_for(rt.dispatcher.redis, "the worker's start")  # Redis may start after the workers
    reconcile_all(rt)
    _worker(rt, name).work(burst=burst, logging_level=logging_level)
    while burst and reconcile_all(rt):
        _worker(rt, None).work(burst=True, logging_level=logging_level)
