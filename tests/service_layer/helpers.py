"""Helpers for the service tests: users with a role, bookings, audit entries, table snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, inspect, select, text

from core_app.adapters import orm
from core_app.domain.appointment import Appointment
from core_app.domain.staff import Actor, Role
from core_app.service_layer import appointments, users
from core_app.service_layer.bootstrap import App
from tests.conftest import Practice, local

PASSWORD = "a-long-test-password"
#: every table the snapshot ignores: the audit log is expected to grow on every refusal
UNSNAPSHOTTED = {"audit_entries"}


def add_staff(
    practice: Practice, username: str, role: Role, *, clinic_id: int | None = None
) -> Actor:
    """A staff user created by the admin, as the actor the services see."""
    users.add_user(
        practice.app.uow(),
        practice.admin,
        username=username,
        password=PASSWORD,
        role=role,
        clinic_id=clinic_id,
    )
    return users.actor_for(practice.app.uow(), username)


def book(
    practice: Practice,
    day: int,
    hhmm: str,
    *,
    patient: int = 0,
    provider_id: int | None = None,
    chair: int = 0,
    codes: Sequence[str] = ("D1110",),
    actor: Actor | None = None,
    **options: Any,
) -> int:
    """Book through the service, by default the dentist in chair 1 for a 60-minute cleaning."""
    return appointments.book_appointment(
        practice.app.uow(),
        actor or practice.admin,
        patient_id=practice.patient_ids[patient],
        provider_id=provider_id or practice.dentist_id,
        chair_id=practice.chair_ids[chair],
        start_at=local(day, hhmm),
        procedure_codes=list(codes),
        **options,
    )


def load_appointment(app: App, appointment_id: int) -> Appointment:
    with app.uow() as uow:
        appointment = uow.appointments.get(appointment_id)
        assert appointment is not None
        uow.session.expunge(appointment)  # detached as loaded: the rollback on exit expires
        return appointment


def audit_entries(app: App) -> list[Row[Any]]:
    with app.engine.connect() as connection:
        query = select(orm.audit_entries).order_by(orm.audit_entries.c.audit_id)
        return list(connection.execute(query))


def count_rows(app: App, table: str) -> int:
    with app.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())  # noqa: S608


Snapshot = dict[str, tuple[int, list[tuple[Any, ...]]]]


def snapshot(app: App) -> Snapshot:
    """Row count and full contents (SELECT * by primary key) of every table but the audit log."""
    # read the schema first: on SQLite every connection begins with a write lock (BEGIN
    # IMMEDIATE), so the inspector must not open a second connection while the first is open
    inspector = inspect(app.engine)
    tables = sorted(set(inspector.get_table_names()) - UNSNAPSHOTTED)
    assert "appointments" in tables and "payments" in tables
    keys = {table: inspector.get_pk_constraint(table)["constrained_columns"] for table in tables}
    result: Snapshot = {}
    with app.engine.connect() as connection:
        for table in tables:
            assert keys[table], f"table {table} has no primary key to order by"
            order = ", ".join(f'"{key}"' for key in keys[table])
            query = f'SELECT * FROM "{table}" ORDER BY {order}'  # noqa: S608 (names from schema)
            rows = [tuple(row) for row in connection.execute(text(query))]
            result[table] = (len(rows), rows)
    return result
