"""No two active appointments may overlap on a provider, chair or patient: the import's new and
changed appointments are checked against each other and against every stored appointment, as
they will stand after the import (half-open intervals, as in the core)."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from core_app.adapters.interchange import active_between
from core_app.service_layer.importing.context import Context
from core_app.service_layer.importing.visit_rules import ACTIVE
from core_app.service_layer.importing.visits import FILE, VisitPlan


class Held(NamedTuple):
    start: int
    end: int
    plan: VisitPlan | None  # None: a stored appointment the files do not touch
    label: str  # how the other side is named in a problem
    checked: bool  # new or changed by this import


def check_overlaps(ctx: Context, plans: list[VisitPlan]) -> None:
    checked = [p for p in plans if p.state and p.state.status in ACTIVE and (p.is_new or p.changed)]
    if not checked:
        return
    by_ref = {p.ref: p for p in plans}
    replaced = {p.stored.appointment_id for p in plans if p.stored and p.changed}
    held: dict[str, list[Held]] = defaultdict(list)
    for p in checked:
        s = p.state
        if s is not None:
            for key in (s.provider, s.chair, s.patient):
                held[key].append(Held(s.start, s.end, p, _label(p), True))
    everything = [h for intervals in held.values() for h in intervals]
    window = (min(h.start for h in everything), max(h.end for h in everything))
    names = _names(ctx, plans)
    for a in active_between(ctx.uow_connection(), *window):
        if a.appointment_id in replaced:
            continue
        plan = by_ref.get(a.source_ref or "")
        label = _label(plan) if plan else f"{a.source_ref or a.appointment_id} (stored)"
        for key in (f"provider#{a.provider_id}", f"chair#{a.chair_id}", f"patient#{a.patient_id}"):
            if key in held:
                held[key].append(Held(a.start, a.end, plan, label, False))
    for key, intervals in held.items():
        intervals.sort(key=lambda h: (h.start, h.end))
        latest: Held | None = None
        for current in intervals:
            if latest is not None and current.start < latest.end:
                _report(ctx, key, names, current, latest)
            if latest is None or current.end > latest.end:
                latest = current


def _label(plan: VisitPlan) -> str:
    return f"{plan.row.appointment_id} (line {plan.row.line})"


def _report(ctx: Context, key: str, names: dict[str, str], current: Held, latest: Held) -> None:
    if current.checked and current.plan is not None:
        plan, other = current.plan, latest
    elif latest.checked and latest.plan is not None:
        plan, other = latest.plan, current
    else:
        return  # two stored appointments (e.g. a deliberate overbook): not this import's doing
    kind = key.split("#")[0].split("+")[0]
    column = {"provider": "provider", "chair": "chair", "patient": "patient_id"}[kind]
    ctx.fail(
        FILE,
        plan.row.line,
        column,
        f"{kind} {names.get(key, key)} is held by appointment {other.label} at that time",
    )


def _names(ctx: Context, plans: list[VisitPlan]) -> dict[str, str]:
    """Readable names of resource keys: provider and chair names, patients' source keys."""
    names = {f"provider#{i}": repr(n) for i, n in ctx.world.provider_names.items()}
    names.update({f"chair#{i}": repr(n) for i, n in ctx.world.chair_names.items()})
    names.update({f"patient#{p.patient_id}": repr(k) for k, p in ctx.stored.patients.items()})
    for p in plans:
        names[p.provider.key] = repr(p.provider.name)
        names[p.chair.key] = repr(p.chair.name)
        names.setdefault(p.patient, repr(p.row.patient_id))
    return names
