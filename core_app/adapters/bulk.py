"""Fast inserts for bulk loads (history from an import or the simulator).

The ORM costs tens of microseconds per object; a million appointments with their procedures,
events and charges are millions of rows. This writes plain tuples with the driver's
`executemany` inside the caller's transaction, converting values the way the column types
would (UTC timestamps, encrypted patient fields, enum values). The rules were checked before:
see `core_app.domain.history`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from core_app.adapters import orm
from core_app.adapters.crypto import installed_keyring


class Writer:
    """Converts and inserts rows for one connection (SQLite or PostgreSQL)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self._times: dict[int, Any] = {}
        self.now = self.at(int(time.time()))

    def at(self, epoch: int | None) -> Any:
        """A UTC timestamp as the column type would bind it."""
        if epoch is None:
            return None
        value = self._times.get(epoch)
        if value is None:
            moment = datetime.fromtimestamp(epoch, UTC)
            value = moment.strftime("%Y-%m-%d %H:%M:%S.000000") if self.sqlite else moment
            self._times[epoch] = value
        return value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """Primary keys for `count` new rows, safe against concurrent writers."""
        if count == 0:
            return []
        pk = next(iter(table.primary_key.columns))
        if self.sqlite:  # BEGIN IMMEDIATE holds the write lock: nobody else inserts meanwhile
            first = (self.connection.scalar(select(func.max(pk))) or 0) + 1
            return list(range(first, first + count))
        rows = self.connection.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', '{pk.name}')) "  # noqa: S608 - names from our own metadata
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return [row[0] for row in rows]

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert tuples in `columns` order, plus `updated_at`; returns how many."""
        marker = "?" if self.sqlite else "%s"
        names = [*columns, "updated_at"]
        quoted = ", ".join(f'"{name}"' for name in names)
        placeholders = ", ".join([marker] * len(names))
        sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({placeholders})"  # noqa: S608 - our metadata
        now = self.now
        batch = [(*row, now) for row in rows]
        if batch:
            self.connection.exec_driver_sql(sql, batch)
        return len(batch)

    def encrypt(self, value: str | None, field: str) -> str | None:
        if value is None:
            return None
        return installed_keyring().encrypt(value, field=field)


def active_appointments_between(
    connection: Connection, start_epoch: int, end_epoch: int, writer: Writer
) -> list[tuple[int, int, int, int, int, int]]:
    """Active appointments overlapping [start, end), with epoch times."""
    t = orm.appointments.c
    query = select(
        t.appointment_id, t.provider_id, t.chair_id, t.patient_id, t.start_at, t.end_at
    ).where(
        t.status.in_(["booked", "confirmed", "checked_in", "completed"]),
        t.start_at < datetime.fromtimestamp(end_epoch, UTC),
        t.end_at > datetime.fromtimestamp(start_epoch, UTC),
    )
    return [
        (a, p, c, pt, int(s.timestamp()), int(e.timestamp()))
        for a, p, c, pt, s, e in connection.execute(query)
    ]
