"""Fast inserts for bulk loads (history from an import or the simulator).

The ORM costs tens of microseconds per object; a million appointments with their procedures,
events and charges are millions of rows. This writes plain tuples with the driver's
`executemany` inside the caller's transaction, converting values the way the column types
would (UTC timestamps, encrypted patient fields, enum values). The rules were checked before:
see `core_app.domain.history`.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain, pairwise
from typing import Any

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.exc import IntegrityError

from core_app.adapters import orm
from core_app.adapters.crypto import installed_keyring
from core_app.adapters.db import plain_rows

#: SQLite page cache during a bulk load (KiB, an upper bound: pages are allocated as used).
#: A million appointments touch ~1.3 GB of table, index and parent pages; with the usual
#: 256 MiB the load re-reads evicted pages all the time.
BULK_CACHE_KIB = 2 * 1024 * 1024
#: below this many rows a load keeps the indexes as they are
REBUILD_MIN_ROWS = 20_000
#: SQLite: rows per multi-row INSERT (fewer, larger statements: fewer hand-overs between the
#: caller and the writing thread), within the connection's bound-variable limit
ROWS_PER_STATEMENT = 1000
SQLITE_MAX_VARIABLES = 999  # the limit of old SQLite versions, when the driver cannot tell
#: dangling references named when `check_references` fails
REFERENCES_NAMED = 5


class Writer:
    """Converts and inserts rows for one connection (SQLite or PostgreSQL).

    On an SQLite database file the statements (inserts, index drops and builds) run in order
    on one worker thread: SQLite releases the GIL while it writes, so the caller builds the
    next table's rows meanwhile. The caller must not use the connection until `wait()` (or
    `finish()`) returns; `reserve_ids` waits by itself. An in-memory database is tied to its
    thread, and PostgreSQL gains nothing: there every statement runs at once."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self._times: dict[int, Any] = {}
        self._day_text = _DayText()
        self._second_text = _SecondText()
        self.now = self.at(int(time.time()))
        self._cache_size: int | None = None
        self._max_variables = SQLITE_MAX_VARIABLES
        self._written: list[str] = []  # tables inserted into, in order
        #: SQLite without per-row foreign-key checks (see `check_references`)
        self.references_deferred = False
        if self.sqlite:
            enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
            self.references_deferred = not enforced
            # a bulk load's pages (table, indexes, parents) in memory: see finish()
            self._cache_size = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
            connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
            driver = connection.connection.driver_connection
            getlimit = getattr(driver, "getlimit", None)  # Python 3.11+
            if getlimit is not None:
                self._max_variables = int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        database = connection.engine.url.database
        self._background = self.sqlite and bool(database) and database != ":memory:"
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self, job: Callable[[], None]) -> None:
        """Run `job` now, or queue it for the worker thread (see the class)."""
        if not self._background:
            job()
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="bulk-writer", daemon=True)
            self._worker.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._error is None:  # after a failure the rest is skipped: it rolls back
                    job()
            except BaseException as error:  # handed to the caller by wait()
                self._error = error
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def wait(self) -> None:
        """Until every queued statement has run; raises the first one's error."""
        if self._worker is not None:
            self._jobs.join()
            error, self._error = self._error, None
            if error is not None:
                raise error

    def finish(self) -> None:
        """Wait for the queued statements and stop the worker, then give back the bulk load's
        page cache (SQLite frees the pages above the old size). Call before using the
        connection for anything else."""
        try:
            self.wait()
        finally:
            if self._worker is not None:
                self._jobs.put(None)
                self._worker.join()
                self._worker = None
            if self._cache_size is not None:
                self.connection.exec_driver_sql(f"PRAGMA cache_size = {self._cache_size}")
                self._cache_size = None

    def check_references(self) -> None:
        """When the connection's transaction runs without SQLite's per-row foreign-key checks
        (`core_app.adapters.db.references_checked_by_the_load`): `PRAGMA foreign_key_check` on
        every table this writer inserted into, raising `IntegrityError` (the load rolls back)
        for any row whose parent does not exist. Otherwise SQLite checked each row already.
        Call after the last insert and before the commit."""
        self.wait()
        if not self.references_deferred:
            return
        for name in dict.fromkeys(self._written):
            pragma = f'PRAGMA foreign_key_check("{name}")'
            dangling = self.connection.exec_driver_sql(pragma).fetchmany(REFERENCES_NAMED)
            if dangling:
                named = "; ".join(
                    f"{table} row {rowid} -> {parent} (constraint {key})"
                    for table, rowid, parent, key in plain_rows(dangling)
                )
                raise IntegrityError(
                    pragma, None, sqlite3.IntegrityError(f"FOREIGN KEY constraint failed: {named}")
                )

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

    def times(self, epochs: Iterable[int | None]) -> list[Any]:
        """`at` for a whole column: on SQLite the text is put together from cached day and
        time-of-day parts (a million timestamps cost ~0.3 s instead of ~3 s)."""
        if not self.sqlite:
            return [self.at(epoch) for epoch in epochs]
        days, seconds = self._day_text, self._second_text
        return [
            None if epoch is None else days[epoch // 86_400] + seconds[epoch % 86_400]
            for epoch in epochs
        ]

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """Primary keys for `count` new rows, safe against concurrent writers."""
        if count == 0:
            return []
        self.wait()
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
        """Insert tuples in `columns` order, plus `updated_at`; returns how many. The rows are
        built here, by the caller; on SQLite they are written by the worker thread."""
        names = [*columns, "updated_at"]
        quoted = ", ".join(f'"{name}"' for name in names)
        if self.sqlite:
            batch = rows if isinstance(rows, list) else list(rows)
        else:
            now = self.now
            batch = [(*row, now) for row in rows]
        if not batch:
            return 0
        self._written.append(table.name)
        if self.sqlite:
            self._run(lambda: self._insert_sqlite(table, columns, quoted, batch))
        else:
            placeholders = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({placeholders})"  # noqa: S608 - our metadata
            self.connection.exec_driver_sql(sql, batch)
        return len(batch)

    def _insert_sqlite(
        self, table: Table, columns: Sequence[str], quoted: str, batch: list[tuple[Any, ...]]
    ) -> None:
        """Many rows per INSERT statement (a third less time than one row per statement);
        `updated_at`, the same for every row, is written into the statement once. Indexes
        that the rows would scatter are dropped first and built afterwards (see
        `_indexes_to_rebuild`); a unique index that no longer holds fails when it is built,
        and the load rolls back."""
        rebuild = self._indexes_to_rebuild(table, columns, batch)
        for name, _ in rebuild:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
        width = len(columns)
        per_statement = max(1, min(ROWS_PER_STATEMENT, self._max_variables // width))
        one = "(" + "?, " * width + f"'{self.now}')"  # our own timestamp text, never input
        full = len(batch) - len(batch) % per_statement
        head = f"INSERT INTO {table.name} ({quoted}) VALUES "  # noqa: S608 - our metadata
        if full:
            flat = [
                tuple(chain.from_iterable(batch[i : i + per_statement]))
                for i in range(0, full, per_statement)
            ]
            self.connection.exec_driver_sql(head + ", ".join([one] * per_statement), flat)
        if full < len(batch):
            self.connection.exec_driver_sql(head + one, batch[full:])
        for _, definition in rebuild:
            self.connection.exec_driver_sql(definition)

    def _indexes_to_rebuild(
        self, table: Table, columns: Sequence[str], batch: list[tuple[Any, ...]]
    ) -> list[tuple[str, str]]:
        """SQLite: when a load adds half the table or more, the secondary indexes its rows
        land all over are dropped before the insert and built once afterwards (a sort), which
        beats keeping them up row by row (a million simulated appointments: 20 s instead of
        39 s for the appointments table). An index whose new keys only append (a constant
        `updated_at`, references that are all empty, ids in ascending order) is kept: that
        costs next to nothing. All in the caller's transaction: nothing changes for anyone
        else, and a unique index that no longer holds fails when it is built, rolling back."""
        if not self.sqlite or len(batch) < REBUILD_MIN_ROWS:
            return []
        stored = self.connection.scalar(select(func.count()).select_from(table))
        if 2 * len(batch) < (stored or 0):
            return []
        leading = {str(ix.name): next(iter(ix.columns)).name for ix in table.indexes}
        position = {name: i for i, name in enumerate(columns)}
        rows = self.connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table.name,),
        )
        return [
            (str(name), str(definition))
            for name, definition in plain_rows(rows)
            if name not in leading or not _appends(batch, position.get(leading[name]))
        ]

    def encrypt(self, value: str | None, field: str) -> str | None:
        if value is None:
            return None
        return installed_keyring().encrypt(value, field=field)


def _appends(batch: list[tuple[Any, ...]], column: int | None) -> bool:
    """Whether rows with these values of an index's leading column only append to the index:
    the column is not among the rows' (`updated_at`, one literal), all values are equal
    (e.g. all empty), or they never decrease."""
    if column is None:
        return True
    first = batch[0][column]
    if all(row[column] == first for row in batch):
        return True
    values = [row[column] for row in batch]
    if None in values:
        return False
    return all(a <= b for a, b in pairwise(values))


class _DayText(dict[int, str]):
    """Day number since 1970 -> `YYYY-MM-DD ` (filled on demand)."""

    def __missing__(self, day: int) -> str:
        text = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d ")
        self[day] = text
        return text


class _SecondText(dict[int, str]):
    """Second of the day -> `HH:MM:SS.000000` (filled on demand)."""

    def __missing__(self, second: int) -> str:
        text = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000000"
        self[second] = text
        return text


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
        for a, p, c, pt, s, e in plain_rows(connection.execute(query))
    ]
