"""A batch's clean page of an unknown layout teaches the fallback where a fax of that layout has its values."""

from __future__ import annotations

import numpy as np
import pytest

from yomitori.bench import is_blank
from yomitori.classify.batch_layouts import LearnedLayouts, same_places
from yomitori.extract import Extractor, WorkPage
from yomitori.forms_templates import templates
from yomitori.ocr.preprocess import to_working
from yomitori.synth.generate import generate

PAYROLL = "kyuyo_shiharai_hokokusho/payroll_print"
CLEAN, FAX = 4406, 4405  # tuning seeds: a clean page, then a 200-dpi fax whose 1.5 mm labels are specks


def _page(layout_id: str, seed: int) -> tuple[WorkPage, dict[str, object]]:
    sample = generate(templates()[layout_id], seed)
    gray = to_working(np.asarray(sample.image.convert("RGB")))
    return WorkPage(f"{layout_id}-{seed}", 1, gray), sample.truth


def _right(fields: dict, truth: dict[str, object]) -> tuple[int, int]:
    wanted = {k: v for k, v in truth.items() if not is_blank(v)}
    return sum(k in fields and fields[k].value == v for k, v in wanted.items()), len(wanted)


@pytest.fixture(scope="module")
def without_payroll_template(extractor):
    """An extractor to which the payroll printout is an unknown layout (its template left out)."""
    return Extractor(extractor.engine, layouts=[t for t in templates().values() if t.id != PAYROLL])


def test_a_fax_after_a_clean_page_of_its_layout_is_read_where_the_clean_page_had_its_values(
        without_payroll_template):
    ex = without_payroll_template
    clean, _ = _page(PAYROLL, CLEAN)
    fax, truth = _page(PAYROLL, FAX)
    ex.learned = LearnedLayouts()
    alone = ex.read([fax])[0]
    ex.read([clean])
    taught = ex.read([fax])[0]
    assert taught.layout is None and taught.form == "kyuyo_shiharai_hokokusho"  # still a fallback page
    right_alone, total = _right(alone.fields, truth)
    right_taught, _ = _right(taught.fields, truth)
    assert right_alone <= total // 2 < right_taught and right_taught >= total - 3, (right_alone, right_taught, total)
    assert all(f.review for f in taught.fields.values())  # fallback values always go to a person
    filled = [k for k, v in truth.items() if is_blank(v) and k in taught.fields
              and taught.fields[k].value not in (None, "", False)]
    assert len(filled) <= 3, filled  # a 円 or a bracket no clean page printed in an empty cell (of 90 fields)


def test_drafts_of_one_layout_place_fields_alike_and_of_two_layouts_do_not(without_payroll_template):
    from yomitori.classify.fusion import classify
    from yomitori.classify.label_fallback import locate, read_fallback

    ex = without_payroll_template
    drafts = {}
    for layout_id, seed in ((PAYROLL, CLEAN), (PAYROLL, 4400), ("kyuyo_shiharai_hokokusho/national", 4300)):
        page, _ = _page(layout_id, seed)
        others = [t for t in templates().values() if t.id != layout_id]
        c = classify(page.gray, others)
        fb = locate(page.gray, c.form, c.rotation, ex.engine, exclude_layout=layout_id.split("/")[1])
        read_fallback(fb, ex.engine)
        drafts[seed] = fb.final_draft()
    assert same_places(drafts[CLEAN], drafts[4400]) >= 0.9
    assert same_places(drafts[CLEAN], drafts[4300]) < 0.8
