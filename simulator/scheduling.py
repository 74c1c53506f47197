"""Staffing each clinic for its demand, and placing requested visits into provider x chair slots.

Every provider works the clinic's opening hours. On each day a provider keeps one chair
(provider k of a clinic takes chair (k + day) mod chairs), so a provider's appointments never
overlap and no chair is shared at the same time. Requests for a day are given to an eligible
provider at random and packed in random order; what does not fit spills to the next open day
(up to `max_spill_days` times; what still does not fit is unplaced). The free minutes of a
provider's day are spread as gaps between the appointments (whole 5 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import visit_types as vt
from simulator.demand import Requests
from simulator.params import SimulationParams
from simulator.timeline import BoolArray, FloatArray, IntArray, Timeline


@dataclass(frozen=True)
class Staffing:
    dentists: IntArray  # per clinic
    hygienists: IntArray
    chairs: IntArray
    provider_clinic: IntArray  # per provider (global index)
    provider_is_hygienist: BoolArray
    provider_local: IntArray  # index of the provider within its clinic
    first_provider: IntArray  # per clinic: global index of its first provider
    first_chair: IntArray  # per clinic: global index of its first chair

    @property
    def n_providers(self) -> int:
        return len(self.provider_clinic)


def dentist_share(who: IntArray, has_hygienist: bool) -> FloatArray:
    share = np.ones(len(who))
    if has_hygienist:
        for kind, hygienist in vt.HYGIENIST_SHARE.items():
            share[who == kind] = 1 - hygienist
    return share


def staff_clinics(params: SimulationParams, timeline: Timeline, lam: FloatArray) -> Staffing:
    """Enough providers for the expected minutes of an average open day at the target load."""
    history = slice(0, timeline.today_index)
    open_days = timeline.is_open[history]
    open_minutes = float((timeline.close_min - timeline.open_min)[history][open_days].mean())
    per_day = lam[:, history, :][:, open_days, :].mean(axis=1) * vt.MINUTES  # [clinic, type]
    share = dentist_share(vt.WHO, has_hygienist=True)
    dentist_minutes = (per_day * share).sum(axis=1)
    hygienist_minutes = (per_day * (1 - share)).sum(axis=1)
    load = open_minutes * params.capacity.target_utilisation
    dentists = np.maximum(1, np.round(dentist_minutes / load)).astype(np.int64)
    hygienists = np.maximum(1, np.round(hygienist_minutes / load)).astype(np.int64)
    chairs = dentists + hygienists + params.capacity.extra_chairs
    per_clinic = dentists + hygienists
    provider_clinic = np.repeat(np.arange(params.clinics), per_clinic)
    first_provider = np.concatenate([[0], np.cumsum(per_clinic)[:-1]]).astype(np.int64)
    provider_local = np.arange(len(provider_clinic)) - first_provider[provider_clinic]
    return Staffing(
        dentists=dentists,
        hygienists=hygienists,
        chairs=chairs,
        provider_clinic=provider_clinic.astype(np.int64),
        provider_is_hygienist=provider_local >= dentists[provider_clinic],
        provider_local=provider_local.astype(np.int64),
        first_provider=first_provider,
        first_chair=np.concatenate([[0], np.cumsum(chairs)[:-1]]).astype(np.int64),
    )


@dataclass(frozen=True)
class Placed:
    clinic: IntArray
    vtype: IntArray
    requested_day: IntArray
    day: IntArray
    provider: IntArray
    chair: IntArray
    start: IntArray  # UTC epoch seconds
    end: IntArray


def choose_provider(
    rng: np.random.Generator, staffing: Staffing, clinic: IntArray, vtype: IntArray
) -> IntArray:
    who = vt.WHO[vtype]
    hygienist_share = np.zeros(len(who))
    for kind, share in vt.HYGIENIST_SHARE.items():
        hygienist_share[who == kind] = share
    to_hygienist = rng.random(len(who)) < hygienist_share
    n_dent = staffing.dentists[clinic]
    n_hyg = staffing.hygienists[clinic]
    local = np.where(
        to_hygienist,
        n_dent + (rng.random(len(who)) * n_hyg).astype(np.int64),
        (rng.random(len(who)) * n_dent).astype(np.int64),
    )
    chosen: IntArray = staffing.first_provider[clinic] + local
    return chosen


def next_open_day(timeline: Timeline) -> IntArray:
    """For each day, the next open day after it (n_days when there is none)."""
    following = np.full(timeline.n_days + 1, timeline.n_days, dtype=np.int64)
    for d in range(timeline.n_days - 1, -1, -1):
        following[d] = (
            d + 1 if d + 1 < timeline.n_days and timeline.is_open[d + 1] else following[d + 1]
        )
    return following[: timeline.n_days]


def group_cumsum(keys: IntArray, values: IntArray) -> IntArray:
    """Running sum of `values` within runs of equal `keys` (already sorted by key)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    run_lengths = np.diff(np.r_[starts, len(keys)])
    before = np.repeat(total[starts] - values[starts], run_lengths)
    result: IntArray = total - before
    return result


def place(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    staffing: Staffing,
    requests: Requests,
) -> tuple[Placed, Requests]:
    """Placed visits, and the requests that found no room (their last day tried)."""
    n_days = timeline.n_days
    capacity = (timeline.close_min - timeline.open_min).astype(np.int64)  # per day, any provider
    used = np.zeros(staffing.n_providers * n_days, dtype=np.int64)
    following = next_open_day(timeline)
    pending = np.arange(len(requests.day))
    day = requests.day.copy()
    provider = np.full(len(day), -1, dtype=np.int64)
    accepted = np.zeros(len(day), dtype=np.bool_)
    for _ in range(params.capacity.max_spill_days + 1):
        if len(pending) == 0:
            break
        chosen = choose_provider(rng, staffing, requests.clinic[pending], requests.vtype[pending])
        group = chosen * n_days + day[pending]
        order = np.lexsort((rng.random(len(pending)), group))
        minutes = vt.MINUTES[requests.vtype[pending]][order]
        sorted_group = group[order]
        running = used[sorted_group] + group_cumsum(sorted_group, minutes)
        fits = running <= capacity[day[pending][order]]
        taken = pending[order][fits]
        provider[taken] = chosen[order][fits]
        accepted[taken] = True
        np.add.at(used, sorted_group[fits], minutes[fits])
        spilled = pending[order][~fits]
        day[spilled] = following[day[spilled]]
        pending = spilled[day[spilled] < n_days]
    unplaced = np.flatnonzero(~accepted)
    return _positions(rng, timeline, staffing, requests, accepted, day, provider), Requests(
        clinic=requests.clinic[unplaced],
        day=np.minimum(day[unplaced], n_days - 1),
        vtype=requests.vtype[unplaced],
    )


def _positions(
    rng: np.random.Generator,
    timeline: Timeline,
    staffing: Staffing,
    requests: Requests,
    accepted: BoolArray,
    day_all: IntArray,
    provider_all: IntArray,
) -> Placed:
    idx = np.flatnonzero(accepted)
    day = day_all[idx]
    provider = provider_all[idx]
    vtype = requests.vtype[idx]
    group = provider * timeline.n_days + day
    order = np.lexsort((rng.random(len(idx)), group))
    idx, day, provider, vtype, group = (
        idx[order],
        day[order],
        provider[order],
        vtype[order],
        group[order],
    )
    minutes = vt.MINUTES[vtype]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    lengths = np.diff(np.r_[starts, len(group)])
    group_of = np.repeat(np.arange(len(starts)), lengths)
    capacity = (timeline.close_min - timeline.open_min)[day[starts]]
    free = capacity - np.add.reduceat(minutes, starts)
    weights = rng.exponential(1.0, len(idx))
    end_slack = rng.exponential(1.0, len(starts))
    total_weight = np.add.reduceat(weights, starts) + end_slack
    gaps = (free[group_of] * weights / total_weight[group_of] // 5 * 5).astype(np.int64)
    offset = group_cumsum(group, gaps + minutes) - minutes
    start_min = timeline.open_min[day] + offset
    start = timeline.midnight[day] + start_min * 60
    clinic = requests.clinic[idx]
    local = staffing.provider_local[provider]
    chair = staffing.first_chair[clinic] + (local + day) % staffing.chairs[clinic]
    return Placed(
        clinic=clinic,
        vtype=vtype,
        requested_day=requests.day[idx],
        day=day,
        provider=provider,
        chair=chair,
        start=start,
        end=start + minutes * 60,
    )
