"""`yomitori calibrate`: fit the confidence gate on generated pages and pick its thresholds.

Seeds 100,000–999,999 are the calibration range: below the benchmark's (≥ 1,000,000), above the
tuning seeds used by tests and experiments. The fitted model goes to models/gate.json.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rich.console import Console

from yomitori.bench import is_blank
from yomitori.errors import YomitoriError
from yomitori.extract import ExtractionPool, PageResult
from yomitori.forms_templates import templates
from yomitori.gate import (
    FEATURES,
    GateModel,
    GroupModel,
    fit_group,
    keys_sent_to_review,
    pick_threshold,
    policy,
    readers_disagree,
    sure_agreement,
    vouched_for,
)
from yomitori.gate_report import print_reliability, reliability

CALIBRATION_SEEDS = 100_000
MIN_EXPECTED_ERRORS = 2  # a subset must be big enough to show this many errors at the target rate


class Row(NamedTuple):
    """One read field of a calibration page, as the gate saw it."""

    type: str  # the contract's value type
    group: str  # the policy's group of value types
    features: tuple[float, ...]  # the gate's inputs (FEATURES)
    right: bool  # the value equals the truth
    # Sent to review whatever its confidence (an extractor doubt or a validator finding names it): such a
    # field never passes, so it must not count for or against a threshold.
    forced: bool
    writing: str  # print or hand
    field: str
    page: str

    @property
    def may_pass(self) -> bool:
        """Nothing but its confidence keeps it from passing: not forced, and the two readers do not disagree."""
        return not self.forced and not readers_disagree(self.features)


def collect(results: list[PageResult], truths: dict[str, dict]) -> list[Row]:
    """A Row for every read field of the pages classified as their true form."""
    pol = policy()
    rows = []
    for r in results:
        t = truths[Path(r.source).name]
        layout = templates().get(f"{t['form']}/{t['layout']}")
        if layout is None or r.form != t["form"]:
            continue
        named = keys_sent_to_review(r.findings or ())
        for f in layout.fields:
            got = r.fields.get(f.key)
            if got is None or not got.read or not got.gate_features:
                continue
            want = t["truth"].get(f.key)
            right = got.value == want or (is_blank(got.value) and is_blank(want))
            rows.append(Row(f.type, pol.group(f.type), tuple(got.gate_features), bool(right),
                            bool(got.reasons) or f.key in named, "hand" if t.get("hand") else "print", f.key,
                            Path(r.source).name))
    return rows


def fit(rows: list[Row], meta: dict[str, object]) -> GateModel:
    """A confidence model per group; thresholds per group and criticality from the policy's targets.

    A threshold needs enough fields to show its target (a 0.05 % target needs thousands): where a group's
    critical or standard fields are too few, it is found on the whole group; where the group is too small,
    only its sure agreement passes. (Pooling every group's fields let kana through on the curve: its
    logistic fit on 546 fields stated 0.99 for kana that were right 96 % of the time.)
    """
    pol = policy()
    models: dict[str, GroupModel] = {}
    for group in sorted({r.group for r in rows}):
        mine = [r for r in rows if r.group == group]
        x, y = np.array([r.features for r in mine], float), np.array([r.right for r in mine], float)
        coef, intercept = fit_group(x, y)
        sure, sure_confirmed = {}, {}
        for c, target in pol.targets.items():
            free = [r for r in mine if r.may_pass and pol.criticality(r.type) == c]
            if found := sure_segment(free, target):
                sure[c] = found
            vouched = [r for r in free if vouched_for(r.features)]
            if found := sure_segment(vouched, target, CONFIRMED_LEVELS):
                sure_confirmed[c] = found
        models[group] = GroupModel(tuple(float(c) for c in coef), intercept, {}, sure, sure_confirmed)
    crit = np.array([pol.criticality(r.type) for r in rows])
    p = np.array([models[r.group].probability(r.features, c) for r, c in zip(rows, crit, strict=True)])
    right = np.array([r.right for r in rows], bool)
    group = np.array([r.group for r in rows])
    free = np.array([r.may_pass for r in rows], bool)
    out: dict[str, GroupModel] = {}
    for g, m in models.items():
        thresholds = {}
        for c, target in pol.targets.items():
            for subset in ((group == g) & (crit == c) & free, (group == g) & free):
                if subset.sum() * target >= MIN_EXPECTED_ERRORS:
                    thresholds[c] = pick_threshold(p[subset], right[subset], target)
                    break
            else:  # too few fields to judge the curve's tail: only sure agreement passes
                thresholds[c] = min(m.sure_probabilities(c), default=1.0)
            thresholds[c] = max(thresholds[c], pol.min_confidence)
            if c in pol.sure_only:
                thresholds[c] = max(thresholds[c], min(m.sure_probabilities(c), default=1.0))
        out[g] = GroupModel(m.coef, m.intercept, thresholds, m.sure, m.sure_confirmed)
    return GateModel(out, meta)


SURE_LEVELS = (0.9, 0.95, 0.99, 0.995, 0.999)
# Where a check vouches for the value (a reading of the name beside it), two readers agreeing on it need not be
# as sure of each letter: in calibration the 435 vouched kana both read at ≥ 0.5 were all right.
CONFIRMED_LEVELS = (0.5, 0.7, *SURE_LEVELS)


def sure_segment(rows: list[Row], target: float, levels: Sequence[float] = SURE_LEVELS) -> tuple[float, float] | None:
    """The lowest letter confidence at which fields both readers agree on were wrong no more than `target`
    of the time (Jeffreys estimate: (wrong + ½) / (n + 1), so a few hundred fields cannot claim 0.1 %), and
    how often they were right; None when no level is that good."""
    for level in levels:
        inside = [r.right for r in rows if sure_agreement(r.features, level)]
        error = (len(inside) - sum(inside) + 0.5) / (len(inside) + 1)
        if error <= target:
            return level, 1.0 - error
    return None


def run_calibration(*, pages: int, seed: int, workers: int, out: Path, console: Console,
                    scans: Path | None = None, refit: bool = False, also: Sequence[Path] = ()) -> GateModel:
    """Generate (or reuse, from `scans`) the calibration pages, read them, fit the gate.

    `refit` fits again on what previous runs with `scans` read (after a policy change); `also` adds the
    fields read in other such folders (calibration sets of other seeds) to the fit."""
    extra = [row for folder in also for row in _saved_rows(folder)]
    if refit:
        if scans is None:
            raise YomitoriError("--refit needs --scans with a previous calibration run in it")
        rows = _saved_rows(scans) + extra
        return _fit_and_report(rows, _page_count(scans, *also), pages, seed, out, console)
    with tempfile.TemporaryDirectory(prefix="yomitori-calibrate-") as tmp:
        folder = scans or Path(tmp)
        truths = _pages(folder, pages, seed, workers, console)
        files = [str(folder / name) for name in truths]
        with ExtractionPool(workers) as pool:
            results = list(pool.run(files))
    rows = collect(results, truths)
    if scans is not None:  # what was read, kept so the model can be refitted without reading again
        (scans / ROWS_FILE).write_text(json.dumps(rows), encoding="utf-8")
    if not rows:
        raise YomitoriError("no read fields to calibrate on; is the second reader installed?")
    return _fit_and_report(rows + extra, len(files) + _page_count(*also), pages, seed, out, console)


ROWS_FILE = "calibration-rows.json"


def _saved_rows(folder: Path) -> list[Row]:
    if not (folder / ROWS_FILE).is_file():
        raise YomitoriError(f"{folder} holds no calibration run (no {ROWS_FILE})")
    saved = json.loads((folder / ROWS_FILE).read_text())
    if saved and len(saved[0]) != len(Row._fields):
        raise YomitoriError(f"the calibration rows in {folder} are from an older version; read them again")
    pol = policy()  # the group from today's policy: a policy change needs only --refit
    return [Row(t, pol.group(t), tuple(x), *rest) for t, _, x, *rest in saved]


def _page_count(*folders: Path) -> int:
    return sum(len(index.read_text(encoding="utf-8").splitlines())
               for folder in folders for index in folder.glob("calibration-*.jsonl"))


def _fit_and_report(rows: list[Row], n_pages: int, pages: int, seed: int, out: Path, console: Console) -> GateModel:
    meta = {"fitted": dt.date.today().isoformat(), "seed": seed, "pages": n_pages, "fields": len(rows),
            "command": f"yomitori calibrate --pages {pages} --seed {seed}", "features": list(FEATURES)}
    model = fit(rows, meta)
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    pol = policy()
    pairs = [(model.groups[r.group].probability(r.features, pol.criticality(r.type)), r.right) for r in rows]
    print_reliability(reliability(pairs), console, "reliability on the calibration set")
    by_group: dict[str, list[bool]] = defaultdict(list)
    for r, (p, _) in zip(rows, pairs, strict=True):
        if r.may_pass and p >= model.groups[r.group].thresholds[pol.criticality(r.type)]:
            by_group[r.group].append(r.right)
    for g, m in model.groups.items():
        passed = by_group.get(g, [])
        err = (len(passed) - sum(passed)) / len(passed) if passed else 0.0
        sure = "".join(f"sure agreement ({c}{', confirmed' if table is m.sure_confirmed else ''}) at ≥ {at}: "
                       f"{p:.5f}, " for table in (m.sure, m.sure_confirmed) for c, (at, p) in table.items())
        console.print(f"{g}: thresholds {m.thresholds}, {sure}straight-through {len(passed)} fields, "
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
