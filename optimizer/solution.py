"""The optimizer's output: placements (plan) and ranked suggestions (suggest), with the named
objective terms that explain each one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Placement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: int
    provider_id: int
    chair_id: int
    start: int = Field(description="minute of the week")
    end: int
    overbook_of: int | None = Field(default=None, description="the appointment it overbooks")
    terms: dict[str, int] = Field(default_factory=dict, description="objective points by term")

    @property
    def score(self) -> int:
        return sum(self.terms.values())


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_name: str
    status: str = Field(description="OPTIMAL, FEASIBLE, or HEURISTIC for the baselines")
    placements: list[Placement]
    objective: int
    bound: int | None = Field(default=None, description="the solver's proven upper bound")
    gap: float | None = Field(default=None, description="(bound - objective) / bound")
    seconds: float
    solve_s: float = Field(default=0.0, description="of `seconds`, the time in CP-SAT")
    candidates: int = 0
    terms: dict[str, int] = Field(default_factory=dict, description="objective points by term")


class Suggestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int
    placement: Placement
    why: str = Field(description="the largest terms, in words")
