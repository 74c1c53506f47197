"""A small demo practice for the dashboard tests, built once per session: the simulator's core
(1 clinic, 5 months of history to the real today, 2 weeks ahead), staff logins per role, the
optimizer's suggestions, no-show scores (upcoming in the core; past ones in the warehouse, for
model health), then extract_load, the demand forecast and dbt build."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import numpy as np
import pandas as pd

from core_app.config import Settings
from core_app.domain.no_show import NoShowScore
from core_app.domain.reminder import ReminderPolicy
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import bootstrap, no_show_scores, queries, reminders, users
from pipelines.demand import forecast
from pipelines.extract_load import extract_load
from pipelines.no_show import write_scores
from pipelines.offline import apply_offline_defaults
from pipelines.optimize import plan_ahead
from pipelines.transform import build_warehouse, dbt_command, dbt_environment
from simulator.params import SimulationParams
from simulator.run import simulate

ADMIN = "simulator"
#: the marts the dashboards read (built with their parents; the rest of the project is not needed)
DASHBOARD_MARTS = (
    "kpi_definitions",
    "kpi_daily",
    "kpi_chair_daily",
    "ar_ageing",
    "dim_providers",
    "ml_daily_demand",
    "ml_no_show_calibration",
    "ml_no_show_health",
)
PASSWORDS = {
    "admin": "dash-admin-password",
    "manager": "dash-manager-password",
    "scheduler": "dash-scheduler-password",
    "frontdesk": "dash-frontdesk-password",
    "dentist": "dash-provider-password",
}
ROLES = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "scheduler": Role.SCHEDULER,
    "frontdesk": Role.FRONT_DESK,
    "dentist": Role.PROVIDER,
}


@dataclass(frozen=True)
class Practice:
    data_dir: Path
    settings: Settings
    clinic_id: int
    today: date

    def env(self) -> dict[str, str]:
        return {
            "DENTOPS_DATA_DIR": str(self.data_dir),
            "DENTOPS_DATABASE_URL": self.settings.database_url,
            "DENTOPS_WAREHOUSE_PATH": str(self.settings.warehouse_path),
            "DENTOPS_KEY_FILE": str(self.settings.key_file),
        }


def _probability(rng: np.random.Generator, is_no_show: bool) -> float:
    base = 0.45 if is_no_show else 0.15
    return float(np.clip(base + rng.normal(0, 0.12), 0.01, 0.95))


def build(folder: Path, *, today: date | None = None, dbt_tests: bool = True) -> Practice:
    """`dbt_tests=False` builds the models without running dbt's tests (the warehouse tests run
    them; the dashboards only need the tables)."""
    today = today or datetime.now(UTC).date()
    data_dir = folder / "data"
    apply_offline_defaults(data_dir)
    settings = Settings(data_dir=data_dir)
    params = SimulationParams(
        clinics=1, years=0.45, patients=500, seed=11, today=today, future_weeks=2
    )
    summary = simulate(params, settings, admin_username=ADMIN, admin_password="sim-admin-password")
    clinic_id = int(summary["clinic_ids"][0])
    app = bootstrap.connect(settings)
    rng = np.random.default_rng(3)
    try:
        admin = users.actor_for(app.uow(), ADMIN)
        for name, role in ROLES.items():
            users.add_user(
                app.uow(),
                admin,
                username=name,
                password=PASSWORDS[name],
                role=role,
                clinic_id=None if role is Role.ADMIN else clinic_id,
            )
        _step("simulate")
        # messages allowed all day, so that the front desk's extra reminder does not depend on
        # the hour the tests run at (quiet hours are the reminder tests' business)
        reminders.set_reminder_policy(
            app.uow(),
            SYSTEM,
            clinic_id=clinic_id,
            policy=ReminderPolicy(day_start=dtime(0, 0), day_end=dtime(23, 59)),
        )
        plan_ahead(app, weeks=2)
        _step("plan_ahead")
        start = datetime.now(UTC) - timedelta(days=1)
        upcoming = queries.clinic_schedule(
            app.uow(), SYSTEM, clinic_id=clinic_id, start_at=start, end_at=start + timedelta(days=5)
        )
        scored = [r for r in upcoming if r.status in ("booked", "confirmed")]
        words = ("booked 41 days ahead", "missed 2 of 4 earlier visits", "on a Monday")
        no_show_scores.record_scores(
            app.uow(),
            SYSTEM,
            [
                NoShowScore(
                    r.appointment_id,
                    _probability(rng, i % 3 == 0),
                    words[: 1 + i % 3],
                    "test-model",
                    datetime.now(UTC),
                )
                for i, r in enumerate(scored)
            ],
        )
    finally:
        app.close()
    _past_scores(settings, clinic_id, rng)
    _step("core")
    extract_load(settings)
    _step("extract_load")
    if dbt_tests:
        build_warehouse(settings)
    else:
        _models_only(settings)
    _step("dbt build")
    forecast(settings)
    _step("forecast")
    return Practice(data_dir=data_dir, settings=settings, clinic_id=clinic_id, today=today)


def _past_scores(settings: Settings, clinic_id: int, rng: np.random.Generator) -> None:
    """Scores of decided visits in ml.no_show_scores, as if the model had scored them the day
    before, so the manager's model-health figures have outcomes to compare with."""
    app = bootstrap.connect(settings)
    try:
        end = datetime.now(UTC)
        rows = queries.clinic_schedule(
            app.uow(), SYSTEM, clinic_id=clinic_id, start_at=end - timedelta(days=200), end_at=end
        )
    finally:
        app.close()
    past = [r for r in rows if r.status in ("completed", "no_show")]
    probability = [_probability(rng, r.status == "no_show") for r in past]
    table = pd.DataFrame(
        {
            "appointment_id": pd.Series([r.appointment_id for r in past], dtype="int64"),
            "clinic_id": pd.Series([clinic_id] * len(past), dtype="int64"),
            "appointment_date": [r.start_at.date() for r in past],
            "start_at": pd.to_datetime([r.start_at for r in past], utc=True),
            "probability": probability,
            "risk_band": [
                "high" if p >= 0.3 else "medium" if p >= 0.15 else "low" for p in probability
            ],
            "factors": [["on a Monday"]] * len(past),
            "model_version": "test-model",
            "scored_at": datetime.now(UTC),
        }
    )
    write_scores(settings.warehouse_path, table)


def _models_only(settings: Settings) -> None:
    command = dbt_command(
        settings,
        "build",
        "--select",
        *[f"+{model}" for model in DASHBOARD_MARTS],
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    )
    done = subprocess.run(command, env=dbt_environment(settings), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"dbt build failed:\n{done.stdout[-3000:]}")


_began = [time.perf_counter()]


def _step(name: str) -> None:
    now = time.perf_counter()
    print(f"dashboard practice: {name} {now - _began[0]:.1f} s", file=sys.stderr, flush=True)
    _began[0] = now


if __name__ == "__main__":  # python -m tests.dashboards.practice DIR: build one to look at
    began = time.perf_counter()
    built = build(Path(sys.argv[1]))
    print(built, f"{time.perf_counter() - began:.1f} s", os.getloadavg())
