"""Read-only units of work (no write lock while they read; an answer only once its audit entry
is committed) and nested units of work (one transaction; a refusal audited once, under the
use case that refused)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core_app.adapters import schedule_store
from core_app.domain.exceptions import SlotUnavailable
from core_app.service_layer import api_reads, appointments, audit_chain, bootstrap, queries
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import TransientConflict, run_use_case
from tests.conftest import Practice, local
from tests.service_layer.helpers import audit_entries, book, count_rows


def _day(practice: Practice, day: int) -> list[queries.ScheduleRow]:
    start = local(day, "00:00")
    return queries.clinic_schedule(
        practice.app.uow(),
        practice.admin,
        clinic_id=practice.clinic_id,
        start_at=start,
        end_at=start + timedelta(days=1),
    )


def test_a_schedule_read_reads_beside_the_writer_and_answers_only_once_audited(
    practice: Practice, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    booked = book(practice, 1, "09:00")
    before = audit_entries(practice.app)
    impatient = bootstrap.connect(
        practice.app.settings.model_copy(
            update={"sqlite_busy_timeout_s": 0.05, "transaction_retries": 0}
        ),
        clock=practice.app.clock,
    )
    holder = sqlite3.connect(practice.app.settings.data_dir / "dentops.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        uow = impatient.uow()
        uow.read_only = True
        with uow:  # the read takes no lock: it goes ahead beside the writer
            start = local(1, "00:00")
            found = schedule_store.in_window(
                uow.session.connection(),
                clinic_id=practice.clinic_id,
                start_at=start,
                end_at=start + timedelta(days=1),
            )
            assert [r.appointment_id for r in found] == [booked]
        # the whole use case cannot write its audit entry while the lock is held: no answer
        with pytest.raises((TransientConflict, DBAPIError)):
            queries.clinic_schedule(
                impatient.uow(),
                practice.admin,
                clinic_id=practice.clinic_id,
                start_at=start,
                end_at=start + timedelta(days=1),
            )
    finally:
        holder.rollback()
        holder.close()
        impatient.close()
    assert audit_entries(practice.app) == before  # nothing was read on the record

    rows = _day(practice, 1)

    assert [r.appointment_id for r in rows] == [booked]
    [entry] = audit_entries(practice.app)[len(before) :]
    assert (entry.action, entry.entity_type, entry.entity_id, entry.outcome) == (
        "patient.read",
        "patient",
        None,
        "success",
    )
    assert entry.detail == f"schedule: patients {practice.patient_ids[0]}"
    assert audit_chain.verify_chain(practice.app.uow(), practice.admin).ok


def test_one_audit_entry_names_every_patient_of_the_schedule(practice: Practice) -> None:
    book(practice, 1, "09:00", patient=1)
    book(practice, 1, "09:00", patient=0, chair=1, provider_id=practice.dentist2_id)
    book(practice, 1, "11:00", patient=1)
    before = len(audit_entries(practice.app))

    rows = _day(practice, 1)

    assert len(rows) == 3
    [entry] = audit_entries(practice.app)[before:]
    ids = sorted({practice.patient_ids[0], practice.patient_ids[1]})
    assert entry.detail == f"schedule: patients {ids[0]},{ids[1]}"


def test_nested_use_cases_share_one_transaction_and_a_refusal_is_audited_once(
    practice: Practice,
) -> None:
    taken = book(practice, 1, "09:00")
    before = audit_entries(practice.app)
    appointments_before = count_rows(practice.app, "appointments")

    def book_and_read(start_hhmm: str, patient: int) -> queries.ScheduleRow:
        def work(uow: UnitOfWork) -> queries.ScheduleRow:
            api_reads.ensure_visible(
                uow, practice.admin, {"patient": practice.patient_ids[patient]}
            )
            booked = appointments.book_appointment(
                uow,
                practice.admin,
                patient_id=practice.patient_ids[patient],
                provider_id=practice.dentist_id,
                chair_id=practice.chair_ids[0],
                start_at=local(1, start_hhmm),
                procedure_codes=["D1110"],
            )
            return api_reads.get_appointment(uow, practice.admin, booked)

        return run_use_case(
            practice.app.uow(),
            practice.admin,
            action="appointment.book",
            entity_type="appointment",
            entity_id=None,
            work=work,
        )

    with pytest.raises(SlotUnavailable) as refused:
        book_and_read("09:30", 1)
    assert refused.value.holder_appointment_id == taken
    assert count_rows(practice.app, "appointments") == appointments_before
    [entry] = audit_entries(practice.app)[len(before) :]
    assert (entry.action, entry.outcome, entry.detail) == (
        "appointment.book",
        "rejected",
        "slot_unavailable",
    )

    row = book_and_read("14:00", 1)

    assert row.local_start.endswith("14:00")
    written = audit_entries(practice.app)[len(before) + 1 :]
    assert [(e.action, e.entity_type) for e in written] == [
        ("appointment.book", "appointment"),
        ("patient.read", "patient"),
    ]
    assert written[1].seq == written[0].seq + 1  # one chain, in commit order
    assert audit_chain.verify_chain(practice.app.uow(), practice.admin).ok


def test_a_writing_use_case_cannot_join_a_read_only_unit_of_work(practice: Practice) -> None:
    def work(uow: UnitOfWork) -> int:
        return appointments.book_appointment(
            uow,
            practice.admin,
            patient_id=practice.patient_ids[0],
            provider_id=practice.dentist_id,
            chair_id=practice.chair_ids[0],
            start_at=local(1, "09:00"),
            procedure_codes=["D1110"],
        )

    with pytest.raises(RuntimeError, match="read-only"):
        run_use_case(
            practice.app.uow(),
            practice.admin,
            action="schedule.read",
            entity_type="clinic",
            entity_id=None,
            work=work,
            read_only=True,
        )
    assert count_rows(practice.app, "appointments") == 0


def test_a_plain_read_writes_what_it_holds_after_the_read_and_nothing_if_it_fails(
    practice: Practice, backend: str
) -> None:
    """`read_plain` (the session check's way in): a read-only transaction on a plain
    connection; its held writes and audit entries are written after it, chained like any."""
    before = audit_entries(practice.app)
    uow = practice.app.uow()
    touched: list[int] = []

    def read(connection: Connection) -> int:
        assert uow.read_only and not uow.active  # no ORM session, no repositories
        found = int(connection.execute(text("SELECT COUNT(*) FROM clinics")).scalar_one())
        uow.write(lambda writer: touched.append(writer.execute(text("SELECT 1")).scalar_one()))
        uow.audit(practice.admin, "clinic.count", "clinic", None, detail="plain")
        return found

    assert uow.read_plain(read) == 1
    assert touched == [1] and not uow.read_only
    after = audit_entries(practice.app)
    assert [(e.action, e.detail) for e in after[len(before) :]] == [("clinic.count", "plain")]
    assert audit_chain.verify_chain(practice.app.uow(), practice.admin).ok

    def failing(connection: Connection) -> int:
        uow.audit(practice.admin, "clinic.count", "clinic", None, detail="never")
        raise RuntimeError("the read failed")

    with pytest.raises(RuntimeError):
        uow.read_plain(failing)
    assert not uow.read_only
    assert len(audit_entries(practice.app)) == len(after) + 1  # only the verification's own
    with uow, pytest.raises(RuntimeError, match="not inside an open unit of work"):
        uow.read_plain(read)


def test_a_writing_transaction_appends_its_entries_in_order_at_commit_and_none_on_rollback(
    practice: Practice, backend: str
) -> None:
    before = len(audit_entries(practice.app))
    uow = practice.app.uow()
    with uow:
        for n in range(3):
            uow.audit(practice.admin, "clinic.note", "clinic", n)
        uow.commit()
    with uow:
        uow.audit(practice.admin, "clinic.note", "clinic", 99)  # rolled back: never written
    written = audit_entries(practice.app)[before:]
    assert [(e.action, e.entity_id) for e in written] == [("clinic.note", str(n)) for n in range(3)]
    assert [e.seq for e in written] == sorted(e.seq for e in written)
    assert audit_chain.verify_chain(practice.app.uow(), practice.admin).ok
