"""Candidate slots for a request: provider x chair x start on the policy's grid, each either in
free time or a deliberate overbook of one existing appointment.

A candidate lies inside one of the request's windows and one of the provider's bookable blocks,
on an eligible provider (hygienists only for hygienist-allowed requests), and overlaps no
existing appointment of its chair or patient. On its provider it overlaps nothing (a free slot)
or exactly one appointment that may carry an overbook (not itself an overbook, none yet) and
whose collision, P(both show) x overlapping minutes, stays within the policy's cap. Chairs are
tried in a fixed order: the chair the provider already uses that day (nearest appointment),
then the others by id, at most `policy.chair_options` of them.

Slots depend on the provider and the duration only, so `SlotIndex` builds them once per
(provider, duration) and each request filters them by its windows, patient and cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.calendar import Occupancy, bookable_blocks, occupancy_of
from optimizer.instance import Appointment, Instance, Provider, Request
from optimizer.replay import Visit, play

DAY = 24 * 60


@dataclass(frozen=True)
class Candidate:
    request_id: int
    provider_id: int
    chair_id: int
    start: int
    end: int
    block_start: int  # the provider's bookable block that holds it
    block_end: int
    overbook_of: int | None = None


@dataclass(frozen=True)
class Slot:
    provider_id: int
    chair_id: int
    start: int
    end: int
    block_start: int
    block_end: int
    target: Appointment | None  # the appointment overbooked, if any
    overtime_if_both: int  # extra minutes past the block when target and patient both show
    wait_if_both: int  # extra waiting minutes then

    def candidate(self, request_id: int) -> Candidate:
        return Candidate(
            request_id,
            self.provider_id,
            self.chair_id,
            self.start,
            self.end,
            self.block_start,
            self.block_end,
            self.target.appointment_id if self.target else None,
        )


def expected_overlap_min(target: Appointment, request: Request, start: int, end: int) -> float:
    overlap = max(0, min(end, target.end) - max(start, target.start))
    return target.show_probability * request.show_probability * overlap


def may_perform(provider: Provider, request: Request) -> bool:
    return provider.provider_id in request.eligible_provider_ids and (
        request.hygienist_allowed or not provider.is_hygienist
    )


def collision_minutes(
    appointments: list[Appointment],
    provider_id: int,
    block: tuple[int, int],
    start: int,
    end: int,
    *,
    gaps_filled: bool = False,
) -> tuple[int, int]:
    """Extra (overtime, waiting) minutes of the block when everyone, the newcomer too, shows.
    With `gaps_filled`, the provider's free time after the newcomer's start counts as booked
    (other placements may fill it), so no gap absorbs the delay."""
    visits = sorted(
        (
            Visit(a.start, a.end)
            for a in appointments
            if a.provider_id == provider_id and block[0] <= a.start < block[1]
        ),
        key=lambda v: v.start,
    )
    if gaps_filled:
        fillers, free_from = [], start
        for v in visits:
            if v.start > free_from:
                fillers.append(Visit(free_from, v.start))
            free_from = max(free_from, v.end)
        if free_from < block[1]:
            fillers.append(Visit(free_from, block[1]))
        visits += fillers
    before = play(visits, block[1])
    after = play([*visits, Visit(start, end)], block[1])
    return after.overtime_min - before.overtime_min, after.wait_min - before.wait_min


@dataclass(frozen=True)
class SlotTable:
    """The slots of one provider and duration as columns, for filtering many requests fast."""

    slots: list[Slot]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    target_show: npt.NDArray[np.float64]  # 0 for a free slot
    overlap: npt.NDArray[np.int64]  # minutes overlapping the target
    overtime_if_both: npt.NDArray[np.float64]
    wait_if_both: npt.NDArray[np.float64]

    @classmethod
    def of(cls, slots: list[Slot]) -> SlotTable:
        def overlap(s: Slot) -> int:
            t = s.target
            return 0 if t is None else max(0, min(s.end, t.end) - max(s.start, t.start))

        return cls(
            slots=slots,
            start=np.array([s.start for s in slots], dtype=np.int64),
            end=np.array([s.end for s in slots], dtype=np.int64),
            target_show=np.array(
                [s.target.show_probability if s.target else 0.0 for s in slots], dtype=np.float64
            ),
            overlap=np.array([overlap(s) for s in slots], dtype=np.int64),
            overtime_if_both=np.array([s.overtime_if_both for s in slots], dtype=np.float64),
            wait_if_both=np.array([s.wait_if_both for s in slots], dtype=np.float64),
        )


class SlotIndex:
    def __init__(self, instance: Instance, occupancy: Occupancy | None = None) -> None:
        self.instance = instance
        self.occupancy = occupancy if occupancy is not None else occupancy_of(instance.appointments)
        self._by_provider: dict[int, list[Appointment]] = {
            p.provider_id: [] for p in instance.providers
        }
        self._by_day: dict[tuple[int, int], list[Appointment]] = {}
        for a in instance.appointments:
            self._by_provider[a.provider_id].append(a)
            self._by_day.setdefault((a.provider_id, a.start // DAY), []).append(a)
        self._cache: dict[tuple[int, int, bool], SlotTable] = {}

    def _chairs_in_order(self, provider: Provider, start: int) -> list[int]:
        ids = [c.chair_id for c in self.instance.chairs]
        same_day = self._by_day.get((provider.provider_id, start // DAY), [])
        if same_day:
            home = min(same_day, key=lambda a: abs(a.start - start)).chair_id
        else:
            home = ids[self.instance.providers.index(provider) % len(ids)]
        return [home] + [i for i in ids if i != home]

    def table(self, provider: Provider, duration: int, *, allow_overbook: bool) -> SlotTable:
        key = (provider.provider_id, duration, allow_overbook)
        if key not in self._cache:
            self._cache[key] = SlotTable.of(self._build(provider, duration, allow_overbook))
        return self._cache[key]

    def patient_free(
        self, patient_id: int | None, start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        if patient_id is None:
            return np.ones(len(start), dtype=np.bool_)
        return self.occupancy.free_many(("patient", patient_id), start, end)

    def _build(self, provider: Provider, duration: int, allow_overbook: bool) -> list[Slot]:
        grid = self.instance.policy.grid_min
        result = []
        for block in bookable_blocks(self.instance, provider):
            first = -(-block.start // grid) * grid
            for start in range(first, block.end - duration + 1, grid):
                end = start + duration
                target = None
                if not self.occupancy.is_free(("provider", provider.provider_id), start, end):
                    if not allow_overbook:
                        continue
                    held = [
                        a
                        for a in self._by_provider[provider.provider_id]
                        if a.start < end and start < a.end
                    ]
                    if len(held) != 1 or held[0].is_overbook or held[0].has_overbook:
                        continue
                    target = held[0]
                overtime, wait = (0, 0)
                if target is not None:
                    overtime, wait = collision_minutes(
                        self.instance.appointments,
                        provider.provider_id,
                        (block.start, block.end),
                        start,
                        end,
                        gaps_filled=self.instance.policy.collision_gaps_filled,
                    )
                chairs = [
                    c
                    for c in self._chairs_in_order(provider, start)
                    if self.occupancy.is_free(("chair", c), start, end)
                ][: self.instance.policy.chair_options]
                result += [
                    Slot(
                        provider.provider_id,
                        c,
                        start,
                        end,
                        block.start,
                        block.end,
                        target,
                        overtime,
                        wait,
                    )
                    for c in chairs
                ]
        return result
