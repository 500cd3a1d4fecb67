"""Which printed label is which field's, over the whole page, and what a label's value area is (no OCR)."""

from datetime import date

from yomitori.classify.label_fallback import (
    Detected,
    Fallback,
    as_fallback,
    match_labels,
    row_number,
    value_areas,
)
from yomitori.forms_templates import templates
from yomitori.ocr.fields import FieldResult

FORM = "kyuyo_shiharai_hokokusho"
FRAME = (10.0, 10.0, 190.0, 277.0)


def _line(y: float, text: str, x: float = 17.0) -> Detected:
    return Detected((x, y, 4.0 * len(text), 4.0), text)


def test_the_recipients_name_printed_below_numbered_rows_of_names_is_the_recipients():
    # A municipality's list of labels down the left: three rows of dependents, a child under 16, and the
    # recipient's own 氏名（漢字） at the foot of the page (where no bundled layout prints it). A dependent row
    # that is not on the page must not take the recipient's label for its 氏名.
    lines = [_line(178, "控除対象扶養親族の氏名等（1）氏名"), _line(203, "控除対象扶養親族2氏名"),
             _line(219, "扶養親族（3）氏名"), _line(227, "16歳未満扶養親族（1）氏名"), _line(242, "現住所"),
             _line(251, "受給者の個人番号"), _line(257, "氏名（漢字）"), _line(79, "受給者生年月日")]
    found = match_labels(FORM, lines, FRAME)
    assert found["recipient_name"].text == "氏名（漢字）"
    assert [found[f"dependent_{n}_name"].text for n in (1, 2, 3)] == [
        "控除対象扶養親族の氏名等（1）氏名", "控除対象扶養親族2氏名", "扶養親族（3）氏名"]
    assert found["under16_1_name"].text == "16歳未満扶養親族（1）氏名"
    assert not any(k.startswith(("dependent_4", "under16_2", "under16_3", "under16_4")) for k in found)


def test_a_furigana_is_the_reading_of_the_name_whose_label_follows_it():
    # A payroll printout's recipient block at the foot of the page: フリガナ and 従業員氏名 on one row, the
    # spouse's 氏名 on the row under it. The bundled layouts print the recipient's フリガナ near the top, so
    # position alone would give this one to a dependent row or to the spouse.
    lines = [_line(90, "控除対象扶養親族の氏名等（1）氏名"), _line(97, "扶養親族1個人番号"),
             _line(232, "住所・居所"), _line(238, "フリガナ"), _line(238, "従業員氏名", x=130.0),
             _line(245, "控除対象配偶者名"), _line(252, "受給者生年月日")]
    found = match_labels(FORM, lines, FRAME)
    assert found["recipient_name"].text == "従業員氏名"
    assert found["recipient_name_kana"].box == lines[3].box
    assert found["spouse_name"].text == "控除対象配偶者名"
    # … and a フリガナ over its own name's label is that person's, wherever the page prints the pair.
    lines = [_line(40, "受給者氏名"), _line(200, "フリガナ"), _line(206, "控除対象配偶者の氏名")]
    found = match_labels(FORM, lines, FRAME)
    assert found["spouse_name_kana"].box == lines[1].box


def test_a_label_printing_its_rows_number_labels_that_row():
    assert row_number("控除対象扶養親族の氏名等（1）氏名") == 1
    assert row_number("扶養親族②氏名") == 2
    assert row_number("16歳未満の扶養親族1個人番号") == 1  # not the 16 of 16歳未満
    assert row_number("16歳未満扶養親族の数") is None
    assert row_number("氏名（漢字）") is None


def test_the_next_cell_is_never_the_section_round_the_labels_own():
    # 個人番号又は法人番号 fills its cell; two walls on (a gap between the boxes), thirteen one-digit cells;
    # all of it inside the section's big cell, which a point in the gap also falls in.
    label = (24.0, 93.0, 37.0, 5.0)
    digits = [(64.9 + 7.7 * n, 91.9, 7.1, 7.9) for n in range(13)]
    cells = [(21.5, 37.0, 167.1, 223.0), (23.8, 91.0, 39.0, 9.5), *digits]
    own, beside = value_areas(label, cells, row=True)
    assert not own
    assert beside[0][0] == 64.9 and beside[0][1] == 91.9  # the row of digits, not the section
    assert all(a != cells[0] for a in beside)


def test_a_birth_date_to_come_is_read_again_with_its_era_guessed():
    # 昭和63年 with the printed 令 of 明大昭平令 read before the figures: 令和63年 is 2081.
    fb = Fallback(templates()[f"{FORM}/national"], None)  # type: ignore[arg-type]
    r = as_fallback(FieldResult("birth_date", "2081-01-04", 0.9, False, raw="令63年1月4日"), fb)
    assert r.value == "1988-01-04" and r.review
    kept = as_fallback(FieldResult("birth_date", "1988-01-04", 0.9, False, raw="昭和63年1月4日"), fb)
    assert kept.value == "1988-01-04"
    assert date.fromisoformat(kept.value) < date.today()
