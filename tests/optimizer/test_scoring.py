"""Replay and simulation scoring: collisions cost waiting and overtime; outcomes follow the
true probabilities; the same seed gives the same figures."""

from __future__ import annotations

from optimizer.replay import Visit, play
from optimizer.scoring import score
from optimizer.solution import Placement, Plan
from tests.optimizer.builders import CLOSE, OPEN, appointment, instance, request


def test_back_to_back_visits_neither_wait_nor_run_late():
    assert play([Visit(0, 60), Visit(60, 120)], block_end=120) == play([], block_end=120)


def test_a_collision_makes_the_later_patients_wait_and_runs_late():
    played = play([Visit(60, 120), Visit(0, 60), Visit(0, 60)], block_end=120)
    assert (played.wait_min, played.overtime_min) == (60 + 60, 60)


def _plan(placements: list[Placement]) -> Plan:
    return Plan(
        policy_name="t", status="HEURISTIC", placements=placements, objective=0, seconds=0.0
    )


def test_certain_outcomes_give_exact_figures():
    held = [appointment(1, OPEN, OPEN + 60), appointment(2, OPEN + 60, OPEN + 120)]
    case = instance(appointments=held, requests=[request(1)])
    overbook = Placement(
        request_id=1, provider_id=1, chair_id=11, start=OPEN, end=OPEN + 60, overbook_of=1
    )
    realised = score(
        case, _plan([overbook]), appointment_show={1: 1.0, 2: 1.0}, request_show={1: 1.0}, draws=5
    )
    opening = (CLOSE - OPEN) * 2  # two chairs
    assert realised.utilization == 180 / opening
    assert (realised.patients_seen, realised.production_cents) == (3, 10_000 * 2 + 12_000)
    assert (realised.wait_min, realised.overtime_min) == (60 + 60, 0)
    nobody = score(
        case, _plan([overbook]), appointment_show={1: 0.0, 2: 0.0}, request_show={1: 0.0}
    )
    assert (nobody.utilization, nobody.patients_seen, nobody.wait_min) == (0.0, 0.0, 0.0)


def test_outcomes_follow_the_probabilities_and_the_seed():
    held = [appointment(i, OPEN + 30 * i, OPEN + 30 * (i + 1)) for i in range(8)]
    case = instance(appointments=held)
    show = {i: 0.7 for i in range(8)}
    a = score(case, _plan([]), appointment_show=show, request_show={}, draws=400, seed=5)
    b = score(case, _plan([]), appointment_show=show, request_show={}, draws=400, seed=5)
    assert a == b
    assert abs(a.patients_seen - 8 * 0.7) < 0.25


def test_a_gap_absorbs_a_collision_unless_gaps_count_as_filled():
    from optimizer.candidates import collision_minutes

    # 08:00-09:00 held, 09:00-10:00 free, block ends 10:00; the newcomer overlaps the first hour
    held = [appointment(1, OPEN, OPEN + 60)]
    block = (OPEN, OPEN + 120)
    assert collision_minutes(held, 1, block, OPEN, OPEN + 60) == (0, 60)
    overtime, wait = collision_minutes(held, 1, block, OPEN, OPEN + 60, gaps_filled=True)
    assert overtime == 60 and wait > 60
