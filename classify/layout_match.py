"""Registration as a classification signal: how well each template's printed form lines up with the page.

The page's outer frame is registered onto every layout (in each of the four rotations); the layout
whose blank form is best found on the page is the candidate. A page with no frame has no candidate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.ocr.preprocess import Registered, find_frame, fit

MATCH_THRESHOLD = 0.55  # share of the layout's printed ink found on the page
STRONG_MATCH = 0.8  # registration alone is enough unless another signal objects
WEAK_MATCH = 0.4  # below MATCH_THRESHOLD, a layout the CNN and the title both name still stands


@dataclass(frozen=True)
class LayoutMatch:
    best: Registered | None  # the best-registered layout, whatever its score
    runner_up: float  # the second-best score (another layout)
    frame: bool  # the page has a ruled frame at all

    @property
    def score(self) -> float:
        return self.best.score if self.best else 0.0

    @property
    def matched(self) -> Registered | None:
        """The best layout if it is found well enough to read the page with it."""
        return self.best if self.best is not None and self.best.score >= MATCH_THRESHOLD else None


def match_layouts(gray: np.ndarray, layouts: Iterable[LayoutTemplate]) -> LayoutMatch:
    corners = find_frame(gray)
    if corners is None:
        return LayoutMatch(None, 0.0, False)
    # Every layout is scored on a coarse copy; only the best is warped at full size.
    candidates = sorted((r for t in layouts if (r := fit(gray, t, corners)) is not None),
                        key=lambda r: r.score, reverse=True)
    if not candidates:
        return LayoutMatch(None, 0.0, True)
    return LayoutMatch(candidates[0].warp(gray), candidates[1].score if len(candidates) > 1 else 0.0, True)
