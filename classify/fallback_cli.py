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
    out: Annotated[Path | None, typer.Option(help="YAML file to write")] = None,
    form: Annotated[str | None, typer.Option(help="the form the page is; default: the form the classifier names")]
    = None,
    layout: Annotated[str, typer.Option(help="name of the new layout")] = "draft",
    save: Annotated[bool, typer.Option("--save", help="keep it in the store as a draft for the template editor "
                                       "(/admin/layouts)")] = False,
    tenant: Annotated[str | None, typer.Option(help="tenant to keep it for (--save); default YOMITORI_TENANT")]
    = None,
) -> None:
    """Find the form's fields on a scan by their printed labels and write a draft template for it. Any page the
    classifier names a form will do, with an outer ruled frame or without (then its print's extent is the frame)."""
    from yomitori.classify import classify
    from yomitori.extract import second_reader
    from yomitori.forms_templates import contract_forms, load_template, templates
    from yomitori.forms_templates.contract import UNKNOWN_FORM
    from yomitori.ingest import PageFailure, read_pages
    from yomitori.layout_editor import NoDraft, draft_from_page
    from yomitori.ocr.engine import get_engine
    from yomitori.ocr.preprocess import to_working

    from .label_fallback import draft_yaml

    if form is not None and form not in contract_forms():
        raise typer.BadParameter(f"unknown form '{form}'; one of {', '.join(contract_forms())}")
    if out is None and not save:
        raise typer.BadParameter("say where the draft goes: --out FILE, --save (the store), or both")
    page = next(iter(read_pages(str(scan))), None)
    if page is None or isinstance(page, PageFailure):
        raise typer.BadParameter(f"{scan}: no readable page")
    gray = to_working(page.image)
    engine = get_engine("ppocr")
    named = classify(gray, templates().values(), engine=engine)
    if form is None and named.form == UNKNOWN_FORM:
        err.print(f"{scan}: the classifier names no form on this page; say which it is with --form")
        raise typer.Exit(1)
    try:
        draft = draft_from_page(gray, form or named.form, named.rotation, engine, second_reader(engine),
                                layout=layout)
    except NoDraft as e:
        err.print(f"{scan}: {e}")
        raise typer.Exit(1) from None
    text = draft_yaml(draft.template, layout=layout)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        load_template(out)  # what we wrote must load as a template
        err.print(f"wrote {out}")
    if save:
        _save_draft(text, draft.page, tenant)
    t = draft.template
    err.print(f"{t.form}: {len(t.fields)} of {len(contract_forms()[t.form].fields)} fields located "
              f"({', '.join(f.key for f in t.fields)})")


def _save_draft(text: str, page: object, tenant: str | None) -> None:
    from yomitori import saved_layouts
    from yomitori.jobs.stages import _png
    from yomitori.store.repo import Store

    store = Store()
    try:
        with store.tenant(tenant) as repo:
            row = saved_layouts.save(repo, text, actor="cli", active=False,
                                     image_sha256=repo.blobs.put(repo.code, _png(page)))  # type: ignore[arg-type]
            err.print(f"kept as draft {row.form}/{row.layout} version {row.version} in tenant {repo.code}: "
                      f"open it in the template editor (/admin/layouts)")
    except saved_layouts.LayoutError as e:
        err.print(f"not kept: {e}")
        raise typer.Exit(1) from None
    finally:
        store.close()


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
