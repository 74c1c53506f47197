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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, pairwise
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.exc import IntegrityError

from core_app.adapters import orm
from core_app.adapters.crypto import installed_keyring
from core_app.adapters.db import plain_rows
from core_app.adapters.types import UtcDateTime

if TYPE_CHECKING:
    import numpy as np

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
#: an absent time in an epoch column given to `Writer.insert_columns`
NO_TIME = -(2**63)
#: `Writer.epoch_texts` makes the text of every day between the first and the last epoch's
#: when they are fewer days apart than this, else of each distinct day
DAYS_SPANNED = 100_000


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

    def _per_statement(self, width: int) -> int:
        return max(1, min(ROWS_PER_STATEMENT, self._max_variables // width))

    def _insert_sqlite(
        self, table: Table, columns: Sequence[str], quoted: str, batch: list[tuple[Any, ...]]
    ) -> None:
        """Many rows per INSERT statement (a third less time than one row per statement);
        `updated_at`, the same for every row, is written into the statement once. Indexes
        that the rows would scatter are dropped first and built afterwards (see
        `_indexes_to_rebuild`); a unique index that no longer holds fails when it is built,
        and the load rolls back."""
        position = {name: i for i, name in enumerate(columns)}
        rebuild = self._indexes_to_rebuild(
            table, len(batch), lambda ix: _appends(batch, position.get(ix[0]))
        )
        per_statement = self._per_statement(len(columns))
        full = len(batch) - len(batch) % per_statement
        flat = [
            tuple(chain.from_iterable(batch[i : i + per_statement]))
            for i in range(0, full, per_statement)
        ]
        one = self._row_sql([True] * len(columns))
        self._write_statements(table, quoted, one, per_statement, flat, batch[full:], rebuild)

    def _row_sql(self, bound: Sequence[bool]) -> str:
        """One row's `VALUES` part: `?` for each bound column, `NULL` for the others, then
        `updated_at` (our own timestamp text, never input)."""
        return "(" + "".join("?, " if b else "NULL, " for b in bound) + f"'{self.now}')"

    def _write_statements(
        self,
        table: Table,
        quoted: str,
        one: str,
        per_statement: int,
        flat: Sequence[Sequence[Any]],
        tail: Sequence[Sequence[Any]],
        rebuild: list[tuple[str, str]],
    ) -> None:
        """`flat`: the parameters of full statements of `per_statement` rows (`one` each);
        `tail`: the last rows, one statement each."""
        for name, _ in rebuild:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
        head = f"INSERT INTO {table.name} ({quoted}) VALUES "  # noqa: S608 - our metadata
        if flat:
            self.connection.exec_driver_sql(head + ", ".join([one] * per_statement), flat)
        if tail:
            self.connection.exec_driver_sql(head + one, tail)
        for _, definition in rebuild:
            self.connection.exec_driver_sql(definition)

    def insert_columns(self, table: Table, values: Mapping[str, Any], count: int) -> int:
        """Insert `count` rows given column by column, plus `updated_at`; returns `count`.

        Each value is a numpy array or list of `count` items, or one value for every row.
        Timestamp columns take UTC epoch seconds (int64, `NO_TIME` for none) and are turned
        into the column type's text (SQLite) or datetimes here; booleans become the
        database's flags. No per-row Python objects are made but the values themselves: on
        SQLite each statement's parameters are put together from slices of the columns, and a
        column that is None in every row is written as `NULL` in the statement (binding None
        costs SQLite's driver an adapter lookup per value)."""
        if count == 0:
            return 0
        names = list(values)
        converted = [self._column(table, name, values[name], count) for name in names]
        if not self.sqlite:
            every = [[c.value] * count if isinstance(c, _Constant) else c for c in converted]
            return self.insert(table, names, zip(*every, strict=True))
        self._written.append(table.name)
        bound = [not (isinstance(c, _Constant) and c.value is None) for c in converted]
        bound[0] = True  # (at least one parameter per row: the rows are counted by them)
        one = self._row_sql(bound)
        converted = [c for c, b in zip(converted, bound, strict=True) if b]
        width = len(converted)
        per_statement = self._per_statement(width)
        full = count - count % per_statement
        # one statement's parameters: the constants in place, the columns' slices between
        template: list[Any] = [None] * (per_statement * width)
        varying = []
        for j, column in enumerate(converted):
            if isinstance(column, _Constant):
                template[j::width] = [column.value] * per_statement
            else:
                varying.append((j, column))
        flat = []
        for lo in range(0, full, per_statement):
            params = template.copy()
            for j, column in varying:
                params[j::width] = column[lo : lo + per_statement]
            flat.append(tuple(params))
        rest = count - full
        last = [[c.value] * rest if isinstance(c, _Constant) else c[full:] for c in converted]
        tail = list(zip(*last, strict=True))
        raw = {name: values[name] for name in names}
        quoted = ", ".join(f'"{name}"' for name in [*names, "updated_at"])

        def job() -> None:
            rebuild = self._indexes_to_rebuild(
                table, count, lambda ix: _column_appends(raw, ix, count)
            )
            self._write_statements(table, quoted, one, per_statement, flat, tail, rebuild)

        self._run(job)
        return count

    def _column(self, table: Table, name: str, value: Any, count: int) -> list[Any] | _Constant:
        """One column of `insert_columns` as the database takes it: a list, or one value."""
        import numpy as np

        if not isinstance(value, np.ndarray | list):
            if isinstance(table.c[name].type, UtcDateTime):
                return _Constant(None if value in (None, NO_TIME) else self.at(int(value)))
            return _Constant(self.flag(value) if isinstance(value, bool) else value)
        if len(value) != count:
            raise ValueError(f"column {name}: {len(value)} values for {count} rows")
        if isinstance(table.c[name].type, UtcDateTime):
            return self.epoch_texts(np.asarray(value, dtype=np.int64))
        if isinstance(value, np.ndarray):
            if value.dtype == np.bool_ and self.sqlite:
                value = value.astype(np.int64)
            items: list[Any] = value.tolist()
            return items
        return value

    def epoch_texts(self, epochs: np.ndarray) -> list[Any]:
        """`times` for an int64 array (`NO_TIME`: None), with numpy: each distinct day's and
        second's text is made once, and the texts are joined element by element in C."""
        import numpy as np

        present = epochs != NO_TIME
        out = np.full(len(epochs), None, dtype=object)
        known = epochs[present]
        if len(known):
            if not self.sqlite:
                out[present] = [self.at(e) for e in known.tolist()]
                return list(out.tolist())
            day = known // 86_400
            first, last = int(day.min()), int(day.max())
            if last - first < DAYS_SPANNED:  # each day of the span: no sort
                days = np.array([self._day_text[d] for d in range(first, last + 1)], dtype=object)
                place = day - first
            else:  # (far-apart epochs) each distinct day
                distinct, place = np.unique(day, return_inverse=True)
                days = np.array([self._day_text[d] for d in distinct.tolist()], dtype=object)
            out[present] = days[place] + _seconds_of_day()[known - day * 86_400]
        return list(out.tolist())

    def _indexes_to_rebuild(
        self, table: Table, count: int, appends: Callable[[list[str]], bool]
    ) -> list[tuple[str, str]]:
        """SQLite: when a load adds half the table or more, the secondary indexes its rows
        land all over are dropped before the insert and built once afterwards (a sort), which
        beats keeping them up row by row (a million simulated appointments: 20 s instead of
        39 s for the appointments table). An index whose new keys only append (a constant
        `updated_at`, references that are all empty, ids in ascending order) is kept: that
        costs next to nothing. All in the caller's transaction: nothing changes for anyone
        else, and a unique index that no longer holds fails when it is built, rolling back."""
        if not self.sqlite or count < REBUILD_MIN_ROWS:
            return []
        stored = self.connection.scalar(select(func.count()).select_from(table))
        if 2 * count < (stored or 0):
            return []
        indexed = {str(ix.name): [c.name for c in ix.columns] for ix in table.indexes}
        rows = self.connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table.name,),
        )
        return [
            (str(name), str(definition))
            for name, definition in plain_rows(rows)
            if name not in indexed or not appends(indexed[name])
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


@dataclass(frozen=True)
class _Constant:
    """One value for every row of an `insert_columns` column."""

    value: Any


def _column_appends(values: Mapping[str, Any], index: list[str], count: int) -> bool:
    """`_appends` for `insert_columns`: the index's leading column is not among the values
    or is one value for every row, or its values never decrease."""
    import numpy as np

    lead = values.get(index[0])
    if not isinstance(lead, np.ndarray | list):
        return True
    if not isinstance(lead, np.ndarray) or lead.dtype == object or len(lead) != count:
        return _appends([(v,) for v in lead], 0)
    return count < 2 or bool(np.all(lead[1:] >= lead[:-1]))


_SECONDS: list[Any] = []


def _seconds_of_day() -> Any:
    """Second of the day -> `HH:MM:SS.000000`, as an object array (made on first use)."""
    import numpy as np

    if not _SECONDS:
        texts = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86_400)]
        _SECONDS.append(np.array(texts, dtype=object))
    return _SECONDS[0]


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
