"""`yomitori draft-template` and `yomitori bench-fallback`: the layout-free fallback's commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False)
err = Console(stderr=True)

# The layouts the bench holds out: a form keeps at least one other layout to learn label wordings from.
HELD_OUT = ("kyuyo_shiharai_hokokusho/payroll_print", "kyuyo_shiharai_hokokusho/national", "idou_todokede/municipal_c")


@app.command("draft-template")
def draft_template(
    scan: Annotated[Path, typer.Argument(help="a scan (image or PDF; its first page) of the new layout")],
    form: Annotated[str, typer.Option(help="the form the page is, e.g. kyuyo_shiharai_hokokusho")],
    out: Annotated[Path, typer.Option(help="YAML file to write")],
    layout: Annotated[str, typer.Option(help="name of the new layout")] = "draft",
) -> None:
    """Find the form's fields on a scan by their printed labels and write a draft template for it."""
    from yomitori.classify import classify
    from yomitori.extract import second_reader
    from yomitori.forms_templates import contract_forms, load_template, templates
    from yomitori.ingest import PageFailure, read_pages
    from yomitori.ocr.engine import get_engine
    from yomitori.ocr.preprocess import to_working

    from .label_fallback import draft_yaml, locate, read_fallback

    if form not in contract_forms():
        raise typer.BadParameter(f"unknown form '{form}'; one of {', '.join(contract_forms())}")
    page = next(iter(read_pages(str(scan))), None)
    if page is None or isinstance(page, PageFailure):
        raise typer.BadParameter(f"{scan}: no readable page")
    gray = to_working(page.image)
    rotation = classify(gray, templates().values()).rotation
    engine = get_engine("ppocr")
    fb = locate(gray, form, rotation, engine, second=second_reader(engine))
    if fb is None:
        err.print(f"{scan}: no ruled frame found; a draft needs the form's outer frame")
        raise typer.Exit(1)
    read_fallback(fb, engine)  # reading decides between a label's candidate places
    draft = fb.final_draft()
    out.write_text(draft_yaml(draft, layout=layout), encoding="utf-8")
    load_template(out)  # what we wrote must load as a template
    err.print(f"wrote {out}: {len(draft.fields)} of {len(contract_forms()[form].fields)} fields located "
              f"({', '.join(f.key for f in draft.fields)})")


@app.command("bench-fallback")
def bench_fallback(
    pages: Annotated[int, typer.Option(help="generated pages per held-out layout")] = 10,
    seed: Annotated[int, typer.Option(help="first generator seed")] = 1000,
    layout: Annotated[list[str] | None, typer.Option(help="held-out layout id(s); default: three")] = None,
    errors: Annotated[Path | None, typer.Option(help="write every wrong field (one a line) to this file")] = None,
) -> None:
    """Leave-one-out: read generated pages of a layout with its template removed, learning label wordings
    from the other layouts; score non-blank fields as the pipeline reads them (a page registered onto
    another layout is read with that template) and as the label fallback alone reads them."""
    from .fallback_bench import run

    table = Table("held-out layout", "pages", "non-blank fields", "right", "core fields right", "located",
                  "to fallback", "other layout", "right on fallback", "fallback on every page", "blank filled",
                  "read with a learned layout", "s/page")
    lost: list[str] = []
    for lid in layout or HELD_OUT:
        t0 = time.perf_counter()
        r = run(lid, pages, seed)
        table.add_row(lid, str(pages), str(r.total), f"{r.right / max(1, r.total):.1%}",
                      f"{r.core_right / max(1, r.core_total):.1%} of {r.core_total}",
                      f"{r.located / max(1, r.total):.1%}", f"{r.named}/{pages}", f"{r.misregistered}/{pages}",
                      f"{r.named_right / max(1, r.named_total):.1%}",
                      f"{r.alone_right / max(1, r.total):.1%}", str(r.filled_blank), f"{r.with_learned}/{pages}",
                      f"{(time.perf_counter() - t0) / pages:.1f}")
        lost += [f"{lid} {miss}" for miss in r.misses]
        for miss in r.misses[:8]:
            err.print(f"  {lid} {miss}")
    if errors is not None:
        errors.write_text("".join(f"{m}\n" for m in lost), encoding="utf-8")
    Console(width=180).print(table)
