"""Registering a patient: what is checked before anything is stored."""

from __future__ import annotations

from datetime import date

import pytest

from core_app.domain.exceptions import ValidationError
from core_app.domain.patient import ContactPreference, Patient
from tests.domain.factories import CLINIC_ID, MONDAY, NOW


def register(**changes: object) -> Patient:
    arguments: dict[str, object] = {
        "clinic_id": CLINIC_ID,
        "first_name": "Alma",
        "last_name": "Testpatient",
        "birth_date": date(1970, 3, 14),
        "today": MONDAY,
        "created_at": NOW,
    }
    arguments.update(changes)
    return Patient.register(**arguments)  # type: ignore[arg-type]


def test_registers_a_patient_with_trimmed_names() -> None:
    patient = register(
        first_name="  Alma ",
        phone="+1 (555) 010-0100",
        email="alma@example.org",
        sex="female",
        distance_km=12.5,
        has_insurance=True,
        contact_preference=ContactPreference.EMAIL,
    )

    assert (patient.first_name, patient.last_name) == ("Alma", "Testpatient")
    assert patient.clinic_id == CLINIC_ID
    assert patient.created_at == NOW
    assert patient.is_active
    assert patient.patient_id is None


def test_accepts_a_birth_today_and_one_125_years_back() -> None:
    assert register(birth_date=MONDAY).age_on(MONDAY) == 0
    assert register(birth_date=date(1905, 1, 1)).birth_date.year == 1905


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"birth_date": date(2030, 1, 8)}, "future"),
        ({"birth_date": date(1904, 12, 31)}, "125 years"),
        ({"first_name": "  "}, "first name"),
        ({"last_name": ""}, "last name"),
        ({"first_name": "x" * 201}, "longer than 200"),
        ({"email": "alma.example.org"}, "email"),
        ({"email": "alma@example"}, "email"),
        ({"email": "al ma@example.org"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "555-CALL-NOW"}, "phone"),
        ({"phone": "1" * 21}, "phone"),
        ({"sex": "unknown"}, "sex"),
        ({"distance_km": -0.1}, "distance"),
        ({"distance_km": 1000.5}, "distance"),
    ],
)
def test_refuses_invalid_details(changes: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        register(**changes)


@pytest.mark.parametrize(
    ("day", "age"),
    [(date(2030, 3, 13), 59), (date(2030, 3, 14), 60), (date(2030, 12, 31), 60)],
)
def test_age_counts_whole_years_up_to_the_birthday(day: date, age: int) -> None:
    assert register().age_on(day) == age
