"""Redis going away (a restart, a failover, the network): wait for it with a capped backoff instead of failing.

Only ids travel through Redis and every stage is idempotent, so waiting and going on is always safe: a job that
lost its follow-up enqueue retries it, and what Redis itself lost (no persistence) the reconcile loop queues again
from the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)
T = TypeVar("T")
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
FIRST_WAIT, MAX_WAIT = 0.5, 30.0  # seconds between tries: 0.5, 1, 2 … then every 30 s


def shown_url(redis: Redis) -> str:
    """The server as an operator knows it, without a password."""
    kw = redis.connection_pool.connection_kwargs
    if "path" in kw:
        return f"unix://{kw['path']}"
    return f"redis://{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=MAX_WAIT, base=FIRST_WAIT / 2)  # compute(n) = base * 2**n: 0.5 s first


def retrying(redis: Redis, what: str, do: Callable[[], T], *, give_up_after: float | None = None) -> T:
    """`do()`, tried again while Redis cannot be reached; with `give_up_after` (seconds), the last error is
    raised after that long. Each failed try is logged (server and what was being done, never job data)."""
    started = time.monotonic()
    failures = 0

    def failed(error: Exception) -> None:
        nonlocal failures
        failures += 1
        waited = time.monotonic() - started
        if give_up_after is not None and waited >= give_up_after:
            log.error("Redis at %s still cannot be reached after %.0f s (%s); giving up on %s",
                      shown_url(redis), waited, type(error).__name__, what)
            raise error
        log.warning("Redis at %s cannot be reached (%s: %s); %s waits for it (%.0f s so far)",
                    shown_url(redis), type(error).__name__, error, what, waited)

    result = Retry(_backoff(), retries=-1, supported_errors=REDIS_DOWN).call_with_retry(do, failed)
    if failures:
        log.warning("Redis at %s answers again after %.0f s; %s goes on", shown_url(redis),
                    time.monotonic() - started, what)
    return result


def wait_for(redis: Redis, what: str) -> None:
    """Until Redis answers a PING (for ever: a worker is useless without it, and exiting stalls the batch)."""
    retrying(redis, what, redis.ping)
