"""`yomitori bench-batch`: pages per second of the batch pipeline beside `yomitori extract` on the same pages.

Runs: `extract` (what `yomitori extract` does, one process per core), `embedded` (a batch as configured by
default, no Redis), `embedded-1` (the batch read in the submitting process alone), and 1 and 2 rq workers.
Each is timed from start to the last page written, start-up (model loading) included, as an operator waits.

A mixed batch (every bundled layout, print and handwriting, PNG/JPEG/G4 TIFF as the generator saves them) is made
from generated pages: a few distinct pages per layout, each copied with a small shift so that every file and page
image is different. Each run gets a fresh store; the numbers and every page's fate go to bench-results/batch.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False)
err = Console(stderr=True)
RUNS = ("extract", "embedded", "embedded-1", "rq-1", "rq-2")
DISTINCT_PER_LAYOUT = 8  # generating a page takes ~2 s; copies with a shift make up the rest


@dataclass
class RunResult:
    name: str
    pages_submitted: int
    seconds: float
    pages_per_s: float
    files: int = 0
    pages: int = 0
    done: int = 0
    errors: int = 0
    files_failed: int = 0
    missing: int = 0  # submitted pages neither done nor an error record: must be 0
    error_reasons: dict[str, int] = field(default_factory=dict)
    needs_review: int = 0
    documents: int = 0
    # CPU seconds per page of every process of the run (start-up included): what a shared machine changes least
    cpu_s_per_page: float | None = None

    @property
    def accounted(self) -> bool:
        return self.missing == 0


# ---------------------------------------------------------------- the batch


def _make_base(args: tuple[str, int, Path]) -> tuple[Path, dict[str, Any]]:
    from yomitori.forms_templates import templates
    from yomitori.synth.dataset import Written, save_scan
    from yomitori.synth.generate import generate

    layout, seed, stem = args
    sample = generate(templates()[layout], seed)
    written = Written(save_scan(sample, stem), sample)
    return written.path, written.truth_record()


def make_batch(outdir: Path, pages: int, seed: int, workers: int, distinct: int | None = None) -> list[Path]:
    """`pages` single-page scans in `outdir`, `distinct` of them generated (default 8 per layout), the rest shifted
    copies; cached: a second call with the same arguments reuses them."""
    from PIL import Image

    from yomitori.forms_templates import templates

    layouts = list(templates())
    distinct = min(pages, distinct or DISTINCT_PER_LAYOUT * len(layouts))
    marker = outdir / f"batch-{pages}-{seed}-{distinct}.json"
    if marker.exists():
        return [outdir / name for name in json.loads(marker.read_text())]
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = [(layouts[i % len(layouts)], seed + i, outdir / f"base-{seed}-{i:04d}") for i in range(distinct)]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        bases = list(pool.map(_make_base, jobs))
    with (outdir / "truth.jsonl").open("w", encoding="utf-8") as fp:
        for _, record in bases:
            fp.write(json.dumps(record, ensure_ascii=False) + "\n")
    files: list[Path] = []
    for i in range(pages):
        base, _ = bases[i % distinct]
        if i < distinct:
            files.append(base)
            continue
        with Image.open(base) as im:  # a copy shifted by a few pixels: a different file and page image
            dx, dy = 1 + i % 5, 1 + (i // 5) % 5
            fill = 255 if im.mode in ("1", "L") else (255,) * len(im.getbands())
            shifted = Image.new(im.mode, im.size, fill)
            shifted.paste(im, (dx, dy))
            path = outdir / f"copy-{seed}-{i:05d}{base.suffix}"
            if base.suffix == ".tif":
                shifted.save(path, compression="group4", dpi=im.info.get("dpi", (200, 200)))
            elif base.suffix == ".jpg":
                shifted.save(path, quality=92, dpi=im.info.get("dpi", (200, 200)))
            else:
                shifted.save(path, dpi=im.info.get("dpi", (200, 200)))
        files.append(path)
    marker.write_text(json.dumps([f.name for f in files]))
    return files


# ---------------------------------------------------------------- runs


def _result(name: str, settings: Any, batch_id: int, submitted: int, seconds: float) -> RunResult:
    from yomitori.store.models import PageStatus
    from yomitori.store.repo import Store

    store = Store(settings)
    try:
        with store.tenant() as repo:
            p = repo.progress(batch_id)
            reasons = Counter(pg.error.split(";")[0] for pg in repo.pages(batch_id, PageStatus.error))
            reasons.update(s.error.split(";")[0] for s in repo.sources(batch_id) if s.error)
    finally:
        store.close()
    # A file that could not be read at all has no page rows: it accounts for its one page as an error.
    missing = submitted - p.pages_done - p.pages_failed - p.files_failed
    return RunResult(name, submitted, round(seconds, 2), round(submitted / seconds, 3), p.files, p.pages,
                     p.pages_done, p.pages_failed, p.files_failed, missing, dict(reasons), p.needs_review, p.documents)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (a pool's, once it is shut down)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed_extract(files: list[str], workers: int) -> tuple[float, float, int, int]:
    """In a fresh process (extract forks its workers before any model is loaded): seconds, CPU seconds, pages,
    errors."""
    from yomitori.extract import extract_files

    start, cpu = time.perf_counter(), _cpu()
    results = list(extract_files(files, workers=workers))
    seconds = time.perf_counter() - start
    pages = sum(max(1, len(r.pages)) for r in results)
    return seconds, _cpu() - cpu, pages, sum(r.form == "error" for r in results)


def run_extract(files: list[Path]) -> RunResult:
    """`yomitori extract` on the same files with its default workers (one per core)."""
    import multiprocessing

    from yomitori.cli import default_workers

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        seconds, cpu, pages, errors = pool.submit(_timed_extract, [str(f) for f in files],
                                                  default_workers()).result()
    return RunResult("extract", len(files), round(seconds, 2), round(len(files) / seconds, 3), len(files), pages,
                     pages - errors, errors, missing=len(files) - pages, cpu_s_per_page=round(cpu / len(files), 3))


def run_embedded(files: list[Path], data: Path, *, processes: int | None, name: str) -> RunResult:
    """A batch without Redis; `processes` None: as the settings' default (YOMITORI_EMBEDDED_PROCESSES) has it."""
    from yomitori.jobs.runtime import Runtime, use_runtime
    from yomitori.jobs.submit import run_inline, submit_batch
    from yomitori.settings import Settings

    settings = Settings(data_dir=data, redis_url=None)
    if processes is not None:
        settings = settings.model_copy(update={"embedded_processes": processes})
    rt = Runtime.from_settings(settings)
    use_runtime(rt)
    try:
        start, cpu = time.perf_counter(), _cpu()
        batch_id = submit_batch(rt, files, name=name, actor="bench")
        run_inline(rt, settings.tenant, batch_id)  # shuts its pool down: the children's CPU is counted
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    finally:
        use_runtime(None)
        rt.store.close()
    result = _result(name, settings, batch_id, len(files), seconds)
    result.cpu_s_per_page = round(cpu / len(files), 3)
    return result


@contextlib.contextmanager
def redis(url: str | None) -> Iterator[str | None]:
    """The configured Redis, or a redis-server of our own on a free local port (None if there is none to start)."""
    if url:
        yield url
        return
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="yomitori-bench-redis-") as d:
        proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                 "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            from redis import Redis

            client = Redis(port=port)
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if client.ping():
                        break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(10)


def run_rq(files: list[Path], data: Path, redis_url: str, *, workers: int, name: str) -> RunResult:
    """Start the workers first (so their start-up is not timed), then submit and wait for the batch."""
    from redis import Redis
    from rq import Worker

    from yomitori.jobs.runtime import Runtime
    from yomitori.jobs.submit import submit_batch
    from yomitori.settings import Settings

    queue = f"bench-{os.getpid()}-{name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOMITORI_")}
    env.update(YOMITORI_DATA_DIR=str(data), YOMITORI_REDIS_URL=redis_url, YOMITORI_QUEUE_NAME=queue,
               YOMITORI_OCR_THREADS="1")  # one core per worker
    settings = Settings(data_dir=data, redis_url=redis_url, queue_name=queue)
    rt = Runtime.from_settings(settings)  # creates the schema before the workers open the database
    procs = [subprocess.Popen([sys.executable, "-m", "yomitori", "worker", "--name", f"{queue}-{i}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    try:
        conn = Redis.from_url(redis_url)
        deadline = time.monotonic() + 120
        while sum(w.name.startswith(queue) for w in Worker.all(connection=conn)) < workers:
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError(f"{name}: the rq workers did not start")
            time.sleep(0.2)
        start = time.perf_counter()
        batch_id = submit_batch(rt, files, name=name, actor="bench")
        while True:
            with rt.store.tenant() as repo:
                if repo.progress(batch_id).finished:
                    break
            if all(p.poll() is not None for p in procs):
                raise RuntimeError(f"{name}: every worker stopped before the batch was done")
            time.sleep(0.5)
        seconds = time.perf_counter() - start
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        rt.store.close()
    return _result(name, settings, batch_id, len(files), seconds)


def run_bench(*, pages: int, seed: int, runs: list[str], out: Path, scans: Path | None, redis_url: str | None,
              console: Console, distinct: int | None = None, repeat: int = 1) -> dict[str, Any]:
    """The runs in order, `repeat` times over (alternating, so a busy spell of a shared machine hits them alike);
    each run's fastest try is reported."""
    cores = os.cpu_count() or 1
    scan_dir = scans or Path("bench-results") / "batch-scans"
    t = time.perf_counter()
    files = make_batch(scan_dir, pages, seed, cores, distinct)
    console.print(f"{len(files)} pages in {scan_dir} ({time.perf_counter() - t:.0f} s to make)")
    results: list[RunResult] = []
    need_redis = any(r.startswith("rq") for r in runs)
    with tempfile.TemporaryDirectory(prefix="yomitori-bench-batch-") as tmp, (
            redis(redis_url) if need_redis else contextlib.nullcontext(None)) as url:
        for i, name in enumerate(runs * max(1, repeat)):
            data = Path(tmp) / f"{name}-{i}"
            console.print(f"[bold]{name}[/bold] …")
            if name == "extract":
                r = run_extract(files)
            elif name == "embedded":
                r = run_embedded(files, data, processes=None, name=name)
            elif name == "embedded-1":
                r = run_embedded(files, data, processes=1, name=name)
            elif url is None:
                console.print(f"[yellow]{name}: skipped, no redis-server (Debian package redis-server)[/yellow]")
                continue
            else:
                r = run_rq(files, data, url, workers=int(name.split("-")[1]), name=name)
            results.append(r)
            console.print(f"  {r.pages_per_s:.3f} pages/s ({r.seconds:.0f} s); {r.done} done, {r.errors} page "
                          f"error(s), {r.files_failed} unreadable file(s), {r.missing} unaccounted")
    by: dict[str, RunResult] = {}
    for r in results:
        if r.name not in by or r.seconds < by[r.name].seconds:
            by[r.name] = r
    _table(list(by.values()), console)
    report: dict[str, Any] = {
        "pages": pages, "seed": seed, "cores": cores, "distinct_pages": sum(f.stem.startswith("base") for f in files),
        "repeat": repeat, "load_average": [round(x, 2) for x in os.getloadavg()],
        "runs": [asdict(r) | {"accounted": all(x.accounted for x in results if x.name == r.name),
                              "tries_s": [x.seconds for x in results if x.name == r.name]} for r in by.values()],
    }
    if "extract" in by:
        for name in ("embedded", "embedded-1", "rq-1", "rq-2"):
            if name in by:
                report[f"{name}_over_extract"] = round(by[name].pages_per_s / by["extract"].pages_per_s, 3)
                console.print(f"{name} / extract: {report[f'{name}_over_extract']:.2f}× "
                              f"({by[name].pages_per_s:.3f} vs {by['extract'].pages_per_s:.3f} pages/s)")
    if "rq-1" in by and "rq-2" in by:
        report["rq_2_over_1"] = round(by["rq-2"].pages_per_s / by["rq-1"].pages_per_s, 3)
        console.print(f"2 workers / 1 worker: {report['rq_2_over_1']:.2f}×")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {out}")
    return report


def _table(results: list[RunResult], console: Console) -> None:
    table = Table("run", "pages", "seconds", "pages/s", "CPU s/page", "done", "errors", "unreadable", "unaccounted",
                  "to review")
    for r in results:
        cpu = "" if r.cpu_s_per_page is None else f"{r.cpu_s_per_page:.2f}"
        table.add_row(r.name, str(r.pages_submitted), f"{r.seconds:.1f}", f"{r.pages_per_s:.3f}", cpu, str(r.done),
                      str(r.errors), str(r.files_failed), str(r.missing), str(r.needs_review))
    console.print(table)
    for r in results:
        for reason, n in sorted(r.error_reasons.items(), key=lambda x: -x[1]):
            console.print(f"  {r.name}: {n} × {reason}")


@app.command("bench-batch")
def bench_batch(
    pages: Annotated[int, typer.Option(help="pages in the batch (single-page scans of every layout)")] = 20,
    seed: Annotated[int, typer.Option(help="generator seed")] = 2_000_000,
    run: Annotated[list[str] | None, typer.Option(help=f"runs, in order: {', '.join(RUNS)}; default all")] = None,
    out: Annotated[Path, typer.Option(help="where to write the numbers")] = Path("bench-results/batch.json"),
    scans: Annotated[Path | None, typer.Option(help="folder for the generated scans (kept for the next "
                                                     "run); default bench-results/batch-scans")] = None,
    repeat: Annotated[int, typer.Option(help="run the sequence this many times; each run's fastest try counts")] = 1,
) -> None:
    """Throughput of the batch pipeline beside `yomitori extract` on the same pages: pages/s of extract, the
    embedded default, one process, and 1 and 2 rq workers; the batch/extract ratios."""
    runs = run or list(RUNS)
    unknown = [r for r in runs if r not in RUNS]
    if unknown:
        raise typer.BadParameter(f"unknown run(s) {unknown}; choose from {', '.join(RUNS)}")
    from yomitori.settings import Settings

    report = run_bench(pages=pages, seed=seed, runs=runs, out=out, scans=scans, redis_url=Settings().redis_url,
                       console=err, repeat=repeat)
    if any(not r["accounted"] for r in report["runs"]):
        raise typer.Exit(1)
