"""Line images that hold nothing but a printed rule's strokes: a dashed or dotted line, a rule's remains.

A value area found by its label on a layout no template describes often takes in a dashed guide line that no
blank form was subtracted from. Split into lines, such a band is 2–4 px of ink over the area's whole width;
brought to the recognizer's 48 px height it becomes one of its widest (and dearest) lines, and it reads as
nothing, or as 二二二 / ----. It is not read: it reads as an empty line does.
"""

from __future__ import annotations

import cv2
import numpy as np

from .preprocess import PX_PER_MM

INK = 200  # as the line splitter takes ink
STROKE_MM = 0.5  # a rule's stroke is at most this thick, across it; every letter has a part thicker than this
TICK_MM = 1.5  # … or, where a cell's wall meets it, a tick at most this high (a written 1 stands twice as high)
SPECK_PX = 3  # ink blobs this small are noise (and a dot of a dotted rule may be one)
RULE_MM = 10.0  # a rule runs this far at least: a letter or two of thin strokes (一, 二, ー, -) does not
SPAN = 0.6  # … over this share of the line image's width at least
PIECES = 3  # a dashed or dotted rule has this many pieces at least; a solid one is one long stroke


def only_rule_strokes(line: np.ndarray) -> bool:
    """Whether a grayscale line image (dark on white) holds only the strokes of a horizontal rule: every blob of
    ink a stroke thin in every column (a dash, a dot, a tilted dash) or a low tick, together spanning the line
    as a rule does."""
    w = line.shape[1]
    if w < RULE_MM * PX_PER_MM:
        return False
    ink = (line < INK).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    blobs = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] > SPECK_PX]
    if not blobs:
        return False  # nothing to tell by: the recognizer decides (a faint letter may be all specks)
    stroke, tick = STROKE_MM * PX_PER_MM, TICK_MM * PX_PER_MM
    for i in blobs:
        x, y, bw, bh = stats[i, :4]
        if bh <= stroke:
            continue
        thick = np.count_nonzero(labels[y : y + bh, x : x + bw] == i, axis=0) > stroke  # columns across a stroke
        if bh > tick or np.count_nonzero(thick) > stroke:
            return False
    x0 = min(int(stats[i, cv2.CC_STAT_LEFT]) for i in blobs)
    x1 = max(int(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH]) for i in blobs)
    longest = max(int(stats[i, cv2.CC_STAT_WIDTH]) for i in blobs)
    spans = x1 - x0 >= max(SPAN * w, RULE_MM * PX_PER_MM)
    return spans and (len(blobs) >= PIECES or longest >= RULE_MM * PX_PER_MM)
