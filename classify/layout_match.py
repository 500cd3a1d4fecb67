"""Classify a page by how well each template's printed form lines up with it after registration.

The page's outer frame is registered onto every layout (in each of the four rotations); the layout
whose blank form is best found on the page wins, if it is found well enough. A page with no frame or
no convincing match is `unknown`: it is never forced into a form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.preprocess import Registered, find_frame, register

MATCH_THRESHOLD = 0.55  # share of the layout's printed ink found on the page


@dataclass(frozen=True)
class Classification:
    form: str
    layout: str | None
    confidence: float
    registered: Registered | None


def classify(gray: np.ndarray, layouts: Iterable[LayoutTemplate]) -> Classification:
    corners = find_frame(gray)
    if corners is None:
        return Classification(UNKNOWN_FORM, None, 0.99, None)
    candidates = [r for t in layouts if (r := register(gray, t, corners)) is not None]
    if not candidates:
        return Classification(UNKNOWN_FORM, None, 0.9, None)
    candidates.sort(key=lambda r: r.score, reverse=True)
    best = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if best.score < MATCH_THRESHOLD:
        return Classification(UNKNOWN_FORM, None, float(1 - best.score), None)
    confidence = float(min(0.999, best.score * (1 - runner_up / max(best.score, 1e-6)) + 0.5))
    return Classification(best.template.form, best.template.layout, confidence, best)
