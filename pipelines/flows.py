"""Prefect flows: extract_load -> build_warehouse, composed into `nightly` and `hourly`; the
nightly run then trains the no-show model when due, scores the coming appointments, forecasts
demand and plans the next two weeks of every clinic (`analytics`).

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
from core_app.service_layer import bootstrap
from pipelines import demand, no_show, optimize, transform
from pipelines import extract_load as loading

#: days ahead the nightly run scores, weeks it plans (this one and the next)
SCORE_DAYS = 14
PLAN_WEEKS = 2
#: the no-show model is retrained when its last training is this old
TRAIN_EVERY_DAYS = 7


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
def dbt_build(select: str | None = None, full_refresh: bool = False) -> dict[str, Any]:
    """`dbt build` of dbt_project/ on the warehouse (only `select`, a dbt selection, when
    given), incremental unless `full_refresh`; a failing test fails the task with the test's
    name."""
    result = transform.build_warehouse(Settings(), select=select, full_refresh=full_refresh)
    get_run_logger().info(
        "dbt build: %d nodes passed of %d (full refresh: %s)",
        result.passed,
        result.nodes,
        result.full_refresh,
    )
    return {
        "nodes": result.nodes,
        "passed": result.passed,
        "warned": result.warned,
        "full_refresh": result.full_refresh,
    }


@flow(name="build_warehouse", log_prints=False)
def build_warehouse(select: str | None = None, full_refresh: bool = False) -> dict[str, Any]:
    """staging -> intermediate -> marts, with every dbt test (or the `select`ed part);
    incremental models rebuilt in full with `full_refresh`."""
    return dbt_build(select, full_refresh)


def _skipped(error: Exception) -> dict[str, Any]:
    """A step that has nothing to work on yet (a new practice without history or model)."""
    get_run_logger().warning("skipped: %s", Safe(str(error)))  # our message: no patient data
    return {"skipped": str(error)}


@task(name="train_if_due", cache_policy=NONE)
def train_if_due(every_days: int = TRAIN_EVERY_DAYS) -> dict[str, Any]:
    """Train the no-show model when none exists or the last training is `every_days` old; the
    new model replaces the current one only if it is at least as good on the latest window."""
    try:
        result = no_show.train_if_due(Settings(), every_days=every_days)
    except no_show.NoShowUnavailable as error:
        return _skipped(error)
    if not result["trained"]:
        return result
    get_run_logger().info(
        "no-show model %s trained (promoted=%s)", Safe(result["run_id"]), result["promoted"]
    )
    keep = ("trained", "run_id", "promoted", "reason", "current_model", "model")
    return {key: result[key] for key in keep}


@task(name="score", cache_policy=NONE)
def score(days: int = SCORE_DAYS) -> dict[str, Any]:
    """Risk of every appointment of the next `days` days, into the warehouse and the core."""
    try:
        result = no_show.score(Settings(), days=days)
    except no_show.NoShowUnavailable as error:
        return _skipped(error)
    get_run_logger().info(
        "%d appointments scored: %s", result["scored"], Safe(str(result["bands"]))
    )
    return result


@task(name="forecast", cache_policy=NONE)
def forecast() -> dict[str, Any]:
    """Daily demand per clinic and procedure category for the next 90 days."""
    try:
        result = demand.forecast(Settings())
    except demand.DemandUnavailable as error:
        return _skipped(error)
    get_run_logger().info("%d demand series forecast (%d rows)", result["series"], result["rows"])
    return result


@task(name="plan_ahead", cache_policy=NONE)
def plan_ahead(weeks: int = PLAN_WEEKS) -> dict[str, Any]:
    """This week and the next of every clinic: open requests placed with the fresh scores,
    stored as pending suggestions (a new plan expires the request's earlier pending ones)."""
    app = bootstrap.connect(Settings())
    try:
        weeks_planned = optimize.plan_ahead(app, weeks=weeks)
    finally:
        app.close()
    logger = get_run_logger()
    for week in weeks_planned:
        logger.info(
            "clinic %s week %s: %d of %d requests placed (%s, gap %s)",
            week["clinic_id"],
            Safe(week["week"]),
            week["placed"],
            week["requests"],
            Safe(week["status"]),
            week["gap"],
        )
    keep = ("clinic_id", "week", "requests", "placed", "overbooks", "status", "gap", "seconds")
    return {
        "weeks": [{key: week[key] for key in keep} for week in weeks_planned],
        "suggestions": sum(len(week["suggestion_ids"]) for week in weeks_planned),
    }


@flow(name="analytics", log_prints=False)
def run_analytics() -> dict[str, Any]:
    """After the warehouse build: train when due, score, forecast and plan, in that order (the
    plan uses the fresh scores). Each step works on what the warehouse holds; one with nothing
    to work on yet says `skipped` and why."""
    return {
        "train": train_if_due(),
        "score": score(),
        "forecast": forecast(),
        "plan": plan_ahead(),
    }


@flow(name="nightly", log_prints=False)
def nightly(full_refresh: bool = False, analytics: bool = True) -> dict[str, Any]:
    """The nightly run: extract_load, build_warehouse, then (with `analytics`) the model and
    optimizer steps (`run_analytics`)."""
    result: dict[str, Any] = {
        "extract_load": extract_load(full_refresh=full_refresh),
        "build_warehouse": build_warehouse(full_refresh=full_refresh),
    }
    if analytics:
        result.update(run_analytics())
    return result


@flow(name="hourly", log_prints=False)
def hourly() -> dict[str, Any]:
    """The hourly incremental refresh: extract_load of the hour's changes, build_warehouse."""
    loaded = extract_load(full_refresh=False)
    built = build_warehouse()
    return {"extract_load": loaded, "build_warehouse": built}
