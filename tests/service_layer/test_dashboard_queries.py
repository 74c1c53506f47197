"""The two read queries the dashboards added: an appointment's history and patient names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core_app.domain.appointment import MAX_APPOINTMENT
from core_app.domain.exceptions import PermissionDenied, SlotUnavailable, ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import Role
from core_app.service_layer import appointments, practice_queries, queries
from core_app.service_layer import practice as setup
from tests.conftest import Practice, local
from tests.service_layer.helpers import add_staff, audit_entries, book


def _other_clinic(practice: Practice) -> int:
    return setup.create_clinic(
        practice.app.uow(),
        practice.admin,
        name="Other Street",
        timezone="Europe/Berlin",
        currency="EUR",
        country="DE",
        hours=parse_weekly_hours("mon-fri 08:00-18:00"),
    )


def test_appointment_history_lists_events_in_clinic_time_and_is_audited(practice: Practice):
    appointment_id = book(practice, 1, "09:00")
    appointments.confirm_appointment(practice.app.uow(), practice.admin, appointment_id)
    desk = add_staff(practice, "desk", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    before = len(audit_entries(practice.app))

    events = queries.appointment_history(practice.app.uow(), desk, appointment_id)

    assert [e.event_type for e in events] == ["booked", "confirmed"]
    assert all(e.local_time.startswith("2030-01-07") for e in events)  # booked on the frozen day
    [entry] = audit_entries(practice.app)[before:]
    assert (entry.action, entry.entity_id, entry.outcome) == (
        "appointment.history.read",
        str(appointment_id),
        "success",
    )


def test_appointment_history_is_refused_to_another_clinics_user(practice: Practice):
    appointment_id = book(practice, 1, "09:00")
    stranger = add_staff(practice, "elsewhere", Role.FRONT_DESK, clinic_id=_other_clinic(practice))
    with pytest.raises(PermissionDenied):
        queries.appointment_history(practice.app.uow(), stranger, appointment_id)
    assert audit_entries(practice.app)[-1].outcome == "denied"


def test_patient_names_are_the_clinics_only_and_audited(practice: Practice):
    wanted = practice.patient_ids[:2]
    names = queries.patient_names(
        practice.app.uow(), practice.admin, clinic_id=practice.clinic_id, patient_ids=wanted
    )
    assert set(names) == set(wanted)
    assert all(" " in name for name in names.values())
    entry = audit_entries(practice.app)[-1]
    assert (entry.action, entry.entity_type, entry.entity_id) == ("patient.read", "patient", None)
    assert entry.detail == f"names: patients {','.join(str(i) for i in sorted(names))}"

    other = _other_clinic(practice)
    assert (
        queries.patient_names(
            practice.app.uow(), practice.admin, clinic_id=other, patient_ids=wanted
        )
        == {}
    )
    desk = add_staff(practice, "desk2", Role.FRONT_DESK, clinic_id=other)
    with pytest.raises(PermissionDenied):
        queries.patient_names(
            practice.app.uow(), desk, clinic_id=practice.clinic_id, patient_ids=wanted
        )


def test_clinic_names_label_only_that_clinics_providers_and_chairs(practice: Practice):
    other = _other_clinic(practice)
    visiting = setup.add_provider(
        practice.app.uow(),
        practice.admin,
        name="Dr Elsewhere",
        kind=ProviderKind.DENTIST,
        clinic_id=other,
        hours=parse_weekly_hours("mon 08:00-12:00"),
    )
    setup.add_chair(practice.app.uow(), practice.admin, clinic_id=other, name="Op 9")
    desk = add_staff(practice, "desk", Role.FRONT_DESK, clinic_id=practice.clinic_id)

    providers, chairs = practice_queries.clinic_names(
        practice.app.uow(), desk, clinic_id=practice.clinic_id
    )

    assert providers == {
        practice.dentist_id: "Dr Ada",
        practice.dentist2_id: "Dr Bo",
        practice.hygienist_id: "Hy Cy",
    }
    assert visiting not in providers
    assert chairs == dict(zip(practice.chair_ids, ["Op 1", "Op 2", "Op 3"], strict=True))
    with pytest.raises(PermissionDenied):
        practice_queries.clinic_names(practice.app.uow(), desk, clinic_id=other)


def test_an_appointment_of_the_longest_length_is_seen_by_windows_it_reaches_into(
    practice: Practice,
):
    """Window reads bound the start from below by the longest appointment there can be
    (MAX_APPOINTMENT): one exactly that long must still overlap a window that begins a minute
    before it ends, in the schedule and in the booking rules."""
    long_one = book(practice, 1, "08:00", end_at=local(1, "08:00") + MAX_APPOINTMENT)
    with pytest.raises(ValidationError, match="longer than 8 hours"):
        too_long = MAX_APPOINTMENT + timedelta(minutes=1)
        book(practice, 2, "08:00", end_at=local(2, "08:00") + too_long)

    rows = queries.clinic_schedule(
        practice.app.uow(),
        practice.admin,
        clinic_id=practice.clinic_id,
        start_at=local(1, "15:59"),
        end_at=local(1, "16:30"),
    )
    assert [r.appointment_id for r in rows] == [long_one]
    after = queries.clinic_schedule(
        practice.app.uow(),
        practice.admin,
        clinic_id=practice.clinic_id,
        start_at=local(1, "16:00"),
        end_at=local(1, "16:30"),
    )
    assert after == []
    with pytest.raises(SlotUnavailable, match=str(long_one)):
        book(practice, 1, "15:00", patient=1, provider_id=practice.dentist2_id)
