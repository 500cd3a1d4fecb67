"""`yomitori batch export ID --profile NAME` and the reconciliation lists, for yomitori/batch_cli.py."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from yomitori.errors import YomitoriError

err = Console(stderr=True)


def parse_options(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise YomitoriError(f"--option {pair!r}: write NAME=VALUE (e.g. municipality_code=141003)")
        out[name.strip()] = value.strip()
    return out


def read_password(password_stdin: bool) -> str:
    """The acting user's password: the first line of standard input (never an argument: it would be in ps)."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    return getpass.getpass("password: ")


def export_with_profile(batch_id: int, tenant: str, profile_name: str, out: str, options: list[str],
                        user: str | None, password_stdin: bool) -> None:
    from yomitori.jobs.runtime import Runtime
    from yomitori.standard.exporting import authorize, export_batch
    from yomitori.standard.profiles import load_profile

    if not user:
        raise YomitoriError("an export in a standard layout holds 個人番号: name the acting user with --user NAME "
                            "(and --password-stdin)")
    profile = load_profile(profile_name)
    given = parse_options(options)
    profile.check_options(given)
    rt = Runtime.from_settings()
    who = authorize(rt.store, tenant, user, read_password(password_stdin))
    with rt.store.tenant(tenant) as repo:
        result = export_batch(repo, batch_id, profile, actor=who.username, role=who.role, options=given)
    if out == "-":
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
    else:
        Path(out).write_bytes(result.data)
    for ref, refused in result.refused:
        err.print(f"[yellow]not written[/yellow] {escape(ref)}: {escape(str(refused))}")
    err.print(f"batch {batch_id}: {len(result.written)} record(s) written in profile {profile.name} "
              f"({profile.encoding}, {profile.line_end}), {len(result.refused)} refused")
    if result.refused:
        raise typer.Exit(1)


class ReportKind(StrEnum):
    kakunin = "kakunin"
    idou = "idou"


class ReportFormat(StrEnum):
    pdf = "pdf"
    csv = "csv"


def report(
    batch_id: Annotated[int, typer.Argument()],
    kind: Annotated[ReportKind, typer.Option("--kind", "-k", help="kakunin: 入力確認票; idou: 異動者リスト")]
    = ReportKind.kakunin,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="pdf to print, csv to sort")] = ReportFormat.pdf,
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write")] = Path("report.pdf"),
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="tenant (municipality) code")] = None,
    user: Annotated[str | None, typer.Option("--user", help="acting user: a role in YOMITORI_SUPPORT_MEASURE_ROLES "
                                             "sees 支援措置 persons' rows in full")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """A batch's 入力確認票 or 異動者リスト (個人番号 masked), audited."""
    import getpass

    from yomitori.jobs.runtime import Runtime
    from yomitori.standard import reports

    rt = Runtime.from_settings()
    tenant = tenant or rt.settings.tenant
    actor, role = f"cli:{getpass.getuser()}", None
    if user:
        from yomitori.review_ui.auth import login
        from yomitori.review_ui.settings import UISettings

        result = login(rt.store, UISettings(), tenant, user, read_password(password_stdin))
        if result.user is None:
            raise YomitoriError(f"no list written: {result.message}")
        actor, role = result.user.username, result.user.role.value
    with rt.store.tenant(tenant) as repo:
        r = reports.build(repo, batch_id, kind.value, actor, role=role)
    out.write_bytes(reports.to_pdf(r) if fmt == ReportFormat.pdf else reports.to_csv(r))
    err.print(f"{r.title}: {len(r.rows)} row(s) → {out}")
    if r.hidden:
        err.print(f"[yellow]{r.hidden} document(s) of persons under 支援措置 listed by number only: a user whose role "
                  "is in YOMITORI_SUPPORT_MEASURE_ROLES (--user NAME --password-stdin) sees them[/yellow]")
