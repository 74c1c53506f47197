"""One provider's working block played out: patients who show are treated one after another.

A patient is treated from `max(scheduled start, when the provider is free)`; the difference is
their waiting time. Treatment past the end of the block is overtime. Used both for the expected
cost of an overbook (`terms.py`) and for simulation scoring (`scoring.py`), so the model and the
scoring agree on what a collision costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Visit:
    start: int
    end: int


@dataclass(frozen=True)
class Played:
    wait_min: int
    overtime_min: int


def play(visits: Sequence[Visit], block_end: int) -> Played:
    """`visits`: the ones who showed, in any order; ties keep the given order."""
    free = 0
    wait = 0
    for visit in sorted(visits, key=lambda v: v.start):
        begin = max(visit.start, free)
        wait += begin - visit.start
        free = begin + (visit.end - visit.start)
    return Played(wait_min=wait, overtime_min=max(0, free - block_end))
