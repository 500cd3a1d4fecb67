"""Text-first classification: a page is the form whose title it prints, confirmed by that form's labels.

The whole page is read (PP-OCR detection and recognition, `page_reading`), upright as the CNN turned it first,
then in the other three orientations while no title is found. A form is named when a line reads as one of its titles
(`forms_templates/wordings/`) and the page prints at least a few of its labels; a line that reads as another
document's title (給与所得の源泉徴収票 alone, 住民票の写し, a cover letter's 給与支払報告書の提出について) is
evidence against every form. This needs no template and no CNN, so it holds on layouts neither has seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from yomitori.forms_templates.contract import contract_forms
from yomitori.forms_templates.wordings import form_wordings
from yomitori.ocr.engine import RecognitionEngine

from .page_reading import lines_run_down, read_page
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
    letters = [_Letters(line) for line in normed]
    best: tuple[float, str, str, str] = (0.0, "", "", "")  # similarity, form, line, title
    for form, w in form_wordings().items():
        for title in w.titles:
            t = normalize(title)
            of_title = _Letters(title)
            for line, of_line in zip(normed, letters, strict=True):
                if len(line) <= TITLE_SLACK * len(t) + 4 and of_line.bound(of_title) > best[0] \
                        and (s := similarity(line, title)) > best[0]:
                    best = (s, form, line, t)
    # Another document's title that ours holds (給与所得の源泉徴収票 in 給与所得の源泉徴収票兼給与支払報告書, a
    # payroll program's combined print) is no evidence against it.
    foreign = 0.0
    for w in form_wordings().values():
        for other in w.not_titles:
            o = normalize(other)
            if best[0] >= TITLE and o in best[3]:
                continue
            of_other = _Letters(other)
            for line, of_line in zip(normed, letters, strict=True):
                if len(line) <= TITLE_SLACK * len(o) + 4 and len(line) >= len(o) - 1 \
                        and of_line.bound(of_other) > foreign:
                    foreign = max(foreign, similarity(line, other))
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
        # The cheap tests first: most lines begin with no letter of a wording.
        if any(len(line) <= len(w) + LINE_SLACK and line != exclude and line.startswith(w[:1])
               and similarity(line, w) >= LABEL_MATCH for w in wordings for line in normed):
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


class _Letters:
    """A text's letters as `similarity` compares them, for an upper bound of it: no window of a line can match
    more letters of a title than the two have in common, so a line that cannot beat the best so far is skipped
    without its ratios (the same verdict, a fraction of the work)."""

    def __init__(self, text: str) -> None:
        self.text = normalize(text)
        self.counts = Counter(self.text)

    def bound(self, title: _Letters) -> float:
        """At least `similarity(self.text, title.text)`."""
        la, n = len(self.text), len(title.text)
        if not la or not n:
            return 0.0
        common = sum((self.counts & title.counts).values())
        whole = 2.0 * common / (la + n)
        return max(whole, 2.0 * min(common, n) / (2 * n)) if la >= n else whole


def text_verdict(gray: np.ndarray, engine: RecognitionEngine, first_orientation: int = 0) -> TextVerdict:
    """Read the page in `first_orientation` (the CNN's), then in the other turns while no form is named. When its
    lines of text run down as the CNN turned it (the CNN took a page on its side for upright), the two turns that
    lie it flat are read first: its lines are found before they are read, and reading a page on its side is wasted.
    """
    tried: list[TextVerdict] = []
    turns = (1, 3, 0, 2) if lines_run_down(gray, (-90 * first_orientation) % 360, engine) else (0, 2, 1, 3)
    for turn in range(4):
        orientation = (first_orientation + turns[turn]) % 4
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
