"""The masters in the batch store: import (upsert by natural key, never a duplicate) and loading one tenant's index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import sqlalchemy as sa

from yomitori.masters.keys import my_number_hmac
from yomitori.masters.matching import MasterIndex
from yomitori.masters.records import Employer, Kind, RollEntry, load_mapping, parse_csv
from yomitori.masters.records import Resident as ResidentRecord
from yomitori.store.models import MasterEmployer, MasterResident, MasterRollEntry
from yomitori.store.repo import TenantRepo

_MODEL = {"residents": MasterResident, "employers": MasterEmployer, "roll": MasterRollEntry}
_NATURAL = {"residents": ("resident_id",), "employers": ("designated_number",),
            "roll": ("designated_number", "resident_id")}


@dataclass
class ImportReport:
    kind: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.kind}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} line(s) refused")


def import_master(repo: TenantRepo, kind: Kind, data: bytes, *, key: bytes, mapping: Path | None = None,
                  actor: str = "cli") -> ImportReport:
    """Read a master CSV (already in memory: it is never stored) and upsert its rows into this tenant's master."""
    parsed = parse_csv(data, load_mapping(kind, mapping), key=key, tenant=repo.code)
    report = ImportReport(kind, errors=parsed.errors)
    model = _MODEL[kind]
    natural = _NATURAL[kind]
    existing = {tuple(getattr(row, k) for k in natural): row for row in repo.session.scalars(sa.select(model))}
    for record in parsed.rows:
        values = {f.name: getattr(record, f.name) for f in fields(record)}
        row = existing.get(tuple(values[k] for k in natural))
        if row is None:
            row = model(**values)
            repo.session.add(row)
            existing[tuple(values[k] for k in natural)] = row
            report.added += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            report.updated += 1
        else:
            report.unchanged += 1
    repo.session.flush()
    repo.audit(actor, "master.import", None, kind=kind, added=report.added, updated=report.updated,
               refused=len(report.errors))
    return report


def load_index(repo: TenantRepo) -> MasterIndex:
    """This tenant's masters as a MasterIndex (empty when none was imported)."""
    def records(model: type, cls: type) -> list:
        names = [f.name for f in fields(cls)]
        return [cls(**{n: getattr(row, n) for n in names}) for row in repo.session.scalars(sa.select(model))]

    return MasterIndex(records(MasterResident, ResidentRecord), records(MasterEmployer, Employer),
                       records(MasterRollEntry, RollEntry))


def hmac_for(repo: TenantRepo, key: bytes) -> Callable[[str], str]:
    """The tenant's 個人番号 → HMAC function."""
    return lambda number: my_number_hmac(key, repo.code, number)
