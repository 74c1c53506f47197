"""What happens on the day: when the patient arrives and how long the visit really takes.

The schema holds the arrival as `checked_in_at` and the actual end as `completed_at`; the
chair time starts at the later of the booked start and the arrival. Arrival is normal around
the start (minutes, most patients a little early); the actual duration is the booked one times
a log-normal factor with median 1 and a spread per procedure category. A no-show is marked
15-40 minutes after the start.
"""

from __future__ import annotations

import numpy as np

from simulator.params import CATEGORIES, DayParams
from simulator.timeline import IntArray

MINUTE = 60


def arrivals(rng: np.random.Generator, p: DayParams, start: IntArray, booked: IntArray) -> IntArray:
    offset = np.round(rng.normal(p.arrival_mean_min, p.arrival_sd_min, len(start)))
    arrival: IntArray = np.maximum(start + offset.astype(np.int64) * MINUTE, booked + MINUTE)
    return arrival


def completions(
    rng: np.random.Generator,
    p: DayParams,
    start: IntArray,
    end: IntArray,
    arrival: IntArray,
    category: IntArray,
) -> IntArray:
    spread = np.array([p.duration_sd[c] for c in CATEGORIES])[category]
    booked_min = (end - start) / MINUTE
    actual_min = np.maximum(5, np.round(booked_min * np.exp(rng.normal(0, 1, len(start)) * spread)))
    completed: IntArray = np.maximum(start, arrival) + actual_min.astype(np.int64) * MINUTE
    return completed


def no_show_marks(rng: np.random.Generator, p: DayParams, start: IntArray) -> IntArray:
    low, high = p.no_show_mark_after_min
    marks: IntArray = start + rng.integers(low, high + 1, len(start)) * MINUTE
    return marks
