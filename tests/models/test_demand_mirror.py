"""A mirror of `marts.ml_daily_demand` built from the simulator's arrays (no database, no dbt),
with the simulator's true intensity beside it, for the demand tests: fast, and with a known truth.

Same grain and columns as the mart: one row per clinic x clinic-local day x category, zeros
included, `requested_appointments` = appointments *booked* that day (whatever became of them).
Where it simplifies: the category is the visit type's (the mart takes the highest-fee
procedure's), clinic ids are 1..n, and the days run from the first simulated day to the day
before "today". `test_demand_pipeline.py` checks it against the real mart of the same world.

`requested_series` is the other series the simulator knows: the realised requests per day the
visit was *wanted for*, whose expected value is the intensity; only there is the intensity the
best possible forecast (the mart counts bookings, spread over the days before the visit).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np
import pandas as pd

from simulator import visit_types as vt
from simulator.generate import PRIMARY, World, generate
from simulator.params import CATEGORIES, SimulationParams

TODAY = date(2026, 6, 30)
#: one clinic, a little over two years: yearly seasonality switches on, fits stay ~1 s
ONE_CLINIC = SimulationParams(clinics=1, years=2.1, patients=2500, seed=3, today=TODAY)


@functools.cache
def world_of() -> World:
    """The one-clinic world, generated once per session (about a second)."""
    return generate(ONE_CLINIC)


def _history_dates(world: World) -> pd.DatetimeIndex:
    return pd.date_range(world.timeline.first_day, periods=world.timeline.today_index, freq="D")


def _per_day(world: World, day: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Counts [clinic, history day, category] of the appointments in `keep` on `day`."""
    a, tl = world.appointments, world.timeline
    keep = keep & (day >= 0) & (day < tl.today_index)
    counts = np.zeros((world.params.clinics, tl.today_index, len(CATEGORIES)))
    np.add.at(counts, (a.clinic[keep], day[keep], a.category[keep]), 1)
    return counts


def intensity_by_category(world: World) -> np.ndarray:
    """The true intensity [clinic, history day, category]."""
    lam = world.intensity[:, : world.timeline.today_index, :]
    result = np.zeros((lam.shape[0], lam.shape[1], len(CATEGORIES)))
    for t, category in enumerate(vt.CATEGORY.tolist()):
        result[:, :, category] += lam[:, :, t]
    return result


def mart_frame(world: World) -> pd.DataFrame:
    """The rows `ml_daily_demand` would hold for this world, with the true `intensity`."""
    a, tl = world.appointments, world.timeline
    booked = _per_day(world, tl.day_of(a.booked), np.ones(len(a), dtype=bool))
    cancelled = _per_day(world, tl.day_of(a.booked), a.cancelled_at >= 0)
    truth = intensity_by_category(world)
    c, d, k = (x.ravel() for x in np.meshgrid(*map(np.arange, booked.shape), indexing="ij"))
    dates = _history_dates(world)
    return pd.DataFrame(
        {
            "clinic_id": c + 1,
            "date_day": dates[d].date,
            "category": np.asarray(CATEGORIES)[k],
            "weekday": tl.weekday[d],
            "is_open": tl.is_open[d],
            "is_public_holiday": tl.is_holiday[d],
            "requested_appointments": booked.ravel().astype(np.int64),
            "later_cancelled": cancelled.ravel().astype(np.int64),
            "intensity": truth.ravel(),
        }
    )


def series_of(frame: pd.DataFrame, *, clinic_id: int, category: str) -> pd.DataFrame:
    """One clinic x category of a mart frame as the library's daily series."""
    rows = frame[(frame["clinic_id"] == clinic_id) & (frame["category"] == category)]
    return pd.DataFrame(
        {"date": pd.to_datetime(rows["date_day"]), "value": rows["requested_appointments"]}
    ).reset_index(drop=True)


def requested_series(
    world: World, *, clinic: int, category: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(realised requests per wanted day, the true intensity) for one clinic x category."""
    a = world.appointments
    k = CATEGORIES.index(category)
    counts = _per_day(world, a.requested_day, a.kind == PRIMARY)[clinic, :, k]
    dates = _history_dates(world)
    truth = intensity_by_category(world)[clinic, :, k]
    return (
        pd.DataFrame({"date": dates, "value": counts}),
        pd.DataFrame({"date": dates, "value": truth}),
    )


def test_the_mirror_has_one_row_per_clinic_day_and_category_zeros_included():
    world = world_of()
    frame = mart_frame(world)
    days = world.timeline.today_index
    assert len(frame) == world.params.clinics * days * len(CATEGORIES)
    assert not frame.duplicated(["clinic_id", "date_day", "category"]).any()
    assert (frame["requested_appointments"] == 0).any()
    assert frame["date_day"].max() == TODAY - timedelta(days=1)


def test_the_mirror_counts_every_booking_made_in_the_history_once():
    world = world_of()
    a, tl = world.appointments, world.timeline
    day = tl.day_of(a.booked)
    inside = int(((day >= 0) & (day < tl.today_index)).sum())
    frame = mart_frame(world)
    assert frame["requested_appointments"].sum() == inside
    assert (frame["later_cancelled"] <= frame["requested_appointments"]).all()


def test_requested_series_follows_the_intensity_on_average():
    series, truth = requested_series(world_of(), clinic=0, category="hygiene")
    assert series["value"].sum() == np.round(series["value"].sum())
    ratio = series["value"].sum() / truth["value"].sum()
    assert 0.9 < ratio < 1.1  # Poisson draws of the intensity (a few dropped in clashes)
    closed = truth["value"] == 0
    assert (series.loc[closed, "value"] == 0).all()
