"""extract_load from each backend the core runs on (SQLite; PostgreSQL under `make test`): the
rows a service writes arrive in raw.*, pseudonymised with the core's key ring, and an update
replaces its row."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from core_app.service_layer import appointments
from pipelines.extract_load import extract_load
from tests.conftest import Practice, local


def raw_rows(path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_booked_then_cancelled_appointment_reaches_raw_pseudonymised(practice: Practice):
    app = practice.app
    start = local(1, "09:00")
    appointment_id = appointments.book_appointment(
        app.uow(),
        practice.admin,
        patient_id=practice.patient_ids[0],
        provider_id=practice.dentist_id,
        chair_id=practice.chair_ids[0],
        start_at=start,
        end_at=start + timedelta(minutes=30),
        procedure_codes=["D0120"],
    )
    settings = app.settings
    first = extract_load(settings)
    assert {t.table: t.rows for t in first.tables}["appointments"] == 1
    key = app.keyring.pseudonym("patient", practice.patient_ids[0])
    path = settings.warehouse_path
    assert raw_rows(path, "SELECT patient_key, status FROM raw.appointments") == [(key, "booked")]
    assert (key,) in raw_rows(path, "SELECT patient_key FROM raw.patients")
    assert raw_rows(path, "SELECT count(*) FROM raw.patients") == [(len(practice.patient_ids),)]

    appointments.cancel_appointment(app.uow(), practice.admin, appointment_id, reason="illness")
    extract_load(settings)
    assert raw_rows(
        path, "SELECT appointment_id, status, is_late_cancel FROM raw.appointments"
    ) == [(appointment_id, "cancelled", False)]
    events = raw_rows(path, "SELECT event_type FROM raw.appointment_events ORDER BY event_id")
    assert [e for (e,) in events] == ["booked", "cancelled"]
