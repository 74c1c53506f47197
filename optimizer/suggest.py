"""`suggest`: the best k slots for one request, each with the terms that make it good.

For one request the objective is a sum over its own option, so ranking the options by their
terms is exact; no solver is needed and the answer comes in well under a second. The request is
checked against the schedule as it stands (existing appointments, plus `taken`: placements not
yet booked, e.g. earlier accepted suggestions).
"""

from __future__ import annotations

from optimizer.candidates import SlotIndex
from optimizer.instance import Appointment, Instance
from optimizer.options import Option, options_for
from optimizer.solution import Placement, Suggestion

LABELS = {
    "production": "expected production",
    "utilization": "fills chair time",
    "preference": "in the patient's preferred time",
    "urgency": "urgent or long waiting",
    "overtime": "risk of overtime",
    "waiting": "risk of waiting",
}


def why(option: Option) -> str:
    named = sorted(option.terms.items(), key=lambda kv: -abs(kv[1]))
    parts = [f"{LABELS[name]} {points:+d}" for name, points in named if points]
    kind = (
        f"overbook of appointment {option.candidate.overbook_of}; "
        if option.candidate.overbook_of
        else ""
    )
    return kind + ", ".join(parts)


def _as_appointments(taken: list[Placement], instance: Instance) -> list[Appointment]:
    patient = {r.request_id: r.patient_id for r in instance.requests}
    return [
        Appointment(
            appointment_id=-1 - i,
            provider_id=p.provider_id,
            chair_id=p.chair_id,
            patient_id=patient.get(p.request_id),
            start=p.start,
            end=p.end,
            show_probability=1.0,
            production_cents=0,
            is_overbook=p.overbook_of is not None,
        )
        for i, p in enumerate(taken)
    ]


def suggest(
    instance: Instance, request_id: int, *, k: int = 5, taken: list[Placement] | None = None
) -> list[Suggestion]:
    request = instance.request(request_id)
    if taken:
        instance = instance.model_copy(
            update={"appointments": instance.appointments + _as_appointments(taken, instance)}
        )
    options = options_for(
        SlotIndex(instance), request, allow_overbook=instance.policy.allow_overbook
    )
    result: list[Suggestion] = []
    seen: set[tuple[int, int]] = set()
    for option in options:
        slot = (option.candidate.provider_id, option.candidate.start)
        if slot in seen:
            continue  # the same provider and time in another chair is not another choice
        seen.add(slot)
        result.append(
            Suggestion(rank=len(result) + 1, placement=option.placement(), why=why(option))
        )
        if len(result) == k:
            break
    return result
