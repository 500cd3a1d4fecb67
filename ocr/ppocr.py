"""PP-OCR text-line recognition on onnxruntime, with per-field charset constraints in the CTC decoder.

The only module that imports onnxruntime. Lines are sorted by width and run in batches (as PaddleOCR
does) so a GPU gets full batches; the CUDA provider is used when onnxruntime offers it.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np

from yomitori.forms_templates.schema import Charset
from yomitori.models.ppocr import RECOGNIZERS, verified_path

from .charsets import allowed_chars
from .engine import EngineUnavailable, Reading

SEPARATOR_STAND_IN = 0.01  # below this, an allowed character is no reading of a separator the model saw

LINE_HEIGHT = 48
MAX_WIDTH = LINE_HEIGHT * 40  # ~40 glyph widths; longer lines are squeezed, not cut


def _providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = os.environ.get("YOMITORI_OCR_DEVICE", "auto")
    if wanted in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if wanted == "cuda":
        raise EngineUnavailable(
            "YOMITORI_OCR_DEVICE=cuda but onnxruntime has no CUDA provider; install onnxruntime-gpu"
        )
    return ["CPUExecutionProvider"]


class PPOCREngine:
    """A PP-OCR recognizer (`ppocrv5` by default, `ppocrv6` as the second reader)."""

    def __init__(self, model: str = "ppocrv5", *, threads: int | None = None, batch_size: int | None = None) -> None:
        import onnxruntime as ort

        if model not in RECOGNIZERS:
            raise EngineUnavailable(f"unknown PP-OCR model '{model}'; choose one of {', '.join(RECOGNIZERS)}")
        spec = RECOGNIZERS[model]
        self.name = f"ppocr:{model}"
        self.threads = threads
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or 0  # 0 = onnxruntime decides (all cores)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(verified_path(spec.model)), opts, providers=_providers())
        self.input_name = self.session.get_inputs()[0].name
        # Large batches pay on a GPU. On a CPU core a line alone is faster: padding a batch to its widest
        # line costs more than batching saves (PP-OCRv5 on 328 lines: 5.1 s one at a time, 6.0 s by 4).
        gpu = self.session.get_providers()[0] == "CUDAExecutionProvider"
        self.batch_size = batch_size or int(os.environ.get("YOMITORI_OCR_BATCH", 32 if gpu else 1))
        chars = verified_path(spec.dictionary).read_text(encoding="utf-8").splitlines()
        # CTC class 0 is the blank; the dictionary follows; the last class is the space.
        self.classes: list[str] = ["", *chars, " "]
        self._index = {c: i for i, c in enumerate(self.classes) if i}
        self._separator = np.array([len(c) == 1 and unicodedata.category(c)[0] in "PZ" for c in self.classes])

    def _buckets(self, lines: Sequence[np.ndarray]) -> list[list[int]]:
        """Batches of lines of nearly equal width: padding is not free for this model (its attention
        spans the whole padded line), so a batch never mixes a short line with a long one."""
        ratio = [line.shape[1] / max(1, line.shape[0]) for line in lines]
        order = sorted(range(len(lines)), key=ratio.__getitem__)
        buckets: list[list[int]] = []
        for i in order:
            if buckets and len(buckets[-1]) < self.batch_size and ratio[i] <= ratio[buckets[-1][0]] * 1.15:
                buckets[-1].append(i)
            else:
                buckets.append([i])
        return buckets

    @cache  # noqa: B019 - one engine per process; the masks are small
    def _mask(self, charset: Charset) -> np.ndarray | None:
        allowed = allowed_chars(charset)
        if allowed is None:
            return None
        mask = np.zeros(len(self.classes), dtype=bool)
        mask[0] = True
        for c in allowed:
            if c in self._index:
                mask[self._index[c]] = True
        return mask

    def recognize(self, lines: Sequence[np.ndarray], charsets: Sequence[Charset]) -> list[Reading]:
        results: list[Reading | None] = [None] * len(lines)
        for idx in self._buckets(lines):
            batch, widths = _batch([lines[i] for i in idx])
            probs = self.session.run(None, {self.input_name: batch})[0]
            for j, i in enumerate(idx):
                steps = max(1, int(np.ceil(probs.shape[1] * widths[j] / batch.shape[3])) + 1)
                frame_px = batch.shape[3] / probs.shape[1]  # input pixels per output frame
                results[i] = self._decode(probs[j, :steps], self._mask(charsets[i]), frame_px / widths[j])
        return [r for r in results if r is not None]

    def _decode(self, probs: np.ndarray, mask: np.ndarray | None, frame_width: float = 0.0) -> Reading:
        """Greedy CTC decoding; `frame_width` is one output frame's width as a fraction of the line."""
        best = probs.argmax(axis=1)
        if mask is not None:
            # Only frames whose unconstrained best is outside the charset need the masked argmax.
            bad = ~mask[best]
            if bad.any():
                separator = self._separator[best]
                probs = probs.copy()
                rows = np.flatnonzero(bad)
                probs[np.ix_(rows, np.flatnonzero(~mask))] = 0.0
                best[rows] = probs[rows].argmax(axis=1)
                # A separator the charset lacks (the comma of 321,000 read as digits) is no letter of the
                # field: unless an allowed one is plausible (－ for -), it is skipped, not replaced by the
                # least unlikely digit (PP-OCRv6 read 3219000).
                skip = bad & separator & (probs[np.arange(len(best)), best] < SEPARATOR_STAND_IN)
                best[skip] = 0
        text: list[str] = []
        confs: list[float] = []
        alts: list[tuple[tuple[str, float], ...]] = []
        spans: list[list[int]] = []
        starts = np.flatnonzero((best != 0) & (best != np.concatenate(([0], best[:-1]))))
        top3 = dict(zip(starts.tolist(), _top3(probs[starts]).tolist(), strict=True))
        prev = 0
        for t, k in enumerate(best):
            if k != 0 and k != prev:
                text.append(self.classes[k])
                confs.append(float(probs[t, k]))
                spans.append([t, t])
                alts.append(tuple((self.classes[c], float(probs[t, c])) for c in top3[t] if c != 0))
            elif k != 0 and k == prev:
                confs[-1] = max(confs[-1], float(probs[t, k]))
                spans[-1][1] = t
            prev = k
        # Trailing/leading spaces carry no information on a field crop.
        while text and text[-1] == " ":
            text.pop(), confs.pop(), alts.pop(), spans.pop()
        while text and text[0] == " ":
            text.pop(0), confs.pop(0), alts.pop(0), spans.pop(0)
        conf = float(min(confs)) if confs else 0.0
        positions = tuple(min(1.0, (a + b + 1) / 2 * frame_width) for a, b in spans) if frame_width else ()
        return Reading("".join(text), conf, tuple(confs), tuple(alts), positions)


def _top3(probs: np.ndarray) -> np.ndarray:
    """Per row, the indices of the three largest values, largest first: three argmax passes are four times
    faster than an argpartition over the ~18,000 classes."""
    probs = probs.copy()
    rows = np.arange(len(probs))
    top = np.empty((len(probs), 3), dtype=np.intp)
    for j in range(3):
        top[:, j] = probs.argmax(axis=1)
        probs[rows, top[:, j]] = -1.0
    return top


def _batch(lines: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Resize lines to the model's height and pad them to one width, normalized to [-1, 1]."""
    resized = []
    for line in lines:
        h, w = line.shape[:2]
        width = min(MAX_WIDTH, max(LINE_HEIGHT // 2, int(np.ceil(LINE_HEIGHT * w / max(1, h)))))
        shrink = cv2.INTER_AREA if h > LINE_HEIGHT else cv2.INTER_CUBIC
        resized.append(cv2.resize(line, (width, LINE_HEIGHT), interpolation=shrink))
    max_w = max(r.shape[1] for r in resized)
    max_w = max(max_w, LINE_HEIGHT * 2)
    batch = np.zeros((len(resized), 3, LINE_HEIGHT, max_w), dtype=np.float32)  # as PaddleOCR pads
    for j, r in enumerate(resized):
        x = r.astype(np.float32) / 127.5 - 1.0
        batch[j, :, :, : r.shape[1]] = x[None, :, :]
    return batch, [r.shape[1] for r in resized]
