"""Text-first classification: a page is the form whose title it prints, confirmed by that form's labels.

The whole page is read (PP-OCR detection and recognition, `page_reading`), upright as the CNN turned it first,
then in the other three orientations while no title is found. A form is named when a line reads as one of its titles
(`forms_templates/wordings/`) and the page prints at least a few of its labels; a line that reads as another
document's title (給与所得の源泉徴収票 alone, 住民票の写し, a cover letter's 給与支払報告書の提出について) is
evidence against every form. This needs no template and no CNN, so it holds on layouts neither has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from yomitori.forms_templates.contract import contract_forms
from yomitori.forms_templates.wordings import form_wordings
from yomitori.ocr.engine import RecognitionEngine

from .page_reading import read_page
from .title_cues import normalize, similarity

TITLE = 0.8  # similarity at which a line reads as a title
# … on a page whose labels leave no doubt (a fax's title loses a letter or two): more of them, and a margin
TITLE_NOISY, LABELS_FOR_NOISY = 0.72, 6
LABELS = 3  # distinct fields whose label a page prints, besides its title: a cover letter naming the form has none
LABEL_MATCH = 0.85  # similarity at which a short line reads as a label
LINE_SLACK = 8  # a label's line is at most this many characters longer than the wording (a value run on)
TITLE_SLACK = 1.6  # a title's line is at most this many times the title's length (a letter's sentence is longer)


@dataclass(frozen=True)
class TextVerdict:
    form: str | None  # the form the page's text names, if any
    title: str  # the line read as the title (or the best candidate)
    title_similarity: float
    labels: int  # distinct fields of `form` (or of the best form) whose labels the page prints
    foreign: bool  # a line reads as another document's title, better than as any of ours
    orientation: int  # quarter turns (counter-clockwise) of the scan that read upright
    lines: tuple[str, ...] = ()  # every line read in that orientation

    @property
    def confidence(self) -> float:
        return float(min(0.999, 0.5 + 0.3 * self.title_similarity + 0.04 * min(self.labels, 5)))


def judge(lines: Sequence[str], orientation: int = 0) -> TextVerdict:
    """The form these lines of text name, if any (pure: the rule tests exercise)."""
    normed = [n for text in lines if (n := normalize(text))]
    best: tuple[float, str, str, str] = (0.0, "", "", "")  # similarity, form, line, title
    for form, w in form_wordings().items():
        for title in w.titles:
            t = normalize(title)
            for line in normed:
                if len(line) <= TITLE_SLACK * len(t) + 4 and (s := similarity(line, title)) > best[0]:
                    best = (s, form, line, t)
    # Another document's title that ours holds (給与所得の源泉徴収票 in 給与所得の源泉徴収票兼給与支払報告書, a
    # payroll program's combined print) is no evidence against it.
    foreign = 0.0
    for w in form_wordings().values():
        for other in w.not_titles:
            o = normalize(other)
            if best[0] >= TITLE and o in best[3]:
                continue
            for line in normed:
                if len(line) <= TITLE_SLACK * len(o) + 4:
                    foreign = max(foreign, similarity(line, other) if len(line) >= len(o) - 1 else 0.0)
    sim, form, title_line, _ = best
    labels = label_count(form, normed, exclude=title_line) if form else 0
    is_foreign = foreign >= TITLE and foreign > sim
    named = not is_foreign and form and (
        (sim >= TITLE and labels >= LABELS) or (sim >= TITLE_NOISY and labels >= LABELS_FOR_NOISY))
    return TextVerdict(form if named else None, title_line, round(sim, 3), labels, is_foreign, orientation,
                       tuple(lines))


def label_count(form: str, normed: Sequence[str], *, exclude: str = "") -> int:
    """Distinct fields of `form` whose label (a wording of three or more characters) a short line reads as."""
    found = 0
    for wordings in _label_wordings(form).values():
        if any(len(line) <= len(w) + LINE_SLACK and line != exclude and similarity(line, w) >= LABEL_MATCH
               and line.startswith(w[:1]) for w in wordings for line in normed):
            found += 1
    return found


@cache
def _label_wordings(form: str) -> dict[str, tuple[str, ...]]:
    """Each field's wordings long enough to tell (氏名 and 住所 label every form and every certificate)."""
    fields = contract_forms()[form].fields
    extra = form_wordings()[form].fields
    out = {}
    for key, c in fields.items():
        words = {normalize(w) for w in (c.label, *extra.get(key, ()))}
        if kept := tuple(sorted(w for w in words if len(w) >= 3)):
            out[key] = kept
    return out


def text_verdict(gray: np.ndarray, engine: RecognitionEngine, first_orientation: int = 0) -> TextVerdict:
    """Read the page in `first_orientation` (the CNN's), then in the other turns while no form is named."""
    tried: list[TextVerdict] = []
    for turn in range(4):
        orientation = (first_orientation + (0, 2, 1, 3)[turn]) % 4
        # The label fallback reads its labels from the same reading of the page (`read_page` keeps it).
        reading = read_page(gray, (-90 * orientation) % 360, engine)
        verdict = judge(reading.lines() if reading is not None else [], orientation)
        if verdict.form is not None or verdict.foreign:
            return verdict
        tried.append(verdict)
        if turn == 0 and _reads_upright(verdict):
            break  # the page reads as text this way up: it prints no form's title, whichever way it is turned
    return max(tried, key=lambda v: (v.title_similarity, v.labels))


def _reads_upright(verdict: TextVerdict) -> bool:
    """Most of what was read is words, not the noise an upside-down page reads as: a dozen lines of some
    length whose letters are mostly kanji and kana."""
    long = [t for t in verdict.lines if len(normalize(t)) >= 4]
    if len(long) < 12:
        return False
    japanese = sum(_is_japanese(c) for t in long for c in t) / max(1, sum(len(t) for t in long))
    return japanese >= 0.6


def _is_japanese(c: str) -> bool:
    return "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff"
