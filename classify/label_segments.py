"""A detected line cut where the form's printed wordings begin and end.

The text detector joins whatever stands close on a line: on a payroll printout or a tightly ruled form one
"line" is often a label and its value (電話番号044-251-0226), a value and the next field's label
(4,754,719給与所得控除後の給与等の金額), or a whole row of both (法人番号 4436… 支払者住所 神奈川県…). Labels
and values cannot be paired before they are told apart. The recognizer gives each character's place along
the line, so the line is cut into its printed parts (stretches that read as one of the form's wordings) and
the parts between them (values), each with its own box. Wordings are data (`synonyms`, `printed_texts`);
nothing here knows a form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from yomitori.forms_templates.schema import Box

MIN_WORDING = 3  # shorter wordings (氏名, 住所) are found only as a whole line's head: too common inside values
MATCH = 0.85  # how closely a stretch of the line must read as a wording (one letter of seven misread): a value
# may hold a word of print one letter off (源泉徴収時 in a remark, 源泉徴収票 a title)
REST_MATCH = 0.6  # … and letters beside it with it as a longer wording (a label's misread beginning)
COVER = 0.6  # share of a wording's letter pairs a line must hold before its stretches are compared


@dataclass(frozen=True)
class Part:
    box: Box
    text: str
    printed: bool  # reads as one of the form's wordings


class Wordings:
    """The form's printed wordings, indexed by their letter pairs so that a line is compared only with
    those it may hold."""

    def __init__(self, wordings: Iterable[str]) -> None:
        self.words = sorted({w for w in wordings if len(w) >= MIN_WORDING})
        self.pairs: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            for p in {w[j : j + 2] for j in range(len(w) - 1)}:
                self.pairs.setdefault(p, []).append(i)

    def held(self, text: str) -> list[str]:
        """The wordings most of whose letter pairs the text holds."""
        counts: dict[int, int] = {}
        for p in {text[j : j + 2] for j in range(len(text) - 1)}:
            for i in self.pairs.get(p, ()):
                counts[i] = counts.get(i, 0) + 1
        return [self.words[i] for i, n in counts.items() if n >= COVER * (len(self.words[i]) - 1)]


def split_line(box: Box, text: str, positions: Sequence[float], wordings: Wordings,
               char_norm: Callable[[str], str], gap: Callable[[Box, float], float | None]) -> list[Part]:
    """The line's printed parts and the values between them, left to right; the line whole when it holds
    no wording beside something else, or when the recognizer gave no letter places.

    `gap(box, x)`: the middle of a gap in the ink near x (mm) on the line, or None. Print and value stand
    apart (a space, a cell's wall); a wording run on into the letters after it (源泉徴収時所得税… in a
    remark) is part of a value, not a label."""
    whole = [Part(box, text, False)]
    if len(positions) != len(text) or len(text) < 2:
        return whole
    # The line as wordings are compared (normalized), with each letter's index in the raw text.
    norm, raw = [], []
    for i, ch in enumerate(text):
        for n in char_norm(ch):
            norm.append(n)
            raw.append(i)
    line = "".join(norm)
    spans = _wording_spans(line, wordings)
    if not spans or (len(spans) == 1 and spans[0][0] == 0 and spans[0][1] >= len(line) - 1):
        return whole
    cuts: list[list] = []  # [raw start, raw end, printed]
    at = 0
    for s, e, word in spans:
        if s > at and not _rest_of(word, line[at:s], before=True, wordings=wordings):
            cuts.append([raw[at], raw[s - 1] + 1, False])
        elif s > at:
            s = at  # the letters before are the wording's misread beginning (住所（属）又 of 住所（居所）又は所在地)
        cuts.append([raw[s], raw[e - 1] + 1, True])
        at = e
    if at < len(line):
        if cuts and _rest_of(spans[-1][2], line[at:], before=False, wordings=wordings):
            cuts[-1][1] = len(text)
        else:
            cuts.append([raw[at], len(text), False])
    # A letter or mark between wordings (■ before a heading, 円 after an amount's label) is print too: a line
    # that holds nothing else is print only (a heading 支払金額・控除額), and stays whole.
    for c in cuts:
        letters = "".join(char_norm(ch) for ch in text[c[0] : c[1]])
        if not c[2] and len(letters) < 2 and not any(ch.isdigit() for ch in letters):
            c[2] = True
    if all(c[2] for c in cuts):
        return whole
    x, y, w, h = box
    edges = [x + (0.0 if c[0] == 0 else (positions[c[0] - 1] + positions[c[0]]) / 2) * w for c in cuts] + [x + w]
    for i in range(1, len(cuts)):
        if cuts[i - 1][2] == cuts[i][2]:
            continue
        snapped = gap(box, edges[i])
        if snapped is None:  # print run on into writing: one value
            cuts[i - 1][2] = cuts[i][2] = False
        else:
            edges[i] = snapped
    parts: list[Part] = []
    i = 0
    while i < len(cuts):
        j = i
        while j + 1 < len(cuts) and not cuts[i][2] and not cuts[j + 1][2]:
            j += 1
        part = text[cuts[i][0] : cuts[j][1]].strip()
        if part:
            parts.append(Part((edges[i], y, edges[j + 1] - edges[i], h), part, cuts[i][2]))
        i = j + 1
    return parts if len(parts) > 1 else whole


def _rest_of(word: str, letters: str, *, before: bool, wordings: Wordings) -> bool:
    """Whether letters beside a wording are the rest of a longer wording it ends (`before`) or begins, misread
    (a fax's 住所（属）又 before 所在地): no figures, and together they read as that longer wording."""
    if not letters or any(ch.isdigit() for ch in letters):
        return False
    joined = letters + word if before else word + letters
    for w in wordings.words:
        if len(w) > len(word) and (w.endswith(word) if before else w.startswith(word)) and \
                SequenceMatcher(None, w, joined).ratio() >= REST_MATCH:
            return True
    return False


def _wording_spans(line: str, wordings: Wordings) -> list[tuple[int, int, str]]:
    """Non-overlapping stretches [start, end) of the line that read as wordings (and the wording), longest and
    best first."""
    found: list[tuple[float, int, int, str]] = []
    for w in wordings.held(line):
        n = len(w)
        best: tuple[float, int, int] | None = None
        for size in (n, n - 1, n + 1):
            if size < MIN_WORDING or size > len(line):
                continue
            for s in range(len(line) - size + 1):
                window = line[s : s + size]
                m = SequenceMatcher(None, w, window, autojunk=False)
                if m.quick_ratio() < MATCH:
                    continue
                r = m.ratio()
                # Exact for short wordings: one letter wrong in three is another word.
                if r >= MATCH and (n > 4 or window == w) and (best is None or r > best[0]):
                    best = (r, s, s + size)
        if best is not None:
            found.append((best[0] * (best[2] - best[1]), best[1], best[2], w))
    taken: list[tuple[int, int, str]] = []
    for _, s, e, w in sorted(found, reverse=True):
        if all(e <= a or s >= b for a, b, _ in taken):
            taken.append((s, e, w))
    return sorted(taken)
