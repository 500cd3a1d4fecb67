"""The Debian fonts the generator writes with: printed (Noto, IPA) and handwriting (Seto, Kiloji)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

from yomitori.errors import MissingDependency


@dataclass(frozen=True)
class Font:
    name: str
    path: str
    index: int = 0
    hand: bool = False
    # Held-out fonts are never looked at while tuning; the benchmark reports them separately.
    held_out: bool = False


FONTS: tuple[Font, ...] = (
    Font("noto-sans", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    Font("ipa-gothic", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Font("ipa-mincho", "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"),
    Font("noto-serif", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 0, held_out=True),
    Font("noto-sans-bold", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 0, held_out=True),
    Font("seto", "/usr/share/fonts/truetype/seto/setofont.ttf", hand=True),
    Font("kiloji", "/usr/share/fonts/truetype/kiloji/kiloji.ttf", hand=True),
    Font("kiloji-p", "/usr/share/fonts/truetype/kiloji/kiloji_p.ttf", hand=True, held_out=True),
    Font("kiloji-b", "/usr/share/fonts/truetype/kiloji/kiloji_b.ttf", hand=True, held_out=True),
)
LABEL_FONT = FONTS[1]  # the forms' own printed labels: IPA Gothic
DEBIAN_PACKAGES = "fonts-noto-cjk fonts-ipafont-gothic fonts-ipafont-mincho fonts-seto fonts-kiloji"


def fonts(*, hand: bool, held_out: bool | None = None) -> list[Font]:
    """Installed fonts of one kind; held_out=None takes both tuning and held-out fonts."""
    found = [
        f for f in FONTS
        if f.hand == hand and (held_out is None or f.held_out == held_out) and Path(f.path).exists()
    ]
    if not found:
        kind = "handwriting" if hand else "print"
        raise MissingDependency(f"no {kind} font installed; apt-get install {DEBIAN_PACKAGES}")
    return found


@cache
def pil_font(font: Font, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font.path, max(6, size_px), index=font.index)


@cache
def _cmap(font: Font) -> frozenset[int]:
    return frozenset(TTFont(font.path, fontNumber=font.index, lazy=True).getBestCmap())


def covers(font: Font, text: str) -> bool:
    """True when the font has a glyph for every character (no tofu in the ground truth)."""
    cmap = _cmap(font)
    return all(ord(c) in cmap or c.isspace() for c in text)
