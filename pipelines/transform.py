"""build the warehouse: `dbt build` of `dbt_project/` on the warehouse file, in a subprocess.

A subprocess, not dbtRunner: dbt-duckdb keeps the DuckDB file open in the process that ran it
(STACK.md, trap 4), which would lock out `dentops kpi` and the next extract while a served
pipeline lives. dbt's target and log folders sit beside the warehouse file, so builds of
different warehouses (tests, benchmarks) never share them. The outcome is read from dbt's
`run_results.json`: a failed test or model fails the build with its name in the message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core_app.config import Settings

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
#: telemetry off for dbt, whatever the caller's environment says
OFFLINE = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1"}
FAILED = ("error", "fail", "runtime error")


class WarehouseBuildFailed(Exception):
    """dbt build failed; the message names the failing tests or models."""


@dataclass(frozen=True)
class BuildResult:
    nodes: int
    passed: int
    warned: list[str]
    seconds: float
    target_path: str


def dbt_paths(settings: Settings) -> tuple[Path, Path]:
    """dbt's target and log folders for this warehouse."""
    base = settings.warehouse_path.parent / f"{settings.warehouse_path.stem}.dbt"
    return base / "target", base / "logs"


def dbt_command(settings: Settings, *args: str, project_dir: Path = DBT_PROJECT) -> list[str]:
    target, logs = dbt_paths(settings)
    dbt = Path(sys.executable).parent / "dbt"
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
    ]


def dbt_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **OFFLINE,
        "DENTOPS_WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
    }


def _node_name(result: dict[str, Any]) -> str:
    unique_id = str(result.get("unique_id", "?"))
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def read_results(target: Path) -> list[dict[str, Any]]:
    path = target / "run_results.json"
    if not path.exists():
        return []
    results: list[dict[str, Any]] = json.loads(path.read_text())["results"]
    return results


def build_warehouse(
    settings: Settings, *, select: str | None = None, project_dir: Path = DBT_PROJECT
) -> BuildResult:
    """Run `dbt build` (seeds, models, tests; only `select`, a dbt selection, when given) on
    the warehouse; raise on any failure."""
    target, _ = dbt_paths(settings)
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)  # never read an earlier build's outcome
    completed = subprocess.run(  # noqa: S603 - our own dbt, fixed arguments
        dbt_command(
            settings, "build", *(["--select", select] if select else []), project_dir=project_dir
        ),
        env=dbt_environment(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    results = read_results(target)
    failed = [r for r in results if r.get("status") in FAILED]
    if completed.returncode != 0 or failed:
        if failed:
            names = ", ".join(_node_name(r) for r in failed)
            details = "; ".join(f"{_node_name(r)}: {r.get('message')}" for r in failed)
            raise WarehouseBuildFailed(f"dbt build failed in {names} ({details})")
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
        raise WarehouseBuildFailed(f"dbt build failed before running any node:\n{tail}")
    return BuildResult(
        nodes=len(results),
        passed=sum(1 for r in results if r.get("status") in ("success", "pass")),
        warned=[_node_name(r) for r in results if r.get("status") == "warn"],
        seconds=round(sum(float(r.get("execution_time") or 0) for r in results), 2),
        target_path=str(target),
    )
