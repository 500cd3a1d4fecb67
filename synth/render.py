"""Render a template as a blank form, or filled with a record as a person or a payroll program would.

The blank render doubles as the reference image that extraction subtracts from a scan (form dropout),
so everything printed here comes from the template alone.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

# The blank form lives with the templates (reading a page renders it too); re-exported for the generator's modules.
from yomitori.forms_templates.blank import DEFAULT_LOOK, PRINT_INK, Box, Canvas, PrintLook, _wrap, render_blank
from yomitori.forms_templates.fonts import Font, covers, fonts, pil_font
from yomitori.forms_templates.schema import FieldTemplate, LayoutTemplate, Option
from yomitori.wareki import to_wareki

HAND_INKS = ((20, 20, 30), (25, 35, 110), (15, 15, 15))
SEAL_RED = (205, 40, 45)
STAMP_INKS = ((95, 45, 130), (40, 50, 140))  # purple and blue rubber-stamp ink


@dataclass(frozen=True)
class Style:
    """How one page is filled in."""

    hand: bool
    font: Font
    dpi: int = 300
    ink: tuple[int, int, int] = PRINT_INK
    amount_commas: bool = True
    seal: bool = True
    rubber_stamp: bool = False

    @staticmethod
    def pick(rng: random.Random, *, hand: bool, held_out: bool | None = None) -> Style:
        return Style(
            hand=hand,
            font=rng.choice(fonts(hand=hand, held_out=held_out)),
            dpi=rng.choice((200, 300)),
            ink=rng.choice(HAND_INKS) if hand else PRINT_INK,
            amount_commas=rng.random() < 0.7,
            seal=rng.random() < 0.6,
            rubber_stamp=hand and rng.random() < 0.5,
        )


# ---------------------------------------------------------------- filling in

def render_filled(t: LayoutTemplate, paper: dict[str, object], rng: random.Random, style: Style,
                  look: PrintLook = DEFAULT_LOOK) -> Image.Image:
    """The blank form with each field's paper value written in (see `paper_values`)."""
    c = Canvas(t, style.dpi)
    c.image.paste(render_blank(t, style.dpi, look))
    writer = _Writer(c, rng, style)
    stamped = {"payer_name", "payer_address"} if style.rubber_stamp else set()
    for f in t.fields:
        value = paper.get(f.key)
        if value is None or value is False:
            continue
        if f.key in stamped and isinstance(value, str):
            _rubber_stamp(c, f, value, rng)
        else:
            writer.field(f, value)
    if style.seal:
        for key in ("recipient_name", "employee_name", "payer_name"):
            if paper.get(key) and any(f.key == key for f in t.fields):
                _seal(c, t.field(key), str(paper[key]), rng, square=key == "payer_name")
    return c.image


class _Writer:
    def __init__(self, c: Canvas, rng: random.Random, style: Style) -> None:
        self.c, self.rng, self.style = c, rng, style

    def field(self, f: FieldTemplate, value: object) -> None:
        if f.kind == "checkbox":
            self._mark_box(f.box)
        elif f.kind == "choice":
            option = next(o for o in f.options if o.code == value)
            if f.mark == "write" and f.code_box:
                self.write(f.code_box, option.number or "", align="center")
            else:
                self._choose(option, f.mark)
        elif f.kind == "cells":
            self._cells(f, str(value))
        elif f.kind == "date":
            self._date(f, value)  # type: ignore[arg-type]
        else:
            x, y, w, h = f.box
            label_room = 0.0
            if f.label_box and _inside(f.label_box, f.box):
                label_room = f.label_box[3]  # the label is printed inside the top of the box
            suffix_room = 5.0 if f.suffix else 0.0
            area = (x + 0.5, y + label_room + 0.3, w - 1 - suffix_room, h - label_room - 0.6)
            align = "right" if f.type in ("amount", "count", "month") else "left"
            self.write(area, str(value), lines=f.lines, align=align)

    def write(self, box: Box, text: str, *, lines: int = 1, align: str = "left") -> None:
        font = self.style.font
        if not covers(font, text):  # a rare kanji the handwriting font lacks: fall back, never draw tofu
            font = next((f for f in fonts(hand=self.style.hand) if covers(f, text)), fonts(hand=False)[0])
        if not self.style.hand:
            self.c.text(box, text, font, align=align, color=self.style.ink, lines=lines)
            return
        for i, row in enumerate(_wrap(text, lines)):
            x, y, w, h = box
            rows = len(_wrap(text, lines))
            self._hand_line((x, y + h * i / rows, w, h / rows), row, font, align)

    def _hand_line(self, box: Box, text: str, font: Font, align: str) -> None:
        """Handwriting: glyph by glyph with jitter in position, size and angle."""
        rng, c = self.rng, self.c
        x, y, w, h = box
        size_px = c.px(min(h * rng.uniform(0.62, 0.8), 6.0))
        f = pil_font(font, size_px)
        advances = [f.getlength(ch) * rng.uniform(0.95, 1.12) for ch in text]
        total = sum(advances)
        if total > c.px(w) * 0.95:
            scale = c.px(w) * 0.95 / total
            size_px = int(size_px * scale)
            f = pil_font(font, size_px)
            advances = [a * scale for a in advances]
            total = sum(advances)
        if align == "right":
            cx = c.px(x + w) - total - c.px(rng.uniform(0.5, 1.5))
        elif align == "center":
            cx = c.px(x + w / 2) - total / 2 + c.px(rng.uniform(-0.8, 0.8))
        else:
            cx = c.px(x) + c.px(rng.uniform(0.5, 2.0))
        baseline = c.px(y + h / 2) + rng.uniform(-0.06, 0.06) * c.px(h)
        drift = rng.uniform(-0.03, 0.03)
        for ch, adv in zip(text, advances, strict=True):
            if not ch.isspace():
                glyph = _glyph(ch, pil_font(font, max(6, int(size_px * rng.uniform(0.9, 1.08)))), self.style.ink,
                               rng.uniform(-5, 5))
                gx = int(cx + rng.uniform(-0.05, 0.05) * size_px)
                gy = int(baseline - glyph.height / 2 + rng.uniform(-0.07, 0.07) * size_px)
                c.image.paste(glyph, (gx, gy), glyph)
            cx += adv
            baseline += drift * adv

    def _cells(self, f: FieldTemplate, digits: str) -> None:
        x, y, w, h = f.box
        n = f.cells or len(digits)
        cell_w = w / n
        start = n - len(digits) if f.type == "payer_number" and len(digits) < n else 0  # 12 digits right-aligned
        for i, ch in enumerate(digits[:n]):
            cx = x + (start + i) * cell_w
            self.write((cx + cell_w * 0.08, y + h * 0.1, cell_w * 0.84, h * 0.8), ch, align="left")

    def _date(self, f: FieldTemplate, iso: str) -> None:
        import datetime as dt

        d = dt.date.fromisoformat(iso)
        era, year = to_wareki(d)
        parts = f.date
        assert parts is not None
        if parts.era_fixed:
            pass  # printed on the form
        elif parts.era:
            option = next(o for o in parts.era if o.code == era.code)
            if parts.era_mark == "write" and parts.era_box:
                self.write(parts.era_box, option.number or "", align="center")
            else:
                self._choose(option, parts.era_mark)
        elif parts.era_box:
            self.write(parts.era_box, era.kanji)
        year_text = "元" if year == 1 and self.rng.random() < 0.5 else str(year)
        for box, text in ((parts.year, year_text), (parts.month, str(d.month)), (parts.day, str(d.day))):
            if box:
                self.write(box, text, align="right")

    def _choose(self, o: Option, mark: str) -> None:
        x, y, w, h = o.box
        c, rng = self.c, self.rng
        ink = self.style.ink
        if mark == "tick":
            side = min(h * 0.7, 3.5)
            bx, by = x + 0.5, y + (h - side) / 2
            self._tick((bx, by, side, side))
            return
        # A hand-drawn ellipse around the option: a little off-centre, not quite closed.
        pad = rng.uniform(0.2, 0.8)
        cx, cy = c.px(x + w / 2 + rng.uniform(-0.4, 0.4)), c.px(y + h / 2 + rng.uniform(-0.3, 0.3))
        rx, ry = c.px(w / 2 + pad), c.px(h / 2 + pad * 0.6)
        start = rng.uniform(0, 360)
        pts = []
        for k in range(0, 380, 8):
            a = math.radians(start + k)
            wob = 1 + rng.uniform(-0.03, 0.03)
            pts.append((cx + rx * wob * math.cos(a), cy + ry * wob * math.sin(a)))
        c.draw.line(pts, fill=ink, width=max(2, c.px(rng.uniform(0.25, 0.4))))

    def _mark_box(self, box: Box) -> None:
        kind = self.rng.choice(("tick", "tick", "circle", "cross"))
        x, y, w, h = box
        c, ink = self.c, self.style.ink
        width = max(2, c.px(0.35))
        if kind == "tick":
            self._tick(box)
        elif kind == "circle":
            c.draw.ellipse((c.px(x + w * 0.15), c.px(y + h * 0.15), c.px(x + w * 0.85), c.px(y + h * 0.85)),
                           outline=ink, width=width)
        else:
            c.line(x + w * 0.2, y + h * 0.2, x + w * 0.8, y + h * 0.8, 0.35, ink)
            c.line(x + w * 0.8, y + h * 0.2, x + w * 0.2, y + h * 0.8, 0.35, ink)

    def _tick(self, box: Box) -> None:
        x, y, w, h = box
        j = self.rng.uniform
        pts = [(x + w * j(0.1, 0.25), y + h * j(0.45, 0.6)), (x + w * j(0.35, 0.5), y + h * j(0.75, 0.9)),
               (x + w * j(0.8, 1.05), y + h * j(0.0, 0.2))]
        self.c.draw.line([(self.c.px(a), self.c.px(b)) for a, b in pts], fill=self.style.ink,
                         width=max(2, self.c.px(0.35)), joint="curve")


def _glyph(ch: str, font, ink, angle: float) -> Image.Image:
    left, top, right, bottom = font.getbbox(ch)
    pad = 4
    img = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((pad - left, pad - top), ch, font=font, fill=(*ink, 255))
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def _inside(inner: Box, outer: Box) -> bool:
    return inner[0] >= outer[0] - 0.01 and inner[1] >= outer[1] - 0.01 and \
        inner[0] + inner[2] <= outer[0] + outer[2] + 0.01 and inner[1] + inner[3] <= outer[1] + outer[3] + 0.01


# ---------------------------------------------------------------- seals and stamps

def _seal(c: Canvas, f: FieldTemplate, name: str, rng: random.Random, *, square: bool) -> None:
    """A red 印影 pressed over the right end of a name field."""
    x, y, w, h = f.box
    d = rng.uniform(9, 12) if not square else rng.uniform(13, 17)
    cx, cy = x + w - d * rng.uniform(0.4, 0.9), y + h / 2 + rng.uniform(-2, 2)
    layer = Image.new("RGBA", c.image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ink = (*SEAL_RED, int(rng.uniform(170, 230)))
    box = (c.px(cx - d / 2), c.px(cy - d / 2), c.px(cx + d / 2), c.px(cy + d / 2))
    if square:
        draw.rectangle(box, outline=ink, width=c.px(0.7))
        chars = "代表取締役印"
        cols, rows = 2, 3
    else:
        draw.ellipse(box, outline=ink, width=c.px(0.6))
        chars = name.split(" ")[0][:2] or "印"
        cols, rows = 1, len(chars)
    font = pil_font(fonts(hand=False)[0], c.px(d * 0.8 / max(rows, cols)))
    for i, ch in enumerate(chars):
        col, row = divmod(i, rows)
        tx = c.px(cx + d * (0.22 if cols == 2 and col == 0 else (-0.22 if cols == 2 else 0)))
        ty = c.px(cy - d / 2 + d * (row + 0.5) / rows)
        draw.text((tx, ty), ch, font=font, fill=ink, anchor="mm")
    layer = layer.rotate(rng.uniform(-10, 10), center=(c.px(cx), c.px(cy)))
    # 朱肉 is a translucent film: it multiplies with what is under it, so toner and ink stay black
    # under a seal rather than turning red (alpha blending would make the text go with the seal).
    tint = Image.new("RGB", c.image.size, "white")
    tint.paste(layer, (0, 0), layer)
    c.image.paste(ImageChops.multiply(c.image.convert("RGB"), tint))


def _rubber_stamp(c: Canvas, f: FieldTemplate, text: str, rng: random.Random) -> None:
    """A ゴム印: bold type in stamp ink, a little crooked and off the box, with uneven ink."""
    x, y, w, h = f.box
    label_room = f.label_box[3] if f.label_box and _inside(f.label_box, f.box) else 0.0
    area = (x + rng.uniform(0.5, 3), y + label_room + rng.uniform(-0.8, 0.8), w * rng.uniform(0.8, 0.95),
            h - label_room)
    layer = Canvas.__new__(Canvas)
    layer.s = c.s
    layer.image = Image.new("RGB", c.image.size, "white")
    layer.draw = ImageDraw.Draw(layer.image)
    ink = rng.choice(STAMP_INKS)
    layer.text(area, text, FONTS_BOLD(), color=ink, lines=f.lines)
    mask = layer.image.convert("L").point(lambda v: 255 if v < 200 else 0)
    speckle = Image.effect_noise(c.image.size, 90).point(lambda v: 0 if v < 60 else 255)
    mask = Image.composite(mask, Image.new("L", c.image.size, 0), speckle).filter(ImageFilter.GaussianBlur(0.6))
    mask = mask.rotate(rng.uniform(-1.5, 1.5), center=(c.px(x), c.px(y)))
    c.image.paste(Image.new("RGB", c.image.size, ink), (0, 0), mask)


def FONTS_BOLD() -> Font:
    bold = [f for f in fonts(hand=False) if "bold" in f.name]
    return bold[0] if bold else fonts(hand=False)[0]
