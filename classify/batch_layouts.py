"""Layouts learned from a batch: a clean page the label fallback read well lends its field places to a poor page of
the same form, and every page of a layout lends the others the places where its values read surely.

An employer's bundle of 明細書 comes out of one payroll program: one layout, page after page. The label fallback
finds a clean page's fields by their printed labels; on a 200-dpi fax of the same printout the 1.5 mm labels are
specks and it finds half of them, in the wrong cells. Registered by its frame (or, on a page with none, the extent
of its print) onto the clean page's draft, the fax is read where the clean page's values were. Which reading is kept is
decided by the readings themselves: the one in which more fields have a value that both readers agree on (a draft
of another layout puts crops across rules and labels, and the readers disagree); a field that is sure only in the
other reading is then taken from it. What a layout teaches grows field by field: each field's place is the one
where some page of the batch read it surely (a long address on one page ran into its neighbour's cell; a blank
amount on another left its cell unknown). Every value stays a fallback value (for review).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.ocr.fields import FieldResult, Pending, plan_field
from yomitori.ocr.preprocess import DROPOUT_MM, FAINT_INK, Registered, fit, grow_kernel, ink_mask

from .label_fallback import Fallback
from .page_rules import is_bilevel, page_corners

# Two drafts place this share of their common fields alike (centre within PLACE_MM of the other's box) when they
# are one layout: two clean pages of a layout ≥ 0.96 on tuning pages, the 明細書's national and payroll layouts ≤ 0.69.
SAME_LAYOUT, PLACE_MM = 0.9, 2.0
WEAK = 0.7  # a page whose own labels place fewer than this share of a learned draft's fields may be read with it
# … as may a page whose own labels place this share of the fields both drafts place alike: a page of that layout
# (two layouts of one form share some places; their readings must then also win on sure values, field by field)
SAME_PAGE_LAYOUT = 0.6
LEARNED_PER_FORM = 6  # drafts kept for each form (the latest): a batch holds a few layouts of a form at once


@dataclass(frozen=True)
class Learned:
    """A clean page's draft, and its printed matter (rules, labels, units: its ink that is no value) in the draft's
    pixels: the blank form a poor page of its layout is dropped out with (the draft has no rendered blank form
    that matches the print: its 円 read as 1 in every empty amount)."""

    draft: LayoutTemplate
    printed: np.ndarray
    sure: frozenset[str] = frozenset()  # fields whose value some page read surely where the draft places them


@dataclass
class LearnedLayouts:
    """Drafts of the fallback pages read so far (one per clean page, the latest kept), by form."""

    drafts: dict[str, list[Learned]] = field(default_factory=dict)

    def learn(self, gray: np.ndarray, fb: Fallback, fields: dict[str, FieldResult] | None = None) -> None:
        """Keep a clean page's draft (not a fax's: its places are the least sure), and which of its fields read
        surely (`fields`: the page's reading where its own labels placed them)."""
        if is_bilevel(gray) or not fb.pending:
            return
        page = fb.registered
        printed = ink_mask(page.gray) & ~page.ink  # (its faint edges of values are no print)
        grown = cv2.dilate(printed.astype(np.uint8), grow_kernel(2 * DROPOUT_MM)).astype(bool)  # registration
        draft = fb.final_draft()
        sure = frozenset(k for k, r in (fields or {}).items() if is_sure(r))
        kept = self.drafts.setdefault(fb.draft.form, [])
        for i, old in enumerate(kept):
            if same_places(old.draft, draft) >= SAME_LAYOUT:  # another page of a layout learned: what either
                # printed is print (a 円 in a cell one page left blank and the other filled)
                kept[i] = Learned(_merged(old, draft, sure), _union(old.printed, grown), old.sure | sure)
                return
        kept.append(Learned(draft, grown, sure))
        del kept[:-LEARNED_PER_FORM]

    def candidates(self, gray: np.ndarray, fb: Fallback) -> list[Learned]:
        """The learned drafts of the page's form, for a fax (its labels are the least legible) or where they place
        many more fields than its own labels did."""
        learned = self.drafts.get(fb.draft.form, [])
        if learned and is_bilevel(gray):
            return learned
        return [d for d in learned if len(fb.pending) < WEAK * len(d.draft.fields)
                or same_places(fb.draft, d.draft) >= SAME_PAGE_LAYOUT]

    def read_page(self, gray: np.ndarray, fb: Fallback, own: dict[str, FieldResult],
                  read: Callable[[dict[str, Pending]], dict[str, FieldResult]]) -> dict[str, FieldResult]:
        """The page's reading (`better_reading`); a page that kept its own reading is learned from."""
        fields = self.better_reading(gray, fb, own, read)
        self.learn(gray, fb, own)
        return fields

    def better_reading(self, gray: np.ndarray, fb: Fallback, own: dict[str, FieldResult],
                       read: Callable[[dict[str, Pending]], dict[str, FieldResult]]) -> dict[str, FieldResult]:
        """The page's own fallback reading, or its reading with a learned draft where that one is surer."""
        best, best_score = own, sure_values(own)
        lent: dict[str, FieldResult] = {}  # what a learned draft read surely where some page had read it surely
        candidates = self.candidates(gray, fb)
        corners = page_corners(gray) if candidates else None
        for learned in candidates if corners is not None else ():
            placed = fit(gray, learned.draft, corners)
            if placed is None:
                continue
            registered = _dropped_out(placed.warp(gray), learned.printed)
            fields = read({f.key: plan_field(registered, f) for f in learned.draft.fields})
            if (score := sure_values(fields)) > best_score:
                best, best_score = fields, score
            lent |= {k: r for k, r in fields.items() if k in learned.sure and is_sure(r) and k not in lent}
        # A field the kept reading has no sure value for is taken where the layout taught it was read surely
        # (never from the page's own places into a learned reading: those lost, a fax's specks among them).
        return {**best, **{k: r for k, r in lent.items() if not is_sure(best.get(k))}}


def is_sure(r: FieldResult | None) -> bool:
    """A value of its field's type that both readers read alike."""
    return r is not None and r.value not in (None, "") and bool(r.normalized) and r.agreement is True


def sure_values(fields: dict[str, FieldResult]) -> int:
    return sum(is_sure(r) for r in fields.values())


def _merged(old: Learned, draft: LayoutTemplate, sure: frozenset[str]) -> LayoutTemplate:
    """One layout's places learnt from two pages: each field where a page read it surely, the old place first,
    then the other fields of the fuller draft."""
    base, extra = (draft, old.draft) if len(draft.fields) > len(old.draft.fields) else (old.draft, draft)
    olds, news = {f.key: f for f in old.draft.fields}, {f.key: f for f in draft.fields}
    keys = [f.key for f in base.fields]
    placed = set(keys)
    keys += [f.key for f in extra.fields if f.key not in placed]
    fields = []
    for k in keys:
        if k in olds and (k in old.sure or k not in news):
            fields.append(olds[k])
        elif k in news and (k in sure or k not in olds):
            fields.append(news[k])
        else:
            fields.append((olds if base is old.draft else news)[k])
    return base.model_copy(update={"fields": fields})


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
