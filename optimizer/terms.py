"""The objective's named terms, in integer points, for one candidate on its own.

- `production`: expected production, fee x P(show), per dollar;
- `utilization`: expected chair minutes used, duration x P(show);
- `preference`: the start lies in one of the patient's preferred windows;
- `urgency`: urgency level (earlier in the week is worth more) and weeks already waited;
- `overtime` (negative): expected minutes past the provider's block when an overbook collides;
- `waiting` (negative): expected minutes patients wait because of that collision.

An overbook collides when its target and its patient both show; its cost is the difference
between the provider's block played out (`replay.play`) with and without it, everyone else
showing, times P(both show). Free slots cost nothing: they overlap no one.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.candidates import Candidate, Slot, collision_minutes
from optimizer.instance import WEEK_MINUTES, Appointment, Instance, Request

TERM_NAMES = ("production", "utilization", "preference", "urgency", "overtime", "waiting")


@dataclass(frozen=True)
class Collision:
    """Expected cost of an overbook: minutes, already weighted by P(both show)."""

    overtime_min: float
    wait_min: float


def collision(
    appointments: list[Appointment],
    candidate: Candidate,
    request: Request,
    *,
    gaps_filled: bool = False,
) -> Collision:
    if candidate.overbook_of is None:
        return Collision(0.0, 0.0)
    target = next(a for a in appointments if a.appointment_id == candidate.overbook_of)
    overtime, wait = collision_minutes(
        appointments,
        candidate.provider_id,
        (candidate.block_start, candidate.block_end),
        candidate.start,
        candidate.end,
        gaps_filled=gaps_filled,
    )
    both = target.show_probability * request.show_probability
    return Collision(overtime_min=both * overtime, wait_min=both * wait)


def slot_collision(slot: Slot, request: Request) -> Collision:
    """The same as `collision`, from a slot's precomputed minutes."""
    if slot.target is None:
        return Collision(0.0, 0.0)
    both = slot.target.show_probability * request.show_probability
    return Collision(overtime_min=both * slot.overtime_if_both, wait_min=both * slot.wait_if_both)


def terms_of(
    instance: Instance, candidate: Candidate, request: Request, cost: Collision
) -> dict[str, int]:
    w = instance.policy.weights
    p = request.show_probability
    in_preferred = any(i.contains(candidate.start, candidate.end) for i in request.preferred)
    earliness = 1.0 - candidate.start / WEEK_MINUTES
    return {
        "production": round(w.production_per_dollar * request.production_cents / 100 * p),
        "utilization": round(w.utilization_per_minute * request.duration_min * p),
        "preference": round(w.preference) if in_preferred else 0,
        "urgency": round(
            w.urgency * request.urgency * (0.5 + earliness)
            + w.waited_per_week * request.waited_days / 7
        ),
        "overtime": -round(w.overtime_per_minute * cost.overtime_min),
        "waiting": -round(w.waiting_per_minute * cost.wait_min),
    }
