"""extract_load: the core's changed rows into the DuckDB warehouse's `raw` schema.

Per table, in one DuckDB transaction: read the rows changed since the table's watermark (the
core's read-side query `core_app.service_layer.extract`, already pseudonymised), delete the
stored rows with those keys, insert the new versions, and write the new watermark. A run
killed at any point leaves every table either as before or fully loaded with its watermark, so
the next run picks up where it stopped and ends with the same warehouse.

`full_refresh` rebuilds every raw table from scratch in one transaction: the warehouse keeps the
old raw data until the new data is committed. The next table is read from the core (Python:
driver rows into Arrow) while the current one is inserted into DuckDB (which lets go of the GIL),
so the two overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from core_app.config import Settings
from core_app.service_layer import bootstrap
from core_app.service_layer.extract import (
    EXTRACTED_TABLES,
    Extraction,
    RawTable,
    raw_table,
    snapshot,
)

RAW = "raw"
WATERMARKS = f"{RAW}._watermarks"
#: DuckDB type of each kind of raw column (the raw contract)
DUCKDB_TYPES = {
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "text": "VARCHAR",
    "float": "DOUBLE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}

Progress = Callable[[str, str], None]


def _quiet(_table: str, _stage: str) -> None:
    return None


class SchemaChanged(Exception):
    """A raw table no longer has the core's shape: run with full refresh."""


@dataclass(frozen=True)
class TableLoad:
    table: str
    rows: int
    watermark: datetime
    full: bool


@dataclass(frozen=True)
class LoadReport:
    warehouse: str
    full_refresh: bool
    tables: list[TableLoad]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def connect_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(settings.warehouse_path))


def _create_sql(spec: RawTable) -> str:
    columns = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.kind]}' for c in spec.columns)
    return f'CREATE TABLE IF NOT EXISTS {RAW}."{spec.name}" ({columns})'


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {WATERMARKS} (table_name VARCHAR, watermark TIMESTAMP, "
        "rows BIGINT, loaded_at TIMESTAMP)"
    )


def _check_shape(con: duckdb.DuckDBPyConnection, spec: RawTable) -> None:
    stored = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [RAW, spec.name],
    ).fetchall()
    wanted = [(c.name, DUCKDB_TYPES[c.kind]) for c in spec.columns]
    if stored and stored != wanted:
        raise SchemaChanged(
            f"raw.{spec.name} does not have the core's columns any more: run "
            "`dentops pipeline run --full-refresh`"
        )


def _last_load(con: duckdb.DuckDBPyConnection, table: str) -> tuple[datetime | None, datetime]:
    rows = con.execute(
        f"SELECT watermark, loaded_at FROM {WATERMARKS} WHERE table_name = ?",  # noqa: S608 - our names
        [table],
    ).fetchall()
    if not rows:
        return None, datetime.min
    return rows[0][0], rows[0][1]


def _merge(
    con: duckdb.DuckDBPyConnection,
    spec: RawTable,
    changed: pa.Table,
    *,
    watermark: datetime,
    loaded_at: datetime,
    fresh: bool = False,
) -> None:
    """Replace the stored versions of the changed rows (none in a `fresh` table), then record
    the new watermark."""
    con.register("changed_rows", changed)
    try:
        if not fresh:
            con.execute(
                f'DELETE FROM {RAW}."{spec.name}" WHERE "{spec.key}" IN '  # noqa: S608 - our names
                f'(SELECT "{spec.key}" FROM changed_rows)'
            )
        con.execute(f'INSERT INTO {RAW}."{spec.name}" SELECT * FROM changed_rows')  # noqa: S608
    finally:
        con.unregister("changed_rows")
    con.execute(f"DELETE FROM {WATERMARKS} WHERE table_name = ?", [spec.name])  # noqa: S608
    con.execute(
        f"INSERT INTO {WATERMARKS} VALUES (?, ?, ?, ?)",  # noqa: S608 - our names
        [spec.name, watermark, changed.num_rows, loaded_at],
    )


def _load_table(
    con: duckdb.DuckDBPyConnection,
    extraction: Extraction,
    name: str,
    *,
    loaded_at: datetime,
    progress: Progress,
) -> TableLoad:
    spec = raw_table(name)
    con.begin()
    try:
        progress(name, "begin")
        con.execute(_create_sql(spec))
        _check_shape(con, spec)
        previous, last_loaded_at = _last_load(con, name)
        # age bands are as of the extraction day: on a new day every patient is read again
        full = previous is None or (
            name == "patients" and last_loaded_at.date() != loaded_at.date()
        )
        changed = extraction.changed_rows(name, since=None if full else previous)
        progress(name, "extracted")
        # the next read starts at this snapshot's horizon (never moving back)
        watermark = max(w for w in (previous, extraction.horizon_naive) if w is not None)
        _merge(con, spec, changed, watermark=watermark, loaded_at=loaded_at)
        progress(name, "merged")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    progress(name, "committed")
    return TableLoad(name, changed.num_rows, watermark, full)


def _read_ahead(extraction: Extraction, tables: tuple[str, ...]) -> Iterator[tuple[str, pa.Table]]:
    """Every row of each table, in order; the next table is read in a background thread while
    the caller loads the current one (one reader at a time: the snapshot's connection is never
    used by two threads at once)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract") as reader:
        pending = [reader.submit(extraction.changed_rows, name, since=None) for name in tables[:1]]
        for index, name in enumerate(tables):
            rows = pending.pop().result()
            if index + 1 < len(tables):
                pending.append(
                    reader.submit(extraction.changed_rows, tables[index + 1], since=None)
                )
            yield name, rows


def _refresh_all(
    con: duckdb.DuckDBPyConnection,
    extraction: Extraction,
    tables: tuple[str, ...],
    *,
    loaded_at: datetime,
    progress: Progress,
) -> list[TableLoad]:
    loads = []
    con.begin()
    try:
        progress("*", "begin")
        con.execute(f"DELETE FROM {WATERMARKS}")  # noqa: S608 - our names
        for name, changed in _read_ahead(extraction, tables):
            spec = raw_table(name)
            con.execute(f'DROP TABLE IF EXISTS {RAW}."{spec.name}"')
            con.execute(_create_sql(spec))
            watermark = extraction.horizon_naive
            _merge(con, spec, changed, watermark=watermark, loaded_at=loaded_at, fresh=True)
            progress(name, "merged")
            loads.append(TableLoad(name, changed.num_rows, watermark, True))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    progress("*", "committed")
    return loads


def extract_load(
    settings: Settings,
    *,
    full_refresh: bool = False,
    now: datetime | None = None,
    tables: tuple[str, ...] = EXTRACTED_TABLES,
    progress: Progress = _quiet,
) -> LoadReport:
    """Load the core's changes into `raw.*` (everything on the first run or with
    `full_refresh`). `now` is the load time (UTC): it stamps `loaded_at` and its date is the
    day the patients' age bands are computed for. `progress(table, stage)` is called at each
    stage (begin, extracted, merged, committed)."""
    loaded_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    app = bootstrap.connect(settings)
    try:
        con = connect_warehouse(settings)
        try:
            _ensure_bookkeeping(con)
            with snapshot(app, as_of=loaded_at.date()) as extraction:
                if full_refresh:
                    loads = _refresh_all(
                        con, extraction, tables, loaded_at=loaded_at, progress=progress
                    )
                else:
                    loads = [
                        _load_table(con, extraction, name, loaded_at=loaded_at, progress=progress)
                        for name in tables
                    ]
        finally:
            con.close()
    finally:
        app.close()
    return LoadReport(str(settings.warehouse_path), full_refresh, loads)
