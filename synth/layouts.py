"""Procedurally varied layouts of the three forms: what no bundled template describes.

A municipality receives each form in layouts drawn by others: the 明細書 printed by dozens of payroll
programs, each city's own 異動届 and 総括表. `random_layout(form, seed)` draws one such layout as a
`LayoutTemplate` (so the renderer and the scanner of `synth/` fill and scan it like any other) and a
`PrintLook` (frame or none, ruled value boxes or none, the print's colour and typeface):

- family: `grid` (ruled cells, the label in each cell's top corner, as the official forms), `label_left`
  (a ruled label cell left of each value, as municipal prints), `printout` (no rules: labels and values in
  columns, as payroll programs print), `sections` (numbered boxed sections holding unruled rows);
- paper A4 / B5 / A5, portrait or landscape; sections in varied order; dependents as a numbered table
  under a header row or as labelled lists; amounts with or without 円; 個人番号 in one-digit boxes or
  printed whole; dates with the era circled, written or preprinted; choices circled or ticked and
  numbered in the layout's own order;
- label wordings drawn from the form's wordings and the contract, spaced, bracketed and abbreviated as
  printers do.

Seeds below `TUNING_SEEDS` are for tuning; benchmarks draw above it, so what is measured was never
looked at while tuning.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from functools import cache

from yomitori.forms_templates import templates
from yomitori.forms_templates.contract import ContractField, contract_forms
from yomitori.forms_templates.schema import LayoutTemplate
from yomitori.forms_templates.wordings import form_wordings

from .data import make_record
from .fonts import fonts
from .generate import Sample
from .paper import paper_values
from .render import PRINT_INK, PrintLook, Style, render_filled
from .scan import ScanEffects, scan

TUNING_SEEDS = 1_000_000
FAMILIES = ("grid", "label_left", "printout", "sections")
PAPERS = {"A4": (210.0, 297.0), "B5": (182.0, 257.0), "A5": (148.0, 210.0)}
# Papers each form is printed on: (paper, landscape).
FORM_PAPERS = {
    "kyuyo_shiharai_hokokusho": (("A4", False), ("A4", True), ("B5", True), ("B5", False)),
    "idou_todokede": (("A4", False), ("A4", True), ("B5", False)),
    "kyuyo_soukatsuhyo": (("A4", False), ("A4", True), ("A5", False), ("A5", True), ("B5", False)),
}
PRINT_INKS = (PRINT_INK, PRINT_INK, (30, 60, 150), (20, 110, 70), (120, 60, 35))  # black, blue, green, brown
LABEL_MM = 2.6  # printed label size
TABLE = re.compile(r"^(dependent|under16)_(\d)_(name_kana|name|my_number)$")
TABLE_TITLES = {"dependent": ["控除対象扶養親族", "扶養親族", "控除対象扶養親族の氏名等"],
                "under16": ["16歳未満の扶養親族", "年少扶養親族", "16歳未満扶養親族"]}
TABLE_HEADS = {"name": ["氏名", "氏　名"], "name_kana": ["フリガナ", "ふりがな", "カナ"],
               "my_number": ["個人番号", "マイナンバー"]}
TOP_KEYS = {"tax_year", "submitted_date", "addressee_municipality", "fiscal_year_kind"}


@dataclass(frozen=True)
class LayoutDraw:
    """One drawn layout: the template the page is printed from, its look and its family."""

    template: LayoutTemplate
    look: PrintLook
    family: str


@dataclass
class _Unit:
    """A field as laid out: its label and value areas relative to the unit's top-left corner."""

    key: str
    spec: dict  # the FieldTemplate's fields other than the boxes
    width: float
    label: str | None
    table: tuple[str, int, str] | None = None  # (table, row, column) of a dependents table
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class _Plan:
    rng: random.Random
    form: str
    family: str
    page: tuple[float, float]
    row_h: float
    left: bool  # label left of the value (else above it)
    decor: list[dict] = field(default_factory=list)
    fields: list[dict] = field(default_factory=list)


def random_layout(form: str, seed: int) -> LayoutDraw:
    """The layout of `form` drawn by `seed`: same seed, same layout."""
    rng = random.Random(f"layout:{form}:{seed}")
    family = rng.choice(FAMILIES)
    paper, landscape = rng.choice(FORM_PAPERS[form])
    w, h = PAPERS[paper]
    page = (h, w) if landscape else (w, h)
    for attempt in range(12):  # drop optional fields, then tighten the rows, until the layout fits its paper
        if attempt == 8:
            page = (297.0, 210.0)  # no program prints this much on less than A4 landscape
        keep = _fields_kept(form, rng, 0.5 ** attempt)
        t = _build(form, family, page, keep, rng, seed, squeeze=0.88 ** max(0, attempt - 3))
        if t is not None:
            break
    else:
        raise RuntimeError(f"{form} seed {seed}: no layout fits {paper}")
    ruled = family in ("grid", "label_left")
    look = PrintLook(
        outer_frame=(ruled and rng.random() < 0.85) or (family == "sections" and rng.random() < 0.4),
        field_boxes=ruled,
        ink=rng.choice(PRINT_INKS) if family != "printout" else PRINT_INK,
        label_font=rng.choice(fonts(hand=False)),
    )
    return LayoutDraw(t, look, family)


def generate_page(draw: LayoutDraw, seed: int, *, hand: bool | None = None, clean: bool = False,
                  density: float = 0.6) -> Sample:
    """One filled, scanned page of a drawn layout; a payroll printout is always printed, never handwritten."""
    t = draw.template
    rng = random.Random(f"{t.id}:page:{seed}")
    record = make_record(t.form, rng, density=density)
    truth = {f.key: record.get(f.key) for f in t.fields}
    hand = (rng.random() < 0.5 if hand is None else hand) and draw.family != "printout"
    style = Style.pick(rng, hand=hand)
    if clean:
        style = replace(style, seal=False)
    page = render_filled(t, paper_values(t, truth, rng, style), rng, style, draw.look)
    effects = ScanEffects() if clean else ScanEffects.pick(rng)
    image = scan(page, style.dpi, effects, rng)
    return Sample(image, truth, t.form, t.layout, hand, style.font.name, style.dpi, effects)


# ---------------------------------------------------------------- which fields, which words

def _fields_kept(form: str, rng: random.Random, full_share: float) -> list[str]:
    """Every core field the layout can print, and a share of the full tier's."""
    out = []
    for key, c in contract_forms()[form].fields.items():
        if c.type == "choice" and not _option_words(form, key):
            continue  # no layout we know prints its options
        if c.tier == "core" or rng.random() < full_share:
            out.append(key)
    return out


def _label(form: str, key: str, c: ContractField, rng: random.Random) -> str:
    """A wording printers use for the field, as a printer would set it."""
    words = [*form_wordings()[form].fields.get(key, ()), _plain(c.label)]
    word = rng.choice(words)
    if len(word) == 2 and rng.random() < 0.4:
        word = word[0] + "　" + word[1]  # 氏　名, 住　所: two-character labels are spaced out
    elif rng.random() < 0.15 and c.type == "amount":
        word += "（円）"
    return word


def _plain(label: str) -> str:
    """The contract's label without the layout notes it carries (（元号・年・月・日）, 〜, ／)."""
    label = re.sub(r"（[^）]*[・／〜][^）]*）", "", label).strip()
    return label.split(" / ")[0].replace("〜", "").strip() or label


# How forms word a choice's options, beyond the bundled layouts' wordings.
OPTION_WORDS = {
    "change_reason": {"retirement": ["退職"], "transfer": ["転勤", "転出"], "leave": ["休職"],
                      "long_absence": ["長期欠勤", "長欠"], "death": ["死亡"], "dissolution": ["会社解散", "解散"],
                      "address_error": ["住所誤り", "住所誤報"], "other": ["その他"]},
    "collection_method": {"continue_special": ["特別徴収継続", "特別徴収の継続"], "lump_sum": ["一括徴収"],
                          "ordinary": ["普通徴収", "普通徴収に切替"]},
    "fiscal_year_kind": {"current": ["現年度"], "next": ["新年度"]},
    "spouse_status": {"yes": ["有"], "yes_other_payer": ["従有"]},
    "send_method": {"paper": ["書面"], "electronic": ["電子"]},
}


@cache
def _option_words(form: str, key: str) -> dict[str, list[str]]:
    """How layouts word each option of a choice, without the number they print before it."""
    words: dict[str, list[str]] = {code: list(w) for code, w in OPTION_WORDS.get(key, {}).items()}
    for t in templates().values():
        if t.form != form:
            continue
        for f in t.fields:
            if f.key == key:
                for o in f.options:
                    word = re.sub(r"^[0-9０-９]+[ 　.．]*", "", o.label).strip()
                    if word and word not in words.setdefault(o.code, []):
                        words[o.code].append(word)
    codes = contract_forms()[form].fields[key].choices
    return words if set(codes) <= set(words) else {}


# ---------------------------------------------------------------- building the layout

def _build(form: str, family: str, page: tuple[float, float], keep: list[str], rng: random.Random,
           seed: int, squeeze: float) -> LayoutTemplate | None:
    pw, ph = page
    margin = rng.uniform(8, 14) * squeeze
    row_h = (rng.uniform(9.5, 13) if family == "grid" else rng.uniform(6.5, 9)) * squeeze
    plan = _Plan(rng, form, family, page, row_h=max(row_h, 8.5 if family == "grid" else 5.5), left=family != "grid")
    title = rng.choice(form_wordings()[form].titles)
    title_h = rng.uniform(8, 12)
    title_w = min(pw - 2 * margin, len(title) * 6.5 + 10)
    title_box = (round((pw - title_w) / 2 if rng.random() < 0.8 else margin, 1), margin, round(title_w, 1), title_h)
    y = margin + title_h + rng.uniform(2, 6)
    x0, x1 = margin, pw - margin
    contract = contract_forms()[form].fields
    sections = _sections(form, keep, rng)
    number = 0
    for heading, keys in sections:
        units = [_unit(form, k, contract[k], plan) for k in keys if not TABLE.match(k)]
        tables = _tables(form, [k for k in keys if TABLE.match(k)], plan)
        if not units and not tables:
            continue
        number += 1
        headed = family in ("sections", "printout") and heading and len(units) + len(tables) >= 4
        if headed:
            text = f"{number}　{heading}" if family == "sections" and rng.random() < 0.7 else heading
            plan.decor.append({"text": text, "box": _r((x0, y, min(x1 - x0, len(text) * 3.4 + 6), 5.0 * squeeze)),
                               "size": 3.0 * min(1.0, squeeze + 0.1)})
            y += 5.5 * squeeze
        top = y
        y = _pack(units, x0 + (2 if family == "sections" else 0), x1 - (2 if family == "sections" else 0), y, plan)
        for tab in tables:
            y = _table(tab, x0, x1, y + 1.5, plan)
        if family == "sections":
            head_room = 6.0 * squeeze if headed else 1.5
            plan.decor.append({"box": _r((x0, top - head_room, x1 - x0, y - top + head_room + 1.5)), "ruled": True})
            y += 3 * squeeze
        y += rng.uniform(1, 3) * squeeze if family != "grid" else 0
        if y > ph - margin:
            return None
    frame = _r((x0 - 2, margin - 2, x1 - x0 + 4, y - margin + 4))
    raw = {"form": form, "layout": f"generated_{family}_{seed}", "title": title, "page": {"width_mm": pw,
           "height_mm": ph}, "frame": frame, "frame_mm": 0.5, "line_mm": rng.choice((0.2, 0.25, 0.3)),
           "title_box": title_box, "decor": plan.decor, "fields": plan.fields}
    return LayoutTemplate.model_validate(raw)


def _sections(form: str, keep: list[str], rng: random.Random) -> list[tuple[str | None, list[str]]]:
    """The form's fields in sections, the contract's order within each, the sections in varied order."""
    breaks = SECTIONS[form]
    out: list[tuple[str | None, list[str]]] = [(None, [])]
    for key in contract_forms()[form].fields:
        if key in breaks:
            out.append((rng.choice(breaks[key]), []))
        if key in keep:
            (out[0] if key in TOP_KEYS else out[-1])[1].append(key)
    head, rest = out[0], [s for s in out[1:] if s[1]]
    if rng.random() < 0.5:  # another program's order: the payer first, or the amounts before the person
        rng.shuffle(rest)
    return [head, *rest]


def _unit(form: str, key: str, c: ContractField, plan: _Plan) -> _Unit:
    rng = plan.rng
    label = _label(form, key, c, rng)
    spec: dict = {"key": key, "type": c.type}
    ruled_cells = plan.family in ("grid", "label_left") and rng.random() < 0.7
    value_w = rng.uniform(38, 60)
    match c.type:
        case "text" | "kana":
            long = "address" in key or key in ("remarks", "ordinary_reason", "payroll_period")
            value_w = rng.uniform(95, 140) if long else rng.uniform(45, 75)
        case "amount":
            value_w = rng.uniform(30, 45)
            if rng.random() < 0.5:
                spec["suffix"] = "円"
                value_w += 5
        case "count":
            value_w = rng.uniform(11, 18)
            if rng.random() < 0.5:
                spec["suffix"] = "人"
                value_w += 5
        case "month":
            value_w = rng.uniform(10, 15)
        case "year":
            value_w = rng.uniform(22, 30)
        case "phone":
            value_w = rng.uniform(35, 48)
        case "digits":
            value_w = rng.uniform(28, 42)
        case "my_number" | "payer_number" | "corporate_number" | "postal_code":
            n = {"my_number": 12, "payer_number": 13, "corporate_number": 13, "postal_code": 7}[c.type]
            if ruled_cells:
                spec["kind"], spec["cells"] = "cells", n
                value_w = n * rng.uniform(4.5, 5.8)
            else:
                value_w = n * 2.6 + rng.uniform(6, 14)
        case "date":
            spec["kind"] = "date"
            value_w = rng.uniform(52, 62)
        case "checkbox":
            spec["kind"] = "checkbox"
            value_w = 4.5
        case "choice":
            spec["kind"] = "choice"
            words = _option_words(form, key)
            numbered = rng.random() < 0.6
            codes = list(c.choices)
            if rng.random() < 0.3:
                rng.shuffle(codes)  # each municipality numbers the options its own way
            spec["_options"] = [(code, (f"{i + 1} " if numbered else "") + rng.choice(words[code]))
                                for i, code in enumerate(codes)]
            spec["mark"] = "tick" if rng.random() < 0.35 else "circle"
            value_w = sum(len(t) * LABEL_MM + (7 if spec["mark"] == "tick" else 3) for _, t in spec["_options"])
    label_w = len(label) * LABEL_MM * 1.05 + 2.5
    width = label_w + value_w + 2 if plan.left else max(label_w, value_w) + 2
    return _Unit(key, spec, width, label, x=label_w)


def _tables(form: str, keys: list[str], plan: _Plan) -> list[list[_Unit]]:
    """Dependents as a numbered table under a header row, or (else) as labelled lists, one per person."""
    by_table: dict[str, list[_Unit]] = {}
    c = contract_forms()[form].fields
    as_table = plan.rng.random() < 0.6
    for k in keys:
        m = TABLE.match(k)
        assert m
        u = _unit(form, k, c[k], plan)
        if as_table:
            u.table = (m[1], int(m[2]), m[3])
        else:
            title = plan.rng.choice(TABLE_TITLES[m[1]])
            head = {"name": "氏名", "name_kana": "フリガナ", "my_number": "個人番号"}[m[3]]
            u = _unit(form, k, c[k], plan)
            u.label = f"{title}{m[2]} {head}" if plan.rng.random() < 0.5 else f"{title}（{m[2]}）{head}"
            label_w = len(u.label) * LABEL_MM * 1.05 + 2.5
            value_w = u.width - u.x
            u.x, u.width = label_w, (label_w + value_w + 2 if plan.left else max(label_w, value_w) + 2)
        by_table.setdefault(m[1] if as_table else k, []).append(u)
    return list(by_table.values())


def _pack(units: list[_Unit], x0: float, x1: float, y: float, plan: _Plan) -> float:
    """Lay the units out in rows across the page; ruled families stretch each row to the full width."""
    rng = plan.rng
    row: list[_Unit] = []
    gap = 0.0 if plan.family in ("grid", "label_left") else rng.uniform(3, 8)

    def flush(y: float) -> float:
        if not row:
            return y
        h = plan.row_h
        if any(u.spec["type"] == "date" or u.spec.get("kind") == "choice" for u in row) and not plan.left:
            h = max(h, 11.5)
        used = sum(u.width for u in row) + gap * (len(row) - 1)
        stretch = (x1 - x0) / used if plan.family in ("grid", "label_left") else 1.0
        x = x0
        for u in row:
            u.w = u.width * stretch
            _place(u, x, y, h, plan)
            x += u.w + gap
        row.clear()
        return y + h + (0 if gap == 0 else rng.uniform(0.3, 1.5))

    for u in units:
        if row and sum(v.width for v in row) + u.width + gap * len(row) > x1 - x0:
            y = flush(y)
        u.width = min(u.width, x1 - x0)
        row.append(u)
    return flush(y)


def _table(units: list[_Unit], x0: float, x1: float, y: float, plan: _Plan) -> float:
    """A numbered table: a header row naming the columns, one row per person (1–4)."""
    rng = plan.rng
    if units[0].table is None:  # labelled lists
        return _pack(units, x0, x1, y, plan)
    name = units[0].table[0]
    title = rng.choice(TABLE_TITLES[name])
    plan.decor.append({"text": title, "box": _r((x0, y, min(x1 - x0, len(title) * 3.2 + 4), 5)), "size": 2.8})
    y += 5.5
    columns = sorted({u.table[2] for u in units if u.table}, key=("name_kana", "name", "my_number").index)
    if rng.random() < 0.4:
        columns.reverse()
    widths = {"name_kana": rng.uniform(40, 55), "name": rng.uniform(40, 55), "my_number": 12 * 5.0}
    number_w = 7.0
    total = number_w + sum(widths[c] for c in columns)
    scale = min(1.0, (x1 - x0) / total)
    h = rng.uniform(6.5, 8.5)
    ruled = plan.family != "printout"
    x = x0 + number_w
    head_h = 5.0
    for col in columns:
        text = rng.choice(TABLE_HEADS[col])
        plan.decor.append({"text": text, "box": _r((x, y, widths[col] * scale, head_h)), "ruled": ruled,
                           "align": "center", "size": 2.6})
        x += widths[col] * scale
    rows = sorted({u.table[1] for u in units if u.table})
    for i, n in enumerate(rows):
        ry = y + head_h + i * h
        plan.decor.append({"text": str(n), "box": _r((x0, ry, number_w, h)), "ruled": ruled, "align": "center",
                           "size": 2.6})
        x = x0 + number_w
        for col in columns:
            cw = widths[col] * scale
            u = next((u for u in units if u.table == (name, n, col)), None)
            if u is not None:
                spec = dict(u.spec)
                if spec.get("kind") == "cells":
                    spec["cells"] = 12
                    box = (x + 0.8, ry + 0.8, cw - 1.6, h - 1.6)
                else:
                    spec.pop("kind", None)
                    box = (x, ry, cw, h)
                plan.fields.append({**_clean(spec), "box": _r(box)})
            elif ruled:
                plan.decor.append({"box": _r((x, ry, cw, h)), "ruled": True})
            x += cw
    return y + head_h + len(rows) * h + 1


def _place(u: _Unit, x: float, y: float, h: float, plan: _Plan) -> None:
    """The unit's label and value boxes at (x, y), `u.w` wide and `h` tall."""
    spec = dict(u.spec)
    label_w = min(u.x, u.w * 0.6)
    if plan.left:
        label_box = (x + 0.3, y, label_w, h)
        value = (x + label_w, y, u.w - label_w, h)
        if plan.family == "label_left":
            plan.decor.append({"box": _r((x, y, label_w, h)), "ruled": True})
    else:
        band = min(4.0, h * 0.35)
        label_box = (x + 0.3, y + 0.2, u.w - 0.6, band)
        value = (x, y + band, u.w, h - band)
        if plan.family == "grid":
            plan.decor.append({"box": _r((x, y, u.w, h)), "ruled": True})
    vx, vy, vw, vh = value
    kind = spec.get("kind", "text")
    pad = 0.8
    inner = (vx + pad, vy + pad, vw - 2 * pad, vh - 2 * pad)
    if kind == "cells":
        cw = min((vw - 2) / spec["cells"], 5.8)
        box = (vx + 1, vy + (vh - min(vh - 1.2, 7)) / 2, cw * spec["cells"], min(vh - 1.2, 7))
    elif kind == "checkbox":
        box = (vx + 1, vy + (vh - 4.2) / 2, 4.2, 4.2)
    elif kind == "choice":
        box = inner
        spec["options"] = _options(spec.pop("_options"), inner, spec["mark"])
    elif kind == "date":
        box = inner
        spec["date"] = _date_parts(u.key, inner, plan.rng, spec.pop("_era", None))
    else:
        box = value if plan.family in ("grid", "label_left") else inner
    plan.fields.append({**_clean(spec), "box": _r(box), "label": u.label, "label_box": _r(label_box)})


def _options(options: list[tuple[str, str]], area: tuple[float, float, float, float], mark: str) -> list[dict]:
    x, y, w, h = area
    widths = [len(t) * LABEL_MM + (7 if mark == "tick" else 3) for _, t in options]
    scale = min(1.0, w / sum(widths))
    out = []
    oh = min(h, 5.5)
    for (code, text), ow in zip(options, widths, strict=True):
        out.append({"code": code, "label": text, "box": _r((x, y + (h - oh) / 2, ow * scale, oh))})
        x += ow * scale
    return out


def _date_parts(key: str, area: tuple[float, float, float, float], rng: random.Random,
                style: str | None = None) -> dict:
    """The era (circled among printed eras, written, or preprinted as 令和 where only recent dates go), then
    year, month and day boxes with their printed units."""
    x, y, w, h = area
    ph = min(h, 6.0)
    py = y + (h - ph) / 2
    recent = key in ("submitted_date", "change_date")
    parts: dict = {}
    if style is None:
        style = "fixed" if recent and rng.random() < 0.6 else rng.choice(("circle", "circle", "write"))
    if style == "fixed":
        parts["era_fixed"], parts["era_box"] = "reiwa", _r((x, py, 8, ph))
        x += 9
    elif style == "circle":
        eras = (("meiji", "明"), ("taisho", "大"), ("showa", "昭"), ("heisei", "平"), ("reiwa", "令"))
        if recent:
            eras = eras[3:]
        parts["era"] = [{"code": c, "label": t, "box": _r((x + i * 4.6, py + (ph - 4.4) / 2, 4.4, 4.4))}
                        for i, (c, t) in enumerate(eras)]
        x += len(eras) * 4.6 + 1
    else:
        parts["era_box"] = _r((x, py, 9, ph))
        x += 10
    step = max(9.0, (area[0] + w - x) / 3)
    for part in ("year", "month", "day"):
        parts[part] = _r((x, py, step - 4.5, ph))
        x += step
    return parts


def _clean(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if not k.startswith("_")}


def _r(box: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(v, 1) for v in box)


# Where a section starts, and how layouts head it. Fields before the first break belong to the header.
SECTIONS: dict[str, dict[str, list[str]]] = {
    "kyuyo_shiharai_hokokusho": {
        "recipient_address": ["支払を受ける者", "受給者", "受給者情報"],
        "payment_type": ["支払金額等", "支給・控除の内容", "金額"],
        "spouse_status": ["配偶者・扶養親族", "扶養控除等", "配偶者・扶養"],
        "social_insurance": ["保険料等", "控除額", "社会保険料等"],
        "remarks": ["摘要", "備考"],
        "life_ins_new": ["保険料の内訳", "生命保険料の内訳"],
        "housing_loan_count": ["住宅借入金等", "住宅ローン"],
        "spouse_name_kana": ["控除対象配偶者", "配偶者"],
        "spouse_total_income": ["その他の控除", "控除の内訳"],
        "dependent_1_name_kana": ["扶養親族", "控除対象扶養親族"],
        "minor": ["区分", "該当欄"],
        "birth_date": ["受給者生年月日", "生年月日"],
        "payer_number": ["支払者", "給与支払者", "事業所"],
    },
    "idou_todokede": {
        "payer_designated_number": ["特別徴収義務者", "事業所", "給与支払者"],
        "employee_name_kana": ["給与所得者", "異動者", "対象者"],
        "annual_tax": ["特別徴収税額", "税額", "徴収状況"],
        "change_date": ["異動の内容", "異動事由", "異動"],
        "lump_sum_amount": ["一括徴収", "一括徴収の場合"],
        "salary_paid_until_change": ["給与の支払状況", "給与支払額"],
        "new_employer_name": ["新勤務先", "転勤・転職先", "新しい勤務先"],
    },
    "kyuyo_soukatsuhyo": {
        "payer_designated_number": ["給与支払者", "事業所", "特別徴収義務者"],
        "contact_person": ["連絡先", "担当者"],
        "accountant": ["関与税理士", "税理士等"],
        "payroll_period": ["給与の支払", "支払期間等"],
        "total_recipients": ["人員", "報告人員等", "受給者数"],
        "send_method": ["税額通知書", "通知書の送付"],
    },
}
