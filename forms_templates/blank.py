"""The blank form of a template, as printed: the reference image that extraction subtracts from a scan (form dropout),
and the paper the synthetic generator fills in. Everything printed here comes from the template alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from yomitori.wareki import era_from_token

from .fonts import LABEL_FONT, Font, pil_font, require
from .schema import Decor, FieldTemplate, LayoutTemplate, Option

Box = tuple[float, float, float, float]
PRINT_INK = (25, 25, 25)


class Canvas:
    """A page in pixels, addressed in template millimetres."""

    def __init__(self, t: LayoutTemplate, dpi: int) -> None:
        self.s = dpi / 25.4
        self.image = Image.new("RGB", (self.px(t.page.width_mm), self.px(t.page.height_mm)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm * self.s)

    def rect(self, box: Box, width_mm: float = 0.25, color=PRINT_INK) -> None:
        x, y, w, h = box
        self.draw.rectangle(
            (self.px(x), self.px(y), self.px(x + w), self.px(y + h)), outline=color, width=max(1, self.px(width_mm))
        )

    def line(self, x0: float, y0: float, x1: float, y1: float, width_mm: float = 0.2, color=PRINT_INK) -> None:
        points = (self.px(x0), self.px(y0), self.px(x1), self.px(y1))
        self.draw.line(points, fill=color, width=max(1, self.px(width_mm)))

    def text(self, box: Box, text: str, font: Font, *, size_mm: float | None = None, align: str = "left",
             color=PRINT_INK, lines: int = 1) -> None:
        """Printed text fitted into the box, vertically centred; wraps to at most `lines` lines."""
        x, y, w, h = box
        rows = _wrap(text, lines)
        size = size_mm or min(h * 0.7 / len(rows), 4.2)
        size_px = self.px(size)
        f = pil_font(font, size_px)
        widest = max(f.getlength(r) for r in rows)
        if widest > self.px(w) * 0.96:
            size_px = int(size_px * self.px(w) * 0.96 / widest)
            f = pil_font(font, size_px)
        line_h = self.px(h) / len(rows)
        for i, row in enumerate(rows):
            tw = f.getlength(row)
            if align == "center":
                tx = self.px(x) + (self.px(w) - tw) / 2
            elif align == "right":
                tx = self.px(x + w) - tw - self.px(0.8)
            else:
                tx = self.px(x) + self.px(0.8)
            cy = self.px(y) + line_h * (i + 0.5)
            self.draw.text((tx, cy), row, font=f, fill=color, anchor="lm")


def _wrap(text: str, lines: int) -> list[str]:
    if lines <= 1 or len(text) < 14:
        return [text]
    # Break at the space nearest the middle (building name on the second line), else in the middle.
    mid = len(text) // 2
    spaces = [i for i, c in enumerate(text) if c in " 　"]
    cut = min(spaces, key=lambda i: abs(i - mid)) if spaces else mid
    return [text[:cut].strip(), text[cut:].strip()]


# ---------------------------------------------------------------- blank form

@dataclass(frozen=True)
class PrintLook:
    """How a form's own matter is printed, beyond its template: what other printers and programs vary.

    The default is the bundled layouts' look; the layout generator (`synth/layouts.py`) varies it.
    """

    outer_frame: bool = True  # payroll printouts often have none
    field_boxes: bool = True  # … nor a ruled box around each value
    ink: tuple[int, int, int] = PRINT_INK  # municipal forms come printed in blue, green, brown
    label_font: Font = LABEL_FONT


DEFAULT_LOOK = PrintLook()


def render_blank(t: LayoutTemplate, dpi: int = 300, look: PrintLook = DEFAULT_LOOK) -> Image.Image:
    require(look.label_font)  # said once, naming the package, instead of PIL's 'cannot open resource'
    c = Canvas(t, dpi)
    if look.outer_frame:
        c.rect(t.frame, width_mm=t.frame_mm, color=look.ink)
    c.text(t.title_box, t.title, look.label_font, align="center", color=look.ink)
    for d in t.decor:
        _decor(c, d, t.line_mm, look)
    for f in t.fields:
        _blank_field(c, f, t.line_mm, look)
    return c.image


def _decor(c: Canvas, d: Decor, line_mm: float, look: PrintLook) -> None:
    if d.ruled:
        c.rect(d.box, width_mm=d.line_mm or line_mm, color=look.ink)
    if d.text:
        c.text(d.box, d.text, look.label_font, size_mm=d.size, align=d.align, color=look.ink)


def _blank_field(c: Canvas, f: FieldTemplate, line_mm: float, look: PrintLook) -> None:
    x, y, w, h = f.box
    font, ink = look.label_font, look.ink
    if f.kind == "checkbox":
        c.rect(f.box, width_mm=line_mm * 0.8, color=ink)
    elif (f.kind != "choice" or f.mark != "circle") and (look.field_boxes or f.kind == "cells"):
        c.rect(f.box, width_mm=line_mm, color=ink)
    if f.code_box:
        c.rect(f.code_box, width_mm=line_mm, color=ink)
    if f.label and f.label_box:
        c.text(f.label_box, f.label, font, size_mm=min(2.6, f.label_box[3] * 0.6), color=ink)
    if f.kind == "cells" and f.cells:
        for i in range(1, f.cells):
            cx = x + w * i / f.cells
            # heavier every 4 digits, as printed
            c.line(cx, y, cx, y + h, width_mm=line_mm * (0.48 if i % 4 else 1), color=ink)
    if f.suffix:
        c.text((x + w - 5, y + h * 0.45, 5, h * 0.55), f.suffix, font, size_mm=min(2.2, h * 0.4), align="right",
               color=ink)
    for o in f.options:
        _option_label(c, o, f.mark, look)
    if f.date:
        for o in f.date.era:
            _option_label(c, o, f.date.era_mark, look)
        if f.date.era_box and f.date.era_mark == "write":
            c.rect(f.date.era_box, width_mm=line_mm, color=ink)
        elif f.date.era_box and f.date.era_fixed:
            c.text(f.date.era_box, era_from_token(f.date.era_fixed).kanji, font,
                   size_mm=min(2.6, f.date.era_box[3] * 0.5), align="center", color=ink)
        for part, unit in ((f.date.year, "年"), (f.date.month, "月"), (f.date.day, "日")):
            if part:
                px, py, pw, ph = part
                c.text((px + pw, py, 4, ph), unit, font, size_mm=min(2.6, ph * 0.5), color=ink)


def _option_label(c: Canvas, o: Option, mark: str, look: PrintLook) -> None:
    x, y, w, h = o.box
    font, ink = look.label_font, look.ink
    if mark == "tick":
        side = min(h * 0.7, 3.5)
        c.rect((x + 0.5, y + (h - side) / 2, side, side), width_mm=0.2, color=ink)
        c.text((x + side + 1, y, w - side - 1, h), o.label, font, size_mm=min(2.6, h * 0.6), color=ink)
    elif mark == "write":  # a legend entry: number and option, nothing to mark
        c.text(o.box, o.label, font, size_mm=min(2.6, h * 0.6), color=ink)
    else:
        c.text(o.box, o.label, font, size_mm=min(2.6, h * 0.6), align="center", color=ink)
