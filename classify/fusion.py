"""Page classification: which form and layout a page is, or `unknown`, from three fused signals.

- registration: the page's ruled frame registered onto every layout (exact, and what extraction needs);
- the page CNN: the whole page at low resolution → form/layout/unknown, and its orientation;
- text cues: the title read by a cheap OCR pass and matched against every form's titles.

A form is accepted when two signals name it, or when registration alone is strong and neither other
signal objects; otherwise the page is `unknown`: an unknown page is never forced into a form. A page of
a known form whose layout no template registers (a new variant) comes back with `layout=None` when the
title and the CNN both name the form, or when its title alone reads (nearly) exactly as the form's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.detect import detect_lines
from yomitori.ocr.engine import RecognitionEngine
from yomitori.ocr.preprocess import Registered

from .layout_match import STRONG_MATCH, WEAK_MATCH, match_layouts
from .page_cnn import CNNVote, PageCNN, page_cnn
from .title_cues import TitleCue, match_titles, read_lines, registered_title_crop, title_band_crops, upright

CNN_NAMES = 0.5  # CNN probability (summed over a form's layouts) at which it names a form
# … at which it sees a form at all: a new layout's bold amounts hid its title from the quick read (CNN: 0.27)
CNN_SEES = 0.1
CNN_REJECTS = 0.9  # CNN probability of `unknown` that vetoes registration alone
TITLE_ALONE = 0.95  # title similarity that alone confirms a faint scan's weak registration
# Title similarity that alone names a form no template registers (a new layout): a letter or two misread in a
# fax's title (0.92). No title of 120 generated non-form pages of six kinds read as any form's at 0.75.
TITLE_NAMES = 0.9
TITLE_BAND = 0.3  # share of the upright page's height searched for a title by text detection
TITLE_LINES = 12  # detected lines of the band read as title candidates (the topmost long ones)


@dataclass(frozen=True)
class Classification:
    form: str
    layout: str | None
    confidence: float
    registered: Registered | None
    rotation: int = 0  # degrees the scan was turned to read it upright
    signals: dict[str, object] = field(default_factory=dict, compare=False)  # what each signal said


def classify(gray: np.ndarray, layouts: Iterable[LayoutTemplate], *, cnn: PageCNN | None = None,
             engine: RecognitionEngine | None = None) -> Classification:
    """Fuse the three signals; `engine` reads the title (the caller's recognizer, else a PP-OCR one of its own)."""
    layouts = list(layouts)
    match = match_layouts(gray, layouts)
    vote = (cnn or page_cnn()).vote(gray)
    reg = match.matched
    if reg is not None and vote.form_probs().get(reg.template.form, 0.0) >= CNN_NAMES:
        cue = TitleCue(None, 0.0, "", False)  # two signals agree already: a title could not overturn them
    else:
        cue = _title(gray, match.best, vote, layouts, engine)
    best = match.best
    if reg is None and cue.form is None and _cnn_sees_a_form(vote):
        # A new layout of a known form: its title is not where any template prints it, and the quick band read
        # may have taken handwriting (or amounts in bold print) for the title. Look for it among every detected
        # line of the top band (a second or so of detection: only where the CNN sees some form at all).
        cue = _title_by_detection(gray, vote, layouts, engine) or cue
    if reg is None and best is not None and match.score >= WEAK_MATCH and match.rules_fit \
            and cue.form == best.template.form \
            and (vote.probs.get(best.template.id, 0.0) >= CNN_NAMES or cue.similarity >= TITLE_ALONE):
        # A faint or damaged scan: its frame registers but less of the blank form's ink is found. The layout
        # stands when its title is read where this layout prints it, and either the CNN names exactly it or
        # the title reads word for word (a noisy 200-dpi fax the CNN took for a stranger at 0.999). Never when
        # the page has ruled lines the layout does not print: another layout of the same form has the same title.
        reg = best
    signals: dict[str, object] = {
        "registration": {"layout": match.best.template.id if match.best else None, "score": round(match.score, 4),
                         "rules": None if match.rules is None else round(match.rules, 3)},
        "cnn": {k: round(v, 4) for k, v in vote.probs.items()},
        "title": {"form": cue.form, "similarity": round(cue.similarity, 3), "foreign": cue.foreign},
    }
    return decide(reg, match.score, vote, cue, signals)


def decide(reg: Registered | None, reg_score: float, vote: CNNVote, cue: TitleCue,
           signals: dict[str, object] | None = None) -> Classification:
    """The fusion rule (pure, so tests can exercise every case)."""
    signals = signals or {}
    cnn_forms = {f: p for f, p in vote.form_probs().items() if f != UNKNOWN_FORM}
    cnn_form = max(cnn_forms, key=cnn_forms.__getitem__) if cnn_forms else None
    cnn_p = cnn_forms.get(cnn_form, 0.0) if cnn_form else 0.0
    votes: dict[str, list[float]] = {}
    if reg is not None:
        votes.setdefault(reg.template.form, []).append(reg_score)
    if cue.form is not None:
        votes.setdefault(cue.form, []).append(cue.similarity)
    if cnn_form is not None and cnn_p >= CNN_NAMES:
        votes.setdefault(cnn_form, []).append(cnn_p)
    objection = cue.foreign or vote.unknown >= CNN_REJECTS
    if votes:
        form, strengths = max(votes.items(), key=lambda kv: (len(kv[1]), sum(kv[1])))
        on_reg = reg is not None and reg.template.form == form
        contradicted = cue.form not in (None, form)
        accept = not contradicted and (
            len(strengths) >= 3
            or (len(strengths) == 2 and (on_reg or not objection))
            or (len(strengths) == 1 and on_reg and reg_score >= STRONG_MATCH and not objection)
            # A title read clearly names the form and no template registers: a new layout of a known form (the
            # CNN, trained on the bundled layouts only, may well not know it). Nothing is read from it unchecked.
            or (len(strengths) == 1 and reg is None and cue.form == form and cue.similarity >= TITLE_NAMES))
        if accept:
            confidence = float(min(0.999, 0.5 + 0.5 * sum(strengths) / 3 + 0.1 * (len(strengths) - 1)))
            if on_reg:
                assert reg is not None
                return Classification(form, reg.template.layout, confidence, reg, reg.rotation, signals)
            return Classification(form, None, confidence, None, (-90 * vote.orientation) % 360, signals)
    evidence = max([vote.unknown and 1 - vote.unknown, cnn_p, reg_score, cue.similarity if cue.form else 0.0])
    return Classification(UNKNOWN_FORM, None, float(max(0.5, 1 - evidence / 2)), None, 0, signals)


def _title(gray: np.ndarray, best: Registered | None, vote: CNNVote, layouts: list[LayoutTemplate],
           engine: RecognitionEngine | None = None) -> TitleCue:
    """Read the title where the best-registered layout prints it; failing a match, in the page's top band."""
    if best is not None and (crop := registered_title_crop(best)) is not None:
        cue = match_titles(read_lines([crop], engine), layouts)
        if cue.form is not None:
            return cue
    return match_titles(read_lines(title_band_crops(upright(gray, vote.orientation)), engine), layouts)


def _cnn_sees_a_form(vote: CNNVote) -> bool:
    """Forms together have CNN_SEES of the probability: a blurred upside-down printout gave its own 0.08, another
    form's layout 0.03."""
    return sum(p for f, p in vote.form_probs().items() if f != UNKNOWN_FORM) >= CNN_SEES


def _title_by_detection(gray: np.ndarray, vote: CNNVote, layouts: list[LayoutTemplate],
                        engine: RecognitionEngine | None = None) -> TitleCue | None:
    """The title among the long text lines PP-OCR detection finds in the page's top band (topmost first: a
    title may be printed no larger than the handwriting under it); None when none of them names a form."""
    page = upright(gray, vote.orientation)
    band = np.ascontiguousarray(page[: int(page.shape[0] * TITLE_BAND)])
    boxes = [b for b in detect_lines(band) if b.w >= 4 * b.h]  # top to bottom
    crops = [band[b.y : b.y + b.h, b.x : b.x + b.w] for b in boxes[:TITLE_LINES]]
    cue = match_titles(read_lines(crops, engine), layouts)
    return cue if cue.form is not None else None
