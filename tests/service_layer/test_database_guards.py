"""What the database itself guarantees, whatever the application does: an append-only audit log,
no overlapping appointments per provider/chair (PostgreSQL), one overbook per appointment, and
timestamps that come back as aware UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from core_app.adapters import orm
from core_app.service_layer import appointments
from tests.conftest import Practice, local
from tests.service_layer.helpers import audit_entries, book, load_appointment


class TestAuditLogIsAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_entries SET outcome = 'success'",
            "UPDATE audit_entries SET detail = 'tampered' WHERE audit_id = 1",
            "DELETE FROM audit_entries",
            "DELETE FROM audit_entries WHERE audit_id = 1",
        ],
    )
    def test_the_database_refuses_to_change_audit_entries(
        self, practice: Practice, statement: str
    ) -> None:
        before = audit_entries(practice.app)
        assert before and before[0].audit_id == 1

        with pytest.raises(DBAPIError, match="append-only"), practice.app.engine.begin() as conn:
            conn.execute(text(statement))

        assert audit_entries(practice.app) == before

    def test_the_database_accepts_new_audit_entries(self, practice: Practice) -> None:
        before = len(audit_entries(practice.app))
        with practice.app.engine.begin() as connection:
            connection.execute(
                orm.audit_entries.insert().values(
                    occurred_at=datetime.now(UTC),
                    actor_username="tester",
                    action="test.append",
                    entity_type="test",
                    outcome="success",
                )
            )

        assert len(audit_entries(practice.app)) == before + 1


def raw_appointment(
    practice: Practice, start: datetime, minutes: int, **columns: Any
) -> dict[str, Any]:
    """Column values for an appointment row written straight into the table."""
    values: dict[str, Any] = {
        "clinic_id": practice.clinic_id,
        "patient_id": practice.patient_ids[1],
        "provider_id": practice.dentist_id,
        "chair_id": practice.chair_ids[1],
        "start_at": start,
        "end_at": start + timedelta(minutes=minutes),
        "status": "booked",
        "source": "import",
        "currency": "USD",
        "booked_at": local(0, "08:00"),
        "is_late_cancel": False,
        "reschedule_count": 0,
        "updated_at": local(0, "08:00"),
        "overbook_of_appointment_id": None,
    }
    values.update(columns)
    return values


INSERT = text(
    "INSERT INTO appointments (clinic_id, patient_id, provider_id, chair_id, start_at, end_at, "
    "status, source, currency, booked_at, is_late_cancel, reschedule_count, updated_at, "
    "overbook_of_appointment_id) VALUES (:clinic_id, :patient_id, :provider_id, :chair_id, "
    ":start_at, :end_at, :status, :source, :currency, :booked_at, :is_late_cancel, "
    ":reschedule_count, :updated_at, :overbook_of_appointment_id)"
)


@contextmanager
def bypassing_the_application(practice: Practice) -> Iterator[Connection]:
    with practice.app.engine.begin() as connection:
        yield connection


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL only")


@pytest.mark.usefixtures("postgres_only")
class TestExclusionConstraint:
    """A row inserted behind the application's back meets the constraint, not the rules."""

    @pytest.fixture
    def held(self, practice: Practice) -> int:
        """Tuesday 10:00-11:00: the dentist in chair 1 with patient 0."""
        return book(practice, 1, "10:00")

    def test_refuses_an_overlapping_row_on_the_same_provider(
        self, practice: Practice, held: int
    ) -> None:
        row = raw_appointment(practice, local(1, "10:30"), 60)

        with (
            pytest.raises(IntegrityError, match="ex_appointments_provider_id_overlap"),
            bypassing_the_application(practice) as connection,
        ):
            connection.execute(INSERT, row)

    def test_refuses_an_overlapping_row_on_the_same_chair(
        self, practice: Practice, held: int
    ) -> None:
        row = raw_appointment(
            practice,
            local(1, "10:59"),
            30,
            provider_id=practice.dentist2_id,
            chair_id=practice.chair_ids[0],
        )

        with (
            pytest.raises(IntegrityError, match="ex_appointments_chair_id_overlap"),
            bypassing_the_application(practice) as connection,
        ):
            connection.execute(INSERT, row)

    def test_accepts_a_back_to_back_row(self, practice: Practice, held: int) -> None:
        with bypassing_the_application(practice) as connection:
            connection.execute(INSERT, raw_appointment(practice, local(1, "11:00"), 60))
            connection.execute(INSERT, raw_appointment(practice, local(1, "09:00"), 60))

    def test_accepts_an_overlapping_overbook(self, practice: Practice, held: int) -> None:
        row = raw_appointment(practice, local(1, "10:30"), 60, overbook_of_appointment_id=held)

        with bypassing_the_application(practice) as connection:
            connection.execute(INSERT, row)

    @pytest.mark.parametrize("status", ["cancelled", "no_show"])
    def test_accepts_an_overlapping_row_that_does_not_hold_the_slot(
        self, practice: Practice, held: int, status: str
    ) -> None:
        with bypassing_the_application(practice) as connection:
            connection.execute(
                INSERT, raw_appointment(practice, local(1, "10:30"), 60, status=status)
            )

    def test_refuses_reactivating_a_cancelled_row_into_an_overlap(
        self, practice: Practice, held: int
    ) -> None:
        row = raw_appointment(practice, local(1, "10:30"), 60, status="cancelled")
        with bypassing_the_application(practice) as connection:
            connection.execute(INSERT, row)

        with (
            pytest.raises(IntegrityError, match="overlap"),
            bypassing_the_application(practice) as connection,
        ):
            connection.execute(
                text("UPDATE appointments SET status = 'booked' WHERE status = 'cancelled'")
            )


def test_the_database_allows_one_active_overbook_per_appointment(practice: Practice) -> None:
    target = book(practice, 1, "10:00")
    insert = orm.appointments.insert()
    with bypassing_the_application(practice) as connection:
        connection.execute(
            insert,
            raw_appointment(practice, local(1, "10:00"), 30, overbook_of_appointment_id=target),
        )
        connection.execute(
            insert,
            raw_appointment(
                practice,
                local(1, "10:30"),
                30,
                overbook_of_appointment_id=target,
                status="cancelled",
                patient_id=practice.patient_ids[2],
                chair_id=practice.chair_ids[2],
            ),
        )

    with (
        pytest.raises(IntegrityError, match="overbook"),
        bypassing_the_application(practice) as connection,
    ):
        connection.execute(
            insert,
            raw_appointment(
                practice,
                local(1, "10:30"),
                30,
                overbook_of_appointment_id=target,
                patient_id=practice.patient_ids[3],
                chair_id=practice.chair_ids[2],
            ),
        )


class TestTimestamps:
    def test_times_read_through_the_repositories_are_aware_utc(self, practice: Practice) -> None:
        appointment_id = book(practice, 1, "10:00")
        appointments.reschedule_appointment(
            practice.app.uow(), practice.admin, appointment_id, start_at=local(2, "14:00")
        )

        moved = load_appointment(practice.app, appointment_id)
        stamps: list[datetime | None] = [moved.start_at, moved.end_at, moved.booked_at]
        stamps += [e.occurred_at for e in moved.events]
        stamps += [moved.events[-1].from_start_at, moved.events[-1].from_end_at]
        for stamp in stamps:
            assert stamp is not None
            assert stamp.tzinfo is UTC, stamp
        assert moved.start_at == local(2, "14:00")
        assert moved.start_at.hour == 19  # 14:00 in New York in January is 19:00 UTC

    def test_times_read_through_the_tables_are_aware_utc_whatever_the_session_zone(
        self, practice: Practice, backend: str
    ) -> None:
        appointment_id = book(practice, 1, "10:00")

        with practice.app.engine.connect() as connection:
            if backend == "postgresql":
                connection.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
            t = orm.appointments.c
            row = connection.execute(
                select(t.start_at, t.booked_at).where(t.appointment_id == appointment_id)
            ).one()
            start: datetime = row[0]
            booked: datetime = row[1]
            audit_times: list[datetime] = list(
                connection.execute(select(orm.audit_entries.c.occurred_at)).scalars().all()
            )

        assert (start, booked) == (local(1, "10:00"), local(0, "08:00"))
        for stamp in [start, booked, *audit_times]:
            assert stamp.tzinfo is UTC

    def test_a_naive_datetime_is_refused_at_the_column(self, practice: Practice) -> None:
        row = raw_appointment(practice, local(1, "10:00"), 30)
        row["start_at"] = datetime(2030, 1, 8, 15, 0)

        with (
            pytest.raises(StatementError, match="naive datetime"),
            bypassing_the_application(practice) as connection,
        ):
            connection.execute(orm.appointments.insert().values(**row))
