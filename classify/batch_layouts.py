"""Layouts learned from a batch: a clean page the label fallback read well lends its field places to a poor page of
the same form.

An employer's bundle of 明細書 comes out of one payroll program: one layout, page after page. The label fallback
finds a clean page's fields by their printed labels; on a 200-dpi fax of the same printout the 1.5 mm labels are
specks and it finds half of them, in the wrong cells. Registered by its frame onto the clean page's draft, the fax
is read where the clean page's values were. Which reading is kept is decided by the readings themselves: the one
in which more fields have a value that both readers agree on (a draft of another layout puts crops across rules
and labels, and the readers disagree). Every value stays a fallback value (for review).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.ocr.fields import FieldResult, Pending, plan_field
from yomitori.ocr.preprocess import DROPOUT_MM, FAINT_INK, Registered, find_frame, fit, grow_kernel, ink_mask

from .label_fallback import Fallback
from .page_rules import is_bilevel

# Two drafts place this share of their common fields alike (centre within PLACE_MM of the other's box) when they
# are one layout: two clean pages of a layout ≥ 0.96 on tuning pages, the 明細書's national and payroll layouts ≤ 0.69.
SAME_LAYOUT, PLACE_MM = 0.9, 2.0
WEAK = 0.7  # a page whose own labels place fewer than this share of a learned draft's fields may be read with it
LEARNED_PER_FORM = 6  # drafts kept for each form (the latest): a batch holds a few layouts of a form at once


@dataclass(frozen=True)
class Learned:
    """A clean page's draft, and its printed matter (rules, labels, units: its ink that is no value) in the draft's
    pixels: the blank form a poor page of its layout is dropped out with (the draft has no rendered blank form
    that matches the print: its 円 read as 1 in every empty amount)."""

    draft: LayoutTemplate
    printed: np.ndarray


@dataclass
class LearnedLayouts:
    """Drafts of the fallback pages read so far (one per clean page, the latest kept), by form."""

    drafts: dict[str, list[Learned]] = field(default_factory=dict)

    def learn(self, gray: np.ndarray, fb: Fallback) -> None:
        """Keep a clean page's draft (not a fax's: its places are the least sure)."""
        if is_bilevel(gray) or not fb.pending:
            return
        page = fb.registered
        printed = ink_mask(page.gray) & ~page.ink  # (its faint edges of values are no print)
        grown = cv2.dilate(printed.astype(np.uint8), grow_kernel(2 * DROPOUT_MM)).astype(bool)  # registration
        draft = fb.final_draft()
        kept = self.drafts.setdefault(fb.draft.form, [])
        for i, old in enumerate(kept):
            if same_places(old.draft, draft) >= SAME_LAYOUT:  # another page of a layout learned: what either
                # printed is print (a 円 in a cell one page left blank and the other filled)
                fuller = draft if len(draft.fields) > len(old.draft.fields) else old.draft
                kept[i] = Learned(fuller, _union(old.printed, grown))
                return
        kept.append(Learned(draft, grown))
        del kept[:-LEARNED_PER_FORM]

    def candidates(self, gray: np.ndarray, fb: Fallback) -> list[Learned]:
        """The learned drafts of the page's form, for a fax (its labels are the least legible) or where they place
        many more fields than its own labels did."""
        learned = self.drafts.get(fb.draft.form, [])
        if learned and is_bilevel(gray):
            return learned
        return [d for d in learned if len(fb.pending) < WEAK * len(d.draft.fields)]

    def read_page(self, gray: np.ndarray, fb: Fallback, own: dict[str, FieldResult],
                  read: Callable[[dict[str, Pending]], dict[str, FieldResult]]) -> dict[str, FieldResult]:
        """The page's reading (`better_reading`); a page that kept its own reading is learned from."""
        fields = self.better_reading(gray, fb, own, read)
        if fields is own:
            self.learn(gray, fb)
        return fields

    def better_reading(self, gray: np.ndarray, fb: Fallback, own: dict[str, FieldResult],
                       read: Callable[[dict[str, Pending]], dict[str, FieldResult]]) -> dict[str, FieldResult]:
        """The page's own fallback reading, or its reading with a learned draft where that one is surer."""
        best, best_score = own, sure_values(own)
        candidates = self.candidates(gray, fb)
        corners = find_frame(gray) if candidates else None
        for learned in candidates if corners is not None else ():
            placed = fit(gray, learned.draft, corners)
            if placed is None:
                continue
            registered = _dropped_out(placed.warp(gray), learned.printed)
            fields = read({f.key: plan_field(registered, f) for f in learned.draft.fields})
            if (score := sure_values(fields)) > best_score:
                best, best_score = fields, score
        return best


def sure_values(fields: dict[str, FieldResult]) -> int:
    """Fields with a value of their type that both readers read alike."""
    return sum(r.value not in (None, "") and r.normalized and r.agreement is True for r in fields.values())


def _dropped_out(reg: Registered, printed: np.ndarray) -> Registered:
    """The registered page's writing: its ink where the learned page printed nothing."""
    blank = _union(np.zeros(reg.gray.shape, bool), printed)
    reg.ink = ink_mask(reg.gray) & ~blank  # type: ignore[misc]  # cached properties, set as the fallback does
    reg.faint_ink = ink_mask(reg.gray, FAINT_INK) & ~blank  # type: ignore[misc]
    reg.light_ink = reg.faint_ink  # type: ignore[misc]
    return reg


def same_places(a: LayoutTemplate, b: LayoutTemplate) -> float:
    """Share of the fields both drafts place whose centre in `a` lies within PLACE_MM of their box in `b`."""
    boxes = {f.key: f.box for f in b.fields}
    common = [f for f in a.fields if f.key in boxes]
    if not common:
        return 0.0

    def near(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> bool:
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        x, y, w, h = other
        return x - PLACE_MM <= cx <= x + w + PLACE_MM and y - PLACE_MM <= cy <= y + h + PLACE_MM

    return sum(near(f.box, boxes[f.key]) for f in common) / len(common)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a` with `b` laid over it (pages of one layout registered by their frames: a pixel or two apart in size)."""
    out = a.copy()
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    out[:h, :w] |= b[:h, :w]
    return out
