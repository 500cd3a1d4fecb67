"""The ruled geometry of a page of unknown layout: its frame, ruled lines, cells and the small print heading them.

What the label fallback (`label_fallback`) stands on: a page mapped onto its own frame is cut into the cells its
rules enclose; rules broken by a fax or by a dropped-out seal are mended first, and the strokes of small print
are not taken for rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from yomitori.forms_templates.schema import Box
from yomitori.ocr.detect import TextBox
from yomitori.ocr.preprocess import PX_PER_MM, find_frame, ink_mask, order_corners

RULE_MM = 7.0  # a straight run of ink this long is a ruled line, not writing
WALL_MM = 2.5  # … and a vertical one this long that runs from one ruled line to the next is a cell's wall
WALL_WIDTH_MM = 1.2  # no wider than this
GAP_MM = 3.0  # a break in a rule up to this long is bridged
# A rule that stops short of the rule across its way, by up to this much, is led on to it: a form's rules end on
# other rules, and a seal dropped out with its red ink (over a name, by the frame) takes a stretch of rule with it.
REACH_MM = 22.0
LED_ON_MM = 15.0  # … when it is at least this long
# A run of ink with ink within TEXT_NEAR_MM both above and below along more than TEXT_SHARE of it is print.
TEXT_NEAR_MM, TEXT_SHARE = 0.5, 0.6
ON_RULE_PX = 4  # a rule's end this near the rule across it is on it
# A fax (half the vertical resolution, then black and white) breaks a slightly skewed thin horizontal rule
# into dashes wherever it straddles two fax lines: runs of thin ink this long, this far apart at most, that
# line up over DASHED_MM make a rule. Characters' strokes do not line up over that length.
DASH_MM, DASH_GAP_MM, DASHED_MM = 1.5, 5.0, 25.0
# A frame holds the page's print when this share of its ink lies inside (a title or a program's name may stand
# outside it; a page of boxed sections has half its print outside its largest box).
FRAME_HOLDS = 0.85
BILEVEL = 0.97  # share of a page's pixels near pure black or white above which it is a bilevel scan (fax)
# Looking for a cell's head the detector missed: past the rule by HEAD_EDGE_MM, ink starting within HEAD_TOP_MM
# of the cell's top, HEAD_MIN_MM to HEAD_MAX_MM tall, found within HEAD_BAND_MM of the top.
HEAD_EDGE_MM, HEAD_TOP_MM, HEAD_MIN_MM, HEAD_MAX_MM, HEAD_BAND_MM = 0.5, 2.0, 0.8, 3.0, 4.5
HEAD_PAD_MM = 0.6  # margin round a head's crop
HEAD_GAP_MM = 2.0  # a gap this wide after a head's letters ends it (a value or a unit may follow)


def frame_of(gray: np.ndarray, rotation: int) -> tuple[np.ndarray, tuple[float, float], Box] | None:
    """The page's frame corners (in reading order), its page size and its frame box, both in mm.

    The page is taken to be A4 (what tax offices scan): the longer side of the scan is 297 mm.
    """
    corners = page_corners(gray)
    if corners is None:
        return None
    src = np.roll(corners, -(rotation // 90) % 4, axis=0).astype(np.float32)
    mm = 297.0 / max(gray.shape)
    fw, fh = float(np.hypot(*(src[1] - src[0]))) * mm, float(np.hypot(*(src[3] - src[0]))) * mm
    page = (297.0, 210.0) if fw > fh else (210.0, 297.0)
    x, y = max(0.0, (page[0] - fw) / 2), max(0.0, (page[1] - fh) / 2)
    return src, page, (round(x, 1), round(y, 1), round(fw, 1), round(fh, 1))


def page_corners(gray: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl) of what a page prints: its outer frame when it has one that holds the page's
    print, else the extent of its ink (a payroll printout of boxed sections, or none at all, has no frame;
    its largest box is one section, and the rest of the page lies outside it)."""
    ink = cv2.morphologyEx(ink_mask(gray).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    h, w = ink.shape
    edge = round(0.01 * max(h, w))  # a scanner's dark border is no print
    ink[:edge], ink[h - edge :], ink[:, :edge], ink[:, w - edge :] = 0, 0, 0, 0
    ys, xs = np.nonzero(ink[::2, ::2])
    if len(xs) < 200:
        return None
    frame = find_frame(gray)
    if frame is not None and _inside_quad(frame, xs * 2.0, ys * 2.0).mean() >= FRAME_HOLDS:
        return frame
    points = np.stack([xs * 2.0, ys * 2.0], axis=1).astype(np.float32)
    lo, hi = np.percentile(points, 0.2, axis=0), np.percentile(points, 99.8, axis=0)
    keep = points[((points >= lo) & (points <= hi)).all(axis=1)]
    rect = cv2.minAreaRect(keep)
    if abs(rect[2]) % 90 > 10 and abs(rect[2]) % 90 < 80:  # text is not a rectangle: no skew this large
        x0, y0 = keep.min(axis=0)
        x1, y1 = keep.max(axis=0)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    return order_corners(cv2.boxPoints(rect).astype(np.float32))


def _inside_quad(quad: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Whether each point lies inside the convex quadrilateral (corners in order)."""
    cross = []
    for i in range(4):
        (ax, ay), (bx, by) = quad[i], quad[(i + 1) % 4]
        cross.append((bx - ax) * (ys - ay) - (by - ay) * (xs - ax))
    c = np.stack(cross)
    return (c >= 0).all(axis=0) | (c <= 0).all(axis=0)


def is_bilevel(gray: np.ndarray) -> bool:
    """Black and white only (a fax; a scanner's binary mode): bar a little grey the resizing made."""
    sample = gray[::4, ::4]
    return float(((sample < 40) | (sample > 215)).mean()) >= BILEVEL


def dashed_rules(ink: np.ndarray) -> np.ndarray:
    """Horizontal rules a fax broke into dashes: thin runs of ink (no taller than a rule) that line up."""
    u8 = ink.astype(np.uint8)
    tall = cv2.morphologyEx(u8, cv2.MORPH_OPEN, np.ones((max(2, round(0.6 * PX_PER_MM)), 1), np.uint8))
    thin = cv2.dilate(u8 & (1 - tall), np.ones((3, 1), np.uint8))
    dashes = cv2.morphologyEx(thin, cv2.MORPH_OPEN, np.ones((1, round(DASH_MM * PX_PER_MM)), np.uint8))
    joined = cv2.morphologyEx(dashes, cv2.MORPH_CLOSE, np.ones((1, round(DASH_GAP_MM * PX_PER_MM)), np.uint8))
    return cv2.morphologyEx(joined, cv2.MORPH_OPEN, np.ones((1, round(DASHED_MM * PX_PER_MM)), np.uint8)).astype(bool)


def rules(ink: np.ndarray, *, dashed: bool = False) -> np.ndarray:
    """The page's ruled lines: long straight runs of ink, horizontal or vertical (`dashed`: also the
    horizontal rules a fax broke up)."""
    n = round(RULE_MM * PX_PER_MM)
    # Thin rules on a scan waver by a pixel and break up: thicken them first, so a run survives the opening.
    # Across the line only: along it, closing gaps would join a row of printed characters into a "rule".
    u8 = ink.astype(np.uint8)
    horizontal = cv2.morphologyEx(cv2.dilate(u8, np.ones((3, 1), np.uint8)), cv2.MORPH_OPEN, np.ones((1, n), np.uint8))
    horizontal = _not_in_text(horizontal, ink)
    vertical = cv2.morphologyEx(cv2.dilate(u8, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    # A seal dropped out with its red ink, or a faded stretch, breaks a rule: bridge short gaps along it.
    g = round(GAP_MM * PX_PER_MM)
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, np.ones((1, g), np.uint8))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, np.ones((g, 1), np.uint8))
    if dashed:
        horizontal |= dashed_rules(ink).astype(np.uint8)
    reach = round(REACH_MM * PX_PER_MM)
    horizontal, vertical = _led_on(horizontal, vertical, reach), _led_on(vertical.T, horizontal.T, reach).T
    vertical |= _walls(u8, horizontal, vertical)
    return cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8)).astype(bool)


def _walls(ink: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray) -> np.ndarray:
    """Vertical strokes too short for rules that stand from one ruled line to the next: the sides of a label's
    box in a row of boxes, the dividers of a short row of cells. Left in, they read as 1 or | before a value;
    writing seldom starts on one rule and ends on the other."""
    n = round(WALL_MM * PX_PER_MM)
    short = cv2.morphologyEx(cv2.dilate(ink, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    short &= 1 - vertical
    out = np.zeros_like(short)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(short, connectivity=8)
    reach = ON_RULE_PX + 2
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if w > WALL_WIDTH_MM * PX_PER_MM or h >= RULE_MM * PX_PER_MM:
            continue
        top = horizontal[max(0, y - reach) : y + reach, x : x + w].any()
        bottom = horizontal[max(0, y + h - reach) : y + h + reach, x : x + w].any()
        if top and bottom:
            out[labels == i] = 1
    return out


def _not_in_text(runs: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Horizontal runs of ink that are not the strokes of a line of print: a blurred 1.5 mm label (基礎控除額) is a
    smear whose middle runs on for its whole width, with its glyphs' ink right above and below along it, which a
    rule has only where a label happens to sit by it."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    near = round(TEXT_NEAR_MM * PX_PER_MM)
    keep = np.ones(n, bool)
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        above = ink[max(0, y - near) : y, x : x + w].any(axis=0)
        below = ink[y + h : y + h + near, x : x + w].any(axis=0)
        keep[i] = (above & below).mean() <= TEXT_SHARE
    return (keep[labels] & (runs > 0)).astype(np.uint8)


def _led_on(along: np.ndarray, across: np.ndarray, reach: int) -> np.ndarray:
    """Horizontal rules (`along`) whose ends stop within `reach` pixels of a vertical rule (`across`) continued
    to it. Rules are found row-wise; call with both masks transposed for the vertical ones."""
    out = along.copy()
    n, labels, stats, _ = cv2.connectedComponentsWithStats(along, connectivity=8)
    width = along.shape[1]
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w < 2 * h or w < LED_ON_MM * PX_PER_MM:
            continue  # not a horizontal run, or a short one: a box's side (a 4 in the era's box), a row's divider
        for end, step in ((x + w - 1, 1), (x, -1)):
            rows = np.flatnonzero(labels[y : y + h, end] == i) + y
            if rows.size == 0:
                continue
            r0, r1 = int(rows.min()), int(rows.max()) + 1
            # Leftwards, a slice's stop below 0 must be None (-1 would be the last column).
            stop = min(width, end + reach + 1) if step > 0 else (end - reach - 1 if end > reach else None)
            if across[r0:r1, max(0, end - ON_RULE_PX) : end + ON_RULE_PX + 1].any():
                continue  # it ends on a rule (or runs a pixel or two through it)
            path = across[r0:r1, end + step : stop : step].any(axis=0)
            hit = np.flatnonzero(path)
            if hit.size:
                k = int(hit[0])
                lo, hi = (end, end + step * k + 1) if step > 0 else (end + step * k, end + 1)
                out[r0:r1, lo:hi] = 1
    return out


def cell_heads(clean: np.ndarray, ruled: np.ndarray, all_cells: Sequence[Box],
               found: Sequence[TextBox]) -> list[TextBox]:
    """The small print heading ruled cells (a label in a cell's top-left corner) that text detection missed.

    A payroll printout prints its labels about 1.5 mm tall: too small for the detector at the scale it runs at,
    yet the recognizer reads them well when given them. A cell's head is the first band of ink within
    HEAD_BAND_MM of its top, no taller than HEAD_MAX_MM (a value written near the top is taller)."""
    ink = ink_mask(clean) & ~ruled
    covered = np.zeros(ink.shape, bool)
    for b in found:
        covered[b.y : b.y + b.h, b.x : b.x + b.w] = True
    edge, band_px = round(HEAD_EDGE_MM * PX_PER_MM), round(HEAD_BAND_MM * PX_PER_MM)
    heads: list[TextBox] = []
    for cell in all_cells:
        x0, y0, x1, y1 = to_px(cell)
        x0, y0, x1 = x0 + edge, y0 + edge, x1 - edge
        band = ink[y0 : min(y1, y0 + band_px), x0:x1]
        if band.size == 0 or not band.any():
            continue
        n, _, stats, _ = cv2.connectedComponentsWithStats(band.astype(np.uint8), connectivity=8)
        # The head's glyphs: small, and starting near the top (a value below it is taller or starts lower).
        glyphs = sorted((int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:n]
                        if y <= HEAD_TOP_MM * PX_PER_MM and h <= HEAD_MAX_MM * PX_PER_MM)
        if not glyphs:
            continue
        left, top, right, bottom = glyphs[0][0], glyphs[0][1], glyphs[0][0] + glyphs[0][2], glyphs[0][1] + glyphs[0][3]
        for x, y, w, h in glyphs[1:]:
            if x > right + HEAD_GAP_MM * PX_PER_MM:
                break  # a value or unit further along
            right, top, bottom = max(right, x + w), min(top, y), max(bottom, y + h)
        if bottom - top < HEAD_MIN_MM * PX_PER_MM:
            continue
        pad = round(HEAD_PAD_MM * PX_PER_MM)  # the recognizer reads a tight crop of small print badly
        head = TextBox(max(0, x0 + left - pad), max(0, y0 + top - pad), right - left + 2 * pad,
                       bottom - top + 2 * pad, 1.0)
        if covered[head.y : head.y + head.h, head.x : head.x + head.w].mean() < 0.5:
            heads.append(head)
    return heads


def overlap(a: TextBox, b: TextBox) -> int:
    return max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x)) * max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))


def cells(ruled: np.ndarray) -> list[Box]:
    """The ruled cells (in mm): regions of paper enclosed by ruled lines."""
    closed = cv2.dilate(ruled.astype(np.uint8), np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(1 - closed, connectivity=4)
    h, w = ruled.shape
    found: list[Box] = []
    for x, y, bw, bh, _ in stats[1:n]:
        if (bw >= w * 0.95 and bh >= h * 0.95) or bw < 2 * PX_PER_MM or bh < 2 * PX_PER_MM:
            continue  # the margin around the frame, or slivers between double rules
        found.append(tuple(round(v / PX_PER_MM, 1) for v in (x - 3, y - 3, bw + 6, bh + 6)))  # type: ignore[misc]
    return found


def inside(px: float, py: float, b: Box) -> bool:
    return b[0] <= px <= b[0] + b[2] and b[1] <= py <= b[1] + b[3]


def cell_at(px: float, py: float, boxes: Iterable[Box]) -> Box | None:
    hits = [b for b in boxes if inside(px, py, b)]
    return min(hits, key=lambda b: b[2] * b[3]) if hits else None


def to_px(box: Box) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return round(x * PX_PER_MM), round(y * PX_PER_MM), round((x + w) * PX_PER_MM), round((y + h) * PX_PER_MM)
