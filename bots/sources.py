"""Where approved records come from: the `RecordSource` interface and a contract-JSONL file source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from yomitori.errors import InputError


@dataclass(frozen=True)
class SourceRecord:
    record_id: str  # the store's id of the record, or the file and line it came from
    form: str
    values: dict[str, object]  # approved, normalized values by contract field key


class RecordSource(Protocol):
    """Yields the approved records to key. The batch store will provide one for `--batch ID`."""

    def __iter__(self) -> Iterator[SourceRecord]: ...


class JsonlRecordSource:
    """Records in the contract's JSONL shape ({"form", "fields": {key: {"value": ...}}}); an "id" key names one."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("no such records file", source=str(path))

    def __iter__(self) -> Iterator[SourceRecord]:
        with self.path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    fields = obj["fields"]
                    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in fields.items()}
                    form = obj["form"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    problem = f"line {n} is not a contract record (form, fields)"
                    raise InputError(problem, source=str(self.path)) from None
                yield SourceRecord(str(obj.get("id") or f"{self.path.name}:{n}"), form, values)
