"""Every schedule of the pipelines, served by `dentops pipeline serve` (Prefect's `serve`).

- `nightly`: extract_load -> build_warehouse at 02:00 (later issues add train, score,
  forecast and optimize to the same flow).
- `hourly-incremental`: the hour's changes, at half past every hour except the nightly's hour,
  so the two never hold the warehouse file at the same time (DuckDB allows one writer process);
  each deployment also runs one flow run at a time.
- `reminders`: `dispatch_reminders` every 5 minutes (the core's outbox; touches no warehouse
  file, so it may overlap the others; overlapping dispatchers never send a reminder twice).

Times are in `timezone` (the practice's, e.g. America/New_York; default UTC).
"""

from __future__ import annotations

from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from pipelines.flows import hourly, nightly
from pipelines.reminders import dispatch_reminders

NIGHTLY_CRON = "0 2 * * *"
HOURLY_CRON = "30 0-1,3-23 * * *"
REMINDERS_CRON = "*/5 * * * *"


def deployments(timezone: str = "UTC") -> list[RunnerDeployment]:
    # `to_deployment` is sync-compatible: called outside an event loop it returns the object
    made = [
        nightly.to_deployment(
            name="nightly",
            schedule=Cron(NIGHTLY_CRON, timezone=timezone),
            parameters={"full_refresh": False},
            concurrency_limit=1,
            description="extract_load -> build_warehouse, every night",
        ),
        hourly.to_deployment(
            name="hourly-incremental",
            schedule=Cron(HOURLY_CRON, timezone=timezone),
            concurrency_limit=1,
            description="the hour's changes: extract_load -> build_warehouse",
        ),
        dispatch_reminders.to_deployment(
            name="reminders",
            schedule=Cron(REMINDERS_CRON, timezone=timezone),
            concurrency_limit=1,
            description="send the reminders that are due (the core's outbox)",
        ),
    ]
    return [cast(RunnerDeployment, deployment) for deployment in made]


def serve_all(timezone: str = "UTC") -> None:
    """Serve every deployment until interrupted (needs a Prefect API: PREFECT_API_URL, or a
    temporary local one that Prefect starts)."""
    serve(*deployments(timezone))
