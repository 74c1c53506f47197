"""Dashboard data loading: each page's loader, timed many times on a large practice.

    python bench/dashboard.py --appointments 1000000
    python bench/dashboard.py --appointments 100000 --repeat 50

Builds under DENTOPS_DATA_DIR (reused when it already holds a practice and its warehouse; a
fresh temporary folder, removed afterwards, when unset): a practice of about `--appointments`
appointments from `simulator.run.simulate` (clinics from `simulator.sizing.sized_for`, as in
bench/pipeline.py), `extract_load` and `dbt build`. So that the manager page reads full-size
model tables, no-show scores for every decided appointment and a 90-day forecast per clinic and
category are written in the shapes of ml.no_show_scores and ml.demand_forecasts (values made
up here, in SQL: this measures reading, not the models), then the model-health marts rebuilt.

Then times, `--repeat` times each after one untimed warm-up, the loader behind each page for
the first clinic, as the page calls it:
- manager: `dashboards.loaders.manager.load_manager` (KPIs of 28 days and the 28 before, weekly
  trends, AR ageing, demand against forecast, model health; read-only DuckDB);
- scheduler: `dashboards.loaders.scheduler.load_scheduler` (the week's schedule, pending
  suggestions, open requests, patient names: audited reads of the core);
- front_desk: `dashboards.loaders.front_desk.load_front_desk` (three days with risk bands).

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from core_app.config import Settings
from core_app.service_layer import bootstrap, users
from dashboards.loaders.core import clinics
from dashboards.loaders.front_desk import load_front_desk
from dashboards.loaders.manager import Filters, load_manager
from dashboards.loaders.scheduler import load_scheduler, monday_of
from pipelines.extract_load import extract_load
from pipelines.offline import apply_offline_defaults
from pipelines.transform import build_warehouse
from simulator.run import simulate
from simulator.sizing import sized_for

ADMIN = "simulator"
ADMIN_PASSWORD = "bench-dashboard-password"  # noqa: S105 - a throwaway practice


def log(message: str) -> None:
    print(f"dashboard-bench: {message}", file=sys.stderr, flush=True)


def _model_tables(warehouse: Path) -> None:
    """ml.no_show_scores for every decided appointment and ml.demand_forecasts for 90 days."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.execute(
            "CREATE OR REPLACE TABLE ml.no_show_scores AS SELECT appointment_id, clinic_id, "
            "appointment_date, start_at::TIMESTAMPTZ AS start_at, "
            "least(0.99, (CASE WHEN is_no_show THEN 0.3 ELSE 0.1 END) + random() * 0.3) "
            "AS probability, 'low' AS risk_band, ['on a Monday'] AS factors, "
            "'bench' AS model_version, now() AS scored_at FROM marts.fct_appointments "
            "WHERE is_completed OR is_no_show"
        )
        con.execute(
            "UPDATE ml.no_show_scores SET risk_band = CASE WHEN probability >= 0.3 THEN 'high' "
            "WHEN probability >= 0.15 THEN 'medium' ELSE 'low' END"
        )
        con.execute(
            "CREATE OR REPLACE TABLE ml.demand_forecasts AS WITH last AS (SELECT clinic_id, "
            "category, max(date_day) AS as_of_date, avg(requested_appointments) AS level "
            "FROM marts.ml_daily_demand GROUP BY ALL) "
            "SELECT (as_of_date + to_days(CAST(h AS INTEGER)))::DATE AS date_day, "
            "level AS yhat, level * 0.5 AS yhat_lower, level * 1.6 AS yhat_upper, clinic_id, "
            "category, as_of_date FROM last, range(1, 91) AS t(h)"
        )


def _build(settings: Settings, args: argparse.Namespace, today: date) -> None:
    params = sized_for(
        args.appointments,
        years=args.years,
        patients_per_clinic=args.patients_per_clinic,
        seed=args.seed,
        today=today,
    ).params
    log(f"simulating {params.clinics} clinics")
    simulate(params, settings, admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    log("extract_load")
    extract_load(settings)
    log("dbt build")
    build_warehouse(settings)


def _p95_ms(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    call()  # warm-up: imports, caches, the first DuckDB/SQLite pages
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return {
        "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1),
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--patients-per-clinic", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", default="2026-06-30")
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per page")
    args = parser.parse_args(argv)
    today = date.fromisoformat(args.today)
    given = os.environ.get("DENTOPS_DATA_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="dentops-bench-dashboard-"))
    apply_offline_defaults(folder)
    settings = Settings(data_dir=folder)
    load_before = os.getloadavg()
    try:
        if settings.warehouse_path.exists() and settings.key_file.exists():
            log(f"reusing the practice in {folder}")
        else:
            _build(settings, args, today)
        _model_tables(settings.warehouse_path)
        log("dbt build of the model-health marts")
        build_warehouse(settings, select="ml_no_show_outcomes+")
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            counted = con.execute("SELECT count(*) FROM marts.fct_appointments").fetchone()
        appointments = int(counted[0]) if counted else 0
        app = bootstrap.connect(settings)
        try:
            actor = users.actor_for(app.uow(), ADMIN)
            clinic = clinics(app, actor)[0]
            filters = Filters(
                clinic_id=clinic.clinic_id, first=today - timedelta(days=28), last=today
            )
            pages = {
                "manager": lambda: load_manager(settings.warehouse_path, filters),
                "scheduler": lambda: load_scheduler(app, actor, clinic, monday_of(today)),
                "front_desk": lambda: load_front_desk(app, actor, clinic, today),
            }
            timings = {}
            for name, call in pages.items():
                timings[name] = _p95_ms(call, args.repeat)
                log(f"{name}: {timings[name]}")
            clinic_count = len(clinics(app, actor))
        finally:
            app.close()
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)
    result = {
        "pages": timings,
        "appointments": appointments,
        "clinics": clinic_count,
        "repeat": args.repeat,
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
