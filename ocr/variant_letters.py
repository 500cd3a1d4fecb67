"""Which form of a variant letter a name was printed or written in (﨑 or 崎, 𠮷 or 吉 …), judged from its image.

PP-OCR's dictionary lacks 﨑, 濵 and 𠮷: its readers can only read 崎, 濱 and 吉 for them. It has 髙 and 惠 but
the readers fold them into 高 and 恵 most of the time. A small CNN (`yomitori train-variant-letters`, weights in
`models/`) looks at the letter where the recognizer put it and says which of the pair it is. The name still goes
to a person unless the letter model is sure (see `japanese.ambiguous_variants` and the gate).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np

from .engine import Reading
from .preprocess import ink_darkness

# common form → the variant the recognizers read as it
PAIRS = {"崎": "﨑", "吉": "𠮷", "濱": "濵", "高": "髙", "恵": "惠"}
CLASSES = tuple(c for pair in PAIRS.items() for c in pair)  # the network's outputs, common form first
CROP = 32  # the network's input: CROP×CROP ink darkness
WINDOW = 1.3  # the crop's side in letter heights: the letter and a little of its neighbours
INK = 0.45  # darker than this share of the paper's brightness is ink
# The variant is taken from this probability on: the common forms are far commoner (a false 惠 spoils a right 恵).
VARIANT_AT = 0.9
# Letters the readers read for a variant they lack: PP-OCRv5 reads a printed 濵 as 演 (or drops it), and 演 is no
# letter of a Japanese name.
MISREAD_AS = {"演": "濱"}
_COMMON_OF = {c: common for common, variant in PAIRS.items() for c in (common, variant)} | MISREAD_AS


def letter_crop(line: np.ndarray, centre: float) -> np.ndarray | None:
    """The letter centred at `centre` (a fraction of the line's width) as CROP×CROP ink darkness in [0, 1],
    scaled by the height of the ink around it; None where there is no ink there."""
    h, w = line.shape[:2]
    ink = ink_darkness(line)
    cx = centre * w
    x0, x1 = max(0, int(cx - h / 2)), min(w, int(cx + h / 2) + 1)
    rows = np.flatnonzero((ink[:, x0:x1] > INK).any(axis=1))
    if x1 <= x0 or len(rows) < 3:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    side = max(4, round((bottom - top) * WINDOW))
    cy = (top + bottom) / 2
    left, upper = round(cx - side / 2), round(cy - side / 2)
    square = np.zeros((side, side), dtype=np.float32)
    sx0, sy0 = max(0, left), max(0, upper)
    sx1, sy1 = min(w, left + side), min(h, upper + side)
    square[sy0 - upper : sy1 - upper, sx0 - left : sx1 - left] = ink[sy0:sy1, sx0:sx1]
    return cv2.resize(square, (CROP, CROP), interpolation=cv2.INTER_AREA if side > CROP else cv2.INTER_LINEAR)


@cache
def _session():
    import onnxruntime as ort

    from yomitori.models.variant_letters import verified_path

    from .ppocr import _providers

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = 1, 1, 3
    return ort.InferenceSession(str(verified_path()), opts, providers=_providers())


def variant_shares(crops: Sequence[np.ndarray], letters: Sequence[str]) -> list[float]:
    """For each crop of a letter read as `letters[i]` (either form of a pair), the probability that it is the
    variant rather than the common form."""
    if not crops:
        return []
    logits = _session().run(None, {"letter": np.stack(crops)[:, None].astype(np.float32)})[0]
    out = []
    for row, letter in zip(logits, letters, strict=True):
        common = _COMMON_OF[letter]
        a, b = row[CLASSES.index(common)], row[CLASSES.index(PAIRS[common])]
        out.append(float(1.0 / (1.0 + np.exp(a - b))))
    return out


def letters_to_judge(r: Reading) -> list[int]:
    """Positions of the letters in a reading that the letter model judges (it needs the recognizer's positions)."""
    if len(r.positions) != len(r.text):
        return []
    return [i for i, ch in enumerate(r.text) if ch in _COMMON_OF]


def judged(r: Reading, image: np.ndarray) -> dict[int, float]:
    """Position → the variant's probability, for each letter of the reading the model can judge."""
    at = [(i, crop) for i in letters_to_judge(r) if (crop := letter_crop(image, r.positions[i])) is not None]
    shares = variant_shares([c for _, c in at], [r.text[i] for i, _ in at])
    return {i: s for (i, _), s in zip(at, shares, strict=True)}

