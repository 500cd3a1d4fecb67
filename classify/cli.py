"""`yomitori train-classifier` and `yomitori bench-classify`: the page classifier's commands."""

from __future__ import annotations

import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(add_completion=False)
err = Console(stderr=True)


@app.command("train-classifier")
def train_classifier(
    seed: Annotated[int, typer.Option(help="seed of the training pages and of the weights")] = 0,
    pages: Annotated[int, typer.Option(help="training pages per layout (twice as many non-form pages)")] = 200,
    epochs: Annotated[int, typer.Option(help="passes over the training pages")] = 12,
    out: Annotated[Path, typer.Option(help="ONNX file to write (a .json lands beside it)")] = Path(
        "models/page_cnn.onnx"),
    workers: Annotated[int, typer.Option(help="processes rendering training pages")] = 2,
) -> None:
    """Render training pages, train the page CNN on the CPU and export it to ONNX (reproducible by seed)."""
    from .training import train
    from .training_data import build_training_set

    data = build_training_set(pages, seed, workers=workers)
    err.print(f"{len(data.y)} training pages, classes: {', '.join(data.classes)}")
    model, hist = train(data, seed=seed, epochs=epochs)
    for i, (loss, acc) in enumerate(zip(hist.loss, hist.train_accuracy, strict=True)):
        err.print(f"epoch {i + 1}: loss {loss:.4f}  train accuracy {acc:.4f}")
    err.print(f"validation: class accuracy {hist.val_accuracy:.4f}, orientation {hist.val_orientation_accuracy:.4f}; "
              f"trained in {hist.seconds:.0f}s")
    from .training import export_onnx

    command = "yomitori train-classifier " + shlex.join(sys.argv[2:]) if len(sys.argv) > 1 else "train-classifier"
    digest = export_onnx(model, data, out, {
        "command": command, "seed": seed, "pages_per_layout": pages, "epochs": epochs,
        "training_pages": len(data.y), "val_accuracy": hist.val_accuracy,
        "val_orientation_accuracy": hist.val_orientation_accuracy, "date": date.today().isoformat(),
    })
    err.print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB), SHA-256 {digest}")


@app.command("bench-classify")
def bench_classify(
    pages: Annotated[int, typer.Option(help="held-out pages per layout")] = 100,
    unknown: Annotated[int, typer.Option(help="held-out non-form pages")] = 60,
    seed: Annotated[int | None, typer.Option(help="seed of the test set; default: fresh and random")] = None,
    workers: Annotated[int, typer.Option(help="processes generating pages")] = 2,
    out: Annotated[Path, typer.Option(help="where to write the numbers")] = Path("bench-results/classify.json"),
) -> None:
    """Classify held-out pages of every layout and held-out non-form pages; print accuracy, rejection, time."""
    from .bench import run_bench

    run_bench(pages=pages, unknown=unknown, seed=seed, workers=workers, out=out, console=err)
