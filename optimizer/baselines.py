"""Baselines to compare `plan` against.

- `first_fit`: what a front desk does by hand: requests in order (most urgent, then longest
  waiting), each into the earliest free slot that fits (no overbooking).
- `flat_overbooking`: the same front desk allowed to overbook any appointment, up to
  the average no-show rate's worth per provider block (book slots x 1 / (1 - rate)), with no
  regard to who is likely to come; the collision cap does not apply (its validation uses an
  uncapped policy, `uncapped(policy)`), the overtime limit neither.
- the same CP-SAT model without overbooking is `model.plan(..., allow_overbook=False)`.
"""

from __future__ import annotations

import math
import time
from collections import Counter

from optimizer.calendar import Occupancy, occupancy_of
from optimizer.candidates import SlotIndex
from optimizer.instance import Instance, Policy
from optimizer.model import total_terms
from optimizer.options import Option, options_for
from optimizer.solution import Placement, Plan

UNCAPPED = 10_000.0


def uncapped(policy: Policy) -> Policy:
    return policy.model_copy(
        update={"max_expected_overlap_min": UNCAPPED, "overtime_limit_min": UNCAPPED}
    )


def _front_desk_order(instance: Instance) -> list[int]:
    ordered = sorted(instance.requests, key=lambda r: (-r.urgency, -r.waited_days, r.request_id))
    return [r.request_id for r in ordered]


def _greedy(instance: Instance, *, name: str, overbook_budget: dict[int, int] | None) -> Plan:
    began = time.perf_counter()
    occupancy = occupancy_of(instance.appointments)
    index = SlotIndex(instance, occupancy_of(instance.appointments))
    patient = {r.request_id: r.patient_id for r in instance.requests}
    placements: list[Placement] = []
    overbooked: set[int] = set()
    used: Counter[tuple[int, int]] = Counter()  # overbooks per provider block
    for request_id in _front_desk_order(instance):
        request = instance.request(request_id)
        options = options_for(
            index,
            request,
            allow_overbook=overbook_budget is not None,
            overlap_cap_min=UNCAPPED if overbook_budget is not None else None,
        )
        options.sort(key=lambda o: (o.candidate.start, o.candidate.provider_id))
        for option in options:
            if _fits(option, occupancy, overbooked, used, overbook_budget, patient):
                c = option.candidate
                occupancy.take(("provider-placed", c.provider_id), c.start, c.end)
                occupancy.take(("chair", c.chair_id), c.start, c.end)
                if patient[c.request_id] is not None:
                    occupancy.take(("patient", patient[c.request_id] or 0), c.start, c.end)
                if c.overbook_of is not None:
                    overbooked.add(c.overbook_of)
                    used[(c.provider_id, c.block_start)] += 1
                placements.append(option.placement())
                break
    placements.sort(key=lambda p: p.request_id)
    return Plan(
        policy_name=name,
        status="HEURISTIC",
        placements=placements,
        objective=sum(p.score for p in placements),
        seconds=time.perf_counter() - began,
        terms=total_terms(placements),
    )


def _fits(
    option: Option,
    occupancy: Occupancy,
    overbooked: set[int],
    used: Counter[tuple[int, int]],
    budget: dict[int, int] | None,
    patient: dict[int, int | None],
) -> bool:
    c = option.candidate
    if not occupancy.is_free(("provider-placed", c.provider_id), c.start, c.end):
        return False
    if not occupancy.is_free(("chair", c.chair_id), c.start, c.end):
        return False
    who = patient[c.request_id]
    if who is not None and not occupancy.is_free(("patient", who), c.start, c.end):
        return False
    if c.overbook_of is None:
        return True
    if c.overbook_of in overbooked or budget is None:
        return False
    return used[(c.provider_id, c.block_start)] < budget.get(c.provider_id, 0)


def first_fit(instance: Instance) -> Plan:
    return _greedy(instance, name="first_fit", overbook_budget=None)


def flat_overbooking(instance: Instance) -> Plan:
    """Per provider block: floor(booked appointments x rate / (1 - rate)) overbooks allowed."""
    rate = 1 - sum(a.show_probability for a in instance.appointments) / max(
        1, len(instance.appointments)
    )
    per_block = Counter(
        (a.provider_id, a.start // (24 * 60)) for a in instance.appointments if not a.is_overbook
    )
    average = sum(per_block.values()) / max(1, len(per_block))
    allowed = math.floor(average * rate / (1 - rate)) if rate < 1 else 0
    budget = {p.provider_id: allowed for p in instance.providers}
    return _greedy(instance, name="flat_overbooking", overbook_budget=budget)
