"""Write generated pages to disk as a scanner would deliver them, with a truth.jsonl beside them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from yomitori.forms_templates import LayoutTemplate, templates

from .generate import Sample, generate


@dataclass(frozen=True)
class Written:
    path: Path
    sample: Sample

    def truth_record(self) -> dict[str, object]:
        s = self.sample
        return {
            "source": self.path.name, "pages": [1], "form": s.form, "layout": s.layout, "hand": s.hand,
            "font": s.font, "dpi": s.dpi, "rotate": s.effects.rotate, "fax": s.effects.fax, "truth": s.truth,
        }


def save_scan(sample: Sample, stem: Path) -> Path:
    """Fax pages as CCITT G4 TIFF, JPEG-compressed pages as JPEG, the rest as PNG."""
    e = sample.effects
    if e.fax:
        path = stem.with_suffix(".tif")
        sample.image.convert("1").save(path, compression="group4", dpi=(sample.dpi, sample.dpi))
    elif e.jpeg_quality:
        path = stem.with_suffix(".jpg")
        sample.image.save(path, quality=95, dpi=(sample.dpi, sample.dpi))  # already carries its JPEG damage
    else:
        path = stem.with_suffix(".png")
        sample.image.save(path, dpi=(sample.dpi, sample.dpi))
    return path


def iter_samples(
    layouts: Sequence[LayoutTemplate], *, count: int, seed: int, hand: bool | None = None, clean: bool = False,
) -> Iterator[Sample]:
    for t in layouts:
        for i in range(count):
            yield generate(t, seed + i, hand=hand, clean=clean)


def write_dataset(
    outdir: Path, *, count: int, seed: int, layouts: Sequence[str] | None = None, hand: bool | None = None,
    clean: bool = False,
) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    chosen = [templates()[lid] for lid in layouts] if layouts else list(templates().values())
    n = 0
    with (outdir / "truth.jsonl").open("w", encoding="utf-8") as truth:
        for sample in iter_samples(chosen, count=count, seed=seed, hand=hand, clean=clean):
            stem = outdir / f"{sample.form}-{sample.layout}-{n:05d}"
            written = Written(save_scan(sample, stem), sample)
            truth.write(json.dumps(written.truth_record(), ensure_ascii=False) + "\n")
            n += 1
    return n


def generate_pages(outdir: Path, layout_ids: Sequence[str], *, pages: int, seed: int,
                   workers: int) -> list[dict[str, object]]:
    """`pages` pages of each layout in print and in hand (seeds `seed`…), written into `outdir` by `workers`
    processes; their truth records in that order, `source` naming each file (the benchmark and calibration)."""
    jobs = [(lid, seed + i, hand, str(outdir)) for lid in layout_ids for hand in (False, True) for i in range(pages)]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_write_page, jobs, chunksize=2))


def _write_page(job: tuple[str, int, bool, str]) -> dict[str, object]:
    layout_id, seed, hand, outdir = job
    sample = generate(templates()[layout_id], seed, hand=hand)
    stem = Path(outdir) / f"{layout_id.replace('/', '-')}-{'hand' if hand else 'print'}-{seed}"
    return Written(save_scan(sample, stem), sample).truth_record()
