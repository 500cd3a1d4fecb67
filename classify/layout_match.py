"""Registration as a classification signal: how well each template's printed form lines up with the page.

The page's outer frame is registered onto every layout (in each of the four rotations); the layout
whose blank form is best found on the page is the candidate. A page with no frame has no candidate.

Coverage alone (how much of the template's ink the page has) cannot tell a faint scan of a layout from
another layout of the same form: two layouts of one form share the frame, the title and much of their
ruling, and a page with more ink covers more of any template. So the candidate must also explain the
page's own ruled lines: a ruled line the template does not print where the page has it means the page
is another layout (a new municipality's, to be read by its labels), however much else lines up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from yomitori.forms_templates import LayoutTemplate, templates
from yomitori.ocr.preprocess import FAINT_INK, PX_PER_MM, Registered, find_frame, fit, ink_mask, mm_px, reference

from .page_rules import page_corners

MATCH_THRESHOLD = 0.55  # share of the layout's printed ink found on the page
STRONG_MATCH = 0.8  # registration alone is enough unless another signal objects
WEAK_MATCH = 0.4  # below MATCH_THRESHOLD, a layout the CNN and the title both name still stands

# Ruled lines: straight runs of ink at least this long (no handwritten or printed stroke is), looked for
# with the faint-ink darkness (a payroll printout's 0.15 mm rules, blurred, are lighter than INK).
RULE_MM = 8.0
RULE_TOLERANCE_MM = 0.75  # how far from the template's rule a page's rule may lie (local scan distortion)
FRAME_MARGIN_MM = 1.5  # the frame itself is registered onto the frame: it proves nothing
# Share of the page's ruled lines (inside the frame) the template must print: a layout's own pages score
# ≥ 0.99 on tuning seeds, a same-form other layout ≤ 0.45 (national on payroll_print ~0.31).
RULES_AGREE = 0.75
MIN_RULES_MM2 = 20.0  # fewer ruled pixels than this (a very faint scan) cannot judge: registration stands
# Nor can a page that shows under this share of the rules the template prints: a fax that lost its thin rules
# keeps only a stamp's box or two (0.2 % of them), where a page of another layout shows its own full set.
MIN_RULES_SHARE = 0.05


@dataclass(frozen=True)
class LayoutMatch:
    best: Registered | None  # the best-registered layout, whatever its score
    runner_up: float  # the second-best score (another layout)
    frame: bool  # the page has a ruled frame at all
    rules: float | None = None  # share of the page's ruled lines the best layout prints (None: too few to tell)

    @property
    def score(self) -> float:
        return self.best.score if self.best else 0.0

    @property
    def rules_fit(self) -> bool:
        """The best layout prints the page's ruled lines (or the page shows too few rules to tell)."""
        return self.rules is None or self.rules >= RULES_AGREE

    @property
    def matched(self) -> Registered | None:
        """The best layout if it is found well enough to read the page with it."""
        if self.best is None or self.best.score < MATCH_THRESHOLD or not self.rules_fit:
            return None
        return self.best


def match_layouts(gray: np.ndarray, layouts: Iterable[LayoutTemplate]) -> LayoutMatch:
    layouts = list(layouts)
    corners = find_frame(gray)
    # A layout learned from a page without an outer frame (saved_layouts) has its print's extent for a frame: it is
    # registered by that extent too. Bundled layouts are registered by their ruled frame only.
    learned = [t for t in layouts if t.id not in templates()]
    extent = page_corners(gray) if learned else None
    if corners is None and extent is None:
        return LayoutMatch(None, 0.0, False)
    # Every layout is scored on a coarse copy; only the best is warped at full size.
    fits = [fit(gray, t, corners) for t in layouts] if corners is not None else []
    if extent is not None and (corners is None or not np.allclose(extent, corners)):
        fits += [fit(gray, t, extent) for t in learned]
    candidates = sorted((r for r in fits if r is not None), key=lambda r: r.score, reverse=True)
    if not candidates:
        return LayoutMatch(None, 0.0, corners is not None)
    best = candidates[0].warp(gray)
    return LayoutMatch(best, candidates[1].score if len(candidates) > 1 else 0.0, corners is not None,
                       rule_agreement(best))


def rule_agreement(reg: Registered) -> float | None:
    """Share of the registered page's ruled lines (inside the frame) that its template prints there too,
    horizontal against horizontal and vertical against vertical; None when the page shows too few rules."""
    expected_h, expected_v, inner, expected = _template_rules(reg.template)
    h, w = inner.shape
    page = np.full((h, w), 255, np.uint8)
    ph, pw = min(h, reg.gray.shape[0]), min(w, reg.gray.shape[1])
    page[:ph, :pw] = reg.gray[:ph, :pw]
    found_h, found_v = _rules(ink_mask(page, FAINT_INK))
    found_h &= inner
    found_v &= inner
    total = int(found_h.sum() + found_v.sum())
    if total < max(MIN_RULES_MM2 * PX_PER_MM**2, MIN_RULES_SHARE * expected):
        return None
    return float(((found_h & expected_h).sum() + (found_v & expected_v).sum()) / total)


def _rules(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and the vertical ruled lines of an ink mask."""
    k = mm_px(RULE_MM)
    u = ink.astype(np.uint8)
    horizontal = cv2.morphologyEx(u, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    vertical = cv2.morphologyEx(u, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
    return horizontal.astype(bool), vertical.astype(bool)


_template_cache: dict[int, tuple[LayoutTemplate, tuple[np.ndarray, np.ndarray, np.ndarray, int]]] = {}


def _template_rules(t: LayoutTemplate) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The template's horizontal and vertical rules grown by the tolerance, the inside of its frame, and how many
    rule pixels it has there."""
    cached = _template_cache.get(id(t))
    if cached is None or cached[0] is not t:
        _, ink, _ = reference(t)
        r = mm_px(RULE_TOLERANCE_MM)
        grow = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
        horizontal, vertical = (cv2.dilate(m.astype(np.uint8), grow).astype(bool) for m in _rules(ink))
        x, y, fw, fh = (v * PX_PER_MM for v in t.frame)
        m = FRAME_MARGIN_MM * PX_PER_MM
        inner = np.zeros(ink.shape, bool)
        inner[round(y + m) : round(y + fh - m), round(x + m) : round(x + fw - m)] = True
        expected = int((horizontal & inner).sum() + (vertical & inner).sum())
        cached = _template_cache[id(t)] = (t, (horizontal, vertical, inner, expected))
    return cached[1]
