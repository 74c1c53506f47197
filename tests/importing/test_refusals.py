"""A refused import lists every problem by file, line and column, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core_app.domain.exceptions import PermissionDenied
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.staff import Role
from core_app.service_layer import practice as setup
from core_app.service_layer import users
from core_app.service_layer.importing import ImportOptions, ImportRefused, import_directory
from tests.conftest import Practice
from tests.importing.helpers import patients, run_import, write_csv, write_folder
from tests.service_layer.helpers import audit_entries, snapshot


def visit(aid: str, pid: str, start: str, **cells: str) -> dict[str, str]:
    row = {
        "appointment_id": aid,
        "patient_id": pid,
        "booked_at": "2029-12-01 10:00",
        "start_at": start,
        "status": "completed",
        "provider": "Dr Ada",
        "chair": "Op 1",
        "procedure_code": "D0120",
        "fee_cents": "",
        "cancelled_at": "",
    }
    return row | cells


def ten_kinds_of_errors(folder: Path) -> Path:
    people = patients("P1", "P2", "P3")
    people[2]["birth_date"] = "1990-02-30"
    write_folder(
        folder,
        people,
        [
            visit("A1", "P1", "2029-12-10 09:00", colour="red"),  # line 2: fine but for colour
            visit("A2", "P2", "2029-12-10 09:00", chair="Op 2"),  # 3: Dr Ada is busy (A1)
            visit("A3", "P1", "2029-12-11 09:00", booked_at="yesterday"),  # 4
            visit("A4", "P1", "2029-12-12 09:00", status="finished"),  # 5
            visit("A5", "P1", "2029-12-13 09:00", fee_cents="-500"),  # 6
            visit("A6", "P9", "2029-12-14 09:00"),  # 7: no such patient
            visit("A1", "P2", "2029-12-16 09:00"),  # 8: duplicate id
            visit("A7", "P2", "2029-12-15 09:00", status="cancelled"),  # 9: no cancelled_at
            visit("A8", "P2", "2029-12-17 09:00", procedure_code="D9999"),  # 10
        ],
        None,
    )
    write_csv(  # no `method` column; line 2 refunds more than was paid
        folder,
        "payments.csv",
        [
            {
                "payment_id": "X1",
                "patient_id": "P1",
                "received_at": "2029-12-10 11:00",
                "amount_cents": "5000",
                "refunded_cents": "6000",
                "refunded_at": "2029-12-11 09:00",
            }
        ],
    )
    return folder


EXPECTED = {
    ("patients.csv", 4, "birth_date"),
    ("appointments.csv", 1, "colour"),
    ("appointments.csv", 3, "provider"),
    ("appointments.csv", 4, "booked_at"),
    ("appointments.csv", 5, "status"),
    ("appointments.csv", 6, "fee_cents"),
    ("appointments.csv", 7, "patient_id"),
    ("appointments.csv", 8, "appointment_id"),
    ("appointments.csv", 9, "cancelled_at"),
    ("appointments.csv", 10, "procedure_code"),
    ("payments.csv", 1, "method"),
    ("payments.csv", 2, "refunded_cents"),
}


def test_every_kind_of_error_is_reported_and_nothing_is_written(
    practice: Practice, tmp_path: Path
) -> None:
    folder = ten_kinds_of_errors(tmp_path / "bad")
    before = snapshot(practice.app)
    audit_before = len(audit_entries(practice.app))
    with pytest.raises(ImportRefused) as refused:
        run_import(practice, folder)
    found = {(p.file, p.line, p.column): p.reason for p in refused.value.problems}
    assert set(found) == EXPECTED, refused.value.problems
    assert "unknown column" in found[("appointments.csv", 1, "colour")]
    assert "required column is missing" in found[("payments.csv", 1, "method")]
    assert "held by appointment A1 (line 2)" in found[("appointments.csv", 3, "provider")]
    assert "'yesterday' is not an ISO 8601" in found[("appointments.csv", 4, "booked_at")]
    assert "finished" in found[("appointments.csv", 5, "status")]
    assert "negative" in found[("appointments.csv", 6, "fee_cents")]
    assert "'P9' is not in patients.csv" in found[("appointments.csv", 7, "patient_id")]
    assert "first on line 2" in found[("appointments.csv", 8, "appointment_id")]
    assert "needs its cancelled_at" in found[("appointments.csv", 9, "cancelled_at")]
    assert (
        "D9999 is not in the clinic's catalog" in found[("appointments.csv", 10, "procedure_code")]
    )
    assert "exceed the payment" in found[("payments.csv", 2, "refunded_cents")]
    assert "not a date" in found[("patients.csv", 4, "birth_date")]
    assert snapshot(practice.app) == before
    refusals = audit_entries(practice.app)[audit_before:]
    assert [(e.action, e.outcome) for e in refusals] == [("history.import", "rejected")]


def test_a_missing_file_and_a_missing_clinic_timezone_are_problems(
    practice: Practice, tmp_path: Path
) -> None:
    folder = tmp_path / "partial"
    write_csv(folder, "appointments.csv", [visit("A1", "P1", "2029-12-10 09:00", clinic="Elm")])
    with pytest.raises(ImportRefused) as refused:
        run_import(practice, folder)
    found = {(p.file, p.line, p.column): p.reason for p in refused.value.problems}
    assert ("patients.csv", 0, "") in found
    assert "give --clinic-timezone" in found[("appointments.csv", 2, "clinic")]


def test_overlap_with_a_stored_appointment_names_it(practice: Practice, tmp_path: Path) -> None:
    first = write_folder(
        tmp_path / "one", patients("P1"), [visit("A1", "P1", "2029-12-10 09:00")], None
    )
    run_import(practice, first)
    second = write_folder(
        tmp_path / "two",
        patients("Q1"),
        [visit("B1", "Q1", "2029-12-10 09:10", chair="Op 2")],
        None,
    )
    with pytest.raises(ImportRefused) as refused:
        run_import(practice, second)
    [problem] = refused.value.problems
    assert (problem.file, problem.line, problem.column) == ("appointments.csv", 2, "provider")
    assert "one:appointments:A1 (stored)" in problem.reason


def test_an_admin_limited_to_a_clinic_imports_there_only(
    practice: Practice, tmp_path: Path
) -> None:
    setup.create_clinic(
        practice.app.uow(),
        practice.admin,
        name="Elm",
        timezone="America/Chicago",
        currency="USD",
        country="US",
        hours=parse_weekly_hours("mon-fri 08:00-17:00"),
    )
    users.add_user(
        practice.app.uow(),
        practice.admin,
        username="main-admin",
        password="a-long-test-password",
        role=Role.ADMIN,
        clinic_id=practice.clinic_id,
    )
    limited = users.actor_for(practice.app.uow(), "main-admin")
    rows = [visit("A1", "P1", "2029-12-10 09:00")]
    mine = write_folder(tmp_path / "main", patients("P1"), rows, None)
    options = ImportOptions.for_folder(mine, clinic="Main Street")
    report = import_directory(practice.app.uow(), limited, mine, options)
    assert report.appointments.created == 1
    theirs = write_folder(tmp_path / "elm", patients("P1"), rows, None)
    before = snapshot(practice.app)
    with pytest.raises(PermissionDenied):
        options = ImportOptions.for_folder(theirs, clinic="Elm")
        import_directory(practice.app.uow(), limited, theirs, options)
    assert snapshot(practice.app) == before
