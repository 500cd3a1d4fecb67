"""The layout generator draws layouts no template describes, valid by the same rules as bundled ones."""

from __future__ import annotations

from collections import Counter

import pytest

from yomitori.forms_templates.contract import contract_forms
from yomitori.synth.frozen import frozen_layouts
from yomitori.synth.layouts import FAMILIES, TUNING_SEEDS, generate_page, random_layout

FORMS = ("kyuyo_shiharai_hokokusho", "idou_todokede", "kyuyo_soukatsuhyo")


@pytest.mark.parametrize("form", FORMS)
def test_layouts_vary_and_keep_every_core_field(form: str) -> None:
    draws = [random_layout(form, TUNING_SEEDS - 1 - s) for s in range(24)]
    core = {k for k, c in contract_forms()[form].fields.items() if c.tier == "core" and c.type != "choice"}
    for d in draws:
        keys = {f.key for f in d.template.fields}
        assert core <= keys, f"{d.template.layout} lacks {sorted(core - keys)}"
        page = d.template.page
        for f in d.template.fields:  # every value lies on its paper
            x, y, w, h = f.box
            assert x >= 0 and y >= 0, f.key
            assert x + w <= page.width_mm + 0.1 and y + h <= page.height_mm + 0.1, f.key
    assert set(Counter(d.family for d in draws)) == set(FAMILIES)
    assert len({(d.template.page.width_mm, d.template.page.height_mm) for d in draws}) >= 2
    assert len({d.template.title for d in draws}) >= 2


def test_same_seed_same_layout_and_page() -> None:
    a, b = random_layout("idou_todokede", 7), random_layout("idou_todokede", 7)
    assert a == b
    pa, pb = generate_page(a, 3, clean=True), generate_page(b, 3, clean=True)
    assert pa.truth == pb.truth and pa.image.tobytes() == pb.image.tobytes()


def test_printouts_are_printed_and_frameless() -> None:
    seeds = [s for s in range(40) if random_layout("kyuyo_soukatsuhyo", s).family == "printout"]
    d = random_layout("kyuyo_soukatsuhyo", seeds[0])
    assert not d.look.outer_frame and not d.look.field_boxes
    assert not generate_page(d, 1, hand=True, clean=True).hand


def test_frozen_layouts_cover_every_form() -> None:
    assert {d.template.form for d in frozen_layouts()} == set(FORMS)
    assert all(d.template.layout.startswith("frozen_") for d in frozen_layouts())
