"""Leave-one-out measurement of the label fallback on generated pages (`yomitori bench-fallback`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yomitori.bench import is_blank
from yomitori.extract import read_planned, second_reader
from yomitori.forms_templates import contract_forms, templates
from yomitori.ocr.engine import get_engine
from yomitori.ocr.fields import FieldResult, plan_field
from yomitori.ocr.preprocess import to_working
from yomitori.synth.generate import generate

from .batch_layouts import LearnedLayouts
from .fusion import classify
from .label_fallback import locate, settle


@dataclass
class FallbackScore:
    total: int = 0  # non-blank fields
    right: int = 0
    located: int = 0  # fields the fallback found a place for
    core_total: int = 0  # non-blank fields of the contract's core tier
    core_right: int = 0
    named: int = 0  # pages the classifier named the form of (no template fits them: layout None)
    misregistered: int = 0  # pages of the form registered onto another layout: read with its template
    named_total: int = 0  # non-blank fields on the pages that went to the fallback
    named_right: int = 0
    filled_blank: int = 0  # blank fields the fallback read a value in
    alone_right: int = 0  # non-blank fields the fallback reads right on every page of the form, registered or not
    with_learned: int = 0  # pages read with the layout an earlier page of the batch showed (classify/batch_layouts)
    misses: list[str] = field(default_factory=list)


def run(layout_id: str, pages: int, seed: int) -> FallbackScore:
    """Generated pages of `layout_id`, classified and read with that layout's template and labels removed,
    as `yomitori extract` reads them (both readers).

    A page goes where the pipeline sends it (yomitori.extract): registered onto another layout, it is read
    with that template (and is then most likely wrong); named as the form with no layout, by the fallback."""
    t = templates()[layout_id]
    others = [x for x in templates().values() if x.id != layout_id]
    engine = get_engine("ppocr")
    second = second_reader(engine)
    tiers = {k: c.tier for k, c in contract_forms()[t.form].fields.items()}
    score = FallbackScore()
    learned = LearnedLayouts()  # the run's pages are one batch of one layout
    for s in range(seed, seed + pages):
        sample = generate(t, s)
        gray = to_working(np.asarray(sample.image.convert("RGB")))
        c = classify(gray, others)
        fallback = c.form == t.form and c.registered is None
        fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout,
                    second=second) if c.form == t.form else None
        alone: dict[str, FieldResult] = {}
        if fb is not None:  # as Extractor.read: a poor page may be read with a clean page's layout
            own = read_planned(fb.pending, engine, second)
            alone = learned.read_page(gray, fb, own, lambda p: read_planned(p, engine, second))
            score.with_learned += alone is not own
            alone = settle(alone, fb)
        registered = c.registered is not None and c.form == t.form
        got = read_planned({f.key: plan_field(c.registered, f) for f in c.registered.template.fields}, engine,
                           second) if registered else alone
        score.named += fallback
        score.misregistered += registered
        if c.registered is not None:
            score.misses.append(f"seed {s} page registered as {c.registered.template.id}")
        for f in t.fields:
            want = sample.truth.get(f.key)
            if is_blank(want):
                # A blank field the fallback fills (a tick on an unticked box) is wrong too, but not scored
                # by `right` (as in yomitori.bench): counted apart, so that guessing cannot pass unseen.
                if f.key in alone and not is_blank(alone[f.key].value) and alone[f.key].value != "":
                    score.filled_blank += 1
                    score.misses.append(f"seed {s} {f.key}: blank, got a value")
                continue
            score.total += 1
            score.located += fb is not None and f.key in fb.pending  # not found: in `got` too, for review
            value = got[f.key].value if f.key in got else None
            mine = alone[f.key].value if f.key in alone else None  # what the fallback read
            score.alone_right += mine == want
            core = tiers[f.key] == "core"
            score.core_total += core
            score.core_right += core and value == want
            score.named_total += fallback
            score.named_right += fallback and value == want
            score.right += value == want
            if mine != want:  # the fallback's own mistakes, registered page or not
                # my_number values are never printed: only whether it was found.
                shown = "(個人番号)" if "my_number" in f.key else f"want {want!r} got {mine!r}"
                score.misses.append(f"seed {s} {f.key}: {shown}")
    return score
