"""Warehouse pipeline speed: a full build, an incremental run after a day of activity, a KPI query.

    python bench/pipeline.py --appointments 1000000
    python bench/pipeline.py --appointments 100000 --years 1

Builds under DENTOPS_DATA_DIR (a fresh temporary folder, removed afterwards, when unset): a
practice history of about `--appointments` appointments from `simulator.run.simulate` (a small
pilot decides how many clinics, as in bench/simulate.py), then times

1. the full build: `extract_load --full-refresh` of every table into a new warehouse, then
   `dbt build --full-refresh` (seeds, every model from scratch, every data and unit test) — the
   two steps of the nightly flow, called directly, so Prefect's own start-up (about 12-20 s for
   a new process) is not in the figure;
2. a day of activity through the core's services (check-in, complete, pay, confirm, cancel,
   book into the freed slots: a few hundred changes), untimed;
3. the incremental run: `extract_load` of the changes, then `dbt build` (incremental models
   recompute what the changes touch; the data tests of the models it builds);
4. the KPI query behind `dentops kpi` (`pipelines.kpi.period_kpis`, in-process, a quarter):
   the first call and the median of five.

`--practice DIR` reuses a practice simulated earlier (DIR's `dentops.db` and `keys.json`, e.g.
the folder bench/dashboard.py builds, copied into the data folder, never changed in DIR) instead
of simulating one; its size then comes from its core, and `--appointments` only names it.

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from core_app.config import Settings
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import DomainError
from core_app.service_layer import appointments, billing, bootstrap, users
from pipelines.extract_load import extract_load
from pipelines.kpi import period_kpis
from pipelines.offline import apply_offline_defaults
from pipelines.transform import build_warehouse
from simulator.run import simulate
from simulator.sizing import sized_for

ADMIN = "simulator"
T = TypeVar("T")


def log(message: str) -> None:
    print(f"pipeline-bench: {message}", file=sys.stderr, flush=True)


#: CPU seconds of each step timed so far (this process and the subprocesses it waited for)
CPU: dict[str, float] = {}
#: the 1-minute load average as each step began
LOAD: dict[str, float] = {}


def cpu_seconds() -> float:
    """User and system CPU time of this process and its finished children (a dbt build's child
    is the dbt forkserver's: `timed` adds its CPU from the build's result; the forkserver's
    one-off start, about 2-3 s of CPU, is in no step's figure)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(what: str, step: Callable[[], T]) -> tuple[T, float]:
    LOAD[what] = os.getloadavg()[0]
    began, began_cpu = time.perf_counter(), cpu_seconds()
    result = step()
    seconds = time.perf_counter() - began
    CPU[what] = cpu_seconds() - began_cpu + float(getattr(result, "dbt_cpu_seconds", 0.0))
    log(f"{what}: {seconds:.2f} s (CPU {CPU[what]:.2f} s, load {os.getloadavg()[0]:.1f})")
    return result, seconds


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rows(settings: Settings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as con:
        return list(con.execute(sql, args))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def day_of_activity(settings: Settings, *, today: date, timezone: str, size: int) -> int:
    """One day at the front desks, through the core's services; returns how many changes.
    Today's visits that began by 16:00 (up to `size`) are checked in, completed and paid; the
    next `size // 2` booked appointments are confirmed, the `size // 4` after them cancelled
    and half of their slots booked again for the same patient's next visit type."""
    zone = ZoneInfo(timezone)
    start_of_day = datetime.combine(today, clock_time(0), zone).astimezone(UTC)
    afternoon = datetime.combine(today, clock_time(16), zone).astimezone(UTC)
    clock = Clock(afternoon)
    app = bootstrap.connect(settings, clock=clock)
    changes = 0
    try:
        admin = users.actor_for(app.uow(), ADMIN)
        visits = _rows(
            settings,
            "SELECT appointment_id, patient_id, start_at, end_at FROM appointments "
            "WHERE status IN ('booked', 'confirmed') AND start_at >= ? AND start_at < ? "
            "ORDER BY start_at LIMIT ?",
            _stamp(start_of_day),
            _stamp(afternoon),
            size,
        )
        for appointment_id, patient_id, start_at, end_at in visits:
            start = datetime.fromisoformat(start_at).replace(tzinfo=UTC)
            end = datetime.fromisoformat(end_at).replace(tzinfo=UTC)
            clock.now = start - timedelta(minutes=5)
            appointments.check_in_appointment(app.uow(), admin, appointment_id)
            clock.now = max(end, start + timedelta(minutes=1))
            appointments.complete_appointment(app.uow(), admin, appointment_id)
            owed = billing.patient_account(app.uow(), admin, patient_id).balance.balance_cents
            if owed > 0:
                billing.record_payment(
                    app.uow(),
                    admin,
                    patient_id=patient_id,
                    amount_cents=owed,
                    currency="USD",
                    method=PaymentMethod.CARD,
                    appointment_id=appointment_id,
                )
                changes += 1
            changes += 2
        clock.now = afternoon
        ahead = _rows(
            settings,
            "SELECT appointment_id, patient_id, provider_id, chair_id, start_at, end_at "
            "FROM appointments WHERE status = 'booked' AND start_at > ? ORDER BY start_at "
            "LIMIT ?",
            _stamp(afternoon + timedelta(days=1)),
            size // 2 + size // 4,
        )
        for appointment_id, *_ in ahead[: size // 2]:
            appointments.confirm_appointment(app.uow(), admin, appointment_id)
            changes += 1
        for n, (appointment_id, patient_id, provider_id, chair_id, start_at, end_at) in enumerate(
            ahead[size // 2 :]
        ):
            appointments.cancel_appointment(app.uow(), admin, appointment_id, reason="schedule")
            changes += 1
            if n % 2:
                continue
            codes = [
                str(code)
                for (code,) in _rows(
                    settings,
                    "SELECT code FROM appointment_procedures WHERE appointment_id = ?",
                    appointment_id,
                )
            ]
            try:  # the same patient takes the slot back (a changed mind)
                appointments.book_appointment(
                    app.uow(),
                    admin,
                    patient_id=patient_id,
                    provider_id=provider_id,
                    chair_id=chair_id,
                    start_at=datetime.fromisoformat(start_at).replace(tzinfo=UTC),
                    end_at=datetime.fromisoformat(end_at).replace(tzinfo=UTC),
                    procedure_codes=codes,
                )
                changes += 1
            except DomainError:
                pass
    finally:
        app.close()
    return changes


def reuse_practice(source: Path, settings: Settings) -> dict[str, Any]:
    """Copy a simulated practice's core and keys into the data folder (a consistent copy of the
    SQLite file, through its backup API); its size from the core."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "keys.json", settings.data_dir / "keys.json")
    target = settings.database_url.removeprefix("sqlite:///")
    log(f"copying the practice in {source}")
    with sqlite3.connect(source / "dentops.db") as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    (appointments,), (clinics,) = (
        _rows(settings, "SELECT count(*) FROM appointments")[0],
        _rows(settings, "SELECT count(*) FROM clinics")[0],
    )
    return {"appointments": appointments, "clinics": clinics}


def kpi_timings(warehouse: Path, *, today: date) -> tuple[float, float]:
    first_day = today - timedelta(days=90)

    def query() -> float:
        began = time.perf_counter()
        period_kpis(warehouse, clinic="1", first=first_day, last=today)
        return (time.perf_counter() - began) * 1000

    first = query()
    return first, statistics.median(query() for _ in range(5))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--patients-per-clinic", type=int, default=5000)
    parser.add_argument("--activity", type=int, default=200, help="visits completed that day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", default="2026-06-30")
    parser.add_argument(
        "--practice", type=Path, help="reuse this simulated practice (copied) instead of simulating"
    )
    args = parser.parse_args(argv)
    today = date.fromisoformat(args.today)

    params = sized_for(
        args.appointments,
        years=args.years,
        patients_per_clinic=args.patients_per_clinic,
        seed=args.seed,
        today=today,
    ).params
    clinics = params.clinics
    given = os.environ.get("DENTOPS_DATA_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="dentops-bench-pipeline-"))
    apply_offline_defaults(folder)
    settings = Settings(data_dir=folder)
    load_before = os.getloadavg()
    try:
        if args.practice:
            summary, simulate_s = reuse_practice(args.practice, settings), 0.0
            clinics = summary["clinics"]
        else:
            log(f"simulating {clinics} clinics")
            summary, simulate_s = timed("simulate", lambda: simulate(params, settings))
        loaded, extract_s = timed(
            "full extract_load", lambda: extract_load(settings, full_refresh=True)
        )
        built, dbt_s = timed("full dbt build", lambda: build_warehouse(settings, full_refresh=True))
        changes, _ = timed(
            "day of activity",
            lambda: day_of_activity(
                settings, today=today, timezone=params.timezone, size=args.activity
            ),
        )
        increment, inc_extract_s = timed("incremental extract_load", lambda: extract_load(settings))
        incremental, inc_dbt_s = timed("incremental dbt build", lambda: build_warehouse(settings))
        kpi_first_ms, kpi_ms = kpi_timings(settings.warehouse_path, today=today)
        warehouse_mb = settings.warehouse_path.stat().st_size / 1e6
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)
    result = {
        "appointments": summary["appointments"],
        "full_build_s": round(extract_s + dbt_s, 2),
        "incremental_s": round(inc_extract_s + inc_dbt_s, 2),
        "kpi_query_ms": round(kpi_ms, 1),
        "cpu_count": os.cpu_count(),
        "full_build_cpu_s": round(CPU["full extract_load"] + CPU["full dbt build"], 2),
        "incremental_cpu_s": round(
            CPU["incremental extract_load"] + CPU["incremental dbt build"], 2
        ),
        "incremental_dbt_build_cpu_s": round(CPU["incremental dbt build"], 2),
        "full_extract_s": round(extract_s, 2),
        "full_dbt_build_s": round(dbt_s, 2),
        "incremental_extract_s": round(inc_extract_s, 2),
        "incremental_dbt_build_s": round(inc_dbt_s, 2),
        "kpi_first_query_ms": round(kpi_first_ms, 1),
        "raw_rows": loaded.rows,
        "changes": changes,
        "incremental_rows": increment.rows,
        "dbt_nodes": built.nodes,
        "incremental_dbt_nodes": incremental.nodes,
        "warehouse_mb": round(warehouse_mb, 1),
        "simulate_s": round(simulate_s, 2),
        "clinics": clinics,
        "years": args.years,
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "load_1min_at_incremental": round(LOAD["incremental extract_load"], 1),
    }
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
