"""Round trip: a practice with history (bulk-loaded and made through the services) is exported,
imported into an empty database and exported again: the files are the same, ids included
(an imported record is exported under its source key, see docs/import-format.md)."""

from __future__ import annotations

import filecmp
from datetime import datetime
from pathlib import Path

import pytest

from core_app.domain.billing import PaymentMethod
from core_app.domain.history import HistoricPayment, HistoricRefund, HistoricVisit
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import appointments, billing, users
from core_app.service_layer.bootstrap import App
from core_app.service_layer.history import load_history
from core_app.service_layer.importing import ImportOptions, import_directory
from core_app.service_layer.importing.export import export_directory, export_ids
from tests.conftest import ADMIN_PASSWORD, FrozenClock, Practice, local, make_settings, truncate_all
from tests.importing.helpers import read_csv
from tests.service_layer.helpers import book

FILES = ("patients.csv", "appointments.csv", "payments.csv")


def at(day: int, hhmm: str) -> int:
    return int(local(day, hhmm).timestamp())


def build_history(p: Practice) -> None:
    """Four past visits and three payments in bulk; three bookings, a payment and a refund
    through the services."""
    visit = HistoricVisit
    past = [
        visit(p.clinic_id, p.dentist_id, p.chair_ids[0], at(-7, "09:00"), at(-7, "09:15"),
              at(-20, "10:00"), "completed", ("D0120",), patient_id=p.patient_ids[0],
              confirmed_epoch=at(-9, "12:00"), completed_epoch=at(-7, "09:20")),
        visit(p.clinic_id, p.hygienist_id, p.chair_ids[1], at(-6, "10:00"), at(-6, "11:00"),
              at(-20, "10:05"), "no_show", ("D1110",), patient_id=p.patient_ids[1],
              no_show_epoch=at(-6, "10:15")),
        visit(p.clinic_id, p.dentist2_id, p.chair_ids[2], at(-5, "14:00"), at(-5, "15:00"),
              at(-20, "10:10"), "cancelled", ("D1110",), patient_id=p.patient_ids[2],
              cancelled_epoch=at(-5, "09:00"), cancel_reason="sick"),
        visit(p.clinic_id, p.dentist_id, p.chair_ids[0], at(-4, "09:00"), at(-4, "10:15"),
              at(-20, "10:15"), "completed", ("D0120", "D1110"), patient_id=p.patient_ids[3],
              fees_cents=(7000, 11000), checked_in_epoch=at(-4, "08:55"),
              completed_epoch=at(-4, "10:20")),
    ]  # fmt: skip
    money = [
        HistoricPayment(p.clinic_id, 6500, "USD", "card", at(-7, "09:30"),
                        patient_id=p.patient_ids[0], visit=0,
                        refunds=(HistoricRefund(1000, at(-6, "12:00"), "goodwill"),
                                 HistoricRefund(500, at(-5, "12:00"), "overcharge"))),
        HistoricPayment(p.clinic_id, 18000, "USD", "insurance", at(-3, "16:00"),
                        patient_id=p.patient_ids[3], visit=3, reference="claim 7"),
    ]  # fmt: skip
    load_history(p.app.uow(), p.admin, visits=past, payments=money)
    book(p, 1, "09:00", patient=0, codes=("D0120",))
    confirmed = book(p, 2, "10:00", patient=1, provider_id=p.hygienist_id, chair=1)
    appointments.confirm_appointment(p.app.uow(), p.admin, confirmed)
    cancelled = book(p, 3, "11:00", patient=2, chair=2)
    appointments.cancel_appointment(p.app.uow(), p.admin, cancelled, reason="moved away")
    cash = billing.record_payment(
        p.app.uow(),
        p.admin,
        patient_id=p.patient_ids[3],
        amount_cents=5000,
        currency="USD",
        method=PaymentMethod.CASH,
        appointment_id=None,
    )
    billing.refund_payment(p.app.uow(), p.admin, payment_id=cash, amount_cents=1000, reason="x")


def empty_database(
    practice: Practice, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> App:
    """An empty migrated database with an admin: PostgreSQL truncated, or a fresh SQLite file."""
    if backend == "postgresql":
        truncate_all(practice.app)
        app = practice.app
    else:
        folder = tmp_path / "empty"
        folder.mkdir()
        settings = make_settings("sqlite", folder, request.getfixturevalue("key_file"), request)
        app_clock: FrozenClock = request.getfixturevalue("clock")
        from core_app.service_layer import bootstrap

        app = bootstrap.connect(settings, clock=app_clock)
    users.add_user(app.uow(), SYSTEM, username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN)
    return app


def test_export_import_export_gives_the_same_files(
    practice: Practice, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    build_history(practice)
    first = tmp_path / "first"
    report = export_directory(practice.app.uow(), practice.admin, first)
    assert (report.patients, report.appointments, report.payments) == (4, 7, 3)
    rows = read_csv(first / "appointments.csv")
    assert [r["status"] for r in rows] == [
        "completed", "no_show", "cancelled", "completed", "booked", "confirmed", "cancelled",
    ]  # fmt: skip
    assert rows[3]["procedure_code"] == "D0120+D1110" and rows[3]["fee_cents"] == "7000+11000"
    refunded = read_csv(first / "payments.csv")[0]
    assert (refunded["refunded_cents"], refunded["refund_reason"]) == (
        "1500",
        "goodwill; overcharge",
    )

    twin = empty_database(practice, backend, tmp_path, request)
    admin = users.actor_for(twin.uow(), "admin")
    options = ImportOptions.for_folder(
        first, timezone="America/New_York", hours="mon-sat 08:00-18:00"
    )
    imported = import_directory(twin.uow(), admin, first, options)
    assert imported.clinics_created == ["Main Street"]
    assert (imported.appointments.created, imported.charges_created) == (7, 3)
    second = tmp_path / "second"
    export_directory(twin.uow(), admin, second)
    for name in FILES:
        assert filecmp.cmp(first / name, second / name, shallow=False), name
    if twin is not practice.app:
        twin.close()


def test_export_ids_fall_back_to_qualified_keys_when_namespaces_collide() -> None:
    records = [(1, "a:appointments:7"), (2, "b:appointments:7"), (3, None)]
    assert export_ids(records, "appointments") == {1: "a:7", 2: "b:7", 3: "3"}
    assert export_ids([(1, "a:appointments:7"), (9, None)], "appointments") == {1: "7", 9: "9"}


def test_timestamps_are_written_in_clinic_local_time_with_offset(
    practice: Practice, tmp_path: Path
) -> None:
    build_history(practice)
    export_directory(practice.app.uow(), practice.admin, tmp_path)
    first = read_csv(tmp_path / "appointments.csv")[0]
    assert datetime.fromisoformat(first["start_at"]) == local(-7, "09:00")
    assert first["start_at"].endswith("-05:00")
