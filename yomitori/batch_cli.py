"""`yomitori batch …`, `yomitori worker` and `yomitori db …`: the batch pipeline from the command line."""

from __future__ import annotations

import csv
import getpass
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from yomitori.jobs.runtime import Runtime
    from yomitori.store.repo import BatchProgress

batch_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Submit, follow, export and purge batches.")
db_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The batch store's database schema.")
err = Console(stderr=True)

TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="tenant (municipality) code; default "
                                                                      "YOMITORI_TENANT or 'default'")]


def register(app: typer.Typer) -> None:
    """Add the batch, worker and db commands to the main `yomitori` app."""
    app.add_typer(batch_app, name="batch")
    app.add_typer(db_app, name="db")
    app.command("worker")(worker)
    from yomitori.standard.cli import report

    batch_app.command("report")(report)


def _runtime() -> Runtime:
    from yomitori.jobs.runtime import Runtime, use_runtime

    rt = Runtime.from_settings()
    use_runtime(rt)
    return rt


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


class _Bars:
    """Three progress bars, one per stage, fed with BatchProgress snapshots."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {s: progress.add_task(s, total=None) for s in ("ingest", "extract", "validate")}

    def update(self, p: BatchProgress) -> None:
        pages_ok = p.pages - p.pages_failed
        self.progress.update(self.tasks["ingest"], total=p.files, completed=p.files_ingested + p.files_failed)
        self.progress.update(self.tasks["extract"], total=p.pages or None, completed=p.pages_extracted + p.pages_failed)
        self.progress.update(self.tasks["validate"], total=pages_ok or None, completed=p.pages_done)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


def _summary(p: BatchProgress) -> None:
    err.print(f"batch {p.batch_id}: {p.status}; {p.files} file(s), {p.pages} page(s): {p.pages_done} done, "
              f"{p.pages_failed} error(s), {p.files_failed} unreadable file(s); {p.documents} document(s), "
              f"{p.needs_review} to review")
    if p.pages_failed or p.files_failed:
        err.print(f"[yellow]see the error records: yomitori batch export {p.batch_id} --format jsonl[/yellow]")


@batch_app.command()
def submit(
    paths: Annotated[list[Path], typer.Argument(help="scanned files (PDF, TIFF, JPEG, PNG) or folders of them")],
    tenant: TenantOpt = None,
    name: Annotated[str, typer.Option("--name", "-n", help="a name for the batch")] = "",
) -> None:
    """Submit files as a batch and print its id (embedded: runs it here; with Redis: queues it for the workers)."""
    from yomitori.jobs.runtime import InlineDispatcher
    from yomitori.jobs.submit import submit_batch

    rt = _runtime()
    tenant = tenant or rt.settings.tenant
    batch_id = submit_batch(rt, paths, tenant=tenant, name=name, actor=_actor(),
                            on_refused=lambda e: err.print(f"[yellow]refused[/yellow] {escape(str(e))}"))
    typer.echo(batch_id)
    if isinstance(rt.dispatcher, InlineDispatcher):
        _run_here(rt, tenant, batch_id)
    else:
        err.print(f"queued on {rt.settings.queue_name}; follow it with: yomitori batch status {batch_id} --follow")


def _run_here(rt: Runtime, tenant: str, batch_id: int) -> None:
    """Run a batch's remaining work in this process, with progress bars and a summary."""
    from yomitori.jobs.submit import run_inline

    with _progress() as progress:
        bars = _Bars(progress)
        final = run_inline(rt, tenant, batch_id, bars.update)
        bars.update(final)
    _summary(final)


@batch_app.command()
def resume(batch_id: Annotated[int, typer.Argument()], tenant: TenantOpt = None) -> None:
    """Finish a batch whose run was interrupted (embedded), or re-queue its lost work (with Redis)."""
    from yomitori.jobs.runtime import InlineDispatcher
    from yomitori.jobs.stages import reconcile

    rt = _runtime()
    tenant = tenant or rt.settings.tenant
    if isinstance(rt.dispatcher, InlineDispatcher):
        _run_here(rt, tenant, batch_id)
    else:
        err.print(f"queued {reconcile(rt, tenant, batch_id)} job(s)")


@batch_app.command()
def status(
    batch_id: Annotated[int | None, typer.Argument(help="a batch id; without it, the latest batches")] = None,
    tenant: TenantOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="show progress bars until the batch is done")] = False,
) -> None:
    """Per-stage progress of a batch, or a table of the latest batches."""
    rt = _runtime()
    tenant = tenant or rt.settings.tenant
    if batch_id is None:
        _batch_table(rt, tenant)
        return
    with rt.store.tenant(tenant) as repo:
        p = repo.progress(batch_id)
    if follow and not p.finished:
        with _progress() as progress:
            bars = _Bars(progress)
            while not p.finished:
                bars.update(p)
                time.sleep(0.5)
                with rt.store.tenant(tenant) as repo:
                    p = repo.progress(batch_id)
            bars.update(p)
    _summary(p)


def _batch_table(rt: Runtime, tenant: str) -> None:
    table = Table("id", "name", "status", "created", "files", "pages", "done", "errors", "to review")
    with rt.store.tenant(tenant) as repo:
        for b in repo.batches():
            p = repo.progress(b.id)
            table.add_row(str(b.id), b.name, p.status, f"{b.created_at:%Y-%m-%d %H:%M}", str(p.files), str(p.pages),
                          str(p.pages_done), str(p.pages_failed + p.files_failed), str(p.needs_review))
    Console().print(table)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


CSV_COLUMNS = ("source", "pages", "form", "layout", "form_confidence", "field", "value", "confidence", "review",
               "error")


@batch_app.command()
def export(
    batch_id: Annotated[int, typer.Argument()],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl: the contract's records; csv: one row per "
                                                                "field")] = ExportFormat.jsonl,
    out: Annotated[str, typer.Option("--out", "-o", help="file to write, or - for standard output")] = "-",
    tenant: TenantOpt = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="an export profile (shipped: 315, "
                                                "idou-example; or a YAML file): approved records in its layout "
                                                "(docs/standard-files.md)")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="a profile option NAME=VALUE, e.g. "
                                                     "sakusei_kubun=0 municipality_code=141003")] = None,
    user: Annotated[str | None, typer.Option("--user", help="the acting user (a role that may see 個人番号)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the user's password from "
                                                 "standard input")] = False,
) -> None:
    """Write a batch's results: every document, and an error record for every page or file that failed."""
    from yomitori.store.models import Batch

    if profile is not None:
        from yomitori.standard.cli import export_with_profile

        tenant = tenant or _runtime().settings.tenant
        export_with_profile(batch_id, tenant, profile, out, option or [], user, password_stdin)
        return
    rt = _runtime()
    tenant = tenant or rt.settings.tenant
    actor, unmasked, role = _acting_user(rt, tenant, user, password_stdin)
    sink = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    try:
        with rt.store.tenant(tenant) as repo:
            p = repo.progress(batch_id)
            withheld = _support_measure_withheld(repo, batch_id, actor, role)
            records = (r for r in repo.records(batch_id) if (r["source"], tuple(r["pages"])) not in withheld)
            records = records if unmasked else map(_masked, records)
            if fmt == ExportFormat.jsonl:
                for r in records:
                    sink.write(json.dumps(r, ensure_ascii=False) + "\n")
            else:
                _write_csv(sink, records)
            repo.audit(actor, "batch.export", repo.get(Batch, batch_id), format=str(fmt), masked=not unmasked)
    finally:
        if sink is not sys.stdout:
            sink.close()
    if not p.finished:
        err.print(f"[yellow]batch {batch_id} is still running: only finished pages were written[/yellow]")
    if not unmasked:
        err.print("[yellow]個人番号 masked: name an acting user allowed to see them with --user NAME "
                  "--password-stdin[/yellow]")
    if withheld:
        err.print(f"[yellow]{len(withheld)} document(s) of persons under 支援措置 not written: only a user whose role "
                  "is in YOMITORI_SUPPORT_MEASURE_ROLES (--user NAME --password-stdin) exports them[/yellow]")


def _support_measure_withheld(repo, batch_id: int, actor: str, role: str | None) -> set[tuple[str, tuple[int]]]:
    """The (source, pages) of the records not to write: 支援措置 documents, for a role not allowed (audited)."""
    from yomitori.masters.pipeline import guard_export
    from yomitori.review_ui.settings import UISettings

    _, withheld = guard_export(repo, repo.documents(batch_id), actor=actor, role=role,
                               allowed=UISettings().support_measure_roles, via="batch_export")
    return {(d.source.name, (d.first_page,)) for d in withheld}


def _acting_user(rt: Runtime, tenant: str, user: str | None,
                 password_stdin: bool) -> tuple[str, bool, str | None]:
    """Who exports, whether 個人番号 go out in clear (only for a user proved by password whose role may see them,
    YOMITORI_UNMASK_ROLES), and the user's role; without --user, the OS user, masked, with no role."""
    if not user:
        return f"cli:{_actor()}", False, None
    from yomitori.review_ui.auth import login
    from yomitori.review_ui.settings import UISettings
    from yomitori.standard.cli import read_password

    settings = UISettings()
    result = login(rt.store, settings, tenant, user, read_password(password_stdin))
    if result.user is None:
        err.print(f"[red]not exported: {escape(result.message)}[/red]")
        raise typer.Exit(1)
    return result.user.username, result.user.role.value in settings.unmask_roles, result.user.role.value


def _masked(record: dict) -> dict:
    from yomitori.review_ui.fields import is_personal_number, mask_number

    for key, f in (record.get("fields") or {}).items():
        if f["value"] is not None and is_personal_number(record["form"], key, f["value"]):
            f["value"] = mask_number(f["value"])
    return record


def _write_csv(sink, records) -> None:
    w = csv.writer(sink)
    w.writerow(CSV_COLUMNS)
    for r in records:
        pages = " ".join(map(str, r["pages"]))
        if r["form"] == "error" or not r.get("fields"):
            w.writerow([r["source"], pages, r["form"], r.get("layout") or "", r.get("form_confidence", ""),
                        "", "", "", "", r.get("error") or ""])
            continue
        for key, f in r["fields"].items():
            value = f["value"]
            text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            w.writerow([r["source"], pages, r["form"], r["layout"], r["form_confidence"], key, text,
                        f["confidence"], str(f["review"]).lower(), ""])


@batch_app.command()
def purge(
    batch_id: Annotated[int, typer.Argument()],
    tenant: TenantOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Delete a batch's originals, page images and crops once its retention period is over (audited)."""
    rt = _runtime()
    tenant = tenant or rt.settings.tenant
    if not yes:
        typer.confirm(f"Delete the scanned images of batch {batch_id} for good?", abort=True)
    with rt.store.tenant(tenant) as repo:
        n = repo.purge_batch(batch_id, actor=_actor(), retention_days=rt.settings.retention_days)
    err.print(f"batch {batch_id}: {n} stored file(s) deleted; extracted values and the audit trail are kept")


def worker(
    burst: Annotated[bool, typer.Option("--burst", help="stop when there is no work left")] = False,
    name: Annotated[str | None, typer.Option(help="worker name shown in rq (default: host and pid)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every job")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port (/metrics)")] = None,
    metrics_addr: Annotated[str, typer.Option(help="address the metrics server listens on")] = "0.0.0.0",
    metrics_backlog: Annotated[bool, typer.Option(help="also serve the queue and store gauges (the API does; "
                                                       "set it on one worker when there is no API)")] = False,
    log_format: Annotated[str, typer.Option(help="json (one object per line) or text")] = "json",
) -> None:
    """Take batch jobs from Redis (YOMITORI_REDIS_URL); start one per core on as many machines as you like."""
    from yomitori.errors import YomitoriError
    from yomitori.jobs.worker import run_worker
    from yomitori.logs import setup_logging

    setup_logging("INFO" if verbose else "WARNING", fmt=log_format)
    rt = _runtime()
    if not rt.settings.redis_url:
        raise YomitoriError("a worker needs a queue: set YOMITORI_REDIS_URL (e.g. redis://localhost:6379/0)")
    if metrics_port is not None:
        from yomitori.metrics import start_exporter

        start_exporter(metrics_port, metrics_addr, rt if metrics_backlog else None)
    run_worker(rt, burst=burst, name=name, logging_level="INFO" if verbose else "WARNING")


@db_app.command()
def upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Migrate the database (YOMITORI_DATABASE_URL) to the current schema."""
    from yomitori.settings import Settings
    from yomitori.store import db

    engine = db.make_engine(Settings().db_url)
    db.upgrade(engine, revision)
    err.print(f"database at revision {db.current_revision(engine)}")


@db_app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. -1 or base")]) -> None:
    """Migrate the database back to an older schema."""
    from yomitori.settings import Settings
    from yomitori.store import db

    engine = db.make_engine(Settings().db_url)
    db.downgrade(engine, revision)
    err.print(f"database at revision {db.current_revision(engine)}")


@db_app.command()
def current() -> None:
    """Print the database's schema revision and the newest one this version has."""
    from yomitori.settings import Settings
    from yomitori.store import db

    engine = db.make_engine(Settings().db_url)
    typer.echo(f"{db.current_revision(engine)} (head {db.head_revision()})")
