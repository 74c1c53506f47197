"""Read-only access to the DuckDB warehouse (the dashboards never write to it).

A page load attaches the warehouse file read-only to one in-memory DuckDB instance kept for the
process, and detaches it when done. Starting a DuckDB instance costs about 25-40 ms on this
machine (more than most of a page's queries); attaching a file to a running one costs a few. The
file is held only while a page reads it, as with a connection of its own, so a pipeline run can
take it for writing between page loads. Loads in one process take turns (one lock): a practice's
dashboard has a handful of users, and a page's reads take tens of milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

#: the attached warehouse's catalog name; the marts' schemas (raw, marts, ml) resolve in it
ALIAS = "dentops_warehouse"

_lock = threading.Lock()
_instance: duckdb.DuckDBPyConnection | None = None


class WarehouseUnavailable(Exception):
    """No warehouse yet, its marts are not built, or a pipeline run holds it for writing."""


def _base() -> duckdb.DuckDBPyConnection:
    global _instance
    if _instance is None:
        _instance = duckdb.connect(":memory:")
    return _instance


def _reset() -> None:
    """Drop the process's instance (a detach failed): the next load starts a new one."""
    global _instance
    if _instance is not None:
        try:
            _instance.close()
        finally:
            _instance = None


def _quoted(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "''") + "'"


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.exists():
        raise WarehouseUnavailable(f"no warehouse at {path}: run `dentops pipeline run` first")
    with _lock:
        con = _base()
        try:
            con.execute(f"ATTACH {_quoted(path)} AS {ALIAS} (READ_ONLY)")
        except duckdb.Error as error:
            raise WarehouseUnavailable(f"the warehouse cannot be read now: {error}") from error
        try:
            con.execute(f"USE {ALIAS}")
            yield con
        except duckdb.CatalogException as error:
            raise WarehouseUnavailable(
                f"the marts are not built (run `dentops pipeline run`): {error}"
            ) from error
        finally:
            try:
                con.execute("USE memory")
                con.execute(f"DETACH {ALIAS}")
            except duckdb.Error:
                _reset()


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        # duckdb_tables(), not information_schema.tables: the same answer, several times cheaper
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])
