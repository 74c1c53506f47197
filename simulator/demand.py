"""Daily demand intensity per clinic x day x visit type, and the requests drawn from it.

    intensity[c, d, t] = patients[c] * (1 + trend * years since start) * rate[t]
                         * weekday[t, weekday(d)] * yearly(d) * holiday(d) / normaliser[t]

`rate[t]` is visits per patient per year (`visit_types.py`; recall and new-patient rates come
from the recall and new-patient processes). The normaliser makes the weekly and yearly factors
average to one over the horizon, so a year brings about `patients * rate` requests less what
falls on public holidays. The number of requests for a day is Poisson with this intensity; the
intensity (summed per procedure category) is the truth that a demand forecast is scored against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import visit_types as vt
from simulator.params import SimulationParams
from simulator.timeline import FloatArray, IntArray, Timeline


@dataclass(frozen=True)
class Requests:
    """Requested visits: the day each is wanted for, by clinic and visit type."""

    clinic: IntArray
    day: IntArray
    vtype: IntArray


def type_rates(params: SimulationParams) -> FloatArray:
    d = params.demand
    visits_a_year = 365.25 * (
        (1 - d.perio_share) / d.recall_interval_days + d.perio_share / d.perio_interval_days
    )
    rates = vt.RATE.copy()
    rates[vt.RECALL] = d.recall_share * visits_a_year * d.recall_compliance
    rates[vt.NEW_PATIENT] = d.new_patient_rate
    return rates


def yearly_factor(params: SimulationParams, timeline: Timeline) -> FloatArray:
    d = params.demand
    doy = timeline.day_of_year.astype(np.float64)
    cycle = d.yearly_amplitude * np.cos(2 * np.pi * (doy - d.yearly_peak_doy) / 365.25)
    cycle += d.half_year_amplitude * np.cos(4 * np.pi * (doy - d.half_year_peak_doy) / 365.25)
    factor = np.exp(cycle)
    year_end = (doy >= 354) | (doy <= 2)
    summer = (doy >= 182) & (doy <= 243)
    result: FloatArray = factor * np.where(year_end, d.year_end_factor, 1.0)
    result = result * np.where(summer, d.summer_factor, 1.0)
    return result


def holiday_factor(params: SimulationParams, timeline: Timeline) -> FloatArray:
    """Zero on closed days; the bridge factor on open days next to a public holiday."""
    holiday = timeline.is_holiday
    next_to = np.zeros_like(holiday)
    next_to[1:] |= holiday[:-1]
    next_to[:-1] |= holiday[1:]
    factor = np.where(next_to & ~holiday, params.demand.bridge_day_factor, 1.0)
    result: FloatArray = factor * timeline.is_open
    return result


def weekday_weights(params: SimulationParams) -> FloatArray:
    """[type, weekday] relative demand."""
    weights = np.tile(np.asarray(params.demand.weekday_weight, dtype=np.float64), (vt.N_TYPES, 1))
    emergency = np.array([t.category == "emergency" for t in vt.VISIT_TYPES])
    weights[emergency, 0] *= params.demand.emergency_monday_boost
    return weights


def intensity(params: SimulationParams, timeline: Timeline, patients: IntArray) -> FloatArray:
    """Expected requests [clinic, day, type]; `patients[c]` is clinic c's starting population."""
    weekly = weekday_weights(params)[:, timeline.weekday]  # [type, day]
    yearly = yearly_factor(params, timeline)
    normaliser = (weekly * yearly).mean(axis=1)  # [type]
    shape = weekly * yearly * holiday_factor(params, timeline) / normaliser[:, None]
    years = np.arange(timeline.n_days) / 365.25
    growth = 1 + params.demand.trend_per_year * years
    per_day = type_rates(params)[:, None] * shape * growth / 365.25  # [type, day]
    result: FloatArray = patients[:, None, None] * per_day.T[None, :, :]
    return result


def draw_requests(rng: np.random.Generator, lam: FloatArray) -> Requests:
    counts = rng.poisson(lam)
    clinic, day, vtype = np.nonzero(counts)
    repeat = counts[clinic, day, vtype]
    return Requests(
        clinic=np.repeat(clinic, repeat).astype(np.int64),
        day=np.repeat(day, repeat).astype(np.int64),
        vtype=np.repeat(vtype, repeat).astype(np.int64),
    )
