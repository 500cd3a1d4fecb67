"""Layout variants: other municipalities' 異動届出書 and a payroll printout of the 明細書 are read as data only.

Each municipality numbers and orders the 異動の事由 / 徴収方法 options its own way and has them circled,
ticked or written as a number; the value read must always be the contract's canonical code.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from yomitori.bench import is_blank
from yomitori.extract import WorkPage
from yomitori.forms_templates import TemplateError, load_template, template_paths, templates
from yomitori.forms_templates.contract import contract_forms
from yomitori.ocr.fields import plan_field
from yomitori.ocr.preprocess import find_frame, register, to_working
from yomitori.synth.data import make_record
from yomitori.synth.paper import paper_values
from yomitori.synth.render import Style, render_filled
from yomitori.synth.scan import ScanEffects, scan

TEMPLATES = Path(__file__).resolve().parents[1] / "forms_templates"
IDOU = ["idou_todokede/municipal_a", "idou_todokede/municipal_b", "idou_todokede/municipal_c"]
NEW = ["idou_todokede/municipal_b", "idou_todokede/municipal_c", "kyuyo_shiharai_hokokusho/payroll_print"]
REASONS = contract_forms()["idou_todokede"].fields["change_reason"].choices
METHODS = contract_forms()["idou_todokede"].fields["collection_method"].choices


def _page(layout_id: str, seed: int, *, hand: bool, clean: bool = False, quick: bool = False, **overrides: object):
    """A filled, scanned page of the layout with some record values forced, and its ground truth.

    `quick` pages are scanned at 200 dpi without a rubber stamp: cheaper, for tests that read marks.
    """
    t = templates()[layout_id]
    rng = random.Random(f"variants:{layout_id}:{seed}")
    record = {**make_record(t.form, rng), **overrides}
    truth = {f.key: record.get(f.key) for f in t.fields}
    style = Style.pick(rng, hand=hand, held_out=False)
    if quick:
        style = replace(style, dpi=200, rubber_stamp=False)
    page = render_filled(t, paper_values(t, truth, rng, style), rng, style)
    effects = ScanEffects() if clean else ScanEffects.pick(rng)
    return scan(page, style.dpi, effects, rng), truth


def _read_some(engine, image, layout_id: str, keys: list[str]) -> dict[str, object]:
    """Register the page on the layout and read only `keys` (marks by ink, written codes by the recognizer)."""
    t = templates()[layout_id]
    reg = register(to_working(np.asarray(image)), t)
    assert reg is not None
    pending = {k: plan_field(reg, t.field(k)) for k in keys}
    lines = [ln for p in pending.values() for ln in p.lines]
    readings = engine.recognize([ln.image for ln in lines], [ln.charset for ln in lines]) if lines else []
    out = {}
    for k, p in pending.items():
        out[k], readings = p.finish(readings[: len(p.lines)]).value, readings[len(p.lines) :]
    return out


# ---------------------------------------------------------------- the templates themselves


def test_every_template_file_validates_against_the_contract():
    loaded = {load_template(p).id for p in template_paths()}
    assert set(NEW) <= loaded == set(templates())


@pytest.mark.parametrize("layout_id", [*IDOU, "kyuyo_shiharai_hokokusho/payroll_print"])
def test_variant_carries_every_contract_field(layout_id):
    t = templates()[layout_id]
    assert {f.key for f in t.fields} == set(contract_forms()[t.form].fields)


def test_idou_layouts_differ_in_order_numbering_and_marking():
    reason = {lid: templates()[lid].field("change_reason") for lid in IDOU}
    method = {lid: templates()[lid].field("collection_method") for lid in IDOU}
    # every layout offers every canonical code, but in its own order and with its own printed labels
    for lid in IDOU:
        assert sorted(o.code for o in reason[lid].options) == sorted(REASONS)
        assert sorted(o.code for o in method[lid].options) == sorted(METHODS)
    assert len({tuple(o.code for o in reason[lid].options) for lid in IDOU}) == 3
    assert len({tuple(o.code for o in method[lid].options) for lid in IDOU}) == 3
    assert len({tuple(o.label for o in reason[lid].options) for lid in IDOU}) == 3
    assert {reason[lid].mark for lid in IDOU} == {"circle", "tick", "write"}
    # the same printed number means different things on different forms
    by_number = {lid: {o.label.split()[0]: o.code for o in reason[lid].options} for lid in IDOU}
    assert len({by_number[lid]["2"] for lid in IDOU}) > 1


def test_written_code_needs_a_number_on_every_option(tmp_path):
    text = (TEMPLATES / "idou_todokede" / "municipal_c.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "no_number.yaml"
    bad.write_text(text.replace('number: "9", ', ""), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"(?s)no_number\.yaml.*change_reason.*distinct 'number'"):
        load_template(bad)
    bad.write_text(text.replace("    code_box: [171, 51.5, 11, 11]\n", ""), encoding="utf-8")
    with pytest.raises(TemplateError, match="needs 'code_box'"):
        load_template(bad)


def test_fixed_era_must_be_an_era(tmp_path):
    text = (TEMPLATES / "idou_todokede" / "municipal_b.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "era.yaml"
    bad.write_text(text.replace('era_fixed: "reiwa"', 'era_fixed: "kouka"'), encoding="utf-8")
    with pytest.raises(TemplateError, match="era code 'kouka'"):
        load_template(bad)


# ---------------------------------------------------------------- classification between layouts


@pytest.mark.parametrize("layout_id", sorted(templates()))
def test_registration_picks_the_right_layout_among_all(layout_id):
    image, _ = _page(layout_id, 5, hand=layout_id.endswith("_c"), quick=True)
    gray = to_working(np.asarray(image))
    corners = find_frame(gray)
    scores = {lid: r.score for lid, t in templates().items() if (r := register(gray, t, corners)) is not None}
    best = max(scores, key=scores.__getitem__)
    runner_up = max(v for k, v in scores.items() if k != layout_id)
    assert best == layout_id, scores
    assert scores[layout_id] - runner_up > 0.25, scores  # a wide margin, not a coin toss


# ---------------------------------------------------------------- canonical codes whatever is printed


@pytest.mark.parametrize("layout_id", IDOU)
def test_every_reason_and_method_reads_as_its_canonical_code(extractor, layout_id):
    for i, reason in enumerate(REASONS):
        method = METHODS[i % len(METHODS)]
        image, truth = _page(layout_id, 40 + i, hand=i % 2 == 1, quick=True,
                             change_reason=reason, collection_method=method)
        got = _read_some(extractor.engine, image, layout_id,
                         ["change_reason", "collection_method", "employee_birth_date", "change_date"])
        assert got == {k: truth[k] for k in got}, (layout_id, i)


@pytest.mark.parametrize("layout_id", NEW)
@pytest.mark.parametrize("hand", [False, True], ids=["print", "hand"])
def test_new_layout_round_trips(extractor, layout_id, hand):
    image, truth = _page(layout_id, 3, hand=hand)
    result = extractor.read([WorkPage("t.png", 1, to_working(np.asarray(image)))])[0]
    assert (result.form, result.layout) == tuple(layout_id.split("/"))
    values = {k: r.value for k, r in result.fields.items()}
    key_fields = {
        "idou_todokede": ["change_reason", "collection_method", "change_date", "employee_birth_date",
                          "employee_my_number", "annual_tax", "fiscal_year_kind"],
        "kyuyo_shiharai_hokokusho": ["payment_amount", "withholding_tax", "recipient_my_number", "birth_date",
                                     "payer_number", "spouse_status"],
    }[result.form]
    assert {k: values[k] for k in key_fields} == {k: truth[k] for k in key_fields}
    reason = result.fields.get("change_reason")
    if reason is not None and reason.read:  # a number written in a box: its letters feed the gate as any digit's
        assert reason.char_confidences
    written = [k for k, v in truth.items() if not is_blank(v)]
    right = sum(values[k] == truth[k] for k in written)
    assert right / len(written) >= (0.8 if hand else 0.85), [(k, truth[k], values[k]) for k in written
                                                             if values[k] != truth[k]]
    assert all(is_blank(values[k]) for k, v in truth.items() if is_blank(v))
