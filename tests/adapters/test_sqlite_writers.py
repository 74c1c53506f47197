"""SQLite writers queue on a file lock beside the database (core_app.adapters.db): held from
`BEGIN IMMEDIATE` to commit or rollback, never by a read-only transaction, and a writer that
cannot get it within the busy timeout is left to SQLite's own lock, which then fails it as
usual ("database is locked")."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from core_app.adapters.db import READ_ONLY, make_engine


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "core.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.05)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine, Path(f"{path}-writers")
    engine.dispose()


def _held(lock_path: Path) -> bool:
    """Whether someone holds the writers' lock (tried from a file description of our own)."""
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_a_writing_transaction_holds_the_lock_until_it_commits(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    with engine.connect() as connection:
        with connection.begin():
            connection.execute(text("INSERT INTO t VALUES (1)"))
            assert _held(lock_path)
        assert not _held(lock_path)
        with connection.begin() as transaction:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            assert _held(lock_path)
            transaction.rollback()
        assert not _held(lock_path)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT x FROM t")).scalars().all() == [1]


def test_a_read_only_transaction_takes_no_lock(database: tuple[Engine, Path]) -> None:
    engine, lock_path = database
    reader = engine.connect().execution_options(**{READ_ONLY: True})
    with reader as connection, connection.begin():
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert not _held(lock_path)


def test_a_lock_held_past_the_busy_timeout_leaves_the_decision_to_sqlite(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    path = str(lock_path).removesuffix("-writers")
    holder = os.open(lock_path, os.O_RDWR)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another process of ours is writing
        writer.execute("BEGIN IMMEDIATE")
        with (
            engine.connect() as connection,
            pytest.raises(OperationalError, match="database is locked"),
        ):
            connection.execute(text("INSERT INTO t VALUES (3)"))
        writer.execute("ROLLBACK")
        # the file lock is still held, but nobody writes: SQLite lets the writer go ahead
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (3)"))
        fcntl.flock(holder, fcntl.LOCK_UN)
        with engine.begin() as connection:  # free again: the next writer goes ahead
            connection.execute(text("INSERT INTO t VALUES (4)"))
    finally:
        writer.close()
        os.close(holder)
    assert not _held(lock_path)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT x FROM t")).scalars().all() == [3, 4]


def test_a_writer_that_takes_no_file_lock_is_still_waited_for_by_sqlite(
    database: tuple[Engine, Path],
) -> None:
    engine, lock_path = database
    other = sqlite3.connect(str(lock_path).removesuffix("-writers"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with engine.connect() as connection, pytest.raises(OperationalError, match="locked"):
            connection.execute(text("INSERT INTO t VALUES (5)"))
        assert not _held(lock_path)  # the failed begin let the file lock go
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_an_in_memory_database_needs_no_lock_file(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert list(tmp_path.iterdir()) == []
