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


_latest: tuple[np.ndarray | None, RecognitionEngine | None, dict[int, PageReading | None]] = (None, None, {})


def read_page(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> PageReading | None:
    """The page read in `rotation` (degrees, as `frame_of` takes them); None when it prints nothing to map."""
    global _latest
    page_of, engine_of, readings = _latest
    if page_of is not gray or engine_of is not engine:
        readings = {}
        _latest = (gray, engine, readings)
    if rotation not in readings:
        readings[rotation] = _read(gray, rotation, engine)
    return readings[rotation]


def _read(gray: np.ndarray, rotation: int, engine: RecognitionEngine) -> PageReading | None:
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
    crops = [clean[b.y : b.y + b.h, b.x : b.x + b.w] for b in boxes]
    readings = engine.recognize(crops, ["any"] * len(crops)) if crops else []
    return PageReading(page, ruled, clean, boxes, [r.text for r in readings], [r.positions for r in readings], frame,
                       (pw, ph), rotation, bilevel, all_cells)
