"""PaddleOCR 3.x text-line recognition (PaddlePaddle, usually on a GPU) from a model directory on disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from yomitori.forms_templates.schema import Charset

from .charsets import allowed_chars
from .engine import EngineUnavailable, Reading

MODEL_DIR_ENV = "YOMITORI_PADDLE_MODEL_DIR"
FILTERED_CAP = 0.5  # confidence ceiling when a character outside the charset had to be dropped

# Written against PaddleOCR 3.x (pinned 3.7.0): `TextRecognition(model_name=, model_dir=, device=, cpu_threads=)`
# wraps a PaddleX predictor; `.predict(images, batch_size=)` returns one dict-like result per image, in order,
# with "rec_text" and "rec_score". Not exercised in CI (no PaddlePaddle there).


class PaddleEngine:
    """PaddleOCR's recognizer; it cannot constrain its decoder, so readings are filtered to the charset."""

    name = "paddle"

    def __init__(
        self, *, model_dir: str | None = None, threads: int | None = None, device: str = "gpu", batch_size: int = 16
    ) -> None:
        model_dir = model_dir or os.environ.get(MODEL_DIR_ENV)
        if not model_dir:
            raise EngineUnavailable(
                f"the paddle engine needs a model on disk: set {MODEL_DIR_ENV} to a PaddleOCR recognition model "
                "directory (e.g. PP-OCRv5_server_rec); yomitori never downloads models"
            )
        path = Path(model_dir)
        try:
            config = yaml.safe_load((path / "inference.yml").read_text(encoding="utf-8"))
            model_name = str(config["Global"]["model_name"])
        except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
            raise EngineUnavailable(
                f"{path} is not a PaddleOCR recognition model directory (no readable inference.yml naming the "
                f"model); set {MODEL_DIR_ENV} to one"
            ) from e
        # PaddleX otherwise probes model hosts over the network at import time.
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        try:
            from paddleocr import TextRecognition
        except ImportError as e:
            raise EngineUnavailable(
                "the paddle engine needs PaddleOCR: pip install 'yomitori[paddle]' and the PaddlePaddle build "
                f"for this machine (paddlepaddle-gpu for CUDA) ({e})"
            ) from e
        options: dict[str, Any] = {"device": device}
        if threads:
            options["cpu_threads"] = threads  # only used when device is the CPU
        try:
            # PaddleX insists the model name matches the directory's, so it is passed explicitly;
            # with model_dir given, nothing is downloaded.
            self.model = TextRecognition(model_name=model_name, model_dir=str(path), **options)
        except Exception as e:  # PaddleX raises bare RuntimeError/AssertionError/ValueError for bad setups
            raise EngineUnavailable(f"PaddleOCR could not load {model_name} from {path} on {device}: {e}") from e
        self.model_name = model_name
        self.batch_size = batch_size

    def recognize(self, lines: Sequence[np.ndarray], charsets: Sequence[Charset]) -> list[Reading]:
        if len(lines) != len(charsets):
            raise ValueError(f"{len(lines)} lines but {len(charsets)} charsets")
        if not lines:
            return []
        # Similar aspect ratios in a batch waste less padding (PaddleOCR sorts the same way).
        order = sorted(range(len(lines)), key=lambda i: lines[i].shape[1] / max(1, lines[i].shape[0]))
        results = self.model.predict([_bgr(lines[i]) for i in order], batch_size=self.batch_size)
        if len(results) != len(order):
            raise RuntimeError(f"PaddleOCR returned {len(results)} results for {len(order)} lines")
        readings: list[Reading | None] = [None] * len(lines)
        for i, res in zip(order, results, strict=True):
            readings[i] = _filtered(str(_field(res, "rec_text")), float(_field(res, "rec_score")), charsets[i])
        return [r for r in readings if r is not None]


def _bgr(line: np.ndarray) -> np.ndarray:
    """PaddleX takes numpy input as 3-channel BGR uint8."""
    line = np.asarray(line, dtype=np.uint8)
    if line.ndim == 2:
        line = np.repeat(line[:, :, None], 3, axis=2)
    return np.ascontiguousarray(line)


def _field(result: Any, key: str) -> Any:
    """A value from a PaddleX result: a dict subclass, or (other 3.x releases) `.json["res"]`."""
    try:
        return result[key]
    except (KeyError, TypeError):
        return result.json["res"][key]


def _filtered(text: str, score: float, charset: Charset) -> Reading:
    """Drop characters outside the charset, collapse spaces, and cap the confidence if anything was dropped."""
    allowed = allowed_chars(charset)
    kept = text if allowed is None else "".join(c for c in text if c in allowed)
    kept = " ".join(kept.split())
    if not kept:
        return Reading("", 0.0)
    conf = min(max(score, 0.0), 1.0)
    if allowed is not None and any(c not in allowed and not c.isspace() for c in text):
        # The model saw something the field cannot hold; what remains is likely missing a character.
        conf = min(conf, FILTERED_CAP)
    return Reading(kept, conf)
