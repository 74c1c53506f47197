"""Ground truth: what the generative process knew and no operational table holds.

Written to a folder of parquet files (`--truth-out`), never into the database:
- `appointments.parquet`: per stored appointment (by `appointment_id`), the true no-show
  probability it was drawn with and the inputs of the model (lead days, earlier no-shows,
  reminders received, balance owed), plus its origin (`primary`, `refill` of a cancelled slot,
  `moved_from`: the slot a rescheduled visit left);
- `daily_demand.parquet`: per clinic x day x procedure category, the expected number of
  requested visits (the intensity the requests were drawn from), whether the clinic was open
  and the public holiday, if any;
- `patients.parquet`: per stored patient, the latent no-show propensity, home area (the schema
  has no column for it yet) and recall interval.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulator import future, generate
from simulator import visit_types as vt
from simulator.generate import World
from simulator.loader import Stored
from simulator.params import CATEGORIES
from simulator.timeline import IntArray


def labels(codes: IntArray, names: tuple[str, ...] | list[str]) -> pa.Array[Any]:
    """A string column from integer codes (dictionary-encoded: no Python loop per row)."""
    return pa.DictionaryArray.from_arrays(
        codes.astype(np.int32), pa.array(list(names), type=pa.string())
    )


def utc_times(epochs: IntArray) -> pa.Array[Any]:
    return pa.array(epochs, type=pa.timestamp("s", tz="UTC"))


def dates(world: World, day_index: IntArray) -> pa.Array[Any]:
    first = (world.timeline.first_day - date(1970, 1, 1)).days
    return pa.array((first + day_index).astype(np.int32), type=pa.date32())


def appointments_table(world: World, stored: Stored, clinic_ids: list[int]) -> pa.Table:
    a = world.appointments
    future_rows = a.start >= world.timeline.now
    columns: dict[str, Any] = {
        "appointment_id": stored.appointment_ids,
        "clinic_id": np.asarray(clinic_ids)[a.clinic],
        "patient_id": stored.patient_ids[a.patient],
        "start_at": utc_times(a.start),
        "status": labels(a.status, future.STATUSES),
        "origin": labels(a.kind, generate.KINDS),
        "visit_type": labels(a.vtype, [t.name for t in vt.VISIT_TYPES]),
        "category": labels(a.category, CATEGORIES),
        "true_no_show_probability": a.no_show_probability,
        "lead_days": (a.start - a.booked) / 86_400,
        "prior_no_shows": a.prior_no_shows,
        "reminders": a.reminders,
        "balance_owed": a.balance_owed,
        "is_future": future_rows,
    }
    return pa.table(columns)


def demand_table(world: World, clinic_ids: list[int]) -> pa.Table:
    lam = world.intensity  # [clinic, day, type]
    by_category = np.zeros((lam.shape[0], lam.shape[1], len(CATEGORIES)))
    for t, category in enumerate(vt.CATEGORY.tolist()):
        by_category[:, :, category] += lam[:, :, t]
    grid = np.meshgrid(
        np.arange(lam.shape[0]), np.arange(lam.shape[1]), np.arange(len(CATEGORIES)), indexing="ij"
    )
    clinic, day, category = (axis.ravel().astype(np.int64) for axis in grid)
    names = world.timeline.holiday_names
    holiday = pa.array([names.get(d) for d in range(lam.shape[1])], type=pa.string())
    columns: dict[str, Any] = {
        "clinic_id": np.asarray(clinic_ids)[clinic],
        "date": dates(world, day),
        "category": labels(category, CATEGORIES),
        "intensity": by_category.ravel(),
        "is_open": world.timeline.is_open[day],
        "public_holiday": holiday.take(day),
        "is_future": day >= world.timeline.today_index,
    }
    return pa.table(columns)


def patients_table(world: World, stored: Stored, clinic_ids: list[int]) -> pa.Table:
    pop = world.population
    rows = np.flatnonzero(world.registered)
    areas = world.params.population.areas
    columns: dict[str, Any] = {
        "patient_id": stored.patient_ids[rows],
        "clinic_id": np.asarray(clinic_ids)[pop.clinic[rows]],
        "latent_no_show_propensity": pop.latent[rows],
        "area": labels(pop.area[rows], areas),
        "recall_interval_days": pop.recall_interval[rows],
    }
    return pa.table(columns)


def write_truth(world: World, stored: Stored, clinic_ids: list[int], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(appointments_table(world, stored, clinic_ids), folder / "appointments.parquet")
    pq.write_table(demand_table(world, clinic_ids), folder / "daily_demand.parquet")
    pq.write_table(patients_table(world, stored, clinic_ids), folder / "patients.parquet")


def write_requests(world: World, stored: Stored, clinic_ids: list[int], path: Path) -> None:
    """The open requests (an operational output until the core has a requests table)."""
    r = world.requests
    patient = np.where(r.patient >= 0, stored.patient_ids[np.maximum(r.patient, 0)], -1)
    appointment = np.where(
        r.appointment >= 0, stored.appointment_ids[np.maximum(r.appointment, 0)], -1
    )
    codes = [",".join(generate.CODE_SETS[t]) for t in r.vtype.tolist()]
    columns: dict[str, Any] = {
        "request_id": np.arange(1, len(r) + 1),
        "kind": labels(r.kind, future.REQUEST_KINDS),
        "clinic_id": np.asarray(clinic_ids)[r.clinic],
        "patient_id": pa.array(patient, mask=patient < 0),
        "procedure_codes": pa.array(codes),
        "duration_min": vt.MINUTES[r.vtype],
        "earliest_date": dates(world, r.earliest_day),
        "latest_date": dates(world, r.latest_day),
        "appointment_id": pa.array(appointment, mask=appointment < 0),
        "created_at": utc_times(np.full(len(r), world.timeline.now - 60, dtype=np.int64)),
    }
    table = pa.table(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
