"""A line image holding only a rule's strokes is not read; any line with a letter in it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from yomitori.extract import recognize_lines
from yomitori.ocr.engine import Reading
from yomitori.ocr.fields import Line
from yomitori.ocr.rule_strokes import only_rule_strokes

FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")


def text_line(text: str, size: int = 28) -> np.ndarray:
    """A line as the field reader cuts it: tight around the ink, padded in white."""
    if not FONT.exists():
        pytest.skip(f"font {FONT} missing (apt-get install fonts-ipafont)")
    font = ImageFont.truetype(str(FONT), size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 12, bottom - top + 12), 255)
    ImageDraw.Draw(img).text((6 - left, 6 - top), text, font=font, fill=0)
    return np.asarray(img)


def dashed(width: int = 1000, height: int = 14, dash: int = 32, gap: int = 14, thick: int = 3, tilt: int = 0,
           rows: tuple[int, ...] = (6,)) -> np.ndarray:
    """A band of a dashed guide line, as a value area found by its label takes it in (2–3 px of ink)."""
    img = np.full((height, width), 255, np.uint8)
    for y in rows:
        for x in range(4, width - 4 - dash, dash + gap):
            for k in range(dash):
                dy = y + (k * tilt) // dash
                img[dy : dy + thick, x + k] = 40
    return img


def test_dashed_dotted_tilted_and_solid_rules_are_only_rule_strokes() -> None:
    assert only_rule_strokes(dashed())
    assert only_rule_strokes(dashed(height=40, rows=(8, 28)))  # two guide lines in one band
    assert only_rule_strokes(dashed(dash=3, gap=9))  # dotted
    assert only_rule_strokes(dashed(tilt=2))  # a skewed scan's dashes
    solid = np.full((12, 900), 255, np.uint8)
    solid[5:8, 10:890] = 0
    assert only_rule_strokes(solid)
    wall = dashed()  # a cell's wall meeting the guide line: a low tick
    wall[1:13, 500:502] = 0
    assert only_rule_strokes(wall)


def test_a_letter_on_the_line_or_a_short_stroke_is_read() -> None:
    for text in ("1,234,000", "山田 太郎", "ヤマダ タロウ", "令和6年4月1日", "1"):
        assert not only_rule_strokes(text_line(text)), text
    # Letters of thin strokes only, as a value is cut: narrower than any rule.
    for text in ("一", "ー", "-", "二", "三"):
        assert not only_rule_strokes(text_line(text)), text
    one = dashed(height=40, rows=(30,))  # a written 1 standing on the guide line, touching it
    one[4:33, 400:403] = 0
    assert not only_rule_strokes(one)
    short = np.full((12, 900), 255, np.uint8)  # a dash or two in a wide line do not make a rule
    short[5:8, 400:440] = 0
    assert not only_rule_strokes(short)
    assert not only_rule_strokes(np.full((30, 900), 255, np.uint8))  # blank: the recognizer says so


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def recognize(self, lines, charsets) -> list[Reading]:
        self.seen += list(lines)
        return [Reading(f"{cs}:{line.shape[1]}", 0.9, (0.9,)) for line, cs in zip(lines, charsets, strict=True)]


def test_rule_lines_are_not_given_to_either_reader_and_read_as_nothing() -> None:
    value = text_line("1,234,000")
    lines = [Line(dashed(), "any"), Line(value, "amount"), Line(dashed(dash=3, gap=9), "digits")]
    first, second = Recorder(), Recorder()
    readings, seconds = recognize_lines(lines, first, second)
    assert [r.text for r in readings] == ["", f"amount:{value.shape[1]}", ""]
    assert readings[0] == Reading("", 0.0)  # what a recognizer returns for a line it reads nothing on
    assert seconds is not None and [r.text for r in seconds] == [r.text for r in readings]
    assert [im.shape for im in first.seen] == [value.shape] == [im.shape for im in second.seen]
    assert recognize_lines([Line(dashed(), "any")], first, None) == ([Reading("", 0.0)], None)


def test_the_recognizer_reads_a_blank_line_as_the_skipped_reading() -> None:
    from yomitori.ocr.engine import get_engine

    blank = np.full((40, 900), 255, np.uint8)
    assert get_engine("ppocr", threads=1).recognize([blank], ["any"]) == [Reading("", 0.0)]
