"""`dentops dashboard`: serve the Streamlit dashboards on 127.0.0.1 (subprocess, telemetry off)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from core_app.cli.context import refusals
from core_app.cli.demo import accounts_text
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError


def app_file() -> Path:
    """dashboards/app.py, found without importing them (the CLI does not depend on them)."""
    spec = importlib.util.find_spec("dashboards")
    if spec is None or not spec.submodule_search_locations:
        raise ValidationError("the dashboards package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "app.py"


def streamlit_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app_file()),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1024, max=65535)] = 8501,
    data_dir: Annotated[
        Path | None, typer.Option(help="The practice's folder (replaces DENTOPS_DATA_DIR).")
    ] = None,
    idle_minutes: Annotated[
        float | None,
        typer.Option(
            help="Sign users out after this many idle minutes (DENTOPS_DASHBOARD_IDLE_MINUTES; "
            "default 15)."
        ),
    ] = None,
) -> None:
    """Serve the dashboards (manager, scheduler, front desk) on 127.0.0.1 until interrupted."""
    env = dict(os.environ)
    if data_dir is not None:
        env["DENTOPS_DATA_DIR"] = str(data_dir)
        os.environ["DENTOPS_DATA_DIR"] = str(data_dir)
    if idle_minutes is not None:
        env["DENTOPS_DASHBOARD_IDLE_MINUTES"] = str(idle_minutes)
    with refusals():
        settings = Settings()
        if idle_minutes is not None and idle_minutes <= 0:
            raise ValidationError("--idle-minutes must be positive")
        if not settings.key_file.exists():
            raise ValidationError(
                f"no practice at {settings.data_dir} (no key file): run `dentops init` or "
                "`dentops demo` first"
            )
        command = streamlit_command(port)
    env.update(STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", STREAMLIT_SERVER_HEADLESS="true")
    accounts = accounts_text(settings)
    if accounts:
        typer.echo(f"demo staff accounts (username, password):\n{accounts}")
    typer.echo(f"dentops dashboard on http://127.0.0.1:{port} (Ctrl-C to stop)", err=True)
    try:
        completed = subprocess.run(command, env=env, check=False)  # noqa: S603 - fixed command
    except KeyboardInterrupt:
        return
    if completed.returncode:
        sys.exit(completed.returncode)
