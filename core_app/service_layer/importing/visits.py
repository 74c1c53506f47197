"""Appointments of an import: resolve names to the practice, fill what the file leaves open,
check the core's rules and compare with what is stored.

A value the file leaves empty comes, in this order, from the stored appointment (re-import),
from the status (e.g. a completed visit ended at its end time) or from the catalog (fee,
duration) — see docs/import-format.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from core_app.adapters.interchange import StoredAppointment
from core_app.domain.history import HistoricVisit, check_visit
from core_app.service_layer.importing import visit_rules as rules
from core_app.service_layer.importing.context import Context
from core_app.service_layer.importing.csv_format import APPOINTMENTS, STATUSES
from core_app.service_layer.importing.parse import AppointmentRow
from core_app.service_layer.importing.patients import PatientPlan
from core_app.service_layer.importing.placement import place_date_only
from core_app.service_layer.importing.visit_rules import VisitState
from core_app.service_layer.importing.world import ClinicPlan, ResourcePlan

FILE = APPOINTMENTS.name
DEFAULT_PROVIDER = "Unassigned"
DEFAULT_CANCEL_REASON = "imported"


@dataclass
class VisitPlan:
    row: AppointmentRow
    ref: str
    clinic: ClinicPlan
    provider: ResourcePlan
    chair: ResourcePlan
    patient: str  # key: patient#<id> or patient+<source key>
    codes: tuple[str, ...]
    fees: tuple[int, ...]
    duration_s: int
    stored: StoredAppointment | None
    start: int = 0
    state: VisitState | None = None
    changed: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        if self.stored is not None:
            return f"appointment#{self.stored.appointment_id}"
        return f"appointment+{self.row.appointment_id}"

    @property
    def is_new(self) -> bool:
        return self.stored is None


def settle_visits(ctx: Context, patients: dict[str, PatientPlan]) -> list[VisitPlan]:
    catalog = _Catalog()
    drafts = [d for row in ctx.parsed.appointments if (d := _draft(ctx, row, patients, catalog))]
    place_date_only(drafts)
    return [plan for plan in drafts if _finish(ctx, plan)]


class _Catalog:
    """Per clinic, provider kind and procedure codes: what is wrong, catalog fees, minutes."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, tuple[str, ...]], tuple[list[str], tuple[int, ...], int]]
        self.cache = {}

    def lookup(
        self, clinic: ClinicPlan, provider: ResourcePlan, codes: tuple[str, ...]
    ) -> tuple[list[str], tuple[int, ...], int]:
        key = (clinic.name, str(provider.kind), codes)
        found = self.cache.get(key)
        if found is None:
            reasons, fees, minutes = [], [], 0
            for code in codes:
                item = clinic.catalog.get(code)
                if item is None:
                    reasons.append(f"{code} is not in the clinic's catalog")
                    continue
                if provider.kind == "hygienist" and not item.hygienist_allowed:
                    reasons.append(f"{code} needs a dentist; {provider.name!r} is a hygienist")
                fees.append(item.fee_cents)
                minutes += item.duration_min
            found = self.cache[key] = (reasons, tuple(fees), minutes)
        return found


def patient_key(
    ctx: Context, patients: dict[str, PatientPlan], source_key: str, file: str, line: int
) -> tuple[str, str] | None:
    """(patient key, clinic name) of a patient_id cell; None (and a problem) if unknown."""
    plan = patients.get(source_key)
    if plan is not None:
        return plan.key, plan.clinic.name
    stored = ctx.stored.patients.get(source_key)
    if stored is not None and source_key not in ctx.parsed.seen["patients.csv"]:
        return f"patient#{stored.patient_id}", ctx.world.clinic_names[stored.clinic_id]
    if source_key in ctx.parsed.seen["patients.csv"]:
        ctx.problems.bad.add((file, line))  # its own row has the problem
    else:
        ctx.fail(
            file,
            line,
            "patient_id",
            f"patient_id {source_key!r} is not in patients.csv "
            f"(nor imported before under namespace {ctx.options.namespace!r})",
        )
    return None


def _draft(
    ctx: Context, row: AppointmentRow, patients: dict[str, PatientPlan], catalog: _Catalog
) -> VisitPlan | None:
    # a value the first import filled in by default stays as stored on a re-import
    stored = ctx.stored.appointments.get(row.appointment_id)
    clinic_name = row.clinic or (
        ctx.world.clinic_names[stored.clinic_id] if stored else ctx.options.clinic
    )
    clinic = ctx.clinic(clinic_name, FILE, row.line, "clinic")
    patient = patient_key(ctx, patients, row.patient_id, FILE, row.line)
    if clinic is None or patient is None:
        return None
    ok = True
    if patient[1] != clinic.name:
        ctx.fail(
            FILE,
            row.line,
            "clinic",
            f"patient {row.patient_id!r} is registered at clinic {patient[1]!r}; "
            "dentops keeps each patient at one clinic",
        )
        ok = False
    kept = ctx.world.stored_providers.get(stored.provider_id) if stored else None
    if row.provider is None and kept is not None:
        provider: ResourcePlan | str = kept
    else:
        provider = ctx.world.provider(
            clinic, row.provider or DEFAULT_PROVIDER, row.provider_kind, row.line
        )
    if isinstance(provider, str):
        ctx.fail(FILE, row.line, "provider", provider)
        return None
    kept_chair = ctx.world.stored_chairs.get(stored.chair_id) if stored else None
    if row.chair is None and kept_chair is not None:
        chair = kept_chair
    else:
        chair = ctx.world.chair(clinic, row.chair or f"{provider.name} chair", row.line)
    codes = row.codes or (stored.codes if stored else (ctx.options.procedure,))
    reasons, catalog_fees, minutes = catalog.lookup(clinic, provider, codes)
    for reason in reasons:
        ctx.fail(FILE, row.line, "procedure_code", reason)
    if row.fees is not None and len(row.fees) != len(codes):
        ctx.fail(FILE, row.line, "fee_cents", f"give one fee per procedure ({len(codes)})")
        ok = False
    if reasons or not ok:
        return None
    same_plan = stored is not None and stored.codes == codes
    if row.fees is not None:
        fees = row.fees
    elif stored is not None and same_plan:
        fees = stored.fees
    else:
        fees = catalog_fees
    if row.duration_min is not None:
        duration_s = row.duration_min * 60
    elif stored is not None and same_plan:
        duration_s = stored.end - stored.start
    else:
        duration_s = 60 * minutes
    return VisitPlan(
        row=row,
        ref=ctx.options.source_ref("appointments", row.appointment_id),
        clinic=clinic,
        provider=provider,
        chair=chair,
        patient=patient[0],
        codes=codes,
        fees=fees,
        duration_s=duration_s,
        stored=stored,
        start=0 if row.start_at.date_only else row.start_at.epoch(clinic.zone),
    )


def _finish(ctx: Context, plan: VisitPlan) -> bool:
    """Fill the status times, check the core's rules, compare with the stored appointment."""
    row, zone, status = plan.row, plan.clinic.zone, plan.row.status
    start, end = plan.start, plan.start + plan.duration_s
    booked = row.booked_at.epoch(zone)
    given = (
        row.confirmed_at,
        row.checked_in_at,
        row.completed_at,
        row.no_show_at,
        row.cancelled_at,
    )
    times = [None if stamp is None else stamp.epoch(zone) for stamp in given]
    before = None
    if plan.stored is not None:
        before = rules.state_of(plan.stored, ctx.world.clinic_names[plan.stored.clinic_id])
        allowed = _ALLOWED[status]
        for n, name in enumerate(rules.TIME_FIELDS):
            kept = getattr(before, name)
            # back to booked from confirmed is a reschedule, which drops the confirmation
            unconfirm = name == "confirmed" and status == "booked"
            if times[n] is None and kept is not None and name in allowed and not unconfirm:
                times[n] = kept
    needed = rules.NEEDED.get(status)
    if needed is not None:
        n = _TIME_INDEX[needed]
        if times[n] is None:
            times[n] = rules.derived_time(needed, booked=booked, start=start, end=end)
    reason = row.cancel_reason or (before.cancel_reason if before else None)
    state = VisitState(
        clinic=plan.clinic.name,
        provider=plan.provider.key,
        chair=plan.chair.key,
        patient=plan.patient,
        start=start,
        end=end,
        booked=booked,
        status=status,
        confirmed=times[0],
        checked_in=times[1],
        completed=times[2],
        no_show=times[3],
        cancelled=times[4],
        cancel_reason=(reason or DEFAULT_CANCEL_REASON) if status == "cancelled" else None,
        codes=plan.codes,
        fees=plan.fees,
    )
    reasons = [(rules.column_for(r), r) for r in check_visit(0, as_historic(state, plan))]
    reasons += _future(ctx, state)
    if before is not None and state != before:
        plan.changed = tuple(
            rules.COLUMNS[f] for f in VisitState._fields if getattr(state, f) != getattr(before, f)
        )
        reasons += rules.update_problems(before, state)
    for column, text in reasons:
        ctx.fail(FILE, row.line, column, text)
    plan.state = state
    return not reasons


_ALLOWED = {status: rules.allowed_times(status) for status in STATUSES}
_TIME_INDEX = {name: n for n, name in enumerate(rules.TIME_FIELDS)}


def _future(ctx: Context, state: VisitState) -> list[tuple[str, str]]:
    found = []
    if state.booked > ctx.now:
        found.append(("booked_at", "lies in the future"))
    if state.status in ("checked_in", "completed", "no_show") and state.start > ctx.now:
        found.append(("start_at", f"a {state.status} appointment cannot start in the future"))
    for name in rules.TIME_FIELDS:
        value = getattr(state, name)
        if value is not None and value > ctx.now:
            found.append((rules.COLUMNS[name], "lies in the future"))
    return found


def as_historic(
    state: VisitState,
    plan: VisitPlan,
    *,
    clinic_id: int = 0,
    provider_id: int = 0,
    chair_id: int = 0,
    patient_id: int | None = 0,
    new_patient: int | None = None,
) -> HistoricVisit:
    return HistoricVisit(
        clinic_id=clinic_id,
        provider_id=provider_id,
        chair_id=chair_id,
        start_epoch=state.start,
        end_epoch=state.end,
        booked_epoch=state.booked,
        status=state.status,
        procedure_codes=state.codes,
        patient_id=patient_id,
        new_patient=new_patient,
        fees_cents=state.fees,
        confirmed_epoch=state.confirmed,
        checked_in_epoch=state.checked_in,
        completed_epoch=state.completed,
        no_show_epoch=state.no_show,
        cancelled_epoch=state.cancelled,
        cancel_reason=state.cancel_reason,
        source_ref=plan.ref,
    )
