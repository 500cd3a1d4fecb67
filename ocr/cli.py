"""`yomitori train-variant-letters`: the variant-letter CNN's training command."""

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


@app.command("train-variant-letters")
def train_variant_letters(
    seed: Annotated[int, typer.Option(help="seed of the rendered letters and of the weights")] = 0,
    per_class: Annotated[int, typer.Option(help="rendered crops per letter")] = 3000,
    epochs: Annotated[int, typer.Option(help="passes over the crops")] = 10,
    out: Annotated[Path, typer.Option(help="ONNX file to write (a .json lands beside it)")] = Path(
        "models/variant_letters.onnx"),
) -> None:
    """Render letters and their variants (崎/﨑, 吉/𠮷 …), train the CNN on the CPU, export it to ONNX; prints its
    accuracy on fonts it was trained on and on fonts it never saw."""
    from .variant_training import export_onnx, run_training

    model, meta = run_training(seed=seed, per_class=per_class, epochs=epochs)
    for i, loss in enumerate(meta["losses"]):  # type: ignore[arg-type]
        err.print(f"epoch {i + 1}: loss {loss:.4f}")
    for name in ("accuracy_tuning_fonts", "accuracy_held_out_fonts"):
        shown = ", ".join(f"{pair} {acc:.3f}" for pair, acc in meta[name].items())  # type: ignore[union-attr]
        err.print(f"{name.replace('_', ' ')}: {shown}")
    command = "yomitori train-variant-letters " + shlex.join(sys.argv[2:])
    digest = export_onnx(model, out, {"command": command, "date": date.today().isoformat(), **meta})
    err.print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB), SHA-256 {digest}")
