"""End to end through a real warehouse: a simulated practice (1 clinic, 1 year), extracted,
built by dbt, then `pipelines.demand.forecast` and `evaluate` on `marts.ml_daily_demand`.
Also checks the simulator mirror of the mart (`test_demand_mirror.py`) against the real mart.
Few fits: the backtest here uses 2 origins (the machinery's 8 are tested on one series)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from core_app.config import Settings
from models.demand import ProphetSettings
from models.demand.baselines import BASELINES
from pipelines import demand
from pipelines.extract_load import extract_load
from pipelines.transform import build_warehouse
from simulator.generate import generate
from simulator.params import SimulationParams
from simulator.run import simulate
from tests.models.test_demand_mirror import mart_frame

PRACTICE = SimulationParams(
    clinics=1, years=1.0, patients=900, seed=5, today=date(2026, 6, 30), future_weeks=2
)
FAST = demand.Options(n_origins=2, prophet=ProphetSettings(uncertainty_samples=100, seed=1))


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demand") / "data")
    simulate(PRACTICE, settings, admin_username="admin", admin_password="demand-test-password")
    extract_load(settings)
    build_warehouse(settings)
    yield settings


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).df()


def test_the_simulator_mirror_counts_the_same_bookings_per_day_as_the_mart(practice):
    mart = query(
        practice,
        "SELECT date_day, sum(requested_appointments) AS n FROM marts.ml_daily_demand GROUP BY 1",
    )
    mirror = mart_frame(generate(PRACTICE)).groupby("date_day")["requested_appointments"].sum()
    mart["date_day"] = pd.to_datetime(mart["date_day"]).dt.date
    joined = mart.set_index("date_day")["n"].to_frame().join(mirror, how="inner")
    assert len(joined) > 300
    np.testing.assert_array_equal(joined["n"], joined["requested_appointments"])


def test_forecast_writes_90_days_per_clinic_and_category_after_the_as_of_day(practice):
    result = demand.forecast(practice, FAST)
    table = query(practice, f"SELECT * FROM {demand.FORECASTS_TABLE}")  # noqa: S608
    categories = "SELECT count(DISTINCT category) AS n FROM marts.ml_daily_demand"
    series = query(practice, categories)["n"].iloc[0]
    assert result["series"] == series
    assert result["rows"] == len(table) == 90 * series
    assert table.groupby(["clinic_id", "category"]).size().eq(90).all()
    as_of = pd.Timestamp(result["as_of_date"])
    assert (pd.to_datetime(table["date_day"]) > as_of).all()
    assert (table["yhat_lower"] <= table["yhat"] + 1e-9).all()
    assert (table["yhat"] <= table["yhat_upper"] + 1e-9).all()
    # a later run replaces the table rather than adding to it
    demand.replace_table(practice.warehouse_path, demand.FORECASTS_TABLE, table.head(3))
    again = query(practice, f"SELECT * FROM {demand.FORECASTS_TABLE}")  # noqa: S608
    assert len(again) == 3


def test_evaluate_reports_model_baselines_and_truth_per_horizon(practice):
    result = demand.evaluate(practice, FAST)
    for horizon in ("7", "28"):
        report = result[horizon]
        assert set(report["baselines"]) == set(BASELINES)
        for scores in [report["model"], report["truth"], *report["baselines"].values()]:
            for metric in ("mase", "wape", "coverage_80"):
                assert isinstance(scores[metric], float), (horizon, metric)
        assert report["truth"]["wape_vs_truth"] == 0.0
    stored = query(practice, f"SELECT DISTINCT method FROM {demand.BACKTEST_TABLE}")  # noqa: S608
    assert set(stored["method"]) == {"model", "truth", *BASELINES}


def test_without_a_truth_folder_the_truth_is_null(practice, tmp_path: Path):
    assert demand.read_truth(tmp_path) is None
    frame, countries = demand.read_demand(practice.warehouse_path)
    series = next(demand.split_series(frame, countries))
    assert demand.truth_of(None, series) is None
    assert countries == {1: "US"}


def test_the_notebook_runs_on_the_practice_and_draws_its_plot(practice, tmp_path: Path):
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "demand_evaluation.py"
    env = {
        **os.environ,
        "DENTOPS_DATA_DIR": str(practice.data_dir),
        "NOTEBOOK_OUT": str(tmp_path),
        "DEMAND_ORIGINS": "2",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [sys.executable, str(notebook)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "horizon 28 days" in done.stdout
    assert "weekday_profile" in done.stdout
    assert (tmp_path / "demand_backtest.png").stat().st_size > 10_000
