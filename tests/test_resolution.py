"""Working resolution: at 12 px/mm a page is registered, dropped out and cropped as at 8 px/mm, only finer.

Sizes in the image analysis are millimetres; were they pixels, a higher resolution would leave label
remnants in a box after form dropout and the amount's line image would come out three times too tall.
"""

from __future__ import annotations

import numpy as np
import pytest

import yomitori.ocr.preprocess as pp
from yomitori.bench import is_blank
from yomitori.forms_templates import templates
from yomitori.ocr.fields import plan_field
from yomitori.synth.generate import generate

LAYOUT = "idou_todokede/municipal_a"


@pytest.fixture(scope="module")
def page():
    # A 300-dpi print page whose 年税額 / 未徴収税額 boxes kept label remnants when sizes were pixels.
    return generate(templates()[LAYOUT], 5100, hand=False)


def _plan(rgb: np.ndarray, px_per_mm: float, monkeypatch: pytest.MonkeyPatch) -> tuple[float, dict[str, list[int]]]:
    """Registration score and the heights of each written field's line images at this resolution."""
    monkeypatch.setattr(pp, "PX_PER_MM", px_per_mm)
    monkeypatch.setattr(pp, "WORK_LONG_SIDE", round(325 * px_per_mm))
    t = templates()[LAYOUT]
    reg = pp.register(pp.to_working(rgb), t)
    assert reg is not None
    assert reg.gray.shape == (round(t.page.height_mm * px_per_mm), round(t.page.width_mm * px_per_mm))
    heights = {f.key: [ln.image.shape[0] for ln in plan_field(reg, f).lines]
               for f in t.fields if f.kind not in ("checkbox", "choice", "date")}
    return reg.score, heights


def test_field_crops_scale_with_the_working_resolution(page, monkeypatch: pytest.MonkeyPatch) -> None:
    rgb = np.asarray(page.image.convert("RGB"))
    score8, at8 = _plan(rgb, 8.0, monkeypatch)
    score12, at12 = _plan(rgb, 12.0, monkeypatch)
    assert score12 == pytest.approx(score8, abs=0.01)  # the rotation score does not depend on the resolution
    for key, lines8 in at8.items():
        if is_blank(page.truth.get(key)):
            assert lines8 == at12[key] == [], key  # blank stays blank: no printed matter survives dropout
            continue
        assert len(lines8) == len(at12[key]) >= 1, key
        for h8, h12 in zip(lines8, at12[key], strict=True):
            assert 1.3 < h12 / h8 < 1.7, (key, h8, h12)  # the same written line, 1.5 times finer
