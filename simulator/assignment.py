"""Which patient each visit is for.

- Recall visits go to the patients whose recall falls due, in order: per clinic, the due dates
  of all recall patients (every `interval` days from a random phase, jittered, each kept with
  the compliance probability) are sorted and matched in rank order to the recall visits
  sorted by start, so each recall patient comes back about every six (or three) months.
- A new-patient examination is the first visit of a patient who registers when booking it.
- Every other visit goes to a patient of the clinic drawn at random among those registered at
  booking time who have not left.
- No patient holds two overlapping active appointments: clashes are redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.params import SimulationParams
from simulator.population import Population
from simulator.timeline import BoolArray, IntArray, Timeline

_BIG = np.int64(1) << np.int64(40)  # above any epoch: (clinic, epoch) in one sortable key


@dataclass(frozen=True)
class DueRecalls:
    patient: IntArray
    day: IntArray  # day index the recall falls due
    visit: IntArray  # matched visit index, or -1


class PatientPicker:
    """Draws a random registered, not-yet-left patient of a clinic at a moment."""

    def __init__(self, pop: Population, timeline: Timeline) -> None:
        self.pop = pop
        self.timeline = timeline
        key = pop.clinic * _BIG + pop.join_epoch
        self.order = np.argsort(key, kind="stable")
        self.sorted_key = key[self.order]
        counts = np.bincount(pop.clinic, minlength=int(pop.clinic.max()) + 1)
        self.first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def draw(self, rng: np.random.Generator, clinic: IntArray, at: IntArray) -> IntArray:
        registered = np.searchsorted(self.sorted_key, clinic * _BIG + at, side="right")
        available = np.maximum(registered - self.first[clinic], 1)
        day = self.timeline.day_of(at)
        chosen = np.zeros(len(clinic), dtype=np.int64)
        todo = np.arange(len(clinic))
        for attempt in range(8):
            pick = self.first[clinic[todo]] + (rng.random(len(todo)) * available[todo]).astype(
                np.int64
            )
            patient = self.order[pick]
            chosen[todo] = patient
            if attempt == 7:
                break
            todo = todo[self.pop.leave_day[patient] <= day[todo]]
            if len(todo) == 0:
                break
        return chosen


def due_recalls(
    rng: np.random.Generator, params: SimulationParams, timeline: Timeline, pop: Population
) -> DueRecalls:
    """Every kept due date of every recall patient within the horizon."""
    d = params.demand
    on_recall = np.flatnonzero(pop.recall_interval > 0)
    interval = pop.recall_interval[on_recall]
    join_day = timeline.day_of(pop.join_epoch[on_recall])
    starting = join_day < 0
    phase = np.where(
        starting,
        (rng.random(len(on_recall)) * interval).astype(np.int64),
        join_day + interval,
    )
    end = np.minimum(pop.leave_day[on_recall], timeline.n_days)
    cycles = np.maximum(0, (end - phase + interval - 1) // interval)
    patient = np.repeat(on_recall, cycles)
    first = np.repeat(phase, cycles)
    step = np.repeat(interval, cycles)
    k = np.arange(len(patient)) - np.repeat(np.cumsum(cycles) - cycles, cycles)
    day = first + k * step + np.round(rng.normal(0, d.recall_jitter_days, len(patient)))
    day = day.astype(np.int64)
    kept = (rng.random(len(patient)) < d.recall_compliance) & (day >= 0) & (day < timeline.n_days)
    return DueRecalls(patient[kept], day[kept], np.full(int(kept.sum()), -1, dtype=np.int64))


def match_recalls(
    dues: DueRecalls, pop: Population, visit_clinic: IntArray, visit_start: IntArray
) -> tuple[IntArray, DueRecalls]:
    """Patient of each recall visit (-1 where no due recall is left), and the dues matched."""
    patient = np.full(len(visit_clinic), -1, dtype=np.int64)
    matched = dues.visit.copy()
    due_clinic = pop.clinic[dues.patient]
    for clinic in np.unique(visit_clinic):
        visits = np.flatnonzero(visit_clinic == clinic)
        visits = visits[np.argsort(visit_start[visits], kind="stable")]
        due = np.flatnonzero(due_clinic == clinic)
        due = due[np.argsort(dues.day[due], kind="stable")]
        n = min(len(visits), len(due))
        patient[visits[:n]] = dues.patient[due[:n]]
        matched[due[:n]] = visits[:n]
    return patient, DueRecalls(dues.patient, dues.day, matched)


def clashes(
    patient: IntArray, start: IntArray, end: IntArray, active: BoolArray
) -> tuple[IntArray, IntArray]:
    """Active visits that overlap an earlier active visit of the same patient, each with the
    patient's visit just before it."""
    idx = np.flatnonzero(active)
    order = idx[np.lexsort((start[idx], patient[idx]))]
    sorted_patient = patient[order]
    new_group = np.r_[True, sorted_patient[1:] != sorted_patient[:-1]]
    running_end = _grouped_running_max(end[order], new_group)
    overlap = ~new_group[1:] & (start[order][1:] < running_end[:-1])
    return order[1:][overlap], order[:-1][overlap]


def _grouped_running_max(values: IntArray, new_group: BoolArray) -> IntArray:
    """Running maximum that restarts where `new_group` is true (groups are contiguous)."""
    if len(values) == 0:
        return values
    rank = np.cumsum(new_group) - 1
    span = np.int64(values.max()) + 1
    result: IntArray = np.maximum.accumulate(values + rank * span) - rank * span
    return result


def resolve_clashes(
    rng: np.random.Generator,
    picker: PatientPicker,
    patient: IntArray,
    clinic: IntArray,
    start: IntArray,
    end: IntArray,
    booked: IntArray,
    active: BoolArray,
    fixed: BoolArray,
) -> BoolArray:
    """Redraw the patients of clashing visits (never a `fixed` one); returns visits to drop."""
    for _ in range(30):
        later, earlier = clashes(patient, start, end, active)
        if len(later) == 0:
            return np.zeros(len(patient), dtype=np.bool_)
        redraw = np.unique(np.where(fixed[later], earlier, later))
        redraw = redraw[~fixed[redraw]]
        patient[redraw] = picker.draw(rng, clinic[redraw], booked[redraw])
    drop = np.zeros(len(patient), dtype=np.bool_)
    while True:
        later, _ = clashes(patient, start, end, active & ~drop)
        if len(later) == 0:
            return drop
        drop[later] = True
