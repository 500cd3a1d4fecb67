"""The page CNN at run time: a whole page, downscaled, → form/layout class probabilities and orientation.

The network is trained by `yomitori train-classifier` (classify/training.py) and shipped as ONNX in
`models/`; here it runs on onnxruntime with the same provider choice as the OCR recognizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.models.page_classifier import PageModel, verified_model
from yomitori.ocr.preprocess import ink_darkness

INPUT_SIZE = 160  # pixels per side; the page is letterboxed to a square so rotating it is exact


def page_tensor(gray: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Ink darkness in [0, 1] on a size×size square (paper is 0), the page centred and letterboxed."""
    h, w = gray.shape[:2]
    scale = size / max(h, w)
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ink = ink_darkness(small)
    out = np.zeros((size, size), dtype=np.float32)
    y0, x0 = (size - ink.shape[0]) // 2, (size - ink.shape[1]) // 2
    out[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = ink
    return out


@dataclass(frozen=True)
class CNNVote:
    """What the page CNN says about one page."""

    probs: dict[str, float]  # class ("form/layout" or "unknown") → probability
    orientation: int  # quarter turns counter-clockwise that turned the upright page into this scan
    orientation_confidence: float

    def form_probs(self) -> dict[str, float]:
        """Probabilities summed over each form's layouts (and `unknown`)."""
        out: dict[str, float] = {}
        for cls, p in self.probs.items():
            form = cls.split("/")[0]
            out[form] = out.get(form, 0.0) + p
        return out

    @property
    def unknown(self) -> float:
        return self.probs.get(UNKNOWN_FORM, 0.0)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


class PageCNN:
    """The ONNX page classifier, loaded once per process."""

    def __init__(self, model: PageModel | None = None) -> None:
        import onnxruntime as ort

        from yomitori.ocr.ppocr import _providers

        onnx_path, meta_path = verified_model(model)
        meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
        self.classes: list[str] = meta["classes"]
        self.size: int = int(meta["size"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one page at a time, beside one recognizer per worker
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=_providers())
        self.input_name = self.session.get_inputs()[0].name

    def vote(self, gray: np.ndarray) -> CNNVote:
        x = page_tensor(gray, self.size)[None, None]
        class_logits, orient_logits = self.session.run(None, {self.input_name: x})
        p = _softmax(class_logits[0].astype(np.float64))
        o = _softmax(orient_logits[0].astype(np.float64))
        k = int(o.argmax())
        return CNNVote({c: float(v) for c, v in zip(self.classes, p, strict=True)}, k, float(o[k]))


@cache
def page_cnn() -> PageCNN:
    """The shipped model (checksum verified)."""
    return PageCNN()
