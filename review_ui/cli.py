"""`yomitori serve` (the review UI and API) and `yomitori user add` (accounts, e.g. a tenant's first administrator)."""

from __future__ import annotations

from typing import Annotated

import typer

user_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Accounts of the review UI and API.")


def register(app: typer.Typer) -> None:
    """Add `serve` and `user …` to the main `yomitori` app."""
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")


def serve(
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    metrics_port: Annotated[int | None, typer.Option(help="also serve Prometheus /metrics on this port")] = None,
    log_format: Annotated[str, typer.Option(help="json (for log collectors) or text")] = "json",
) -> None:
    """Serve the review UI and the JSON API (/api; OpenAPI at /api/openapi.json after login)."""
    import uvicorn

    from yomitori.logs import setup_logging

    setup_logging("INFO", fmt=log_format)  # every record, uvicorn's included, passes the 個人番号 redaction
    from yomitori.jobs.runtime import Runtime
    from yomitori.review_ui.app import create_app
    from yomitori.review_ui.settings import UISettings

    settings = UISettings()
    rt = Runtime.from_settings(settings)
    if metrics_port is not None:
        from yomitori.metrics import start_exporter

        start_exporter(metrics_port, addr=host, rt=rt)
    uvicorn.run(create_app(settings, runtime=rt), host=host, port=port, log_level="info", access_log=False,
                log_config=None)  # keep the handlers set up above


@user_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="login name")],
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="tenant (municipality) code; created if "
                                                                      "new")] = None,
    role: Annotated[str, typer.Option(help="operator, reviewer, administrator or auditor")] = "reviewer",
    display_name: Annotated[str, typer.Option(help="name shown in the UI")] = "",
    password: Annotated[str | None, typer.Option(help="default: asked for (never put it on a command line you "
                                                      "share)", hidden=True)] = None,
) -> None:
    """Create an account (asks for its password twice)."""
    from yomitori.review_ui.auth import MIN_PASSWORD, hash_password
    from yomitori.review_ui.settings import UISettings
    from yomitori.store.models import Role
    from yomitori.store.repo import Store

    if role not in Role.__members__:
        raise typer.BadParameter(f"role must be one of {', '.join(Role.__members__)}")
    if password is None:
        password = typer.prompt(f"password for {username} (at least {MIN_PASSWORD} characters)", hide_input=True,
                                confirmation_prompt=True)
    try:
        pw = hash_password(password)
    except ValueError:
        raise typer.BadParameter(f"the password needs at least {MIN_PASSWORD} characters") from None
    settings = UISettings()
    store = Store(settings)
    try:
        with store.tenant(tenant or settings.tenant, create=True) as repo:
            if repo.user(username) is not None:
                raise typer.BadParameter(f"{username} already exists in tenant {repo.code}")
            repo.add_user(username, Role(role), display_name=display_name, password_hash=pw, actor="cli")
            typer.echo(f"created {role} {username} in tenant {repo.code}")
    finally:
        store.close()
