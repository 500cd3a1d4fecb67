"""`yomitori bench`: accuracy and speed on a freshly generated test set.

Seeds below 1,000,000 are the tuning range (tests, experiments); the benchmark draws its seed above it
unless told otherwise, so its pages are pages nobody tuned on. Fonts marked held-out in
`synth/fonts.py` are reported separately.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from yomitori.errors import YomitoriError
from yomitori.extract import ExtractionPool, PageResult
from yomitori.forms_templates import templates
from yomitori.gate_report import print_reliability, reliability

TUNING_SEEDS = 1_000_000
SPEED_FORM = "kyuyo_shiharai_hokokusho"


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    @property
    def rate(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass
class Scores:
    all_fields: Tally = field(default_factory=Tally)
    non_blank: Tally = field(default_factory=Tally)
    blank_null: Tally = field(default_factory=Tally)
    classified: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_writing: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_form: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_layout: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    classified_by_layout: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_font: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_scan: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))  # writing × fax or not
    errors: list[dict[str, object]] = field(default_factory=list)
    gate: dict[str, GateTally] = field(default_factory=lambda: defaultdict(GateTally))
    confidence: list[tuple[float, bool]] = field(default_factory=list)


@dataclass
class GateTally:
    """What the confidence gate did: straight-through fields, and wrong values it let through or caught."""

    fields: int = 0
    straight: int = 0
    straight_wrong: int = 0
    wrong: int = 0
    wrong_caught: int = 0
    documents: int = 0
    touchless: int = 0

    def add(self, ok: bool, review: bool) -> None:
        self.fields += 1
        self.straight += not review
        self.straight_wrong += not review and not ok
        self.wrong += not ok
        self.wrong_caught += review and not ok

    def rates(self) -> dict[str, float | int | None]:
        return {
            "straight_through": self.straight / self.fields if self.fields else None,
            "residual_error": self.straight_wrong / self.straight if self.straight else None,
            "wrong_caught": self.wrong_caught / self.wrong if self.wrong else None,
            "touchless_documents": self.touchless / self.documents if self.documents else None,
            "fields": self.fields, "wrong": self.wrong, "straight_wrong": self.straight_wrong,
            "documents": self.documents,
        }


def is_blank(v: object) -> bool:
    return v is None or v is False


def score(results: Iterable[PageResult], truths: dict[str, dict]) -> Scores:
    s = Scores()
    for r in results:
        t = truths[Path(r.source).name]
        layout_id = f"{t['form']}/{t['layout']}"
        s.classified.add(r.form == t["form"] and r.layout == t["layout"])
        s.classified_by_layout[layout_id].add(r.form == t["form"] and r.layout == t["layout"])
        layout = templates()[layout_id]
        writing = "hand" if t["hand"] else "print"
        gates = [s.gate["all"], s.gate[writing], s.gate[t["form"]], s.gate[f"{t['form']}/{writing}"]]
        touchless = True
        for f in layout.fields:
            want = t["truth"].get(f.key)
            got = r.fields[f.key].value if f.key in r.fields else None
            ok = got == want or (is_blank(got) and is_blank(want))
            # A misclassified page is wrong everywhere, and a person must see it.
            review = r.fields[f.key].review if f.key in r.fields else True
            touchless = touchless and not review
            for g in gates:
                g.add(ok, review)
            if f.key in r.fields:
                s.confidence.append((r.fields[f.key].confidence, ok))
            s.all_fields.add(ok)
            if is_blank(want):
                s.blank_null.add(is_blank(got))
            else:
                s.non_blank.add(ok)
                s.by_type[f.type].add(ok)
                s.by_writing[writing].add(ok)
                s.by_form[t["form"]].add(ok)
                s.by_layout[layout_id].add(ok)
                s.by_font[t["font"]].add(ok)
                s.by_scan[f"{writing}, {'fax' if t.get('fax') else 'scan'}"].add(ok)
            if not ok and len(s.errors) < 300:
                s.errors.append({"source": t["source"], "field": f.key, "want": want, "got": got,
                                 "raw": r.fields[f.key].raw if f.key in r.fields else None, "review": review})
        for g in gates:
            g.documents += 1
            g.touchless += touchless
    return s


def run_bench(*, pages: int, seed: int | None, workers: int, out: Path, engine: str, console: Console,
              layouts: Sequence[str] | None = None) -> dict:
    """Bench every bundled layout, or only `layouts` (ids `form/layout`, or a form key for all its layouts)."""
    chosen = _chosen_layouts(layouts)
    seed = seed if seed is not None else TUNING_SEEDS + secrets.randbelow(10**9)
    console.print(f"benchmark seed {seed} ({pages} pages per layout and writing), {workers} worker(s), {engine}")
    from yomitori.synth.dataset import generate_pages

    with tempfile.TemporaryDirectory(prefix="yomitori-bench-") as tmp:
        t0 = time.perf_counter()
        truth_rows = generate_pages(Path(tmp), chosen, pages=pages, seed=seed, workers=workers)
        console.print(f"generated {len(truth_rows)} pages in {time.perf_counter() - t0:.1f}s")
        truths = {str(t["source"]): t for t in truth_rows}
        paths = {lid: [str(Path(tmp) / str(t["source"])) for t in truth_rows if f"{t['form']}/{t['layout']}" == lid]
                 for lid in chosen}
        results: list[PageResult] = []
        speed: dict[str, float] = {}
        with ExtractionPool(workers, engine) as pool:
            for lid, files in paths.items():
                t0 = time.perf_counter()
                results += list(pool.run(files))
                speed[lid] = len(files) / (time.perf_counter() - t0)
    s = score(results, truths)
    report = _report(s, speed, seed=seed, pages=pages, workers=workers, engine=engine)
    _print(report, console)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    console.print(f"wrote {out}")
    return report


def _chosen_layouts(wanted: Sequence[str] | None) -> list[str]:
    every = list(templates())
    if not wanted:
        return every
    chosen = [lid for lid in every if lid in wanted or lid.split("/")[0] in wanted]
    unknown = [w for w in wanted if not any(lid == w or lid.split("/")[0] == w for lid in every)]
    if unknown:
        raise YomitoriError(f"no bundled layout {', '.join(unknown)}; `yomitori templates` lists them")
    return chosen


def _rates(d: dict[str, Tally]) -> dict[str, dict[str, float | int | None]]:
    return {k: {"accuracy": v.rate, "fields": v.total} for k, v in sorted(d.items())}


def _report(s: Scores, speed: dict[str, float], **meta: object) -> dict:
    return {
        **meta,
        "accuracy": {
            "all_fields": s.all_fields.rate, "non_blank_fields": s.non_blank.rate,
            "blank_fields_null": s.blank_null.rate, "classification": s.classified.rate,
        },
        "counts": {"fields": s.all_fields.total, "non_blank": s.non_blank.total, "blank": s.blank_null.total,
                   "pages": s.classified.total},
        "by_writing": _rates(s.by_writing), "by_type": _rates(s.by_type), "by_form": _rates(s.by_form),
        "by_layout": _rates(s.by_layout), "classification_by_layout": _rates(s.classified_by_layout),
        "by_font": _rates(s.by_font), "by_scan": _rates(s.by_scan),
        "gate": {k: v.rates() for k, v in sorted(s.gate.items())},
        "reliability": reliability(s.confidence),
        "pages_per_second": {k: round(v, 3) for k, v in speed.items()},
        "errors_sample": s.errors,
    }


def _pct(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v * 100:.{digits}f}%"


def _print(r: dict, console: Console) -> None:
    a = r["accuracy"]
    console.print(f"non-blank fields right: {_pct(a['non_blank_fields'])}   all fields: {_pct(a['all_fields'])}   "
                  f"blank → null: {_pct(a['blank_fields_null'])}   classification: {_pct(a['classification'])}")
    for title in ("by_writing", "by_scan", "by_form", "by_layout", "by_type", "by_font"):
        table = Table(title=title.replace("_", " "))
        table.add_column("")
        table.add_column("non-blank accuracy", justify="right")
        table.add_column("fields", justify="right")
        if title == "by_layout":
            table.add_column("classified", justify="right")
        for k, v in r[title].items():
            extra = [_pct(r["classification_by_layout"][k]["accuracy"])] if title == "by_layout" else []
            table.add_row(k, _pct(v["accuracy"]), str(v["fields"]), *extra)
        console.print(table)
    gate = Table(title="confidence gate")
    for col in ("", "straight-through", "wrong among them", "wrong caught", "touchless docs", "fields"):
        gate.add_column(col, justify="right")
    for k, v in r["gate"].items():
        gate.add_row(k, _pct(v["straight_through"]), _pct(v["residual_error"], 3), _pct(v["wrong_caught"]),
                     _pct(v["touchless_documents"]), str(v["fields"]))
    console.print(gate)
    print_reliability(r["reliability"], console, "reliability: stated confidence vs observed accuracy")
    for k, v in r["pages_per_second"].items():
        console.print(f"speed {k}: {v:.2f} pages/s")
