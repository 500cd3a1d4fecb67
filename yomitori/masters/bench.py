"""`yomitori bench-masters`: printed 明細書 read once, gated without and with a generated master, in one run.

The master (synth/masters.py, no real person) covers the pages' recipients and their families but leaves about 5 %
out (they lived elsewhere on 1 January) and adds other people, homonyms among them. Prints the straight-through
rate of the printed 明細書 fields and the wrong values among them, both ways; whether every variant-kanji name the
master holds came back in the master's characters (the recipients', and apart the spouses' and dependents'), split
into those straight through and those sent to review with the master's name; whether every recipient left out is
on the 送付先誤り list; and what still goes to review with the master, by field and by reason (`breakdown.py`).
"""

from __future__ import annotations

import copy
import json
import secrets
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from yomitori.bench import TUNING_SEEDS, score
from yomitori.extract import ExtractionPool, PageResult
from yomitori.masters.breakdown import review_breakdown
from yomitori.masters.gate import apply_master
from yomitori.masters.keys import my_number_hmac
from yomitori.masters.matching import MasterIndex
from yomitori.masters.records import load_mapping, parse_csv

FORM = "kyuyo_shiharai_hokokusho"
LAYOUTS = (f"{FORM}/national", f"{FORM}/payroll_print")
TENANT = "bench"


def run_bench_masters(*, pages: int, seed: int | None, workers: int, out: Path, console: Console,
                      absent: float = 0.05) -> dict[str, Any]:
    from yomitori.ocr.japanese import ambiguous_variants
    from yomitori.synth.dataset import _write_page
    from yomitori.synth.masters import (
        EMPLOYER_COLUMNS,
        FAMILY_SLOTS,
        RESIDENT_COLUMNS,
        ROLL_COLUMNS,
        masters_for,
        to_csv,
    )

    seed = seed if seed is not None else TUNING_SEEDS + secrets.randbelow(10**9)
    console.print(f"bench-masters seed {seed}: {pages} printed 明細書 per layout, {workers} worker(s)")
    key = secrets.token_bytes(32)  # a throwaway key: the bench keeps nothing
    with tempfile.TemporaryDirectory(prefix="yomitori-bench-masters-") as tmp:
        t0 = time.perf_counter()
        jobs = [(lid, seed + i, False, tmp) for lid in LAYOUTS for i in range(pages)]
        with ProcessPoolExecutor(workers) as pool:
            truth_rows = list(pool.map(_write_page, jobs, chunksize=2))
        console.print(f"generated {len(truth_rows)} pages in {time.perf_counter() - t0:.1f}s")
        rows, left_out = masters_for([t["truth"] for t in truth_rows], absent=absent, seed=seed)
        index = MasterIndex(*(parse_csv(to_csv(rows[kind], cols), load_mapping(kind), key=key, tenant=TENANT).rows
                              for kind, cols in (("residents", RESIDENT_COLUMNS), ("employers", EMPLOYER_COLUMNS),
                                                 ("roll", ROLL_COLUMNS))))
        t0 = time.perf_counter()
        with ExtractionPool(workers, "ppocr") as pool:
            results = list(pool.run([str(Path(tmp) / str(t["source"])) for t in truth_rows]))
        seconds = time.perf_counter() - t0
    truths = {str(t["source"]): t for t in truth_rows}
    position = {str(t["source"]): i for i, t in enumerate(truth_rows)}
    with_master: list[PageResult] = []
    misdirected: set[int] = set()
    variants: dict[str, Any] = {"in_master": 0, "in_masters_characters": 0, "straight_through": 0,
                                "to_review_with_masters_name": 0, "offered_as_candidate": 0, "not": []}
    family: dict[str, Any] = copy.deepcopy(variants)  # spouse and dependents
    absent_missed: list[dict[str, Any]] = []
    for r in results:
        m = copy.deepcopy(r)
        outcome = apply_master(m.form, m.fields, index, findings=m.findings or [],
                               hmac_of=lambda n: my_number_hmac(key, TENANT, n))
        with_master.append(m)
        i = position[Path(r.source).name]
        if outcome.misdirected:
            misdirected.add(i)
        elif i in left_out:
            absent_missed.append({"source": r.source, "matched": outcome.summary().get("person")})
        truth = truths[Path(r.source).name]["truth"]
        for fkey in ("recipient_name", *(f"{slot}_name" for slot in FAMILY_SLOTS)) if i not in left_out else ():
            name = truth.get(fkey)
            if not (isinstance(name, str) and ambiguous_variants(name)):
                continue
            count = variants if fkey == "recipient_name" else family
            count["in_master"] += 1
            got = m.fields.get(fkey)
            right = got is not None and got.value == name
            count["in_masters_characters"] += right
            count["straight_through" if right and not got.review else "to_review_with_masters_name"] += right
            offered = not right and outcome.candidates.get(fkey) == name  # read too poorly to match
            count["offered_as_candidate"] += offered
            if not right:
                count["not"].append({"source": Path(r.source).name, "field": fkey, "master": name,
                                     "got": got.value if got else None,
                                     "match": outcome.summary().get("person") if count is variants else
                                     outcome.summary().get("family", {}).get(fkey.removesuffix("_name"))})
    report: dict[str, Any] = {"seed": seed, "pages": len(results), "pages_per_second": round(len(results) / seconds, 3)}
    for label, rs in (("without_master", results), ("with_master", with_master)):
        gate = score(rs, truths).gate[f"{FORM}/print"].rates()
        report[label] = gate
    report["with_master_review"] = review_breakdown(with_master, truths)
    report["variant_names"] = variants
    report["family_variant_names"] = family
    report["absent_recipients"] = {"absent": len(left_out), "on_misdirected_list": len(left_out & misdirected),
                                   "present_but_listed": len(misdirected - left_out), "missed": absent_missed}
    _print(report, console)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"wrote {out}")
    return report


def _pct(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v * 100:.{digits}f}%"


def _print(r: dict[str, Any], console: Console) -> None:
    table = Table(title="printed 明細書 fields: the gate without and with the master")
    for col in ("", "straight-through", "wrong among them", "wrong straight through", "fields"):
        table.add_column(col, justify="right")
    for label in ("without_master", "with_master"):
        g = r[label]
        table.add_row(label.replace("_", " "), _pct(g["straight_through"]), _pct(g["residual_error"], 3),
                      str(g["straight_wrong"]), str(g["fields"]))
    console.print(table)
    v, f, a = r["variant_names"], r["family_variant_names"], r["absent_recipients"]
    for who, c in (("recipients'", v), ("spouses' and dependents'", f)):
        console.print(f"{who} variant-kanji names in the master returned in its characters: "
                      f"{c['in_masters_characters']} of {c['in_master']} (straight through {c['straight_through']}, "
                      f"to review with the master's name {c['to_review_with_masters_name']}); the rest read too "
                      f"poorly to be that name, sent to review with the master's name as Alt+1: "
                      f"{c['offered_as_candidate']}")
    console.print(f"recipients absent from the master on the 送付先誤り list: {a['on_misdirected_list']} of "
                  f"{a['absent']} (present recipients listed too: {a['present_but_listed']})")
    b = r["with_master_review"]
    for title, rows in (("field", b["by_field"]), ("reason", b["by_reason"])):
        t = Table(title=f"still to review with the master, by {title}")
        for col in (title, "in review", "right as read"):
            t.add_column(col, justify="left" if col == title else "right")
        for name, n, right in rows:
            t.add_row(str(name), str(n), str(right))
        console.print(t)
    console.print(f"speed: {r['pages_per_second']:.2f} pages/s")
