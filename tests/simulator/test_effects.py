"""The documented effects are present in the generated data."""

from __future__ import annotations

from datetime import date

import numpy as np

from simulator import future
from simulator.demand import yearly_factor
from simulator.generate import World
from simulator.population import age_on


def played(world: World) -> np.ndarray:
    a = world.appointments
    mask: np.ndarray = (a.status == future.COMPLETED) | (a.status == future.NO_SHOW)
    return mask


def rate(world: World, mask: np.ndarray) -> float:
    a = world.appointments
    chosen = mask & played(world)
    assert chosen.sum() >= 200, "too few appointments for a stable rate"
    return float((a.status[chosen] == future.NO_SHOW).mean())


def local_weekday(world: World) -> np.ndarray:
    t = world.timeline
    weekday: np.ndarray = t.weekday[t.day_of(world.appointments.start)]
    return weekday


def test_overall_no_show_rate_lies_in_the_published_range(world: World) -> None:
    assert 0.08 <= rate(world, np.ones(len(world.appointments), dtype=bool)) <= 0.25


def test_no_show_rate_rises_with_lead_time(world: World) -> None:
    a = world.appointments
    lead = (a.start - a.booked) / 86_400
    short, medium, long = (
        rate(world, lead < 7),
        rate(world, (lead >= 7) & (lead < 30)),
        rate(world, lead >= 30),
    )
    assert short < medium < long
    assert long > 1.5 * short


def test_patients_with_earlier_no_shows_miss_more(world: World) -> None:
    a = world.appointments
    assert rate(world, a.prior_no_shows >= 1) > 1.8 * rate(world, a.prior_no_shows == 0)


def test_lead_time_and_history_are_the_strongest_observable_factors(world: World) -> None:
    a = world.appointments
    pop = world.population
    lead = (a.start - a.booked) / 86_400

    def ratio(high: np.ndarray, low: np.ndarray) -> float:
        r_high, r_low = rate(world, high), rate(world, low)
        return max(r_high, r_low) / min(r_high, r_low)

    strongest = min(
        ratio(lead >= 30, lead < 7), ratio(a.prior_no_shows >= 1, a.prior_no_shows == 0)
    )
    t = world.timeline
    age = age_on(pop, a.patient, t.day(0).toordinal() + t.day_of(a.start))
    distance = pop.distance_km[a.patient]
    weekday = local_weekday(world)
    others = {
        "age": ratio((age >= 18) & (age < 30), age >= 65),
        "distance": ratio(
            distance >= np.quantile(distance, 0.75), distance <= np.quantile(distance, 0.25)
        ),
        "weekday": ratio(weekday == 4, weekday == 1),
        "balance": ratio(a.balance_owed, ~a.balance_owed),
        "insurance": ratio(~pop.insured[a.patient], pop.insured[a.patient]),
    }
    assert all(strongest > value for value in others.values()), (strongest, others)


def test_sundays_and_public_holidays_are_closed(world: World) -> None:
    t = world.timeline
    day = t.day_of(world.appointments.start)
    assert not (t.weekday[day] == 6).any()
    assert not t.is_holiday[day].any()
    assert t.is_holiday.sum() >= 15  # two years of US public holidays
    assert (world.intensity[:, t.is_holiday, :] == 0).all()


def test_weekly_and_yearly_seasonality(world: World) -> None:
    t = world.timeline
    day = t.day_of(world.appointments.start[world.appointments.start < t.now])
    per_day = np.bincount(day, minlength=t.n_days)[: t.today_index]
    open_weekday = t.is_open[: t.today_index] & (t.weekday[: t.today_index] < 5)
    saturday = t.is_open[: t.today_index] & (t.weekday[: t.today_index] == 5)
    assert per_day[saturday].mean() < 0.7 * per_day[open_weekday].mean()
    factor = yearly_factor(world.params, t)
    assert factor[
        [d for d in range(t.n_days) if t.day(d).month == 12 and t.day(d).day >= 22]
    ].max() < (
        factor[
            [d for d in range(t.n_days) if t.day(d).month == 1 and 10 <= t.day(d).day <= 31]
        ].min()
    )
    # the realised days follow: open weekdays of the last week of December see fewer visits
    late_december = np.array(
        [
            open_weekday[d] and t.day(d).month == 12 and t.day(d).day >= 22
            for d in range(t.today_index)
        ]
    )
    late_january = np.array(
        [
            open_weekday[d] and t.day(d).month == 1 and t.day(d).day >= 10
            for d in range(t.today_index)
        ]
    )
    assert per_day[late_december].mean() < per_day[late_january].mean()


def test_recall_patients_come_back_about_every_six_months(world: World) -> None:
    a = world.appointments
    recall = np.flatnonzero((a.vtype == 0) & (a.kind == 0))
    order = recall[np.lexsort((a.start[recall], a.patient[recall]))]
    same = a.patient[order][1:] == a.patient[order][:-1]
    gaps = (a.start[order][1:] - a.start[order][:-1])[same] / 86_400
    interval = world.population.recall_interval[a.patient[order][1:][same]]
    six_monthly = gaps[interval == 182]
    assert 150 < np.median(six_monthly) < 215


def test_future_is_booked_and_history_is_settled(world: World) -> None:
    a = world.appointments
    now = world.timeline.now
    past, ahead = a.start < now, a.start >= now
    assert set(np.unique(a.status[past])) <= {future.COMPLETED, future.NO_SHOW, future.CANCELLED}
    assert set(np.unique(a.status[ahead])) <= {future.BOOKED, future.CONFIRMED, future.CANCELLED}
    assert ahead.sum() > 0
    assert (a.booked < now).all()
    assert (a.start % 60 == 0).all() and (a.booked % 60 == 0).all()
    assert date.fromordinal(world.timeline.day(world.timeline.today_index).toordinal()) == date(
        2026, 6, 30
    )
