"""`suggest`: the best k slots for one request, ranked by their terms, each valid and explained."""

from __future__ import annotations

from optimizer.candidates import SlotIndex
from optimizer.instance import Interval
from optimizer.options import options_for, scored_slots
from optimizer.suggest import suggest
from optimizer.validation import validate
from tests.optimizer.builders import CLOSE, OPEN, appointment, busy_morning, instance, request


def test_suggests_k_distinct_valid_slots_best_first():
    case = instance(appointments=[appointment(1, OPEN, OPEN + 60)])
    suggestions = suggest(case, 1, k=4)
    assert [s.rank for s in suggestions] == [1, 2, 3, 4]
    scores = [s.placement.score for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert len({(s.placement.provider_id, s.placement.start) for s in suggestions}) == 4
    for s in suggestions:
        assert validate(case, [s.placement]) == []


def test_a_preferred_time_comes_first_and_says_why():
    late = Interval(start=CLOSE - 60, end=CLOSE)
    case = instance(requests=[request(1, preferred=[late])])
    best = suggest(case, 1, k=3)[0]
    assert (best.placement.start, best.placement.terms["preference"]) == (CLOSE - 60, 20)
    assert "preferred" in best.why


def test_an_overbook_suggestion_names_its_target():
    held = busy_morning(1, 10, 1, show_probability=0.95) + busy_morning(
        2, 11, 10, show_probability=0.95
    )
    held[0] = held[0].model_copy(update={"show_probability": 0.1})
    case = instance(appointments=held, chairs=[10, 11, 12])
    suggestions = suggest(case, 1, k=3)
    assert suggestions and all(s.placement.overbook_of == 1 for s in suggestions)
    assert "overbook of appointment 1" in suggestions[0].why
    for s in suggestions:
        assert validate(case, [s.placement]) == []


def test_nothing_to_suggest_when_the_clinic_is_full_of_likely_patients():
    held = busy_morning(1, 10, 1, show_probability=0.95) + busy_morning(
        2, 11, 10, show_probability=0.95
    )
    assert suggest(instance(appointments=held), 1) == []


def test_slots_already_taken_by_other_placements_are_not_suggested():
    case = instance(requests=[request(1), request(2)], providers=None)
    first = suggest(case, 1, k=1)[0].placement
    again = suggest(case, 2, k=10, taken=[first])
    assert again and all(validate(case, [first, s.placement]) == [] for s in again)


def test_ranking_scores_agree_with_the_named_terms():
    held = [appointment(1, OPEN + 60, OPEN + 120, show_probability=0.2)]
    case = instance(
        appointments=held,
        requests=[
            request(1, urgency=2, waited_days=21, preferred=[Interval(start=OPEN, end=OPEN + 120)])
        ],
    )
    index = SlotIndex(case)
    ranked = scored_slots(index, case.requests[0], allow_overbook=True)
    options = options_for(index, case.requests[0], allow_overbook=True)
    assert len(ranked) == len(options) > 0
    for (_, score), option in zip(ranked, options, strict=True):
        assert abs(score - option.score) <= len(option.terms) / 2
