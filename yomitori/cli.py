"""The `yomitori` command line: extract, synth, bench, templates."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from yomitori.batch_bench import app as batch_bench_app
from yomitori.batch_cli import register as register_batch_commands
from yomitori.bots.cli import app as bot_app
from yomitori.classify.cli import app as classifier_app
from yomitori.classify.fallback_cli import app as fallback_app
from yomitori.errors import ExitCode, YomitoriError
from yomitori.masters.cli import app as masters_app
from yomitori.ocr.cli import app as ocr_app
from yomitori.review_ui.cli import register as register_review_commands

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@app.command()
def extract(
    inputs: Annotated[list[Path], typer.Argument(help="scanned files: PDF, TIFF, JPEG, PNG")],
    out: Annotated[str, typer.Option("--out", "-o", help="JSONL file to write, or - for standard output")] = "-",
    workers: Annotated[int, typer.Option(help="worker processes (one per core)")] = default_workers(),
    engine: Annotated[str, typer.Option(help="recognizer: ppocr, tesseract or paddle")] = "ppocr",
    master: Annotated[Path | None, typer.Option(help="folder of master CSVs (residents.csv, employers.csv, roll.csv) "
                                                     "to match and gate against (docs/masters.md)")] = None,
) -> None:
    """Read scanned forms and write one JSON object per document (the contract's JSONL)."""
    from yomitori.extract import extract_files
    from yomitori.ingest import count_pages
    from yomitori.masters.gate import with_master

    apply = with_master(master)

    total = 0
    for p in inputs:
        try:
            total += count_pages(p)
        except YomitoriError:
            total += 1  # reported as one error record
    sink = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    errors = 0
    try:
        with _progress(enabled=total > 1) as progress:
            task = progress.add_task("extracting", total=total)
            for result in extract_files([str(p) for p in inputs], workers=workers, engine=engine):
                sink.write(json.dumps(apply(result), ensure_ascii=False) + "\n")
                sink.flush()
                errors += result.form == "error"
                progress.advance(task, max(1, len(result.pages)))
    except YomitoriError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from None
    finally:
        if sink is not sys.stdout:
            sink.close()
    if errors:
        err.print(f"[yellow]{errors} page(s) or input(s) could not be read; see the \"error\" records[/yellow]")


def _progress(*, enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, disable=not enabled,
    )


@app.command()
def synth(
    outdir: Annotated[Path, typer.Argument(help="directory for the scans and truth.jsonl")],
    count: Annotated[int, typer.Option("--count", "-n", help="pages per layout")] = 4,
    seed: Annotated[int, typer.Option(help="first seed; page i uses seed+i")] = 0,
    layout: Annotated[list[str] | None, typer.Option(help="layout id(s) form/layout; default all")] = None,
    hand: Annotated[bool | None, typer.Option("--hand/--print", help="handwriting or print; default mixed")] = None,
    clean: Annotated[bool, typer.Option(help="no scanner effects")] = False,
) -> None:
    """Generate synthetic filled-in scans with their ground truth."""
    from yomitori.synth.dataset import write_dataset

    n = write_dataset(outdir, count=count, seed=seed, layouts=layout, hand=hand, clean=clean)
    err.print(f"wrote {n} pages and truth.jsonl to {outdir}")


@app.command()
def bench(
    pages: Annotated[int, typer.Option(help="pages per layout and writing (print/hand)")] = 20,
    seed: Annotated[int | None, typer.Option(help="seed of the test set; default: fresh and random")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = default_workers(),
    out: Annotated[Path, typer.Option(help="where to write the numbers")] = Path("bench-results/bench.json"),
    engine: Annotated[str, typer.Option(help="recognizer: ppocr, tesseract or paddle")] = "ppocr",
    layout: Annotated[list[str] | None, typer.Option(help="layout ids form/layout or form keys; default all")] = None,
) -> None:
    """Generate an unseen test set, extract it, print accuracy and speed, and write them as JSON."""
    from yomitori.bench import run_bench

    run_bench(pages=pages, seed=seed, workers=workers, out=out, engine=engine, console=err, layouts=layout)


@app.command("bench-masters")
def bench_masters(
    pages: Annotated[int, typer.Option(help="printed 明細書 per layout")] = 40,
    seed: Annotated[int | None, typer.Option(help="seed of the test set; default: fresh and random")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = default_workers(),
    out: Annotated[Path, typer.Option(help="where to write the numbers")] = Path("bench-results/masters.json"),
) -> None:
    """Printed 明細書 read once, gated without and with a generated master: straight-through, wrong, 送付先誤り."""
    from yomitori.masters.bench import run_bench_masters

    run_bench_masters(pages=pages, seed=seed, workers=workers, out=out, console=err)


@app.command("bench-unseen")
def bench_unseen(
    layouts: Annotated[int, typer.Option(help="generated layouts per form")] = 10,
    pages: Annotated[int, typer.Option(help="pages per layout (one batch)")] = 6,
    learn: Annotated[int, typer.Option(help="pages a batch learns its layout from before it is scored")] = 3,
    unknown: Annotated[int, typer.Option(help="non-form pages")] = 30,
    seed: Annotated[int | None, typer.Option(help="first layout seed; default: fresh and random")] = None,
    frozen: Annotated[bool, typer.Option(help="also the frozen hand-made layouts (synth/frozen_layouts)")] = True,
    workers: Annotated[int, typer.Option(help="worker processes")] = default_workers(),
    out: Annotated[Path, typer.Option(help="where to write the numbers")] = Path("bench-results/unseen.json"),
) -> None:
    """Layouts no template describes: classification, fields read without a template and after learning."""
    from yomitori.unseen_bench import run_bench

    run_bench(layouts=layouts, pages=pages, learn=learn, unknown=unknown, seed=seed, workers=workers,
              frozen=frozen, out=out, console=err)


@app.command()
def calibrate(
    pages: Annotated[int, typer.Option(help="pages per layout and writing (print/hand)")] = 40,
    seed: Annotated[int, typer.Option(help="first seed (calibration range 100,000–999,999)")] = 100_000,
    workers: Annotated[int, typer.Option(help="worker processes")] = default_workers(),
    scans: Annotated[Path | None, typer.Option(help="keep the generated pages here (and reuse them)")] = None,
    refit: Annotated[bool, typer.Option(help="fit again on what the last run with --scans read")] = False,
    also: Annotated[list[Path] | None, typer.Option(help="also fit on the fields read in this earlier --scans "
                                                      "folder (another seed); repeatable")] = None,
) -> None:
    """Fit the confidence gate on generated pages; writes models/gate.json and prints a reliability table."""
    from yomitori.calibrate import CALIBRATION_SEEDS, run_calibration
    from yomitori.gate import MODEL_FILE

    if not CALIBRATION_SEEDS <= seed < 1_000_000 - pages:
        raise typer.BadParameter("calibration seeds lie in 100,000–999,999 (the benchmark uses the ones above)")
    out = Path(__file__).resolve().parent.parent / "models" / MODEL_FILE
    run_calibration(pages=pages, seed=seed, workers=workers, out=out, console=err, scans=scans, refit=refit,
                    also=also or [])


@app.command()
def templates() -> None:
    """List the bundled layouts."""
    from yomitori.forms_templates import templates as all_templates

    for t in all_templates().values():
        typer.echo(f"{t.id}\t{len(t.fields)} fields\t{t.title}")


app.add_typer(classifier_app)  # train-classifier, bench-classify
app.add_typer(ocr_app)  # train-variant-letters: the letter model for 﨑/崎, 𠮷/吉 …
app.add_typer(fallback_app)  # draft-template, bench-fallback: the layout-free label fallback
app.add_typer(bot_app, name="bot")  # bot check/run/bench: keying bots
register_batch_commands(app)  # batch submit/status/export/purge/resume, worker, db upgrade
app.add_typer(batch_bench_app)  # bench-batch: pages/s embedded and with rq workers
register_review_commands(app)  # serve (review UI + API), user add
app.add_typer(masters_app, name="masters")  # masters import/misdirected/approve-keying (yomitori/masters)


def main() -> None:
    try:
        app()
    except YomitoriError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.ctrl_c))
