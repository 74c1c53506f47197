"""Candidates with their named terms and collision cost: what suggest, plan and the baselines
choose from."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.candidates import Candidate, SlotIndex
from optimizer.instance import Instance, Request
from optimizer.solution import Placement
from optimizer.terms import Collision, slot_collision, terms_of


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


def options_for(
    index: SlotIndex,
    request: Request,
    *,
    allow_overbook: bool,
    overlap_cap_min: float | None = None,
    limit: int | None = None,
) -> list[Option]:
    """Best first (ties: earlier, then by provider and chair); at most `limit` of them. Unless
    the cap is lifted, an overbook whose expected overtime alone exceeds the policy's limit is
    left out."""
    instance = index.instance
    overtime_limit = instance.policy.overtime_limit_min if overlap_cap_min is None else None
    found = []
    for candidate, slot in index.for_request(
        request, allow_overbook=allow_overbook, overlap_cap_min=overlap_cap_min
    ):
        cost = slot_collision(slot, request)
        if overtime_limit is not None and cost.overtime_min > overtime_limit:
            continue
        found.append(Option(candidate, terms_of(instance, candidate, request, cost), cost))
    found.sort(
        key=lambda o: (-o.score, o.candidate.start, o.candidate.provider_id, o.candidate.chair_id)
    )
    return found if limit is None else found[:limit]


def all_options(instance: Instance, *, allow_overbook: bool) -> list[Option]:
    index = SlotIndex(instance)
    result: list[Option] = []
    for request in instance.requests:
        result += options_for(
            index,
            request,
            allow_overbook=allow_overbook,
            limit=instance.policy.max_candidates_per_request,
        )
    return result
