"""Read-only access to the DuckDB warehouse (the dashboards never write to it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


class WarehouseUnavailable(Exception):
    """No warehouse yet, its marts are not built, or a pipeline run holds it for writing."""


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.exists():
        raise WarehouseUnavailable(f"no warehouse at {path}: run `dentops pipeline run` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise WarehouseUnavailable(f"the warehouse cannot be read now: {error}") from error
    try:
        yield con
    except duckdb.CatalogException as error:
        raise WarehouseUnavailable(
            f"the marts are not built (run `dentops pipeline run`): {error}"
        ) from error
    finally:
        con.close()


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])
