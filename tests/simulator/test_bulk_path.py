"""The bulk path's fast parts agree with the core's rules: the array overlap check with
`check_overlaps`, and index rebuilding keeps a load all-or-nothing."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core_app.adapters import bulk, orm
from core_app.adapters.db import make_engine, references_checked_by_the_load
from core_app.domain.history import HistoricPatient, HistoricVisit, check_overlaps, check_visit
from core_app.domain.practice import Procedure, ProcedureCategory, ProviderKind
from core_app.service_layer.history import (
    HistoryRefused,
    _Context,
    _free_of_overlaps,
    _setting_reasons,
    _visit_reasons,
    _visits_fine,
    load_history,
    stored_counts,
)
from tests.conftest import Practice, local


def random_visits(rng: random.Random, n: int) -> list[HistoricVisit]:
    visits = []
    for _ in range(n):
        start = rng.randrange(0, 400) * 60
        visits.append(
            HistoricVisit(
                clinic_id=1,
                provider_id=rng.randrange(3),
                chair_id=rng.randrange(3),
                start_epoch=start,
                end_epoch=start + rng.choice([5, 15, 30, 60]) * 60,
                booked_epoch=0,
                status=rng.choice(["completed", "no_show", "cancelled", "booked"]),
                procedure_codes=("D0120",),
                patient_id=rng.randrange(6),
            )
        )
    return visits


@pytest.mark.parametrize("seed", range(300))
def test_array_overlap_check_agrees_with_the_rule(seed: int) -> None:
    rng = random.Random(seed)
    visits = random_visits(rng, rng.randrange(0, 12))
    keys = [v.patient_id or 0 for v in visits]
    existing = [
        (100 + i, v.provider_id, v.chair_id, v.patient_id or 0, v.start_epoch, v.end_epoch)
        for i, v in enumerate(random_visits(rng, rng.randrange(0, 3)))
    ]
    assert _free_of_overlaps(visits, keys, existing) == (not check_overlaps(visits, keys, existing))


def visit(practice: Practice, hhmm: str, ref: str) -> HistoricVisit:
    start = int(local(-7, hhmm).timestamp())
    return HistoricVisit(
        clinic_id=practice.clinic_id,
        provider_id=practice.dentist_id,
        chair_id=practice.chair_ids[0],
        start_epoch=start,
        end_epoch=start + 1800,
        booked_epoch=start - 86_400,
        status="completed",
        procedure_codes=("D0120",),
        patient_id=practice.patient_ids[0],
        checked_in_epoch=start,
        completed_epoch=start + 1800,
        source_ref=ref,
    )


def test_a_source_reference_twice_in_a_load_or_stored_already_is_refused_with_its_place(
    practice: Practice,
) -> None:
    app = practice.app
    twins = [visit(practice, f"{h:02d}:00", ref) for h, ref in ((9, "b"), (10, "a"), (11, "b"))]
    with pytest.raises(HistoryRefused) as refused:
        load_history(app.uow(), practice.admin, visits=twins)
    assert [(p.where, p.reason) for p in refused.value.problems] == [
        ("visit 2 (b)", "source reference 'b' is also on visit 0 (b)")
    ]
    assert stored_counts(app.uow())["appointments"] == 0
    load_history(app.uow(), practice.admin, visits=[visit(practice, "09:00", "a")])
    with pytest.raises(HistoryRefused) as refused:
        load_history(app.uow(), practice.admin, visits=[visit(practice, "10:00", "a")])
    assert [(p.where, p.reason) for p in refused.value.problems] == [
        ("visit 0 (a)", "source reference 'a' is stored already")
    ]
    assert stored_counts(app.uow())["appointments"] == 1


def test_rebuilt_indexes_and_multi_row_inserts_keep_a_load_all_or_nothing(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
    app = practice.app
    if app.backend == "sqlite":
        # the last line of defence: a unique index dropped for the insert fails when it is
        # built again over duplicates (references out of order), and the writer's error
        # reaches the caller, whose transaction rolls back
        with (
            pytest.raises(IntegrityError),
            app.engine.connect() as connection,
            connection.begin(),
        ):
            writer = bulk.Writer(connection)
            columns = [
                "patient_id",
                "clinic_id",
                "first_name",
                "last_name",
                "birth_date",
                "has_insurance",
                "contact_preference",
                "is_active",
                "created_at",
                "source_ref",
            ]
            now = writer.at(int(local(-7, "09:00").timestamp()))
            rows = [
                (900 + i, practice.clinic_id, "x", "y", "z", 0, "sms", 1, now, ref)
                for i, ref in enumerate(("p-b", "p-a", "p-b"))
            ]
            writer.insert(orm.patients, columns, rows)
            writer.finish()
        assert stored_counts(app.uow())["patients"] == len(practice.patient_ids)
        with sqlite3.connect(Path(app.engine.url.database or "")) as con:
            kept = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'ix_patients_source_ref'"
            ).fetchone()
        assert kept == (1,)  # the dropped index came back with the rollback
    fine = [visit(practice, f"{h:02d}:00", f"ref-{h}") for h in range(8, 13)]
    report = load_history(app.uow(), practice.admin, visits=fine)
    assert len(report.appointment_ids) == 5 and report.charges == 5
    if app.backend == "sqlite":
        database = Path(app.engine.url.database or "")
        with sqlite3.connect(database) as con:
            indexes = {
                row[0]
                for row in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'appointments'"
                )
            }
            refs = [
                r[0]
                for r in con.execute("SELECT source_ref FROM appointments ORDER BY appointment_id")
            ]
        assert {"ix_appointments_provider_id_start_at", "ix_appointments_source_ref"} <= indexes
        assert refs == [f"ref-{h}" for h in range(8, 13)]


def test_a_load_without_per_row_reference_checks_checks_every_table_before_it_commits(
    practice: Practice,
) -> None:
    app = practice.app
    if app.backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL checks every reference as it inserts")
    app.engine.dispose()  # an exclusive engine needs the database to itself
    engine = make_engine(app.engine.url.render_as_string(hide_password=False), exclusive=True)
    try:
        with (
            references_checked_by_the_load(),
            pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"),
            engine.connect() as connection,
            connection.begin(),
        ):
            writer = bulk.Writer(connection)
            assert writer.references_deferred
            events = ["appointment_id", "event_type", "occurred_at"]
            writer.insert(orm.appointment_events, events, [(987_654, "booked", writer.at(0))])
            writer.check_references()  # no appointment 987654: the transaction rolls back
        with engine.connect() as connection, connection.begin():
            assert not bulk.Writer(connection).references_deferred  # outside: SQLite checks rows
            stored = connection.exec_driver_sql("SELECT count(*) FROM appointment_events")
            assert stored.scalar() == 0
    finally:
        engine.dispose()


def faulty_visits(rng: random.Random, n: int) -> list[HistoricVisit]:
    """Visits with now and then one thing wrong (or odd) of the kinds `check_visit` and the
    setting checks look at."""
    statuses = ["completed", "no_show", "cancelled", "booked", "confirmed", "checked_in"]
    visits = []
    for _ in range(n):
        status = rng.choice(statuses)
        start = 100_000 + rng.randrange(0, 400) * 60
        times = {
            "confirmed_epoch": start - 3600 if rng.random() < 0.5 else None,
            "checked_in_epoch": start if status in ("completed", "checked_in") else None,
            "completed_epoch": start + 1800 if status == "completed" else None,
            "no_show_epoch": start + 900 if status == "no_show" else None,
            "cancelled_epoch": start - 7200 if status == "cancelled" else None,
        }
        fields: dict[str, object] = {
            "clinic_id": 1,
            "provider_id": 1,
            "chair_id": 1,
            "start_epoch": start,
            "end_epoch": start + 1800,
            "booked_epoch": start - 86_400,
            "status": status,
            "procedure_codes": ("D0120",),
            "patient_id": 1,
            "cancel_reason": "illness" if status == "cancelled" else None,
            **times,
        }
        if rng.random() < 0.15:
            name = rng.choice([*fields, "new_patient", "fees_cents"])
            fields[name] = rng.choice(
                [None, -5, 0, start - 10, start, start + 10, start + 5000, start + 8 * 3600,
                 start + 8 * 3600 + 1, 2**60, True, 1.5, "x",
                 "", " ", "cancelled", "lost", (), ("D9999",), ("D0120", "D0120"), (5,), 2, 0]
            )  # fmt: skip
        visits.append(HistoricVisit(**fields))  # type: ignore[arg-type]
    return visits


EXAM = Procedure(1, "D0120", "exam", ProcedureCategory.DIAGNOSTIC, 15, 5000, False, 1)


@pytest.mark.parametrize("seed", range(400))
def test_array_visit_check_agrees_with_the_record_by_record_rules(seed: int) -> None:
    rng = random.Random(seed)
    visits = faulty_visits(rng, rng.randrange(0, 6))
    patients = [HistoricPatient(1, "A", "B", "1980-01-01", 0), HistoricPatient(2, "C", "D", "x", 0)]
    ctx = _Context(
        currency={1: "USD", 2: "USD"},
        provider_kind={1: ProviderKind.DENTIST, 2: ProviderKind.HYGIENIST},
        provider_clinics={1: {1}, 2: {1}},
        chair_clinic={1: 1, 2: 2},
        catalog={(1, "D0120"): EXAM},
        patient_clinic={1: 1, 2: 2},
    )
    try:
        expected: bool | None = not any(
            check_visit(i, v) + _visit_reasons(v, patients, ctx, _setting_reasons(v, ctx))
            for i, v in enumerate(visits)
        )
    except (TypeError, AttributeError):
        expected = None  # the record-by-record check fails on such values: the fast one defers
    assert _visits_fine(visits, patients, ctx) is bool(expected)


def test_a_visit_longer_than_the_longest_appointment_is_refused_by_both_checks() -> None:
    """History follows the booking rule's 8-hour limit: window reads rely on it."""
    start = 100_000
    fine = HistoricVisit(
        clinic_id=1, provider_id=1, chair_id=1, start_epoch=start, end_epoch=start + 8 * 3600,
        booked_epoch=start - 86_400, status="booked", procedure_codes=("D0120",), patient_id=1,
    )  # fmt: skip
    too_long = fine._replace(end_epoch=start + 8 * 3600 + 60)
    assert check_visit(0, fine) == []
    assert check_visit(0, too_long) == [
        "it lasts longer than 8 hours (the longest an appointment can be)"
    ]
    patients = [HistoricPatient(1, "A", "B", "1980-01-01", 0)]
    ctx = _Context(
        currency={1: "USD"},
        provider_kind={1: ProviderKind.DENTIST},
        provider_clinics={1: {1}},
        chair_clinic={1: 1},
        catalog={(1, "D0120"): EXAM},
        patient_clinic={1: 1},
    )
    assert _visits_fine([fine], patients, ctx) is True
    assert _visits_fine([fine, too_long], patients, ctx) is False
