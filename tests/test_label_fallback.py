"""The label fallback on a layout held out of the templates: fields found by their printed labels."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from yomitori.classify import classify
from yomitori.classify.fusion import decide
from yomitori.classify.label_fallback import (
    FALLBACK_CONFIDENCE,
    NOT_FOUND,
    Detected,
    Fallback,
    as_fallback,
    draft_yaml,
    guess_era,
    in_row_order,
    is_printed,
    locate,
    printed_bigrams,
    read_fallback,
)
from yomitori.classify.page_cnn import CNNVote
from yomitori.classify.title_cues import TitleCue
from yomitori.cli import app
from yomitori.extract import Extractor, WorkPage
from yomitori.forms_templates import contract_forms, load_template, templates
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.engine import get_engine
from yomitori.ocr.fields import FieldResult
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



# ---------------------------------------------------------------- other held-out layouts


def _held_out_page(layout_id: str, seed: int, *, hand: bool | None = False):  # None: as the seed draws it
    t = templates()[layout_id]
    sample = generate(t, seed, hand=hand)
    gray = to_working(np.asarray(sample.image.convert("RGB")))
    others = [x for x in templates().values() if x.id != layout_id]
    c = classify(gray, others)
    return t, sample, gray, c


def test_choices_by_written_number_circled_number_or_circled_wording(engine):
    # municipal_c: 異動の事由 by writing the printed number in a box, 徴収方法 by circling only the number,
    # 年度 by circling the wording; the other layouts circle or tick, so none of this is learnt from them.
    t, sample, gray, c = _held_out_page("idou_todokede/municipal_c", 1)
    assert (c.form, c.layout) == ("idou_todokede", None)
    fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
    assert fb is not None
    got = read_fallback(fb, engine)
    for key in ("change_reason", "collection_method", "fiscal_year_kind"):
        assert got[key].value == sample.truth[key], key
    # 電話番号 and 郵便番号 are each printed twice: each goes to the one among its own party's labels. The
    # addressee is labelled （宛先） here, あて先 in the contract and the other layouts.
    for key in ("contact_phone", "payer_postal_code", "address_after_postal_code", "addressee_municipality"):
        assert got[key].value == sample.truth[key], key
    # Every contract field comes back for review, found or not.
    assert set(got) == set(contract_forms()[t.form].fields)
    assert all(r.review and r.confidence <= FALLBACK_CONFIDENCE for r in got.values())
    assert all(r.value is None for r in got.values() if NOT_FOUND in r.reasons)


def test_one_character_cells_and_numbered_rows(engine):
    # national: 個人番号 and 法人番号 in one-character cells whose dividers must not read as 1s; 扶養親族
    # rows 1–4 print the same フリガナ / 氏名 labels, told apart by their order on the page.
    t, sample, gray, c = _held_out_page("kyuyo_shiharai_hokokusho/national", 17)
    fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
    assert fb is not None
    got = read_fallback(fb, engine)
    for key in ("recipient_my_number", "payer_number", "tax_year"):
        right = got[key].value == sample.truth[key]  # compared apart: a failure never prints a 個人番号
        assert right, key
    rows = [f"under16_{n}_{part}" for n in (1, 2) for part in ("name", "name_kana")]
    assert all(sample.truth[k] for k in rows)  # this page has two such rows
    assert [k for k in rows if got[k].value != sample.truth[k]] == []


def test_numbered_rows_take_their_labels_in_reading_order():
    label = {n: Detected((20.0, 100.0 + 10 * n, 6.0, 4.0), "氏名") for n in range(1, 5)}
    found = {"dependent_1_name": label[3], "dependent_2_name": label[1], "dependent_3_name": label[4],
             "dependent_4_name": label[2], "recipient_name": label[4]}
    ordered = in_row_order(found)
    assert [ordered[f"dependent_{n}_name"] for n in range(1, 5)] == [label[n] for n in range(1, 5)]
    assert ordered["recipient_name"] is label[4]  # not numbered: left alone


def test_a_clearly_read_title_names_a_form_no_template_registers():
    # A new layout: no template registers it and the CNN (trained on the bundled layouts) calls it unknown.
    vote = CNNVote({"kyuyo_shiharai_hokokusho/national": 0.03, UNKNOWN_FORM: 0.97}, 0, 1.0)
    title = TitleCue("kyuyo_shiharai_hokokusho", 1.0, "給与支払報告書（個人別明細書）", False)
    c = decide(None, 0.3, vote, title)
    assert (c.form, c.layout, c.registered) == ("kyuyo_shiharai_hokokusho", None, None)
    # A title read only roughly, or another document's title, is no such evidence.
    rough = TitleCue("kyuyo_shiharai_hokokusho", 0.8, "給与支報書（個人明細）", False)
    assert decide(None, 0.3, vote, rough).form == UNKNOWN_FORM
    assert decide(None, 0.3, vote, TitleCue(None, 0.2, "住民票の写し", True)).form == UNKNOWN_FORM


def test_dates_read_with_their_era_misread_or_run_together():
    today = date(2025, 6, 1)
    assert guess_era("birth_date", "令元年1月8日", today=today) == date(1989, 1, 8)  # 令和 has no 1月8日 in 元年
    assert guess_era("submitted_date", "令和7年5月1411", today=today) == date(2025, 5, 14)  # 日 read as 11
    assert guess_era("change_date", "411月20日", today=today) == date(2022, 11, 20)  # 年 lost: 4年11月
    assert guess_era("change_date", "58月19日", era_numbers=True, today=today) == date(2023, 8, 19)
    assert guess_era("birth_date", "10年10H9日", era_numbers=True, today=today) == date(1998, 10, 9)
    assert guess_era("change_date", "月5日", today=today) is None  # no year or month read
    # The era's number in a box: the box's edge read as 1 before it, or the number read twice; 明治55 and
    # 令和56 are no dates, so the figure before them is dropped.
    assert guess_era("change_date", "155年10月15日", era_numbers=True, today=today) == date(2023, 10, 15)
    assert guess_era("change_date", "556年9月19日", era_numbers=True, today=today) == date(2024, 9, 19)
    assert guess_era("change_date", "145年1月8日", era_numbers=True, today=today) == date(1912, 1, 8)  # 明治45


def test_headings_of_other_layouts_are_printed_matter_in_any_order():
    bigrams = printed_bigrams("idou_todokede", exclude_layout="municipal_c")
    assert is_printed("特別微收義務者（給与支払者）", bigrams)  # reordered, one letter misread
    assert is_printed("(物別徴収を継続する場合)", bigrams)
    for written in ("有限会社比嘉興業", "東京都世田谷区上祖師谷1丁目24番23号", "経理課野村香織", "取締役比嘉紀子"):
        assert not is_printed(written, bigrams), written


def test_month_read_with_its_suffix_and_a_unit_read_apart():
    # A draft that has these two fields (any layout's will do: only their types are looked at).
    fb = Fallback(templates()["idou_todokede/municipal_a"], None)  # type: ignore[arg-type]
    month = as_fallback(FieldResult("collected_through_month", "19", 0.9, False, normalized=False), fb)
    assert (month.value, month.normalized, month.review) == (1, True, True)
    assert month.confidence <= FALLBACK_CONFIDENCE
    assert as_fallback(FieldResult("collected_through_month", "7a", 0.9, False, normalized=False), fb).value == "7a"
    town = as_fallback(FieldResult("addressee_municipality", "ふじみ野市 長", 0.9, False), fb)
    assert town.value == "ふじみ野市"


def test_a_date_with_no_figure_is_the_forms_printed_units():
    fb = Fallback(templates()["idou_todokede/municipal_a"], None)  # type: ignore[arg-type]
    for printed in ("年月日", "令和 年 月 日"):
        r = as_fallback(FieldResult("change_date", printed, 0.9, False, normalized=False), fb)
        assert r.value is None and r.review, printed
    read = as_fallback(FieldResult("change_date", "5年3月", 0.9, False, normalized=False), fb)
    assert read.value == "5年3月" and read.review  # a partial date is kept for the reviewer


def test_a_blank_cell_is_not_filled_from_the_next_cell_that_has_its_own_label(engine):
    # payroll_print prints every label in the top of its own box, the counts' as units (人, 従人, 内): an empty
    # count's value is not the figure in the cell beside or under it, which has a label of its own.
    t = templates()["kyuyo_shiharai_hokokusho/payroll_print"]
    sample = generate(t, 2000, hand=True)
    gray = to_working(np.asarray(sample.image.convert("RGB")))
    c = classify(gray, [x for x in templates().values() if x.id != t.id])
    fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
    assert fb is not None
    got = read_fallback(fb, engine)
    counts = [f.key for f in t.fields if f.type == "count" and f.key.startswith(("dependents_", "disabled_"))]
    blank = [k for k in counts if sample.truth[k] is None]
    assert len(blank) >= 4  # this page leaves most counts empty
    assert {k: got[k].value for k in blank} == dict.fromkeys(blank)
    assert got["dependents_under16"].value == sample.truth["dependents_under16"] == 2


def test_a_label_at_the_top_of_a_roomy_cell_heads_the_fields_own_cell():
    from yomitori.classify.label_fallback import _heads_its_cell

    count = [(128.0, 54.0, 14.0, 9.0)]  # a printout's count box: 人 in its top corner, the figure under it
    assert _heads_its_cell((129.0, 54.3, 3.0, 3.0), count)
    # A label column's cell (フリガナ as wide as its cell) and a label centred in its cell are label cells:
    # their value is in the next cell.
    assert not _heads_its_cell((19.4, 118.2, 10.4, 3.4), [(19.2, 118.0, 10.8, 5.5)])
    assert not _heads_its_cell((12.0, 24.5, 16.0, 4.0), [(10.0, 22.0, 20.0, 9.0)])


def test_labels_compare_through_the_recognizers_usual_misreadings():
    from yomitori.classify.label_fallback import similarity, synonyms

    words = synonyms("idou_todokede", exclude_layout="municipal_c")["uncollected_tax"]
    # 徴 read as 微, and an ASCII hyphen for the minus of （ア）−（イ）.
    assert max(similarity(w, "(ウ）未微収額(ア)-(イ)") for w in words) >= 0.9


def test_a_row_of_one_character_cells_is_read_whole_up_to_the_next_label():
    from yomitori.classify.label_fallback import value_areas

    # 個人番号又は法人番号 whose cell swallowed the row's first digits (a light divider lost), then the rest
    # of the row in groups (one a little shorter: a divider's tick closed it off), then 指定番号's label cell.
    label = (23.2, 177.2, 25.9, 3.6)
    cells = [(23.0, 175.1, 56.6, 7.9), (80.1, 176.1, 15.1, 6.0), (95.6, 176.1, 10.0, 6.0),
             (105.9, 176.1, 15.1, 6.0), (121.5, 175.1, 6.5, 7.9), (128.8, 175.1, 20.0, 7.9)]
    own, _ = value_areas(label, cells, row=True, others=[(130.0, 176.0, 15.0, 3.0)])
    right = max(own, key=lambda a: a[2])
    assert right[0] == label[0] + label[2] and right[0] + right[2] == 128.0


def test_a_fax_pages_broken_rules_still_close_its_cells(engine, monkeypatch):
    # A fax (half the vertical resolution, then black and white) breaks the slightly skewed thin horizontal
    # rules into dashes: without joining them, the page's cells run together into a few full-height strips.
    from dataclasses import replace

    import yomitori.synth.generate as synth_generate
    from yomitori.synth.scan import ScanEffects

    pick = ScanEffects.pick
    monkeypatch.setattr(synth_generate.ScanEffects, "pick", staticmethod(lambda rng: replace(pick(rng), fax=True)))
    sample = synth_generate.generate(templates()[HELD_OUT], 502)
    assert sample.effects.fax and sample.dpi == 200
    gray = to_working(np.asarray(sample.image.convert("RGB")))
    fb = locate(gray, "kyuyo_shiharai_hokokusho", 0, engine, exclude_layout="payroll_print")
    assert fb is not None
    fh = fb.draft.frame[3]
    assert len(fb.cells) >= 100
    assert not [c for c in fb.cells if c[3] > fh / 2]  # no cell spans half the form's height


def test_small_printed_labels_and_a_rule_a_seal_broke(engine):
    # payroll_print, handwritten at 200 dpi: its 1.5 mm labels (住所又は居所, 受給者番号, 基礎控除額,
    # 生年月日) are too small for text detection, and are read as the heads of their cells. The recipient's red
    # seal sits on the rule under 氏名 by the frame; dropped out with its red ink, it took 10 mm of that rule.
    for seed, keys in ((4409, ("recipient_number", "basic_deduction", "birth_date")),
                       (4403, ("recipient_name", "withholding_tax", "birth_date", "payer_name", "remarks"))):
        t, sample, gray, c = _held_out_page(HELD_OUT, seed, hand=None)
        fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
        assert fb is not None
        assert {"recipient_address", *keys} <= set(fb.labels), seed
        got = read_fallback(fb, engine)
        assert [k for k in keys if got[k].value != sample.truth[k]] == [], seed


def test_a_dependents_my_number_is_the_twelve_cells_after_the_name(engine):
    # The 16歳未満 block's row numbers follow the 控除対象扶養親族 block's twelve 個人番号 cells on each row.
    t, sample, gray, c = _held_out_page(HELD_OUT, 4406, hand=None)
    fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
    got = read_fallback(fb, engine)
    keys = ("dependent_1_my_number", "dependent_2_my_number", "under16_1_my_number")
    assert all(sample.truth[k] for k in keys)
    assert [k for k in keys if got[k].value != sample.truth[k]] == []  # keys only: never print a 個人番号


def test_a_rule_stopping_short_of_the_rule_across_is_led_on_to_it():
    from yomitori.classify.page_rules import cells, rules
    from yomitori.ocr.preprocess import PX_PER_MM

    mm = round(PX_PER_MM)
    ink = np.zeros((60 * mm, 100 * mm), bool)
    ink[5 * mm, 5 * mm : 95 * mm] = ink[55 * mm, 5 * mm : 95 * mm] = True  # the frame
    ink[5 * mm : 55 * mm, 5 * mm] = ink[5 * mm : 55 * mm, 95 * mm] = True
    ink[30 * mm, 5 * mm : 85 * mm] = True  # a rule across, 10 mm of it gone with a seal by the frame
    # A label's blurred middle: a run as long as a rule, with its glyphs' ink right above and below.
    ink[40 * mm, 10 * mm : 20 * mm] = True
    ink[40 * mm - 3 : 40 * mm, 10 * mm : 20 * mm : 3] = ink[40 * mm + 1 : 40 * mm + 4, 10 * mm : 20 * mm : 3] = True
    ink[48 * mm, 12 * mm : 95 * mm] = True  # one stopping short by the page's left edge
    boxes = sorted(cells(rules(ink)), key=lambda b: b[1])
    assert len(boxes) == 3  # three cells, one over the other: the gaps closed, the label no rule
    assert boxes[0][3] < 30 and 25 < boxes[1][1] < 35 and boxes[2][1] > 45


def test_a_title_among_amounts_printed_as_large_is_found_by_detection():
    # payroll_print in bold print at 200 dpi: its amounts are as tall as its title, so the quick read of the top
    # band's tallest lines reads amounts (a readable title of no form of ours), and the CNN says unknown. The
    # title is found among the band's detected lines, and names the form: the fallback reads it.
    _, _, _, c = _held_out_page(HELD_OUT, 4412, hand=None)
    assert (c.form, c.layout) == ("kyuyo_shiharai_hokokusho", None)


def test_a_faxs_labels_with_half_their_letters_wrong_still_place_its_fields(engine):
    # payroll_print faxed at 200 dpi: its 1.5 mm labels read 件所又以眉所, 阿得控除心計; on a bilevel page a line
    # as near as 0.45 to a label's wording is taken for it (0.6 elsewhere), the other layouts' positions deciding.
    t, sample, gray, c = _held_out_page(HELD_OUT, 5772165, hand=None)
    assert sample.effects.fax and sample.dpi == 200
    fb = locate(gray, t.form, c.rotation, engine, exclude_layout=t.layout)
    got = read_fallback(fb, engine)
    keys = ("recipient_address", "total_deductions", "payer_name", "payer_address", "payer_number")
    assert [k for k in keys if got[k].value != sample.truth[k]] == []


def test_a_page_without_an_outer_frame_is_read_within_the_extent_of_its_print(engine):
    # A payroll printout of boxed sections, or none at all, has no single outer frame: the page is mapped by
    # what it prints instead, and its labels are found all the same.
    import cv2

    from yomitori.classify.page_rules import page_corners
    from yomitori.ocr.preprocess import find_frame

    t = templates()["idou_todokede/municipal_b"]
    sample = generate(t, 3001, hand=False, clean=True)
    gray = to_working(np.asarray(sample.image.convert("RGB")))
    framed = find_frame(gray)
    assert np.abs(page_corners(gray) - framed).max() == 0  # a frame that holds the print is the frame
    cv2.polylines(gray, [framed.astype(np.int32).reshape(-1, 1, 2)], True, 255, 12)
    assert find_frame(gray) is None
    corners = page_corners(gray)
    assert np.abs(corners - framed).max() < 40  # the print stands where the frame was, within a margin
    fb = locate(gray, t.form, 0, engine, exclude_layout=t.layout)
    assert fb is not None and len(fb.pending) >= 25


def test_a_form_printed_in_red_keeps_its_print_and_loses_its_seals() -> None:
    """Seals are dropped (they must not corrupt the text under them); a form printed in red or brown is the
    form: its rules, labels and title are what classification and the layout-free reader read."""
    from PIL import Image, ImageDraw

    from yomitori.ocr.preprocess import PX_PER_MM, drop_red

    mm = PX_PER_MM
    page = Image.new("RGB", (round(200 * mm), round(120 * mm)), "white")
    draw = ImageDraw.Draw(page)
    brown = (150, 60, 35)
    draw.rectangle((10 * mm, 10 * mm, 190 * mm, 110 * mm), outline=brown, width=4)  # the form's frame
    draw.rectangle((20 * mm, 20 * mm, 60 * mm, 23 * mm), fill=brown)  # a label's worth of red print
    draw.ellipse((120 * mm, 60 * mm, 132 * mm, 72 * mm), outline=(205, 40, 45), width=5)  # a 印影
    gray = drop_red(np.asarray(page))
    assert gray[round(10 * mm), round(100 * mm)] < 128  # the frame stays
    assert gray[round(21.5 * mm), round(40 * mm)] < 128  # the label stays
    assert gray[round(66 * mm), round(120 * mm) + 2] > 200  # the seal goes
