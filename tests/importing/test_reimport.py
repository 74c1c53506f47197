"""Re-importing the same files changes nothing; a changed row updates its record under the
core's rules (legal status moves, charges for a newly completed visit, refunds only grow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core_app.adapters import orm
from core_app.service_layer import patients as patient_service
from core_app.service_layer.importing import ImportRefused
from tests.conftest import Practice, local
from tests.importing.helpers import Rows, counts, patients, run_import, write_folder
from tests.service_layer.helpers import audit_entries, load_appointment, snapshot


def appointments() -> Rows:
    def row(aid: str, pid: str, start: str, status: str, **cells: str) -> dict[str, str]:
        base = {
            "appointment_id": aid,
            "patient_id": pid,
            "booked_at": "2029-12-20 09:00",
            "start_at": start,
            "status": status,
            "provider": "Dr Ada",
            "chair": "Op 1",
            "procedure_code": "D1110",
            "cancelled_at": "",
            "fee_cents": "",
        }
        return base | cells

    return [
        row("A1", "P1", "2030-01-02 09:00", "completed", procedure_code="D0120+D1110"),
        row("A2", "P2", "2030-01-03 10:00", "booked"),
        row("A3", "P3", "2030-01-09 10:00", "booked", provider="Hy Cy", chair="Op 2"),
        row("A4", "P1", "2030-01-10 09:00", "cancelled", cancelled_at="2030-01-05 12:00"),
        row("A5", "P2", "2030-01-04 09:00", "no_show", provider="Dr Bo", chair="Op 3"),
        row("A6", "P3", "2030-01-09 11:00", "confirmed", procedure_code="D0150"),
    ]


def payments() -> Rows:
    return [
        {
            "payment_id": "X1",
            "patient_id": "P1",
            "received_at": "2030-01-02 10:30",
            "amount_cents": "18500",
            "method": "card",
            "appointment_id": "A1",
            "refunded_cents": "",
            "refunded_at": "",
            "reference": "",
        },
        {
            "payment_id": "X2",
            "patient_id": "P2",
            "received_at": "2030-01-03 12:00",
            "amount_cents": "5000",
            "method": "cash",
            "appointment_id": "",
            "refunded_cents": "",
            "refunded_at": "",
            "reference": "",
        },
    ]


def base(folder: Path) -> Path:
    return write_folder(folder, patients("P1", "P2", "P3"), appointments(), payments())


def stored_id(practice: Practice, table: str, ref: str) -> int:
    t = orm.metadata.tables[table]
    key = next(iter(t.primary_key.columns))
    with practice.app.engine.connect() as connection:
        return int(connection.execute(select(key).where(t.c.source_ref == ref)).scalar_one())


def test_reimporting_the_same_files_changes_nothing(practice: Practice, tmp_path: Path) -> None:
    folder = base(tmp_path / "pms")
    first = run_import(practice, folder)
    assert counts(first) == {
        "patients": (3, 0, 0),
        "appointments": (6, 0, 0),
        "payments": (2, 0, 0),
    }
    assert first.providers_created == [] and first.chairs_created == []
    assert first.charges_created == 2  # A1's two procedures
    before = snapshot(practice.app)
    again = run_import(practice, folder)
    assert counts(again) == {
        "patients": (0, 0, 3),
        "appointments": (0, 0, 6),
        "payments": (0, 0, 2),
    }
    assert snapshot(practice.app) == before  # every row, updated_at included


def test_changed_rows_update_their_records(practice: Practice, tmp_path: Path) -> None:
    run_import(practice, base(tmp_path / "pms"))
    people, visits, money = patients("P1", "P2", "P3"), appointments(), payments()
    people[0]["phone"] = "+1 555 0199"
    visits[1]["status"] = "completed"  # A2 was booked; it happened
    visits[2] |= {"start_at": "2030-01-10 10:00", "fee_cents": "13000"}  # A3 moves
    money[1] |= {"refunded_cents": "1000", "refunded_at": "2030-01-05 09:00"}
    money[0]["reference"] = "slip 42"
    money.append(money[0] | {"payment_id": "X3", "amount_cents": "700", "reference": ""})
    audit_before = len(audit_entries(practice.app))
    report = run_import(practice, write_folder(tmp_path / "pms", people, visits, money))
    assert counts(report) == {
        "patients": (0, 1, 2),
        "appointments": (0, 2, 4),
        "payments": (1, 2, 0),
    }
    assert (report.charges_created, report.refunds_created) == (1, 1)

    a2 = load_appointment(practice.app, stored_id(practice, "appointments", "pms:appointments:A2"))
    assert a2.status == "completed" and a2.completed_at == local(-4, "11:00")
    assert [e.event_type for e in a2.events] == ["booked", "completed"]
    x1_id, x2_id, x3_id = (
        stored_id(practice, "payments", f"pms:payments:{x}") for x in ("X1", "X2", "X3")
    )
    with practice.app.uow() as uow:  # one connection at a time: SQLite's write lock
        charges = uow.charges.for_patient(a2.patient_id)
        assert [(c.procedure_code, c.amount_cents) for c in charges] == [("D1110", 12000)]
        x2 = uow.payments.get(x2_id)
        assert x2 is not None and [r.amount_cents for r in x2.refunds] == [1000]
        x1 = uow.payments.get(x1_id)
        assert x1 is not None and x1.reference == "slip 42"
        x3 = uow.payments.get(x3_id)  # new, for an appointment imported before
        assert x3 is not None and x3.appointment_id == x1.appointment_id is not None
    a3 = load_appointment(practice.app, stored_id(practice, "appointments", "pms:appointments:A3"))
    assert (a3.start_at, a3.end_at) == (local(3, "10:00"), local(3, "11:00"))
    assert a3.events[-1].event_type == "rescheduled" and a3.reschedule_count == 1
    assert a3.events[-1].from_start_at == local(2, "10:00")
    assert [line.fee_cents for line in a3.procedures] == [13000]
    p1 = stored_id(practice, "patients", "pms:patients:P1")
    details = patient_service.get_patient(practice.app.uow(), practice.admin, p1)
    assert details.phone == "+1 555 0199" and details.first_name == "FirstP1"

    actions = sorted(e.action for e in audit_entries(practice.app)[audit_before:])
    assert actions == sorted(
        ["appointment.update"] * 2
        + ["patient.update", "charge.create", "payment.refund", "history.import"]
        + ["history.load"]  # X3, new
        + ["payment.update"] * 3  # X1, X2, and X3's link to A1
        + ["patient.read"]  # get_patient above
    )
    again = run_import(practice, write_folder(tmp_path / "pms", people, visits, money))
    assert counts(again) == {
        "patients": (0, 0, 3),
        "appointments": (0, 0, 6),
        "payments": (0, 0, 3),
    }


def test_two_appointments_can_swap_slots(practice: Practice, tmp_path: Path) -> None:
    def row(aid: str, pid: str, start: str) -> dict[str, str]:
        return {
            "appointment_id": aid,
            "patient_id": pid,
            "booked_at": "2029-12-20 09:00",
            "start_at": start,
            "status": "booked",
            "provider": "Dr Ada",
            "chair": "Op 1",
            "procedure_code": "D1110",
        }

    people = patients("P1", "P2")
    first = [row("B1", "P1", "2030-01-09 13:00"), row("B2", "P2", "2030-01-09 14:00")]
    run_import(practice, write_folder(tmp_path / "swap", people, first, None))
    swapped = [row("B1", "P1", "2030-01-09 14:00"), row("B2", "P2", "2030-01-09 13:00")]
    report = run_import(practice, write_folder(tmp_path / "swap", people, swapped, None))
    assert counts(report)["appointments"] == (0, 2, 0)
    b1, b2 = (
        load_appointment(
            practice.app, stored_id(practice, "appointments", f"swap:appointments:{a}")
        )
        for a in ("B1", "B2")
    )
    assert (b1.start_at, b2.start_at) == (local(2, "14:00"), local(2, "13:00"))
    assert b1.status == b2.status == "booked"
    assert [e.event_type for e in b1.events] == ["booked", "rescheduled"]


def test_changes_the_core_forbids_are_refused(practice: Practice, tmp_path: Path) -> None:
    run_import(practice, base(tmp_path / "pms"))
    before = snapshot(practice.app)
    visits, money = appointments(), payments()
    visits[0] |= {"status": "cancelled", "cancelled_at": "2030-01-01 09:00"}  # A1 was completed
    visits[4]["status"] = "completed"  # A5 was a no-show
    visits[5]["status"] = "booked"  # A6 was confirmed and does not move
    money[0] |= {"patient_id": "P2", "appointment_id": ""}  # X1 was P1's
    folder = write_folder(tmp_path / "pms", patients("P1", "P2", "P3"), visits, money)
    with pytest.raises(ImportRefused) as refused:
        run_import(practice, folder)
    found = {(p.file, p.line, p.column): p.reason for p in refused.value.problems}
    assert "completed in dentops" in found[("appointments.csv", 2, "status")]
    assert "no_show in dentops" in found[("appointments.csv", 6, "status")]
    assert "confirmed appointment cannot become booked" in found[("appointments.csv", 7, "status")]
    assert "another patient" in found[("payments.csv", 2, "patient_id")]
    assert snapshot(practice.app) == before


def test_a_date_without_time_is_placed_at_opening_time_in_file_order(
    practice: Practice, tmp_path: Path
) -> None:
    def row(aid: str, pid: str, start: str) -> dict[str, str]:
        return {
            "appointment_id": aid,
            "patient_id": pid,
            "booked_at": "2029-12-20",
            "start_at": start,
            "status": "completed",
            "provider": "Dr Ada",
            "chair": "Op 1",
            "procedure_code": "D0120",
        }

    visits = [
        row("D1", "P1", "2030-01-02"),
        row("D2", "P2", "2030-01-02 08:15"),  # timed: the placement skips it
        row("D3", "P3", "2030-01-02"),
    ]
    folder = write_folder(tmp_path / "dates", patients("P1", "P2", "P3"), visits, None)
    run_import(practice, folder)
    starts = [
        load_appointment(
            practice.app, stored_id(practice, "appointments", f"dates:appointments:{aid}")
        ).start_at
        for aid in ("D1", "D2", "D3")
    ]
    assert starts == [local(-5, "08:00"), local(-5, "08:15"), local(-5, "08:30")]
    assert counts(run_import(practice, folder))["appointments"] == (0, 0, 3)


def test_unknown_names_and_birth_dates_get_flagged_placeholders(
    practice: Practice, tmp_path: Path
) -> None:
    people = [{"patient_id": "P1", "first_name": "", "last_name": "Lee", "birth_date": ""}]
    visits = [
        {
            "appointment_id": "A1",
            "patient_id": "P1",
            "booked_at": "2029-12-20 09:00",
            "start_at": "2030-01-02 09:00",
            "status": "completed",
        }
    ]
    run_import(practice, write_folder(tmp_path / "anon", people, visits, None))
    pid = stored_id(practice, "patients", "anon:patients:P1")
    details = patient_service.get_patient(practice.app.uow(), practice.admin, pid)
    assert (details.first_name, details.last_name) == ("Unknown", "Lee")
    assert details.birth_date.year == 2030 - 120
    assert details.notes == "[dentops import: unknown first_name, birth_date]"
    report = run_import(practice, write_folder(tmp_path / "anon", people, visits, None))
    assert counts(report)["patients"] == (0, 0, 1)
