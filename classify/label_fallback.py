"""The layout-free fallback: read a known form whose layout has no template by finding its printed labels.

A page of a known form (the classifier named it, but no template registered) is mapped onto its own
ruled frame, its lines of text are detected and read, and each contract field's label is looked for
among them (the contract's label and every bundled layout's wording for that field, fuzzily). The value
is what is written beside or under the label in the same ruled cell, or in the next cell to the right or
below; it is read by the same field reader templates use. Every value goes to review: nothing found this
way may pass the gate on its own. The fields found make a draft template an administrator can correct
and save (`yomitori draft-template`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, timedelta
from difflib import SequenceMatcher
from functools import lru_cache

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from yomitori.forms_templates import LayoutTemplate, contract_forms, templates
from yomitori.forms_templates.schema import Box, Decor, FieldTemplate, Option
from yomitori.forms_templates.wordings import form_wordings
from yomitori.ocr.detect import TextBox
from yomitori.ocr.engine import Reading, RecognitionEngine
from yomitori.ocr.fields import FieldResult, Line, Pending, plan_field, read_in_rounds
from yomitori.ocr.preprocess import FAINT_INK, PX_PER_MM, Registered, ink_mask
from yomitori.wareki import WarekiError, era_from_token, to_gregorian

from .label_segments import Wordings, split_line
from .page_reading import read_page
from .page_rules import cell_at, inside, to_px

TURN_BELOW = 0.35  # below this share of clearly read labels, the page may be upside down: try it turned
CHOICE_MM = 120.0  # a choice's printed options lie within this distance of its label along its row
CHOICE_ROWS_MM = 25.0  # … and within this distance across it
OPTION_MM = 4.0  # an option's printed wording is at least this wide and tall
OPTION_MATCH = 0.75  # how closely a line must read as an option's wording (一括徴収 read -括徴収)
MARK_PX = 40  # pixels of writing around an option (a stretch of a circle, a tick) that mark it
CODE_BOX_MM = 30.0  # the box a choice's number is written in lies this near both its label and an option
NONE_SCORE = 0.3  # what a field left without a label is worth: a line scoring less is no better than none
OWN_WORDING = 0.9  # a line reading this well as a wording only one field prints is that field's anywhere
MATCH = 0.6  # label similarity below which a line of text is not that field's label
MATCH_BILEVEL = 0.45  # … on a fax, whose 1.5 mm labels come out with half their letters wrong (優別 for 種別)
SHORT_LABEL = 3  # a label this short begins a line only when spelt out in full
NEAR_LABEL = 0.3  # … and from which it may be one misread: read again by the second recognizer
FALLBACK_CONFIDENCE = 0.5  # the most a fallback value may claim: a person checks every one
# Value types read as text beside a label; choices, checkboxes and dates need their printed options.
READABLE = {"text", "kana", "digits", "my_number", "corporate_number", "payer_number", "amount", "count",
            "postal_code", "phone", "year", "month", "date"}
DATED = {"date", "year", "month"}  # value types an empty box of prints its units (年 月 日) in
ROW_TYPES = {"my_number", "corporate_number", "payer_number", "postal_code"}  # often one character per cell
MY_NUMBER_DIGITS = 12
NEXT_CELL_MM = 3.5  # the next cell along a row starts at most this far past the label's cell
ROOM_BEFORE_LABEL_MM = 6.0  # a value before another label on its row has at least this much room
ROW_LENGTH = {"my_number": MY_NUMBER_DIGITS, "corporate_number": 13, "postal_code": 7}  # cells of a full row
ROW_CELL_MM = 30.0  # a cell of a one-character-per-cell row is at most this wide (four cells; five, a divider lost)
HEAD_MM = 2.0  # a label this near its cell's top heads the cell …
ROOM_MM = 4.0  # … and leaves room for a value under it when this much of the cell is left below
MIN_VALUE_INK = 120  # pixels of writing that make an area worth reading
FALLBACK_REASON = "テンプレートなし: 印刷された項目名から位置を推定"
NOT_FOUND = "テンプレートなし: 項目名が見つからず位置不明"
COLUMN_MM = 4.0  # labels of one numbered column stand this near one another across
ROW_MM = 10.0  # a numbered row's labels stand within this of its name's label, down the page
KANA = "_kana"  # a name's reading is its key with this ending (recipient_name → recipient_name_kana)
KANA_NAME_MM = 12.0  # a name's label follows its フリガナ on its row, or this near under it
SQUARE_MM = (3.0, 7.5)  # the sides of a printed check square (within its rules, as `cells` finds it)
SQUARE_GAP_MM = 12.0  # … at most this far from its label's end
OPEN_CELL_LINES = 4.0  # a cell holding other labels and this many lines tall is open: its value is cut out round it
OPEN_BELOW_LINES = 3.0  # … and lies on its line or at most this many lines under it
GAP_CUT_MM = 1.0  # a gap this wide between characters ends a label that runs on into its value
SPLIT_REACH_MM = 2.5  # … found this near where the recognizer's letters put the end of a wording in a line
UNITS = {"円", "人", "内", "従", "従人", "年分", "長"}  # printed beside values (…市長): never part of a value


@dataclass(frozen=True)
class Detected:
    """A line of text on the page, in page millimetres."""

    box: Box
    text: str


@dataclass
class Fallback:
    """What the fallback found on one page: the draft layout and its readings."""

    draft: LayoutTemplate
    registered: Registered
    labels: dict[str, Detected] = field(default_factory=dict)
    cells: list[Box] = field(default_factory=list)
    era_numbers: bool = False  # the page prints a legend of era numbers (1 明治 … 5 令和)
    lines: list[Detected] = field(default_factory=list)  # every line of text read on the page
    chosen: dict[str, FieldTemplate] = field(default_factory=dict)  # where each value was read, once read
    pending: dict[str, Pending] = field(default_factory=dict)
    # Ink that is neither rule nor the glyphs of any line of text (printed or written): circles and ticks.
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))

    @property
    def types(self) -> dict[str, str]:
        return {f.key: f.type for f in self.draft.fields}

    def final_draft(self) -> LayoutTemplate:
        """The draft with each field where its value was found (after reading)."""
        return self.draft.model_copy(update={"fields": [self.chosen.get(f.key, f) for f in self.draft.fields]})


# ---------------------------------------------------------------- labels


# Spellings forms use interchangeably (宛先 / あて先, フリガナ / ふりがな): labels compare in one of them. So do
# the recognizer's usual misreadings of label characters in small print (徴 as 微 or 徽, 収 as the Chinese 收)
# and the dashes of （ア）−（イ）: none of them is any label's own character.
_SPELLINGS = {"あて先": "宛先", "ふりがな": "フリガナ", "微": "徴", "徽": "徴", "收": "収",
              **dict.fromkeys("-‐‑–—―－", "−")}


_DROPPED = re.compile(r"[\s()（）\[\]【】・:：、,.]")


@lru_cache(maxsize=4096)
def _char_norm(ch: str) -> str:
    """One letter as `_norm` has it inside a line (its spellings of one letter; punctuation and spaces gone)."""
    t = unicodedata.normalize("NFKC", ch)
    t = "".join(_SPELLINGS.get(c, c) for c in t)
    return _DROPPED.sub("", t)


@lru_cache(maxsize=16)
def _wordings(form: str, exclude_layout: str | None) -> Wordings:
    """Every wording the form prints: its labels' and its headings'."""
    words = synonyms(form, exclude_layout=exclude_layout)
    return Wordings({s for v in words.values() for s in v} | set(printed_texts(form, exclude_layout=exclude_layout)))


@lru_cache(maxsize=1 << 16)  # every label is compared with every line of text, in four page turns
def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for variant, usual in _SPELLINGS.items():
        text = text.replace(variant, usual)
    text = re.sub(r"[\s()（）\[\]【】・:：、,.]", "", text)
    # A period's ends are printed 自 … 至 or から … まで: a label ending in one compares as the other.
    return re.sub(r"至$", "まで", re.sub(r"自$", "から", text))


def synonyms(form: str, *, exclude_layout: str | None = None) -> dict[str, set[str]]:
    """Every printed wording of each field's label: the contract's, the form's wordings as data
    (`forms_templates/wordings/`) and each bundled layout's; and the contract's without its bracketed
    asides (年分（令和　年分） is printed 年分) or cut to its head noun
    (異動後の未徴収税額の徴収方法 → 徴収方法) where that is no other field's wording."""
    fields = contract_forms()[form].fields
    found: dict[str, set[str]] = {key: {_norm(c.label)} for key, c in fields.items()}
    for key, spelt in form_wordings()[form].fields.items():
        found[key] |= {_norm(w) for w in spelt}
    for t in templates().values():
        if t.form != form or t.layout == exclude_layout:
            continue
        for f in t.fields:
            if f.label:
                found.setdefault(f.key, set()).add(_norm(f.label))
    bare = {key: _norm(re.sub(r"[（(][^）)]*[）)]", "", c.label)) for key, c in fields.items()}
    heads = {key: b.rsplit("の", 1)[1] for key, b in bare.items() if "の" in b}
    for key in fields:
        taken = set().union(*(v for k, v in found.items() if k != key))
        derived = {bare[key]}
        head = heads.get(key, "")
        if len(head) >= 3 and sum(b.endswith(head) for b in bare.values()) == 1:
            derived.add(head)
        found[key] |= derived - taken
    return {k: {s for s in v if s} for k, v in found.items()}


def printed_texts(form: str, *, exclude_layout: str | None = None) -> list[str]:
    """The form's printed wording other than its labels: the other layouts' headings and notes
    (特別徴収義務者（給与支払者）, 新しい勤務先（…）) and the form's title, normalized."""
    texts = [contract_forms()[form].label]
    for t in templates().values():
        if t.form == form and t.layout != exclude_layout:
            texts += [t.title, *(d.text for d in t.decor if d.text)]
    return [n for text in texts if len(n := _norm(text)) >= 2]


@lru_cache(maxsize=16)  # asked for every view of every page
def printed_bigrams(form: str, *, exclude_layout: str | None = None) -> frozenset[str]:
    """Every pair of adjacent characters in the form's printed wording other than its labels."""
    texts = printed_texts(form, exclude_layout=exclude_layout)
    return frozenset(n[i : i + 2] for n in texts for i in range(len(n) - 1))


def is_printed(text: str, bigrams: AbstractSet[str]) -> bool:
    """A line worded as the form prints its headings (in any order: municipalities reorder them, and a
    character or two may be misread): most of its characters are in pairs the other layouts print."""
    t = _norm(text)
    if len(t) < 4:
        return False
    covered = np.zeros(len(t), bool)
    for i in range(len(t) - 1):
        if t[i : i + 2] in bigrams:
            covered[i : i + 2] = True
    return float(covered.mean()) >= 0.75


def positions(form: str, *, exclude_layout: str | None = None) -> dict[str, list[tuple[float, float]]]:
    """Where each field's label sits in the other layouts, as a share of the frame (0..1, 0..1)."""
    found: dict[str, list[tuple[float, float]]] = {}
    for t in templates().values():
        if t.form != form or t.layout == exclude_layout:
            continue
        fx, fy, fw, fh = t.frame
        for f in t.fields:
            x, y, w, h = f.label_box or f.box
            found.setdefault(f.key, []).append(((x + w / 2 - fx) / fw, (y + h / 2 - fy) / fh))
    return found


@lru_cache(maxsize=1 << 18)  # the same pairs are scored for a view's quality and again to match its labels
def similarity(label: str, text: str) -> float:
    """How well a line reads as this label: whole-line similarity, or the label as the line's beginning."""
    t = _norm(text)
    if not t or not label or set(label).isdisjoint(t):
        return 0.0  # no letter in common: every ratio below is 0 (most pairs of a page's lines and labels)
    whole = SequenceMatcher(None, label, t).ratio()
    head = SequenceMatcher(None, label, t[: len(label)]).ratio()
    # A short label's every character counts: 連絡先 is not the beginning of 連絡者（係・氏名）.
    if len(label) <= SHORT_LABEL and head < 1.0:
        head = 0.0
    head *= 0.9 if len(t) > len(label) else 1.0
    if len(label) < 2:
        return whole
    # A label that is only a two-kana particle (から, まで) often ends a longer printed phrase (未徴収期間 自);
    # a two-kanji one (氏名) ending a line is another field's label (連絡者の係及び氏名).
    tail = 0.9 if re.fullmatch(r"[ぁ-ゖ]{2}", label) and len(t) > 2 and t.endswith(label) else 0.0
    return max(whole, head, tail)


def match_labels(form: str, lines: Sequence[Detected], frame: Box, *, exclude_layout: str | None = None,
                 unruled: np.ndarray | None = None, match: float = MATCH) -> dict[str, Detected]:
    """Each field's label among the page's lines of text; where one wording labels several fields (郵便番号,
    氏名, 個人番号), the one nearest where the other layouts print it."""
    words, where = synonyms(form, exclude_layout=exclude_layout), positions(form, exclude_layout=exclude_layout)
    keys = list(words)
    sims = np.array([[max(similarity(s, d.text) for s in words[key]) for d in lines] for key in keys])
    # … and as a wording no other field prints (氏名（漢字）, not 氏名): such a line names its field wherever it stands
    shared = {s for key in keys for s in words[key] if sum(s in words[k] for k in keys) > 1}
    own_sims = np.array([[max((similarity(s, d.text) for s in words[key] - shared), default=0.0) for d in lines]
                         for key in keys])
    every = {s for v in words.values() for s in v if len(s) >= 2}
    headings = printed_texts(form, exclude_layout=exclude_layout)
    bigrams = printed_bigrams(form, exclude_layout=exclude_layout)
    for i, d in enumerate(lines):
        # A heading (給与所得者 over its block) is no label, though it begins like one (給与所得者 氏名): it
        # reads as a heading the other layouts print, and more so than as any label.
        t = _norm(d.text)
        heading = max((SequenceMatcher(None, h, t).ratio() for h in headings), default=0.0) if t else 0.0
        # A line worded mostly as the headings are (in any order) is one unless it reads well as a label.
        best = sims[:, i].max(initial=0.0)
        if is_heading(d.text, every) or (heading >= 0.9 and heading > best) or (
                best < 0.75 and is_printed(d.text, bigrams)):
            sims[:, i] = 0.0
    centres = np.array([_centre(d.box) for d in lines]) if lines else np.zeros((0, 2))
    row = {key: i for i, key in enumerate(keys)}
    fx, fy, fw, fh = frame
    shares = (centres - (fx, fy)) / (fw, fh) if lines else centres  # each line's place in the frame, 0..1
    # A field's own party (payer_…, new_employer_…, spouse_…) is printed together: a wording that labels
    # several fields is taken for the one whose party's unmistakable labels (lines that read as only one
    # field's label) are nearest. This holds on any layout, where the other layouts' positions may not.
    claims = (sims >= match).sum(axis=0) if lines else np.zeros(0)
    anchors: dict[str, list[np.ndarray]] = {}
    for key in keys:
        sure = [i for i in range(len(lines)) if claims[i] == 1 and sims[row[key], i] >= match]
        if sure:
            best = max(sure, key=lambda i: sims[row[key], i])
            anchors.setdefault(_party(key), []).append(shares[best])
    numbers = [row_number(d.text) for d in lines]
    scored: list[tuple[float, str, int]] = []
    for key in keys:
        # A line that prints its row's number (扶養親族（2）氏名) labels that row only.
        own = int(m.group(2)) if (m := _NUMBERED.match(key)) else None
        options = [i for i in range(len(lines)) if sims[row[key], i] >= match
                   and (own is None or numbers[i] is None or numbers[i] == own)]
        near = {i: min((float(np.hypot(*(shares[i] - a))) for a in anchors.get(_party(key), [])
                        if float(np.hypot(*(shares[i] - a))) > 0), default=0.0) for i in options}
        nearest = min(near.values(), default=0.0)
        for i in options:
            px, py = shares[i]
            far = min((np.hypot(px - a, py - b) for a, b in where.get(key, [])), default=0.5)
            far *= 0.0 if own_sims[row[key], i] >= OWN_WORDING else 1.0
            scored.append((float(sims[row[key], i]) - 0.5 * far - 0.5 * (near[i] - nearest), key, i))
    chosen = _assign(scored)
    # A フリガナ printed for several people (the recipient, the spouse, each dependent) is the reading of the name
    # whose label follows it: on its row, or on the row under it. Its other claimants let it go.
    kana = _kana_owners(chosen, lines, keys)
    if kana:
        scored = [(v, key, i) for v, key, i in scored if i not in kana or not key.endswith(KANA) or kana[i] == key]
        chosen = _assign(scored)
    # A numbered block prints each column's label once per row, one under the other: a member taken from
    # another column (the spouse's 氏名 above the 扶養親族 rows) is given back, and the page assigned again.
    columns = _columns(chosen, lines)
    if columns:
        scored = [(v, key, i) for v, key, i in scored
                  if (m := _NUMBERED.match(key)) is None or (m.group(1), m.group(3)) not in columns
                  or abs(lines[i].box[0] - columns[m.group(1), m.group(3)]) <= COLUMN_MM]
        chosen = _assign(scored)
    # Where a numbered column's labels print their rows' numbers, a line without one is no row of it (the
    # recipient's 氏名 under a block of 扶養親族（1）… 氏名).
    printing = Counter((m.group(1), m.group(3)) for k, i in chosen.items() if (m := _NUMBERED.match(k)) and numbers[i])
    numbered = {column for column, n in printing.items() if n >= 2}
    if numbered:
        scored = [(v, key, i) for v, key, i in scored
                  if (m := _NUMBERED.match(key)) is None or (m.group(1), m.group(3)) not in numbered or numbers[i]]
        chosen = _assign(scored)
    # A numbered row's other labels stand on its name's row; one elsewhere (a 個人番号 of another block) is
    # no label of that row, and the line is free for its own field.
    names = in_row_order({k: lines[i] for k, i in chosen.items() if (m := _NUMBERED.match(k)) and m.group(3) == "name"})
    rows = {k.rsplit("_", 1)[0]: _centre(d.box)[1] for k, d in names.items()}  # dependent_1 → its row
    if rows:
        scored = [(v, key, i) for v, key, i in scored
                  if (m := _NUMBERED.match(key)) is None or f"{m.group(1)}_{m.group(2)}" not in rows
                  or abs(_centre(lines[i].box)[1] - rows[f"{m.group(1)}_{m.group(2)}"]) <= ROW_MM]
        chosen = _assign(scored)
    return in_row_order({key: _label_part(lines[i], words[key], unruled) for key, i in chosen.items()})


def _following(kana: Box, name: Box) -> tuple[int, float] | None:
    """Where a name's label stands after a フリガナ in reading order: (0, x) on its row to the right, (1, gap)
    on a row under it that it overlaps across; None: not after it."""
    kx, ky, kw, kh = kana
    x, y, w, h = name
    if abs((y + h / 2) - (ky + kh / 2)) <= max(h, kh) / 2:
        return (0, x) if x > kx else None
    below = y - (ky + kh)
    return (1, below) if -kh / 2 <= below <= KANA_NAME_MM and x < kx + kw and x + w > kx else None


def _kana_owners(chosen: dict[str, int], lines: Sequence[Detected], keys: Sequence[str]) -> dict[int, str]:
    """Each line taken for a name's reading, given to the field whose name's label comes first after it in
    reading order (on its row to the right, else on a row under it within KANA_NAME_MM)."""
    readings = {k for k in keys if k.endswith(KANA)}
    names = {key: lines[i].box for key, i in chosen.items() if f"{key}{KANA}" in readings}
    owners: dict[int, str] = {}
    for key, i in chosen.items():
        if not key.endswith(KANA):
            continue
        after = [(o, name) for name, box in names.items() if (o := _following(lines[i].box, box)) is not None]
        if after:
            owners[i] = f"{min(after)[1]}{KANA}"
    return owners


_ROW_NUMBER = re.compile(r"(?<![0-9])([1-9])(?![0-9歳])")  # 扶養親族（2）, ②: not the 16 of 16歳未満


def row_number(text: str) -> int | None:
    """The row number a numbered block's label prints (控除対象扶養親族（2）氏名 → 2), if it prints one."""
    found = {int(n) for n in _ROW_NUMBER.findall(_norm(text))}
    return found.pop() if len(found) == 1 else None


def _assign(scored: list[tuple[float, str, int]]) -> dict[str, int]:
    """One assignment over the page: the fields take lines so that the sum of their scores is highest, each
    line one field's. Best-first would let a field with many fitting lines take the only line another field has
    (a dependent row's 氏名 taking the recipient's 氏名（漢字）)."""
    if not scored:
        return {}
    keys = sorted({key for _, key, _ in scored})
    lines = sorted({i for _, _, i in scored})
    at_key, at_line = {k: n for n, k in enumerate(keys)}, {i: n for n, i in enumerate(lines)}
    # Every field has a line of its own that stands for "none": taken only where no line is free.
    value = np.full((len(keys), len(lines) + len(keys)), -1e6)
    value[np.arange(len(keys)), len(lines) + np.arange(len(keys))] = NONE_SCORE
    for v, key, i in scored:
        value[at_key[key], at_line[i]] = max(value[at_key[key], at_line[i]], v)
    rows, cols = linear_sum_assignment(value, maximize=True)
    return {keys[r]: lines[c] for r, c in zip(rows, cols, strict=True) if c < len(lines)}


def _columns(chosen: dict[str, int], lines: Sequence[Detected]) -> dict[tuple[str, str], float]:
    """Where each numbered column's labels stand (the left edge most of its members share)."""
    xs: dict[tuple[str, str], list[float]] = {}
    for key, i in chosen.items():
        if m := _NUMBERED.match(key):
            xs.setdefault((m.group(1), m.group(3)), []).append(lines[i].box[0])
    out = {}
    for column, lefts in xs.items():
        if len(lefts) >= 2:
            out[column] = max(lefts, key=lambda x: sum(abs(x - o) <= COLUMN_MM for o in lefts))
    return out


def is_heading(text: str, wordings: set[str]) -> bool:
    """A block's heading lists the labels under it (16歳未満の扶養親族（フリガナ・氏名・個人番号）): it holds
    three or more separate wordings of labels, and reads as none of them."""
    t = _norm(text)
    held = {w for w in wordings if w in t}
    parts = {w for w in held if not any(o != w and o in w for o in held)}  # the smallest: 氏名, not 配偶者氏名
    return len(parts) >= 3 and not any(SequenceMatcher(None, w, t).ratio() >= 0.9 for w in wordings)


def _party(key: str) -> str:
    """Whose a field is, from its contract key: payer_address → payer, new_employer_phone → new."""
    return key.split("_", 1)[0]


_NUMBERED = re.compile(r"^(.*?)_(\d+)_(.*)$")  # dependent_2_name: the second row of a numbered block


def in_row_order(found: dict[str, Detected]) -> dict[str, Detected]:
    """Numbered rows (扶養親族 1–4) print the same labels on every row, so position alone cannot tell the
    rows apart: the labels found for one column of a numbered block are given to its rows in reading order."""
    columns: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for key in found:
        if m := _NUMBERED.match(key):
            columns.setdefault((m.group(1), m.group(3)), []).append((int(m.group(2)), key))
    out = dict(found)
    for members in columns.values():
        keys = [k for _, k in sorted(members)]
        labels = sorted((found[k] for k in keys), key=lambda d: (round(_centre(d.box)[1] / 2.0), d.box[0]))
        out.update(zip(keys, labels, strict=True))
    return out


def _label_part(d: Detected, labels: set[str], unruled: np.ndarray | None = None) -> Detected:
    """The label alone, when the line read runs on into the value written after it (フリガナヤマザキ). The
    cut is first put by the share of characters, then (given the page's ink off the rules) moved to the
    first clear gap near it: a value's characters are often spaced wider than the label's (one per cell)."""
    text = _norm(d.text)
    # Of wordings the line begins with alike (宛先, 宛先市区町村長), the longest is the label.
    label = max(labels, key=lambda s: (similarity(s, d.text), len(s), s))
    if len(text) <= len(label) + 1 or SequenceMatcher(None, label, text).ratio() >= 0.8:
        return d
    x, y, w, h = d.box
    cut = w * len(label) / len(text)
    if unruled is not None:
        cut = _gap_near(unruled, d.box, cut)
    return Detected((x, y, cut, h), text[: len(label)])


def _inside_rules(d: Detected, ruled: np.ndarray) -> Detected:
    """A label's box ends at the first rule across it: a printed label stays in its cell, and a line read on
    past the rule (個人番号又は法人番号 5, a digit more than the tolerance of `_label_part`) is a value."""
    x0, y0, x1, y1 = to_px(d.box)
    across = ruled[max(0, y0) : y1, max(0, x0) : x1].mean(axis=0) >= 0.8 if y1 > y0 and x1 > x0 else np.zeros(0)
    start = round(0.3 * across.size)  # a rule in a label's first part is its own cell's wall, caught in the box
    hits = np.flatnonzero(across[start:])
    if hits.size == 0:
        return d
    x, y, _, h = d.box
    return Detected((x, y, (start + int(hits[0])) / PX_PER_MM, h), d.text)


def _gap_near(unruled: np.ndarray, box: Box, cut: float) -> float:
    """Millimetres from the box's left to the middle of the first gap of ≥ GAP_CUT_MM without ink between
    0.6 and 1.4 times `cut`; `cut` itself when there is none."""
    gaps = _gaps(unruled, box, cut * 0.6, cut * 1.4)
    return gaps[0] if gaps else cut


def _gap_at(unruled: np.ndarray, box: Box, x: float) -> float | None:
    """The middle of the gap of ≥ GAP_CUT_MM without ink nearest x (mm on the page) within SPLIT_REACH_MM on
    the line's box; None when the ink runs on through there."""
    gaps = _gaps(unruled, box, x - box[0] - SPLIT_REACH_MM, x - box[0] + SPLIT_REACH_MM)
    return box[0] + min(gaps, key=lambda g: abs(g - (x - box[0]))) if gaps else None


def _gaps(unruled: np.ndarray, box: Box, lo: float, hi: float) -> list[float]:
    """Middles (mm from the box's left) of the gaps of ≥ GAP_CUT_MM without ink that end between lo and hi."""
    x0, y0, x1, y1 = to_px(box)
    cols = unruled[max(0, y0) : y1, max(0, x0) : x1].any(axis=0)
    need, run, found = max(1, round(GAP_CUT_MM * PX_PER_MM)), 0, []
    start = max(0, round(lo * PX_PER_MM) - need)
    for i in range(start, min(round(hi * PX_PER_MM) + need, cols.size)):
        run = 0 if cols[i] else run + 1
        if run == need:
            found.append((i - need / 2) / PX_PER_MM)
    return found


def _centre(b: Box) -> tuple[float, float]:
    return b[0] + b[2] / 2, b[1] + b[3] / 2


def value_areas(label: Box, all_cells: Sequence[Box], *, row: bool = False, others: Sequence[Box] = (),
                most: int | None = None) -> tuple[list[Box], list[Box]]:
    """Where a label's value may be written: in its own cell (under, beside or before the label), and in
    the next cell to the right or below. `row`: the value is a row of one-character cells (個人番号 …),
    which together make the cell to the right, up to a cell with another label (`others`) in it, and of
    `most` cells at most where the value has that many characters (the next block's row number may follow)."""
    lx, ly, lw, lh = label
    cx, cy = lx + lw / 2, ly + lh / 2
    cell = cell_at(cx, cy, all_cells)
    own: list[Box] = []
    beside: list[Box] = []
    if cell is None:
        return own, beside
    x, y, w, h = cell
    right, below, left = x + w - (lx + lw), y + h - (ly + lh), lx - x
    if below >= 3.0:
        # Under the label: a value starts at most a little left of it (what is further left is a
        # neighbour's, when the rule between them was lost).
        start = max(x, lx - 3.0)
        top = _under_top(label)
        own.append((start, top, x + w - start, y + h - top))
    # The next cell along the row: past the label cell's wall, or past two walls (a label boxed on its own).
    # A cell holding the label's own (itself, the section round a row of boxes) is no next cell.
    beyond = [b for b in all_cells if not (b[0] <= x and b[1] <= y and b[0] + b[2] >= x + w and b[1] + b[3] >= y + h)]
    nxt = cell_at(x + w + 1.5, cy, beyond) or cell_at(x + w + NEXT_CELL_MM, cy, beyond)
    # A row of cells never runs back into the label's own cell, nor on into a cell another label heads.
    rest = [b for b in all_cells if b != cell and not any(inside(*_centre(o), b) for o in others)] if row else []
    if right >= 6.0:
        end = lx + lw + right
        if row and nxt is not None and nxt[2] <= ROW_CELL_MM:
            # The row of cells runs on past this cell (its first cells merged with the label's where a light
            # divider was lost): the value is the whole row.
            run = _row_from(nxt, rest)  # its first cells may be in the label's: counted from there, not here
            end = max(end, run[0] + run[2])
        own.append((lx + lw, y, end - (lx + lw), h))
    if left >= 6.0:
        own.append((x, y, left, h))  # a unit after the value: 年分, 円
    if nxt is not None:
        beside.append(_row_from(nxt, rest, most) if row else nxt)
    under = cell_at(cx, y + h + 1.5, beyond)
    if under is not None:
        beside.append(_row_from(under, rest, most) if row else under)
    keep = [a for a in own if a[2] > 2.0 and a[3] > 2.0], [a for a in beside if a[2] > 2.0 and a[3] > 2.0]
    return keep


def _owner(written: np.ndarray, area: Box, labels: Sequence[Detected]) -> Detected | None:
    """The label the writing in the area follows on its row (the nearest ending before it), if any."""
    x0, y0, x1, y1 = to_px(area)
    x0, y0 = max(0, x0), max(0, y0)
    ys, xs = np.nonzero(written[y0:y1, x0:x1])
    if xs.size < MIN_VALUE_INK:
        return None
    left, middle = (x0 + xs.min()) / PX_PER_MM, (y0 + (ys.min() + ys.max()) / 2) / PX_PER_MM
    before = [d for d in labels if d.box[0] + d.box[2] <= left + 1.0 and d.box[1] <= middle <= d.box[1] + d.box[3]]
    return max(before, key=lambda d: d.box[0] + d.box[2]) if before else None


def _up_to_labels(area: Box, labels: Sequence[Detected]) -> Box | None:
    """The area up to the first other label in it on its row; None when a label stands at its start or off
    its row (the cell is that label's field's)."""
    x, y, _, h = area
    held = [d for d in labels if inside(*_centre(d.box), area)]
    if not held:
        return area
    first = min(held, key=lambda d: d.box[0])
    row = abs(_centre(first.box)[1] - (y + h / 2)) <= max(first.box[3], h / 2)
    if not row or first.box[0] - x < ROOM_BEFORE_LABEL_MM:
        return None
    return (x, y, first.box[0] - 0.5 - x, h)


def _under_top(label: Box) -> float:
    """Where a value written under its label starts: a little above the label's foot (the two may touch)."""
    return label[1] + label[3] * 0.8


def _heads_its_cell(label: Box, all_cells: Sequence[Box]) -> bool:
    """The label is printed at the top of a wider cell with room under it for a line of writing (a printout's
    boxes, the 役職名 of a form): that cell is the field's own, not a label cell beside or over the value's."""
    lx, ly, lw, lh = label
    cell = cell_at(lx + lw / 2, ly + lh / 2, all_cells)
    if cell is None:
        return False
    _, y, w, h = cell
    # A label centred in its cell, or filling its width (フリガナ beside the name's cell), is a label cell's.
    above, below = ly - y, y + h - (ly + lh)
    return above <= HEAD_MM and below >= max(ROOM_MM, 2 * above) and w >= lw + 2 * ROOM_MM


def _drop_dividers(written: np.ndarray, area: Box, printed: np.ndarray, ruled: np.ndarray) -> None:
    """Erase the rules between one-character cells, which would read as 1s. They may be too short or too
    faint to be found as rules, or broken in the dark ink: a divider is a column of (lightly) printed ink
    that runs the whole height of the row, from its top rule to its bottom rule; a written 1 does not."""
    x0, y0, x1, y1 = to_px(area)
    x0, y0 = max(0, x0), max(0, y0)
    region = written[y0:y1, x0:x1]
    light, across = printed[y0:y1, x0:x1], ruled[y0:y1, x0:x1]
    if region.size == 0:
        return
    # The row's own top and bottom rules bound it (the area may reach a little into the rows around).
    rows = np.flatnonzero(across.mean(axis=1) >= 0.6)
    mid = region.shape[0] // 2
    top = max((r for r in rows if r < mid), default=0)
    bottom = min((r for r in rows if r > mid), default=region.shape[0])
    inset = max(1, round(0.4 * PX_PER_MM))
    band = light[top + inset : bottom - inset]
    if band.shape[0] < 2 * PX_PER_MM:
        return
    # A column allowing a pixel of tilt either way: the divider may lean after the page is warped flat.
    wide = cv2.dilate(band.astype(np.uint8), np.ones((1, 3), np.uint8)).astype(bool)
    columns = wide.mean(axis=0) >= 0.9
    mask = np.zeros_like(region)
    mask[:, columns] = True
    region &= ~cv2.dilate(mask.astype(np.uint8), np.ones((1, 5), np.uint8)).astype(bool)
    # Short ticks that hang from the row's rules (no full divider) are straight strokes nearly its height.
    n = max(3, round(region.shape[0] * 0.75))
    ticks = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    region &= ~cv2.dilate(ticks, np.ones((3, 3), np.uint8)).astype(bool)


def _check_box(label: Detected, all_cells: Sequence[Box], written: np.ndarray) -> Box | None:
    """Where a checkbox's mark is: under its label, in its own cell or the cell below, as wide as the label.
    The box is drawn tight round the writing found there (a tick, a circle, a printout's *), so that the
    template reader's share of ink tells a mark from specks; with no writing, the whole place (unmarked)."""
    lx, ly, lw, lh = label.box
    square = _square_beside(label.box, all_cells)
    if square is not None:
        return _tight(square, written)
    cell = cell_at(lx + lw / 2, ly + lh / 2, all_cells)
    if cell is None:
        return None
    x, y, w, h = cell
    if y + h - (ly + lh) < 3.0:  # no room under the label: the mark is in the cell below
        cell = cell_at(lx + lw / 2, y + h + 1.5, all_cells)
        if cell is None or cell[3] > 12.0:
            return None
        x, y, w, h = cell
        top = y
    else:
        top = ly + lh
    x0, x1 = max(x, lx - 1.5), min(x + w, lx + lw + 1.5)
    area = (x0, top, x1 - x0, min(y + h, top + 8.0) - top)
    if area[2] < 2.0 or area[3] < 2.0:
        return None
    return _tight(area, written)


def _square_beside(label: Box, all_cells: Sequence[Box]) -> Box | None:
    """A printed check square on the label's line, just after it (or before it): 未成年者 □, □ 一括徴収."""
    lx, ly, lw, lh = label
    cy = ly + lh / 2
    near = []
    for b in all_cells:
        x, y, w, h = b
        if not (SQUARE_MM[0] <= w <= SQUARE_MM[1] and SQUARE_MM[0] <= h <= SQUARE_MM[1]) or abs(y + h / 2 - cy) > lh:
            continue
        gap = x - (lx + lw) if x >= lx + lw - 0.5 else lx - (x + w)
        if -0.5 <= gap <= SQUARE_GAP_MM:
            near.append((gap, b))
    return min(near)[1] if near else None


def _tight(area: Box, written: np.ndarray) -> Box:
    a0, b0, a1, b1 = to_px(area)
    ys, xs = np.nonzero(written[max(0, b0) : b1, max(0, a0) : a1])
    if xs.size < MARK_PX:
        return area
    bx, by = (max(0, a0) + xs.min()) / PX_PER_MM, (max(0, b0) + ys.min()) / PX_PER_MM
    bw, bh = (xs.max() - xs.min() + 1) / PX_PER_MM, (ys.max() - ys.min() + 1) / PX_PER_MM
    return (bx, by, bw, bh)


def _split_at_labels(all_cells: Sequence[Box], label: Detected,
                     printed: Sequence[Detected]) -> tuple[list[Box], bool]:
    """The label's cell cut where another label starts beside it on its row: a rule between two fields
    that the scan lost still has a label on each side of it. True with the cells when the label's cell
    is open (no rules round the label: its value may be beside or under it alike)."""
    lx, ly, lw, lh = label.box
    cell = cell_at(lx + lw / 2, ly + lh / 2, all_cells)
    if cell is None:
        return list(all_cells), False
    x, y, w, h = cell
    right, left = x + w, x
    for d in printed:
        dx, dy, dw, dh = d.box
        same_row = abs((dy + dh / 2) - (ly + lh / 2)) <= max(lh, dh)
        if d is label or not same_row:
            continue
        if dx >= lx + lw and inside(dx + dw / 2, dy + dh / 2, cell):
            right = min(right, dx - 0.5)
        elif dx + dw <= lx and (inside(dx + dw / 2, dy + dh / 2, cell) or x - NEXT_CELL_MM <= dx + dw <= x + 0.5):
            # Another label before this one in its cell, or just before the cell: what is written between them
            # is that label's value (a phone's label in the name's long row), not a value printed before its label.
            left = max(left, lx - 0.5)
    top, bottom = y, y + h
    # A cell that holds other labels above or below this one is no field's cell but a region of the page
    # (a printout, a boxed section, a frameless page): nothing but the labels bounds the fields in it.
    off_line = [d for d in printed if d is not label and inside(*_centre(d.box), cell)
                and (d.box[1] + d.box[3] <= ly + 0.2 * lh or d.box[1] >= ly + 0.8 * lh)]
    open_cell = bool(off_line) and h > OPEN_CELL_LINES * max(lh, 3.0)
    if open_cell:
        # No rules close the label's cell round it (a printout, a boxed section, the frameless page): its
        # value stands on its line up to the next label, or under it up to the label below.
        top = max(y, ly - 0.4 * lh)
        bottom = min(y + h, ly + lh + OPEN_BELOW_LINES * max(lh, 3.0))
        for d in printed:
            dx, dy, dw, dh = d.box
            if d is not label and dy >= ly + lh * 0.8 and dx < right and dx + dw > lx and inside(
                    dx + dw / 2, dy + dh / 2, cell):
                bottom = min(bottom, dy - 0.3)
    if (left, right, top, bottom) == (x, x + w, y, y + h):
        return list(all_cells), False
    return [(left, top, right - left, bottom - top), *(b for b in all_cells if b != cell)], open_cell


def _row_from(first: Box, all_cells: Sequence[Box], most: int | None = None) -> Box:
    """A run of narrow cells of one height through `first` (both ways: a row under a label starts left of
    the label's middle), of `most` cells at most when the value has that many characters, as one box."""
    x, y, w, h = first
    if w > ROW_CELL_MM:
        return first
    start, end = x, x + w

    def neighbour(px: float) -> Box | None:
        nxt = cell_at(px, y + h / 2, all_cells)
        # Cells of one row line up on their middles; their heights differ where a tick of a divider closes
        # one off a little short.
        if nxt is None or abs(nxt[1] + nxt[3] / 2 - (y + h / 2)) > 1.5 or abs(nxt[3] - h) > 2.5 \
                or nxt[2] > ROW_CELL_MM:
            return None
        return nxt

    count = 1
    while (prv := neighbour(start - 1.0)) is not None and prv[0] < start and (most is None or count < most):
        start, count = prv[0], count + 1
    while (most is None or count < most) and (nxt := neighbour(end + 1.0)) is not None and nxt[0] + nxt[2] > end:
        end, count = nxt[0] + nxt[2], count + 1
    return (start, y, end - start, h)


# ---------------------------------------------------------------- the whole page


@dataclass(frozen=True)
class _View:
    """The page mapped onto its own frame in one orientation, with its ruled lines and lines of text."""

    page: np.ndarray
    ruled: np.ndarray
    lines: list[Detected]
    frame: Box
    size: tuple[float, float]
    rotation: int
    quality: float  # share of the form's fields whose label reads clearly on the page
    bilevel: bool  # a fax: its small print comes out broken
    cells: list[Box]  # the cells its rules enclose


def _view(gray: np.ndarray, form: str, rotation: int, engine: RecognitionEngine,
          exclude_layout: str | None, second: RecognitionEngine | None = None) -> _View | None:
    r = read_page(gray, rotation, engine)  # read once: text classification read it already
    if r is None:
        return None
    crops = [r.crop(i) for i in range(len(r.boxes))]
    texts = r.texts
    words = synonyms(form, exclude_layout=exclude_layout)
    if second is not None:
        texts = _second_reading_of_near_labels(texts, crops, {s for v in words.values() for s in v}, second)
    # A line the detector ran together from labels and values is cut at the form's wordings; a second
    # reading has no letter places (and is of a line that reads almost as one label).
    wordings = _wordings(form, exclude_layout)
    unruled = ink_mask(r.clean)
    bigrams = printed_bigrams(form, exclude_layout=exclude_layout)

    def gap(box: Box, x: float) -> float | None:
        return _gap_at(unruled, box, x)

    lines: list[Detected] = []
    for b, text, first, places in zip(r.boxes, texts, r.texts, r.positions, strict=True):
        if not text.strip():
            continue
        if text != first or is_printed(text, bigrams):  # a heading (支払金額・控除額) is print throughout
            lines.append(Detected(_mm(b), text))
            continue
        lines += [Detected(p.box, p.text) for p in split_line(_mm(b), text, places, wordings, _char_norm, gap)]
    clear = sum(any(similarity(s, d.text) >= 0.9 for s in labels for d in lines) for labels in words.values())
    return _View(r.page, r.ruled, lines, r.frame, r.size, rotation, clear / max(1, len(words)), r.bilevel, r.cells)


def _second_reading_of_near_labels(texts: list[str], crops: list[np.ndarray], wordings: set[str],
                                   second: RecognitionEngine) -> list[str]:
    """Lines that read almost as a label (電活番号, 權別: a letter of small print misread) read again by the
    second recognizer, whose reading is kept where it reads more as one (電話番号, 種別)."""
    def best(text: str) -> float:
        return max((similarity(w, text) for w in wordings), default=0.0)

    scores = [best(t) for t in texts]
    near = [i for i, v in enumerate(scores) if NEAR_LABEL <= v < MATCH]
    if not near:
        return texts
    out = list(texts)
    for i, r in zip(near, second.recognize([crops[i] for i in near], ["any"] * len(near)), strict=True):
        if best(r.text) > scores[i]:
            out[i] = r.text
    return out


def locate(gray: np.ndarray, form: str, rotation: int, engine: RecognitionEngine, *,
           exclude_layout: str | None = None, second: RecognitionEngine | None = None) -> Fallback | None:
    """Find the form's fields on a working-size page of an unknown layout; None when it has no frame.
    `second`: a second recognizer, to read again the lines that read almost as a label.

    The classifier's orientation of a page can be wrong: when few labels read well, the page is read
    turned the other ways too and the best reading kept."""
    view = _view(gray, form, rotation, engine, exclude_layout, second)
    if view is None:
        return None
    for turn in (180, 90, 270):
        if view.quality >= TURN_BELOW:
            break
        turned = _view(gray, form, (rotation + turn) % 360, engine, exclude_layout, second)
        if turned is not None and turned.quality > view.quality:
            view = turned
    page, ruled, lines, frame, rotation = view.page, view.ruled, view.lines, view.frame, view.rotation
    (pw, ph), (fx, fy, fw, fh) = view.size, frame
    ink = ink_mask(page)
    light = page < float(np.percentile(page[::4, ::4], 90)) * 0.85  # what _view found the rules in
    unprinted = ink & ~ruled
    found = {k: _inside_rules(d, ruled) for k, d in
             match_labels(form, lines, frame, exclude_layout=exclude_layout, unruled=unprinted,
                          match=MATCH_BILEVEL if view.bilevel else MATCH).items()}
    all_cells = view.cells
    # What is printed is not written: labels, units, and every other line that reads as some field's label.
    words = synonyms(form, exclude_layout=exclude_layout)
    every = {s for v in words.values() for s in v}
    # A line that runs on from a label into a value printed in the same type (a payroll printout's 個人番号)
    # is printed only as far as its label.
    printed = [d if _norm(d.text) in UNITS else _inside_rules(_label_part(d, every, unprinted), ruled) for d in lines
               if _norm(d.text) in UNITS or max((similarity(s, d.text) for s in every), default=0) >= 0.8]
    written = unprinted.copy()
    bigrams = printed_bigrams(form, exclude_layout=exclude_layout)
    # Printed era options (明 大 昭 平 令) are print in a date's cell: the one a circle marks is not told by reading
    # them with the figures (a circle's stroke loses 令 of 平令 and 7年 reads as 平成7年).
    headings = [d for d in lines if is_printed(d.text, bigrams) or _ERA_OPTIONS.fullmatch(_norm(d.text))]
    for d in [*printed, *found.values(), *headings]:
        x0, y0, x1, y1 = to_px(d.box)
        written[max(0, y0) : y1, max(0, x0) : x1] = False
    contract = contract_forms()[form].fields
    fields: list[FieldTemplate] = []
    candidates: dict[str, list[FieldTemplate]] = {}
    # Every printed label but a field's own (units such as 円 are printed in value cells too).
    labels = [*found.values(), *(d for d in printed if _norm(d.text) not in UNITS)]
    others = {key: [d for d in labels if not inside(*_centre(d.box), label.box)] for key, label in found.items()}
    for key, label in found.items():
        c = contract[key]
        if c.type not in READABLE:
            continue
        split, open_cell = _split_at_labels(all_cells, label, printed)
        own, beside = value_areas(label.box, split, row=c.type in ROW_TYPES, others=[d.box for d in others[key]],
                                  most=ROW_LENGTH.get(c.type))
        if open_cell:
            beside = []  # the cells beyond an open one are the page's other sections
        elif _heads_its_cell(label.box, split):
            beside = []  # its value is written under it or nowhere: an empty cell is a blank field
            # … under it, not beside it: what is beside the label on its line is at most the end of the value
            # (54548 under 受給者番号 would read as 48).
            own = [a for a in own if a[1] >= _under_top(label.box)] or own
        # A next cell that holds another field's label is that field's cell (a printout prints every label in
        # the top of its own box): what is written there is never this field's value, even when it is blank.
        # A next cell running on to another label on the row (a row of label boxes in one long ruled cell) is
        # this field's up to that label.
        beside = [a for a in (_up_to_labels(a, others[key]) for a in beside) if a is not None]
        # … and writing that follows another label on its row is that label's value (the amount under 支給総額 in a
        # row of label boxes is 所得控除合計's).
        beside = [a for a in beside if _owner(written, a, labels) in (None, label)]
        # Writing in the label's own cell is its value; only an empty cell sends us to the next one.
        inked = [a for a in own if _ink(written, a) >= MIN_VALUE_INK]
        areas = inked or [a for a in beside if _ink(written, a) >= MIN_VALUE_INK] or own or beside
        if not areas:
            continue
        # Nearest writing first; all are read, and the first whose reading is a value of the type wins.
        areas = sorted(areas, key=lambda a: _distance(written, a, label.box))[:3]
        multiline = c.type == "text" and not key.endswith("name")
        for area in areas:
            if c.type in ROW_TYPES:
                _drop_dividers(written, area, light, ruled)
        candidates[key] = [FieldTemplate(key=key, type=c.type, box=_round(a), label=label.text,
                                         label_box=_round(label.box),
                                         lines=int(max(1, min(4, a[3] // 4.0))) if multiline else 1) for a in areas]
    for key, label in found.items():
        if contract[key].type == "checkbox" and (box := _check_box(label, all_cells, written)) is not None:
            candidates[key] = [FieldTemplate(key=key, type="checkbox", box=_round(box), label=label.text,
                                             label_box=_round(label.box))]
    # A numbered row's 個人番号 is often labelled only in the block's heading (16歳未満の扶養親族（フリガナ・氏名・
    # 個人番号）): it is the cell on the row right after the name's.
    for key in list(candidates):
        m = _NUMBERED.match(key)
        number_key = f"{m.group(1)}_{m.group(2)}_my_number" if m and m.group(3) == "name" else ""
        if number_key not in contract or number_key in candidates:
            continue
        x, y, w, h = candidates[key][0].box
        cell = cell_at(x + w / 2, y + h / 2, all_cells)
        nxt = cell_at(cell[0] + cell[2] + 1.5, y + h / 2, all_cells) if cell else None
        if nxt is None or nxt == cell:
            continue
        # One digit a cell, twelve cells (the next block's row number may follow): a digit alone is little ink.
        area = _row_from(nxt, all_cells, MY_NUMBER_DIGITS)
        if _ink(written, area) < MIN_VALUE_INK:
            continue
        _drop_dividers(written, area, light, ruled)
        candidates[number_key] = [FieldTemplate(key=number_key, type="my_number", box=_round(area))]
    for key, label in found.items():
        if contract[key].type == "choice" and (choice := _choice_field(key, label, lines, form, exclude_layout,
                                                                         all_cells, written)):
            candidates[key] = [choice]
            for o in choice.options:  # a printed option is no field's value (its mark is read from `marks`)
                x0, y0, x1, y1 = to_px(o.box)
                written[max(0, y0) : y1, max(0, x0) : x1] = False
    fields = [options[0] for options in candidates.values()]
    draft = LayoutTemplate(form=form, layout="draft", title=contract_forms()[form].label, page={
        "width_mm": pw, "height_mm": ph}, frame=frame, frame_mm=0.2, line_mm=0.15,
        title_box=(fx, fy, fw, min(10.0, fh)), fields=fields,
        # The ruled cells found, so that a saved draft's blank form (registration, dropout) has its rules.
        decor=[Decor(box=_round(c), ruled=True) for c in all_cells])
    reg = Registered(draft, page, rotation, 0.0)
    reg.ink = written  # the page's own dropout: no blank form to subtract  # type: ignore[misc]
    # Light strokes kept in a field's crop (a thin hyphen) are only those beside its writing: further off,
    # light ink here is the rules and labels that no blank form was subtracted for (a divider read as 1).
    faint = ink_mask(page, FAINT_INK) & ~ruled
    reg.faint_ink = faint & cv2.dilate(written.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)  # type: ignore[misc]
    reg.light_ink = reg.faint_ink  # type: ignore[misc]
    legend = {m.group(1) for d in lines for m in _ERA_LEGEND.finditer(unicodedata.normalize("NFKC", d.text))}
    era_numbers = len(legend) >= 2
    result = Fallback(draft, reg, found, all_cells, era_numbers, lines)
    result.marks = unprinted.copy()
    for d in lines:
        x, y, w, h = d.box  # glyphs only: a circle drawn close round them may cross the line's box
        x0, y0, x1, y1 = to_px((x + h * 0.2, y + h * 0.2, w - h * 0.4, h * 0.6))
        result.marks[max(0, y0) : y1, max(0, x0) : x1] = False
    result.pending = {key: _first_fitting(reg, options, result) for key, options in candidates.items()}
    return result


# A day's 日 is often read as 11, H or 口 (a month's 月 as H); an era may be read before the year (令和 / 令);
# 元年 is year 1.
_ERA = r"明治|大正|昭和|平成|令和|[明大昭平令]"
_DATE_PARTS = re.compile(rf"({_ERA})?\s*(元|\d{{1,3}})\s*年\s*(\d{{1,2}})\s*[月H]\s*(\d{{1,2}})"
                         r"\s*(?:日|11|H|口|曰)?\s*$")
_ERA_OPTIONS = re.compile(rf"(?:{_ERA}){{2,5}}")
_ERA_LEGEND = re.compile(r"([1-5])\s*[明大昭平令]")  # "1 明治 2 大正 … 5 令和": eras are written as numbers
_BY_NUMBER = {1: "meiji", 2: "taisho", 3: "showa", 4: "heisei", 5: "reiwa"}


def guess_era(key: str, text: str, *, era_numbers: bool = False, today: date | None = None) -> date | None:
    """A date whose era is chosen among printed options (which only a template locates). With a legend of
    era numbers on the page, a leading digit 1–5 is the era; otherwise the latest era that makes it a
    past date, and for a birth date that of someone at least 15 years old."""
    text = unicodedata.normalize("NFKC", text or "")
    m = _DATE_PARTS.search(text)
    if m is None:
        # 年 lost (the year written in its own box, read run together with the month: 411月20日): the
        # month is the last two digits when they make one, else the last one, the year what is before.
        bare = re.search(r"(\d{2,4})\s*[月H]\s*(\d{1,2})\s*(?:日|11|H|口|曰)?\s*$", text)
        if bare is None:
            return None
        run = bare.group(1)
        for cut in (2, 1):
            if len(run) > cut and 1 <= int(run[-cut:]) <= 12:
                found = guess_era(key, f"{run[:-cut]}年{run[-cut:]}月{bare.group(2)}日", era_numbers=era_numbers,
                                  today=today)
                if found is not None:
                    return found
        return None
    today = today or date.today()
    printed, digits, mo, d = m.group(1), m.group(2).replace("元", "1"), int(m.group(3)), int(m.group(4))
    if printed:  # the era read with it first; it may be one of the printed options, read along
        eras: tuple[str, ...] = (era_from_token(printed).code, "reiwa", "heisei", "showa")
    elif era_numbers and len(digits) >= 2 and int(digits[0]) in _BY_NUMBER:
        eras = (_BY_NUMBER[int(digits[0])],)
        digits = digits[1:]
        if int(digits) == 0:  # no era year 0: the leading digit was the year's (10年)
            eras, digits = ("reiwa", "heisei", "showa"), m.group(2)
    else:
        eras = ("reiwa", "heisei", "showa")
    for era in eras:
        try:
            found = to_gregorian(era, int(digits), mo, d)
        except (WarekiError, ValueError):
            continue
        if found <= today and ("birth" not in key or _of_working_age(found, today)):
            return found
    if era_numbers and not printed and len(m.group(2)) >= 3:
        # One figure too many before the year, and no date without dropping it: the edge of the box the era's
        # number is written in read as a 1 (155年 for 令和5年), or the number read twice (556年 for 令和6年).
        return guess_era(key, text[: m.start(2)] + text[m.start(2) + 1 :], era_numbers=True, today=today)
    return None


def option_wordings(form: str, key: str, *, exclude_layout: str | None = None) -> tuple[dict[str, str], str]:
    """Each option's printed wording (its number left off: municipalities number them differently) by
    code, and how the other layouts have it marked (circle, tick or write)."""
    wordings: dict[str, str] = {}
    marks: list[str] = []
    for t in templates().values():
        if t.form != form or t.layout == exclude_layout:
            continue
        for f in t.fields:
            if f.key == key:
                marks.append(f.mark)
                for o in f.options:
                    wordings.setdefault(_norm(re.sub(r"^\s*\d+\s*", "", o.label)), o.code)
    return wordings, max(set(marks), key=marks.count) if marks else "circle"


def _choice_field(key: str, label: Detected, lines: Sequence[Detected], form: str, exclude_layout: str | None,
                  all_cells: Sequence[Box], written: np.ndarray) -> FieldTemplate | None:
    """A choice whose printed options are found near its label, by their wording; None if fewer than two.

    How an option is chosen is read off the page, not taken from the other layouts (municipalities differ):
    when the options print numbers and a small box near the label has writing in it, the number written
    there chooses; otherwise the option with a mark around it (a circle round its wording or its number,
    or a tick in the square before it)."""
    wordings, _ = option_wordings(form, key, exclude_layout=exclude_layout)
    if not wordings:
        return None
    lx, ly = _centre(label.box)
    best: dict[str, tuple[float, Detected]] = {}
    for d in lines:
        text = _norm(re.sub(r"^\s*\d+\s*", "", unicodedata.normalize("NFKC", d.text)))
        if not text:
            continue
        score, wording = max((SequenceMatcher(None, w, text).ratio(), w) for w in wordings)
        if score < OPTION_MATCH:
            continue
        code = wordings[wording]
        dx, dy = np.subtract(_centre(d.box), (lx, ly))
        far = float(np.hypot(dx, dy))
        # Options run along the label's row (or the rows just under it), across a wide cell at times.
        if abs(dx) <= CHOICE_MM and abs(dy) <= CHOICE_ROWS_MM and (code not in best or far < best[code][0]):
            best[code] = (far, d)
    if len(best) < 2:
        return None
    numbers = {code: m.group(1) for code, (_, d) in best.items()
               if (m := re.match(r"^\s*(\d)\D", unicodedata.normalize("NFKC", d.text)))}
    code_box = _code_box(label, [d for _, d in best.values()], all_cells, written)
    if code_box is not None and len(numbers) == len(best) and len(set(numbers.values())) == len(numbers):
        options = [Option(code=code, label=d.text, box=_round(d.box), number=numbers[code])
                   for code, (_, d) in best.items()]
        return FieldTemplate(key=key, type="choice", kind="choice", box=_round(_union([o.box for o in options])),
                             label=label.text, label_box=_round(label.box), mark="write", code_box=_round(code_box),
                             options=options)
    pad = 1.0
    options = []
    for code, (_, d) in best.items():
        x, y, w, h = d.box
        if w < OPTION_MM or h < OPTION_MM:  # a one-character option's box may hold only part of its glyph
            x, y, w, h = x + w / 2 - max(w, OPTION_MM) / 2, y + h / 2 - max(h, OPTION_MM) / 2, max(w, OPTION_MM), \
                max(h, OPTION_MM)
        # A tick square, or a number apart from the wording, is just left of it (not past the option before).
        before = [o.box[0] + o.box[2] for _, o in best.values()
                  if o is not d and o.box[0] + o.box[2] <= x + 0.5 and abs(_centre(o.box)[1] - _centre(d.box)[1]) < h]
        start = max([x - h - 1.0, *(b + pad + 0.5 for b in before)])
        x, w = start, w + x - start
        options.append(Option(code=code, label=d.text, box=_round((x - pad, y - pad, w + 2 * pad, h + 2 * pad))))
    return FieldTemplate(key=key, type="choice", kind="choice", box=_round(_union([o.box for o in options])),
                         label=label.text, label_box=_round(label.box), mark="circle", options=options)


def _union(boxes: Sequence[Box]) -> Box:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _code_box(label: Detected, options: Sequence[Detected], all_cells: Sequence[Box],
              written: np.ndarray) -> Box | None:
    """The small ruled box with writing in it nearest the label, among no printed option: where a choice's
    number is written."""
    lx, ly = _centre(label.box)
    found: list[tuple[float, Box]] = []
    for b in all_cells:
        x, y, w, h = b
        far = float(np.hypot(x + w / 2 - lx, y + h / 2 - ly))
        if not (4.0 <= w <= 16.0 and 4.0 <= h <= 16.0) or far > CODE_BOX_MM or inside(lx, ly, b):
            continue
        beside = min(float(np.hypot(*np.subtract(_centre(d.box), (x + w / 2, y + h / 2)))) for d in options)
        if beside > CODE_BOX_MM or any(inside(*_centre(d.box), b) for d in options):
            continue
        inner = (x + 1.0, y + 1.0, w - 2.0, h - 2.0)
        if _ink(written, inner) >= MIN_VALUE_INK // 2:
            found.append((far, inner))
    return min(found)[1] if found else None


def _marked_choice(unread: np.ndarray, f: FieldTemplate) -> Pending:
    """The option with clearly the most writing around it (a circle round its wording or number, a tick in
    the square before it); None when no option, or more than one, is marked. Every option is measured
    alike, so printed squares or a rule through the area weigh the same on each."""
    regions = [(o.box[0] - 1.0, o.box[1] - 1.0, o.box[2] + 2.0, o.box[3] + 2.0) for o in f.options]
    marks = []
    for i, region in enumerate(regions):  # where two options' regions overlap, the ink is neither's
        mine = np.zeros(unread.shape, bool)
        x0, y0, x1, y1 = to_px(region)
        mine[max(0, y0) : y1, max(0, x0) : x1] = True
        for j, other in enumerate(regions):
            if j != i:
                x0, y0, x1, y1 = to_px(other)
                mine[max(0, y0) : y1, max(0, x0) : x1] = False
        marks.append(int((unread & mine).sum()))
    order = np.argsort(marks)[::-1]
    best, second = marks[order[0]], marks[order[1]]
    code = f.options[order[0]].code if best >= MARK_PX and best >= 2 * second else None
    result = FieldResult(f.key, code, 0.9 if code else 0.3, True, box=f.box)
    if code is None and best >= MARK_PX:
        result.reasons = ["選択肢の印を判別できません"]
    return Pending([], lambda _readings: result)


def _first_fitting(reg: Registered, options: list[FieldTemplate], fb: Fallback) -> Pending:
    """The candidate places of a value read nearest first; the first whose reading is a value of the field's type
    (an amount, a date …) is kept, else the nearest written one. A place is read only while those before it give
    no such value by every reader (`Pending.more`): the same pick as reading them all, at a fraction of the lines.
    The draft template takes the place that was kept."""
    plans = [_marked_choice(fb.marks, f) if f.kind == "choice" and f.mark != "write" else plan_field(reg, f)
             for f in options]
    opened = [0]  # how many places (nearest first) have their lines in the pending's

    def results(readings: Sequence[Reading]) -> list[FieldResult]:
        out, cursor = [], 0
        for p in plans[: opened[0]]:
            out.append(p.finish(list(readings[cursor : cursor + len(p.lines)])))
            cursor += len(p.lines)
        return out

    def fitting(found: list[FieldResult]) -> list[int]:
        return [i for i, r in enumerate(found) if r.value not in (None, "") and r_ok(r, options[i])]

    def r_ok(r: FieldResult, f: FieldTemplate) -> bool:
        return r.normalized or (f.type == "date" and guess_era(f.key, str(r.value), era_numbers=fb.era_numbers)
                                is not None)

    def more(by_reader: Sequence[Sequence[Reading]]) -> list[Line]:
        while opened[0] < len(plans) and not all(fitting(results(rs)) for rs in by_reader):
            opened[0] += 1
            if lines := plans[opened[0] - 1].lines:
                return list(lines)
        return []

    def finish(readings: list) -> FieldResult:
        found = results(readings)
        written = [i for i, r in enumerate(found) if r.value not in (None, "")]
        pick = (fitting(found) or written or [0])[0]
        fb.chosen[options[pick].key] = options[pick]
        return found[pick]

    return Pending(more([[]]), finish, more)


def as_fallback(r: FieldResult, fb: Fallback | None = None) -> FieldResult:
    """A fallback field's result: never more than FALLBACK_CONFIDENCE, always for review."""
    if fb is not None and fb.types.get(r.key) in DATED and not r.normalized and isinstance(r.value, str) \
            and not re.search(r"\d", unicodedata.normalize("NFKC", r.value)):
        # No figure at all: the form's printed 年 月 日 (令和) in an empty date, no blurred template took away.
        r.value = None
        r.reasons = [*r.reasons, "数字なし: 印刷された年月日のみ"]
    if fb is not None and fb.types.get(r.key) == "date" and r.normalized and isinstance(r.raw, str) \
            and not _possible(r.key, r.value):
        # An era read off the printed options beside the figures (令 of 明大昭平令 for 昭和63年): a birth date to
        # come, or a date years ahead, is read again with the era guessed.
        r.value, r.normalized = r.raw, False
    if fb is not None and r.key in fb.types and fb.types[r.key] == "date" and not r.normalized \
            and isinstance(r.value, str):
        guessed = guess_era(r.key, r.value, era_numbers=fb.era_numbers)
        if guessed is not None:
            r.value, r.normalized = guessed.isoformat(), True
            r.reasons = [*r.reasons, "元号は推定"]
    if fb is not None and fb.types.get(r.key) == "month" and not r.normalized and isinstance(r.value, str) \
            and (m := re.fullmatch(r"(1[0-2]|[1-9])\d", unicodedata.normalize("NFKC", r.value).strip())):
        # No month over 12: the digit after it is its 月 (or 月分) misread (1月 → 19, 5月 → 50).
        r.value, r.normalized = int(m.group(1)), True
        r.reasons = [*r.reasons, "月の後の文字を数字と読んだものとして推定"]
    if fb is not None and fb.types.get(r.key) == "text" and r.key.endswith("name") and isinstance(r.value, str):
        # A name has no figures: figures read after it are a neighbour's value its area reached (中 拓也 135,30).
        r.value = re.sub(r"(\s+[\d,.\s]+)+$", "", r.value)
    if fb is not None and not r.normalized and (digits := _checked_digits(fb.types.get(r.key), r.value)):
        r.value, r.normalized = digits, True
        r.reasons = [*r.reasons, "桁が多いため、チェックディジットの合う桁を採用"]
    if isinstance(r.value, str) and (m := re.fullmatch(r"(.+?)\s+(\S)", r.value)) and m.group(2) in UNITS:
        r.value = m.group(1)  # a unit printed apart after the value (…市 長) read with it
    r.confidence = min(r.confidence, FALLBACK_CONFIDENCE)
    r.review = True
    if FALLBACK_REASON not in r.reasons:
        r.reasons = [*r.reasons, FALLBACK_REASON]
    return r


def _possible(key: str, value: object, today: date | None = None) -> bool:
    """A date a field can hold: a birth date of someone at least 15, any other at most a year ahead."""
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        return True  # not a whole date: nothing to judge
    today = today or date.today()
    return _of_working_age(d, today) if "birth" in key else d <= today + timedelta(days=366)


def _of_working_age(birth: date, today: date) -> bool:
    """Born at least 15 years before `today`: no younger recipient or employee is on these forms."""
    return (birth.year + 15, birth.month, birth.day) <= (today.year, today.month, today.day)


def _checked_digits(kind: str | None, value: object) -> str | None:
    """A number of fixed length read with figures too many (the next block's row number, a cell's wall read
    as 1): the one stretch of its length whose check digit holds, if exactly one does."""
    from stdnum.jp import cn, in_

    if kind not in ("my_number", "corporate_number") or not isinstance(value, str):
        return None
    digits, n = re.sub(r"\D", "", unicodedata.normalize("NFKC", value)), ROW_LENGTH[kind]
    if len(digits) <= n or len(digits) > n + 2:
        return None
    valid = (in_ if kind == "my_number" else cn).is_valid
    fits = {digits[i : i + n] for i in range(len(digits) - n + 1) if valid(digits[i : i + n])}
    return fits.pop() if len(fits) == 1 else None


def read_fallback(fb: Fallback, engine: RecognitionEngine) -> dict[str, FieldResult]:
    """Recognize and normalize every field the fallback located."""
    def read(lines: list[Line]) -> list[list[Reading]]:
        return [engine.recognize([ln.image for ln in lines], [ln.charset for ln in lines]) if lines else []]

    readings = read_in_rounds(list(fb.pending.values()), read)[0]
    out: dict[str, FieldResult] = {}
    cursor = 0
    for key, p in fb.pending.items():
        n = len(p.lines)
        out[key] = p.finish(list(readings[cursor : cursor + n]))
        out[key].read = bool(n)
        cursor += n
    return settle(out, fb)


def settle(fields: dict[str, FieldResult], fb: Fallback) -> dict[str, FieldResult]:
    """The page's fallback results made safe: eras inferred, postal codes paired with their addresses,
    every value capped and sent to review, and every field not located there too, as not found."""
    out = {k: as_fallback(r, fb) for k, r in fields.items()}
    _pair_postal_codes(out)
    for key in contract_forms()[fb.draft.form].fields:
        if key not in out:  # its label was not found: a person looks for it (it may well be blank)
            out[key] = FieldResult(key, None, 0.0, True, reasons=[NOT_FOUND])
    return out


def _pair_postal_codes(fields: dict[str, FieldResult]) -> None:
    """Two 郵便番号 labels (the employer's, the employee's new address) are told apart by position only;
    when the codes fit the two addresses the other way round, they are swapped."""
    from yomitori.validation.postal import address_places, postal_places

    def fits(code: object, address: object) -> bool:
        if not isinstance(code, str) or not isinstance(address, str):
            return False
        places, (pref, _) = postal_places(code) or frozenset(), address_places(address)
        return pref is not None and any(p == pref for p, _ in places)

    pairs = [(k, _address_key(k, fields)) for k in fields if k.endswith("postal_code")]
    pairs = [(k, a) for k, a in pairs if a is not None]
    for i, (k1, a1) in enumerate(pairs):
        for k2, a2 in pairs[i + 1 :]:
            v1, v2 = fields[k1].value, fields[k2].value
            now = fits(v1, fields[a1].value) + fits(v2, fields[a2].value)
            swapped = fits(v2, fields[a1].value) + fits(v1, fields[a2].value)
            if swapped > now:
                for k, v in ((k1, v2), (k2, v1)):
                    fields[k].value = v
                    fields[k].reasons = [*fields[k].reasons, "住所と郵便番号の組を入れ替え"]


def _address_key(postal_key: str, fields: dict[str, FieldResult]) -> str | None:
    stem = postal_key.removesuffix("_postal_code")
    for candidate in (f"{stem}_address", stem, f"{stem}_address_after"):
        if candidate in fields and candidate != postal_key:
            return candidate
    return None


def _mm(b: TextBox) -> Box:
    return (b.x / PX_PER_MM, b.y / PX_PER_MM, b.w / PX_PER_MM, b.h / PX_PER_MM)


def _ink(mask: np.ndarray, box: Box) -> int:
    x0, y0, x1, y1 = to_px(box)
    return int(mask[max(0, y0) : y1, max(0, x0) : x1].sum())


def _distance(mask: np.ndarray, area: Box, label: Box) -> float:
    """Millimetres from the label's centre to the nearest writing in the area (inf: none)."""
    x0, y0, x1, y1 = to_px(area)
    x0, y0 = max(0, x0), max(0, y0)
    ys, xs = np.nonzero(mask[y0:y1, x0:x1])
    if xs.size < MIN_VALUE_INK:
        return float("inf")
    lx, ly, lw, lh = label
    dx = np.maximum(0, np.abs((xs + x0) / PX_PER_MM - (lx + lw / 2)) - lw / 2)
    dy = np.maximum(0, np.abs((ys + y0) / PX_PER_MM - (ly + lh / 2)) - lh / 2)
    return float(np.percentile(np.hypot(dx, dy), 2))


def _round(box: Box) -> Box:
    return tuple(round(v, 1) for v in box)  # type: ignore[return-value]


# ---------------------------------------------------------------- the draft template


def draft_yaml(draft: LayoutTemplate, *, layout: str = "draft") -> str:
    """The draft as template YAML (what forms_templates loads), for an administrator to check and save."""
    import yaml

    raw = draft.model_dump(mode="json", exclude_defaults=True)
    raw["layout"] = layout
    header = ("# Draft layout found from the printed labels of one scan (yomitori draft-template).\n"
              "# Check every box against the form, add choices, checkboxes and dates, then save it as\n"
              f"# forms_templates/{draft.form}/{layout}.yaml. Boxes are [x, y, w, h] in mm.\n")
    return header + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
