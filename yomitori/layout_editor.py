"""What the template editor asks of the reader: a draft layout from a page, the page on the layout, a box re-read.

A draft is the label fallback's (`classify.label_fallback.locate`): the page mapped onto its outer frame, or onto
the extent of its print where it has none (`page_corners`), with each field where its value was found. Its page
image in template millimetres is kept beside it, so the editor shows the scan under the boxes exactly as the
reader sees it, and a box moved there is read again from the same pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.ocr.engine import RecognitionEngine
from yomitori.ocr.fields import FieldResult, plan_field
from yomitori.ocr.preprocess import Registered, fit


class NoDraft(ValueError):
    """A page on which no field of the form could be placed (blank, or nothing printed)."""


@dataclass(frozen=True)
class Draft:
    template: LayoutTemplate
    page: np.ndarray  # the page registered onto the draft: template mm × PX_PER_MM, gray
    rotation: int


def draft_from_page(gray: np.ndarray, form: str, rotation: int, engine: RecognitionEngine,
                    second: RecognitionEngine | None = None, *, layout: str = "draft") -> Draft:
    """The fallback's draft of a working-size page of `form` (framed or not) and the page on it."""
    from yomitori.classify.label_fallback import locate, read_fallback

    fb = locate(gray, form, rotation, engine, second=second)
    if fb is None:
        raise NoDraft("the page prints nothing to draft a layout from")
    read_fallback(fb, engine)  # reading decides between a label's candidate places
    draft = fb.final_draft().model_copy(update={"layout": layout})
    if not draft.fields:
        raise NoDraft(f"no label of {form} was found on the page")
    return Draft(draft, fb.registered.gray, fb.registered.rotation)


def register_onto(gray: np.ndarray, t: LayoutTemplate) -> Registered | None:
    """A working-size page registered onto a learned layout by what it prints: its frame, or its print's extent
    for a layout drafted from a page without one (the draft's `frame` is that extent)."""
    from yomitori.classify.page_rules import page_corners

    corners = page_corners(gray)
    found = fit(gray, t, corners) if corners is not None else None
    return found.warp(gray) if found is not None else None


def reread(t: LayoutTemplate, page: np.ndarray, key: str, engine: RecognitionEngine) -> FieldResult:
    """Field `key` of `t` read from the registered page, as the pipeline reads a registered page's field."""
    from yomitori.extract import read_planned

    reg = Registered(t, page, 0, 1.0)
    return read_planned({key: plan_field(reg, t.field(key))}, engine, None)[key]


_engine: RecognitionEngine | None = None
_engine_lock = threading.Lock()


def shared_engine(name: str = "ppocr") -> RecognitionEngine:
    """One recognizer for the web process (loaded on the editor's first re-read; a few seconds)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from yomitori.ocr.engine import get_engine

            _engine = get_engine(name)
        return _engine
