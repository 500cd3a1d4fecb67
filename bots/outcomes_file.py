"""The `--outcomes` JSONL file: a line per outcome as it happens, then completed from the journal when a run ends.

The journal is the source of truth: a run killed after it journaled a record's state but before it wrote the line
would otherwise leave that record out for good (the resume sees it done and says nothing). `complete` rewrites the
file with one line per record, the journal's word winning where the two differ.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .outcomes import Outcome, OutcomeKind
from .receipts import Receipt, State

# Fault injection for the crash tests: SIGKILL this process group just before the Nth outcome line is written.
KILL_BEFORE_OUTCOME = "YOMITORI_TEST_KILL_BEFORE_OUTCOME"
_KIND = {State.verified: OutcomeKind.keyed, State.skipped: OutcomeKind.skipped, State.sent_back: OutcomeKind.sent_back,
         State.failed: OutcomeKind.failed, State.unconfirmed: OutcomeKind.failed}


def _line(o: Outcome) -> dict[str, Any]:
    return {"kind": o.kind.value, "record_id": o.record_id, "key": o.key, "message": o.message,
            "screenshot": o.screenshot and str(o.screenshot), "trace": o.trace and str(o.trace)}


class OutcomesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = path.open("a", encoding="utf-8")
        self._written = 0
        self._kill_at = int(os.environ.get(KILL_BEFORE_OUTCOME) or 0)

    def write(self, o: Outcome) -> None:
        self._written += 1
        if self._written == self._kill_at:  # the journal has the state already; the line is not yet written
            os.killpg(os.getpgrp(), signal.SIGKILL) if os.getpgrp() == os.getpid() else os.kill(
                os.getpid(), signal.SIGKILL)
        self._out.write(json.dumps(_line(o), ensure_ascii=False) + "\n")
        self._out.flush()

    def close(self) -> None:
        self._out.close()

    def complete(self, receipts: Iterable[Receipt], record_ids: set[str]) -> int:
        """Rewrite the file: one line per record, from the journal where it knows the record's end; returns how
        many lines the journal added or corrected. Only `record_ids` (this run's records) are taken from it."""
        lines: dict[str, dict[str, Any]] = {}
        with contextlib.suppress(FileNotFoundError), self.path.open(encoding="utf-8") as f:
            for raw in f:
                with contextlib.suppress(ValueError):  # a line torn by a kill is dropped
                    line = json.loads(raw)
                    if isinstance(line, dict) and "record_id" in line:
                        lines.pop(str(line["record_id"]), None)  # the latest line of a record, in the latest place
                        lines[str(line["record_id"])] = line
        fixed = 0
        for r in receipts:
            kind = _KIND.get(r.state)
            if kind is None or r.record_id not in record_ids:
                continue  # still in progress (the next run resumes it), or another run's record
            known = lines.get(r.record_id)
            if known is not None and known.get("kind") == kind.value:
                continue
            files = [a for a in r.artifacts if not a.startswith("blob:")]
            lines[r.record_id] = {"kind": kind.value, "record_id": r.record_id, "key": r.key, "message": r.message,
                                  "screenshot": next((a for a in files if not a.endswith(".zip")), None),
                                  "trace": next((a for a in files if a.endswith(".zip")), None)}
            fixed += 1
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines.values())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        return fixed
