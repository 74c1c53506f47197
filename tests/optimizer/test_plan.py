"""`plan`: one case where each rule lets a request in and one where it keeps it out; every
plan passes the solver-independent validator."""

from __future__ import annotations

from optimizer.instance import Instance, Interval, Provider, Weights
from optimizer.model import plan
from optimizer.solution import Plan
from optimizer.validation import validate
from tests.optimizer.builders import (
    CLOSE,
    MORNING,
    OPEN,
    appointment,
    busy_morning,
    instance,
    request,
)


def planned(case: Instance, **kw) -> Plan:
    result = plan(case, **kw)
    assert result.status in ("OPTIMAL", "FEASIBLE")
    assert validate(case, result.placements) == []
    return result


def placed(case: Instance) -> set[int]:
    return {p.request_id for p in planned(case).placements}


def test_places_a_request_inside_its_window():
    window = Interval(start=OPEN + 60, end=OPEN + 150)
    (p,) = planned(instance(requests=[request(1, windows=[window])])).placements
    assert window.contains(p.start, p.end)


def test_leaves_out_a_request_whose_window_is_outside_opening_hours():
    evening = Interval(start=CLOSE, end=CLOSE + 240)
    assert placed(instance(requests=[request(1, windows=[evening])])) == set()


def test_places_a_dentist_only_request_on_the_dentist():
    (p,) = planned(instance(requests=[request(1, hygienist_allowed=False)])).placements
    assert p.provider_id == 1


def test_leaves_out_a_dentist_only_request_when_only_the_hygienist_is_free():
    case = instance(
        appointments=busy_morning(1, 10, 1, show_probability=0.95),
        requests=[request(1, hygienist_allowed=False)],
    )
    assert placed(case) == set()


def test_places_on_a_provider_with_a_free_hour_and_not_over_held_time():
    case = instance(
        appointments=busy_morning(1, 10, 1, show_probability=0.95)[:3],
        requests=[request(1, eligible_provider_ids=[1])],
    )
    (p,) = planned(case).placements
    assert (p.start, p.end, p.overbook_of) == (OPEN + 180, CLOSE, None)


def test_leaves_out_a_request_when_its_provider_is_held_by_likely_patients():
    case = instance(
        appointments=busy_morning(1, 10, 1, show_probability=0.95),
        requests=[request(1, eligible_provider_ids=[1])],
    )
    assert placed(case) == set()


def test_leaves_out_a_request_when_every_chair_is_held():
    # the hygienist is free, but both chairs are held by the dentist's and another's patients
    case = instance(
        appointments=busy_morning(1, 10, 1, show_probability=0.95)
        + busy_morning(3, 11, 20, show_probability=0.95),
        providers=[
            Provider(provider_id=1, is_hygienist=False, working=[MORNING]),
            Provider(provider_id=2, is_hygienist=True, working=[MORNING]),
            Provider(provider_id=3, is_hygienist=False, working=[MORNING]),
        ],
        requests=[request(1, eligible_provider_ids=[2])],
    )
    assert placed(case) == set()
    assert placed(case.model_copy(update={"appointments": case.appointments[:4]})) == {1}


def test_keeps_a_patient_out_of_two_places_at_once():
    own = appointment(1, OPEN, CLOSE, provider_id=2, chair_id=11, patient_id=501)
    assert placed(instance(appointments=[own], requests=[request(1)])) == set()
    assert placed(instance(appointments=[own], requests=[request(2)])) == {2}


def test_two_requests_of_one_patient_do_not_overlap():
    case = instance(
        requests=[
            request(1, patient_id=7, windows=[Interval(start=OPEN, end=OPEN + 60)]),
            request(2, patient_id=7, windows=[Interval(start=OPEN, end=OPEN + 60)]),
        ]
    )
    assert len(placed(case)) == 1


def test_one_provider_hour_takes_one_of_two_competing_requests():
    window = [Interval(start=OPEN, end=OPEN + 60)]
    case = instance(
        requests=[request(i, windows=window, eligible_provider_ids=[1]) for i in (1, 2)],
        providers=[Provider(provider_id=1, is_hygienist=False, working=[MORNING])],
    )
    assert len(placed(case)) == 1


def test_overbooks_an_appointment_unlikely_to_show():
    held = busy_morning(1, 10, 1, show_probability=0.95)
    held[3] = held[3].model_copy(update={"show_probability": 0.1})
    case = instance(appointments=held, requests=[request(1, eligible_provider_ids=[1])])
    (p,) = planned(case).placements
    assert p.overbook_of == 4 and p.chair_id == 11 and p.terms["overtime"] <= 0


def test_does_not_overbook_when_the_expected_collision_is_over_the_cap():
    held = busy_morning(1, 10, 1, show_probability=0.95)
    held[3] = held[3].model_copy(update={"show_probability": 0.1})
    case = instance(
        appointments=held,
        requests=[request(1, eligible_provider_ids=[1])],
        max_expected_overlap_min=1.0,
    )
    assert placed(case) == set()


def test_plan_without_overbooking_leaves_the_unlikely_appointment_alone():
    held = busy_morning(1, 10, 1, show_probability=0.95)
    held[3] = held[3].model_copy(update={"show_probability": 0.1})
    case = instance(appointments=held, requests=[request(1, eligible_provider_ids=[1])])
    assert planned(case, allow_overbook=False).placements == []


def test_an_appointment_carries_at_most_one_overbook():
    held = [appointment(1, OPEN, CLOSE, show_probability=0.05)]
    case = instance(
        appointments=held,
        requests=[request(1, eligible_provider_ids=[1]), request(2, eligible_provider_ids=[1])],
        chairs=[10, 11, 12],
        overtime_limit_min=60.0,
    )
    result = planned(case)
    assert [p.overbook_of for p in result.placements] == [1]


def test_does_not_overbook_an_overbook_or_an_appointment_that_carries_one():
    for flag in ("is_overbook", "has_overbook"):
        held = [appointment(1, OPEN, CLOSE, show_probability=0.05, **{flag: True})]
        case = instance(appointments=held, requests=[request(1, eligible_provider_ids=[1])])
        assert placed(case) == set(), flag


def test_overtime_limit_keeps_out_an_overbook_that_would_run_late():
    # a full morning of 50 % patients: any overbook runs an hour past noon if both come,
    # 15 expected minutes; the costs are weighted zero so that only the limit decides
    held = busy_morning(1, 10, 1, show_probability=0.5)
    case = instance(
        appointments=held,
        requests=[request(1, eligible_provider_ids=[1], show_probability=0.5)],
        max_expected_overlap_min=100.0,
        overtime_limit_min=5.0,
        weights=Weights(overtime_per_minute=0.0, waiting_per_minute=0.0),
    )
    assert placed(case) == set()
    looser = case.model_copy(
        update={"policy": case.policy.model_copy(update={"overtime_limit_min": 60.0})}
    )
    (p,) = planned(looser).placements
    assert p.overbook_of is not None


def test_a_fixed_seed_and_one_worker_give_the_same_plan_twice():
    requests = [
        request(i, duration_min=30 + 15 * (i % 3), show_probability=0.6 + 0.05 * i)
        for i in range(1, 9)
    ]
    held = [appointment(1, OPEN + 60, OPEN + 120, show_probability=0.3)]
    case = instance(appointments=held, requests=requests, deterministic_time=5.0, random_seed=3)
    first, second = planned(case), planned(case)
    assert first.placements == second.placements
    assert first.objective == second.objective == sum(p.score for p in first.placements)
