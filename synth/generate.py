"""Generate synthetic scans with ground truth: a realistic record, written on a layout, then scanned."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from PIL import Image

from yomitori.forms_templates.schema import LayoutTemplate

from .data import make_record
from .paper import paper_values
from .render import Style, render_filled
from .scan import ScanEffects, scan


@dataclass(frozen=True)
class Sample:
    image: Image.Image
    truth: dict[str, object]  # the contract's normalized value of every field the layout has
    form: str
    layout: str
    hand: bool
    font: str
    dpi: int
    effects: ScanEffects


def generate(
    t: LayoutTemplate,
    seed: int,
    *,
    hand: bool | None = None,
    held_out: bool | None = None,
    density: float = 0.6,
    clean: bool = False,
) -> Sample:
    """One filled page of layout `t`. Same seed, same page. `clean` skips the scanner effects."""
    rng = random.Random(f"{t.id}:{seed}")
    record = make_record(t.form, rng, density=density)
    truth = {f.key: record.get(f.key) for f in t.fields}
    hand = rng.random() < 0.5 if hand is None else hand
    style = Style.pick(rng, hand=hand, held_out=held_out)
    page = render_filled(t, paper_values(t, truth, rng, style), rng, style)
    effects = ScanEffects() if clean else ScanEffects.pick(rng)
    if clean:
        style = replace(style, seal=False)
    image = scan(page, style.dpi, effects, rng)
    return Sample(image, truth, t.form, t.layout, hand, style.font.name, style.dpi, effects)
