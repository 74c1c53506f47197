"""Where a provider can be booked: working hours within opening hours, and what is taken."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from optimizer.instance import WEEK_MINUTES, Appointment, Instance, Interval, Provider


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    result = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if end > start:
                result.append(Interval(start=start, end=end))
    return sorted(result, key=lambda i: i.start)


def bookable_blocks(instance: Instance, provider: Provider) -> list[Interval]:
    """The provider's working hours inside the clinic's opening hours."""
    return intersect(provider.working, instance.opening)


class Occupancy:
    """Minutes taken per resource, for O(1) "is [start, end) free?" checks (prefix sums)."""

    def __init__(self) -> None:
        self._taken: dict[tuple[str, int], npt.NDArray[np.int64]] = {}
        self._prefix: dict[tuple[str, int], npt.NDArray[np.int64]] = {}

    def take(self, key: tuple[str, int], start: int, end: int) -> None:
        taken = self._taken.setdefault(key, np.zeros(WEEK_MINUTES, dtype=np.int64))
        taken[start:end] += 1
        self._prefix.pop(key, None)

    def _prefix_of(self, key: tuple[str, int]) -> npt.NDArray[np.int64]:
        prefix = self._prefix.get(key)
        if prefix is None:
            prefix = np.concatenate([[0], np.cumsum(self._taken[key] > 0)])
            self._prefix[key] = prefix
        return prefix

    def is_free(self, key: tuple[str, int], start: int, end: int) -> bool:
        if key not in self._taken:
            return True
        prefix = self._prefix_of(key)
        return bool(prefix[end] == prefix[start])

    def free_many(
        self, key: tuple[str, int], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        if key not in self._taken:
            return np.ones(len(start), dtype=np.bool_)
        prefix = self._prefix_of(key)
        result: npt.NDArray[np.bool_] = prefix[end] == prefix[start]
        return result


def occupancy_of(appointments: Iterable[Appointment]) -> Occupancy:
    occupancy = Occupancy()
    for a in appointments:
        occupancy.take(("provider", a.provider_id), a.start, a.end)
        occupancy.take(("chair", a.chair_id), a.start, a.end)
        if a.patient_id is not None:
            occupancy.take(("patient", a.patient_id), a.start, a.end)
    return occupancy
