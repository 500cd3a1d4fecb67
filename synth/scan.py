"""Make a rendered page look scanned: placement, skew, scale, blur, noise, JPEG, fax, upside down."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ScanEffects:
    skew_deg: float = 0.0
    scale: float = 1.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    rotate: int = 0  # 0 or 180: the page was fed upside down (90/270 when put in sideways)
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    fax: bool = False
    paper_tone: int = 255

    @staticmethod
    def pick(rng: random.Random) -> ScanEffects:
        return ScanEffects(
            skew_deg=rng.uniform(-3, 3),
            scale=rng.uniform(0.95, 1.05),
            shift_mm=(rng.uniform(-4, 4), rng.uniform(-4, 4)),
            rotate=rng.choices((0, 180, 90, 270), weights=(85, 10, 3, 2))[0],
            blur=rng.choice((0.0, 0.0, 0.5, 0.8, 1.1)),
            noise=rng.choice((0.0, 3.0, 6.0, 10.0)),
            jpeg_quality=rng.choice((None, None, 92, 80, 65)),
            fax=rng.random() < 0.15,
            paper_tone=rng.randint(232, 255),
        )


def scan(page: Image.Image, dpi: int, effects: ScanEffects, rng: random.Random) -> Image.Image:
    """The page as the scanner delivers it (RGB; black and white only for fax)."""
    img = np.asarray(page.convert("RGB")).astype(np.float32)
    img = img * (effects.paper_tone / 255.0)  # off-white paper
    h, w = img.shape[:2]
    s = dpi / 25.4
    # The scanner sees the whole sheet: a skewed or larger-scale sheet lands on a larger scan area.
    out_w, out_h = round(w * effects.scale * 1.06), round(h * effects.scale * 1.06)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), effects.skew_deg, effects.scale)
    m[0, 2] += (out_w - w) / 2 + effects.shift_mm[0] * s
    m[1, 2] += (out_h - h) / 2 + effects.shift_mm[1] * s
    tone = float(effects.paper_tone)
    img = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=(tone, tone, tone))
    if effects.blur:
        img = cv2.GaussianBlur(img, (0, 0), effects.blur * dpi / 300)
    if effects.noise:
        img = img + np.random.default_rng(rng.getrandbits(32)).normal(0, effects.noise, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if effects.fax:
        img = _fax(img, dpi)
    if effects.rotate:
        img = np.ascontiguousarray(np.rot90(img, k=effects.rotate // 90))
    out = Image.fromarray(img)
    if effects.jpeg_quality and not effects.fax:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=effects.jpeg_quality)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def _fax(img: np.ndarray, dpi: int) -> np.ndarray:
    """Fax standard resolution: half the vertical resolution, then hard black and white."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    low = cv2.resize(gray, (w, h // 2), interpolation=cv2.INTER_AREA)
    bw = np.where(low < 150, 0, 255).astype(np.uint8)
    bw = cv2.resize(bw, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(bw, cv2.COLOR_GRAY2RGB)
