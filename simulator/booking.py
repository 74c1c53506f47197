"""When visits are booked, and which bookings break: lead times, cancellations, reschedules.

- Lead time: same-day visit types are booked between 07:00 local and 30 minutes before the
  start; the others `median * exp(N(0, sd))` days ahead (half a day to a year). A share of
  recall visits is booked at the checkout of the patient's previous recall visit.
- Cancellation: logistic in log(1 + lead days) and the patient's latent propensity; the moment
  falls between booking and start, skewed towards the start (Beta). Less than 24 h before the
  start is a late cancellation (the core derives it).
- Reschedule: a kept visit may have been moved from the same weekday and time one or two weeks
  earlier: that original slot is a cancelled appointment ("rescheduled by patient") and the
  visit was booked when it was cancelled.
- Refill: a cancelled slot is booked again for another patient (the waitlist) with some
  probability, higher when the cancellation came 24 h or more ahead.
"""

from __future__ import annotations

import numpy as np

from simulator import visit_types as vt
from simulator.params import SimulationParams
from simulator.timeline import BoolArray, FloatArray, IntArray, Timeline

MINUTE = 60
DAY = 86_400
CANCEL_REASONS = ("patient request", "schedule conflict", "illness", "transport", "cost")
RESCHEDULED = "rescheduled by patient"


def lead_times(
    rng: np.random.Generator, timeline: Timeline, vtype: IntArray, start: IntArray
) -> IntArray:
    """Booking epochs (whole minutes) for visits of the given types and starts."""
    n = len(vtype)
    days = vt.LEAD_MEDIAN[vtype] * np.exp(rng.normal(0.0, 1.0, n) * vt.LEAD_SD[vtype])
    ahead_min = (np.clip(days, 0.5, 365.0) * 1440).astype(np.int64)
    day = timeline.day_of(start)
    minutes_since_seven = (start - timeline.midnight[day]) // MINUTE - 7 * 60
    same_day_min = 30 + (rng.random(n) * np.maximum(minutes_since_seven - 30, 1)).astype(np.int64)
    ahead_min = np.where(vt.SAME_DAY[vtype], same_day_min, ahead_min)
    booked: IntArray = start - ahead_min * MINUTE
    return booked


def sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


def lead_days(start: IntArray, booked: IntArray) -> FloatArray:
    result: FloatArray = (start - booked) / DAY
    return result


def draw_cancellations(
    rng: np.random.Generator,
    params: SimulationParams,
    start: IntArray,
    booked: IntArray,
    latent: FloatArray,
) -> IntArray:
    """The cancellation epoch of each visit, or -1 when it is kept."""
    b = params.booking
    logit = b.cancel_intercept + b.cancel_lead * np.log1p(lead_days(start, booked))
    logit = logit + b.cancel_latent * latent
    window = start - booked
    cancelled = (rng.random(len(start)) < sigmoid(logit)) & (window >= 10 * MINUTE)
    share = rng.beta(*b.cancel_timing_beta, len(start))
    at = booked + (share * (window - 5 * MINUTE)).astype(np.int64) // MINUTE * MINUTE
    return np.where(cancelled, at, -1)


def reschedule_origins(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    start: IntArray,
    booked: IntArray,
    day: IntArray,
    eligible: BoolArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Visits that were moved here: (visit index, original start, original day, new booking).

    The original slot lies one or two weeks earlier on the same weekday and local time, on an
    open day, at least a day after the first booking; it was cancelled between the first
    booking and an hour before its start, and the visit was booked at that moment.
    """
    lead = start - booked
    weeks = np.where(rng.random(len(start)) < 0.5, 1, 2)
    weeks = np.where(lead > (14 + 1) * DAY, weeks, 1)
    origin_day = day - 7 * weeks
    ok = (
        eligible
        & (rng.random(len(start)) < params.booking.reschedule_share)
        & (lead > (7 * weeks + 1) * DAY)
        & (origin_day >= 0)
    )
    visit = np.flatnonzero(ok)
    origin_day = origin_day[visit]
    keep = timeline.is_open[origin_day]
    visit, origin_day = visit[keep], origin_day[keep]
    local = start[visit] - timeline.midnight[day[visit]]
    origin_start = timeline.midnight[origin_day] + local
    window = origin_start - 3600 - booked[visit]
    moved_at = booked[visit] + (rng.random(len(visit)) * window).astype(np.int64) // 60 * 60
    keep = window > 0
    return visit[keep], origin_start[keep], origin_day[keep], moved_at[keep]


def refill_times(
    rng: np.random.Generator,
    params: SimulationParams,
    start: IntArray,
    cancelled_at: IntArray,
) -> tuple[IntArray, IntArray]:
    """Cancelled visits whose slot is booked again: (visit index, booking epoch)."""
    notice = start - cancelled_at
    rate = np.where(
        notice >= DAY, params.booking.refill_early_rate, params.booking.refill_late_rate
    )
    visit = np.flatnonzero((rng.random(len(start)) < rate) & (notice >= 40 * MINUTE))
    delay_cap = np.minimum(2 * DAY, notice[visit] // 2)
    delay = 5 * MINUTE + (rng.random(len(visit)) * (delay_cap - 5 * MINUTE)).astype(np.int64)
    return visit, (cancelled_at[visit] + delay) // MINUTE * MINUTE
