"""The content of a warehouse, for comparing two runs: every row of every raw and mart table,
sorted. Bookkeeping is left out: the tables whose name starts with `_` (raw._watermarks, and
the incremental builds' intermediate._incremental_state and intermediate._changes), which hold
load times and watermarks that differ from run to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

#: schemas whose tables must come out the same from the same core
COMPARED_SCHEMAS = ("raw", "staging", "intermediate", "marts")


def table_content(path: Path, schemas: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (SELECT unnest(?)) AND table_name NOT LIKE '\\_%' ESCAPE '\\' "
            "ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall(),  # noqa: S608
                key=repr,
            )
            for schema, name in names
        }


def raw_content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return table_content(path, ("raw",))


def warehouse_content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return table_content(path, COMPARED_SCHEMAS)
