"""A solver-independent check of placements against every rule; returns the violations found.

Rules: each request placed at most once; on a provider allowed to perform it and a known chair;
for exactly its duration, on the grid, inside one of its windows and one of the provider's
bookable blocks (working hours within opening hours); no overlap on provider, chair or patient
with existing appointments or other placements, except a deliberate overbook of one named
appointment (overlapping it on its provider or chair, not itself an overbook, carrying none yet,
one per target, expected overlap within the cap); expected overtime per provider block within
the limit. The same rules as the core's booking, so a valid placement books without refusal.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from optimizer.calendar import bookable_blocks
from optimizer.candidates import Candidate, expected_overlap_min, may_perform
from optimizer.instance import Instance, Policy
from optimizer.solution import Placement
from optimizer.terms import collision

TOLERANCE = 1e-6


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def validate(
    instance: Instance, placements: list[Placement], *, policy: Policy | None = None
) -> list[str]:
    policy = policy or instance.policy
    requests = {r.request_id: r for r in instance.requests}
    providers = {p.provider_id: p for p in instance.providers}
    chairs = {c.chair_id for c in instance.chairs}
    appointments = {a.appointment_id: a for a in instance.appointments}
    problems: list[str] = []
    counts = Counter(p.request_id for p in placements)
    problems += [f"request {r} placed {n} times" for r, n in counts.items() if n > 1]
    overtime: dict[tuple[int, int], float] = defaultdict(float)
    for p in placements:
        name = f"request {p.request_id}"
        request = requests.get(p.request_id)
        provider = providers.get(p.provider_id)
        if request is None or provider is None or p.chair_id not in chairs:
            problems.append(f"{name}: unknown request, provider or chair")
            continue
        if not may_perform(provider, request):
            problems.append(f"{name}: provider {p.provider_id} may not perform it")
        if p.end - p.start != request.duration_min or p.start % policy.grid_min:
            problems.append(f"{name}: wrong duration or off the {policy.grid_min}-minute grid")
        if not any(w.contains(p.start, p.end) for w in request.windows):
            problems.append(f"{name}: outside the patient's windows")
        block = next(
            (b for b in bookable_blocks(instance, provider) if b.contains(p.start, p.end)), None
        )
        if block is None:
            problems.append(f"{name}: outside the provider's working or opening hours")
        for a in instance.appointments:
            if not _overlap(p.start, p.end, a.start, a.end) or a.appointment_id == p.overbook_of:
                continue
            for resource, same in (
                ("provider", a.provider_id == p.provider_id),
                ("chair", a.chair_id == p.chair_id),
                ("patient", a.patient_id is not None and a.patient_id == request.patient_id),
            ):
                if same:
                    problems.append(f"{name}: {resource} held by appointment {a.appointment_id}")
        if p.overbook_of is None:
            continue
        target = appointments.get(p.overbook_of)
        if target is None:
            problems.append(f"{name}: overbooks unknown appointment {p.overbook_of}")
            continue
        shares = target.provider_id == p.provider_id or target.chair_id == p.chair_id
        if not shares or not _overlap(p.start, p.end, target.start, target.end):
            problems.append(f"{name}: does not overlap appointment {target.appointment_id}")
        if target.is_overbook or target.has_overbook:
            problems.append(f"{name}: appointment {target.appointment_id} may not be overbooked")
        if expected_overlap_min(target, request, p.start, p.end) > (
            policy.max_expected_overlap_min + TOLERANCE
        ):
            problems.append(f"{name}: expected overlap above the cap")
        if block is not None:
            candidate = Candidate(
                p.request_id,
                p.provider_id,
                p.chair_id,
                p.start,
                p.end,
                block.start,
                block.end,
                p.overbook_of,
            )
            cost = collision(
                instance.appointments,
                candidate,
                request,
                gaps_filled=policy.collision_gaps_filled,
            )
            overtime[(p.provider_id, block.start)] += cost.overtime_min
    targets = Counter(p.overbook_of for p in placements if p.overbook_of is not None)
    problems += [f"appointment {a} overbooked {n} times" for a, n in targets.items() if n > 1]
    problems += [
        f"provider {prov} block at minute {start}: expected overtime {minutes:.1f} > limit"
        for (prov, start), minutes in overtime.items()
        if minutes > policy.overtime_limit_min + TOLERANCE
    ]
    problems += _placements_overlapping(instance, placements)
    return problems


def _placements_overlapping(instance: Instance, placements: list[Placement]) -> list[str]:
    patient = {r.request_id: r.patient_id for r in instance.requests}
    problems = []
    ordered = sorted(placements, key=lambda p: p.start)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            for resource, same in (
                ("provider", a.provider_id == b.provider_id),
                ("chair", a.chair_id == b.chair_id),
                (
                    "patient",
                    patient.get(a.request_id) is not None
                    and patient.get(a.request_id) == patient.get(b.request_id),
                ),
            ):
                if same:
                    problems.append(
                        f"requests {a.request_id} and {b.request_id} share a {resource}"
                    )
    return problems
