"""No two active appointments may overlap on a provider, chair or patient: the import's new and
changed appointments are checked against each other and against every stored appointment, as
they will stand after the import (half-open intervals, as in the core)."""

from __future__ import annotations

from collections import defaultdict

from core_app.adapters.interchange import ActiveAppointment, active_between
from core_app.service_layer.importing.context import Context
from core_app.service_layer.importing.visit_rules import ACTIVE
from core_app.service_layer.importing.visits import FILE, VisitPlan

#: (start, end, index): index >= 0 is a plan of the files, < 0 a stored appointment (~index)
Held = tuple[int, int, int]
COLUMNS = {"provider": "provider", "chair": "chair", "patient": "patient_id"}


def check_overlaps(ctx: Context, plans: list[VisitPlan]) -> None:
    checked = [
        n
        for n, p in enumerate(plans)
        if p.state and p.state.status in ACTIVE and (p.is_new or p.changed)
    ]
    if not checked:
        return
    held: dict[str, list[Held]] = defaultdict(list)
    for n in checked:
        s = plans[n].state
        if s is not None:
            held[s.provider].append((s.start, s.end, n))
            held[s.chair].append((s.start, s.end, n))
            held[s.patient].append((s.start, s.end, n))
    window_start = min(start for intervals in held.values() for start, _, _ in intervals)
    window_end = max(end for intervals in held.values() for _, end, _ in intervals)
    replaced = {p.stored.appointment_id for p in plans if p.stored and p.changed}
    stored = [
        a
        for a in active_between(ctx.uow_connection(), window_start, window_end)
        if a.appointment_id not in replaced
    ]
    for m, a in enumerate(stored):
        for key in (f"provider#{a.provider_id}", f"chair#{a.chair_id}", f"patient#{a.patient_id}"):
            if key in held:
                held[key].append((a.start, a.end, ~m))
    report = _Reporter(ctx, plans, stored, set(checked))
    for key, intervals in held.items():
        intervals.sort()
        latest: Held | None = None
        for current in intervals:
            if latest is not None and current[0] < latest[1]:
                report(key, current[2], latest[2])
            if latest is None or current[1] > latest[1]:
                latest = current


class _Reporter:
    """Turns an overlapping pair into a problem on the import's row, naming the other side."""

    def __init__(
        self,
        ctx: Context,
        plans: list[VisitPlan],
        stored: list[ActiveAppointment],
        checked: set[int],
    ) -> None:
        self.ctx, self.plans, self.stored, self.checked = ctx, plans, stored, checked
        self._by_ref: dict[str, VisitPlan] | None = None
        self._names: dict[str, str] | None = None

    def __call__(self, key: str, current: int, latest: int) -> None:
        if current in self.checked:
            mine, other = current, latest
        elif latest in self.checked:
            mine, other = latest, current
        else:
            return  # two stored appointments (e.g. a deliberate overbook): not this import's
        kind = key.split("#")[0].split("+")[0]
        self.ctx.fail(
            FILE,
            self.plans[mine].row.line,
            COLUMNS[kind],
            f"{kind} {self.name(key)} is held by appointment {self.label(other)} at that time",
        )

    def label(self, index: int) -> str:
        if index >= 0:
            return _label(self.plans[index])
        if self._by_ref is None:
            self._by_ref = {p.ref: p for p in self.plans}
        a = self.stored[~index]
        plan = self._by_ref.get(a.source_ref or "")
        return _label(plan) if plan else f"{a.source_ref or a.appointment_id} (stored)"

    def name(self, key: str) -> str:
        """A resource key as people know it: provider and chair names, patients' source keys."""
        if self._names is None:
            world = self.ctx.world
            names = {f"provider#{i}": repr(n) for i, n in world.provider_names.items()}
            names.update({f"chair#{i}": repr(n) for i, n in world.chair_names.items()})
            for source_key, patient in self.ctx.stored.patients.items():
                names[f"patient#{patient.patient_id}"] = repr(source_key)
            for p in self.plans:
                names[p.provider.key] = repr(p.provider.name)
                names[p.chair.key] = repr(p.chair.name)
                names.setdefault(p.patient, repr(p.row.patient_id))
            self._names = names
        return self._names.get(key, key)


def _label(plan: VisitPlan) -> str:
    return f"{plan.row.appointment_id} (line {plan.row.line})"
