"""Text cues: read the page's title with a cheap OCR pass and match it against each form's titles.

With a registered layout the title is read where that layout prints it; otherwise the page is turned
upright (by the CNN's orientation) and the tallest text lines of its top band are read. A clearly read
title that is none of ours (住民票の写し, 給与所得の源泉徴収票 …) is evidence against every form.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache

import cv2
import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.ocr.engine import RecognitionEngine, get_engine
from yomitori.ocr.preprocess import PX_PER_MM, Registered, ink_mask

MATCH = 0.75  # similarity at which a read title names a form
FOREIGN = 0.45  # a readable title this far from all of ours names some other document
MAX_LINES = 3  # title candidates read on a page without a registered layout
_DROP = str.maketrans("", "", " 　()（）[]［］「」・,.、。")


@dataclass(frozen=True)
class TitleCue:
    form: str | None  # the form whose title was read, if any
    similarity: float  # of the best-matching title
    text: str  # what was read (the best line)
    foreign: bool  # a title was read clearly and it is none of ours


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DROP)


def similarity(read: str, title: str) -> float:
    """How well `read` contains `title`: the best ratio over windows of the title's length (and the whole)."""
    a, b = normalize(read), normalize(title)
    if not a or not b:
        return 0.0
    m = SequenceMatcher(None, a, b)  # the title's index is built once, for every window of the line
    best = m.ratio()
    n = len(b)
    for i in range(0, max(1, len(a) - n + 1)):
        m.set_seq1(a[i : i + n])
        if m.quick_ratio() > best:  # an upper bound of ratio(): a window that cannot beat the best is skipped
            best = max(best, m.ratio())
    return best


def match_titles(lines: Iterable[str], layouts: Iterable[LayoutTemplate]) -> TitleCue:
    """The best (form, similarity) over every read line and every layout's title."""
    titles = [(t.form, t.title) for t in layouts]
    best = TitleCue(None, 0.0, "", False)
    readable = False
    for text in lines:
        if len(normalize(text)) >= 4:
            readable = True
        for form, title in titles:
            s = similarity(text, title)
            if s > best.similarity:
                best = TitleCue(form if s >= MATCH else None, s, text, False)
    if best.form is None and readable and best.similarity < FOREIGN:
        return TitleCue(None, best.similarity, best.text, True)
    return best


@cache
def default_engine() -> RecognitionEngine:
    # For callers without a recognizer of their own (bench-classify): PP-OCR, one thread, as a title is one
    # or two short lines. The extractor passes its own engine, so a worker loads one recognizer, not two.
    return get_engine("ppocr", threads=1)


def read_lines(crops: Sequence[np.ndarray], engine: RecognitionEngine | None = None) -> list[str]:
    """The text of each crop, read by `engine` (default: the module's own PP-OCR recognizer)."""
    if not crops:
        return []
    engine = engine or default_engine()
    return [r.text for r in engine.recognize(list(crops), ["any"] * len(crops))]


def registered_title_crop(reg: Registered) -> np.ndarray | None:
    """The template's title box on the registered page, trimmed to its ink."""
    x, y, w, h = (v * PX_PER_MM for v in reg.template.title_box)
    pad = 2 * PX_PER_MM
    crop = reg.gray[max(0, int(y - pad)) : int(y + h + pad), max(0, int(x - pad)) : int(x + w + pad)]
    return _trim(crop)


def title_band_crops(upright: np.ndarray, limit: int = MAX_LINES) -> list[np.ndarray]:
    """The tallest text lines in the top quarter of an upright page: where a title is printed."""
    h, w = upright.shape[:2]
    band = upright[: int(h * 0.25)]
    scale = 800 / max(w, 1)  # find lines on a small copy; crop from the full one
    small = cv2.resize(band, (800, max(1, round(band.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    ink = ink_mask(small).astype(np.uint8)
    # Characters of one line merge horizontally; ruled lines are removed first so boxes do not swallow text.
    long_h = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, 60), np.uint8))
    long_v = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((40, 1), np.uint8))
    text = ink & ~(long_h | long_v)
    merged = cv2.morphologyEx(text, cv2.MORPH_CLOSE, np.ones((3, 15), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    lines = []
    for x, y, bw, bh, area in stats[1:n]:
        if 8 <= bh <= 60 and bw >= 2.5 * bh and area >= 0.2 * bw * bh:
            lines.append((bh, x, y, bw))
    lines.sort(reverse=True)
    crops = []
    for bh, x, y, bw in lines[:limit]:
        x0, y0 = int(max(0, x - 4) / scale), int(max(0, y - 4) / scale)
        x1, y1 = int((x + bw + 4) / scale), int((y + bh + 4) / scale)
        crop = band[y0:y1, x0:x1]
        if crop.size:
            crops.append(crop)
    return crops


def _trim(crop: np.ndarray) -> np.ndarray | None:
    if crop.size == 0:
        return None
    ink = ink_mask(crop)
    ys, xs = np.nonzero(ink)
    if len(ys) < 20:
        return None
    y0, y1 = max(0, ys.min() - 4), ys.max() + 5
    x0, x1 = max(0, xs.min() - 4), xs.max() + 5
    return crop[y0:y1, x0:x1]


def upright(gray: np.ndarray, orientation: int) -> np.ndarray:
    """Undo `orientation` quarter turns (counter-clockwise) of a scan."""
    return np.ascontiguousarray(np.rot90(gray, -orientation)) if orientation % 4 else gray
