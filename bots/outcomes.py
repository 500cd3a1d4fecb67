"""What became of each record: the `Outcome` a run hands to its callback (the store adapter's entry point)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class OutcomeKind(StrEnum):
    keyed = "keyed"  # keyed (or found after an interruption) and read back equal to the approved values
    skipped = "skipped"  # already in the target, keyed by someone else: nothing typed
    sent_back = "sent_back"  # the target refused it or the read-back differed: back to review with `message`
    failed = "failed"  # could not finish: `message` names the step and selector; screenshot and trace attached
    dry_run = "dry_run"  # --dry-run walked the scenario up to the save


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    record_id: str
    key: str  # idempotency key (an HMAC; no 個人番号 in it)
    message: str = ""  # redacted: never contains a 個人番号
    screenshot: Path | None = None
    trace: Path | None = None


OutcomeSink = Callable[[Outcome], None]
