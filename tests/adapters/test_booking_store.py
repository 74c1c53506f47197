"""The booking's Core reads (`booking_store`): the same facts as the ORM loads, never attached
to the session, and one statement for the appointments in the way on all three resources."""

from __future__ import annotations

import subprocess
import sys

from core_app.adapters import booking_store
from core_app.service_layer import appointments
from tests.conftest import Practice, local
from tests.service_layer.helpers import book


def test_reads_the_same_practice_facts_as_the_orm(practice: Practice) -> None:
    with practice.app.uow() as uow:
        connection = uow.session.connection()
        chair = booking_store.chair(connection, practice.chair_ids[1])
        clinic = booking_store.clinic(connection, practice.clinic_id)
        provider = booking_store.provider(connection, practice.hygienist_id)
        patient = booking_store.patient(connection, practice.patient_ids[0])
        codes = booking_store.procedures(connection, practice.clinic_id, ["D1110", "D0120"])
        assert not uow.session.identity_map  # nothing loaded through the session
        assert chair is not None and clinic is not None
        assert provider is not None and patient is not None

        orm_chair = uow.chairs.get(practice.chair_ids[1])
        orm_clinic = uow.clinics.get(practice.clinic_id)
        orm_provider = uow.providers.get(practice.hygienist_id)
        orm_patient = uow.patients.get(practice.patient_ids[0])
        assert orm_chair and orm_clinic and orm_provider and orm_patient
        assert (chair.chair_id, chair.clinic_id, chair.name, chair.is_active) == (
            orm_chair.chair_id,
            orm_chair.clinic_id,
            orm_chair.name,
            orm_chair.is_active,
        )
        assert (clinic.timezone, clinic.currency, clinic.is_active) == (
            orm_clinic.timezone,
            orm_clinic.currency,
            orm_clinic.is_active,
        )
        assert [h.block for h in clinic.opening_hours] == [
            h.block for h in orm_clinic.opening_hours
        ]
        assert (provider.kind, provider.is_active) == (orm_provider.kind, orm_provider.is_active)
        assert [(h.clinic_id, h.block) for h in provider.working_hours] == [
            (h.clinic_id, h.block) for h in orm_provider.working_hours
        ]
        assert (patient.patient_id, patient.clinic_id, patient.first_name, patient.is_active) == (
            orm_patient.patient_id,
            orm_patient.clinic_id,
            orm_patient.first_name,
            orm_patient.is_active,
        )
        assert sorted(p.code for p in codes) == ["D0120", "D1110"]
        assert booking_store.chair(connection, 999_999) is None
        assert booking_store.clinic(connection, 999_999) is None
        assert booking_store.provider(connection, 999_999) is None
        assert booking_store.patient(connection, 999_999) is None


def test_one_statement_finds_what_holds_the_provider_the_chair_or_the_patient(
    practice: Practice,
) -> None:
    on_provider = book(practice, 1, "10:00", patient=1, chair=1)  # the dentist, 10:00-11:00
    on_chair = book(practice, 1, "10:30", patient=2, provider_id=practice.dentist2_id)
    on_patient = book(practice, 1, "10:15", chair=2, provider_id=practice.hygienist_id)
    book(practice, 1, "11:00", patient=1, chair=1)  # back to back: no overlap
    cancelled = book(practice, 1, "12:00", patient=2)
    appointments.cancel_appointment(practice.app.uow(), practice.admin, cancelled, reason="ill")

    with practice.app.uow() as uow:
        found = booking_store.overlapping(
            uow.session.connection(),
            start_at=local(1, "10:00"),
            end_at=local(1, "11:00"),
            provider_id=practice.dentist_id,
            chair_id=practice.chair_ids[0],
            patient_id=practice.patient_ids[0],
        )
        later = booking_store.overlapping(
            uow.session.connection(),
            start_at=local(1, "12:00"),
            end_at=local(1, "13:00"),
            provider_id=practice.dentist_id,
            chair_id=practice.chair_ids[0],
            patient_id=practice.patient_ids[2],
        )
        assert not uow.session.identity_map

    assert sorted(a.appointment_id or 0 for a in found) == sorted(
        [on_provider, on_chair, on_patient]
    )
    assert later == []  # the cancelled appointment holds nothing


def test_the_mappers_are_configured_when_mapped_not_at_the_first_query() -> None:
    # booking_store builds domain objects itself: a new process (an API worker) whose first
    # request booked a taken slot read their attributes before any ORM query had configured
    # the mappers, and failed; checked in a new interpreter, where nothing ran before
    probe = (
        "from core_app.adapters.orm import mapper_registry, start_mappers\n"
        "start_mappers()\n"
        "assert mapper_registry.mappers\n"
        "assert all(m.configured for m in mapper_registry.mappers)\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
