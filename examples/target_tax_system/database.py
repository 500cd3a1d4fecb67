"""The demo system's own SQLite database: employers (特別徴収義務者) and 給与支払報告 records."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
create table if not exists employers (
    id integer primary key,
    shitei_no text not null unique,
    houjin_no text not null,
    name text not null,
    address text not null default '',
    phone text not null default ''
);
create index if not exists employers_houjin on employers(houjin_no);
create table if not exists records (
    id integer primary key,
    receipt_no text not null unique,
    employer_id integer not null references employers(id),
    nenbun integer not null,
    my_number text not null,
    name text not null,
    kana text not null,
    address text not null,
    birth_date text not null,
    juyosha_no text not null default '',
    shubetsu text not null default '',
    shiharai integer not null,
    kyuyo_shotoku integer,
    kojo_gokei integer,
    gensen integer,
    shakai_hoken integer,
    haigusha text not null default '',
    haigusha_kojo integer,
    fuyo_tokutei integer,
    fuyo_rojin integer,
    fuyo_sonota integer,
    fuyo_16 integer,
    flags text not null default '{}',
    spouse_name text not null default '',
    spouse_my_number text not null default '',
    dependents text not null default '[]',
    created_at text not null default (datetime('now'))
);
-- No unique key on (employer, year, person): like many real systems, this one lets a clerk key a record twice.
create index if not exists records_person on records(employer_id, nenbun, my_number);
"""


class Database:
    """One SQLite file; a connection per call, writes serialized by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self.connect() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def find_employers(self, *, shitei_no: str = "", houjin_no: str = "") -> list[sqlite3.Row]:
        with self.connect() as conn:
            if shitei_no:
                return conn.execute("select * from employers where shitei_no = ?", (shitei_no,)).fetchall()
            return conn.execute("select * from employers where houjin_no = ?", (houjin_no,)).fetchall()

    def employer(self, employer_id: int) -> sqlite3.Row | None:
        with self.connect() as conn:
            return conn.execute("select * from employers where id = ?", (employer_id,)).fetchone()

    def add_employer(self, houjin_no: str, name: str, address: str, phone: str) -> int:
        with self._lock, self.connect() as conn:
            (n,) = conn.execute("select count(*) from employers").fetchone()
            shitei = f"{2024_0000 + n + 1:08d}"
            cur = conn.execute("insert into employers (shitei_no, houjin_no, name, address, phone) values (?,?,?,?,?)",
                               (shitei, houjin_no, name, address, phone))
            return int(cur.lastrowid or 0)

    def find_records(self, employer_id: int, nenbun: int, my_number: str) -> list[sqlite3.Row]:
        with self.connect() as conn:
            return conn.execute("select * from records where employer_id = ? and nenbun = ? and my_number = ?",
                                (employer_id, nenbun, my_number)).fetchall()

    def record(self, record_id: int) -> sqlite3.Row | None:
        with self.connect() as conn:
            return conn.execute("select * from records where id = ?", (record_id,)).fetchone()

    def add_record(self, values: dict[str, object]) -> tuple[int, str]:
        with self._lock, self.connect() as conn:
            (n,) = conn.execute("select count(*) from records").fetchone()
            receipt = f"K{n + 1:07d}"
            row = {**values, "receipt_no": receipt}
            row["flags"] = json.dumps(row.get("flags", {}), ensure_ascii=False)
            row["dependents"] = json.dumps(row.get("dependents", []), ensure_ascii=False)
            cols = ", ".join(row)
            cur = conn.execute(f"insert into records ({cols}) values ({', '.join('?' * len(row))})",
                               tuple(row.values()))
            return int(cur.lastrowid or 0), receipt

    def export(self) -> dict[str, list[dict[str, object]]]:
        with self.connect() as conn:
            employers = [dict(r) for r in conn.execute("select * from employers order by id")]
            records = []
            for r in conn.execute("select * from records order by id"):
                d = dict(r)
                d["flags"] = json.loads(d["flags"])
                d["dependents"] = json.loads(d["dependents"])
                records.append(d)
        return {"employers": employers, "records": records}
