"""`yomitori bot`: check a keying scenario, run it over approved records, and benchmark it on the demo system."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from yomitori.errors import ExitCode

if TYPE_CHECKING:
    from yomitori.store.repo import Store

    from .outcomes_file import OutcomesFile
    from .scenario import Scenario

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)
_STYLE = {"keyed": "green", "skipped": "cyan", "sent_back": "yellow", "failed": "red", "dry_run": "blue"}


@app.command()
def check(scenario: Annotated[Path, typer.Argument(help="scenario YAML")]) -> None:
    """Validate a scenario; every problem is printed with its line."""
    from .scenario import ScenarioError, _all_steps, load_scenario

    try:
        s = load_scenario(scenario)
    except ScenarioError as e:
        for p in e.problems:
            err.print(p, markup=False, highlight=False)
        raise typer.Exit(ExitCode.invalid_config) from None
    counts = {sec: len(_all_steps(steps)) for sec, steps in
              (("login", s.login), ("lookup", s.lookup.steps), ("key_in", s.key_in), ("verify", s.verify))}
    err.print(f"{scenario}: OK — {s.name} ({s.form}); steps: "
              + ", ".join(f"{k} {v}" for k, v in counts.items()), markup=False, highlight=False)


@app.command()
def run(
    scenario: Annotated[Path | None, typer.Argument(help="scenario YAML (or --scenario-name)")] = None,
    scenario_name: Annotated[str | None, typer.Option(help="a scenario kept in the store (its newest version)")] = None,
    records: Annotated[Path | None, typer.Option(help="approved records in the contract's JSONL shape")] = None,
    batch: Annotated[int | None, typer.Option(help="key the approved documents of a batch in the store")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant of the batch (default YOMITORI_TENANT)")] = None,
    parallel: Annotated[int, typer.Option(help="browser sessions keying at once")] = 1,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="walk the scenario without saving")] = False,
    journal: Annotated[Path, typer.Option(help="receipt journal (SQLite) for --records; keep it between runs")] = Path(
        "bot-journal.sqlite"),
    artifacts: Annotated[Path | None, typer.Option(help="screenshots and traces of failures (default ./bot-artifacts;"
                                                        " with --batch they end up in the store)")] = None,
    base_url: Annotated[str | None, typer.Option(help="the target's address (overrides the scenario)")] = None,
    outcomes: Annotated[Path | None, typer.Option(help="also append each outcome to this JSONL file")] = None,
    wait_for_lease: Annotated[float, typer.Option(help="seconds to wait for another run on the same journal to end "
                                                       "(default: refuse at once)")] = 0.0,
) -> None:
    """Key approved records into the target system, each exactly once, and read every one back."""
    from .outcomes import Outcome
    from .runner import RunOptions, RunSummary, run_scenario
    from .scenario import ScenarioError, load_scenario

    if (records is None) == (batch is None):
        err.print("[red]error:[/red] give either --records FILE.jsonl or --batch ID")
        raise typer.Exit(ExitCode.bad_args)
    if (scenario is None) == (scenario_name is None):
        err.print("[red]error:[/red] give either a scenario file or --scenario-name NAME")
        raise typer.Exit(ExitCode.bad_args)
    if scenario_name is not None and batch is None:
        err.print("[red]error:[/red] --scenario-name reads the store: use it with --batch")
        raise typer.Exit(ExitCode.bad_args)
    store = None
    try:
        if scenario_name is not None:
            from yomitori.store.repo import Store

            from . import library

            store = Store()
            with store.tenant(tenant) as repo:
                s, row = library.load(repo, scenario_name)
                ref = f"{row.name} 版{row.version}"
        else:
            assert scenario is not None
            s, ref = load_scenario(scenario), str(scenario)
    except ScenarioError as e:
        for p in e.problems:
            err.print(p, markup=False, highlight=False)
        raise typer.Exit(ExitCode.invalid_config) from None
    from .lease import LeaseHeld
    from .outcomes_file import OutcomesFile

    out = OutcomesFile(outcomes) if outcomes else None

    def sink(o: Outcome) -> None:
        err.print(f"[{_STYLE[o.kind]}]{o.kind:<9}[/] {o.record_id}  {o.message}", highlight=False)
        if o.screenshot and batch is not None:
            err.print("          screenshot and trace kept in the store (keying receipt of the document)")
        elif o.screenshot:
            err.print(f"          screenshot {o.screenshot}  trace {o.trace}", highlight=False)
        if out:
            out.write(o)

    summary: RunSummary
    complete = out is not None  # from the journal, once the run is over (not if another run holds the journal)
    try:
        if batch is not None:
            from yomitori.store.repo import Store

            from .batch_run import run_batch

            store = store or Store()
            try:
                run_id, summary = run_batch(store, tenant or store.settings.tenant, s, batch_id=batch,
                                            scenario_ref=ref, parallel=parallel, dry_run=dry_run, base_url=base_url,
                                            artifacts=artifacts, lease_wait=wait_for_lease, on_outcome=sink)
            except LeaseHeld:
                complete = False
                raise
            finally:
                if out and complete:
                    out.close()
                    _complete_from_store(out, store, tenant or store.settings.tenant, s, batch)
            err.print(f"bot run {run_id} of batch {batch}", highlight=False)
        else:
            from .receipts import SQLiteReceiptLog
            from .sources import JsonlRecordSource

            assert records is not None
            log = SQLiteReceiptLog(journal)
            try:
                summary = run_scenario(s, JsonlRecordSource(records), log, sink, RunOptions(
                    parallel=parallel, dry_run=dry_run, artifacts=artifacts or Path("bot-artifacts"),
                    base_url=base_url, lease_wait=wait_for_lease))
            except LeaseHeld:
                complete = False
                raise
            finally:
                if out and complete:
                    out.close()
                    _report_completed(out.complete(log.all(), {r.record_id for r in JsonlRecordSource(records)}))
                log.close()
    finally:
        if out:
            out.close()
        if store is not None:
            store.close()
    c = summary.counts
    err.print(f"keyed {c['keyed']}, skipped {c['skipped']}, sent back {c['sent_back']}, failed {c['failed']}, "
              f"dry-run {c['dry_run']}, already done earlier {c['already_done']}; {summary.logins} logins; "
              f"{summary.seconds:.1f} s, "
              f"{summary.per_minute:.1f} records/min", highlight=False)
    if c["unconfirmed"]:
        from .runner import MAY_HAVE_BEEN_SAVED

        err.print(f"[red]{c['unconfirmed']} of the failed: {MAY_HAVE_BEEN_SAVED}[/red] — look for them in the "
                  "target; see docs/operations.md", highlight=False)
    if summary.aborted:
        err.print(f"[red]{summary.aborted}[/red]")
    if c["failed"] or summary.aborted:
        raise typer.Exit(ExitCode.other_error)


def _report_completed(n: int) -> None:
    if n:
        err.print(f"outcomes file: {n} record(s) completed from the journal (an earlier run ended before writing "
                  "them)", highlight=False)


def _complete_from_store(out: OutcomesFile, store: Store, tenant: str, s: Scenario, batch: int) -> None:
    import sqlalchemy as sa

    from yomitori.store.models import Document

    from .batch_journal import StoreReceiptLog

    with store.tenant(tenant) as repo:
        ids = {str(i) for i in repo.session.scalars(sa.select(Document.id).where(Document.batch_id == batch))}
    _report_completed(out.complete(StoreReceiptLog(store, tenant, s, "outcomes").all(), ids))


@app.command()
def release(
    record: Annotated[str, typer.Argument(help="the record id (--records) or document id (store) to release")],
    scenario: Annotated[Path | None, typer.Option(help="scenario YAML, for the store's journal")] = None,
    scenario_name: Annotated[str | None, typer.Option(help="a scenario kept in the store")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant, for the store's journal")] = None,
    journal: Annotated[Path, typer.Option(help="receipt journal (SQLite) of --records runs")] = Path(
        "bot-journal.sqlite"),
    by: Annotated[str, typer.Option(help="who checked the target (kept in the journal)")] = "operator",
) -> None:
    """After a person checked that a 'may have been saved' record is NOT in the target: let the next run key it."""
    from .receipts import SAVE_SENT, State

    store = None
    log: Any = None  # the SQLite file's or the store's journal
    try:
        if scenario is not None or scenario_name is not None:
            from yomitori.store.repo import Store

            from . import library
            from .batch_journal import StoreReceiptLog
            from .scenario import load_scenario

            store = Store()
            tenant = tenant or store.settings.tenant
            if scenario_name is not None:
                with store.tenant(tenant) as repo:
                    s, _ = library.load(repo, scenario_name)
            else:
                assert scenario is not None
                s = load_scenario(scenario)
            log = StoreReceiptLog(store, tenant, s, "release")
        else:
            from .receipts import SQLiteReceiptLog

            if not journal.exists():
                err.print(f"[red]error:[/red] no journal at {journal}", highlight=False)
                raise typer.Exit(ExitCode.bad_args)
            log = SQLiteReceiptLog(journal)
        with log.lease():  # not while a run may be looking the record up
            hits = [r for r in log.all() if r.record_id == record and r.state in SAVE_SENT]
            if not hits:
                err.print(f"[red]error:[/red] record {record} has no save of unknown outcome in this journal "
                          "(nothing to release)", highlight=False)
                raise typer.Exit(ExitCode.bad_args)
            for r in hits:
                log.mark(r.key, r.record_id, State.failed, values_digest=r.values_digest,
                         message=f"released by {by[:100]}: checked that the target does not hold it; the next run "
                                 "looks it up and keys it")
        err.print(f"released record {record}: the next run looks it up and keys it", highlight=False)
    finally:
        if hasattr(log, "close"):
            log.close()
        if store is not None:
            store.close()


@app.command()
def bench(
    records: Annotated[int, typer.Option(help="approved records to generate and key")] = 200,
    parallel: Annotated[int, typer.Option(help="browser sessions keying at once")] = 2,
    kill_at: Annotated[float, typer.Option(help="SIGKILL the runner when this share of records is verified")] = 0.5,
    slow_rate: Annotated[float, typer.Option(help="share of the demo system's responses that are slow")] = 0.05,
    session_lifetime: Annotated[float, typer.Option(help="seconds the demo system keeps a login")] = 60.0,
    seed: Annotated[int, typer.Option(help="seed of the generated records")] = 20240131,
    workdir: Annotated[Path | None, typer.Option(help="keep the database, journal and logs here")] = None,
) -> None:
    """Key generated records into the demo system, SIGKILL the runner half-way, resume, and check the result."""
    from .bench import run_bench

    ok = run_bench(n=records, parallel=parallel, kill_at=kill_at, slow_rate=slow_rate,
                   session_lifetime=session_lifetime, seed=seed, workdir=workdir, console=err)
    if not ok:
        raise typer.Exit(ExitCode.other_error)
