"""Page classification: which form and layout a page is, or `unknown`.

Bundled layouts are recognised by three fused signals:
- registration: the page's ruled frame registered onto every layout (exact, and what extraction needs);
- the page CNN: the whole page at low resolution → form/layout/unknown, and its orientation;
- text cues: the title read by a cheap OCR pass where the best-registered layout prints it.

A layout is accepted when two signals name it, or when registration alone is strong and neither other
signal objects. Every other page is named by its own text (`page_text`): the whole page read, the form
whose title it prints and whose labels it carries, wherever they stand (`layout=None`: read without a
template). The CNN, trained on bundled layouts, never vetoes such a title. A page whose text names no form
is `unknown`: an unknown page is never forced into a form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from yomitori.forms_templates import LayoutTemplate
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.engine import RecognitionEngine
from yomitori.ocr.preprocess import Registered

from .layout_match import STRONG_MATCH, WEAK_MATCH, match_layouts
from .page_cnn import CNNVote, PageCNN, page_cnn
from .page_text import text_verdict
from .title_cues import (
    TitleCue,
    default_engine,
    match_titles,
    read_lines,
    registered_title_crop,
    title_band_crops,
    upright,
)

CNN_NAMES = 0.5  # CNN probability (summed over a form's layouts) at which it names a form
CNN_REJECTS = 0.9  # CNN probability of `unknown` that vetoes registration alone
TITLE_ALONE = 0.95  # title similarity that alone confirms a faint scan's weak registration
# Title similarity that alone names a form no template registers (a new layout): a letter or two misread in a
# fax's title (0.92). No title of 120 generated non-form pages of six kinds read as any form's at 0.75.
TITLE_NAMES = 0.9


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
    result = decide(reg, match.score, vote, cue, signals)
    if result.layout is None:
        # No bundled layout: the page's own text names its form, wherever its title stands. The CNN and the
        # title band, trained and placed on the bundled layouts, are no judges of a layout they never saw.
        text = text_verdict(gray, engine or default_engine(), vote.orientation)
        signals["text"] = {"form": text.form, "title": text.title, "similarity": text.title_similarity,
                           "labels": text.labels, "foreign": text.foreign}
        if text.form is not None:
            return Classification(text.form, None, text.confidence, None, (-90 * text.orientation) % 360, signals)
        if text.foreign:
            return Classification(UNKNOWN_FORM, None, max(result.confidence, 0.9), None, 0, signals)
    return result


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
