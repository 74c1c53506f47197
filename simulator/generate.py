"""The whole generative process, as arrays (no database): `generate(params) -> World`.

Order of the steps (each module's docstring has the details):
demand -> staffing and placement -> lead times -> new patients -> which patient ->
reschedules, cancellations, refills -> patient clashes -> what exists now ->
the day (arrival, duration) -> money portions -> no-show rounds -> confirmations -> statuses
-> payments -> open requests. One `numpy.random.Generator` seeded with `params.seed` makes
every draw, in this fixed order, so the same parameters give the same world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import assignment, booking, day, demand, future, money, outcomes, scheduling
from simulator import visit_types as vt
from simulator.params import SimulationParams
from simulator.population import Population, age_on, draw_people, starting_population
from simulator.scheduling import Staffing
from simulator.timeline import BoolArray, FloatArray, IntArray, Timeline, build_timeline

PRIMARY, REFILL, MOVED_FROM = 0, 1, 2
KINDS = ("primary", "refill", "moved_from")
MINUTE = 60
DAY = 86_400

#: code sets: one per visit type, then the recall variants
CODE_SETS: list[tuple[str, ...]] = [t.codes for t in vt.VISIT_TYPES] + [
    vt.RECALL_ADULT_BITEWINGS,
    vt.RECALL_CHILD,
    vt.RECALL_PERIO,
]
BITEWINGS, CHILD, PERIO = range(vt.N_TYPES, vt.N_TYPES + 3)
FEE = money.fee_cents(CODE_SETS)


@dataclass
class Appointments:
    """One row per appointment that exists now (booked before now), sorted by start."""

    kind: IntArray
    clinic: IntArray
    provider: IntArray
    chair: IntArray
    patient: IntArray  # population index
    vtype: IntArray
    code_set: IntArray
    category: IntArray
    requested_day: IntArray
    start: IntArray
    end: IntArray
    booked: IntArray
    status: IntArray  # index into future.STATUSES
    cancelled_at: IntArray  # -1: none (as of now)
    cancel_reason: IntArray  # index into booking.CANCEL_REASONS, len(...) = rescheduled, -1
    confirmed_at: IntArray
    checked_in_at: IntArray
    completed_at: IntArray
    no_show_at: IntArray
    reminders: IntArray
    prior_no_shows: IntArray
    balance_owed: BoolArray
    no_show_probability: FloatArray
    fee: IntArray

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class World:
    params: SimulationParams
    timeline: Timeline
    staffing: Staffing
    population: Population
    registered: BoolArray  # patients registered before now (the ones stored)
    intensity: FloatArray  # [clinic, day, visit type]
    appointments: Appointments
    payments: money.Payments
    requests: future.OpenRequests


def _concat(*parts: IntArray) -> IntArray:
    return np.concatenate(parts)


def generate(params: SimulationParams) -> World:
    rng = np.random.default_rng(params.seed)
    timeline = build_timeline(params)
    now = timeline.now
    pop = starting_population(rng, params, timeline)
    lam = demand.intensity(params, timeline, np.bincount(pop.clinic, minlength=params.clinics))
    staffing = scheduling.staff_clinics(params, timeline, lam)
    placed, unplaced = scheduling.place(
        rng, params, timeline, staffing, demand.draw_requests(rng, lam)
    )
    n = len(placed.start)
    booked = booking.lead_times(rng, timeline, placed.vtype, placed.start)

    # new patients register when they book their first examination
    newcomer = np.flatnonzero(placed.vtype == vt.NEW_PATIENT)
    first_new = len(pop)
    pop = pop.extend(
        draw_people(
            rng,
            params,
            timeline,
            placed.clinic[newcomer],
            booked[newcomer],
            timeline.day_of(booked[newcomer]),
        )
    )
    patient = np.full(n, -1, dtype=np.int64)
    patient[newcomer] = first_new + np.arange(len(newcomer))

    # recall visits to the patients whose recall is due; everything else at random
    recall = np.flatnonzero(placed.vtype == vt.RECALL)
    dues = assignment.due_recalls(rng, params, timeline, pop)
    matched, dues = assignment.match_recalls(dues, pop, placed.clinic[recall], placed.start[recall])
    patient[recall] = matched
    dues = assignment.DueRecalls(
        dues.patient, dues.day, np.where(dues.visit >= 0, recall[np.maximum(dues.visit, 0)], -1)
    )
    picker = assignment.PatientPicker(pop, timeline)
    loose = np.flatnonzero(patient < 0)
    patient[loose] = picker.draw(rng, placed.clinic[loose], booked[loose])
    booked = _preappoint_recalls(
        rng, params, placed.vtype, patient, placed.start, placed.end, booked
    )
    booked = np.minimum(np.maximum(booked, pop.join_epoch[patient]), placed.start - MINUTE)
    code_set = _code_sets(rng, params, timeline, pop, placed.vtype, patient, placed.day)

    # reschedules: the visit was moved here from an earlier slot (a cancelled appointment)
    movable = ~vt.SAME_DAY[placed.vtype] & (placed.vtype != vt.NEW_PATIENT)
    moved, origin_start, origin_day, moved_at = booking.reschedule_origins(
        rng, params, timeline, placed.start, booked, placed.day, movable
    )
    keep = moved_at < now  # a move after now has not happened: the original would still hold
    moved, origin_start, origin_day, moved_at = (
        moved[keep],
        origin_start[keep],
        origin_day[keep],
        moved_at[keep],
    )
    origin_booked = booked[moved]
    booked[moved] = moved_at
    local = staffing.provider_local[placed.provider[moved]]
    clinic_m = placed.clinic[moved]
    origin_chair = staffing.first_chair[clinic_m] + (local + origin_day) % staffing.chairs[clinic_m]

    cancelled_at = booking.draw_cancellations(
        rng, params, placed.start, booked, pop.latent[patient]
    )
    refilled, refill_booked = booking.refill_times(
        rng, params, placed.start, np.where(cancelled_at >= 0, cancelled_at, placed.start)
    )
    refill_patient = picker.draw(rng, placed.clinic[refilled], refill_booked)
    refill_cancel = booking.draw_cancellations(
        rng, params, placed.start[refilled], refill_booked, pop.latent[refill_patient]
    )

    # all appointments: primaries, refills of cancelled slots, the slots moved from
    m_dur = placed.end[moved] - placed.start[moved]
    kind = _concat(
        np.full(n, PRIMARY), np.full(len(refilled), REFILL), np.full(len(moved), MOVED_FROM)
    )
    src = _concat(np.arange(n), refilled, moved)  # the primary each row derives from
    clinic = placed.clinic[src]
    provider = placed.provider[src]
    chair = _concat(placed.chair, placed.chair[refilled], origin_chair)
    start = _concat(placed.start, placed.start[refilled], origin_start)
    end = _concat(placed.end, placed.end[refilled], origin_start + m_dur)
    vtype = placed.vtype[src]
    codes = code_set[src]
    who = _concat(patient, refill_patient, patient[moved])
    booked_all = _concat(booked, refill_booked, origin_booked)
    cancel_all = _concat(cancelled_at, refill_cancel, moved_at)
    reason = rng.integers(0, len(booking.CANCEL_REASONS), len(kind))
    reason = np.where(kind == MOVED_FROM, len(booking.CANCEL_REASONS), reason)
    requested = _concat(placed.requested_day, placed.requested_day[refilled], origin_day)

    # no patient in two places at once (as the schedule stands now)
    exists = booked_all < now
    active_now = exists & ((cancel_all < 0) | (cancel_all >= now))
    fixed = (kind == PRIMARY) & (vtype == vt.NEW_PATIENT)
    drop = assignment.resolve_clashes(
        rng, picker, who, clinic, start, end, booked_all, active_now, fixed
    )
    rows = np.flatnonzero(exists & ~drop)
    rows = rows[np.argsort(start[rows], kind="stable")]
    kind, clinic, provider, chair, start, end = (
        kind[rows],
        clinic[rows],
        provider[rows],
        chair[rows],
        start[rows],
        end[rows],
    )
    vtype, codes, who, booked_all = vtype[rows], codes[rows], who[rows], booked_all[rows]
    cancel_all, reason, requested = cancel_all[rows], reason[rows], requested[rows]
    cancel_now = np.where(cancel_all < now, cancel_all, -1)
    category = vt.CATEGORY[vtype]

    # the day itself, and what the visit costs whom
    arrival = day.arrivals(rng, params.day, start, booked_all)
    completed_at = day.completions(rng, params.day, start, end, arrival, category)
    no_show_at = day.no_show_marks(rng, params.day, start)
    fee = FEE[codes]
    insurer = money.insurer_portion(params.money, fee, category, pop.insured[who])
    reminders = outcomes.reminders_planned(params, start, booked_all, pop.contact[who])
    played = outcomes.play(
        rng,
        params,
        timeline,
        pop,
        who,
        start,
        booked_all,
        category,
        cancel_now >= 0,
        reminders,
        completed_at,
        fee - insurer,
    )

    # confirmations answer the last reminder; likelier from patients who will come
    confirm_at = start - min(params.booking.reminder_days) * DAY
    confirm_at = confirm_at + rng.integers(5, 721, len(start)) * MINUTE
    confirms = (reminders > 0) & (
        rng.random(len(start)) < params.booking.confirm_rate * (1 - played.probability)
    )
    confirms &= (confirm_at < start) & ((cancel_all < 0) | (confirm_at < cancel_all))
    confirm_at = np.where(confirms, confirm_at, -1)
    status = future.statuses(now, start, cancel_now, confirm_at, played.no_show)
    confirm_now = np.where(confirm_at < now, confirm_at, -1)
    completed = status == future.COMPLETED

    appointments = Appointments(
        kind=kind,
        clinic=clinic,
        provider=provider,
        chair=chair,
        patient=who,
        vtype=vtype,
        code_set=codes,
        category=category,
        requested_day=requested,
        start=start,
        end=end,
        booked=booked_all,
        status=status,
        cancelled_at=cancel_now,
        cancel_reason=np.where(cancel_now >= 0, reason, -1),
        confirmed_at=confirm_now,
        checked_in_at=np.where(completed, arrival, -1),
        completed_at=np.where(completed, completed_at, -1),
        no_show_at=np.where(status == future.NO_SHOW, no_show_at, -1),
        reminders=reminders,
        prior_no_shows=played.prior_no_shows,
        balance_owed=played.balance_owed,
        no_show_probability=played.probability,
        fee=fee,
    )
    done = np.flatnonzero(completed)
    pays = money.payments(
        rng,
        params.money,
        now,
        done,
        completed_at[done],
        (fee - insurer)[done],
        played.patient_paid[done],
        insurer[done],
    )
    registered = pop.join_epoch < now
    requests = _open_requests(
        rng, params, timeline, pop, picker, appointments, dues, unplaced, registered
    )
    return World(params, timeline, staffing, pop, registered, lam, appointments, pays, requests)


def _preappoint_recalls(
    rng: np.random.Generator,
    params: SimulationParams,
    vtype: IntArray,
    patient: IntArray,
    start: IntArray,
    end: IntArray,
    booked: IntArray,
) -> IntArray:
    """A share of recall visits is booked at the checkout of the patient's previous one."""
    recall = np.flatnonzero(vtype == vt.RECALL)
    order = recall[np.lexsort((start[recall], patient[recall]))]
    same = patient[order][1:] == patient[order][:-1]
    later, earlier = order[1:][same], order[:-1][same]
    at_checkout = end[earlier] + rng.integers(0, 11, len(later)) * MINUTE
    take = (rng.random(len(later)) < params.booking.preappointed_share) & (
        at_checkout < start[later] - DAY
    )
    result = booked.copy()
    result[later[take]] = at_checkout[take]
    return result


def _code_sets(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    pop: Population,
    vtype: IntArray,
    patient: IntArray,
    day_index: IntArray,
) -> IntArray:
    """Recall visits: child prophylaxis under 14, perio maintenance on a 3-month recall,
    bitewings at every other adult recall; otherwise the visit type's own codes."""
    code_set = vtype.copy()
    recall = vtype == vt.RECALL
    age = age_on(pop, patient, timeline.day(0).toordinal() + day_index)
    bitewings = rng.random(len(vtype)) < 0.5
    perio = pop.recall_interval[patient] == params.demand.perio_interval_days
    code_set = np.where(recall & bitewings, BITEWINGS, code_set)
    code_set = np.where(recall & perio, PERIO, code_set)
    code_set = np.where(recall & (age < 14), CHILD, code_set)
    return code_set


def _open_requests(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    pop: Population,
    picker: assignment.PatientPicker,
    a: Appointments,
    dues: assignment.DueRecalls,
    unplaced: demand.Requests,
    registered: BoolArray,
) -> future.OpenRequests:
    today = timeline.today_index
    now = timeline.now
    horizon = timeline.n_days - 1
    # recall due with nothing booked from now on
    upcoming_recall = (a.vtype == vt.RECALL) & (a.start >= now) & (a.cancelled_at < 0)
    covered = np.zeros(len(pop), dtype=np.bool_)
    covered[a.patient[upcoming_recall]] = True
    window = (dues.day >= today - 90) & (dues.day <= today + 28)
    due = np.flatnonzero(window & registered[dues.patient] & ~covered[dues.patient])
    due = due[np.unique(dues.patient[due], return_index=True)[1]]
    recall_part = future.OpenRequests(
        kind=np.zeros(len(due), dtype=np.int64),
        clinic=pop.clinic[dues.patient[due]],
        patient=dues.patient[due],
        vtype=np.full(len(due), vt.RECALL, dtype=np.int64),
        earliest_day=np.maximum(dues.day[due] - 14, today),
        latest_day=np.minimum(np.maximum(dues.day[due], today) + 42, horizon),
        appointment=np.full(len(due), -1, dtype=np.int64),
    )
    # capacity overflow, asked for before now
    wanted = (unplaced.day >= today - 28) & (unplaced.day <= horizon)
    lead = vt.LEAD_MEDIAN[unplaced.vtype] * DAY
    asked = timeline.midnight[np.minimum(unplaced.day, horizon)] - lead.astype(np.int64) < now
    over = np.flatnonzero(wanted & asked)
    is_new = unplaced.vtype[over] == vt.NEW_PATIENT
    at = np.full(len(over), now - 1, dtype=np.int64)
    overflow_patient = np.where(is_new, -1, picker.draw(rng, unplaced.clinic[over], at))
    overflow = future.OpenRequests(
        kind=np.where(is_new, 2, 1).astype(np.int64),
        clinic=unplaced.clinic[over],
        patient=overflow_patient,
        vtype=unplaced.vtype[over],
        earliest_day=np.maximum(unplaced.day[over], today),
        latest_day=np.minimum(np.maximum(unplaced.day[over], today) + 28, horizon),
        appointment=np.full(len(over), -1, dtype=np.int64),
    )
    # booked patients who would take an earlier slot
    later = np.flatnonzero(
        (a.start >= timeline.midnight[min(today + 7, horizon)]) & (a.cancelled_at < 0)
    )
    earlier = later[rng.random(len(later)) < 0.1]
    appointment_day = timeline.day_of(a.start[earlier])
    sooner = future.OpenRequests(
        kind=np.ones(len(earlier), dtype=np.int64),
        clinic=a.clinic[earlier],
        patient=a.patient[earlier],
        vtype=a.vtype[earlier],
        earliest_day=np.full(len(earlier), today, dtype=np.int64),
        latest_day=appointment_day - 1,
        appointment=earlier,
    )
    return future.concat([recall_part, overflow, sooner])
