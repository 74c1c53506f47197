"""The validator flags each broken rule in a hand-made placement, and passes a sound one."""

from __future__ import annotations

import pytest

from optimizer.baselines import uncapped
from optimizer.solution import Placement
from optimizer.validation import validate
from tests.optimizer.builders import CLOSE, OPEN, appointment, busy_morning, instance, request


def at(
    start: int,
    *,
    request_id: int = 1,
    provider: int = 1,
    chair: int = 10,
    minutes: int = 60,
    overbook_of: int | None = None,
) -> Placement:
    return Placement(
        request_id=request_id,
        provider_id=provider,
        chair_id=chair,
        start=start,
        end=start + minutes,
        overbook_of=overbook_of,
    )


def test_a_sound_placement_passes():
    assert validate(instance(), [at(OPEN)]) == []


@pytest.mark.parametrize(
    ("placement", "words"),
    [
        (at(OPEN, request_id=9), "unknown request"),
        (at(OPEN, chair=99), "unknown request, provider or chair"),
        (at(OPEN, minutes=45), "wrong duration"),
        (at(OPEN + 5), "grid"),
        (at(CLOSE - 30), "outside the patient's windows"),
    ],
)
def test_flags_a_placement_that_breaks_a_rule(placement, words):
    problems = validate(instance(), [placement])
    assert any(words in p for p in problems), problems


def test_flags_a_request_placed_twice():
    problems = validate(instance(), [at(OPEN), at(OPEN + 60, provider=2, chair=11)])
    assert any("placed 2 times" in p for p in problems)


def test_flags_a_hygienist_on_a_dentist_only_request():
    case = instance(requests=[request(1, hygienist_allowed=False)])
    assert any("may not perform" in p for p in validate(case, [at(OPEN, provider=2)]))
    assert validate(case, [at(OPEN, provider=1)]) == []


def test_flags_hours_outside_the_providers_working_time():
    from optimizer.instance import Interval, Provider

    case = instance(
        providers=[
            Provider(
                provider_id=1, is_hygienist=False, working=[Interval(start=OPEN, end=OPEN + 60)]
            ),
            Provider(provider_id=2, is_hygienist=True, working=[Interval(start=OPEN, end=CLOSE)]),
        ]
    )
    assert any("working or opening" in p for p in validate(case, [at(OPEN + 60)]))
    assert validate(case, [at(OPEN)]) == []


@pytest.mark.parametrize(
    ("held", "resource"),
    [
        (appointment(1, OPEN, OPEN + 30, provider_id=1, chair_id=11), "provider"),
        (appointment(1, OPEN, OPEN + 30, provider_id=2, chair_id=10), "chair"),
        (appointment(1, OPEN, OPEN + 30, provider_id=2, chair_id=11, patient_id=501), "patient"),
    ],
)
def test_flags_an_overlap_with_an_existing_appointment(held, resource):
    problems = validate(instance(appointments=[held]), [at(OPEN)])
    assert any(f"{resource} held by appointment 1" in p for p in problems), problems
    assert validate(instance(appointments=[held]), [at(OPEN + 30)]) == []


def test_flags_two_placements_on_one_chair():
    case = instance(requests=[request(1), request(2)])
    problems = validate(case, [at(OPEN), at(OPEN + 30, request_id=2, provider=2, chair=10)])
    assert any("share a chair" in p for p in problems)


def test_an_overbook_of_its_target_passes_and_of_another_is_flagged():
    held = [appointment(1, OPEN, OPEN + 60, show_probability=0.1)]
    case = instance(appointments=held)
    assert validate(case, [at(OPEN, chair=11, overbook_of=1)]) == []
    assert any(
        "unknown appointment" in p for p in validate(case, [at(OPEN, chair=11, overbook_of=7)])
    )


def test_flags_an_overbook_over_the_collision_cap_unless_uncapped():
    held = [appointment(1, OPEN, OPEN + 60, show_probability=0.9)]
    case = instance(appointments=held)
    placement = [at(OPEN, chair=11, overbook_of=1)]
    assert any("above the cap" in p for p in validate(case, placement))
    assert validate(case, placement, policy=uncapped(case.policy)) == []


def test_flags_overbooks_of_an_overbook_and_two_overbooks_of_one_appointment():
    held = [appointment(1, OPEN, CLOSE, show_probability=0.05, is_overbook=True)]
    problems = validate(instance(appointments=held), [at(OPEN, chair=11, overbook_of=1)])
    assert any("may not be overbooked" in p for p in problems)
    held = [appointment(1, OPEN, CLOSE, show_probability=0.05)]
    case = instance(appointments=held, requests=[request(1), request(2)], chairs=[10, 11, 12])
    twice = [
        at(OPEN, chair=11, overbook_of=1),
        at(OPEN + 60, request_id=2, chair=12, overbook_of=1),
    ]
    assert any("overbooked 2 times" in p for p in validate(case, twice))


def test_flags_expected_overtime_over_the_limit():
    held = busy_morning(1, 10, 1, show_probability=0.5)
    case = instance(
        appointments=held,
        requests=[request(1, show_probability=0.5)],
        max_expected_overlap_min=100.0,
        overtime_limit_min=5.0,
    )
    placement = [at(CLOSE - 60, chair=11, overbook_of=4)]
    assert any("expected overtime" in p for p in validate(case, placement))
    looser = case.policy.model_copy(update={"overtime_limit_min": 20.0})
    assert validate(case, placement, policy=looser) == []
