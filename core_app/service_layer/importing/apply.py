"""Carrying out a valid plan inside the import's transaction: create the clinics, providers and
chairs it names (through the practice use cases), update changed records, then load every new
record in one `load_history` call, and link payments to appointments that already existed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from core_app.adapters.interchange import link_payments
from core_app.domain.history import HistoricPatient, HistoricPayment, HistoricRefund, HistoricVisit
from core_app.domain.staff import Actor
from core_app.service_layer import practice
from core_app.service_layer.history import HistoryRefused, LoadReport, load_history
from core_app.service_layer.importing import updates
from core_app.service_layer.importing.ids import Ids
from core_app.service_layer.importing.joined import JoinedUnitOfWork, database_errors_surface
from core_app.service_layer.importing.patients import FILE as PATIENTS_FILE
from core_app.service_layer.importing.patients import PatientPlan, stored_form
from core_app.service_layer.importing.payments import FILE as PAYMENTS_FILE
from core_app.service_layer.importing.payments import PaymentPlan
from core_app.service_layer.importing.plan import Plan
from core_app.service_layer.importing.problems import ImportProblem, ImportRefused
from core_app.service_layer.importing.visits import FILE as VISITS_FILE
from core_app.service_layer.importing.visits import VisitPlan, as_historic
from core_app.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Applied:
    created: dict[str, list[str]]  # clinics, providers, chairs created, by name
    updated: dict[str, int]
    charges: int
    refunds: int


def apply_plan(uow: UnitOfWork, actor: Actor, plan: Plan) -> Applied:
    joined = JoinedUnitOfWork(uow)
    ids = Ids()
    with database_errors_surface():
        created = _create_setup(joined, actor, plan, ids)
    patients = updates.update_patients(uow, actor, plan.patients)
    visits, charges = updates.update_visits(uow, actor, plan.visits, ids)
    payments, refunds = updates.update_payments(uow, actor, plan.payments, ids)
    uow.session.flush()
    report = _load_new(joined, actor, plan, ids)
    _link_payments(uow, actor, plan, ids, report)
    return Applied(
        created=created,
        updated={"patients": patients, "appointments": visits, "payments": payments},
        charges=charges + report.charges,
        refunds=refunds + report.refunds,
    )


def _create_setup(uow: UnitOfWork, actor: Actor, plan: Plan, ids: Ids) -> dict[str, list[str]]:
    world = plan.world
    created = {
        "clinics": [c.name for c in world.planned_clinics()],
        "providers": [f"{p.clinic}/{p.name}" for p in world.planned_providers()],
        "chairs": [f"{c.clinic}/{c.name}" for c in world.planned_chairs()],
    }
    clinic_ids = {name: c.clinic_id for name, c in world.clinics.items() if c.clinic_id}
    for clinic in world.planned_clinics():
        clinic.clinic_id = practice.create_clinic(
            uow,
            actor,
            name=clinic.name,
            timezone=clinic.timezone,
            currency=clinic.currency,
            country=clinic.country,
            hours=clinic.hours,
        )
        clinic_ids[clinic.name] = clinic.clinic_id
    for provider in world.planned_providers():
        clinic = world.clinics[provider.clinic]
        ids.add(
            provider.key,
            practice.add_provider(
                uow,
                actor,
                name=provider.name,
                kind=provider.kind or world.options.kind_for(provider.name),
                clinic_id=clinic_ids[clinic.name],
                hours=clinic.hours or world.hours,
            ),
        )
    for chair in world.planned_chairs():
        ids.add(
            chair.key,
            practice.add_chair(uow, actor, clinic_id=clinic_ids[chair.clinic], name=chair.name),
        )
    return created


def _load_new(uow: JoinedUnitOfWork, actor: Actor, plan: Plan, ids: Ids) -> LoadReport:
    clinic_ids = {name: c.clinic_id or 0 for name, c in plan.world.clinics.items()}
    new_patients = [p for p in plan.patients if p.stored is None]
    new_visits = [v for v in plan.visits if v.stored is None]
    new_payments = [p for p in plan.payments if p.stored is None]
    patient_index = {p.key: n for n, p in enumerate(new_patients)}
    visit_index = {v.key: n for n, v in enumerate(new_visits)}
    try:
        with database_errors_surface():
            report = load_history(
                uow,
                actor,
                patients=[_patient(p, clinic_ids, plan.now) for p in new_patients],
                visits=[_visit(v, clinic_ids, ids, patient_index) for v in new_visits],
                payments=[
                    _payment(p, clinic_ids, ids, patient_index, visit_index) for p in new_payments
                ],
            )
    except HistoryRefused as refused:
        raise _as_import_problems(refused, plan) from refused
    for v, appointment_id in zip(new_visits, report.appointment_ids, strict=True):
        ids.add(v.key, appointment_id)
    for p, payment_id in zip(new_payments, report.payment_ids, strict=True):
        ids.add(p.ref, payment_id)
    return report


def _patient(plan: PatientPlan, clinic_ids: dict[str, int], now: int) -> HistoricPatient:
    s = plan.state
    form = stored_form(s, plan.clinic.local_today(datetime.fromtimestamp(now, UTC)))
    return HistoricPatient(
        clinic_id=clinic_ids[s.clinic],
        first_name=form.first_name,
        last_name=form.last_name,
        birth_date_iso=form.birth_date.isoformat(),
        created_epoch=s.created,
        sex=s.sex,
        distance_km=s.distance_km,
        has_insurance=s.has_insurance,
        contact_preference=s.contact_preference,
        phone=s.phone,
        email=s.email,
        notes=form.notes,
        source_ref=plan.ref,
    )


def _visit(
    plan: VisitPlan, clinic_ids: dict[str, int], ids: Ids, patient_index: dict[str, int]
) -> HistoricVisit:
    s = plan.state
    if s is None:
        raise ValueError(f"appointment {plan.ref} was not planned")
    return as_historic(
        s,
        plan,
        clinic_id=clinic_ids[s.clinic],
        provider_id=ids[s.provider],
        chair_id=ids[s.chair],
        patient_id=ids.get(plan.patient),
        new_patient=patient_index.get(plan.patient),
    )


def _payment(
    plan: PaymentPlan,
    clinic_ids: dict[str, int],
    ids: Ids,
    patient_index: dict[str, int],
    visit_index: dict[str, int],
) -> HistoricPayment:
    s = plan.state
    refunds = (
        (HistoricRefund(s.refunded_cents, s.refunded, plan.refund_reason),)
        if s.refunded_cents and s.refunded is not None
        else ()
    )
    return HistoricPayment(
        clinic_id=clinic_ids[s.clinic],
        amount_cents=s.amount_cents,
        currency=s.currency,
        method=s.method,
        received_epoch=s.received,
        patient_id=ids.get(s.patient),
        new_patient=patient_index.get(s.patient),
        visit=visit_index.get(s.appointment) if s.appointment else None,
        reference=s.reference,
        refunds=refunds,
        source_ref=plan.ref,
    )


def _link_payments(uow: UnitOfWork, actor: Actor, plan: Plan, ids: Ids, report: LoadReport) -> None:
    """Links `load_history` cannot make: a new payment for an appointment that was stored
    before, and a stored payment now for an appointment this import created."""
    links: list[tuple[int, int | None]] = []
    for pay in plan.payments:
        target = pay.state.appointment
        if target is None:
            continue
        if pay.stored is None and target.startswith("appointment#"):
            links.append((ids.created[pay.ref], ids[target]))
        elif pay.stored is not None and pay.changed and target.startswith("appointment+"):
            links.append((pay.stored.payment_id, ids[target]))
    link_payments(uow.session.connection(), links)
    for payment_id, _ in links:
        uow.audit(actor, "payment.update", "payment", payment_id, detail="import: appointment_id")


_WHERE = re.compile(r"^(patient|visit|payment) (\d+)")


def _as_import_problems(refused: HistoryRefused, plan: Plan) -> ImportRefused:
    """Should the core refuse what the plan passed, report its reasons by file and line."""
    rows = {
        "patient": [(PATIENTS_FILE, p.line) for p in plan.patients if p.stored is None],
        "visit": [(VISITS_FILE, v.row.line) for v in plan.visits if v.stored is None],
        "payment": [(PAYMENTS_FILE, p.row.line) for p in plan.payments if p.stored is None],
    }
    found = []
    for problem in refused.problems:
        match = _WHERE.match(problem.where)
        file, line = ("", 0)
        if match and int(match.group(2)) < len(rows[match.group(1)]):
            file, line = rows[match.group(1)][int(match.group(2))]
        found.append(ImportProblem(file, line, "", problem.reason))
    return ImportRefused(found)
