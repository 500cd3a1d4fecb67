"""Read each field of a registered page: marks by image analysis, writing by the recognizer.

Reading is split in two so recognition can be batched across fields and pages: `plan_field` cuts the
line images a field needs (or decides it outright: blank, a checkbox, a circled option), and the
returned `Pending.finish` turns the recognizer's readings into a `FieldResult`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import pairwise

import cv2
import numpy as np

from yomitori.forms_templates.schema import Charset, FieldTemplate, Option
from yomitori.values import NormalizationError, normalize
from yomitori.wareki import WarekiError, to_gregorian

from . import preprocess
from .engine import Reading
from .japanese import (
    NAME_KEYS_SUFFIX,
    ambiguous_variants,
    common_name_forms,
    fix_address,
    fix_company_name,
    fix_kana,
    fix_text,
)
from .lexicon import fix_entity_words, fix_municipality, fix_payment_type, fix_place_names, fix_remarks
from .preprocess import Registered, grow_kernel, mm2_px, mm_px

Box = tuple[float, float, float, float]
BLANK_INK = 0.004  # share of a writing area that must be ink for it to count as written
MIN_INK_MM2 = 0.47  # and at least this much ink (30 px at 8 px/mm)
CHECK_INK = 0.05
MARK_INK = 0.025
REVIEW_BELOW = 0.9
NOISE_WORD = 0.5
COMPANY_NAME_KEYS = ("payer_name", "new_employer_name")


@dataclass
class FieldResult:
    key: str
    value: object
    confidence: float
    review: bool
    raw: str | None = None
    reasons: list[str] = field(default_factory=list)
    box: Box | None = None
    read: bool = False  # the recognizer read it (not decided by ink alone: blank, marks)
    raw_confidence: float = 0.0  # the recognizer's own: its least sure character
    char_confidences: tuple[float, ...] = ()
    gate_features: tuple[float, ...] = ()  # what the confidence gate saw (kept for calibration)
    normalized: bool = True  # False: the reading is no valid value of the field's type (kept raw)
    second: object = None  # the value an independent second reading of the same crops gave
    agreement: bool | None = None  # whether that second reading agrees (None: no second reading)
    second_confidences: tuple[float, ...] = ()  # the second reader's character probabilities

    @property
    def alternatives(self) -> list[object]:
        """Other values a reviewer may pick: the second reading, when it differs."""
        return [self.second] if self.agreement is False and self.second is not None else []


@dataclass(frozen=True)
class Line:
    image: np.ndarray
    charset: Charset


@dataclass
class Pending:
    lines: list[Line]
    finish: Callable[[list[Reading]], FieldResult]
    # A value with several places it may be written in (a field located without a template): given each reader's
    # readings of `lines` so far, the lines of the next place still worth reading (none: the value is found).
    # `read_in_rounds` appends them to `lines`. None: every line is known up front.
    more: Callable[[Sequence[Sequence[Reading]]], list[Line]] | None = None


def read_in_rounds(pending: Sequence[Pending], read: Callable[[list[Line]], list[list[Reading]]]
                   ) -> list[list[Reading]]:
    """Every planned line read: per reader, its readings of each pending's lines in plan order. `read(lines)` gives
    each reader's reading of every line (a list per reader, at least one, also for no lines). A pending with
    `more` asks for its further lines after each round, and those of every pending are read together: a second
    or third candidate place is read only where the places before it gave no value."""
    new = read([ln for p in pending for ln in p.lines])
    got: list[list[list[Reading]]] = []  # per pending, per reader
    cursor = 0
    for p in pending:
        got.append([list(by[cursor : cursor + len(p.lines)]) for by in new])
        cursor += len(p.lines)
    todo = [i for i, p in enumerate(pending) if p.more is not None]
    while todo := [i for i in todo if _extended(pending[i], pending[i].more(got[i]))]:  # type: ignore[misc]
        new = read([ln for i in todo for ln in pending[i].lines[len(got[i][0]) :]])
        cursor = 0
        for i in todo:
            n = len(pending[i].lines) - len(got[i][0])
            for mine, by in zip(got[i], new, strict=True):
                mine += by[cursor : cursor + n]
            cursor += n
    return [[r for per in got for r in per[k]] for k in range(len(new))]


def _extended(p: Pending, lines: list[Line]) -> bool:
    p.lines.extend(lines)
    return bool(lines)


def plan_field(reg: Registered, f: FieldTemplate) -> Pending:
    if f.kind == "checkbox":
        return _decided(_checkbox(reg, f))
    if f.kind == "choice":
        return _written_choice(reg, f) if f.mark == "write" else _decided(_choice(reg, f))
    if f.kind == "date":
        return _date(reg, f)
    area = _writing_area(f)
    if not _written(reg, area):
        return _decided(_faint(f) if _faint_writing(reg, area) else _blank(f))
    if f.kind == "cells":
        return _cells(reg, f)
    lines = split_lines(without_seals(_clean_crop(reg, area)), f.lines)
    if not lines:
        return _decided(_blank(f))
    gaps = [ink_gaps(line) if f.allowed in ("any", "kana") else () for line in lines]
    if "address" in f.key:  # a letter's width on each line, as a share of it: where 丁目's 目 stands
        letters = [char_height(line < 200) / line.shape[1] for line in lines]
        return Pending([Line(img, f.allowed) for img in lines],
                       lambda rs: _text_result(f, [whole_chome(r, w) for r, w in zip(rs, letters, strict=True)], gaps))
    return Pending([Line(img, f.allowed) for img in lines], lambda rs: _text_result(f, rs, gaps))


def _decided(result: FieldResult) -> Pending:
    return Pending([], lambda _readings: result)


def _blank(f: FieldTemplate) -> FieldResult:
    return FieldResult(f.key, None, 0.99, False, box=f.box)


def _faint(f: FieldTemplate) -> FieldResult:
    """Blank by the ink rule, but with ink enough for a few thin letters: a person looks."""
    return FieldResult(f.key, None, 0.5, True, box=f.box, reasons=["記入が薄く、空欄か判断できません"])


# ---------------------------------------------------------------- geometry and ink


INSET_MM = 0.25  # a field's ink is looked for this far inside its ruled box
KEEP_MM = 0.125  # a crop keeps the gray this far around the ink (anti-aliased stroke edges)
STROKE_MIN_MM2 = 0.19  # the least ink a lone character stroke has
GLYPH_MIN_MM2 = 0.09  # a line's components smaller than this are no character parts


def _px(box: Box, inset_mm: float = 0.0) -> tuple[int, int, int, int]:
    x, y, w, h = box
    px_per_mm, inset_px = preprocess.PX_PER_MM, mm_px(inset_mm)
    x0, y0 = round(x * px_per_mm) + inset_px, round(y * px_per_mm) + inset_px
    x1, y1 = round((x + w) * px_per_mm) - inset_px, round((y + h) * px_per_mm) - inset_px
    return x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)


def crop_box(page: np.ndarray, box: Box, margin_mm: float = 2.0) -> np.ndarray:
    """The image of a field on a registered page (`PageResult.image`), with a margin, for reviewers."""
    x, y, w, h = box
    x0, y0, x1, y1 = _px((x - margin_mm, y - margin_mm, w + 2 * margin_mm, h + 2 * margin_mm))
    return page[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]


def _writing_area(f: FieldTemplate) -> Box:
    """The box less the label printed inside its top (the blank form is subtracted anyway)."""
    x, y, w, h = f.box
    if f.label_box:
        lx, ly, lw, lh = f.label_box
        if lx >= x - 0.01 and ly >= y - 0.01 and ly + lh <= y + h * 0.6 and lx + lw <= x + w + 0.01:
            cut = ly + lh - y
            return x, y + cut * 0.6, w, h - cut * 0.6
    return f.box


STROKE_MM = 1.6  # a lone "1" or "0" is a single stroke about this tall; specks and line remnants are not


def _written(reg: Registered, box: Box) -> bool:
    """Whether anything is written in the box: enough ink, or one character-sized stroke (a lone 1)."""
    if _ink_share(reg, box) >= BLANK_INK and _ink_px(reg, box) >= mm2_px(MIN_INK_MM2):
        return True
    x0, y0, x1, y1 = _px(box, INSET_MM)
    ink = reg.ink[y0:y1, x0:x1].astype(np.uint8)
    if ink.sum() < mm2_px(MIN_INK_MM2) // 3:
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    for left, top, w, h, area in stats[1:]:
        inside = left > 0 and top > 0 and left + w < ink.shape[1] and top + h < ink.shape[0]
        if inside and h >= STROKE_MM * preprocess.PX_PER_MM and area >= mm2_px(STROKE_MIN_MM2) and w <= h * 3:
            return True
    return False


def _faint_writing(reg: Registered, box: Box) -> bool:
    """Too little ink for writing by its share of a wide box, yet several times the least a letter leaves: thin
    handwritten kana in a 70 mm box (ミナミ ユミコ at 200 dpi, 0.37 % of the box). On 240 calibration pages no
    blank field came near this, and the one written field the ink rule missed did."""
    return _ink_px(reg, box) >= mm2_px(MIN_INK_MM2) and _ink_share(reg, box) >= BLANK_INK / 2


def _ink_px(reg: Registered, box: Box) -> int:
    x0, y0, x1, y1 = _px(box, INSET_MM)
    return int(reg.ink[y0:y1, x0:x1].sum())


def _ink_share(reg: Registered, box: Box) -> float:
    x0, y0, x1, y1 = _px(box, INSET_MM)
    region = reg.ink[y0:y1, x0:x1]
    return float(region.mean()) if region.size else 0.0


def _clean_crop(reg: Registered, box: Box) -> np.ndarray:
    """The writing in the box on white paper: printed matter and specks removed."""
    x0, y0, x1, y1 = _px(box, INSET_MM)
    ink = reg.ink[y0:y1, x0:x1]
    keep = cv2.dilate(ink.astype(np.uint8), grow_kernel(KEEP_MM)).astype(bool) | reg.faint_ink[y0:y1, x0:x1]
    keep = _joined(keep, reg.light_ink[y0:y1, x0:x1])
    return np.where(keep, reg.gray[y0:y1, x0:x1], 255).astype(np.uint8)


def _joined(keep: np.ndarray, light: np.ndarray) -> np.ndarray:
    """`keep` grown over the light pixels connected to it (hysteresis): a stroke too light for the ink mask
    stays when it belongs to a letter the mask found."""
    grown = keep | light
    n, labels = cv2.connectedComponents(grown.view(np.uint8), connectivity=8)
    if n <= 1:
        return keep
    joined = np.zeros(n, bool)
    joined[labels[keep]] = True
    joined[0] = False
    return joined[labels] & grown


# A seal the scan kept black (a fax, a grayscale scan: red dropout cannot see it) beside a name: a ring or a square
# outline at least SEAL_MM across, much taller than the writing beside it, around letters of its own. Read with the
# line it shrinks the name to a third of the recognizer's height (本田 由美子 and its seal read 山).
SEAL_MM = 7.0
SEAL_OVER_TEXT = 1.4  # the seal is at least this many times as tall as the writing beside it
SEAL_HOLE = 0.45  # share of the outline's inside that is paper or letters apart from the ring


def without_seals(crop: np.ndarray) -> np.ndarray:
    """The crop with each black seal (its outline and the letters wholly inside it) turned to paper."""
    if min(crop.shape[:2]) < SEAL_MM * preprocess.PX_PER_MM:
        return crop
    ink = (crop < 200).astype(np.uint8)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))  # a fax's gaps in the ring
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    out, parts = crop, None
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if h < SEAL_MM * preprocess.PX_PER_MM or not 0.6 <= w / h <= 1.6:
            continue
        # A ring or a box around letters: mostly paper inside. The crop may cut the seal off (it is stamped across
        # the box's rule), and then its outline is open: it is judged by its height alone.
        cut = x == 0 or y == 0 or x + w == ink.shape[1] or y + h == ink.shape[0]
        ring = np.pad((labels[y : y + h, x : x + w] == k).astype(np.uint8), 1)
        cv2.floodFill(ring, None, (0, 0), 2)  # the paper around the outline
        filled = np.count_nonzero(ring != 2)  # the outline and everything it encloses
        if not cut and (filled == 0 or 1.0 - area / filled < SEAL_HOLE):
            continue
        beside = ink.copy()
        beside[:, x : x + w] = 0
        rows = np.flatnonzero(beside.any(axis=1))
        if rows.size == 0 or h < SEAL_OVER_TEXT * (rows[-1] - rows[0] + 1):
            continue
        whole = np.zeros(ink.shape, bool)
        whole[y : y + h, x : x + w] = True
        if parts is None:  # the unclosed ink's pieces: a name letter touching the seal's box is no part of it
            parts = cv2.connectedComponents(ink, connectivity=8)[1]
        outside = np.unique(parts[~whole & (ink > 0)])
        drop = (ink > 0) & whole & ~np.isin(parts, outside)
        drop = cv2.dilate(drop.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & whole  # stroke edges
        out = np.where(drop, 255, out).astype(np.uint8)
    return out


def split_lines(crop: np.ndarray, max_lines: int) -> list[np.ndarray]:
    """Tight, padded images of the text lines in a crop (at most `max_lines`)."""
    ink = crop < 200
    rows = np.flatnonzero(ink.sum(axis=1) > 0)
    if rows.size == 0:
        return []
    # Bands of inked rows; specks apart from the writing dropped (a remnant above a single line made it twice as
    # tall and 2,488,000 was read 288,000); then the closest bands merged until at most max_lines remain.
    bands: list[list[int]] = []
    profile = ink.sum(axis=1)
    start = None
    for y, v in enumerate(profile):
        if v > 0 and start is None:
            start = y
        elif v == 0 and start is not None:
            bands.append([start, y])
            start = None
    if start is not None:
        bands.append([start, len(profile)])
    tallest = max(b[1] - b[0] for b in bands)
    bands = [b for b in bands if b[1] - b[0] >= tallest * 0.25]
    while len(bands) > max_lines:
        gaps = [bands[i + 1][0] - bands[i][1] for i in range(len(bands) - 1)]
        i = int(np.argmin(gaps))
        bands[i : i + 2] = [[bands[i][0], bands[i + 1][1]]]
    while len(bands) < max_lines and (split := _touching_lines(profile, bands)) is not None:
        bands = split
    out = []
    for y0, y1 in bands:
        band = ink[y0:y1]
        cols = np.flatnonzero(band.sum(axis=0) > 0)
        if cols.size == 0:
            continue
        img = crop[y0:y1, cols[0] : cols[-1] + 1]
        out.append(_pad(img))
    return out


# Two written lines that touch (a descender on the one, the next line's top) make one band of ink; across its
# middle (TOUCH_MIDDLE of its height) a row this thin (TOUCH_INK of its rows' median ink) is the seam between them.
# Across a single line of text every middle row crosses many strokes.
TOUCH_MIDDLE, TOUCH_INK = (0.3, 0.7), 0.25


def _touching_lines(profile: np.ndarray, bands: list[list[int]]) -> list[list[int]] | None:
    """The bands with the tallest cut in two at the seam of two touching lines, or None when it has none."""
    i = max(range(len(bands)), key=lambda k: bands[k][1] - bands[k][0])
    y0, y1 = bands[i]
    rows = profile[y0:y1]
    lo, hi = round(len(rows) * TOUCH_MIDDLE[0]), round(len(rows) * TOUCH_MIDDLE[1])
    inked = rows[rows > 0]
    if hi <= lo or inked.size == 0:
        return None
    seam = lo + int(np.argmin(rows[lo:hi]))
    if rows[seam] > TOUCH_INK * float(np.median(inked)):
        return None
    return [*bands[:i], [y0, y0 + seam], [y0 + seam + 1, y1], *bands[i + 1 :]]


@dataclass(frozen=True)
class Gap:
    """A run of blank columns in a line image."""

    start: float  # left edge, as a fraction of the line's width
    end: float
    size: float  # width in character heights


WORD_GAP = 0.8  # a gap this many character heights wide is a word space (a full-width space is ~1.1)
KANA_GAP = 1.1  # between two kana: narrow kana (ノ, small ョ) leave wide gaps inside a word
DIGIT_GAP = 1.4  # between two digits: full-width digits stand almost a character height apart


def char_height(ink: np.ndarray) -> float:
    """The height of this line's characters, robust to a taller speck or stamp remnant."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT][stats[1:, cv2.CC_STAT_AREA] >= mm2_px(GLYPH_MIN_MM2)]
    rows = np.flatnonzero(ink.any(axis=1))
    line_h = rows[-1] - rows[0] + 1 if rows.size else 1
    # Kanji break into several components (radicals), so the upper quartile is a character's height.
    return float(min(line_h, np.percentile(heights, 75))) if heights.size else float(line_h)


def ink_gaps(line: np.ndarray) -> tuple[Gap, ...]:
    """Gaps in a padded line image wide enough to be word spaces somewhere (see `spaced_words`)."""
    ink = line < 200
    xs = np.flatnonzero(ink.any(axis=0))
    if xs.size < 2:
        return ()
    h = max(0.5 * preprocess.PX_PER_MM, char_height(ink))
    width = line.shape[1]
    jumps = np.flatnonzero(np.diff(xs) > h * WORD_GAP)
    return tuple(Gap((xs[j] + 1) / width, xs[j + 1] / width, (xs[j + 1] - xs[j] - 1) / h) for j in jumps)


Word = list[tuple[str, float]]


def spaced_words(reading: Reading, gaps: tuple[Gap, ...]) -> list[Word]:
    """The reading cut into words where the ink has a word-wide gap between two characters.

    PP-OCR rarely emits the space between 姓 and 名 or between an address and a building name, so the
    spaces come from the image. An engine that gives no character positions keeps its own spaces.
    """
    confs = list(reading.char_confidences) or [reading.confidence] * len(reading.text)
    if not reading.positions or len(reading.positions) != len(reading.text):
        words: list[Word] = [[]]
        for ch, c in zip(reading.text, confs, strict=False):
            if ch == " ":
                words.append([])
            else:
                words[-1].append((ch, c))
        return [w for w in words if w]
    # The recognizer sometimes "reads" a wide blank as a rare kanji (邨, 昇): nothing stands there.
    chars = [(ch, c, x) for ch, c, x in zip(reading.text, confs, reading.positions, strict=True)
             if ch != " " and not _inside_gap(x, gaps)]
    tight = _spaces_in_tight_digits(chars, gaps)
    spaced = [_word_gap_between(a, b, gaps) or t for (a, b), t in zip(pairwise(chars), tight, strict=True)]
    out: list[Word] = []
    for i, (ch, c, _) in enumerate(chars):
        if i == 0 or not spaced[i - 1]:
            if not out:
                out.append([])
            out[-1].append((ch, c))
        else:
            out.append([(ch, c)])
    return out


TIGHT_DIGITS = 4  # a run of at least this many digits set close together shows how its digits are spaced
# A half-width space between half-width digits leaves ~1.2 character heights; a narrow 1 leaves up to ~0.8 beside it.
TIGHT_DIGIT_SPACE = 1.0


def _spaces_in_tight_digits(chars: list[tuple[str, float, float]], gaps: tuple[Gap, ...]) -> list[bool]:
    """Word spaces inside runs of digits printed close together: the one wide gap in a run whose other digits
    stand close is a space (第2 410号室 read 第2410号室), narrower than DIGIT_GAP asks of digits in general."""
    out = [False] * max(0, len(chars) - 1)
    i = 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and chars[j + 1][0].isdigit() and chars[i][0].isdigit():
            j += 1
        if j - i + 1 >= TIGHT_DIGITS:
            sizes = [_gap_size(chars[k], chars[k + 1], gaps) for k in range(i, j)]
            wide = [k for k, size in enumerate(sizes) if size >= WORD_GAP]
            if len(wide) == 1 and sizes[wide[0]] >= TIGHT_DIGIT_SPACE:
                out[i + wide[0]] = True
        i = j + 1
    return out


def _gap_size(a: tuple[str, float, float], b: tuple[str, float, float], gaps: tuple[Gap, ...]) -> float:
    return max((g.size for g in gaps if a[2] < (g.start + g.end) / 2 < b[2]), default=0.0)


def _inside_gap(x: float, gaps: tuple[Gap, ...]) -> bool:
    return any(g.start + (g.end - g.start) * 0.2 < x < g.end - (g.end - g.start) * 0.2 for g in gaps)


# 、 and 。 sit in the corner of their cell, so the blank beside them is no word space. Brackets are not
# among them: a ( or ) after a wide blank is a new word, often the ring of a seal a fax turned black.
_PUNCTUATION = "、。，,．.・"


def _word_gap_between(a: tuple[str, float, float], b: tuple[str, float, float], gaps: tuple[Gap, ...]) -> bool:
    if a[0] in _PUNCTUATION or b[0] in _PUNCTUATION:
        return False
    if a[0].isdigit() and b[0].isdigit():
        need = DIGIT_GAP
    elif _is_kana(a[0]) and _is_kana(b[0]):
        need = KANA_GAP
    else:
        need = WORD_GAP
    return _gap_size(a, b, gaps) >= need


def _is_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff"


def _pad(img: np.ndarray) -> np.ndarray:
    h = img.shape[0]
    p = max(mm_px(0.5), int(h * 0.2))
    return cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=255)


# ---------------------------------------------------------------- marks


def _checkbox(reg: Registered, f: FieldTemplate) -> FieldResult:
    x, y, w, h = f.box
    share = _ink_share(reg, (x + w * 0.1, y + h * 0.1, w * 0.8, h * 0.8))
    # Distance from the threshold, in thresholds: a clear tick or a clean box is near 1.
    conf = min(0.999, 0.5 + abs(share - CHECK_INK) / CHECK_INK)
    return FieldResult(f.key, share >= CHECK_INK, conf, conf < REVIEW_BELOW, box=f.box)


def _option_region(o: Option, mark: str) -> Box:
    x, y, w, h = o.box
    if mark == "tick":
        side = min(h, w)  # the tick square sits at the left end of the option (see the renderer)
        return x, y, side, h
    grow = 1.2
    return x - grow, y - grow * 0.7, w + 2 * grow, h + 1.4 * grow


def _choose(reg: Registered, options: list[Option], mark: str) -> tuple[str | None, float]:
    """The marked option's code (or None) and a confidence from how clearly it stands out."""
    shares = [_ink_share(reg, _option_region(o, mark)) for o in options]
    order = np.argsort(shares)[::-1]
    best, second = shares[order[0]], shares[order[1]] if len(shares) > 1 else 0.0
    if best < MARK_INK:
        return None, min(0.999, 0.5 + (MARK_INK - best) / MARK_INK)
    # Neighbouring circles reach into each other's regions; a clear mark has several times the ink.
    ratio = best / max(second, 1e-6)
    return options[order[0]].code, float(min(0.999, 0.4 + (ratio - 1) / 4))


def _choice(reg: Registered, f: FieldTemplate) -> FieldResult:
    code, conf = _choose(reg, f.options, f.mark)
    return FieldResult(f.key, code, conf, conf < REVIEW_BELOW, box=f.box)


def _written_line(reg: Registered, box: Box) -> np.ndarray | None:
    """The one line written in a small box (an option's number), or None when the box is blank."""
    if _ink_px(reg, box) < mm2_px(MIN_INK_MM2):
        return None
    lines = split_lines(_clean_crop(reg, box), 1)
    return lines[0] if lines else None


def _numbered(options: list[Option], written: str) -> str | None:
    """The code of the option whose printed number was written (the number itself is never the value)."""
    text = "".join(written.split())
    return next((o.code for o in options if o.number is not None and o.number == text), None)


def _number_charset(options: list[Option]) -> Charset:
    return "digits" if all((o.number or "").isdigit() for o in options) else "any"


def _written_choice(reg: Registered, f: FieldTemplate) -> Pending:
    """A choice made by writing the option's printed number in the code box."""
    assert f.code_box is not None
    line = _written_line(reg, f.code_box)
    if line is None:
        return _decided(_blank(f))

    def finish(readings: list[Reading]) -> FieldResult:
        r = readings[0]
        code = _numbered(f.options, r.text)
        if code is None:
            return FieldResult(f.key, None, min(r.confidence, 0.3), True, raw=r.text, box=f.box,
                               reasons=[f"'{r.text}' は印刷された選択肢の番号ではありません"])
        return FieldResult(f.key, code, r.confidence, r.confidence < REVIEW_BELOW, raw=r.text, box=f.box,
                           raw_confidence=r.confidence, char_confidences=r.char_confidences)

    return Pending([Line(line, _number_charset(f.options))], finish)


# ---------------------------------------------------------------- writing


def _cells(reg: Registered, f: FieldTemplate) -> Pending:
    """Boxed cells: find the written cells, set their contents side by side, read them as one line."""
    x, y, w, h = f.box
    n = f.cells or 1
    cw = w / n
    pieces = []
    for i in range(n):
        cell = (x + i * cw + cw * 0.06, y + h * 0.06, cw * 0.88, h * 0.88)
        if _ink_px(reg, cell) < mm2_px(MIN_INK_MM2) // 2:
            continue
        crop = _clean_crop(reg, cell)
        ink = crop < 200
        ys, xs = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if ys.size == 0:
            continue
        pieces.append(crop[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1])
    if not pieces:
        return _decided(_blank(f))
    height = max(p.shape[0] for p in pieces)
    gap = np.full((height, max(mm_px(0.5), height // 3)), 255, np.uint8)
    row = []
    for p in pieces:
        top = (height - p.shape[0]) // 2
        row += [cv2.copyMakeBorder(p, top, height - p.shape[0] - top, 0, 0, cv2.BORDER_CONSTANT, value=255), gap]
    line = _pad(np.hstack(row[:-1]))
    written = len(pieces)

    def finish(readings: list[Reading]) -> FieldResult:
        r = readings[0]
        result = _normalized(f, r.text, r.confidence, r.char_confidences)
        if len(r.text) != written:
            result.reasons.append(f"{written} cells written, {len(r.text)} digits read")
            result.review = True
            result.confidence = min(result.confidence, 0.5)
        return result

    return Pending([Line(line, "digits")], finish)


# What a blurred or faxed 目 of 丁目 is read as: one or two strokes (1, 11, l), a box (口, 日), H; and its 丁.
_MOKU_PIECES = frozenset("1lI|口日月HＨ")
_CHO_LOOKALIKES = frozenset("丁TＴJＪ了厂亅Γ")
MOKU_SLOT = 1.6  # letters centred within this many letter widths after 丁 stand where its 目 does


def whole_chome(r: Reading, letter: float) -> Reading:
    """A block number's 丁 followed by what its 目 was read as (2丁114番 for 2丁目14番, 3丁口28) with 目 put back:
    the pieces centred where the 目 stands, one letter on from the 丁 (`letter`: a letter's width as a share of
    the line), the lot number's digits after it. Needs the recognizer's letter positions."""
    text = r.text
    if _CHO_LOOKALIKES.isdisjoint(text) or len(r.positions) != len(text) or letter <= 0:
        return r
    out, confs, positions, i = [], [], [], 0
    while i < len(text):
        out.append(text[i]), confs.append(r.char_confidences[i] if i < len(r.char_confidences) else r.confidence)
        positions.append(r.positions[i])
        if text[i] in _CHO_LOOKALIKES and i and text[i - 1].isdigit() and i + 1 < len(text) and text[i + 1] != "目":
            slot = [j for j in range(i + 1, len(text)) if r.positions[j] - r.positions[i] <= MOKU_SLOT * letter]
            after = slot[-1] + 1 if slot else i + 1
            if slot and all(text[j] in _MOKU_PIECES for j in slot) and after < len(text) and text[after].isdigit():
                out[-1] = "丁"
                out.append("目"), confs.append(min(confs[-1], *(r.char_confidences[j] for j in slot
                                                                if j < len(r.char_confidences))))
                positions.append(r.positions[slot[0]])
                i = after
                continue
        i += 1
    new = "".join(out)
    if new == text:
        return r
    return replace(r, text=new, char_confidences=tuple(confs), positions=tuple(positions),
                   alternatives=())


def _text_result(f: FieldTemplate, readings: list[Reading], gaps: list[tuple[Gap, ...]]) -> FieldResult:
    lines = [spaced_words(r, g) for r, g in zip(readings, gaps, strict=True)]
    for words in lines:
        # A stray piece at either end of a line with no letter in it is a seal's or a stamp's remains.
        while len(words) > 1 and _noise(words[-1]):
            words.pop()
        while len(words) > 1 and _noise(words[0]):
            words.pop(0)
    if f.key.endswith(NAME_KEYS_SUFFIX) and lines and lines[-1]:
        _drop_seal_letters(lines[-1])
    text = _join_lines([" ".join("".join(ch for ch, _ in w) for w in words) for words in lines if words])
    chars = tuple(c for words in lines for w in words for _, c in w)
    return _normalized(f, text, min(chars, default=0.0), chars)


# A company's square seal reads 代表取締役印; a person's round seal carries the surname. Black on a fax, their
# letters survive the red dropout and trail the name as a short word of their own.
SEAL_LETTERS = frozenset("代表取締役印之")


def _drop_seal_letters(words: list[Word]) -> None:
    """Drop a short last word made only of a seal's letters (遠藤整骨院 表, 有限会社高野精機 役表), or of the
    surname (東 実 東, 三浦 雄一 (三))."""
    surname = {ch for ch, _ in words[0]}
    while len(words) > 1 and len(words[-1]) <= 3:
        letters = {ch for ch, _ in words[-1]} - set("()（）")  # the seal's ring read as brackets: (三)
        if not (letters <= SEAL_LETTERS or (len(words) > 2 and letters <= surname)):
            return
        words.pop()


def _noise(word: Word) -> bool:
    """Punctuation or symbols alone, or a short, barely read piece with no kana or kanji in it."""
    if all(unicodedata.category(ch)[0] in "PS" for ch, _ in word):
        return True
    text = "".join(ch for ch, _ in word)
    if _unbalanced(text):  # "棠)": half a seal's ring with the letter inside it misread
        return True
    unsure = sum(c for _, c in word) / len(word) < NOISE_WORD
    return len(word) <= 2 and unsure and not any(_is_japanese(ch) for ch, _ in word)


def _unbalanced(text: str) -> bool:
    opens, closes = sum(text.count(c) for c in "(（"), sum(text.count(c) for c in ")）")
    return opens != closes


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch == "々"


def _is_japanese(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or ch == "\u3005"


# A building name follows the lot number: "…2丁目1番2号" then "霞ビル301" is two words, while a line
# that breaks inside a name or a number ("鹿島町" / "久保2丁目", "3" / "0番") continues one word.
_WORD_END = re.compile(r"(号|番地|\d)$")


def _join_lines(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if text and _WORD_END.search(text) and not line[0].isdigit() and line[0] not in "丁目番号地の-":
            text += " "
        text += line
    return text


_PHONE_SEPARATOR = re.compile(r"[-‐−ー－—―()（）\s]")
_HALF_REIWA = re.compile(r"^和\s*(\d{1,2}|元)\s*(年分?)?$")
_HALF_REIWA_DATE = re.compile(r"^和\s*(\d{1,2}|元)\s*年")
# Dates of this tax year's events (提出, 異動, 中途就・退職): a 和 era before them is 令和, never 昭和.
_RECENT_DATE_KEYS = frozenset({"submitted_date", "change_date", "employment_change_date"})

# A written 〒 before the code reads as a digit (5, 7, T): a postal code has three digits before its hyphen.
_POSTAL_MARK = re.compile(r"^\D*[\dTＴ〒干千]\s*(\d{3}\s*[-‐−ー－]\s*\d{4})$")


def _normalized(f: FieldTemplate, text: str, conf: float, chars: tuple[float, ...] = ()) -> FieldResult:
    fixed = fix_text(text) if f.allowed == "any" else text
    if f.type == "text":
        fixed = fix_entity_words(fixed, chars)  # company names are *_name fields too
    if f.key in COMPANY_NAME_KEYS:
        fixed = fix_company_name(fixed)
    if f.type == "text" and not f.key.endswith(NAME_KEYS_SUFFIX):
        fixed = fix_address(fixed)
        if f.key.endswith("municipality"):
            fixed = fix_municipality(fixed)
        elif f.key == "payment_type":
            fixed = fix_payment_type(fixed)
        elif f.key == "remarks":
            fixed = fix_remarks(fixed, chars)
        elif "address" in f.key:
            fixed = fix_place_names(fixed)
    elif f.type == "kana":
        fixed = fix_kana(fixed)
    elif f.type == "postal_code":
        fixed = _POSTAL_MARK.sub(r"\1", fixed)
    reasons: list[str] = []
    half_reiwa = _HALF_REIWA if f.type == "year" else _HALF_REIWA_DATE if f.key in _RECENT_DATE_KEYS else None
    if half_reiwa is not None and half_reiwa.match(fixed):
        # The 令 of 令和 lost to the box's edge (和6): of the eras ending in 和 only 令和 has tax years, or this
        # year's events.
        fixed = "令" + fixed
        reasons.append("元号の「令」を補いました")
    try:
        value = normalize(f.type, fixed)
    except NormalizationError as exc:
        value, conf = fixed, min(conf, 0.3)
        reasons.append(str(exc))
        normalized = False
    else:
        normalized = True
    if f.type in ("year", "date") and normalized and after_next_year(value):
        # 令和5 read 令和15 (often by both readers): the 1 is the era box's edge or the rule beside the era. A year
        # after next is none of these forms', so the year without it is taken, for a person to confirm.
        m = re.search(r"\d+", fixed)
        if m and len(m.group()) == 2 and m.group()[0] == "1":
            try:
                fewer = normalize(f.type, fixed[: m.start()] + fixed[m.start() + 1 :])
            except NormalizationError:
                fewer = None
            if fewer is not None and not after_next_year(fewer):
                value = fewer
                reasons.append("年の「1」を枠の線と判断しました")
    if f.type == "phone" and normalized and "-" not in str(value):
        reasons.append("電話番号の区切りが読み取れません")  # the numbering plan could not group it either
    elif f.type == "phone" and normalized and not _PHONE_SEPARATOR.search(fixed):
        # Every hyphen lost (the numbering plan grouped the digits): thin strokes were, a fax's 4 read as 1 with
        # them (06-8981-3894 read 0689813891 passed on a fresh bench).
        reasons.append("電話番号の区切りが1つも読み取れず、番号の区切りを補いました")
    if f.type == "text" and f.key.endswith(NAME_KEYS_SUFFIX) and isinstance(value, str):
        value = common_name_forms(value)
        variants = ambiguous_variants(value)
        if variants:
            reasons.append(f"異体字の可能性: {''.join(variants)}")
        if _split_inside_a_word(value):
            reasons.append("語の区切りが不確かです（1字ずつに分かれています）")
    review = conf < REVIEW_BELOW or bool(reasons)
    return FieldResult(f.key, value, conf, review, raw=text, reasons=reasons, box=f.box, raw_confidence=conf,
                       char_confidences=chars, normalized=normalized)


def _split_inside_a_word(name: str) -> bool:
    """Two one-kanji words side by side anywhere but at the end, where a 姓 and a 名 of one letter each stand
    (総務部 林 豊): a gap in a handwritten word taken for a space (國 分 浩二, 和 田 設計事務所)."""
    words = name.split()
    single = [len(w) == 1 and _is_kanji(w) for w in words]
    return any(single[i] and single[i + 1] for i in range(len(words) - 2))


def after_next_year(value: object) -> bool:
    """A year (or ISO date) after next year: no tax year, filing, birth or change these forms record."""
    year = value if isinstance(value, int) else int(str(value)[:4]) if str(value)[:4].isdigit() else None
    return year is not None and year > date.today().year + 1


def _date(reg: Registered, f: FieldTemplate) -> Pending:
    parts = f.date
    assert parts is not None
    era_code: str | None = None
    era_conf = 0.99
    if parts.era and parts.era_mark != "write":
        era_code, era_conf = _choose(reg, parts.era, parts.era_mark)
    boxes = [b for b in (parts.year, parts.month, parts.day) if b is not None]
    era_written = parts.era_box is not None and parts.era_fixed is None
    if era_written:
        boxes = [parts.era_box, *boxes]
    crops = []
    for b in boxes:
        if _ink_px(reg, b) < mm2_px(MIN_INK_MM2):
            crops.append(None)
            continue
        lines = split_lines(_clean_crop(reg, b), 1)
        crops.append(lines[0] if lines else None)
    if all(c is None for c in crops) and era_code is None:
        return _decided(_blank(f))
    wanted = [i for i, c in enumerate(crops) if c is not None]
    charsets: list[Charset] = ["date"] * len(boxes)
    if era_written and parts.era_mark == "write":
        charsets[0] = _number_charset(parts.era)

    def finish(readings: list[Reading]) -> FieldResult:
        texts: list[str] = [""] * len(boxes)
        conf = era_conf
        chars = tuple(c for r in readings for c in r.char_confidences)
        for i, r in zip(wanted, readings, strict=True):
            texts[i], conf = r.text, min(conf, r.confidence)
        era = era_code or parts.era_fixed
        if era_written:
            written, texts = texts[0], texts[1:]
            era = _numbered(parts.era, written) if parts.era_mark == "write" else written or era
        raw = f"{era or '?'} {'/'.join(texts)}"
        try:
            if era is None:
                raise WarekiError("元号が読み取れません")
            y, m = _part_number(texts[0]), _part_number(texts[1])
            d = _part_number(texts[2]) if parts.day is not None else 1
            value: object = to_gregorian(era, y, m, d).isoformat()
            reasons: list[str] = []
        except (WarekiError, ValueError) as exc:
            value, conf, reasons = None, min(conf, 0.3), [str(exc)]
        return FieldResult(f.key, value, conf, conf < REVIEW_BELOW or bool(reasons), raw=raw, reasons=reasons,
                           box=f.box, raw_confidence=conf, char_confidences=chars)

    return Pending([Line(c, charsets[i]) for i, c in enumerate(crops) if c is not None], finish)


def _part_number(text: str) -> int:
    if text.strip() == "元":
        return 1
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise ValueError(f"数字が読み取れません: '{text}'")
    return int(digits)
