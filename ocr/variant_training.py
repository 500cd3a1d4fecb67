"""Train the variant-letter CNN (`yomitori train-variant-letters`) on rendered letters, and measure it on fonts it
never saw.

Each sample is one letter of `variant_letters.CLASSES` between two neighbours, drawn in a font at a random size
(handwriting fonts glyph by glyph with jitter, as the generator writes), then degraded as scans are (blur,
noise, JPEG, fax binarization, faint or heavy ink) and cropped by `letter_crop` around a centre that is off by
as much as the recognizer's positions are. Training uses the generator's tuning fonts only; the held-out fonts
measure how it carries to letter shapes it was not trained on. Reproducible by seed; PyTorch only here.
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from yomitori.classify.training import torch_or_explain, write_onnx
from yomitori.synth.fonts import Font, covers, fonts, pil_font

from .variant_letters import CLASSES, CROP, PAIRS, letter_crop

# Letters that stand beside these in names (山﨑, 𠮷田, 髙橋, 惠子, 濵田), and kana for the odd neighbour.
NEIGHBOURS = "山宮岩田野川橋木子美村井中島口本藤原上下谷沢松大小石森一二三子代江ヤマダ "
CENTRE_ERROR = 0.12  # the recognizer's letter centre is off by about this share of a letter (sd)
MIN_INK = 0.03  # a crop with less ink on average lost its letter to the degradation: not a sample


def _fonts_for(letter: str, held_out: bool) -> list[Font]:
    """The generator's fonts (tuning or held-out) that have the letter. Of the tuning fonts only Noto Sans has 𠮷;
    the shear and stretch of `_other_letterforms` stand in for the typefaces that are missing."""
    return [f for hand in (False, True) for f in fonts(hand=hand, held_out=held_out) if covers(f, letter)]


def render_letter(letter: str, font: Font, rng: random.Random) -> np.ndarray | None:
    """One degraded crop of `letter` between two neighbours, as `letter_crop` cuts it from a scanned line."""
    size = rng.randint(40, 72)
    text = [rng.choice(NEIGHBOURS), letter, rng.choice(NEIGHBOURS)]
    height = int(size * rng.uniform(1.25, 2.0))
    width = size * 4
    img = Image.new("L", (width, height), 255)
    ink = rng.randint(0, 90)
    x = size * rng.uniform(0.1, 0.5)
    baseline = height / 2 + rng.uniform(-0.08, 0.08) * size
    centre = 0.0
    for i, ch in enumerate(text):
        f = font if covers(font, ch) else fonts(hand=False, held_out=False)[0]
        scale, angle = (rng.uniform(0.9, 1.08), rng.uniform(-5, 5)) if font.hand else (1.0, 0.0)
        pf = pil_font(f, max(8, int(size * scale)))
        advance = pf.getlength(ch) * (rng.uniform(0.95, 1.15) if font.hand else rng.uniform(1.0, 1.25))
        if not ch.isspace():
            left, top, right, bottom = pf.getbbox(ch)
            glyph = Image.new("L", (right - left + 8, bottom - top + 8), 0)
            ImageDraw.Draw(glyph).text((4 - left, 4 - top), ch, font=pf, fill=255)
            glyph = glyph.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
            gx = int(x + (rng.uniform(-0.05, 0.05) * size if font.hand else 0))
            gy = int(baseline - glyph.height / 2 + (rng.uniform(-0.07, 0.07) * size if font.hand else 0))
            img.paste(Image.new("L", glyph.size, ink), (gx, gy), glyph)
            if i == 1:
                centre = gx + glyph.width / 2
        x += advance
    gray, centre = _other_letterforms(np.asarray(img), centre, rng)
    line = _scanned(gray, rng)
    zoom = line.shape[0] / height
    centre = (centre + rng.gauss(0.0, CENTRE_ERROR) * size) * zoom
    return letter_crop(line, centre / line.shape[1])


def _other_letterforms(gray: np.ndarray, centre: float, rng: random.Random) -> tuple[np.ndarray, float]:
    """Letters narrower, wider or slanted than the fonts draw them: shapes of typefaces not trained on."""
    h, w = gray.shape
    sx, shear = rng.uniform(0.85, 1.15), rng.uniform(-0.12, 0.12)
    m = np.float32([[sx, shear, -shear * h / 2], [0, 1, 0]])
    out = cv2.warpAffine(gray, m, (int(w * sx), h), borderValue=255, flags=cv2.INTER_LINEAR)
    return out, centre * sx


def _scanned(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """A letter 2.5–6 mm high scanned at 200–300 dpi: 20–70 pixels, blurred, noisy, JPEG'd or binarized."""
    if rng.random() < 0.3:  # heavy or faint strokes
        k = np.ones((2, 2), np.uint8)
        gray = cv2.erode(gray, k) if rng.random() < 0.5 else cv2.dilate(gray, k)
    zoom = rng.uniform(0.35, 1.0)
    gray = cv2.resize(gray, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    sigma = rng.uniform(0.0, 1.1)
    if sigma > 0.3:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma)
    out = gray.astype(np.float32)
    paper = rng.uniform(200, 255)
    out = out / 255.0 * paper + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 12), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    kind = rng.random()
    if kind < 0.25:  # fax-like: hard threshold
        out = np.where(out < rng.uniform(110, 180), 0, 255).astype(np.uint8)
    elif kind < 0.7:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=rng.randint(25, 90))
        out = np.asarray(Image.open(buf).convert("L"))
    return out


@dataclass
class LetterSet:
    x: np.ndarray  # (n, CROP, CROP) float32
    y: np.ndarray  # (n,) index into CLASSES
    font: list[str]


def build_letter_set(per_class: int, seed: int, *, held_out: bool = False) -> LetterSet:
    """`per_class` crops of every class, spread over the fonts that have the letter."""
    rng = random.Random(seed)
    xs, ys, names = [], [], []
    for k, letter in enumerate(CLASSES):
        pool = _fonts_for(letter, held_out)
        n = 0
        while pool and n < per_class:
            font = pool[n % len(pool)]
            crop = render_letter(letter, font, rng)
            if crop is not None and crop.mean() >= MIN_INK:
                xs.append(crop), ys.append(k), names.append(font.name)
            n += 1
    return LetterSet(np.stack(xs).astype(np.float32), np.array(ys), names)


def build_model():
    torch = torch_or_explain()
    nn = torch.nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 24), *block(24, 48), *block(48, 96), nn.Flatten(),
                         nn.Linear(96 * (CROP // 8) ** 2, 128), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(128, len(CLASSES)))


def train(data: LetterSet, *, seed: int, epochs: int = 10, batch: int = 64, lr: float = 2e-3,
          threads: int = 2) -> tuple[object, list[float]]:
    """The trained network and its mean training loss per epoch."""
    torch = torch_or_explain()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    model = build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(data.y) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    x, y = torch.from_numpy(data.x[:, None]), torch.from_numpy(data.y).long()
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), batch):
            idx = order[i : i + batch]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(y))
    model.eval()
    return model, losses


def pair_accuracy(model, data: LetterSet) -> dict[str, float]:
    """Per pair (崎﨑 …), the share of crops the network puts on the right side of their pair."""
    torch = torch_or_explain()
    with torch.no_grad():
        logits = model(torch.from_numpy(data.x[:, None])).numpy()
    out = {}
    for common, variant in PAIRS.items():
        a, b = CLASSES.index(common), CLASSES.index(variant)
        rows = np.isin(data.y, (a, b))
        if rows.any():
            said_variant = logits[rows, b] > logits[rows, a]
            out[common + variant] = float((said_variant == (data.y[rows] == b)).mean())
    return out


def export_onnx(model, out: Path, meta: dict[str, object]) -> str:
    """Write the ONNX file and its .json metadata; returns the file's SHA-256."""
    return write_onnx(model, out, size=CROP, inputs="letter", outputs=("logits",),
                      head={"classes": list(CLASSES), "crop": CROP}, meta=meta)


def run_training(*, seed: int, per_class: int, epochs: int) -> tuple[object, dict[str, object]]:
    """Train on the tuning fonts, measure on fresh renders of them and on the held-out fonts."""
    started = time.perf_counter()
    model, losses = train(build_letter_set(per_class, seed), seed=seed, epochs=epochs)
    tuning = pair_accuracy(model, build_letter_set(max(50, per_class // 10), seed + 1))
    held_out = pair_accuracy(model, build_letter_set(max(50, per_class // 10), seed + 2, held_out=True))
    return model, {"seed": seed, "per_class": per_class, "epochs": epochs, "losses": losses,
                   "accuracy_tuning_fonts": tuning, "accuracy_held_out_fonts": held_out,
                   "seconds": round(time.perf_counter() - started)}
