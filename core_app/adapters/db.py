"""Database engines: SQLite in WAL mode with up-front write locks, PostgreSQL serializable.

SQLite: every writing transaction starts with `BEGIN IMMEDIATE`, so writers queue for the one
write lock instead of failing when they upgrade from read to write; a read-only transaction
(the connection's `READ_ONLY` execution option) starts with a plain, deferred `BEGIN`: under
the write-ahead log it reads a snapshot without taking any lock, beside the writer.
PostgreSQL: every transaction runs SERIALIZABLE, with exclusion constraints as a second line
of defence; a serialization failure is retried by the service layer (see `is_retryable`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

#: PostgreSQL SQLSTATEs that a fresh attempt of the same use case can get past
_RETRYABLE_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "23505",  # unique_violation: a concurrent twin committed first (e.g. idempotency key)
    "23P01",  # exclusion_violation: a concurrent booking took the slot first
    "55P03",  # lock_not_available
}


#: set around a bulk load (`references_checked_by_the_load`): on an exclusive SQLite engine its
#: transactions then begin with the per-row foreign-key checks off
_bulk_references: ContextVar[bool] = ContextVar("bulk_references", default=False)


@contextmanager
def references_checked_by_the_load() -> Iterator[None]:
    """Transactions begun inside this block on an exclusive SQLite engine (see `make_engine`)
    run with `PRAGMA foreign_keys=OFF`: SQLite then skips a parent lookup per foreign key per
    inserted row, and only there does `INSERT` take no extra work for references. The load
    that asks for it takes over the check: `core_app.adapters.bulk.Writer.check_references`
    runs `PRAGMA foreign_key_check` on every table it wrote before the transaction commits,
    and a dangling reference fails the load (it rolls back) as the per-row check would have.
    Elsewhere (shared engines, PostgreSQL) nothing changes."""
    token = _bulk_references.set(True)
    try:
        yield
    finally:
        _bulk_references.reset(token)


def make_engine(url: str, *, busy_timeout_s: float = 60.0, exclusive: bool = False) -> Engine:
    """An engine for the operational database.

    `exclusive` (SQLite): this process is the database's only user while the engine lives, e.g.
    the simulator filling a new database. Its connections use a rollback journal instead of
    the write-ahead log: a bulk load's new pages are then written once, into the database
    file, instead of twice (into the log, then copied by the checkpoint); commits stay atomic
    (the journal keeps the pages a transaction overwrites). Switching needs every other
    connection closed, so it fails ("database is locked") while anyone else has the database
    open. The next ordinary connection switches the database back to the write-ahead log.
    A bulk load on an exclusive engine may defer the foreign-key checks to the end of its
    transaction (`references_checked_by_the_load`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s, exclusive)
    return create_engine(
        url, isolation_level="SERIALIZABLE", pool_pre_ping=True, pool_size=5, max_overflow=5
    )


#: how long a writer waiting for the writers' file lock sleeps between tries, at most
WRITER_POLL_MAX_S = 0.001


class _QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose writers wait for each other at a fine grain.

    SQLite's busy handler waits for the write lock by sleeping 1, 2, 5, 10 ... 100 ms between
    tries, so a writer that finds the lock taken often sleeps long after it was freed: with
    two API processes that was most of a request's tail latency. Before `BEGIN IMMEDIATE` this
    connection takes an exclusive `flock` on a file beside the database (`acquire`), trying
    again at most every `WRITER_POLL_MAX_S` for up to the busy timeout, and holds it until its
    commit or rollback returns (so a writer may wait up to twice the busy timeout in all). The
    lock is the kernel's, so it also ends with a process that dies. SQLite's own lock stays
    the rule: a writer that does not take the file lock (another tool) is waited for by the
    busy handler, as before."""

    lock_file: int | None = None
    timeout_s: float = 60.0

    def acquire(self) -> None:
        """Take the writers' lock, waiting up to the busy timeout; if it stays taken, go on
        without it: `BEGIN IMMEDIATE` then waits in SQLite's busy handler and fails as usual
        if the holder still writes (SQLite's lock, not this one, keeps writers apart)."""
        if self.lock_file is None:
            return
        deadline = time.monotonic() + self.timeout_s
        pause = WRITER_POLL_MAX_S / 8
        while True:
            try:
                fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(pause)
                pause = min(2 * pause, WRITER_POLL_MAX_S)

    def release(self) -> None:
        if self.lock_file is not None:
            fcntl.flock(self.lock_file, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.lock_file is not None:
                os.close(self.lock_file)  # also releases the lock
                self.lock_file = None


def _sqlite_engine(url: str, busy_timeout_s: float, exclusive: bool) -> Engine:
    database = make_url(url).database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if on_disk:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_s, "factory": _QueuedWriterConnection}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take transaction control from the driver so that BEGIN IMMEDIATE is ours to emit
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        journal, synchronous = ("delete", "FULL") if exclusive else ("wal", "NORMAL")
        mode = cursor.execute(f"PRAGMA journal_mode={journal}").fetchone()[0]
        if exclusive and str(mode).lower() != journal:
            raise sqlite3.OperationalError(
                f"could not switch the database to journal mode {journal} ({mode})"
            )
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache: bulk loads, big reads
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()
        if on_disk:
            dbapi_connection.timeout_s = busy_timeout_s
            dbapi_connection.lock_file = os.open(
                f"{database}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if exclusive:  # a no-op inside a transaction: set before each one begins
            deferred = _bulk_references.get()
            connection.exec_driver_sql(f"PRAGMA foreign_keys={'OFF' if deferred else 'ON'}")
        if is_read_only(connection):
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.acquire()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.release()  # no transaction was begun
            raise

    return engine


#: execution option of a connection whose transaction only reads (see `is_read_only`)
READ_ONLY = "dentops_read_only"


def is_read_only(connection: Any) -> bool:
    """Whether the connection was opened for a read-only transaction: on SQLite it begins
    deferred (no write lock), on PostgreSQL it skips the audit-chain lock."""
    return bool(connection.get_execution_options().get(READ_ONLY, False))


_CACHES: weakref.WeakKeyDictionary[Engine, dict[str, dict[Any, Any]]] = weakref.WeakKeyDictionary()


def engine_cache(connection: Connection, name: str) -> dict[Any, Any]:
    """A per-process cache of facts that never change in this connection's database (kept per
    engine, so two databases in one process never share one)."""
    caches = _CACHES.get(connection.engine)
    if caches is None:
        caches = _CACHES[connection.engine] = {}
    return caches.setdefault(name, {})


def is_retryable(error: BaseException) -> bool:
    """Whether a fresh attempt of the whole use case may succeed (or fail cleanly)."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES
    return isinstance(error, OperationalError) and "locked" in str(error.orig).lower()


def backend_name(engine: Engine) -> str:
    return engine.dialect.name


def plain_rows(result: Iterable[Any]) -> Iterable[tuple[Any, ...]]:
    """A result's rows typed as the plain tuples they are, for unpacking (mypy sees a `Row`'s
    items as `object`)."""
    return cast("Iterable[tuple[Any, ...]]", result)


#: PostgreSQL: taken first in every unit of work (see `serialise_on_the_audit_chain`)
AUDIT_CHAIN_LOCK = "LOCK TABLE audit_entries IN SHARE ROW EXCLUSIVE MODE"


def serialise_on_the_audit_chain(factory: Any) -> None:
    """PostgreSQL: every transaction of `factory`'s sessions starts by locking the audit table
    against other such transactions (the lock mode conflicts with itself and with inserts).

    Every unit of work appends to the one audit chain, so audited transactions cannot commit
    in parallel anyway; optimistically (SERIALIZABLE, retry on conflict) 50 concurrent
    refusals exhausted their retries. `LOCK TABLE` takes no snapshot, so the transaction's
    snapshot is taken after the lock is granted and sees the chain's true end. The isolation
    level a use case asks for (`serialise_on_row_locks`) is set before this runs. SQLite
    needs nothing: BEGIN IMMEDIATE already serialises writers. A read-only transaction
    (`READ_ONLY`) appends nothing and takes no lock: the unit of work writes its audit entries
    afterwards in a transaction of their own, which takes it."""

    @event.listens_for(factory, "after_begin")
    def _lock(_session: Any, _transaction: Any, connection: Any) -> None:
        if not is_read_only(connection):
            lock_the_audit_chain(connection)


def lock_the_audit_chain(connection: Connection) -> None:
    """PostgreSQL: what every writing transaction does first (`serialise_on_the_audit_chain`),
    for a transaction on a plain connection, which no session event reaches."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(AUDIT_CHAIN_LOCK)
