"""Page classification: generated form pages classify right, non-form pages come back unknown, fusion rules."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from yomitori.classify import classify
from yomitori.classify.fusion import decide
from yomitori.classify.page_cnn import CNNVote, PageCNN
from yomitori.classify.title_cues import match_titles
from yomitori.errors import MissingDependency
from yomitori.forms_templates import templates
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.models.page_classifier import PAGE_CNN, PageModel, sha256_of, verified_model
from yomitori.ocr.preprocess import Registered, to_working
from yomitori.synth.generate import generate
from yomitori.synth.unknown_pages import KINDS, unknown_page


def _gray(image) -> np.ndarray:
    return to_working(np.asarray(image.convert("RGB")))


def test_shipped_weights_are_checksummed_small_and_know_every_class(tmp_path):
    onnx, meta = verified_model()
    assert onnx.stat().st_size <= 10 * 1024 * 1024
    info = json.loads(meta.read_text(encoding="utf-8"))
    assert info["sha256"] == PAGE_CNN.sha256 == sha256_of(onnx)
    assert UNKNOWN_FORM in info["classes"]
    assert set(info["classes"]) - {UNKNOWN_FORM} <= set(templates())  # never names a layout that does not exist
    # A damaged copy is refused before onnxruntime ever sees it.
    bad = tmp_path / "page_cnn.onnx"
    shutil.copy(onnx, bad)
    shutil.copy(meta, bad.with_suffix(".json"))
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(MissingDependency, match="SHA-256"):
        PageCNN(PageModel(bad, PAGE_CNN.sha256))


@pytest.mark.parametrize("layout_id", sorted(templates()))
def test_generated_pages_of_every_layout_classify_right(layout_id):
    t = templates()[layout_id]
    for seed in (501,):
        c = classify(_gray(generate(t, seed).image), templates().values())
        assert (c.form, c.layout) == (t.form, t.layout), c.signals
        assert c.registered is not None and c.confidence > 0.5


def test_sideways_page_is_classified_and_turned_upright():
    t = templates()["kyuyo_soukatsuhyo/national"]
    gray = _gray(generate(t, 503, clean=True).image)
    c = classify(np.ascontiguousarray(np.rot90(gray)), templates().values())
    assert (c.form, c.layout) == (t.form, t.layout)
    assert c.rotation in (90, 270) and c.registered is not None


@pytest.mark.parametrize("kind", KINDS)
def test_non_form_pages_come_back_unknown(kind):
    for seed in (11,):
        page = unknown_page(seed, kind, held_out=True)
        c = classify(_gray(page.image), templates().values())
        assert c.form == UNKNOWN_FORM and c.layout is None and c.registered is None, (kind, c.signals)


class _TitleReader:
    """A recognizer that reads every crop as the 総括表's title: shows whose reading the title cue uses."""

    name = "title-reader"

    def __init__(self) -> None:
        self.lines = 0

    def recognize(self, lines, charsets):
        from yomitori.ocr.engine import Reading

        self.lines += len(lines)
        return [Reading("給与支払報告書（総括表）", 0.99) for _ in lines]


def test_the_title_is_read_by_the_callers_recognizer():
    page = unknown_page(11, "tax_form", held_out=True)  # another office's form: its title band has text lines
    reader = _TitleReader()
    c = classify(_gray(page.image), templates().values(), engine=reader)
    assert reader.lines > 0
    assert c.signals["title"]["form"] == "kyuyo_soukatsuhyo"  # the title it read, not what PP-OCR would read


def test_title_cues_name_our_forms_and_spot_other_documents():
    layouts = list(templates().values())
    assert match_titles(["令和6年分 給与支払報告書（総括表）"], layouts).form == "kyuyo_soukatsuhyo"
    assert match_titles(["給与支払報告書(個人別明細書)"], layouts).form == "kyuyo_shiharai_hokokusho"
    other = match_titles(["住民票の写し"], layouts)
    assert other.form is None and other.foreign
    assert match_titles(["給与所得の源泉徴収票"], layouts).form is None


# ---------------------------------------------------------------- the fusion rule


def _vote(**probs: float) -> CNNVote:
    return CNNVote({k.replace("__", "/"): v for k, v in probs.items()}, 0, 0.99)


def _reg(layout_id: str, score: float) -> Registered:
    return Registered(templates()[layout_id], np.zeros((4, 4), np.uint8), 0, score)


def _cue(form: str | None, sim: float, foreign: bool = False):
    from yomitori.classify.title_cues import TitleCue

    return TitleCue(form, sim, "", foreign)


SOU = "kyuyo_soukatsuhyo__national"


def test_two_agreeing_signals_accept_the_registered_layout():
    c = decide(_reg("kyuyo_soukatsuhyo/national", 0.7), 0.7, _vote(**{SOU: 0.1, "unknown": 0.9}),
               _cue("kyuyo_soukatsuhyo", 0.95))
    assert (c.form, c.layout) == ("kyuyo_soukatsuhyo", "national") and c.registered is not None


def test_a_strong_registration_is_vetoed_by_a_foreign_title_or_a_sure_cnn():
    reg = _reg("kyuyo_soukatsuhyo/national", 0.9)
    assert decide(reg, 0.9, _vote(**{SOU: 0.3, "unknown": 0.7}), _cue(None, 0.2, foreign=True)).form == UNKNOWN_FORM
    assert decide(reg, 0.9, _vote(**{SOU: 0.02, "unknown": 0.98}), _cue(None, 0.0)).form == UNKNOWN_FORM
    # With no objection, a strong registration stands alone (title unreadable, CNN unsure).
    assert decide(reg, 0.9, _vote(**{SOU: 0.4, "unknown": 0.6}), _cue(None, 0.0)).layout == "national"


def test_a_new_layout_of_a_known_form_gets_the_form_without_a_layout_when_title_and_cnn_agree_or_the_title_is_clear():
    c = decide(None, 0.3, _vote(**{SOU: 0.8, "unknown": 0.2}), _cue("kyuyo_soukatsuhyo", 0.9))
    assert (c.form, c.layout, c.registered) == ("kyuyo_soukatsuhyo", None, None)
    assert decide(None, 0.3, _vote(**{SOU: 0.3, "unknown": 0.7}), _cue("kyuyo_soukatsuhyo", 0.85)).form == UNKNOWN_FORM
    assert decide(None, 0.3, _vote(**{SOU: 0.9, "unknown": 0.1}), _cue(None, 0.1)).form == UNKNOWN_FORM
    # A title read word for word, or with a letter or two misread (a fax), names the form alone (other
    # documents' titles reach about 0.55).
    for similarity in (1.0, 0.92):
        alone = decide(None, 0.3, _vote(**{SOU: 0.3, "unknown": 0.7}), _cue("kyuyo_soukatsuhyo", similarity))
        assert (alone.form, alone.layout) == ("kyuyo_soukatsuhyo", None)


def test_a_title_of_another_form_contradicts_registration():
    c = decide(_reg("kyuyo_soukatsuhyo/national", 0.85), 0.85, _vote(**{SOU: 0.9, "unknown": 0.1}),
               _cue("idou_todokede", 0.9))
    assert c.form == UNKNOWN_FORM


def test_a_faint_registration_stands_when_its_title_reads_word_for_word(monkeypatch):
    # A noisy 200-dpi fax: its frame registers with less of the form's ink found than a clean scan has, and the
    # CNN, trained on cleaner pages, takes it for a stranger. The title read where this layout prints it decides.
    from yomitori.classify import fusion
    from yomitori.classify.layout_match import LayoutMatch

    class SureItIsAStranger:
        def vote(self, gray):
            return _vote(unknown=0.999)

    faint = _reg("kyuyo_shiharai_hokokusho/payroll_print", 0.45)
    monkeypatch.setattr(fusion, "match_layouts", lambda gray, layouts: LayoutMatch(faint, 0.2, True))
    for similarity, layout in ((1.0, "payroll_print"), (0.9, None)):
        monkeypatch.setattr(fusion, "_title", lambda *a, s=similarity, **k: _cue("kyuyo_shiharai_hokokusho", s))
        c = fusion.classify(np.zeros((8, 8), np.uint8), templates().values(), cnn=SureItIsAStranger())
        assert c.layout == layout, similarity
    # The same title is printed on every layout of the form: a page with ruled lines this layout does not
    # print is another layout, however exactly its title reads.
    monkeypatch.setattr(fusion, "match_layouts", lambda gray, layouts: LayoutMatch(faint, 0.2, True, rules=0.3))
    monkeypatch.setattr(fusion, "_title", lambda *a, **k: _cue("kyuyo_shiharai_hokokusho", 1.0))
    c = fusion.classify(np.zeros((8, 8), np.uint8), templates().values(), cnn=SureItIsAStranger())
    assert (c.form, c.layout, c.registered) == ("kyuyo_shiharai_hokokusho", None, None)


@pytest.mark.parametrize(("layout_id", "seed"), [("kyuyo_shiharai_hokokusho/national", 1012),
                                                 ("idou_todokede/municipal_c", 501)])
def test_a_new_layout_is_not_read_with_a_template_of_the_form_that_lacks_its_ruled_lines(layout_id, seed):
    # Leave one out: the page's own template is unknown to the classifier. national seed 1012 covers 57 % of
    # payroll_print's printed ink (same frame, title and much ruling), above the registration threshold.
    from yomitori.classify.layout_match import MATCH_THRESHOLD, RULES_AGREE, rule_agreement
    from yomitori.ocr.preprocess import fit

    t = templates()[layout_id]
    gray = _gray(generate(t, seed).image)
    others = [o for o in templates().values() if o.id != layout_id]
    c = classify(gray, others)
    assert (c.form, c.layout, c.registered) == (t.form, None, None), c.signals
    for o in others:
        if o.form == t.form and (f := fit(gray, o)) is not None:
            agreement = rule_agreement(f.warp(gray))
            assert agreement is not None and agreement < RULES_AGREE, (o.id, f.score, agreement)
    own = fit(gray, t)
    assert own is not None and own.score > MATCH_THRESHOLD and rule_agreement(own.warp(gray)) > 0.95


def test_a_fax_that_lost_its_ruled_lines_is_still_registered_onto_its_layout():
    # A 200-dpi fax can drop every thin rule inside the frame; a seal's square box is then the only "rule" left.
    # Too few rules to judge by, so the registration (the frame, the labels) and the title decide, as for a faint
    # scan. The page used to go to the label fallback, which cannot read labels that small on such a page.
    import cv2

    from yomitori.classify.layout_match import _rules
    from yomitori.ocr.preprocess import FAINT_INK, find_frame, ink_mask

    t = templates()["kyuyo_shiharai_hokokusho/payroll_print"]
    gray = _gray(generate(t, 1014, hand=True).image)
    h, v = _rules(ink_mask(gray, FAINT_INK))
    rules = cv2.dilate((h | v).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    frame = find_frame(gray)
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(inside, [frame.astype(np.int32)], 1)
    lost = gray.copy()
    lost[rules & cv2.erode(inside, np.ones((31, 31), np.uint8)).astype(bool)] = 255
    x, y = (frame[2] - 20).astype(int)
    cv2.rectangle(lost, (x - 120, y - 120), (x, y), 0, 3)
    c = classify(lost, templates().values())
    assert (c.form, c.layout) == (t.form, t.layout), c.signals
    assert c.signals["registration"]["rules"] is None  # nothing to judge by, not a disagreement


def test_a_faint_printout_still_explains_its_ruled_lines():
    # Light 0.15 mm rules, blurred and JPEG'd: only 67 % of the form's ink is found, yet every rule the page
    # shows is one its template prints.
    from yomitori.classify.layout_match import RULES_AGREE, rule_agreement
    from yomitori.ocr.preprocess import fit

    t = templates()["kyuyo_shiharai_hokokusho/payroll_print"]
    gray = _gray(generate(t, 1014).image)
    own = fit(gray, t)
    assert own is not None and own.score < 0.75
    agreement = rule_agreement(own.warp(gray))
    assert agreement is not None and agreement >= RULES_AGREE


def test_a_stamp_over_the_frame_does_not_pull_its_side_out():
    # A ゴム印 box printed across the frame's bottom right corner sticks out 2.5 mm: the smallest rectangle around the
    # outline runs along the stamp, and the page registered 2 mm off (its ruled lines no longer matched, and a
    # 200-dpi fax of the 明細書 went to the label fallback). The frame's sides are where most of the outline lies.
    import cv2

    from yomitori.classify.layout_match import rule_agreement
    from yomitori.ocr.preprocess import PX_PER_MM, find_frame, fit

    t = templates()["kyuyo_shiharai_hokokusho/national"]
    gray = _gray(generate(t, 72000, hand=True, clean=True).image)
    true = find_frame(gray)
    stamped = gray.copy()
    x, y = true[2].astype(int)
    out, side = round(2.5 * PX_PER_MM), round(12 * PX_PER_MM)
    cv2.rectangle(stamped, (x - side, y - side), (x + out, y + out), 0, 3)
    corners = find_frame(stamped)
    assert np.abs(corners - true).max() < 0.5 * PX_PER_MM, (corners, true)
    registered = fit(stamped, t, corners).warp(stamped)
    assert rule_agreement(registered) > 0.9


def test_the_pages_text_names_its_form_by_title_and_labels_wherever_they_stand():
    from yomitori.classify.page_text import judge

    labels = ["支払金額", "源泉徴収税額", "給与所得控除後の金額", "所得控除の額の合計額", "受給者番号"]
    # A payroll program's printout: its title read with a letter lost (a fax), anywhere among its lines.
    v = judge(["株式会社サンプル 給与計算", *labels, "給与支払報告書（個人別明綑書）", "2,514,646"])
    assert v.form == "kyuyo_shiharai_hokokusho" and v.labels >= 5
    idou = ["特別徴収に係る給与所得者異動届出書", "異動年月日", "異動の事由", "未徴収税額"]
    assert judge(idou).form == "idou_todokede"
    assert judge(["給与支払報告書（総括表）", "受給者総人員", "報告人員", "特別徴収対象者"]).form == "kyuyo_soukatsuhyo"
    # A cover letter names the forms in its title and sentences but prints none of their labels.
    letter = ["給与支払報告書の提出について", "給与支払報告書（個人別明細書）及び総括表を同封します。", "敬具"]
    assert judge(letter).form is None
    # The 源泉徴収票 prints the 明細書's labels under another title: not our form.
    gensen = judge(["給与所得の源泉徴収票", *labels])
    assert gensen.form is None and gensen.foreign
    # … but a sheet printing both titles is the 明細書 with its 源泉徴収票 copy.
    assert judge(["給与所得の源泉徴収票", "給与支払報告書（個人別明細書）", *labels]).form == "kyuyo_shiharai_hokokusho"
    # … and so is one whose title holds the other's, a letter misread (a payroll program's combined print).
    assert judge(["給与所得の源泉徴収票 兼 給与払報告書", *labels]).form == "kyuyo_shiharai_hokokusho"
    # A title alone, without the form's labels, is not enough; nor are labels under no title.
    assert judge(["給与支払報告書（個人別明細書）"]).form is None
    assert judge(labels * 2).form is None


def test_a_cnn_sure_the_page_is_a_stranger_never_vetoes_a_title_that_reads_clearly():
    # A layout no template describes and the CNN never saw: the CNN calls it unknown at 0.999, yet the page's
    # text (its title, its labels) names the form.
    from yomitori.classify import fusion

    class SureItIsAStranger:
        def vote(self, gray):
            return _vote(unknown=0.999)

    t = templates()["idou_todokede/municipal_b"]
    gray = _gray(generate(t, 1021).image)
    others = [o for o in templates().values() if o.form != t.form]
    c = fusion.classify(gray, others, cnn=SureItIsAStranger())
    assert (c.form, c.layout) == (t.form, None), c.signals
    assert c.signals["text"]["form"] == t.form
