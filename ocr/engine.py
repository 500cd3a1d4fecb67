"""The recognition-engine interface: text-line crops in, readings out.

An engine reads single text lines (field crops already cut, cleaned and split into lines by the
caller). Each engine lives in exactly one module of this package; `get_engine` picks one by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from yomitori.forms_templates.schema import Charset


@dataclass(frozen=True)
class Reading:
    """What an engine read on one line."""

    text: str
    confidence: float  # 0..1, the engine's own estimate for the whole line
    char_confidences: tuple[float, ...] = ()
    # Per character position, the runner-up characters and their probabilities, where known.
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = field(default=(), repr=False)
    # Per character, the x of its centre as a fraction of the line image's width, where known: lets a
    # caller put the word spaces a recognizer does not emit where the ink has its gaps.
    positions: tuple[float, ...] = field(default=(), repr=False)


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (package, binary or model missing); the message says what to install."""


class RecognitionEngine(Protocol):
    name: str

    def recognize(self, lines: Sequence[np.ndarray], charsets: Sequence[Charset]) -> list[Reading]:
        """Read each grayscale uint8 line image (dark ink on white) under its charset.

        `charsets[i]` restricts what may be read on `lines[i]`; an engine that cannot constrain
        its decoder must at least not return characters outside the set.
        """
        ...


ENGINES = ("ppocr", "tesseract", "paddle")


def get_engine(name: str = "ppocr", **options: object) -> RecognitionEngine:
    """Build an engine by name; options go to its constructor."""
    if name == "ppocr":
        from .ppocr import PPOCREngine

        return PPOCREngine(**options)  # type: ignore[arg-type]
    if name == "tesseract":
        from .tesseract import TesseractEngine

        return TesseractEngine(**options)  # type: ignore[arg-type]
    if name == "paddle":
        from .paddle import PaddleEngine

        return PaddleEngine(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown OCR engine '{name}'; choose one of {', '.join(ENGINES)}")
