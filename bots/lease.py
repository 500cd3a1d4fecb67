"""One bot run at a time per journal: a second run on the same journal would key every record a second time.

The SQLite journal of `--records` runs is leased with an OS file lock (flock) on `<journal>.lock`: the kernel drops it
when the process dies, SIGKILL included, so a resume after a crash never waits. The store's journal (one per tenant
and scenario) is leased with a `bot_leases` row renewed by a heartbeat; a dead run's row is taken over when it
expires, or at once on the same host when its process is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from yomitori.errors import YomitoriError
from yomitori.store.models import BotLease
from yomitori.store.repo import Store

LEASE_SECONDS = 60.0  # a store lease not renewed for this long belongs to a dead run


class LeaseHeld(YomitoriError):
    """Another live run holds the journal: this one refuses rather than keying its records a second time."""

    def __init__(self, message: str) -> None:
        super().__init__(f"別の実行が同じ入力記録を使用中です（二重入力を防ぐため開始しません）: {message}")


def _advice(wait: float) -> str:
    waited = f"waited {wait:.0f} s; " if wait else ""
    return (f"{waited}let it finish or stop it, or start this one with --wait-for-lease SECONDS. A run that crashed "
            "holds nothing: its records are resumed by the next run")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def file_lease(journal: Path, *, wait: float = 0.0) -> Iterator[None]:
    """Hold `<journal>.lock` for the block; raise LeaseHeld if another process keeps it for `wait` seconds."""
    path = journal.with_name(journal.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 400, 0).decode(errors="replace")
                    try:
                        h = json.loads(holder)
                        who = f"pid {h['pid']} on {h['host']}, since {h['since']}"
                    except (ValueError, KeyError, TypeError):
                        who = "another process"
                    raise LeaseHeld(f"another bot run is using the journal {journal} ({who}): {_advice(wait)}"
                                    ) from None
                time.sleep(0.2)
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class StoreLease:
    """The `bot_leases` row of (tenant, bot): acquire, renew from a heartbeat thread, release."""

    def __init__(self, store: Store, tenant: str, bot: str, run_id: str, *, seconds: float = LEASE_SECONDS) -> None:
        self.store, self.tenant, self.bot, self.run_id, self.seconds = store, tenant, bot, run_id, seconds
        self.host, self.pid = socket.gethostname()[:200], os.getpid()
        self.generation = -1

    def _try(self) -> str:
        """Take the lease if it is free, expired or its process is gone; else describe the holder."""
        now = datetime.now(UTC)
        mine = {"run_id": self.run_id, "host": self.host, "pid": self.pid, "acquired_at": now,
                "expires_at": now + timedelta(seconds=self.seconds)}
        with self.store.tenant(self.tenant) as repo:
            row = repo.session.scalar(sa.select(BotLease).where(BotLease.bot == self.bot))
            if row is None:
                try:
                    with repo.session.begin_nested():
                        repo.session.add(BotLease(bot=self.bot, generation=0, **mine))
                    self.generation = 0
                    return ""
                except sa.exc.IntegrityError:
                    return "another run took it a moment ago"
            dead = _aware(row.expires_at) < now or (row.host == self.host and not _alive(row.pid))
            if not dead:
                return (f"run {row.run_id}, pid {row.pid} on {row.host}, since "
                        f"{_aware(row.acquired_at).isoformat(timespec='seconds')}")
            # Conditional on the generation read: of two runs taking over one dead lease, one wins.
            taken = repo.session.execute(
                sa.update(BotLease).where(BotLease.id == row.id, BotLease.generation == row.generation)
                .values(generation=row.generation + 1, **mine)).rowcount
            if taken != 1:
                return "another run took it over a moment ago"
            self.generation = row.generation + 1
            return ""

    def acquire(self, wait: float = 0.0) -> None:
        deadline = time.monotonic() + wait
        while holder := self._try():
            if time.monotonic() >= deadline:
                raise LeaseHeld(f"another bot run of {self.bot!r} is keying in tenant {self.tenant!r} ({holder}): "
                                f"{_advice(wait)}")
            time.sleep(0.5)

    def renew(self) -> bool:
        """Push the expiry on; False if the lease was taken over (this run stalled past its expiry)."""
        with self.store.tenant(self.tenant) as repo:
            return repo.session.execute(
                sa.update(BotLease).where(BotLease.bot == self.bot, BotLease.run_id == self.run_id,
                                          BotLease.generation == self.generation)
                .values(expires_at=datetime.now(UTC) + timedelta(seconds=self.seconds))).rowcount == 1

    def release(self) -> None:
        with self.store.tenant(self.tenant) as repo:
            repo.session.execute(sa.delete(BotLease).where(BotLease.bot == self.bot, BotLease.run_id == self.run_id,
                                                           BotLease.generation == self.generation))

    @contextlib.contextmanager
    def held(self, *, wait: float = 0.0, on_lost: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the lease for the block, renewed every third of its life; `on_lost` is told if it is lost."""
        self.acquire(wait)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.seconds / 3):
                try:
                    ok = self.renew()
                except sa.exc.SQLAlchemyError:
                    continue  # the database is away for a moment: the next beat tries again, well before expiry
                if not ok:
                    if on_lost is not None:
                        on_lost(f"the lease of the journal was taken over by another run: stopped (tenant "
                                f"{self.tenant!r}, {self.bot!r})")
                    return

        thread = threading.Thread(target=beat, name="bot-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.release()
