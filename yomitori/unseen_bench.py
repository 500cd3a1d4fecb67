"""`yomitori bench-unseen`: reading layouts no template describes, as a municipality meets them.

Every page is read as `yomitori extract` reads it, with the bundled templates only: a generated layout
(`synth/layouts.py`, fresh seeds) or a frozen hand-made one (`synth/frozen_layouts/`, never tuned on) is
classified by its text and read by the layout-free reader. Each layout is one batch of `pages` pages:

- without a template: every page read as if it were the first of its layout in the batch;
- after learning: the batch read in order, scored on the pages after the first `learn` (what the batch
  taught the reader from its first pages, no person editing);
- non-form pages (held-out kinds of `synth/unknown_pages.py`) must come back `unknown`.

Generated and frozen layouts are reported apart; the bundled five are `yomitori bench`'s. Seeds below
TUNING_SEEDS are for tuning; the benchmark draws above unless told otherwise.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import secrets
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from yomitori.bench import Tally, is_blank
from yomitori.forms_templates.contract import UNKNOWN_FORM, contract_forms

TUNING_SEEDS = 1_000_000
FORMS = ("kyuyo_shiharai_hokokusho", "idou_todokede", "kyuyo_soukatsuhyo")


@dataclass
class UnseenScores:
    classified: Tally = field(default_factory=Tally)  # form pages named as their form
    unknown: Tally = field(default_factory=Tally)  # non-form pages called unknown
    right: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))  # by "print"/"hand"
    located: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    learned: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    blank_null: Tally = field(default_factory=Tally)
    by_form: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_family: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_key: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    straight: int = 0
    straight_wrong: int = 0
    fields: int = 0
    seconds: float = 0.0  # reading time of the pages read without a template (CPU of their worker)
    pages: int = 0
    misses: list[str] = field(default_factory=list)

    def merge(self, o: UnseenScores) -> None:
        for name in ("classified", "unknown", "blank_null"):
            mine, theirs = getattr(self, name), getattr(o, name)
            mine.right += theirs.right
            mine.total += theirs.total
        for name in ("right", "located", "learned", "by_form", "by_family", "by_key"):
            mine = getattr(self, name)
            for k, t in getattr(o, name).items():
                mine[k].right += t.right
                mine[k].total += t.total
        self.straight += o.straight
        self.straight_wrong += o.straight_wrong
        self.fields += o.fields
        self.seconds += o.seconds
        self.pages += o.pages
        self.misses += o.misses[: max(0, 400 - len(self.misses))]


_EXTRACTOR = None
_THREADS = 0  # onnxruntime threads per worker: one where several workers share the cores (as ExtractionPool's)


def _one_thread() -> None:
    global _THREADS
    _THREADS = 1


def _extractor():
    """One extractor per worker process, with the bundled layouts only (what a municipality installs)."""
    global _EXTRACTOR
    if _EXTRACTOR is None:
        from yomitori.extract import Extractor
        from yomitori.ocr.engine import get_engine

        _EXTRACTOR = Extractor(get_engine("ppocr", threads=_THREADS or None))
    return _EXTRACTOR


def _read(pages):
    from yomitori.extract import WorkPage
    from yomitori.ocr.preprocess import to_working

    ex = _extractor()
    out = []
    for i, image in enumerate(pages):
        gray = to_working(np.asarray(image.convert("RGB")))
        out.append(ex.read([WorkPage("page", i + 1, gray)])[0])
    return out


def _layout_case(job: tuple[str, str, int, int, int]) -> UnseenScores:
    """One layout's batch: generated (`kind` "generated", its seed) or frozen (`kind` "frozen", its index)."""
    from yomitori.classify.batch_layouts import LearnedLayouts
    from yomitori.synth.frozen import frozen_layouts
    from yomitori.synth.layouts import generate_page, random_layout

    kind, form, layout_seed, pages, learn = job
    draw = random_layout(form, layout_seed) if kind == "generated" else frozen_layouts()[layout_seed]
    samples = [generate_page(draw, layout_seed * 1000 + i) for i in range(pages)]
    s = UnseenScores()
    ex = _extractor()
    tiers = contract_forms()[draw.template.form].fields
    c0 = time.process_time()
    alone = []
    for sample in samples:
        ex.learned = LearnedLayouts()  # as the first page of its layout in the batch
        alone += _read([sample.image])
    s.seconds, s.pages = time.process_time() - c0, len(samples)
    ex.learned = LearnedLayouts()
    in_order = _read([x.image for x in samples])
    for i, (sample, r, later) in enumerate(zip(samples, alone, in_order, strict=True)):
        s.classified.add(r.form == draw.template.form)
        if r.form != draw.template.form:
            s.misses.append(f"{draw.template.layout} page {i}: classified {r.form}")
        writing = "hand" if sample.hand else "print"
        for f in draw.template.fields:
            want = sample.truth.get(f.key)
            got = r.fields.get(f.key)
            value = got.value if got is not None else None
            ok = value == want or (is_blank(value) and is_blank(want))
            review = got.review if got is not None else True
            s.fields += 1
            s.straight += not review
            s.straight_wrong += not review and not ok
            if is_blank(want):
                s.blank_null.add(is_blank(value))
                continue
            s.right[writing].add(ok)
            s.located[writing].add(not is_blank(value))
            s.by_form[draw.template.form].add(ok)
            s.by_family[draw.family].add(ok)
            s.by_key[f"{draw.template.form}.{f.key}" if tiers[f.key].tier == "core" else "(full tier)"].add(ok)
            if i >= learn:
                lv = later.fields[f.key].value if f.key in later.fields else None
                s.learned[writing].add(lv == want)
            if not ok:
                shown = "(個人番号)" if f.type == "my_number" else f"want {want!r} got {value!r}"
                s.misses.append(f"{draw.template.layout} p{i} {writing} {f.key}: {shown}")
    return s


def _unknown_case(seed: int) -> UnseenScores:
    from yomitori.synth.unknown_pages import KINDS, unknown_page

    page = unknown_page(seed, KINDS[seed % len(KINDS)], held_out=True)
    r = _read([page.image])[0]
    s = UnseenScores()
    s.unknown.add(r.form == UNKNOWN_FORM)
    if r.form != UNKNOWN_FORM:
        s.misses.append(f"non-form page {page.kind} seed {seed}: classified {r.form}")
    return s


def _warm(_: int) -> bool:
    _extractor()
    return True


def run_bench(*, layouts: int, pages: int, learn: int, unknown: int, seed: int | None, workers: int,
              frozen: bool, out: Path, console: Console) -> dict:
    from yomitori.synth.frozen import frozen_layouts

    seed = seed if seed is not None else TUNING_SEEDS + secrets.randbelow(10**8)
    generated = [("generated", form, seed + i, pages, learn) for form in FORMS for i in range(layouts)]
    fixed = [("frozen", d.template.form, i, pages, learn) for i, d in enumerate(frozen_layouts())] if frozen else []
    console.print(f"unseen-layout benchmark seed {seed}: {layouts} generated layouts per form"
                  f"{f', {len(fixed)} frozen hand-made layouts' if frozen else ''}, {pages} pages each "
                  f"(learned from the first {learn}), {unknown} non-form pages, {workers} worker(s)")
    t0 = time.perf_counter()
    # Two threads per worker on two cores only spin against each other (and count as CPU time of the page).
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                             initializer=_one_thread if workers > 1 else None) as pool:
        list(pool.map(_warm, range(workers)))
        results = list(pool.map(_layout_case, generated + fixed))
        others = list(pool.map(_unknown_case, range(seed, seed + unknown)))
    wall = time.perf_counter() - t0
    sets = {"generated": UnseenScores(), "frozen": UnseenScores()}
    for job, r in zip(generated + fixed, results, strict=True):
        sets[job[0]].merge(r)
    rejected = UnseenScores()
    for r in others:
        rejected.merge(r)
    report = {"seed": seed, "layouts_per_form": layouts, "pages_per_layout": pages, "learned_from": learn,
              "workers": workers, "wall_seconds": round(wall, 1),
              **{name: _summary(s, workers) for name, s in sets.items() if s.pages},
              "non_form_pages_unknown": rejected.unknown.rate, "non_form_pages": rejected.unknown.total,
              "non_form_misses": rejected.misses}
    _print(report, console)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"wrote {out}")
    return report


def _summary(s: UnseenScores, workers: int) -> dict:
    def rates(d: dict[str, Tally]) -> dict[str, dict]:
        return {k: {"rate": v.rate, "fields": v.total} for k, v in sorted(d.items())}

    return {
        "pages": s.pages, "classified": s.classified.rate,
        "right": rates(s.right), "located": rates(s.located), "after_learning": rates(s.learned),
        "blank_null": s.blank_null.rate,
        "straight_through": s.straight / s.fields if s.fields else None,
        "straight_wrong": s.straight_wrong, "straight_fields": s.straight,
        "residual_error": s.straight_wrong / s.straight if s.straight else None,
        # CPU seconds a page costs one core; `workers` cores read this many pages a second together.
        "pages_per_second": round(workers * s.pages / s.seconds, 2) if s.seconds else None,
        "by_form": rates(s.by_form), "by_family": rates(s.by_family), "by_key": rates(s.by_key),
        "misses": s.misses,
    }


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _print(r: dict, console: Console) -> None:
    for name in ("generated", "frozen"):
        if name not in r:
            continue
        s = r[name]
        table = Table(title=f"{name} layouts: {s['pages']} pages")
        for col in ("", "print", "hand"):
            table.add_column(col, justify="right")
        for label, key in (("right, no template", "right"), ("located (a value)", "located"),
                           ("right after learning", "after_learning")):
            table.add_row(label, *(f"{_pct(s[key].get(w, {}).get('rate'))} of {s[key].get(w, {}).get('fields', 0)}"
                                   for w in ("print", "hand")))
        console.print(table)
        console.print(f"  classified as their form: {_pct(s['classified'])}   blank → null: {_pct(s['blank_null'])}   "
                      f"straight-through: {_pct(s['straight_through'])} "
                      f"({s['straight_wrong']} wrong of {s['straight_fields']})   "
                      f"pages/s without a template on {r['workers']} core(s): {s['pages_per_second']}")
        for title in ("by_form", "by_family"):
            console.print("  " + title.replace("_", " ") + ": " + ", ".join(
                f"{k} {_pct(v['rate'])} ({v['fields']})" for k, v in s[title].items()))
    console.print(f"non-form pages called unknown: {_pct(r['non_form_pages_unknown'])} of {r['non_form_pages']}")
