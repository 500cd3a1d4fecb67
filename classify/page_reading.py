"""A page read once in an orientation: mapped onto its own frame (or its print's extent), its ruled lines taken out,
every line of text detected and recognized. Text classification judges these lines and the label fallback finds
its labels among them, so a page of a layout no template describes is read once, not once for each of them.

The reading depends only on the page and the orientation; what a form makes of it (its labels, a second reading
of lines that read almost as one) is the caller's. The latest page's readings are kept, one per orientation.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from yomitori.forms_templates.schema import Box
from yomitori.ocr.detect import TextBox, detect_lines
from yomitori.ocr.engine import RecognitionEngine
from yomitori.ocr.preprocess import PX_PER_MM

from .page_rules import cell_heads, cells, frame_of, is_bilevel, overlap, rules, to_px

MIN_LINE_MM = 1.2  # text lines lower than this are specks, rules' remains and dots
LONG_LINE_MM, LONG_LINE_RATIO = 15.0, 3.0  # a box this long and this many times longer than wide is a line of text
RUN_DOWN_MIN, RUN_DOWN_SHARE = 5, 2.0  # a page whose long lines run down this often, and this many times as often
# as across, lies on its side (an upright form's few vertical labels, 支払者 down a narrow column, are far fewer)


@dataclass(frozen=True)
class PageReading:
    page: np.ndarray  # the page mapped onto its frame, upright
    ruled: np.ndarray  # its ruled lines
    clean: np.ndarray  # the page with its rules taken out: what the lines were read from
    boxes: list[TextBox]  # its lines of text, in the page's pixels
    texts: list[str]  # what each line reads
    positions: list[tuple[float, ...]]  # … and where each of its letters stands, as a share of its width
    frame: Box
    size: tuple[float, float]  # the page, in mm
    rotation: int
    bilevel: bool  # a fax: its small print comes out broken
    cells: list[Box]  # the cells its rules enclose

    def crop(self, i: int) -> np.ndarray:
        b = self.boxes[i]
        return self.clean[b.y : b.y + b.h, b.x : b.x + b.w]

    def lines(self) -> list[str]:
        """Every line read, top to bottom."""
        order = sorted(range(len(self.boxes)), key=lambda i: (self.boxes[i].y, self.boxes[i].x))
        return [self.texts[i] for i in order if self.texts[i].strip()]


@dataclass(frozen=True)
class _Laid:
    """A page mapped in one orientation, its rules taken out and its lines of text found, not yet read."""

    page: np.ndarray
    ruled: np.ndarray
    clean: np.ndarray
    boxes: list[TextBox]
    frame: Box
    size: tuple[float, float]
    bilevel: bool
    cells: list[Box]


# The latest page's readings and layouts, one per orientation (rotation in degrees).
_latest: tuple[np.ndarray | None, RecognitionEngine | None, dict[int, PageReading | None], dict[int, _Laid | None]] = (
    None, None, {}, {})


def _cache(gray: np.ndarray,
           engine: RecognitionEngine) -> tuple[dict[int, PageReading | None], dict[int, _Laid | None]]:
    global _latest
    page_of, engine_of, readings, laid = _latest
    if page_of is not gray or engine_of is not engine:
        readings, laid = {}, {}
        _latest = (gray, engine, readings, laid)
    return readings, laid


def read_page(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> PageReading | None:
    """The page read in `rotation` (degrees, as `frame_of` takes them); None when it prints nothing to map."""
    readings, _ = _cache(gray, engine)
    if rotation not in readings:
        laid = _laid_out(gray, rotation, engine)
        readings[rotation] = _recognized(laid, rotation, engine) if laid is not None else None
    return readings[rotation]


def lines_run_down(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> bool:
    """Whether, turned `rotation`, the page's lines of text run down rather than across: the page lies on its
    side. Found from the detector's boxes alone (the page's reading in this orientation reuses them), so the
    orientation that reads is tried before this one's lines are recognized."""
    laid = _laid_out(gray, rotation, engine)
    if laid is None:
        return False
    long = LONG_LINE_MM * PX_PER_MM
    across = sum(b.w >= long and b.w >= LONG_LINE_RATIO * b.h for b in laid.boxes)
    down = sum(b.h >= long and b.h >= LONG_LINE_RATIO * b.w for b in laid.boxes)
    return down >= RUN_DOWN_MIN and down > RUN_DOWN_SHARE * across


def _laid_out(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> _Laid | None:
    _, laid = _cache(gray, engine)
    if rotation not in laid:
        laid[rotation] = _lay_out(gray, rotation, engine)
    return laid[rotation]


def _lay_out(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> _Laid | None:
    geometry = frame_of(gray, rotation)
    if geometry is None:
        return None
    src, (pw, ph), frame = geometry
    fx, fy, fw, fh = frame
    dst = np.array([[fx, fy], [fx + fw, fy], [fx + fw, fy + fh], [fx, fy + fh]], np.float32) * PX_PER_MM
    size = (round(pw * PX_PER_MM), round(ph * PX_PER_MM))
    page = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), size, flags=cv2.INTER_LINEAR,
                               borderValue=255)
    # Rules are often printed fainter than writing: look for them in a lighter mask.
    paper = float(np.percentile(page[::4, ::4], 90))
    # Bilevel as scanned: the warp onto the frame greys the edges of its strokes.
    bilevel = is_bilevel(gray) or is_bilevel(page)
    ruled = rules(page < paper * 0.85, dashed=bilevel)
    # The frame closes every cell even where a stamp or a fold broke it.
    x0, y0, x1, y1 = to_px(frame)
    cv2.rectangle(ruled.view(np.uint8), (x0, y0), (x1, y1), 1, 3)
    clean = np.where(ruled, 255, page).astype(np.uint8)
    # The detector runs on as many threads as the recognizer: a worker that shares the cores with others uses one.
    threads = getattr(engine, "threads", None)
    boxes = [b for b in detect_lines(clean, threads=threads) if b.h >= MIN_LINE_MM * PX_PER_MM]
    all_cells = cells(ruled)
    heads = cell_heads(clean, ruled, all_cells, boxes)
    # A head read whole replaces the scraps of it the detector found (住所 of 住所又は居所).
    boxes = [b for b in boxes if not any(overlap(b, h) >= 0.5 * b.w * b.h for h in heads)] + heads
    return _Laid(page, ruled, clean, boxes, frame, (pw, ph), bilevel, all_cells)


def _recognized(laid: _Laid, rotation: int, engine: RecognitionEngine) -> PageReading:
    crops = [laid.clean[b.y : b.y + b.h, b.x : b.x + b.w] for b in laid.boxes]
    readings = engine.recognize(crops, ["any"] * len(crops)) if crops else []
    return PageReading(laid.page, laid.ruled, laid.clean, laid.boxes, [r.text for r in readings],
                       [r.positions for r in readings], laid.frame, laid.size, rotation, laid.bilevel, laid.cells)
