"""Prefect flows: extract_load -> build_warehouse, composed into `nightly` and `hourly`.

Settings come from the environment (`DENTOPS_*`) when a task runs, so a served deployment and
`dentops pipeline run` read the same configuration. Every step is idempotent (see
`extract_load` and dbt's own rebuilds), which is why retrying a task is safe. Logs name tables
and counts only, never patient data.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from core_app.config import Settings
from core_app.logging_setup import Safe
from pipelines import extract_load as loading
from pipelines import transform


@task(name="extract_load", retries=1, retry_delay_seconds=5, cache_policy=NONE)
def extract_load(full_refresh: bool = False) -> dict[str, Any]:
    """The core's changes into raw.* (everything with `full_refresh`)."""
    report = loading.extract_load(Settings(), full_refresh=full_refresh)
    logger = get_run_logger()
    for load in report.tables:
        logger.info("raw.%s: %d rows merged (full=%s)", Safe(load.table), load.rows, load.full)
    return {
        "full_refresh": report.full_refresh,
        "rows": report.rows,
        "tables": {load.table: load.rows for load in report.tables},
    }


@task(name="dbt_build", cache_policy=NONE)
def dbt_build(select: str | None = None) -> dict[str, Any]:
    """`dbt build` of dbt_project/ on the warehouse (only `select`, a dbt selection, when
    given); a failing test fails the task with the test's name."""
    result = transform.build_warehouse(Settings(), select=select)
    get_run_logger().info("dbt build: %d nodes passed of %d", result.passed, result.nodes)
    return {"nodes": result.nodes, "passed": result.passed, "warned": result.warned}


@flow(name="build_warehouse", log_prints=False)
def build_warehouse(select: str | None = None) -> dict[str, Any]:
    """staging -> intermediate -> marts, with every dbt test (or the `select`ed part)."""
    return dbt_build(select)


@flow(name="nightly", log_prints=False)
def nightly(full_refresh: bool = False) -> dict[str, Any]:
    """The nightly run: extract_load, then build_warehouse (later issues add train, score,
    forecast and optimize after it)."""
    loaded = extract_load(full_refresh=full_refresh)
    built = build_warehouse()
    return {"extract_load": loaded, "build_warehouse": built}


@flow(name="hourly", log_prints=False)
def hourly() -> dict[str, Any]:
    """The hourly incremental refresh: extract_load of the hour's changes, build_warehouse."""
    loaded = extract_load(full_refresh=False)
    built = build_warehouse()
    return {"extract_load": loaded, "build_warehouse": built}
