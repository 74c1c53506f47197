"""Playing each patient's appointments in time order: the no-show draws and what they feed.

A patient's earlier no-shows and open balance change the risk of the next appointment, so the
outcomes are drawn in rounds: round k takes every patient's k-th appointment (by start) at
once. Past appointments that were not cancelled are drawn (no-show or completed); a completed
one sets when its patient portion is paid, which decides whether a balance is owed at the next
appointment. Future appointments get their probability from what is known "now" and no draw;
cancelled ones get the probability they would have had.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import money
from simulator.no_show import Features, probability
from simulator.params import SimulationParams
from simulator.population import Population, age_on
from simulator.timeline import BoolArray, FloatArray, IntArray, Timeline

DAY = 86_400


def reminders_planned(
    params: SimulationParams, start: IntArray, booked: IntArray, contact: IntArray
) -> IntArray:
    """Reminders sent `reminder_days` before the start when booked earlier than that; patients
    who prefer a phone call get only the last one."""
    count = np.zeros(len(start), dtype=np.int64)
    last = min(params.booking.reminder_days)
    for days in params.booking.reminder_days:
        sent = booked < start - days * DAY
        if days != last:
            sent &= contact != 2
        count += sent
    return count


@dataclass(frozen=True)
class Played:
    probability: FloatArray
    no_show: BoolArray
    prior_no_shows: IntArray
    balance_owed: BoolArray
    patient_paid: IntArray  # when a completed visit's patient portion is paid (NEVER: unpaid)


def play(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    pop: Population,
    patient: IntArray,
    start: IntArray,
    booked: IntArray,
    category: IntArray,
    cancelled: BoolArray,
    reminders: IntArray,
    completed_at: IntArray,
    patient_amount: IntArray,
) -> Played:
    n = len(start)
    now = timeline.now
    day = timeline.day_of(start)
    local_hour = (start - timeline.midnight[day]) // 3600
    first_ordinal = timeline.day(0).toordinal()
    features_all = Features(
        lead_days=(start - booked) / DAY,
        prior_no_shows=np.zeros(n, dtype=np.int64),
        age_years=age_on(pop, patient, first_ordinal + day),
        weekday=timeline.weekday[day],
        local_hour=local_hour,
        category=category,
        reminders=reminders,
        distance_km=pop.distance_km[patient],
        balance_owed=np.zeros(n, dtype=np.bool_),
        insured=pop.insured[patient],
        latent=pop.latent[patient],
    )
    order = np.lexsort((start, patient))
    sorted_patient = patient[order]
    new_group = np.r_[True, sorted_patient[1:] != sorted_patient[:-1]]
    group_first = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.arange(n) - group_first
    by_rank = order[np.argsort(rank, kind="stable")]
    bounds = np.r_[0, np.cumsum(np.bincount(rank))]

    window = params.no_show.prior_window_days * DAY
    # the epochs of each patient's latest no-shows (at most prior_cap), oldest first
    recent = np.full((len(pop), params.no_show.prior_cap), -money.NEVER, dtype=np.int64)
    open_until = np.full(len(pop), -1, dtype=np.int64)
    prob = np.zeros(n)
    no_show = np.zeros(n, dtype=np.bool_)
    prior = np.zeros(n, dtype=np.int64)
    owed = np.zeros(n, dtype=np.bool_)
    paid = np.full(n, money.NEVER, dtype=np.int64)
    for k in range(len(bounds) - 1):
        idx = by_rank[bounds[k] : bounds[k + 1]]
        who = patient[idx]
        past = start[idx] < now
        known_at = np.where(past, start[idx], now)
        owed_now = open_until[who] > known_at
        earlier = (recent[who] >= (known_at - window)[:, None]).sum(axis=1)
        f = _subset(features_all, idx, earlier, owed_now)
        p = probability(params.no_show, f)
        prob[idx], prior[idx], owed[idx] = p, earlier, owed_now
        played = past & ~cancelled[idx]
        missed = played & (rng.random(len(idx)) < p)
        no_show[idx] = missed
        gone = who[missed]
        recent[gone] = np.column_stack([recent[gone, 1:], start[idx][missed]])
        done = played & ~missed
        pay = money.patient_paid_at(rng, params.money, completed_at[idx], patient_amount[idx])
        pay = np.where(done, pay, money.NEVER)
        paid[idx] = pay
        owes = done & (patient_amount[idx] > 0)
        open_until[who] = np.where(owes, np.maximum(open_until[who], pay), open_until[who])
    return Played(prob, no_show, prior, owed, paid)


def _subset(f: Features, idx: IntArray, prior: IntArray, owed: BoolArray) -> Features:
    return Features(
        lead_days=f.lead_days[idx],
        prior_no_shows=prior,
        age_years=f.age_years[idx],
        weekday=f.weekday[idx],
        local_hour=f.local_hour[idx],
        category=f.category[idx],
        reminders=f.reminders[idx],
        distance_km=f.distance_km[idx],
        balance_owed=owed,
        insured=f.insured[idx],
        latent=f.latent[idx],
    )
