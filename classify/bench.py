"""`yomitori bench-classify`: classification accuracy, unknown-page rejection and time per page.

Form pages are fresh pages of every bundled layout (seed above the tuning range, all fonts including the
held-out ones, scanner effects, rotations); non-form pages come from the held-out variants of every
unknown-page kind, including `receipt`, which the CNN never saw.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import secrets
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from yomitori.forms_templates import templates
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.preprocess import to_working
from yomitori.synth.unknown_pages import KINDS

TUNING_SEEDS = 1_000_000  # as yomitori bench: seeds below are for tuning and training


def _case(job: tuple[str, int]) -> dict[str, object]:
    """Generate one page, classify it, and time the classification alone."""
    from yomitori.classify import classify
    from yomitori.synth.generate import generate
    from yomitori.synth.unknown_pages import unknown_page

    what, seed = job
    if what.startswith("unknown:"):
        kind = what.split(":", 1)[1]
        image, want_form, want_layout = unknown_page(seed, kind, held_out=True).image, UNKNOWN_FORM, None
    else:
        t = templates()[what]
        image, want_form, want_layout = generate(t, seed).image, t.form, t.layout
    gray = to_working(np.asarray(image.convert("RGB")))
    layouts = list(templates().values())
    t0, c0 = time.perf_counter(), time.process_time()
    c = classify(gray, layouts)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"case": what, "seed": seed, "want_form": want_form, "want_layout": want_layout, "form": c.form,
            "layout": c.layout, "confidence": round(c.confidence, 4), "seconds": seconds, "cpu_seconds": cpu,
            "signals": c.signals}


def _warm(_: int) -> bool:
    from yomitori.classify import classify

    classify(np.full((400, 300), 255, np.uint8), list(templates().values()))  # load the CNN and the recognizer
    return True


def run_bench(*, pages: int, unknown: int, seed: int | None, workers: int, out: Path, console: Console) -> dict:
    seed = seed if seed is not None else TUNING_SEEDS + secrets.randbelow(10**9)
    jobs = [(lid, seed + i) for lid in templates() for i in range(pages)]
    jobs += [(f"unknown:{KINDS[i % len(KINDS)]}", seed + i) for i in range(unknown)]
    console.print(f"classification benchmark seed {seed}: {pages} pages per layout × {len(templates())} layouts, "
                  f"{unknown} non-form pages, {workers} worker(s)")
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        list(pool.map(_warm, range(workers)))
        rows = list(pool.map(_case, jobs, chunksize=2))
    report = summarize(rows, seed=seed)
    _print(report, console)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"wrote {out}")
    return report


def summarize(rows: list[dict[str, object]], **meta: object) -> dict:
    forms = [r for r in rows if r["want_form"] != UNKNOWN_FORM]
    others = [r for r in rows if r["want_form"] == UNKNOWN_FORM]
    by_case: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_case[str(r["case"])].append(r["form"] == r["want_form"] and r["layout"] == r["want_layout"])
    secs = np.array([float(r["seconds"]) for r in rows]) if rows else np.zeros(1)
    cpu = np.array([float(r["cpu_seconds"]) for r in rows]) if rows else np.zeros(1)
    wrong = [r for r in rows if not (r["form"] == r["want_form"] and r["layout"] == r["want_layout"])]
    return {
        **meta,
        "form_pages": len(forms), "unknown_pages": len(others),
        "form_accuracy": _rate([r["form"] == r["want_form"] and r["layout"] == r["want_layout"] for r in forms]),
        "form_only_accuracy": _rate([r["form"] == r["want_form"] for r in forms]),
        "unknown_rejection": _rate([r["form"] == UNKNOWN_FORM for r in others]),
        "forms_called_unknown": sum(r["form"] == UNKNOWN_FORM for r in forms),
        "unknown_called_form": sum(r["form"] != UNKNOWN_FORM for r in others),
        "by_case": {k: {"accuracy": _rate(v), "pages": len(v)} for k, v in sorted(by_case.items())},
        "seconds_per_page": {"mean": round(float(secs.mean()), 4), "p95": round(float(np.percentile(secs, 95)), 4),
                             "max": round(float(secs.max()), 4)},
        # CPU time of the classifying process: what a page costs on an idle core, whatever else runs.
        "cpu_seconds_per_page": {"mean": round(float(cpu.mean()), 4), "p95": round(float(np.percentile(cpu, 95)), 4)},
        "confusions": dict(Counter(f"{r['case']} → {r['form']}/{r['layout']}" for r in wrong)),
        "wrong": wrong[:50],
    }


def _rate(oks: list[bool]) -> float | None:
    return sum(oks) / len(oks) if oks else None


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.2f}%"


def _print(r: dict, console: Console) -> None:
    table = Table(title="classification by case")
    table.add_column("")
    table.add_column("right", justify="right")
    table.add_column("pages", justify="right")
    for k, v in r["by_case"].items():
        table.add_row(k, _pct(v["accuracy"]), str(v["pages"]))
    console.print(table)
    s = r["seconds_per_page"]
    console.print(f"form pages right (form and layout): {_pct(r['form_accuracy'])} of {r['form_pages']}   "
                  f"form only: {_pct(r['form_only_accuracy'])}")
    console.print(f"non-form pages rejected as unknown: {_pct(r['unknown_rejection'])} of {r['unknown_pages']}")
    c = r["cpu_seconds_per_page"]
    console.print(f"classification time per page: mean {s['mean'] * 1000:.0f} ms, p95 {s['p95'] * 1000:.0f} ms, "
                  f"max {s['max'] * 1000:.0f} ms (wall)")
    console.print(f"classification CPU time per page: mean {c['mean'] * 1000:.0f} ms, p95 {c['p95'] * 1000:.0f} ms")
    for k, n in r["confusions"].items():
        console.print(f"  wrong: {k} ×{n}")
