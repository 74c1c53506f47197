"""The manager page's figures, all from the warehouse marts (read-only).

KPIs follow marts.kpi_definitions through pipelines.kpi.read_definitions: for any span of days
a KPI is sum(numerator) / sum(denominator) of its source model's rows (no formula here), so the
period, the previous period and each week of the trend are the same sums over other days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboards.loaders.warehouse import has_table, read_only
from pipelines.kpi import Definition, read_definitions

#: models whose rows carry a provider_id (a provider filter applies to them)
PROVIDER_MODELS = frozenset({"kpi_daily"})
AR_BUCKETS = {
    "open_0_30_cents": "0-30 days",
    "open_31_60_cents": "31-60 days",
    "open_61_90_cents": "61-90 days",
    "open_over_90_cents": "over 90 days",
}


@dataclass(frozen=True)
class Filters:
    clinic_id: int
    first: date
    last: date
    provider_id: int | None = None

    @property
    def previous(self) -> tuple[date, date]:
        """The span of the same length that ends the day before `first`."""
        length = (self.last - self.first).days + 1
        return self.first - timedelta(days=length), self.first - timedelta(days=1)


@dataclass(frozen=True)
class ManagerData:
    currency: str
    kpis: pd.DataFrame  # kpi, description, unit, value, previous, change
    trend: pd.DataFrame  # week_start, kpi, unit, value
    ar_ageing: pd.DataFrame  # bucket, open_cents
    ar_as_of: date | None
    forecast: pd.DataFrame  # date_day, category, actual, yhat, yhat_lower, yhat_upper
    calibration: pd.DataFrame  # probability_bin, appointments, mean_probability, no_show_rate
    auc: pd.DataFrame  # month_start, appointments, roc_auc
    flags: pd.DataFrame  # month_start, high_risk_flags, high_risk_no_shows


def providers(warehouse: Path, clinic_id: int) -> pd.DataFrame:
    """Providers who worked at the clinic (for the filter), from marts.dim_providers."""
    with read_only(warehouse) as con:
        return con.execute(
            "SELECT DISTINCT p.provider_id, p.provider_name FROM marts.dim_providers p "
            "JOIN marts.kpi_daily k ON k.provider_id = p.provider_id WHERE k.clinic_id = ? "
            "ORDER BY p.provider_name",
            [clinic_id],
        ).df()


def _weekly_sums(
    con: duckdb.DuckDBPyConnection, model: str, columns: list[str], f: Filters
) -> list[tuple[Any, ...]]:
    """Sums of `columns` per week and per period ('current' or 'previous')."""
    selected = ", ".join(f'sum("{c}") AS "{c}"' for c in columns)
    prev_first, _ = f.previous
    provider = (
        " AND provider_id = ?" if f.provider_id is not None and model in PROVIDER_MODELS else ""
    )
    params: list[object] = [f.first, f.clinic_id, prev_first, f.last]
    if provider:
        params.append(f.provider_id)
    return con.execute(
        "SELECT CASE WHEN date_day >= ? THEN 'current' ELSE 'previous' END AS period, "  # noqa: S608
        f"date_trunc('week', date_day)::DATE AS week_start, {selected} "
        f'FROM marts."{model}" WHERE clinic_id = ? AND date_day BETWEEN ? AND ?{provider} '
        "GROUP BY ALL ORDER BY week_start",
        params,
    ).fetchall()


def _ratio(numerator: float, denominator: float | None) -> float | None:
    """A KPI from its sums: the numerator alone, or numerator / denominator (none for 0)."""
    if denominator is None:
        return numerator
    return numerator / denominator if denominator else None


def _kpis(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    definitions: list[Definition] = read_definitions(con)
    meta = con.execute("SELECT kpi, unit, description FROM marts.kpi_definitions").fetchall()
    units = {str(k): str(u) for k, u, _ in meta}
    texts = {str(k): str(t) for k, _, t in meta}
    # per model: the weekly sums as plain lists, and the two periods' totals
    weekly: dict[str, dict[str, list[float]]] = {}
    weeks: dict[str, list[date]] = {}
    totals: dict[str, dict[str, dict[str, float]]] = {}
    for model in sorted({d.source_model for d in definitions}):
        cols = sorted(
            {d.numerator for d in definitions if d.source_model == model}
            | {d.denominator for d in definitions if d.source_model == model and d.denominator}
        )
        found = _weekly_sums(con, model, cols, f)  # period, week_start, *cols
        in_period = [r for r in found if r[0] == "current"]
        weekly[model] = {c: [float(r[2 + i] or 0) for r in in_period] for i, c in enumerate(cols)}
        weeks[model] = [r[1] for r in in_period]
        totals[model] = {
            period: {c: sum(float(r[2 + i] or 0) for r in chosen) for i, c in enumerate(cols)}
            for period in ("current", "previous")
            if (chosen := [r for r in found if r[0] == period])
        }
    rows: list[dict[str, object]] = []
    trend: dict[str, list[object]] = {"week_start": [], "kpi": [], "unit": [], "value": []}
    for d in definitions:
        filtered_out = f.provider_id is not None and d.source_model not in PROVIDER_MODELS
        values: dict[str, float | None] = {}
        for period in ("current", "previous"):
            sums = totals[d.source_model].get(period)
            values[period] = (
                None
                if filtered_out or sums is None
                else _ratio(sums[d.numerator], sums[d.denominator] if d.denominator else None)
            )
        current, previous = values["current"], values["previous"]
        rows.append(
            {
                "kpi": d.kpi,
                "description": texts.get(d.kpi, ""),
                "unit": units.get(d.kpi, ""),
                "value": current,
                "previous": previous,
                "change": None if current is None or previous is None else current - previous,
            }
        )
        if filtered_out:
            continue
        sums_by_week = weekly[d.source_model]
        denominators = sums_by_week[d.denominator] if d.denominator else None
        for index, week in enumerate(weeks[d.source_model]):
            trend["week_start"].append(week)
            trend["kpi"].append(d.kpi)
            trend["unit"].append(units.get(d.kpi, ""))
            trend["value"].append(
                _ratio(
                    sums_by_week[d.numerator][index],
                    denominators[index] if denominators is not None else None,
                )
            )
    trend_frame = pd.DataFrame(trend)
    trend_frame["value"] = trend_frame["value"].astype("float64")
    return pd.DataFrame(rows), trend_frame


def _ar(con: duckdb.DuckDBPyConnection, clinic_id: int) -> tuple[pd.DataFrame, date | None]:
    sums = ", ".join(f"sum({c}) AS {c}" for c in AR_BUCKETS)
    found = con.execute(
        f"SELECT max(as_of_date), {sums} FROM marts.ar_ageing WHERE clinic_id = ?",  # noqa: S608
        [clinic_id],
    ).fetchone()
    as_of = found[0] if found else None
    values = list(found[1:]) if found else [None] * len(AR_BUCKETS)
    frame = pd.DataFrame(
        {"bucket": list(AR_BUCKETS.values()), "open_cents": [int(v or 0) for v in values]}
    )
    return frame, as_of


def _forecast(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Bookings per day and category (marts.ml_daily_demand) beside the latest forecast with
    its 80 % interval (ml.demand_forecasts), from the period's first day to the forecast's end."""
    columns = ["date_day", "category", "actual", "yhat", "yhat_lower", "yhat_upper"]
    if not has_table(con, "ml", "demand_forecasts"):
        actual = con.execute(
            "SELECT date_day, category, requested_appointments AS actual, NULL::DOUBLE AS yhat, "
            "NULL::DOUBLE AS yhat_lower, NULL::DOUBLE AS yhat_upper FROM marts.ml_daily_demand "
            "WHERE clinic_id = ? AND date_day BETWEEN ? AND ? ORDER BY date_day, category",
            [f.clinic_id, f.first, f.last],
        ).df()
        return actual[columns]
    return con.execute(
        "WITH fc AS (SELECT date_day, category, yhat, yhat_lower, yhat_upper "
        "FROM ml.demand_forecasts WHERE clinic_id = ?), "
        "act AS (SELECT date_day, category, requested_appointments AS actual "
        "FROM marts.ml_daily_demand WHERE clinic_id = ? AND date_day BETWEEN ? AND ?) "
        "SELECT coalesce(a.date_day, fc.date_day) AS date_day, "
        "coalesce(a.category, fc.category) AS category, a.actual, fc.yhat, fc.yhat_lower, "
        "fc.yhat_upper FROM act a FULL JOIN fc USING (date_day, category) "
        "WHERE coalesce(a.date_day, fc.date_day) >= ? ORDER BY 1, 2",
        [f.clinic_id, f.clinic_id, f.first, f.last, f.first],
    ).df()[columns]


def _health(
    con: duckdb.DuckDBPyConnection, f: Filters
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    calibration = con.execute(
        "SELECT probability_bin, sum(appointments) AS appointments, "
        "sum(probability_sum) / sum(appointments) AS mean_probability, "
        "sum(no_shows) / sum(appointments) AS no_show_rate "
        "FROM marts.ml_no_show_calibration WHERE clinic_id = ? "
        "AND month_start BETWEEN date_trunc('month', ?::DATE) AND ? "
        "GROUP BY probability_bin ORDER BY probability_bin",
        [f.clinic_id, f.first, f.last],
    ).df()
    monthly = con.execute(
        "SELECT month_start, appointments, no_shows, roc_auc, high_risk_flags, "
        "high_risk_no_shows FROM marts.ml_no_show_health WHERE clinic_id = ? "
        "AND month_start <= ? ORDER BY month_start",
        [f.clinic_id, f.last],
    ).df()
    auc = monthly[["month_start", "appointments", "no_shows", "roc_auc"]]
    flags = monthly[["month_start", "high_risk_flags", "high_risk_no_shows"]]
    return calibration, auc, flags


def load_manager(warehouse: Path, filters: Filters) -> ManagerData:
    with read_only(warehouse) as con:
        currency_row = con.execute(
            "SELECT currency FROM raw.clinics WHERE clinic_id = ?", [filters.clinic_id]
        ).fetchone()
        kpis, trend = _kpis(con, filters)
        ar, as_of = _ar(con, filters.clinic_id)
        forecast = _forecast(con, filters)
        calibration, auc, flags = _health(con, filters)
    return ManagerData(
        currency=str(currency_row[0]) if currency_row else "USD",
        kpis=kpis,
        trend=trend,
        ar_ageing=ar,
        ar_as_of=as_of,
        forecast=forecast,
        calibration=calibration,
        auc=auc,
        flags=flags,
    )
