"""`yomitori bot bench`: key generated records into the demo system, SIGKILL the runner half-way, resume, verify.

The check at the end reads the demo system's export, not the bot's own journal: duplicates, records missing and
values that differ from the approved ones are counted independently of what the bot believes it did.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console

from yomitori.synth.data import make_company, make_record
from yomitori.values import normalize_kana

from .demo_target import DemoTarget

FORM = "kyuyo_shiharai_hokokusho"
SCENARIO = Path(__file__).parent / "scenarios" / "demo_tax_system.yaml"
_AMOUNTS = {"payment_amount": "shiharai", "income_after_deduction": "kyuyo_shotoku",
            "total_deductions": "kojo_gokei", "withholding_tax": "gensen", "social_insurance": "shakai_hoken",
            "spouse_deduction_amount": "haigusha_kojo", "dependents_specific": "fuyo_tokutei",
            "dependents_elderly": "fuyo_rojin", "dependents_other": "fuyo_sonota", "dependents_under16": "fuyo_16"}
_FLAGS = {"minor": "minor", "otsu_column": "otsu", "widow": "widow", "single_parent": "single_parent",
          "working_student": "student"}


def employers(n: int) -> int:
    return max(2, n // 5)


def write_records(path: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """`n` approved 明細書 records from ~n/5 employers (a batch holds bundles), in the contract's JSONL shape."""
    rng = random.Random(seed)
    companies = [make_company(rng) for _ in range(employers(n))]
    out = []
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            values = make_record(FORM, rng, payer=rng.choice(companies))
            rec = {"id": f"bench-{i + 1:04d}", "form": FORM,
                   "fields": {k: {"value": v, "confidence": 1.0, "review": False} for k, v in values.items()}}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            out.append(rec)
    return out


def _as_contract(row: dict[str, Any], employer: dict[str, Any]) -> dict[str, object]:
    """A demo-system export row in contract terms, for the fields the scenario keys."""
    v: dict[str, object] = {
        "payer_number": employer["houjin_no"], "tax_year": row["nenbun"], "recipient_my_number": row["my_number"],
        "recipient_name": row["name"], "recipient_name_kana": normalize_kana(row["kana"]),
        "recipient_address": row["address"], "birth_date": row["birth_date"],
        "recipient_number": row["juyosha_no"] or None, "payment_type": row["shubetsu"] or None,
        "spouse_status": {"": None, "1": "yes", "2": "yes_other_payer"}[row["haigusha"]],
        "spouse_name": row["spouse_name"] or None, "spouse_my_number": row["spouse_my_number"] or None,
    }
    v.update({k: row[col] for k, col in _AMOUNTS.items()})
    v.update({k: bool(row["flags"].get(col)) for k, col in _FLAGS.items()})
    for i in range(1, 5):
        for kind, prefix in (("dep", "dependent"), ("u16", "under16")):
            d = next((d for d in row["dependents"] if d["kind"] == kind and d["slot"] == i), {})
            v[f"{prefix}_{i}_name"] = d.get("name") or None
            v[f"{prefix}_{i}_name_kana"] = normalize_kana(d["kana"]) if d.get("kana") else None
            v[f"{prefix}_{i}_my_number"] = d.get("my_number") or None
    return v


def verify_target(export: dict[str, list[dict[str, Any]]], records: list[dict[str, Any]]) -> dict[str, int]:
    """Duplicates, missing records and field mismatches between the target's data and the approved records."""
    employers = {e["id"]: e for e in export["employers"]}
    by_key: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for row in export["records"]:
        by_key.setdefault((employers[row["employer_id"]]["houjin_no"], row["nenbun"], row["my_number"]), []).append(row)
    duplicates = sum(len(rows) - 1 for rows in by_key.values())
    missing = mismatched_records = mismatched_fields = 0
    for rec in records:
        values = {k: f["value"] for k, f in rec["fields"].items()}
        rows = by_key.get((str(values["payer_number"]), int(values["tax_year"]), str(values["recipient_my_number"])))
        if not rows:
            missing += 1
            continue
        got = _as_contract(rows[0], employers[rows[0]["employer_id"]])
        bad = [k for k in got if got[k] != (bool(values[k]) if k in _FLAGS else values.get(k))]
        mismatched_fields += len(bad)
        mismatched_records += bool(bad)
    return {"target_rows": len(export["records"]), "duplicates": duplicates, "missing": missing,
            "mismatched_records": mismatched_records, "mismatched_fields": mismatched_fields}


def _verified(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
        try:
            (n,) = conn.execute("select count(*) from receipts where state = 'verified'").fetchone()
        finally:
            conn.close()
        return int(n)
    except sqlite3.Error:
        return 0


def run_bench(*, n: int, parallel: int, kill_at: float, slow_rate: float, session_lifetime: float, seed: int,
              workdir: Path | None, console: Console) -> bool:
    """Run the benchmark; print the numbers; True when there are no duplicates, misses or mismatches."""
    work = workdir or Path(tempfile.mkdtemp(prefix="yomitori-bot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    records_file, journal = work / "records.jsonl", work / "journal.sqlite"
    for stale in (journal, work / "target.db"):
        stale.unlink(missing_ok=True)
    records = write_records(records_file, n, seed)
    console.print(f"generated {n} approved records from {employers(n)} employers in {work}")
    with DemoTarget(work / "target.db", slow_rate=slow_rate, session_lifetime=session_lifetime, seed=seed) as target:
        env = {**os.environ, **target.env()}
        cmd = [sys.executable, "-m", "yomitori", "bot", "run", str(SCENARIO), "--records", str(records_file),
               "--journal", str(journal), "--parallel", str(parallel), "--artifacts", str(work / "artifacts"),
               "--outcomes", str(work / "outcomes.jsonl")]
        t0 = time.monotonic()
        with (work / "run1.log").open("wb") as log:
            # Its own process group, so the kill reaches the browser the runner started as well.
            first = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            target_count = int(n * kill_at)
            while first.poll() is None and _verified(journal) < target_count:
                time.sleep(0.2)
            killed_at = _verified(journal)
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
                console.print(f"SIGKILL sent to the runner after {killed_at} verified records "
                              f"({time.monotonic() - t0:.1f} s)")
            else:
                console.print(f"[yellow]the first run ended before the kill point (exit {first.returncode})[/]")
        t1 = time.monotonic()
        with (work / "run2.log").open("wb") as log:
            second = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
        t2 = time.monotonic()
        result = verify_target(target.export(), records)
    outcomes = Counter(json.loads(line)["kind"] for line in (work / "outcomes.jsonl").read_text().splitlines())
    tail = (work / "run2.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
    keyed = result["target_rows"]
    minutes = (t2 - t0) / 60
    console.print(f"second run: exit {second.returncode}; {tail[-1] if tail else ''}")
    console.print(f"outcomes over both runs: {dict(outcomes)}")
    console.print(f"target: {keyed} rows for {n} records; duplicates {result['duplicates']}, missing "
                  f"{result['missing']}, records with mismatches {result['mismatched_records']} "
                  f"({result['mismatched_fields']} fields)")
    console.print(f"time: first run {t1 - t0:.1f} s (killed), second run {t2 - t1:.1f} s; "
                  f"[bold]{n / minutes:.1f} records/minute[/bold] overall with --parallel {parallel} "
                  f"(slow-rate {slow_rate}, session lifetime {session_lifetime:.0f} s)")
    ok = result["duplicates"] == 0 and result["missing"] == 0 and result["mismatched_records"] == 0
    console.print("[green]OK[/green]" if ok else "[red]FAILED[/red]")
    return ok
