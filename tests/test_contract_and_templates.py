"""The vendored contract matches shared/, and every bundled template speaks it completely."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomitori.forms_templates import TemplateError, load_template, templates
from yomitori.forms_templates.contract import contract_forms

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "contract" / "forms"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/contract is not beside this checkout")
def test_vendored_contract_is_identical_to_shared():
    for shared in SHARED.glob("*.yaml"):
        vendored = REPO / "forms_templates" / "contract" / shared.name
        assert vendored.read_bytes() == shared.read_bytes(), f"{vendored} differs from {shared}; copy it again"


@pytest.mark.parametrize("layout_id", ["kyuyo_shiharai_hokokusho/national", "kyuyo_soukatsuhyo/national"])
def test_national_layouts_have_every_contract_field(layout_id):
    t = templates()[layout_id]
    assert {f.key for f in t.fields} == set(contract_forms()[t.form].fields)


def test_every_form_has_a_layout():
    assert {t.form for t in templates().values()} == set(contract_forms())


def test_field_boxes_do_not_overlap():
    for t in templates().values():
        boxes = [(f.key, f.box) for f in t.fields]
        for i, (ka, a) in enumerate(boxes):
            for kb, b in boxes[i + 1 :]:
                overlap_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
                overlap_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
                assert overlap_w <= 0.01 or overlap_h <= 0.01, f"{t.id}: {ka} overlaps {kb}"


def test_bad_template_names_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "form: kyuyo_soukatsuhyo\nlayout: x\ntitle: t\npage: {width_mm: 210, height_mm: 297}\n"
        "frame: [10, 10, 190, 277]\ntitle_box: [20, 12, 100, 8]\n"
        "fields:\n  - {key: payer_nmae, type: text, box: [20, 30, 50, 9]}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match=r"(?s)bad\.yaml.*payer_nmae.*not in the contract"):
        load_template(bad)


def test_template_type_must_match_contract(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "form: kyuyo_soukatsuhyo\nlayout: x\ntitle: t\npage: {width_mm: 210, height_mm: 297}\n"
        "frame: [10, 10, 190, 277]\ntitle_box: [20, 12, 100, 8]\n"
        "fields:\n  - {key: total_recipients, type: amount, box: [20, 30, 50, 9]}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match="contract says count"):
        load_template(bad)
