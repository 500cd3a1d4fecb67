"""A field's crop for reviewers, cut from its document's registered page when it is asked for.

Cutting on demand spares the batch a PNG and a blob per field (most are never looked at), and lets the crop
show what a reviewer needs: the field centred, with enough of its surroundings (the label, the neighbouring
box) to read it in context, and never smaller than a readable strip. For a role that may not see 個人番号, every
個人番号 box of the document is blacked out first, so a neighbour's crop does not show the digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.review_ui.page_masks import MARGIN_MM as MASK_MARGIN_MM

MARGIN_MM = 4.0  # around the field on every side
MIN_WIDTH_MM = 60.0  # a one-digit box is shown with what stands beside it
MIN_HEIGHT_MM = 16.0
MIN_HEIGHT_PX = 96  # at least this tall on screen (a small page image is enlarged)


def crop_window(box: Sequence[float], page_mm: tuple[float, float]) -> tuple[float, float, float, float]:
    """(x, y, w, h) in mm of the crop: centred on the field, margin and minimum size, shifted (not cut) to stay
    on the page where it can."""
    x, y, w, h = box
    page_w, page_h = page_mm
    cw = min(max(w + 2 * MARGIN_MM, MIN_WIDTH_MM), max(page_w, w))
    ch = min(max(h + 2 * MARGIN_MM, MIN_HEIGHT_MM), max(page_h, h))
    cx, cy = x + w / 2, y + h / 2
    x0 = min(max(cx - cw / 2, 0.0), max(page_w - cw, 0.0))
    y0 = min(max(cy - ch / 2, 0.0), max(page_h - ch, 0.0))
    return x0, y0, cw, ch


def blackout(page: np.ndarray, boxes: Iterable[Sequence[float]]) -> np.ndarray:
    """A copy of the page with each box (mm) filled black, with the margin page images black out (page_masks)."""
    out = page.copy()
    m = MASK_MARGIN_MM
    for x, y, w, h in ((x - m, y - m, w + 2 * m, h + 2 * m) for x, y, w, h in boxes):
        x0, y0 = max(0, int(x * PX_PER_MM)), max(0, int(y * PX_PER_MM))
        out[y0 : int(np.ceil((y + h) * PX_PER_MM)), x0 : int(np.ceil((x + w) * PX_PER_MM))] = 0
    return out


def field_crop(page: np.ndarray, box: Sequence[float], hidden: Iterable[Sequence[float]] = ()) -> bytes:
    """The PNG a reviewer sees for the field at `box` on the registered `page` (PX_PER_MM pixels per mm)."""
    hidden = list(hidden)
    if hidden:
        page = blackout(page, hidden)
    height, width = page.shape[:2]
    x, y, w, h = crop_window(box, (width / PX_PER_MM, height / PX_PER_MM))
    x0, y0 = round(x * PX_PER_MM), round(y * PX_PER_MM)
    crop = page[y0 : round((y + h) * PX_PER_MM), x0 : round((x + w) * PX_PER_MM)]
    if crop.size == 0:
        raise ValueError("the field's box lies outside its page")
    if crop.shape[0] < MIN_HEIGHT_PX:
        scale = MIN_HEIGHT_PX / crop.shape[0]
        crop = cv2.resize(crop, (round(crop.shape[1] * scale), MIN_HEIGHT_PX), interpolation=cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".png", crop, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("the crop could not be encoded as PNG")
    return buf.tobytes()
