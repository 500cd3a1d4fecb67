"""Training pages for the page CNN: every layout filled in and scanned, plus non-form pages, as small tensors.

Pages are rendered at a low resolution (the CNN sees 160 px per side anyway), upright; the trainer turns
them by quarter turns itself so it knows each page's orientation. Seeds are the tuning range (< 1,000,000)
and fonts and unknown-page variants are the tuning ones: the benchmark's held-out ones stay unseen.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from yomitori.forms_templates import templates
from yomitori.forms_templates.contract import UNKNOWN_FORM
from yomitori.ocr.preprocess import to_working
from yomitori.synth.data import make_record
from yomitori.synth.paper import paper_values
from yomitori.synth.render import Style, render_filled
from yomitori.synth.scan import ScanEffects, scan
from yomitori.synth.unknown_pages import TRAIN_KINDS, unknown_page

from .page_cnn import INPUT_SIZE, page_tensor

TRAIN_DPI = (60, 75, 100)
NO_ORIENTATION = -100  # unknown pages have no upright side to learn


@dataclass
class TrainingSet:
    x: np.ndarray  # (n, size, size) uint8 ink darkness, upright for form pages
    y: np.ndarray  # (n,) class index
    upright: np.ndarray  # (n,) bool: the page is upright (form pages); False for unknown pages
    classes: list[str]


def form_page(layout_id: str, seed: int, size: int) -> np.ndarray:
    """One filled-in, scanned, upright page of a layout as the CNN's input (uint8)."""
    t = templates()[layout_id]
    rng = random.Random(f"train:{layout_id}:{seed}")
    record = make_record(t.form, rng, density=rng.uniform(0.1, 1.0))
    truth = {f.key: record.get(f.key) for f in t.fields}
    dpi = rng.choice(TRAIN_DPI)
    style = replace(Style.pick(rng, hand=rng.random() < 0.5, held_out=False), dpi=dpi)
    page = render_filled(t, paper_values(t, truth, rng, style), rng, style)
    image = scan(page, dpi, replace(ScanEffects.pick(rng), rotate=0), rng)
    return _as_input(np.asarray(image), size)


def other_page(seed: int, size: int) -> np.ndarray:
    rng = random.Random(f"train:unknown:{seed}")
    page = unknown_page(seed, rng.choice(TRAIN_KINDS), held_out=False, dpi=rng.choice(TRAIN_DPI))
    return _as_input(np.asarray(page.image.convert("RGB")), size)


def _as_input(rgb: np.ndarray, size: int) -> np.ndarray:
    return (page_tensor(to_working(rgb), size) * 255).round().astype(np.uint8)


def _job(job: tuple[str, int, int]) -> np.ndarray:
    cls, seed, size = job
    return other_page(seed, size) if cls == UNKNOWN_FORM else form_page(cls, seed, size)


def build_training_set(pages: int, seed: int, *, size: int = INPUT_SIZE, workers: int = 2,
                       layouts: list[str] | None = None) -> TrainingSet:
    """`pages` pages per layout and 2×`pages` non-form pages, from seeds derived from `seed`."""
    layout_ids = sorted(layouts or templates())
    classes = [*layout_ids, UNKNOWN_FORM]
    base = (seed * 100_003) % 900_000  # stays in the tuning range
    jobs = [(lid, base + i, size) for lid in layout_ids for i in range(pages)]
    jobs += [(UNKNOWN_FORM, base + i, size) for i in range(2 * pages)]
    if workers > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            xs = list(pool.map(_job, jobs, chunksize=4))
    else:
        xs = [_job(j) for j in jobs]
    y = np.array([classes.index(c) for c, _, _ in jobs], dtype=np.int64)
    return TrainingSet(np.stack(xs), y, y != classes.index(UNKNOWN_FORM), classes)
