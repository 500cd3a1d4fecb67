"""`yomitori masters …`: import the municipality's masters, list 送付先誤り, approve a 支援措置 document for keying."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The municipality's masters: residents (宛名), employers (特別徴収義務者), 特別徴収 roll.")
err = Console(stderr=True)
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="tenant code; default YOMITORI_TENANT")]


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help="residents | employers | roll")],
    file: Annotated[Path, typer.Argument(help="the master as CSV (read into memory, never stored)")],
    mapping: Annotated[Path | None, typer.Option(help="column mapping (YAML); default the bundled one")] = None,
    tenant: TenantOpt = None,
) -> None:
    """Import (or re-import: rows update, never duplicate) one master from CSV. 個人番号 is kept only as an HMAC."""
    from yomitori.masters.keys import master_key
    from yomitori.masters.records import KINDS, MasterError
    from yomitori.masters.store import import_master
    from yomitori.settings import Settings
    from yomitori.store.repo import Store

    if kind not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)}")
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    settings = Settings()
    store = Store(settings)
    try:
        with store.tenant(tenant, create=True) as repo:
            report = import_master(repo, kind, file.read_bytes(), key=master_key(settings), mapping=mapping,  # type: ignore[arg-type]
                                   actor=_actor())
    except MasterError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    finally:
        store.close()
    err.print(report.line())
    for line in report.errors[:20]:
        err.print(f"[yellow]{line}[/yellow]")
    err.print("the CSV was not copied anywhere; delete it once imported (it holds 個人番号)")


@app.command("misdirected")
def misdirected_cmd(
    batch: Annotated[int | None, typer.Option(help="only this batch")] = None,
    out: Annotated[Path | None, typer.Option(help="write the list as CSV here (default: standard output)")] = None,
    tenant: TenantOpt = None,
) -> None:
    """The 送付先誤り list: 明細書 whose recipient was no 1 January resident, to forward to the right city."""
    from yomitori.masters.pipeline import misdirected, misdirected_csv
    from yomitori.store.repo import Store

    store = Store()
    try:
        with store.tenant(tenant) as repo:
            rows = misdirected(repo, batch)
            repo.audit(_actor(), "master.misdirected_list", None, rows=len(rows))
    finally:
        store.close()
    text = misdirected_csv(rows)
    if out:
        out.write_text(text, encoding="utf-8-sig")
        err.print(f"wrote {len(rows)} document(s) to {out}")
    else:
        sys.stdout.write(text)


@app.command("approve-keying")
def approve_keying_cmd(document: Annotated[int, typer.Argument(help="document id")], tenant: TenantOpt = None) -> None:
    """Allow the bots to key one 支援措置 document (they key none without this approval)."""
    from yomitori.masters.pipeline import approve_keying
    from yomitori.store.repo import Store

    store = Store()
    try:
        with store.tenant(tenant) as repo:
            approve_keying(repo, document, _actor())
    finally:
        store.close()
    err.print(f"document {document} may be keyed")
