"""Reliability tables: the gate's stated confidence against how often fields were really right."""

from __future__ import annotations

import itertools

from rich.console import Console
from rich.table import Table

BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0001)


def reliability(pairs: list[tuple[float, bool]]) -> list[dict[str, object]]:
    """Stated confidence against observed accuracy, in bins."""
    table = []
    for lo, hi in itertools.pairwise(BINS):
        inside = [ok for p, ok in pairs if lo <= p < hi]
        table.append({"confidence": f"{lo:.3f}–{min(hi, 1.0):.3f}", "fields": len(inside),
                      "accuracy": sum(inside) / len(inside) if inside else None})
    return table


def print_reliability(rows: list[dict[str, object]], console: Console, title: str = "reliability") -> None:
    table = Table(title=title)
    for col in ("confidence", "fields", "observed accuracy"):
        table.add_column(col, justify="right")
    for r in rows:
        acc = r["accuracy"]
        table.add_row(str(r["confidence"]), str(r["fields"]), "—" if acc is None else f"{acc * 100:.2f}%")
    console.print(table)


