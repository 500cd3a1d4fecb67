"""Where job functions find the store and how they hand on work: in-process (embedded) or an rq queue on Redis."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from yomitori.settings import Settings
from yomitori.store.repo import Store

HOST = socket.gethostname()


class Dispatcher(Protocol):
    def submit(self, func: Callable[..., Any], *args: Any) -> str:
        """Run func(*args) later, somewhere; returns a job id."""
        ...

    def waiting(self, job_id: str | None) -> bool:
        """True if that job is queued and has not started (so its work needs no second job)."""
        ...


@dataclass
class InlineDispatcher:
    """The embedded default: jobs wait in a local queue and `drain` runs them here.

    With `processes` > 1 (and `settings` to start them with), jobs marked `pooled` (page extraction) run in a pool of
    that many processes while the rest (ingest, validate) run here; a child's follow-up jobs and metrics come back
    to this process. Leases make this as safe as rq workers: a child only writes pages it holds.
    """

    jobs: deque[tuple[str, Callable[..., Any], tuple[Any, ...]]] = field(default_factory=deque)
    _ids: itertools.count = field(default_factory=itertools.count)
    processes: int = 1
    settings: Settings | None = None
    _pool: ProcessPoolExecutor | None = None
    _running: dict[Future, str] = field(default_factory=dict)

    def submit(self, func: Callable[..., Any], *args: Any) -> str:
        job_id = f"inline-{os.getpid()}-{next(self._ids)}"
        self.jobs.append((job_id, func, args))
        return job_id

    def waiting(self, job_id: str | None) -> bool:
        return job_id is not None and (any(j[0] == job_id for j in self.jobs) or job_id in self._running.values())

    def drain(self, after_each: Callable[[], None] | None = None) -> int:
        n = 0
        try:
            if self._wants_pool():
                self._start_pool()  # the children load their models while this process splits the files
            while self.jobs or self._running:
                job = self._next_job()
                if job is not None:
                    job_id, func, args = job
                    if self._use_pool(func):
                        self._running[self._start_pool().submit(_run_pooled, func, args)] = job_id
                        continue
                    func(*args)
                    n += 1
                    if after_each:
                        after_each()
                    continue
                done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
                for future in done:
                    self._running.pop(future)
                    follow_ups, events = future.result()
                    from yomitori import metrics

                    metrics.replay(events)
                    self.jobs.extend(follow_ups)
                    n += 1
                    if after_each:
                        after_each()
        except BaseException:
            self.close()  # a failed job stops the run, as it does without a pool
            raise
        return n

    def _next_job(self) -> tuple[str, Callable[..., Any], tuple[Any, ...]] | None:
        """Pages to read go to an idle child first, so the children never wait while this process ingests the
        rest of the batch; otherwise the next job this process runs itself; None: wait for a child."""
        if self._pool is not None and len(self._running) < 2 * self.processes:
            for i, job in enumerate(self.jobs):
                if self._use_pool(job[1]):
                    del self.jobs[i]
                    return job
        for i, job in enumerate(self.jobs):
            if not self._use_pool(job[1]):
                del self.jobs[i]
                return job
        if self.jobs and not self._running:  # pooled jobs, no pool yet
            return self.jobs.popleft()
        return None

    def _use_pool(self, func: Callable[..., Any]) -> bool:
        return self.processes > 1 and self.settings is not None and getattr(func, "pooled", False)

    def _wants_pool(self) -> bool:
        return any(self._use_pool(f) or (self.processes > 1 and self.settings is not None
                                         and getattr(f, "feeds_pool", False)) for _, f, _ in self.jobs)

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            assert self.settings is not None
            child = self.settings.model_copy(update={"ocr_threads": 1, "embedded_processes": 1})
            context = _pool_context()
            if context.get_start_method() == "fork":
                _build_shared_tables()
            self._pool = ProcessPoolExecutor(self.processes, mp_context=context,
                                             initializer=_init_pooled, initargs=(child, logging.getLogger().level))
            for _ in range(self.processes):  # one per child: each starts now, not at its first page
                self._pool.submit(_started)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork where it is safe: one thread (the CLI; not the web server) and no recognizer loaded here (its
    onnxruntime threads would not survive a fork). A forked child starts at once, with the modules imported
    (1.2 CPU seconds a spawned child spends again). Else spawn."""
    from yomitori.jobs import stages

    safe = threading.active_count() == 1 and stages._extractor is None and \
        "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if safe else "spawn")


def _build_shared_tables() -> None:
    """The readers' place-name lexicon (Japan Post's data, 1 CPU second to build): built once here before the
    fork, so that forked readers share it instead of each building it on its first address."""
    from yomitori.places import municipalities

    municipalities()


def _init_pooled(settings: Settings, log_level: int) -> None:
    """A pool child: its own store connections, a dispatcher that only collects follow-up jobs, redacted logs."""
    from yomitori.logs import setup_logging

    if _current is not None:  # forked: the parent's database connections are the parent's, never used or closed here
        _current.store.engine.dispose(close=False)

    setup_logging(log_level)
    use_runtime(Runtime(settings, Store(settings), InlineDispatcher()))
    try:  # load the recognizer now, in parallel with the parent's ingest; a failure is raised by the first job
        from yomitori.jobs.stages import extractor

        extractor(settings.ocr_engine, settings.ocr_threads)
    except Exception:
        logging.getLogger(__name__).exception("the page reader could not be loaded in a pool process")


def _started() -> bool:
    return True


def _run_pooled(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[list[Any], list[Any]]:
    """Run one job in a pool child; return the jobs it queued and the metrics it observed."""
    from yomitori import metrics

    rt = runtime()
    assert isinstance(rt.dispatcher, InlineDispatcher)
    rt.dispatcher.jobs.clear()
    with metrics.buffered() as events:
        func(*args)
    follow_ups = list(rt.dispatcher.jobs)  # their ids were already written to the pages: keep them
    rt.dispatcher.jobs.clear()
    return follow_ups, events


class RQDispatcher:
    """Jobs go to an rq queue; any `yomitori worker` on any machine takes them. Only ids travel through Redis."""

    TIMEOUT = 3600  # one job: ingesting a large PDF or extracting a few pages; leases cover lost workers

    def __init__(self, redis_url: str, queue_name: str, retry_seconds: float = 300) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(queue_name, connection=self.redis)
        self.retry_seconds = retry_seconds

    def submit(self, func: Callable[..., Any], *args: Any) -> str:
        """Enqueue; while Redis is away (a restart) the enqueue is retried for up to `retry_seconds`, so a job's
        follow-up work is not dropped. One job id for every try: a retried enqueue that had reached Redis queues
        the same job again, whose second run finds its pages taken and skips them."""
        from yomitori.jobs.reconnect import retrying

        job_id = str(uuid.uuid4())
        job = retrying(self.redis, f"queueing {func.__name__}", lambda: self.queue.enqueue(
            func, *args, job_id=job_id, job_timeout=self.TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
            description=f"{func.__name__}{args!r}"), give_up_after=self.retry_seconds)
        return job.id

    def waiting(self, job_id: str | None) -> bool:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        if job_id is None:
            return False
        try:
            status = Job.fetch(job_id, connection=self.redis).get_status(refresh=True)
        except NoSuchJobError:
            return False
        return status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    dispatcher: Dispatcher

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or Settings()
        dispatcher: Dispatcher = (RQDispatcher(settings.redis_url, settings.queue_name,
                                               settings.redis_retry_seconds) if settings.redis_url
                                  else InlineDispatcher(processes=embedded_processes(settings), settings=settings))
        return cls(settings, Store(settings), dispatcher)


def embedded_processes(settings: Settings) -> int:
    """Processes reading pages in the embedded runtime: the setting, or one per core (at most 8) for 0."""
    return settings.embedded_processes or max(1, min(len(os.sched_getaffinity(0)) or 1, 8))


_current: Runtime | None = None


def runtime() -> Runtime:
    """The process's runtime; a worker builds it from the environment on its first job."""
    global _current
    if _current is None:
        _current = Runtime.from_settings()
    return _current


def use_runtime(rt: Runtime | None) -> None:
    global _current
    _current = rt


def new_lease_owner() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """A lease taken by a process on this host that no longer exists (killed): no need to wait for it to expire."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fp:
            return fp.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
