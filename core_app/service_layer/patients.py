"""Patients: registering them, and reading their details (every read is audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core_app.domain.patient import ContactPreference, Patient
from core_app.domain.staff import Action, Actor
from core_app.service_layer.queries import patients_read
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, require_id, run_use_case


@dataclass(frozen=True)
class PatientDetails:
    patient_id: int
    clinic_id: int
    first_name: str
    last_name: str
    birth_date: date
    phone: str | None
    email: str | None
    notes: str | None
    contact_preference: str


def add_patient(
    uow: UnitOfWork,
    actor: Actor,
    *,
    clinic_id: int,
    first_name: str,
    last_name: str,
    birth_date: date,
    phone: str | None = None,
    email: str | None = None,
    notes: str | None = None,
    sex: str | None = None,
    distance_km: float | None = None,
    has_insurance: bool = False,
    contact_preference: ContactPreference = ContactPreference.SMS,
) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.ADD_PATIENT, clinic_id=clinic_id)
        clinic = require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        now = uow.now()
        patient = Patient.register(
            clinic_id=clinic_id,
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            today=clinic.local_date(now),
            phone=phone,
            email=email,
            notes=notes,
            sex=sex,
            distance_km=distance_km,
            has_insurance=has_insurance,
            contact_preference=contact_preference,
            created_at=now,
        )
        patient_id = require_id(uow.patients.add(patient).patient_id)
        uow.audit(actor, "patient.add", "patient", patient_id)
        return patient_id

    return run_use_case(
        uow, actor, action="patient.add", entity_type="patient", entity_id=None, work=work
    )


def _details(patient: Patient) -> PatientDetails:
    return PatientDetails(
        patient_id=require_id(patient.patient_id),
        clinic_id=patient.clinic_id,
        first_name=patient.first_name,
        last_name=patient.last_name,
        birth_date=patient.birth_date,
        phone=patient.phone,
        email=patient.email,
        notes=patient.notes,
        contact_preference=str(patient.contact_preference),
    )


def get_patient(uow: UnitOfWork, actor: Actor, patient_id: int) -> PatientDetails:
    def work(uow: UnitOfWork) -> PatientDetails:
        patient = require(uow.patients.get(patient_id), "patient", patient_id)
        actor.require(Action.READ_PATIENT, clinic_id=patient.clinic_id)
        uow.audit(actor, "patient.read", "patient", patient_id)
        return _details(patient)

    return run_use_case(
        uow, actor, action="patient.read", entity_type="patient", entity_id=patient_id, work=work
    )


def list_patients(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, limit: int = 100, offset: int = 0
) -> list[PatientDetails]:
    def work(uow: UnitOfWork) -> list[PatientDetails]:
        actor.require(Action.READ_PATIENT, clinic_id=clinic_id)
        found = [
            _details(p) for p in uow.patients.for_clinic(clinic_id, limit=limit, offset=offset)
        ]
        read = [p.patient_id for p in found]
        detail = patients_read(read, "list") if read else None
        uow.audit(actor, "patient.read", "patient", None, detail=detail)
        return found

    return run_use_case(
        uow,
        actor,
        action="patient.read",
        entity_type="patient",
        entity_id=None,
        work=work,
        read_only=True,
    )
