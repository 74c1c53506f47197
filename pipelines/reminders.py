"""The reminder dispatcher as a Prefect flow: every few minutes (deployment `reminders` in
`pipelines/deployments.py`) it schedules reminders for upcoming appointments that have none
(bulk loads write none) and sends what is due, through the core's service layer as the system.

The flow holds no state of its own: the outbox in the core does (leases, attempts, statuses),
so a flow run that crashes or overlaps another sends nothing twice (see docs/reminders.md).
Logs carry counts only, never patient data.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from core_app.config import Settings
from core_app.domain.staff import SYSTEM
from core_app.service_layer import bootstrap
from core_app.service_layer.reminder_channels import run_dispatch


def send_due(settings: Settings, max_batches: int | None = None) -> dict[str, Any]:
    """Catch up, then claim, send and record every due reminder (batch by batch)."""
    app = bootstrap.connect(settings)
    try:
        return run_dispatch(app, SYSTEM, max_batches=max_batches)
    finally:
        app.close()


@task(name="send_due_reminders", cache_policy=NONE)
def send_due_reminders(max_batches: int | None = None) -> dict[str, Any]:
    report = send_due(Settings(), max_batches)
    get_run_logger().info(
        "reminders: %s caught up, %s claimed, %s sent, %s retried, %s failed, %s skipped",
        report["caught_up"],
        report["claimed"],
        report["sent"],
        report["retried"],
        report["failed"],
        report["skipped"],
    )
    return report


@flow(name="dispatch_reminders", log_prints=False)
def dispatch_reminders(max_batches: int | None = None) -> dict[str, Any]:
    """Send the reminders that are due now."""
    return send_due_reminders(max_batches)
