"""Shared fixtures of the warehouse tests: one small simulated practice per session, loaded
into a DuckDB warehouse by `extract_load` (the `warehouse` fixture, used by the dbt tests too).

The practice: 1 clinic, 1 year of history before 2026-06-30, 800 patients, seed 7 (about
2 500 appointments). Tests that change the core or the warehouse take their own copy
(`practice_copy`), so the shared one stays as the fixture built it.

`changed`: a copy whose core then had a morning of activity (through the core's services) not
yet loaded; `reference`: a copy of `changed` after one uninterrupted
`dentops pipeline run --warehouse-only` (extract_load and build_warehouse: the warehouse part of
the nightly run), the run that idempotency and kill-and-rerun results are compared with.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core_app.config import Settings
from pipelines.extract_load import LoadReport, extract_load
from simulator.params import SimulationParams
from simulator.run import simulate
from tests.pipelines.activity import Activity, morning_of_activity
from tests.pipelines.warehouse_content import warehouse_content

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 6, 30)
ADMIN = "simulator"
ADMIN_PASSWORD = "simulator-test-password"
SMALL = SimulationParams(clinics=1, years=1.0, patients=800, seed=7, today=TODAY, future_weeks=4)

#: what the Makefile exports; tests that start processes pass these on (see STACK.md)
OFFLINE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(REPO / ".prefect")),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


@dataclass(frozen=True)
class Warehouse:
    """A simulated practice (SQLite core, keys) and its DuckDB warehouse, raw.* loaded."""

    data_dir: Path
    settings: Settings
    summary: dict[str, Any]
    load: LoadReport | None = field(default=None, compare=False)

    @property
    def warehouse_path(self) -> Path:
        return self.settings.warehouse_path

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def truth_dir(self) -> Path:
        return self.data_dir / "truth"

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (dentops, dbt) working on this practice."""
        return {
            **os.environ,
            **OFFLINE_ENV,
            "DENTOPS_DATA_DIR": str(self.data_dir),
            "DENTOPS_WAREHOUSE_PATH": str(self.warehouse_path),
            "DENTOPS_ACTOR": ADMIN,
            "PYTHONPATH": str(REPO),
        }


def dentops_command() -> list[str]:
    """How to start the `dentops` CLI of this checkout in a subprocess."""
    return [str(Path(sys.executable).parent / "dentops")]


@pytest.fixture(scope="session", autouse=True)
def offline_environment() -> Iterator[None]:
    """The Makefile's telemetry-off settings, also when pytest is run directly."""
    saved: dict[str, str | None] = {name: os.environ.get(name) for name in OFFLINE_ENV}
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    yield
    for name, old in saved.items():
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def build_practice(folder: Path) -> Warehouse:
    data_dir = folder / "data"
    settings = Settings(data_dir=data_dir)
    summary = simulate(SMALL, settings, admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    report = extract_load(settings)
    return Warehouse(data_dir=data_dir, settings=settings, summary=summary, load=report)


def copy_practice(source: Warehouse, folder: Path) -> Warehouse:
    """An independent copy (core database, keys, truth, warehouse) under `folder`."""
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    for item in source.data_dir.iterdir():
        if item.name.startswith("dentops.db"):
            continue
        if item.is_dir():
            shutil.copytree(item, data_dir / item.name)
        else:
            shutil.copy2(item, data_dir / item.name)
    with (
        sqlite3.connect(source.data_dir / "dentops.db") as src,
        sqlite3.connect(data_dir / "dentops.db") as dst,
    ):
        src.backup(dst)
    settings = Settings(data_dir=data_dir)
    return Warehouse(data_dir=data_dir, settings=settings, summary=source.summary)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The session's simulated practice with raw.* loaded (shared: do not change its core)."""
    return build_practice(tmp_path_factory.mktemp("warehouse"))


@pytest.fixture
def practice_copy(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """A private copy of the session's practice and warehouse, free to change."""
    return copy_practice(warehouse, tmp_path)


@dataclass(frozen=True)
class Changed:
    practice: Warehouse
    activity: Activity


@dataclass(frozen=True)
class Reference:
    """A warehouse after one uninterrupted `dentops pipeline run` on `changed`."""

    practice: Warehouse
    result: dict[str, Any]
    output: str  # what the run printed on stdout and stderr
    content: dict[str, list[tuple[Any, ...]]]


def run_pipeline(practice: Warehouse, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*dentops_command(), "pipeline", "run", "--warehouse-only", *args, "--json"],
        env=practice.env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="session")
def changed(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Changed:
    """A copy of the practice after a morning of activity in its core (not loaded yet)."""
    practice = copy_practice(warehouse, tmp_path_factory.mktemp("changed"))
    return Changed(practice, morning_of_activity(practice.settings, ADMIN))


def copy_changed(changed: Changed, folder: Path) -> Changed:
    return Changed(copy_practice(changed.practice, folder), changed.activity)


@pytest.fixture(scope="session")
def reference(changed: Changed, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    practice = copy_practice(changed.practice, tmp_path_factory.mktemp("reference"))
    completed = run_pipeline(practice)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return Reference(
        practice=practice,
        result=json.loads(completed.stdout),
        output=completed.stdout + completed.stderr,
        content=warehouse_content(practice.warehouse_path),
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect flows in this process against a temporary API and database."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
