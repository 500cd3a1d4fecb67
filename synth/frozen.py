"""The frozen hand-made layouts: designed by hand from real forms, never tuned on.

Each file of `synth/frozen_layouts/` describes one layout row by row, the way its designer drew it:
the paper, the look (frame, ruled boxes, ink, typeface), and for each row its height and its cells,
each cell a printed label, the contract field it holds and its width. Wordings, order and proportions
are the designer's, not the layout generator's; only the mechanics of placing a label and its value
in a cell are shared with `synth/layouts.py`. The benchmark reports these apart from generated layouts.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import yaml

from yomitori.forms_templates.contract import contract_forms
from yomitori.forms_templates.schema import LayoutTemplate

from .fonts import FONTS
from .layouts import LABEL_MM, LayoutDraw, _place, _Plan, _r, _Unit
from .render import PrintLook

FROZEN = Path(__file__).with_name("frozen_layouts")


@cache
def frozen_layouts() -> tuple[LayoutDraw, ...]:
    return tuple(_load(p) for p in sorted(FROZEN.glob("*.yaml")))


def _load(path: Path) -> LayoutDraw:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    form = raw["form"]
    contract = contract_forms()[form].fields
    pw, ph = raw["page"]
    margin = raw.get("margin", 12.0)
    look = raw.get("look", {})
    family = raw["family"]
    plan = _Plan(random.Random(path.name), form, "grid" if raw["arrangement"] == "above" else "label_left",
                 (pw, ph), row_h=0, left=raw["arrangement"] == "left")
    if not look.get("field_boxes", True):
        plan.family = "printout"
    title_h = raw.get("title_mm", 10.0)
    title_w = min(pw - 2 * margin, len(raw["title"]) * title_h * 0.62 + 8)
    title_box = _r(((pw - title_w) / 2, margin, title_w, title_h))
    y = margin + title_h + 3
    x0, x1 = margin, pw - margin
    for row in raw["rows"]:
        if "heading" in row:
            plan.decor.append({"text": row["heading"], "box": _r((x0, y, x1 - x0, 5.0)), "size": 3.0,
                               "ruled": row.get("ruled", False)})
            y += 5.5
            continue
        if "text" in row:  # printed matter that is not a field (a column header, a note)
            plan.decor.append({"text": row["text"], "box": _r((x0 + row.get("x", 0), y, row["w"], row["h"])),
                               "size": row.get("size", 2.6), "ruled": row.get("ruled", False),
                               "align": row.get("align", "left")})
            y += row["h"] if row.get("advance", True) else 0
            continue
        h = row["h"]
        x = x0 + row.get("indent", 0.0)
        for cell in row["cells"]:
            label, key, width = cell["label"], cell["key"], cell["w"]
            if key is None:  # an empty ruled cell, or a label alone
                if look.get("field_boxes", True):
                    plan.decor.append({"box": _r((x, y, width, h)), "ruled": True, "text": label or None})
                x += width + row.get("gap", 0.0)
                continue
            c = contract[key]
            spec: dict = {"key": key, "type": c.type}
            if cell.get("cells"):
                spec["kind"], spec["cells"] = "cells", cell["cells"]
            if cell.get("suffix"):
                spec["suffix"] = cell["suffix"]
            if c.type == "checkbox":
                spec["kind"] = "checkbox"
            if c.type == "choice":
                spec["kind"], spec["mark"] = "choice", cell.get("mark", "circle")
                spec["_options"] = [tuple(reversed(o.split("=", 1))) for o in cell["options"]]
            if c.type == "date":
                spec["kind"], spec["_era"] = "date", cell.get("era", "circle")
            label_w = cell.get("label_w", len(label or "") * LABEL_MM * 1.05 + 2.5)
            u = _Unit(key, spec, width, label, x=label_w, w=width)
            _place(u, x, y, h, plan)
            x += width + row.get("gap", 0.0)
        y += h + row.get("after", 0.0)
    fonts = {f.name: f for f in FONTS}
    print_look = PrintLook(outer_frame=look.get("outer_frame", True), field_boxes=look.get("field_boxes", True),
                           ink=tuple(look.get("ink", (25, 25, 25))),
                           label_font=fonts[look.get("label_font", "ipa-gothic")])
    t = LayoutTemplate.model_validate({
        "form": form, "layout": f"frozen_{path.stem}", "title": raw["title"],
        "page": {"width_mm": pw, "height_mm": ph}, "frame": _r((x0 - 2, margin - 2, x1 - x0 + 4, y - margin + 4)),
        "title_box": title_box, "decor": plan.decor, "fields": plan.fields})
    return LayoutDraw(t, print_look, family)
