"""PP-OCR text detection (DBNet) on a whole page: the boxes of its lines of text, in page pixels.

Used where no template says where the text is. The DB post-processing is kept small: threshold the
probability map, take each blob's bounding rectangle and grow it back by the shrink DBNet was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from yomitori.models.ppocr import DETECTOR, verified_path

THRESHOLD = 0.3  # probability of "text" for a pixel
BOX_SCORE = 0.5  # mean probability inside a blob for it to be a line
UNCLIP = 1.6  # DB shrinks text regions in training; this grows them back (area·ratio / perimeter)


@dataclass(frozen=True)
class TextBox:
    x: int
    y: int
    w: int
    h: int
    score: float


@cache
def _session(threads: int = 0):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    return ort.InferenceSession(str(verified_path(DETECTOR)), opts, providers=["CPUExecutionProvider"])


def detect_lines(gray: np.ndarray, *, long_side: int = 1600, threads: int | None = None) -> list[TextBox]:
    """Boxes of the text lines on a grayscale page, top to bottom. `threads`: onnxruntime's intra-op threads, as
    the recognizer beside it has them (one per worker process when several share the cores; None = all cores)."""
    h, w = gray.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    rh, rw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
    img = cv2.resize(gray, (rw, rh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    x = ((img[None, :, :, None] - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)
    sess = _session(threads or 0)
    prob = sess.run(None, {sess.get_inputs()[0].name: x})[0][0, 0]
    mask = (prob > THRESHOLD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    fx, fy = w / rw, h / rh
    boxes: list[TextBox] = []
    for i in range(1, n):
        bx, by, bw, bh, area = stats[i]
        if min(bw, bh) < 2:
            continue
        score = float(prob[by : by + bh, bx : bx + bw][labels[by : by + bh, bx : bx + bw] == i].mean())
        if score < BOX_SCORE:
            continue
        grow = area * UNCLIP / max(1, 2 * (bw + bh))
        x0, y0 = max(0.0, (bx - grow) * fx), max(0.0, (by - grow) * fy)
        x1, y1 = min(w, (bx + bw + grow) * fx), min(h, (by + bh + grow) * fy)
        boxes.append(TextBox(round(x0), round(y0), round(x1 - x0), round(y1 - y0), score))
    return sorted(boxes, key=lambda b: (b.y, b.x))
