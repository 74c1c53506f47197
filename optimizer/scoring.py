"""Simulation scoring: replay a plan against many draws of who shows, from true probabilities.

Each draw decides, independently with its true show probability, whether each existing
appointment and each placed request shows. Every provider block is then played out
(`replay.play`): patients are treated one after another, so an overbook whose target also came
makes later patients wait and may run past the block's end. Reported as means over the draws:
- `utilization`: booked minutes of the patients seen / (chairs x opening minutes), the
  warehouse's realised chair utilization;
- `overtime_min`: minutes past the end of provider blocks, summed over the week;
- `wait_min`: patient waiting minutes beyond their booked start, summed over the week;
- `patients_seen`, `production_cents`: visits that took place and their fees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from optimizer.calendar import bookable_blocks
from optimizer.instance import Instance
from optimizer.replay import Visit, play
from optimizer.solution import Plan


class Realised(BaseModel):
    utilization: float
    overtime_min: float
    wait_min: float
    patients_seen: float
    production_cents: int
    draws: int


def score(
    instance: Instance,
    plan: Plan,
    *,
    appointment_show: Mapping[int, float],
    request_show: Mapping[int, float],
    draws: int = 200,
    seed: int = 0,
) -> Realised:
    requests = {r.request_id: r for r in instance.requests}
    rows = [
        (a.provider_id, a.start, a.end, appointment_show[a.appointment_id], a.production_cents)
        for a in instance.appointments
    ] + [
        (
            p.provider_id,
            p.start,
            p.end,
            request_show[p.request_id],
            requests[p.request_id].production_cents,
        )
        for p in plan.placements
    ]
    blocks: dict[int, list[tuple[int, int]]] = {
        p.provider_id: [(b.start, b.end) for b in bookable_blocks(instance, p)]
        for p in instance.providers
    }
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (provider, start, _end, _p, _fee) in enumerate(rows):
        block_end = next((e for s, e in blocks[provider] if s <= start < e), start)
        groups[(provider, block_end)].append(i)
    probability = np.array([r[3] for r in rows])
    minutes = np.array([r[2] - r[1] for r in rows])
    fees = np.array([r[4] for r in rows])
    shows = np.random.default_rng(seed).random((draws, len(rows))) < probability
    overtime = wait = 0
    for d in range(draws):
        for (_provider, block_end), idx in groups.items():
            came = [Visit(rows[i][1], rows[i][2]) for i in idx if shows[d, i]]
            played = play(came, block_end)
            overtime += played.overtime_min
            wait += played.wait_min
    opening = sum(i.end - i.start for i in instance.opening) * len(instance.chairs)
    return Realised(
        utilization=float((shows @ minutes).mean() / max(1, opening)),
        overtime_min=overtime / draws,
        wait_min=wait / draws,
        patients_seen=float(shows.sum(axis=1).mean()),
        production_cents=round(float((shows @ fees).mean())),
        draws=draws,
    )
