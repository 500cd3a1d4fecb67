"""`yomitori calibrate`: fit the confidence gate on generated pages and pick its thresholds.

Seeds 100,000–999,999 are the calibration range: below the benchmark's (≥ 1,000,000), above the
tuning seeds used by tests and experiments. The fitted model goes to models/gate.json.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console

from yomitori.bench import is_blank
from yomitori.errors import YomitoriError
from yomitori.extract import ExtractionPool, PageResult
from yomitori.forms_templates import templates
from yomitori.gate import FEATURES, GateModel, GroupModel, fit_group, pick_threshold, policy
from yomitori.gate_report import print_reliability, reliability

CALIBRATION_SEEDS = 100_000
MIN_EXPECTED_ERRORS = 2  # a subset must be big enough to show this many errors at the target rate


def collect(results: list[PageResult], truths: dict[str, dict]) -> list[tuple[str, str, tuple[float, ...], bool]]:
    """(value type, group, gate features, right) for every read field of the classified pages."""
    pol = policy()
    rows = []
    for r in results:
        t = truths[Path(r.source).name]
        layout = templates().get(f"{t['form']}/{t['layout']}")
        if layout is None or r.form != t["form"]:
            continue
        for f in layout.fields:
            got = r.fields.get(f.key)
            if got is None or not got.read or not got.gate_features:
                continue
            want = t["truth"].get(f.key)
            right = got.value == want or (is_blank(got.value) and is_blank(want))
            rows.append((f.type, pol.group(f.type), got.gate_features, right))
    return rows


def fit(rows: list[tuple[str, str, tuple[float, ...], bool]], meta: dict[str, object]) -> GateModel:
    """A confidence model per group; thresholds per group and criticality from the policy's targets.

    A threshold needs enough fields to show its target (a 0.05 % target needs thousands): where a group
    has too few, it takes the threshold found on its whole group, else on every group pooled (the
    probabilities are calibrated per group, so they are comparable).
    """
    pol = policy()
    models: dict[str, GroupModel] = {}
    for group in sorted({g for _, g, _, _ in rows}):
        mine = [r for r in rows if r[1] == group]
        coef, intercept = fit_group(np.array([r[2] for r in mine], float), np.array([r[3] for r in mine], float))
        models[group] = GroupModel(tuple(float(c) for c in coef), intercept, {})
    p = np.array([models[r[1]].probability(r[2]) for r in rows])
    right = np.array([r[3] for r in rows], bool)
    group = np.array([r[1] for r in rows])
    crit = np.array([pol.criticality(r[0]) for r in rows])
    out: dict[str, GroupModel] = {}
    for g, m in models.items():
        thresholds = {}
        for c, target in pol.targets.items():
            for subset in ((group == g) & (crit == c), group == g, np.ones(len(rows), bool)):
                if subset.sum() * target >= MIN_EXPECTED_ERRORS:
                    break
            thresholds[c] = pick_threshold(p[subset], right[subset], target)
        out[g] = GroupModel(m.coef, m.intercept, thresholds)
    return GateModel(out, meta)


def run_calibration(*, pages: int, seed: int, workers: int, out: Path, console: Console,
                    scans: Path | None = None, refit: bool = False) -> GateModel:
    """Generate (or reuse, from `scans`) the calibration pages, read them, fit the gate.

    `refit` fits again on what a previous run with the same `scans` read (after a policy change)."""
    if refit:
        if scans is None or not (scans / "calibration-rows.json").is_file():
            raise YomitoriError("--refit needs --scans with a previous calibration run in it")
        rows = [(t, g, tuple(x), ok) for t, g, x, ok in json.loads((scans / "calibration-rows.json").read_text())]
        index = next(scans.glob("calibration-*.jsonl"), None)
        n_pages = len(index.read_text(encoding="utf-8").splitlines()) if index else 0
        return _fit_and_report(rows, n_pages, pages, seed, out, console)
    with tempfile.TemporaryDirectory(prefix="yomitori-calibrate-") as tmp:
        folder = scans or Path(tmp)
        truths = _pages(folder, pages, seed, workers, console)
        files = [str(folder / name) for name in truths]
        with ExtractionPool(workers) as pool:
            results = list(pool.run(files))
    rows = collect(results, truths)
    if scans is not None:  # what was read, kept so the model can be refitted without reading again
        (scans / "calibration-rows.json").write_text(json.dumps(rows), encoding="utf-8")
    if not rows:
        raise YomitoriError("no read fields to calibrate on; is the second reader installed?")
    return _fit_and_report(rows, len(files), pages, seed, out, console)


def _fit_and_report(rows: list, n_pages: int, pages: int, seed: int, out: Path, console: Console) -> GateModel:
    meta = {"fitted": dt.date.today().isoformat(), "seed": seed, "pages": n_pages, "fields": len(rows),
            "command": f"yomitori calibrate --pages {pages} --seed {seed}", "features": list(FEATURES)}
    model = fit(rows, meta)
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    pol = policy()
    pairs = [(model.groups[g].probability(x), ok) for _, g, x, ok in rows]
    print_reliability(reliability(pairs), console, "reliability on the calibration set")
    by_group: dict[str, list[bool]] = defaultdict(list)
    for (t, g, _x, ok), (p, _) in zip(rows, pairs, strict=True):
        if p >= model.groups[g].thresholds[pol.criticality(t)]:
            by_group[g].append(ok)
    for g, m in model.groups.items():
        passed = by_group.get(g, [])
        err = (len(passed) - sum(passed)) / len(passed) if passed else 0.0
        console.print(f"{g}: thresholds {m.thresholds}, straight-through {len(passed)} fields, "
                      f"wrong among them {err * 100:.3f}%")
    console.print(f"wrote {out} ({len(rows)} read fields from {n_pages} pages)")
    return model


def _pages(folder: Path, pages: int, seed: int, workers: int, console: Console) -> dict[str, dict]:
    """Truth records by file name; generated into `folder` unless a previous run left them there."""
    index = folder / f"calibration-{seed}-{pages}.jsonl"
    if index.is_file():
        rows = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines()]
        console.print(f"reusing {len(rows)} generated pages in {folder}")
    else:
        from yomitori.synth.dataset import generate_pages

        folder.mkdir(parents=True, exist_ok=True)
        rows = generate_pages(folder, list(templates()), pages=pages, seed=seed, workers=workers)
        index.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows), "utf-8")
    return {str(r["source"]): r for r in rows}
