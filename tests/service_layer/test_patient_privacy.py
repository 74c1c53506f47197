"""Patient details are encrypted at rest, readable through the service, and every read audited."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import text

from core_app.adapters.crypto import KeyMaterialError
from core_app.service_layer import patients
from tests.conftest import Practice
from tests.service_layer.helpers import audit_entries

ENCRYPTED_FIELDS = ("first_name", "last_name", "birth_date", "phone", "email", "notes")
#: "v1.<key id>.<urlsafe base64 of nonce + ciphertext + tag>"
TOKEN = re.compile(r"^v1\.k[0-9a-f]{8}\.[A-Za-z0-9_-]+=*$")


@pytest.fixture
def philomena(practice: Practice) -> int:
    return patients.add_patient(
        practice.app.uow(),
        practice.admin,
        clinic_id=practice.clinic_id,
        first_name="Philomena",
        last_name="Quackenbush",
        birth_date=date(1961, 11, 23),
        phone="+1 212 555 0199",
        email="philomena.q@example.org",
        notes="allergic to penicillin",
    )


def raw_patient_rows(practice: Practice) -> list[tuple[object, ...]]:
    columns = ", ".join(ENCRYPTED_FIELDS)
    with practice.app.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM patients"))]  # noqa: S608


def test_patient_details_are_not_stored_in_plaintext(practice: Practice, philomena: int) -> None:
    plaintexts = [
        "Philomena",
        "Quackenbush",
        "1961-11-23",
        "+1 212 555 0199",
        "philomena.q@example.org",
        "penicillin",
        "Testpatient",
        "+1 555 0100",
        *(f"{name}@example.org" for name in ("alma", "ben", "cleo", "dev")),
        *(f"{1970 + n * 7}-03-14" for n in range(4)),
    ]

    rows = raw_patient_rows(practice)

    assert len(rows) == 5
    stored = [value for row in rows for value in row if value is not None]
    assert len(stored) == 5 * 5 + 1  # notes only for Philomena
    for value in stored:
        assert isinstance(value, str)
        assert TOKEN.match(value), value
        for plain in plaintexts:
            assert plain.lower() not in value.lower()


def test_the_same_value_encrypts_differently_each_time(practice: Practice) -> None:
    phones = [row[3] for row in raw_patient_rows(practice)]  # all "+1 555 0100"

    assert len(set(phones)) == len(phones) == 4


def test_get_patient_returns_the_plaintext(practice: Practice, philomena: int) -> None:
    details = patients.get_patient(practice.app.uow(), practice.admin, philomena)

    assert (details.first_name, details.last_name) == ("Philomena", "Quackenbush")
    assert details.birth_date == date(1961, 11, 23)
    assert (details.phone, details.email) == ("+1 212 555 0199", "philomena.q@example.org")
    assert details.notes == "allergic to penicillin"
    assert details.clinic_id == practice.clinic_id


def test_get_patient_appends_a_patient_read_audit_entry(practice: Practice, philomena: int) -> None:
    before = audit_entries(practice.app)

    patients.get_patient(practice.app.uow(), practice.admin, philomena)

    after = audit_entries(practice.app)
    assert after[: len(before)] == before
    [entry] = after[len(before) :]
    assert (entry.action, entry.entity_type, entry.entity_id, entry.outcome) == (
        "patient.read",
        "patient",
        str(philomena),
        "success",
    )
    assert (entry.actor_user_id, entry.actor_username) == (practice.admin.user_id, "admin")
    assert entry.detail is None or "Philomena" not in entry.detail


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(
    practice: Practice, philomena: int
) -> None:
    with practice.app.engine.begin() as connection:
        connection.execute(
            text("UPDATE patients SET last_name = first_name WHERE patient_id = :id"),
            {"id": philomena},
        )

    with pytest.raises(KeyMaterialError, match="failed authentication"):
        patients.get_patient(practice.app.uow(), practice.admin, philomena)
