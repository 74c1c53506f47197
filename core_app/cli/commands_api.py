"""`dentops api` (serve the REST API on loopback) and `dentops user totp-enrol`."""

from __future__ import annotations

from typing import Annotated

import typer

from core_app.cli import api_workers
from core_app.cli.context import Session
from core_app.cli.output import emit
from core_app.config import Settings
from core_app.service_layer import sessions


def api(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port on 127.0.0.1.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker processes (default: DENTOPS_API_WORKERS, see README)."
        ),
    ] = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs and /openapi.json) on 127.0.0.1 only."""
    api_workers.serve(port, log_level, workers or Settings().worker_processes())


def totp_enrol(
    ctx: typer.Context,
    username: str,
    replace: Annotated[
        bool, typer.Option(help="Replace a confirmed secret (a lost authenticator).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Give USERNAME a new TOTP secret (shown once: add it to their authenticator app)."""
    session: Session = ctx.obj
    found = session.run(
        lambda app, actor: sessions.enrol_totp(app.uow(), actor, username=username, replace=replace)
    )
    emit(
        {"username": username, "secret": found.secret, "provisioning_uri": found.provisioning_uri},
        as_json=as_json,
        human=f"TOTP secret for {username}: {found.secret}\n{found.provisioning_uri}",
    )
