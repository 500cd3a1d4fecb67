"""The Debian fonts yomitori prints with: the forms' own labels (IPA Gothic) when reading a page, and the printed
(Noto, IPA) and handwriting (Seto, Kiloji) fonts the synthetic generator writes with.

Reading a page needs only the label font (the blank form it subtracts from a scan is rendered with it); a missing
font is a `MissingDependency` naming its Debian package, said at start rather than as a failed page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

from yomitori.errors import MissingDependency

# Debian installs fonts here; YOMITORI_FONT_DIR points elsewhere (another distribution, or a test without fonts).
FONT_DIR = Path(os.environ.get("YOMITORI_FONT_DIR") or "/usr/share/fonts")


@dataclass(frozen=True)
class Font:
    name: str
    path: str
    index: int = 0
    hand: bool = False
    # Held-out fonts are never looked at while tuning; the benchmark reports them separately.
    held_out: bool = False
    package: str = ""  # the Debian package that installs it


def _f(name: str, rel: str, package: str, index: int = 0, **kw: bool) -> Font:
    return Font(name, str(FONT_DIR / rel), index, package=package, **kw)


FONTS: tuple[Font, ...] = (
    _f("noto-sans", "opentype/noto/NotoSansCJK-Regular.ttc", "fonts-noto-cjk"),
    _f("ipa-gothic", "opentype/ipafont-gothic/ipag.ttf", "fonts-ipafont-gothic"),
    _f("ipa-mincho", "opentype/ipafont-mincho/ipam.ttf", "fonts-ipafont-mincho"),
    _f("noto-serif", "opentype/noto/NotoSerifCJK-Regular.ttc", "fonts-noto-cjk", held_out=True),
    _f("noto-sans-bold", "opentype/noto/NotoSansCJK-Bold.ttc", "fonts-noto-cjk", held_out=True),
    _f("seto", "truetype/seto/setofont.ttf", "fonts-seto", hand=True),
    _f("kiloji", "truetype/kiloji/kiloji.ttf", "fonts-kiloji", hand=True),
    _f("kiloji-p", "truetype/kiloji/kiloji_p.ttf", "fonts-kiloji", hand=True, held_out=True),
    _f("kiloji-b", "truetype/kiloji/kiloji_b.ttf", "fonts-kiloji", hand=True, held_out=True),
)
LABEL_FONT = FONTS[1]  # the forms' own printed labels: IPA Gothic
DEBIAN_PACKAGES = "fonts-noto-cjk fonts-ipafont-gothic fonts-ipafont-mincho fonts-seto fonts-kiloji"


def require(font: Font = LABEL_FONT) -> Font:
    """The font, or a clear error naming the package that installs it (PIL would say only 'cannot open resource')."""
    if not Path(font.path).is_file():
        raise MissingDependency(f"the font {font.name} ({font.path}) is not installed: yomitori needs it to read "
                                f"forms; install it with: apt-get install {font.package}")
    return font


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
    return ImageFont.truetype(require(font).path, max(6, size_px), index=font.index)


@cache
def _cmap(font: Font) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(font.path, fontNumber=font.index, lazy=True).getBestCmap())


def covers(font: Font, text: str) -> bool:
    """True when the font has a glyph for every character (no tofu in the ground truth)."""
    cmap = _cmap(font)
    return all(ord(c) in cmap or c.isspace() for c in text)
