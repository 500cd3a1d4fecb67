"""Master rows as plain records, and reading them from a CSV through a column mapping (YAML, as data).

A row that cannot be read is reported by line and column (never with its 個人番号), and the rest goes on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from yomitori.errors import YomitoriError
from yomitori.masters.keys import my_number_hmac
from yomitori.values import NormalizationError, normalize_date, normalize_kana, normalize_my_number, normalize_text

Kind = Literal["residents", "employers", "roll"]
KINDS: tuple[Kind, ...] = ("residents", "employers", "roll")
REQUIRED = {"residents": ("resident_id", "name"), "employers": ("designated_number",),
            "roll": ("designated_number", "resident_id")}
_TRUE = {"1", "true", "yes", "y", "有", "○", "〇", "対象", "あり"}


class MasterError(YomitoriError):
    """A master file or mapping that cannot be used as it is (the message says how to fix it)."""


@dataclass(frozen=True)
class Resident:
    resident_id: str
    name: str
    name_kana: str = ""
    birth_date: str | None = None
    address: str = ""
    my_number_hmac: str | None = None
    moved_in: str | None = None
    moved_out: str | None = None
    support_measure: bool = False

    def resident_on(self, day: str) -> bool:
        """Whether the person lived in the city on `day` (ISO): moved in by then, not moved out before."""
        return (self.moved_in is None or self.moved_in <= day) and (self.moved_out is None or self.moved_out > day)


@dataclass(frozen=True)
class Employer:
    designated_number: str
    corporate_number: str | None = None
    name: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RollEntry:
    designated_number: str
    resident_id: str


@dataclass(frozen=True)
class Mapping:
    kind: Kind
    columns: dict[str, str]  # master item → CSV header
    encoding: str = "utf-8-sig"


@dataclass
class Parsed:
    rows: list[Resident | Employer | RollEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_mapping(kind: Kind, path: Path | None = None) -> Mapping:
    """The mapping in `path` (YAML), else the bundled default for `kind` (yomitori/masters/mappings/)."""
    if kind not in KINDS:
        raise MasterError(f"unknown master {kind!r}: one of {', '.join(KINDS)}")
    text = path.read_text(encoding="utf-8") if path else \
        resources.files("yomitori.masters").joinpath(f"mappings/{kind}.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    columns = raw.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MasterError(f"{path or kind}: `columns` must map each item to a CSV header")
    if raw.get("kind", kind) != kind:
        raise MasterError(f"{path}: this mapping is for {raw.get('kind')!r}, not {kind!r}")
    missing = [item for item in REQUIRED[kind] if item not in columns]
    if missing:
        raise MasterError(f"{path or kind}: the mapping names no column for {', '.join(missing)}")
    return Mapping(kind, dict(columns), str(raw.get("encoding", "utf-8-sig")))


def parse_csv(data: bytes, mapping: Mapping, *, key: bytes, tenant: str) -> Parsed:
    """The CSV's rows as records; 個人番号 hashed here, in memory, and never kept."""
    try:
        text = data.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise MasterError(f"the file is not {mapping.encoding} text ({e.__class__.__name__}); set `encoding` in "
                          "the mapping (cp932 for Shift_JIS)") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = set(reader.fieldnames or [])
    absent = [f"{item} ({col})" for item, col in mapping.columns.items()
              if col not in headers and item in REQUIRED[mapping.kind]]
    if absent:
        raise MasterError(f"the file has no column for {', '.join(absent)}; its columns: "
                          f"{', '.join(sorted(headers)) or 'none'} (adjust the mapping)")
    out = Parsed()
    for line, row in enumerate(reader, start=2):
        values = {item: (row.get(col) or "").strip() for item, col in mapping.columns.items() if col in headers}
        try:
            out.rows.append(_record(mapping.kind, values, key, tenant))
        except (NormalizationError, MasterError) as e:
            out.errors.append(f"line {line}: {e}")
    return out


def _record(kind: Kind, v: dict[str, str], key: bytes, tenant: str) -> Resident | Employer | RollEntry:
    for item in REQUIRED[kind]:
        if not v.get(item):
            raise MasterError(f"{item} is empty")
    if kind == "roll":
        return RollEntry(v["designated_number"], v["resident_id"])
    if kind == "employers":
        return Employer(v["designated_number"], "".join(c for c in v.get("corporate_number", "") if c.isdigit())
                        or None, _text(v.get("name")), _text(v.get("address")), v.get("phone", ""))
    mn = v.get("my_number")
    try:
        hashed = my_number_hmac(key, tenant, normalize_my_number(mn)) if mn else None
    except NormalizationError:
        raise MasterError("個人番号 is not a valid 個人番号 (12 digits, check digit)") from None
    return Resident(v["resident_id"], _text(v["name"]), normalize_kana(v["name_kana"]) if v.get("name_kana") else "",
                    _date(v.get("birth_date")), _text(v.get("address")), hashed, _date(v.get("moved_in")),
                    _date(v.get("moved_out")), v.get("support_measure", "").lower() in _TRUE)


def _text(s: str | None) -> str:
    return normalize_text(s) if s else ""


def _date(s: str | None) -> str | None:
    if not s:
        return None
    return normalize_date(s.replace("/", "-")) if s[:4].isdigit() else normalize_date(s)


def load_folder(folder: Path, *, key: bytes, tenant: str = "local") -> tuple[list, list, list]:
    """residents.csv, employers.csv and roll.csv of a folder (each with its `<kind>.yaml` mapping when there is
    one), read in memory for `yomitori extract --master`: (residents, employers, roll)."""
    if not folder.is_dir():
        raise MasterError(f"no master folder {folder}: it holds residents.csv, employers.csv and/or roll.csv")
    out: dict[str, list] = {}
    for kind in KINDS:
        csv_file, mapping = folder / f"{kind}.csv", folder / f"{kind}.yaml"
        out[kind] = parse_csv(csv_file.read_bytes(), load_mapping(kind, mapping if mapping.is_file() else None),
                              key=key, tenant=tenant).rows if csv_file.is_file() else []
    return out["residents"], out["employers"], out["roll"]
