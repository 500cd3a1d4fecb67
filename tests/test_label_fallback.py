"""The label fallback on a layout held out of the templates: fields found by their printed labels."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from yomitori.classify import classify
from yomitori.classify.label_fallback import FALLBACK_CONFIDENCE, draft_yaml, locate, read_fallback
from yomitori.cli import app
from yomitori.extract import Extractor, WorkPage
from yomitori.forms_templates import load_template, templates
from yomitori.ocr.engine import get_engine
from yomitori.ocr.preprocess import to_working
from yomitori.synth.generate import generate

HELD_OUT = "kyuyo_shiharai_hokokusho/payroll_print"
KEY_FIELDS = ("payment_amount", "withholding_tax", "recipient_name", "recipient_my_number", "recipient_address")


@pytest.fixture(scope="module")
def page():
    sample = generate(templates()[HELD_OUT], 1, hand=False)
    return sample, to_working(np.asarray(sample.image.convert("RGB")))


@pytest.fixture(scope="module")
def engine():
    return get_engine("ppocr")


def test_key_fields_found_by_their_labels_without_this_layouts_template(page, engine, tmp_path):
    sample, gray = page
    # The held-out layout's own label wordings are not used: only the contract's and the other layouts'.
    others = [t for t in templates().values() if t.id != HELD_OUT]
    rotation = classify(gray, others).rotation  # the scan's orientation, as the classifier found it
    fb = locate(gray, "kyuyo_shiharai_hokokusho", rotation, engine, exclude_layout="payroll_print")
    assert fb is not None
    got = read_fallback(fb, engine)
    for key in KEY_FIELDS:
        assert got[key].value == sample.truth[key], key
        assert got[key].review and got[key].confidence <= FALLBACK_CONFIDENCE
    path = tmp_path / "draft.yaml"
    path.write_text(draft_yaml(fb.final_draft(), layout="payroll_v2"), encoding="utf-8")
    loaded = load_template(path)  # forms_templates' own schema accepts the draft
    assert loaded.id == "kyuyo_shiharai_hokokusho/payroll_v2"
    assert {f.key for f in loaded.fields} >= set(KEY_FIELDS)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["frame"] == list(fb.draft.frame)


def test_extractor_reads_a_known_form_in_an_unknown_layout(page):
    sample, gray = page
    others = [t for t in templates().values() if t.id != HELD_OUT]
    result = Extractor(get_engine("ppocr"), others, second=None).read([WorkPage("new.png", 1, gray)])[0]
    assert (result.form, result.layout) == ("kyuyo_shiharai_hokokusho", None)
    right = [k for k in KEY_FIELDS if result.fields[k].value == sample.truth[k]]
    assert len(right) >= 4, right
    assert all(r.review for r in result.fields.values())  # the gate never passes a fallback value


def test_draft_template_command_writes_a_loadable_template(page, tmp_path):
    sample, _ = page
    scan = tmp_path / "scan.png"
    sample.image.save(scan)
    out = tmp_path / "new.yaml"
    res = CliRunner().invoke(app, ["draft-template", str(scan), "--form", "kyuyo_shiharai_hokokusho",
                                   "--out", str(out), "--layout", "payroll_v2"])
    assert res.exit_code == 0, res.output
    t = load_template(out)
    assert "payment_amount" in {f.key for f in t.fields}

