"""Candidates with their named terms and collision cost: what suggest, plan and the baselines
choose from."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.candidates import Candidate, Slot, SlotIndex, SlotTable, may_perform
from optimizer.instance import WEEK_MINUTES, Instance, Request
from optimizer.solution import Placement
from optimizer.terms import Collision, slot_collision, terms_of

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Option:
    candidate: Candidate
    terms: dict[str, int]
    cost: Collision

    @property
    def score(self) -> int:
        return sum(self.terms.values())

    def placement(self) -> Placement:
        c = self.candidate
        return Placement(
            request_id=c.request_id,
            provider_id=c.provider_id,
            chair_id=c.chair_id,
            start=c.start,
            end=c.end,
            overbook_of=c.overbook_of,
            terms=self.terms,
        )


def _scores(
    instance: Instance, request: Request, table: SlotTable, both: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """`terms.terms_of` for every slot of a table at once, before rounding (for ranking)."""
    w = instance.policy.weights
    p = request.show_probability
    preferred = np.zeros(len(table.slots), dtype=np.bool_)
    for i in request.preferred:
        preferred |= (table.start >= i.start) & (table.end <= i.end)
    earliness = 1.0 - table.start / WEEK_MINUTES
    score: npt.NDArray[np.float64] = (
        w.production_per_dollar * request.production_cents / 100 * p
        + w.utilization_per_minute * request.duration_min * p
        + w.preference * preferred
        + w.urgency * request.urgency * (0.5 + earliness)
        + w.waited_per_week * request.waited_days / 7
        - w.overtime_per_minute * both * table.overtime_if_both
        - w.waiting_per_minute * both * table.wait_if_both
    )
    return score


def scored_slots(
    index: SlotIndex,
    request: Request,
    *,
    allow_overbook: bool,
    overlap_cap_min: float | None = None,
) -> list[tuple[Slot, float]]:
    """Every slot the request may take, with its score, best first (ties: earlier, then by
    provider and chair). Unless the cap is lifted (`overlap_cap_min`), an overbook whose
    expected overtime alone exceeds the policy's limit is left out."""
    instance = index.instance
    policy = instance.policy
    cap = policy.max_expected_overlap_min if overlap_cap_min is None else overlap_cap_min
    overtime_limit = policy.overtime_limit_min if overlap_cap_min is None else math.inf
    found: list[tuple[Slot, float]] = []
    for provider in instance.providers:
        if not may_perform(provider, request):
            continue
        table = index.table(provider, request.duration_min, allow_overbook=allow_overbook)
        if not table.slots:
            continue
        keep = np.zeros(len(table.slots), dtype=np.bool_)
        for window in request.windows:
            keep |= (table.start >= window.start) & (table.end <= window.end)
        keep &= index.patient_free(request.patient_id, table.start, table.end)
        both = table.target_show * request.show_probability
        keep &= both * table.overlap <= cap + TOLERANCE
        keep &= both * table.overtime_if_both <= overtime_limit + TOLERANCE
        score = _scores(instance, request, table, both)
        found += [(table.slots[k], float(score[k])) for k in np.flatnonzero(keep)]
    found.sort(key=lambda f: (-f[1], f[0].start, f[0].provider_id, f[0].chair_id))
    return found


def option(instance: Instance, request: Request, slot: Slot) -> Option:
    candidate = slot.candidate(request.request_id)
    cost = slot_collision(slot, request)
    return Option(candidate, terms_of(instance, candidate, request, cost), cost)


def options_for(
    index: SlotIndex,
    request: Request,
    *,
    allow_overbook: bool,
    overlap_cap_min: float | None = None,
    limit: int | None = None,
) -> list[Option]:
    """The request's options, best first, at most `limit` of them."""
    found = scored_slots(
        index, request, allow_overbook=allow_overbook, overlap_cap_min=overlap_cap_min
    )
    chosen = found if limit is None else found[:limit]
    return [option(index.instance, request, slot) for slot, _ in chosen]


def all_options(
    instance: Instance, *, allow_overbook: bool, include: list[Placement] | None = None
) -> list[Option]:
    """The options the plan chooses from: each request's best `max_candidates_per_request`,
    each slot's best `max_requests_per_slot` requests (so that a slot everyone ranks low still
    has takers), and the options of `include` (e.g. the first-fit plan, so the model can do
    at least as well)."""
    policy = instance.policy
    index = SlotIndex(instance)
    wanted = {
        (p.request_id, p.provider_id, p.chair_id, p.start, p.overbook_of) for p in include or []
    }
    kept: dict[tuple[int, int, int, int], tuple[Request, Slot]] = {}
    by_slot: dict[tuple[int, int, int], list[tuple[float, int, Request, Slot]]] = {}
    for request in instance.requests:
        found = scored_slots(index, request, allow_overbook=allow_overbook)
        for rank, (slot, score) in enumerate(found):
            key = (request.request_id, slot.provider_id, slot.chair_id, slot.start)
            target = slot.target.appointment_id if slot.target else None
            if rank < policy.max_candidates_per_request or (*key, target) in wanted:
                kept[key] = (request, slot)
            by_slot.setdefault((slot.provider_id, slot.chair_id, slot.start), []).append(
                (-score, request.request_id, request, slot)
            )
    for takers in by_slot.values():
        takers.sort(key=lambda t: (t[0], t[1]))
        for _, request_id, request, slot in takers[: policy.max_requests_per_slot]:
            kept[(request_id, slot.provider_id, slot.chair_id, slot.start)] = (request, slot)
    return [option(instance, request, slot) for _, (request, slot) in sorted(kept.items())]
