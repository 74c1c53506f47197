"""KPIs for a period, from the marts: each KPI is the sum of its numerator column over the
period's days divided by the sum of its denominator column, as `marts.kpi_definitions` names
them (a KPI without a denominator is the sum itself). No KPI formula lives here.

Reads through a read-only DuckDB connection, so it can run beside dashboards (not while a
pipeline run holds the file for writing: DuckDB allows one writer process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

DEFINITIONS = "marts.kpi_definitions"
#: the models a definition may name: the daily KPI marts, with a `date_day` and `clinic_id`
SOURCE_MODELS = ("kpi_daily", "kpi_chair_daily")


class KpiUnavailable(Exception):
    """The warehouse, its marts or the clinic are missing."""


@dataclass(frozen=True)
class Definition:
    kpi: str
    numerator: str
    denominator: str | None
    source_model: str


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise KpiUnavailable(f"no warehouse at {path}: run `dentops pipeline run` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise KpiUnavailable(f"the warehouse {path} cannot be read now: {error}") from error


def _definitions(con: duckdb.DuckDBPyConnection) -> list[Definition]:
    try:
        rows = con.execute(
            "SELECT kpi, numerator_column, denominator_column, source_model "  # noqa: S608
            f"FROM {DEFINITIONS} ORDER BY display_order"
        ).fetchall()
    except duckdb.CatalogException as error:
        raise KpiUnavailable("the marts are not built: run `dentops pipeline run`") from error
    definitions = [Definition(str(k), str(n), d and str(d), str(m)) for k, n, d, m in rows]
    unknown = {d.source_model for d in definitions} - set(SOURCE_MODELS)
    if unknown:
        raise KpiUnavailable(f"kpi_definitions names models this command cannot sum: {unknown}")
    return definitions


def read_definitions(con: duckdb.DuckDBPyConnection) -> list[Definition]:
    """The KPI definitions of marts.kpi_definitions, in display order (the dashboards use it)."""
    return _definitions(con)


def resolve_clinic(con: duckdb.DuckDBPyConnection, clinic: str) -> tuple[int, str]:
    """A clinic by id or by name (case-insensitive), from the warehouse."""
    rows = con.execute("SELECT clinic_id, name FROM raw.clinics ORDER BY clinic_id").fetchall()
    for clinic_id, name in rows:
        if clinic == str(clinic_id) or clinic.casefold() == str(name).casefold():
            return int(clinic_id), str(name)
    raise KpiUnavailable(f"no clinic {clinic!r} in the warehouse")


def _sums(
    con: duckdb.DuckDBPyConnection,
    model: str,
    columns: list[str],
    *,
    clinic_id: int,
    first: date,
    last: date,
) -> dict[str, Any]:
    selected = ", ".join(f'sum("{c}") AS "{c}"' for c in columns)
    row = con.execute(
        f'SELECT {selected} FROM marts."{model}" '  # noqa: S608 - names from kpi_definitions
        "WHERE clinic_id = ? AND date_day BETWEEN ? AND ?",
        [clinic_id, first, last],
    ).fetchall()[0]
    return dict(zip(columns, row, strict=True))


def _plain(value: Any) -> int | float | None:
    if value is None:
        return None
    as_float = float(value)
    return int(value) if as_float.is_integer() else as_float


def period_kpis(warehouse: Path, *, clinic: str, first: date, last: date) -> dict[str, Any]:
    """One dict: the clinic, the period and every KPI of kpi_definitions by name."""
    if last < first:
        raise KpiUnavailable("--to is before --from")
    with _connect(warehouse) as con:
        clinic_id, name = resolve_clinic(con, clinic)
        definitions = _definitions(con)
        sums: dict[str, dict[str, Any]] = {}
        for model in SOURCE_MODELS:
            needed = sorted(
                {d.numerator for d in definitions if d.source_model == model}
                | {d.denominator for d in definitions if d.source_model == model and d.denominator}
            )
            if needed:
                sums[model] = _sums(con, model, needed, clinic_id=clinic_id, first=first, last=last)
        currency = con.execute(
            "SELECT currency FROM raw.clinics WHERE clinic_id = ?", [clinic_id]
        ).fetchall()[0][0]
    result: dict[str, Any] = {
        "clinic_id": clinic_id,
        "clinic": name,
        "currency": currency,
        "from": first.isoformat(),
        "to": last.isoformat(),
    }
    for d in definitions:
        numerator = sums[d.source_model][d.numerator]
        if d.denominator is None:
            result[d.kpi] = _plain(numerator or 0)
            continue
        denominator = sums[d.source_model][d.denominator]
        result[d.kpi] = None if not denominator else float(numerator or 0) / float(denominator)
    return result
