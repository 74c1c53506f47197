"""The state of things "now" (local midnight of `--today`): which appointments exist yet and
their status, and the open requests for the optimizer.

An appointment exists once it has been booked. A past one ended completed, no-show or
cancelled; a future one is booked or confirmed, or cancelled if that happened before now (a
cancellation or confirmation that comes later has not happened yet).

Open requests (someone waiting for an appointment) have no table in the core yet, so they are
written to a parquet file beside the database:
- recall_due: a recall patient whose recall fell due in the last 90 days or falls due within
  the next 28 and who has no recall appointment booked from now on;
- waitlist: a request that found no room within the days tried (capacity overflow) and was made
  before now, for the last 28 days or later; and booked patients who asked for an earlier slot
  (`earlier_share` of future appointments at least a week ahead);
- new_patient: an unplaced new-patient examination (no patient record yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.timeline import BoolArray, IntArray

STATUSES = ("booked", "confirmed", "completed", "no_show", "cancelled")
BOOKED, CONFIRMED, COMPLETED, NO_SHOW, CANCELLED = range(5)
REQUEST_KINDS = ("recall_due", "waitlist", "new_patient")


def statuses(
    now: int,
    start: IntArray,
    cancelled_at: IntArray,
    confirmed_at: IntArray,
    no_show: BoolArray,
) -> IntArray:
    past = start < now
    cancelled = (cancelled_at >= 0) & (cancelled_at < now)
    confirmed = (confirmed_at >= 0) & (confirmed_at < now)
    future_status = np.where(confirmed, CONFIRMED, BOOKED)
    past_status = np.where(no_show, NO_SHOW, COMPLETED)
    status: IntArray = np.where(cancelled, CANCELLED, np.where(past, past_status, future_status))
    return status


@dataclass(frozen=True)
class OpenRequests:
    kind: IntArray  # index into REQUEST_KINDS
    clinic: IntArray
    patient: IntArray  # population index, -1: not a patient yet
    vtype: IntArray
    earliest_day: IntArray
    latest_day: IntArray
    appointment: IntArray  # for "wants an earlier slot": the booked appointment; else -1

    def __len__(self) -> int:
        return len(self.kind)


def concat(parts: list[OpenRequests]) -> OpenRequests:
    return OpenRequests(
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in OpenRequests.__annotations__
        )
    )
