"""Page images for roles that may not see 個人番号: every 個人番号 box of the layout blacked out before it is sent."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from PIL import Image, ImageDraw

from yomitori.forms_templates import templates
from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.store.models import Document

Box = Sequence[float]  # x, y, w, h in template millimetres
MARGIN_MM = 2.0  # as much as a field's crop shows around its box (ocr.fields.crop_box)
PERSONAL_TYPES = ("my_number", "payer_number")  # a payer's number is a 個人番号 when the payer is a person


def personal_boxes(doc: Document) -> list[Box] | None:
    """Every box of the document's layout that may hold a 個人番号 (recipient, spouse, dependents, payer), plus the
    boxes its fields were read from; None when the layout is unknown (then nothing says where the numbers are)."""
    layout = templates().get(f"{doc.form}/{doc.layout}")
    if layout is None:
        return None
    boxes: list[Box] = [f.box for f in layout.fields if f.type in PERSONAL_TYPES]
    personal_keys = {f.key for f in layout.fields if f.type in PERSONAL_TYPES}
    boxes += [f.box for f in doc.fields if f.key in personal_keys and f.box]
    return boxes


def black_out(png: bytes, boxes: Iterable[Box]) -> bytes:
    """The registered page (template millimetres × PX_PER_MM) with the boxes filled black, as PNG."""
    with Image.open(io.BytesIO(png)) as im:
        page = im.convert("L") if im.mode not in ("L", "RGB") else im.copy()
    draw = ImageDraw.Draw(page)
    for x, y, w, h in boxes:
        m = MARGIN_MM
        draw.rectangle(((x - m) * PX_PER_MM, (y - m) * PX_PER_MM, (x + w + m) * PX_PER_MM, (y + h + m) * PX_PER_MM),
                       fill=0)
    out = io.BytesIO()
    page.save(out, format="PNG", compress_level=1)
    return out.getvalue()
