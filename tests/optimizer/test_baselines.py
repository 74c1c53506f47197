"""Baselines: first-fit takes the earliest free slot in front-desk order; flat overbooking
overbooks regardless of who is likely to come; both pass the validator (flat uncapped); the
CP-SAT plan, given first-fit as a hint, never scores below it."""

from __future__ import annotations

from optimizer.baselines import first_fit, flat_overbooking, uncapped
from optimizer.instance import Interval
from optimizer.model import plan
from optimizer.validation import validate
from tests.optimizer.builders import OPEN, appointment, busy_morning, instance, request


def test_first_fit_serves_the_urgent_first_at_the_earliest_free_slot():
    window = [Interval(start=OPEN, end=OPEN + 60)]
    case = instance(
        requests=[request(1, windows=window), request(2, windows=window, urgency=3)],
        appointments=busy_morning(2, 11, 10, show_probability=0.95),
    )
    result = first_fit(case)
    assert [(p.request_id, p.start) for p in result.placements] == [(2, OPEN)]
    assert validate(case, result.placements) == []


def test_flat_overbooking_overbooks_likely_patients_too():
    held = busy_morning(1, 10, 1, show_probability=0.8) + busy_morning(
        2, 11, 10, show_probability=0.8
    )
    case = instance(
        appointments=held, requests=[request(i) for i in (1, 2, 3)], chairs=[10, 11, 12]
    )
    result = flat_overbooking(case)
    assert result.placements and all(p.overbook_of is not None for p in result.placements)
    assert validate(case, result.placements, policy=uncapped(case.policy)) == []
    assert validate(case, result.placements) != []  # the capped rules would refuse them


def test_plan_with_the_first_fit_hint_scores_at_least_as_well():
    held = [appointment(1, OPEN + 45, OPEN + 90, show_probability=0.3)]
    requests = [request(i, duration_min=(30, 45, 60, 90)[i % 4]) for i in range(1, 9)]
    case = instance(appointments=held, requests=requests)
    greedy = first_fit(case)
    best = plan(case, hint=greedy.placements)
    assert best.objective >= greedy.objective
    assert validate(case, best.placements) == []
