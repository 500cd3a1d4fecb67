"""The keying receipt journal: what the bot started, saved, verified or sent back, per idempotency key."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from .lease import file_lease


class State(StrEnum):
    started = "started"  # keying began; whether the target has the record is unknown until looked up
    sent = "sent"  # the browser sent the save: from here on the record is looked up, never keyed again by itself
    saved = "saved"  # the commit step went through; not yet read back
    verified = "verified"  # read back from the target and equal to the approved values
    skipped = "skipped"  # the target already had it, keyed by someone else
    sent_back = "sent_back"  # the target refused it, or the read-back differed: back to review
    failed = "failed"  # the bot could not finish; the next run looks the record up before anything else
    # The save was sent, its answer never came, and lookups did not find it: a person checks the target
    # (保存済みの可能性: 確認してください). Later runs look it up again but never key it; `bot release` lets them.
    unconfirmed = "unconfirmed"


TERMINAL = frozenset({State.verified, State.skipped, State.sent_back})
SAVE_SENT = frozenset({State.sent, State.unconfirmed})  # the target may hold it: look up, never key again


@dataclass(frozen=True)
class Receipt:
    key: str
    record_id: str
    state: State
    values_digest: str
    attempts: int
    message: str
    artifacts: tuple[str, ...]
    updated_at: str


class ReceiptLog(Protocol):
    """Where receipts are kept. The SQLite file below now; the batch store's keying-receipts table later."""

    def secret(self) -> bytes:
        """The key of the HMACs that make idempotency keys (stable for the life of the log)."""
        ...

    def get(self, key: str) -> Receipt | None: ...

    def mark(self, key: str, record_id: str, state: State, *, values_digest: str, message: str = "",
             artifacts: tuple[str, ...] = ()) -> None:
        """Record a state durably before returning: the runner relies on "started" surviving a SIGKILL."""
        ...

    def all(self) -> list[Receipt]: ...

    def lease(self, *, wait: float = 0.0, on_lost: Callable[[str], None] | None = None
              ) -> contextlib.AbstractContextManager[None]:
        """The journal for this run alone (LeaseHeld if another live run has it); `on_lost` if it is lost."""
        ...


class SQLiteReceiptLog:
    """A receipt journal in one SQLite file (WAL, synchronous=FULL), with an append-only history."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if fresh:
            os.chmod(self.path, 0o600)  # holds the HMAC secret
        self._conn.execute("pragma journal_mode=wal")
        self._conn.execute("pragma synchronous=full")
        self._conn.executescript("""
            create table if not exists meta (name text primary key, value blob not null);
            create table if not exists receipts (
                key text primary key, record_id text not null, state text not null, values_digest text not null,
                attempts integer not null default 0, message text not null default '',
                artifacts text not null default '[]', updated_at text not null);
            create table if not exists history (
                id integer primary key, key text not null, record_id text not null, state text not null,
                message text not null default '', at text not null);
        """)
        self._conn.execute("insert or ignore into meta values ('secret', ?)", (secrets.token_bytes(32),))
        (self._secret,) = self._conn.execute("select value from meta where name = 'secret'").fetchone()

    def secret(self) -> bytes:
        return bytes(self._secret)

    def get(self, key: str) -> Receipt | None:
        row = self._conn.execute("select key, record_id, state, values_digest, attempts, message, artifacts, "
                                 "updated_at from receipts where key = ?", (key,)).fetchone()
        return _receipt(row) if row else None

    def mark(self, key: str, record_id: str, state: State, *, values_digest: str, message: str = "",
             artifacts: tuple[str, ...] = ()) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        started = int(state == State.started)
        with self._conn:
            self._conn.execute("begin immediate")
            self._conn.execute(
                "insert into receipts values (?, ?, ?, ?, ?, ?, ?, ?) on conflict(key) do update set "
                "record_id = excluded.record_id, state = excluded.state, values_digest = excluded.values_digest, "
                "attempts = attempts + ?, message = excluded.message, artifacts = excluded.artifacts, "
                "updated_at = excluded.updated_at",
                (key, record_id, state.value, values_digest, started, message, json.dumps(list(artifacts)), now,
                 started))
            self._conn.execute("insert into history (key, record_id, state, message, at) values (?, ?, ?, ?, ?)",
                               (key, record_id, state.value, message, now))

    def all(self) -> list[Receipt]:
        rows = self._conn.execute("select key, record_id, state, values_digest, attempts, message, artifacts, "
                                  "updated_at from receipts order by updated_at").fetchall()
        return [_receipt(r) for r in rows]

    def history(self, key: str) -> list[tuple[str, str]]:
        """(state, message) in order, for audits and tests."""
        return self._conn.execute("select state, message from history where key = ? order by id", (key,)).fetchall()

    def lease(self, *, wait: float = 0.0, on_lost: Callable[[str], None] | None = None
              ) -> contextlib.AbstractContextManager[None]:
        return file_lease(self.path, wait=wait)  # an OS lock: never lost while the process lives

    def close(self) -> None:
        self._conn.close()


def _receipt(row: tuple) -> Receipt:
    key, record_id, state, digest, attempts, message, artifacts, updated = row
    return Receipt(key, record_id, State(state), digest, attempts, message, tuple(json.loads(artifacts)), updated)
