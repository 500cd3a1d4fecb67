"""Where job functions find the store and how they hand on work: in-process (embedded) or an rq queue on Redis."""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable
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
    """The embedded default: jobs wait in a local queue and `drain` runs them here, one after the other."""

    jobs: deque[tuple[str, Callable[..., Any], tuple[Any, ...]]] = field(default_factory=deque)
    _ids: itertools.count = field(default_factory=itertools.count)

    def submit(self, func: Callable[..., Any], *args: Any) -> str:
        job_id = f"inline-{os.getpid()}-{next(self._ids)}"
        self.jobs.append((job_id, func, args))
        return job_id

    def waiting(self, job_id: str | None) -> bool:
        return job_id is not None and any(j[0] == job_id for j in self.jobs)

    def drain(self, after_each: Callable[[], None] | None = None) -> int:
        n = 0
        while self.jobs:
            _, func, args = self.jobs.popleft()
            func(*args)
            n += 1
            if after_each:
                after_each()
        return n


class RQDispatcher:
    """Jobs go to an rq queue; any `yomitori worker` on any machine takes them. Only ids travel through Redis."""

    TIMEOUT = 3600  # one job: ingesting a large PDF or extracting a few pages; leases cover lost workers

    def __init__(self, redis_url: str, queue_name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(queue_name, connection=self.redis)

    def submit(self, func: Callable[..., Any], *args: Any) -> str:
        job = self.queue.enqueue(func, *args, job_timeout=self.TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
                                 description=f"{func.__name__}{args!r}")
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
        dispatcher: Dispatcher = (RQDispatcher(settings.redis_url, settings.queue_name) if settings.redis_url
                                  else InlineDispatcher())
        return cls(settings, Store(settings), dispatcher)


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
