"""Leave-one-out measurement of the label fallback on generated pages (`yomitori bench-fallback`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yomitori.bench import is_blank
from yomitori.forms_templates import contract_forms, templates
from yomitori.ocr.engine import get_engine
from yomitori.ocr.preprocess import to_working
from yomitori.synth.generate import generate

from .fusion import classify
from .label_fallback import locate, read_fallback


@dataclass
class FallbackScore:
    total: int = 0  # non-blank fields
    right: int = 0
    located: int = 0  # fields the fallback found a place for
    core_total: int = 0  # non-blank fields of the contract's core tier
    core_right: int = 0
    named: int = 0  # pages the classifier named the form of (no template fits them: layout None)
    named_total: int = 0  # non-blank fields on those pages
    named_right: int = 0
    misses: list[str] = field(default_factory=list)


def run(layout_id: str, pages: int, seed: int) -> FallbackScore:
    """Generated pages of `layout_id`, classified and read with that layout's template and labels removed."""
    t = templates()[layout_id]
    others = [x for x in templates().values() if x.id != layout_id]
    engine = get_engine("ppocr")
    tiers = {k: c.tier for k, c in contract_forms()[t.form].fields.items()}
    score = FallbackScore()
    for s in range(seed, seed + pages):
        sample = generate(t, s)
        gray = to_working(np.asarray(sample.image.convert("RGB")))
        c = classify(gray, others)
        fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout) if c.form == t.form else None
        got = read_fallback(fb, engine) if fb is not None else {}
        score.named += c.form == t.form
        for f in t.fields:
            want = sample.truth.get(f.key)
            if is_blank(want):
                continue
            score.total += 1
            score.located += fb is not None and f.key in fb.pending  # not found: in `got` too, for review
            value = got[f.key].value if f.key in got else None
            core = tiers[f.key] == "core"
            score.core_total += core
            score.core_right += core and value == want
            score.named_total += c.form == t.form
            score.named_right += c.form == t.form and value == want
            if value == want:
                score.right += 1
            elif len(score.misses) < 40:
                # my_number values are never printed: only whether it was found.
                shown = "(個人番号)" if "my_number" in f.key else f"want {want!r} got {value!r}"
                score.misses.append(f"seed {s} {f.key}: {shown}")
    return score
