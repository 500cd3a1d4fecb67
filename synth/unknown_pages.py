"""Pages that are none of yomitori's forms: letters, 住民票-like certificates, blank pages, other tax forms,
photos of text and receipts, scanned like real input. Classification must call every one of them `unknown`.

Each kind has a tuning variant and a held-out variant (other titles, other wording, other table shapes);
the classifier trains on tuning variants only and is measured on held-out ones. `receipt` is a held-out
kind: the classifier never sees one while training.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import date

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .data import make_address, make_company, make_person, wareki
from .fonts import LABEL_FONT, Font, covers, fonts, pil_font
from .render import HAND_INKS, PRINT_INK, SEAL_RED
from .scan import ScanEffects, scan

KINDS = ("letter", "juminhyo", "blank", "tax_form", "photo", "receipt")
TRAIN_KINDS = ("letter", "juminhyo", "blank", "tax_form", "photo")

# Titles of documents a tax office also receives. Held-out titles are never used for training.
_CERT_TITLES = (
    "住民票の写し", "住民票記載事項証明書", "印鑑登録証明書", "戸籍の附票の写し",
)
_CERT_TITLES_HELD = (
    "課税証明書", "所得証明書", "納税証明書", "住民票除票の写し",
)
_TAX_TITLES = (
    "給与所得の源泉徴収票", "所得税及び復興特別所得税の確定申告書", "給与所得者の扶養控除等（異動）申告書",
    "給与所得者の基礎控除申告書 兼 配偶者控除等申告書", "固定資産税 課税明細書",
    "年末調整のための住宅借入金等特別控除証明書",
)
_TAX_TITLES_HELD = (
    "退職所得の源泉徴収票・特別徴収票", "公的年金等の源泉徴収票", "市民税・県民税申告書",
    "給与所得者の保険料控除申告書", "法定調書合計表", "償却資産申告書（償却資産課税台帳）",
)
_TAX_LABELS = (
    "支払金額", "所得控除の額の合計額", "源泉徴収税額", "控除対象配偶者", "社会保険料等の金額", "生命保険料の控除額",
    "住宅借入金等特別控除の額", "氏名", "住所又は居所", "個人番号", "生年月日", "提出年月日", "税務署長", "種別",
    "区分", "摘要", "所得の種類", "収入金額等", "課税される所得金額", "納める税金", "扶養親族", "障害者", "寡婦",
    "勤労学生", "前職分", "還付される税金", "整理番号", "資産の種類", "取得価額", "評価額",
)
_LETTER_TITLES = (
    "ご挨拶", "お知らせ", "通知書", "ご案内", "お詫び", "送付状",
)
_LETTER_TITLES_HELD = (
    "請求書在中のお知らせ", "回答書", "お願い", "決定通知書", "会議開催のご案内",
)
_SENTENCES = (
    "拝啓　時下ますますご清栄のこととお慶び申し上げます。", "平素は格別のご高配を賜り、厚く御礼申し上げます。",
    "さて、このたび弊社は下記のとおり事務所を移転することとなりました。",
    "つきましては、今後とも変わらぬご支援を賜りますようお願い申し上げます。",
    "ご不明な点がございましたら、担当までお問い合わせください。", "本件につきまして、下記のとおりご案内いたします。",
    "なお、期日までにご提出くださいますようお願いいたします。",
    "まずは略儀ながら書中をもちましてご挨拶申し上げます。",
    "先日ご依頼いただきました資料を同封いたしますので、ご査収ください。", "今後とも何卒よろしくお願い申し上げます。",
)
_SENTENCES_HELD = (
    "謹啓　新緑の候、皆様におかれましてはますますご健勝のこととお喜び申し上げます。",
    "標記の件について、次のとおり回答します。", "お忙しいところ恐れ入りますが、内容をご確認のうえご返送ください。",
    "提出された書類に不足がありましたので、追加の提出をお願いします。",
    "会場は本庁舎三階の第一会議室です。駐車場には限りがあります。",
    "この通知に不服がある場合は、三か月以内に審査請求をすることができます。",
    "記載内容に誤りがある場合は、速やかにご連絡ください。", "以上、よろしくお取り計らいのほどお願い申し上げます。",
)
_SHOP_ITEMS = (
    "牛乳", "食パン", "卵 10個", "コピー用紙 A4", "ボールペン 黒", "封筒 長3", "お茶 500ml", "弁当", "切手 84円",
    "乾電池 単3", "クリアファイル", "ガムテープ", "トイレットペーパー", "コーヒー",
)


@dataclass(frozen=True)
class UnknownPage:
    image: Image.Image
    kind: str
    dpi: int


def unknown_page(seed: int, kind: str | None = None, *, held_out: bool = False, dpi: int | None = None,
                 clean: bool = False) -> UnknownPage:
    """One non-form page; same seed, same page. `dpi` defaults to a scanner's 200 or 300."""
    rng = random.Random(f"unknown:{kind}:{held_out}:{seed}")
    kind = kind or rng.choice(KINDS if held_out else TRAIN_KINDS)
    dpi = dpi or rng.choice((200, 300))
    if kind == "photo":
        return UnknownPage(_photo(rng, dpi, held_out), kind, dpi)
    page = _KIND_RENDERERS[kind](rng, dpi, held_out)
    effects = ScanEffects() if clean else ScanEffects.pick(rng)
    return UnknownPage(scan(page, dpi, effects, rng), kind, dpi)


# ---------------------------------------------------------------- drawing helpers


class _Sheet:
    """A blank sheet in pixels, addressed in millimetres."""

    def __init__(self, width_mm: float, height_mm: float, dpi: int) -> None:
        self.s = dpi / 25.4
        self.image = Image.new("RGB", (self.px(width_mm), self.px(height_mm)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm * self.s)

    def rect(self, x: float, y: float, w: float, h: float, width_mm: float = 0.25) -> None:
        self.draw.rectangle((self.px(x), self.px(y), self.px(x + w), self.px(y + h)), outline=PRINT_INK,
                            width=max(1, self.px(width_mm)))

    def line(self, x0: float, y0: float, x1: float, y1: float, width_mm: float = 0.2) -> None:
        self.draw.line((self.px(x0), self.px(y0), self.px(x1), self.px(y1)), fill=PRINT_INK,
                       width=max(1, self.px(width_mm)))

    def text(self, x: float, y: float, text: str, size_mm: float, font: Font = LABEL_FONT, *,
             color: tuple[int, int, int] = PRINT_INK, anchor: str = "lm", max_w: float | None = None) -> None:
        if not covers(font, text):
            font = LABEL_FONT
        f = pil_font(font, self.px(size_mm))
        if max_w is not None and f.getlength(text) > self.px(max_w):
            f = pil_font(font, int(self.px(size_mm) * self.px(max_w) / f.getlength(text)))
        self.draw.text((self.px(x), self.px(y)), text, font=f, fill=color, anchor=anchor)

    def paragraph(self, x: float, y: float, w: float, text: str, size_mm: float, font: Font,
                  color: tuple[int, int, int] = PRINT_INK, spacing: float = 1.7) -> float:
        """Text wrapped to width `w`; returns the y below it."""
        per_line = max(4, int(w / size_mm))
        for i in range(0, len(text), per_line):
            self.text(x, y, text[i : i + per_line], size_mm, font, color=color)
            y += size_mm * spacing
        return y


def _seal(sheet: _Sheet, cx: float, cy: float, d: float, chars: str, rng: random.Random) -> None:
    layer = Image.new("RGBA", sheet.image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ink = (*SEAL_RED, int(rng.uniform(160, 230)))
    box = (sheet.px(cx - d / 2), sheet.px(cy - d / 2), sheet.px(cx + d / 2), sheet.px(cy + d / 2))
    draw.rectangle(box, outline=ink, width=sheet.px(0.7))
    f = pil_font(LABEL_FONT, sheet.px(d / 3.2))
    for i, ch in enumerate(chars[:9]):
        col, row = divmod(i, 3)
        draw.text((sheet.px(cx + d * (0.28 - 0.28 * col)), sheet.px(cy - d * 0.3 + d * 0.3 * row)), ch, font=f,
                  fill=ink, anchor="mm")
    sheet.image.paste(layer, (0, 0), layer)


def _date_text(rng: random.Random) -> str:
    return wareki(date(rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28)))


def _yen(rng: random.Random, lo: int = 1_000, hi: int = 9_000_000) -> str:
    return f"{rng.randint(lo, hi):,}"


# ---------------------------------------------------------------- kinds


def _letter(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """挨拶状 / 通知: date, addressee, title, paragraphs, sender; printed or handwritten."""
    sheet = _Sheet(210, 297, dpi)
    hand = rng.random() < 0.35
    font = rng.choice(fonts(hand=hand))
    ink = rng.choice(HAND_INKS) if hand else PRINT_INK
    sentences = _SENTENCES_HELD if held_out else _SENTENCES
    company = make_company(rng)
    person = make_person(rng, date(rng.randint(1950, 2000), 5, 1))
    sheet.text(185, 22, _date_text(rng), 4, font, color=ink, anchor="rm")
    sheet.text(22, 36, f"{person.name} 様", 5, font, color=ink)
    sheet.text(105, 58, rng.choice(_LETTER_TITLES_HELD if held_out else _LETTER_TITLES), rng.uniform(5, 7.5), font,
               color=ink, anchor="mm")
    y = 75.0
    size = rng.uniform(3.6, 4.6)
    for _ in range(rng.randint(2, 5)):
        body = "".join(rng.sample(sentences, rng.randint(1, 3)))
        y = sheet.paragraph(25, y, 160, "　" + body, size, font, ink) + size
        if y > 230:
            break
    if rng.random() < 0.5:
        sheet.text(105, y + 6, "記", 4.5, font, color=ink, anchor="mm")
        for i in range(rng.randint(2, 4)):
            sheet.text(40, y + 16 + i * 8, f"{i + 1}．{rng.choice(('日時', '場所', '内容', '連絡先'))}　"
                       f"{_date_text(rng)}", 4, font, color=ink)
    sheet.text(185, 262, "敬具" if not held_out else "以上", 4, font, color=ink, anchor="rm")
    sheet.text(185, 275, company.name, 4, font, color=ink, anchor="rm")
    sheet.text(185, 283, company.address.text, 3, font, color=ink, anchor="rm", max_w=150)
    return sheet.image


def _juminhyo(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """A certificate: title, ruled table of a household (or the taxable income), certification and seal."""
    sheet = _Sheet(210, 297, dpi)
    title = rng.choice(_CERT_TITLES_HELD if held_out else _CERT_TITLES)
    sheet.text(105, 22, title, rng.uniform(6, 8), anchor="mm")
    address = make_address(rng)
    top, left, width = 34.0, rng.uniform(12, 20), 0.0
    width = 210 - 2 * left
    sheet.text(left, top - 3, f"住所　{address.text}", 3.2, max_w=width)
    members = rng.randint(1, 4)
    surname = make_person(rng, date(1970, 1, 1))
    row_h = rng.uniform(9, 13)
    rows = ["氏名", "生年月日", "性別", "続柄", "住民となった年月日", "前住所"] if not held_out else \
        ["氏名", "生年月日", "給与収入", "所得金額", "課税標準額", "市民税額", "県民税額"]
    y = top
    for _m in range(members):
        p = make_person(rng, date(rng.randint(1945, 2020), rng.randint(1, 12), 10),
                        surname=(surname.surname, surname.surname_kana))
        block_h = row_h * len(rows)
        if y + block_h > 250:
            break
        sheet.rect(left, y, width, block_h, 0.4)
        for i, label in enumerate(rows):
            ry = y + i * row_h
            if i:
                sheet.line(left, ry, left + width, ry)
            sheet.line(left + 40, ry, left + 40, ry + row_h)
            sheet.text(left + 2, ry + row_h / 2, label, 3.0, max_w=36)
            value = {"氏名": p.name, "生年月日": wareki(p.birth), "性別": "男" if p.male else "女",
                     "続柄": rng.choice(("世帯主", "妻", "子", "父", "母")),
                     "住民となった年月日": _date_text(rng), "前住所": make_address(rng).text}.get(label, _yen(rng))
            sheet.text(left + 43, ry + row_h / 2, value, 3.6, max_w=width - 46)
        y += block_h + rng.uniform(2, 6)
    sheet.text(left, 262, "この写しは、住民票の原本と相違ないことを証明する。" if not held_out else
               "上記のとおり証明します。", 3.6)
    sheet.text(left, 272, _date_text(rng), 3.6)
    sheet.text(150, 280, f"{address.municipality}長", 4.2, anchor="rm")
    _seal(sheet, 165, 278, 18, f"{address.municipality}長之印", rng)
    return sheet.image


def _blank(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """An empty page, or one with next to nothing on it: a page number, a note, a punch hole, show-through."""
    sheet = _Sheet(210, 297, dpi)
    what = rng.choice(("empty", "page_number", "note", "show_through", "holes"))
    if what == "page_number":
        sheet.text(105, 285, f"- {rng.randint(1, 30)} -", 3.5, anchor="mm")
    elif what == "note":
        font = rng.choice(fonts(hand=True))
        note = rng.choice(("以下余白", "白紙", "控え", "済", "確認済み"))
        x, y = rng.uniform(20, 120), rng.uniform(20, 250)
        sheet.text(x, y, note, rng.uniform(4, 8), font, color=rng.choice(HAND_INKS))
    elif what == "show_through":
        # Print from the other side, mirrored and faint.
        back = _letter(random.Random(rng.random()), dpi, held_out).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        faint = Image.eval(back.convert("L"), lambda v: 255 - (255 - v) // rng.randint(6, 12))
        sheet.image = faint.convert("RGB")
    elif what == "holes":
        for cy in (148.5 - 40, 148.5 + 40):
            sheet.draw.ellipse((sheet.px(8), sheet.px(cy - 3), sheet.px(14), sheet.px(cy + 3)), fill=(60, 60, 60))
    return sheet.image


def _tax_form(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """Another tax form: an outer frame, a title, and a grid of labelled boxes, amounts and digit cells."""
    landscape = rng.random() < 0.4
    w, h = (297, 210) if landscape else (210, 297)
    if held_out and rng.random() < 0.4:
        w, h = (257, 182) if landscape else (182, 257)  # B5
    sheet = _Sheet(w, h, dpi)
    margin = rng.uniform(8, 16)
    fx, fy, fw, fh = margin, margin + rng.uniform(8, 16), w - 2 * margin, h - 2 * margin - rng.uniform(8, 16)
    sheet.text(w / 2, fy - 6, rng.choice(_TAX_TITLES_HELD if held_out else _TAX_TITLES), rng.uniform(4.5, 6.5),
               anchor="mm", max_w=w * 0.7)
    if rng.random() < 0.6:
        sheet.text(fx + fw, fy - 6, f"令和{rng.randint(1, 8)}年分", 3.5, anchor="rm")
    sheet.rect(fx, fy, fw, fh, 0.5)
    # Rows of boxes: each row split into a random number of labelled cells.
    y = fy
    hand = rng.random() < 0.5
    font = rng.choice(fonts(hand=hand))
    ink = rng.choice(HAND_INKS) if hand else PRINT_INK
    while y < fy + fh - 8:
        row_h = min(rng.choice((8, 10, 12, 15, 20)), fy + fh - y)
        if y > fy:
            sheet.line(fx, y, fx + fw, y, 0.25)
        cuts = sorted(rng.sample(range(1, 12), rng.randint(1, 5)))
        xs = [fx] + [fx + fw * c / 12 for c in cuts] + [fx + fw]
        for x0, x1 in itertools.pairwise(xs):
            if x0 > fx:
                sheet.line(x0, y, x0, y + row_h)
            cell_w = x1 - x0
            sheet.text(x0 + 1, y + 2.2, rng.choice(_TAX_LABELS), min(2.4, row_h * 0.25), max_w=cell_w - 2)
            style = rng.random()
            if style < 0.25 and cell_w > 30:  # digit cells
                n = rng.randint(6, 13)
                for i in range(1, n):
                    cx = x0 + cell_w * i / n
                    sheet.line(cx, y + row_h * 0.45, cx, y + row_h, 0.12)
            elif style < 0.7 and rng.random() < 0.8:
                value = _yen(rng) if rng.random() < 0.6 else make_person(rng, date(1980, 1, 1)).name
                sheet.text(x1 - 2, y + row_h * 0.65, value, min(4.0, row_h * 0.4), font, color=ink, anchor="rm",
                           max_w=cell_w - 4)
        y += row_h
    return sheet.image


def _receipt_sheet(rng: random.Random, dpi: int) -> Image.Image:
    """A till receipt on narrow paper."""
    n = rng.randint(3, 9)
    sheet = _Sheet(80, 70 + n * 7, dpi)
    shop = make_company(rng).name
    sheet.text(40, 10, shop, 4.5, anchor="mm", max_w=70)
    sheet.text(40, 18, "領　収　書" if rng.random() < 0.5 else "レシート", 4, anchor="mm")
    sheet.text(6, 26, _date_text(rng) + f" {rng.randint(8, 21)}:{rng.randint(0, 59):02d}", 3)
    total = 0
    y = 34.0
    for _ in range(n):
        price = rng.randint(80, 3000)
        total += price
        sheet.text(6, y, rng.choice(_SHOP_ITEMS), 3.2)
        sheet.text(74, y, f"¥{price:,}", 3.2, anchor="rm")
        y += 7
    sheet.line(6, y, 74, y, 0.2)
    sheet.text(6, y + 7, "合計", 4.2)
    sheet.text(74, y + 7, f"¥{total:,}", 4.2, anchor="rm")
    sheet.text(6, y + 15, f"(内消費税等 ¥{total // 11:,})", 3)
    return sheet.image


def _receipt(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """One or two receipts laid on an A4 scanner glass."""
    sheet = _Sheet(210, 297, dpi)
    for i in range(rng.randint(1, 2)):
        r = _receipt_sheet(rng, dpi).rotate(rng.uniform(-6, 6), expand=True, fillcolor="white")
        x = sheet.px(rng.uniform(10, 40) + i * 95)
        sheet.image.paste(r, (min(x, sheet.image.width - r.width), sheet.px(rng.uniform(10, 60))))
        # The receipt's edge shows on the white glass as a faint shadow line.
        sheet.draw.rectangle((x, sheet.px(10), x + r.width, sheet.px(10) + r.height), outline=(200, 200, 200))
    return sheet.image


def _photo(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    """A phone photo of a printed page: perspective, a desk behind it, uneven light, texture, blur, JPEG."""
    sources = (_letter, _juminhyo, _tax_form) + ((_receipt_sheet_page,) if held_out else ())
    source = rng.choice(sources)
    page = np.asarray(source(rng, dpi, held_out).convert("RGB")).astype(np.float32)
    h, w = page.shape[:2]
    out_w, out_h = (round(w * 1.25), round(h * 1.2)) if rng.random() < 0.6 else (round(h * 1.3), round(w * 1.1))
    desk = np.array([rng.uniform(60, 200), rng.uniform(50, 170), rng.uniform(40, 150)], dtype=np.float32)
    grain = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(4, 18), (out_h // 8 + 1, out_w // 8 + 1))
    background = desk[None, None, :] + cv2.resize(grain.astype(np.float32), (out_w, out_h))[..., None]
    scale = min(out_w / w, out_h / h) * rng.uniform(0.6, 0.85)
    cx, cy = out_w / 2 + rng.uniform(-0.08, 0.08) * out_w, out_h / 2 + rng.uniform(-0.08, 0.08) * out_h
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = [(rng.uniform(-0.08, 0.08) * w * scale, rng.uniform(-0.06, 0.06) * h * scale) for _ in range(4)]
    angle = math.radians(rng.uniform(-12, 12))
    dst = []
    for (sx, sy), (jx, jy) in zip(src, jitter, strict=True):
        x, y = (sx - w / 2) * scale, (sy - h / 2) * scale
        c, sn = math.cos(angle), math.sin(angle)
        dst.append((cx + x * c - y * sn + jx, cy + x * sn + y * c + jy))
    m = cv2.getPerspectiveTransform(src, np.float32(dst))
    warped = cv2.warpPerspective(page, m, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)[..., None]
    img = warped * mask + background * (1 - mask)
    # Light falls off from one side; the phone's white balance tints the paper.
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    ramp = ((xx / out_w - 0.5) * math.cos(a) + (yy / out_h - 0.5) * math.sin(a))
    light = 1.0 - rng.uniform(0.15, 0.45) * (ramp + 0.5)
    tint = np.array([rng.uniform(0.9, 1.05), rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.98)], dtype=np.float32)
    img = img * light[..., None] * tint
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0) * dpi / 300)
    img = img + np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 8), img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        out = out.rotate(90, expand=True)  # taken in landscape
    return out


def _receipt_sheet_page(rng: random.Random, dpi: int, held_out: bool) -> Image.Image:
    return _receipt_sheet(rng, dpi)


_KIND_RENDERERS = {"letter": _letter, "juminhyo": _juminhyo, "blank": _blank, "tax_form": _tax_form,
                   "receipt": _receipt}
