"""Demand forecast, composed: read `marts.ml_daily_demand` from the warehouse (read-only), fit
`models.demand` per clinic x procedure category, and write what comes out to the warehouse:
`ml.demand_forecasts` (the next 90 days with 80 % intervals) and `ml.demand_backtest` (every
backtest forecast, for plots and dashboards).

The series is `requested_appointments` per clinic-local day. Public holidays come from the
clinic's country (`staging.stg_core__clinics`) through the `holidays` package, for the history
and the forecast days alike (holidays are known in advance, so this is no leak).

On a simulated practice the simulator's truth (`<data dir>/truth/daily_demand.parquet`, the
intensity per clinic x day x category) is scored beside the model. Mind what it describes: the
expected number of visits *wanted for* that day, while the mart counts bookings *made* that day
(the core records no requested day); see docs/demand.md. On real data `truth` is null.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

import duckdb
import pandas as pd

from core_app.config import Settings
from models.demand import ProphetSettings, backtest, holidays_frame, summarise
from models.demand import forecast as prophet_forecast
from models.demand.backtest import MIN_HISTORY
from models.demand.baselines import Forecaster

DEMAND = "marts.ml_daily_demand"
CLINICS = "staging.stg_core__clinics"
APPOINTMENTS = "marts.fct_appointments"
FORECASTS_TABLE = "ml.demand_forecasts"
BACKTEST_TABLE = "ml.demand_backtest"
VALUE = "requested_appointments"


class DemandUnavailable(Exception):
    """The warehouse, its marts or enough history is missing."""


@dataclass(frozen=True)
class Options:
    horizon: int = 90
    horizons: tuple[int, ...] = (7, 28)
    n_origins: int = 8
    step: int = 28
    prophet: ProphetSettings = field(default_factory=ProphetSettings)


@dataclass(frozen=True)
class Series:
    clinic_id: int
    category: str
    country: str
    frame: pd.DataFrame  # date, value

    @property
    def name(self) -> str:
        return f"{self.clinic_id}/{self.category}"


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise DemandUnavailable(f"no warehouse at {path}: run `dentops pipeline run` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise DemandUnavailable(f"the warehouse {path} cannot be read now: {error}") from error


def read_demand(warehouse: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    """The demand mart (clinic_id, date_day, category, requested_appointments) from each
    clinic's first appointment day on, and each clinic's country.

    The mart starts at the first booking; before the first appointment day it holds only the
    advance bookings of the first appointments (the bookings of anything earlier are not in the
    records), a ramp that is an artefact of where the records begin, so it is left out."""
    with _connect(warehouse) as con:
        try:
            frame = con.execute(
                f"SELECT d.clinic_id, d.date_day, d.category, d.{VALUE} FROM {DEMAND} AS d "  # noqa: S608
                "JOIN (SELECT clinic_id, min(appointment_date) AS first_day "
                f"FROM {APPOINTMENTS} GROUP BY clinic_id) AS f ON d.clinic_id = f.clinic_id "
                "WHERE d.date_day >= f.first_day "
                "ORDER BY d.clinic_id, d.category, d.date_day"
            ).df()
            countries = con.execute(f"SELECT clinic_id, country FROM {CLINICS}").fetchall()  # noqa: S608
        except duckdb.CatalogException as error:
            raise DemandUnavailable(
                "the marts are not built: run `dentops pipeline run`"
            ) from error
    return frame, {int(clinic): str(country) for clinic, country in countries}


def split_series(frame: pd.DataFrame, countries: dict[int, str]) -> Iterator[Series]:
    """One daily series per clinic x category, in clinic then category order."""
    for key, rows in frame.groupby(["clinic_id", "category"], sort=True):
        clinic_id, category = cast(tuple[int, str], key)
        yield Series(
            clinic_id=int(clinic_id),
            category=str(category),
            country=countries[int(clinic_id)],
            frame=pd.DataFrame(
                {"date": pd.to_datetime(rows["date_day"]), "value": rows[VALUE].astype(float)}
            ).reset_index(drop=True),
        )


def holidays_for(series: Series, horizon: int) -> pd.DataFrame:
    first = series.frame["date"].iloc[0].date()
    last = (series.frame["date"].iloc[-1] + pd.Timedelta(days=horizon)).date()
    return holidays_frame(series.country, first, last)


def _read_series(settings: Settings) -> list[Series]:
    frame, countries = read_demand(settings.warehouse_path)
    series = list(split_series(frame, countries))
    if not series:
        raise DemandUnavailable("the demand mart is empty: the warehouse holds no history yet")
    return series


def forecast(settings: Settings, options: Options = Options()) -> dict[str, Any]:
    """Forecast the next `horizon` days of every series into `ml.demand_forecasts`."""
    parts = []
    for one in _read_series(settings):
        if len(one.frame) < MIN_HISTORY:
            continue
        predicted = prophet_forecast(
            one.frame,
            options.horizon,
            holidays=holidays_for(one, options.horizon),
            settings=options.prophet,
        )
        parts.append(
            predicted.rename(columns={"date": "date_day"}).assign(
                clinic_id=one.clinic_id,
                category=one.category,
                as_of_date=one.frame["date"].iloc[-1].date(),
            )
        )
    if not parts:
        raise DemandUnavailable(f"every series has less than {MIN_HISTORY} days of history")
    table = pd.concat(parts, ignore_index=True)
    table["date_day"] = pd.to_datetime(table["date_day"]).dt.date
    replace_table(settings.warehouse_path, FORECASTS_TABLE, table)
    as_of: date = table["as_of_date"].max()
    totals = table.groupby("clinic_id")["yhat"].sum()
    return {
        "table": FORECASTS_TABLE,
        "series": len(parts),
        "rows": len(table),
        "as_of_date": str(as_of),
        "first_date": str(table["date_day"].min()),
        "last_date": str(table["date_day"].max()),
        "interval": options.prophet.interval_width,
        "expected_requests": {str(c): round(float(v), 1) for c, v in totals.items()},
    }


def read_truth(truth_dir: Path) -> pd.DataFrame | None:
    """The simulator's intensity per clinic x day x category, when this practice was simulated."""
    path = truth_dir / "daily_demand.parquet"
    if not path.exists():
        return None
    truth = pd.read_parquet(path, columns=["clinic_id", "date", "category", "intensity"])
    truth["category"] = truth["category"].astype(str)
    truth["date"] = pd.to_datetime(truth["date"])
    return truth


def truth_of(truth: pd.DataFrame | None, series: Series) -> pd.DataFrame | None:
    """The intensity of this series' clinic and category on the days the truth covers; zero
    for a category the simulator gave that clinic no demand in; None for a clinic it lacks."""
    if truth is None or not (truth["clinic_id"] == series.clinic_id).any():
        return None
    rows = truth[(truth["clinic_id"] == series.clinic_id) & (truth["category"] == series.category)]
    intensity = rows.set_index("date")["intensity"].reindex(series.frame["date"])
    if rows.empty:
        intensity = intensity.fillna(0.0)
    known = intensity.notna().to_numpy()
    return pd.DataFrame({"date": series.frame["date"][known], "value": intensity[known].to_numpy()})


def _model(holidays: pd.DataFrame, settings: ProphetSettings) -> Forecaster:
    def model(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        return prophet_forecast(history, horizon, holidays=holidays, settings=settings)

    return model


def backtest_all(settings: Settings, options: Options = Options()) -> tuple[pd.DataFrame, bool]:
    """Every series' backtest rows (with `series`, `clinic_id`, `category` columns), and
    whether the truth was known for every series."""
    truth = read_truth(settings.data_dir / "truth")
    parts = []
    with_truth = truth is not None
    longest = max(options.horizons)
    needed = MIN_HISTORY + options.step * (options.n_origins - 1) + longest
    for one in _read_series(settings):
        if len(one.frame) < needed:
            continue
        expected = truth_of(truth, one)
        with_truth = with_truth and expected is not None
        result = backtest(
            one.frame,
            _model(holidays_for(one, longest), options.prophet),
            horizons=options.horizons,
            n_origins=options.n_origins,
            step=options.step,
            truth=expected,
        )
        parts.append(
            result.rows.assign(series=one.name, clinic_id=one.clinic_id, category=one.category)
        )
    if not parts:
        raise DemandUnavailable(
            f"a backtest of {options.n_origins} origins needs {needed} days of history"
        )
    return pd.concat(parts, ignore_index=True), with_truth


def evaluate(settings: Settings, options: Options = Options()) -> dict[str, Any]:
    """Rolling-origin backtest of every series, pooled: per horizon ("7", "28") the model, the
    baselines by name and the truth (null on real data), each with mase, wape, coverage_80."""
    rows, with_truth = backtest_all(settings, options)
    if not with_truth:
        rows = rows[rows["method"] != "truth"].assign(expected=float("nan"))
    replace_table(settings.warehouse_path, BACKTEST_TABLE, rows.drop(columns=["scale"]))
    result = summarise(rows, options.horizons)
    return {
        **result,
        "series": int(rows["series"].nunique()),
        "origins": options.n_origins,
        "origin_step_days": options.step,
        "first_origin": str(rows["origin"].min().date()),
        "last_origin": str(rows["origin"].max().date()),
        "target": VALUE + " per clinic-local booking day (marts.ml_daily_demand)",
        "table": BACKTEST_TABLE,
    }


def replace_table(warehouse: Path, table_name: str, table: pd.DataFrame) -> None:
    """Replace `table_name` with `table` in one transaction (the run is the whole table)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("BEGIN")
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.register("new_rows", table)
        con.execute(f"CREATE OR REPLACE TABLE {table_name} AS SELECT * FROM new_rows")  # noqa: S608
        con.execute("COMMIT")
