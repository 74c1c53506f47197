"""Shared fixtures of the model tests.

`no_show_frame` mirrors `marts.ml_no_show_features` (same columns, same meaning) but is built
straight from the simulator's arrays (`simulator.generate.generate`, no database, no dbt), with
the simulator's true probability beside each row: fast enough for a test session, and with a
known truth. The end-to-end test through the real warehouse is `test_no_show_pipeline.py`.
Where the mirror simplifies: the primary category is the visit type's category, the balance at
the cut-off is the simulator's "balance owed" flag times a fixed amount, every booking came
from an import, and the age band is taken on the simulation's "today" (as the mart takes it on
the extraction day).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.no_show.evaluate import Evaluation, train_and_evaluate
from models.no_show.train import BoostingParams
from simulator import future
from simulator.generate import CODE_SETS, World, generate
from simulator.params import CATEGORIES, SimulationParams
from simulator.population import CONTACTS, SEXES, age_on

DAY = 86_400
TODAY = date(2026, 6, 30)
#: 2 clinics, 2 years: about 15 000 appointments, 12 000 of them labelled
SMALL_GROUP = SimulationParams(
    clinics=2, years=2.0, patients=2400, seed=11, today=TODAY, future_weeks=3
)
#: few boosting rounds: the tests check behaviour, not the last point of AUC
TEST_BOOSTING = BoostingParams(n_estimators=120, learning_rate=0.1, n_jobs=1, seed=5)
AGE_BANDS = ((0, "0-17"), (18, "18-34"), (35, "35-49"), (50, "50-64"), (65, "65+"))


def _count_before(
    patient: np.ndarray, times: np.ndarray, q_patient: np.ndarray, q_time: np.ndarray
) -> np.ndarray:
    """For each query, how many (patient, time) events of that patient lie strictly before."""
    big = np.int64(2**33)
    keys = np.sort(patient[times >= 0].astype(np.int64) * big + times[times >= 0])
    upto = np.searchsorted(keys, q_patient.astype(np.int64) * big + q_time, side="left")
    start = np.searchsorted(keys, q_patient.astype(np.int64) * big, side="left")
    counts: np.ndarray = upto - start
    return counts


def _age_band(age: np.ndarray) -> np.ndarray:
    bands = np.array([label for _, label in AGE_BANDS], dtype=object)
    edges = np.array([low for low, _ in AGE_BANDS[1:]])
    return bands[np.searchsorted(edges, age, side="right")]


def mart_frame(world: World) -> pd.DataFrame:
    """The rows `ml_no_show_features` would hold for this world, plus the true probability."""
    a, pop, tl = world.appointments, world.population, world.timeline
    day = tl.day_of(a.start)
    cut_off = np.maximum(a.start - DAY, a.booked)
    status = np.asarray(future.STATUSES, dtype=object)[a.status]
    completed = np.where(status == "completed", a.completed_at, -1)
    late = (a.cancelled_at >= 0) & (a.start - a.cancelled_at < DAY)
    counts = {
        name: _count_before(a.patient, times, a.patient, cut_off)
        - ((times >= 0) & (times < cut_off))  # the patient's *other* appointments
        for name, times in (
            ("prior_visits", completed),
            ("prior_no_shows", a.no_show_at),
            ("prior_cancellations", a.cancelled_at),
            ("prior_late_cancels", np.where(late, a.cancelled_at, -1)),
        )
    }
    dates = pd.to_datetime([tl.first_day + timedelta(days=int(d)) for d in range(tl.n_days)])
    appointment_date = dates[day]
    decided = np.isin(status, ["completed", "no_show"])
    frame = pd.DataFrame(
        {
            "appointment_id": np.arange(1, len(a) + 1),
            "clinic_id": a.clinic + 1,
            "patient_key": [f"p{i}" for i in a.patient],
            "provider_id": a.provider + 1,
            "start_at": pd.to_datetime(a.start, unit="s", utc=True),
            "cut_off_at": pd.to_datetime(cut_off, unit="s", utc=True),
            "appointment_date": appointment_date.date,
            "lead_time_days": (a.start - a.booked) / DAY,
            "weekday": tl.weekday[day],
            "start_hour": (a.start - tl.midnight[day]) // 3600,
            "month": appointment_date.month,
            "primary_category": np.asarray(CATEGORIES, dtype=object)[a.category],
            "procedure_count": np.array([len(CODE_SETS[c]) for c in a.code_set]),
            "scheduled_minutes": (a.end - a.start) // 60,
            "scheduled_fee_cents": a.fee,
            "provider_kind": np.where(
                world.staffing.provider_is_hygienist[a.provider], "hygienist", "dentist"
            ),
            "booking_source": "import",
            "is_confirmed_at_cut_off": (a.confirmed_at >= 0) & (a.confirmed_at < cut_off),
            "age_band": _age_band(age_on(pop, a.patient, np.full(len(a), TODAY.toordinal()))),
            "sex": np.asarray(SEXES, dtype=object)[pop.sex[a.patient]],
            "distance_km": pop.distance_km[a.patient],
            "has_insurance": pop.insured[a.patient],
            "contact_preference": np.asarray(CONTACTS, dtype=object)[pop.contact[a.patient]],
            "prior_appointments": counts["prior_visits"]
            + counts["prior_no_shows"]
            + counts["prior_cancellations"],
            **counts,
            "balance_cents_at_cut_off": np.where(a.balance_owed, 8_000, 0),
            "has_balance_owed": a.balance_owed,
            "is_labelled": decided,
            "is_no_show": pd.array(np.where(decided, status == "no_show", False), dtype="boolean"),
            "true_no_show_probability": a.no_show_probability,
            "status": status,
        }
    )
    frame.loc[~decided, "is_no_show"] = pd.NA
    return frame


@pytest.fixture(scope="session")
def simulated_world() -> World:
    return generate(SMALL_GROUP)


@pytest.fixture(scope="session")
def no_show_frame(simulated_world: World) -> pd.DataFrame:
    """A mirror of marts.ml_no_show_features for a small simulated group (read-only: copy it
    before changing anything)."""
    return mart_frame(simulated_world)


@pytest.fixture(scope="session")
def no_show_evaluation(no_show_frame: pd.DataFrame) -> Evaluation:
    """The model trained, calibrated and evaluated on the mirror frame (few rounds)."""
    return train_and_evaluate(no_show_frame, params=TEST_BOOSTING)
