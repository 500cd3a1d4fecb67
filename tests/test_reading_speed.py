"""Reading a page no template describes with less work and the same results: a field's further candidate places
read only when the nearer ones give no value of its type, the page's orientation that reads tried before one
whose lines run down, and cheap bounds that skip similarity ratios that cannot matter."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from yomitori.classify import label_fallback, page_reading, page_text
from yomitori.forms_templates.schema import FieldTemplate
from yomitori.ocr.engine import Reading
from yomitori.ocr.fields import FieldResult, Line, Pending, read_in_rounds


def _amount_places(monkeypatch, n: int = 3) -> tuple[list[FieldTemplate], SimpleNamespace]:
    """`n` candidate places of an amount, each one line whose image is its place number; a reading that is all
    figures is an amount."""
    def plan(_reg, f: FieldTemplate) -> Pending:
        def finish(rs: list[Reading]) -> FieldResult:
            text = rs[0].text if rs else None
            return FieldResult(f.key, text, 0.9, False, normalized=bool(text) and text.isdigit(), box=f.box)
        return Pending([Line(np.full((1, 1), int(f.box[0]), np.uint8), "any")], finish)

    monkeypatch.setattr(label_fallback, "plan_field", plan)
    options = [FieldTemplate(key="payment_amount", type="amount", box=(i, 0, 10, 5)) for i in range(n)]
    return options, SimpleNamespace(marks=None, era_numbers=False, chosen={})


def _readers(*texts_by_reader: dict[int, str]):
    """Readers that read each place's line as given; every line they are given is counted (read by each)."""
    asked: list[int] = []

    def read(lines: list[Line]) -> list[list[Reading]]:
        asked.extend(int(ln.image[0, 0]) for ln in lines)
        return [[Reading(texts.get(int(ln.image[0, 0]), ""), 0.9) for ln in lines] for texts in texts_by_reader]

    return read, asked


def test_the_second_place_is_read_only_when_the_first_gives_no_amount(monkeypatch):
    options, fb = _amount_places(monkeypatch)
    pending = label_fallback._first_fitting(None, options, fb)
    read, asked = _readers({0: "125000", 1: "9", 2: "7"}, {0: "125000", 1: "9", 2: "7"})
    by_reader = read_in_rounds([pending], read)
    assert asked == [0]  # the nearest place only (by both readers): the others are never read
    assert pending.finish(by_reader[0]).value == "125000" and fb.chosen["payment_amount"] is options[0]

    options, fb = _amount_places(monkeypatch)
    pending = label_fallback._first_fitting(None, options, fb)
    # The nearest place holds the printed 円 only (or the second reader misread it): the next place is read.
    read, asked = _readers({0: "円", 1: "48000", 2: "7"}, {0: "125000", 1: "48000", 2: "7"})
    first, second = read_in_rounds([pending], read)
    assert asked == [0, 1]
    assert pending.finish(first).value == "48000" and fb.chosen["payment_amount"] is options[1]
    assert pending.finish(second).value == "125000"  # the reader that found an amount at once keeps it


def test_with_no_place_giving_an_amount_every_place_is_read_and_the_nearest_written_kept(monkeypatch):
    options, fb = _amount_places(monkeypatch)
    pending = label_fallback._first_fitting(None, options, fb)
    read, asked = _readers({0: "", 1: "円", 2: "人"})
    (readings,) = read_in_rounds([pending], read)
    assert asked == [0, 1, 2]
    assert pending.finish(readings).value == "円" and fb.chosen["payment_amount"] is options[1]


@pytest.mark.parametrize("seed", range(20))
def test_lazy_places_pick_what_reading_every_place_picks(monkeypatch, seed):
    rnd = random.Random(seed)
    texts = [{i: rnd.choice(["", "円", "12", "3400", "x9"]) for i in range(3)} for _ in range(2)]
    options, fb = _amount_places(monkeypatch)
    lazy = label_fallback._first_fitting(None, options, fb)
    by_reader = read_in_rounds([lazy], _readers(*texts)[0])
    got = [lazy.finish(rs).value for rs in by_reader]
    options, fb = _amount_places(monkeypatch)
    eager = label_fallback._first_fitting(None, options, fb)
    while lines := eager.more([[Reading("", 0.0)] * len(eager.lines)] * 2):  # open every place: all read
        eager.lines.extend(lines)
    every = _readers(*texts)[0](eager.lines)
    assert got == [eager.finish(rs).value for rs in every]


def test_rounds_keep_plan_order_across_fields_and_read_decided_fields_not_at_all():
    decided = Pending([], lambda _rs: FieldResult("a", None, 0.99, False))
    extra = [Line(np.full((1, 1), 9, np.uint8), "any")]
    asked = []
    grows = Pending([Line(np.full((1, 1), 1, np.uint8), "any")], lambda rs: FieldResult("b", len(rs), 1.0, True),
                    lambda got: extra if len(got[0]) == 1 else [])
    plain = Pending([Line(np.full((1, 1), 2, np.uint8), "any")], lambda rs: FieldResult("c", len(rs), 1.0, True))

    def read(lines):
        asked.append([int(ln.image[0, 0]) for ln in lines])
        return [[Reading(str(int(ln.image[0, 0])), 1.0) for ln in lines]]

    (readings,) = read_in_rounds([decided, grows, plain], read)
    assert asked == [[1, 2], [9]]
    assert [r.text for r in readings] == ["1", "9", "2"]  # in plan order: grows' two lines, then plain's


def _text_page() -> np.ndarray:
    """A page of lines of printed text across it, and a frame."""
    import cv2
    from PIL import Image, ImageDraw

    from yomitori.forms_templates.fonts import LABEL_FONT, pil_font, require

    page = Image.new("L", (1680, 2376), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((120, 120, 1560, 2256), outline=0, width=3)
    font = pil_font(require(LABEL_FONT), 36)
    for i in range(12):
        draw.text((200, 220 + i * 160), "給与支払報告書の支払金額と源泉徴収税額", font=font, fill=0)
    return cv2.GaussianBlur(np.asarray(page), (3, 3), 0)


def test_a_page_on_its_side_is_told_by_its_lines_before_they_are_read():
    page = _text_page()
    engine = SimpleNamespace(name="fake", threads=1, recognize=lambda crops, cs: pytest.fail("nothing is read"))
    assert not page_reading.lines_run_down(page, 0, engine)
    assert page_reading.lines_run_down(page, 90, engine) and page_reading.lines_run_down(page, 270, engine)


def test_the_turns_that_lay_a_sideways_page_flat_are_read_first(monkeypatch):
    read: list[int] = []
    monkeypatch.setattr(page_text, "lines_run_down", lambda gray, rotation, engine: rotation in (0, 180))
    monkeypatch.setattr(page_text, "read_page", lambda gray, rotation, engine: read.append(rotation))
    page_text.text_verdict(np.zeros((4, 4), np.uint8), SimpleNamespace(), first_orientation=0)
    assert read == [270, 90, 0, 180]  # no form named: every turn still tried, the flat ones first
    read.clear()
    monkeypatch.setattr(page_text, "lines_run_down", lambda gray, rotation, engine: False)
    page_text.text_verdict(np.zeros((4, 4), np.uint8), SimpleNamespace(), first_orientation=0)
    assert read == [0, 180, 270, 90]


def test_the_letter_bound_never_falls_below_a_similarity():
    from yomitori.classify.title_cues import similarity

    rnd = random.Random(0)
    letters = "給与支払報告書個人別明細総括表異動届出の所得税額円12"
    for _ in range(2000):
        a = "".join(rnd.choice(letters) for _ in range(rnd.randint(0, 30)))
        b = "".join(rnd.choice(letters) for _ in range(rnd.randint(1, 20)))
        assert page_text._Letters(a).bound(page_text._Letters(b)) >= similarity(a, b)


def test_a_line_sharing_no_letter_with_a_label_reads_as_it_not_at_all():
    assert label_fallback.similarity("支払金額", "氏名（フリガナ）") == 0.0
    assert label_fallback.similarity("支払金額", "支払額") > 0.5
