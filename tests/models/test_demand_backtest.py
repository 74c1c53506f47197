"""The rolling-origin backtest: where the origins fall, that no forecaster sees a scored day,
how scores are pooled and reported; one real prophet backtest on one short series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.demand import ProphetSettings, backtest, forecast, summarise
from models.demand.backtest import origins
from models.demand.baselines import BASELINES, with_count_interval
from models.demand.series import future_dates
from tests.models.test_demand_mirror import requested_series, world_of


def poisson_series(days: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts, their true mean): a weekly pattern with Sundays closed."""
    dates = pd.date_range("2024-01-01", periods=days, freq="D")  # a Monday
    mean = np.array([4.0, 3.5, 3.5, 3.5, 3.0, 1.5, 0.0])[dates.day_of_week]
    counts = np.random.default_rng(seed).poisson(mean).astype(float)
    return (
        pd.DataFrame({"date": dates, "value": counts}),
        pd.DataFrame({"date": dates, "value": mean}),
    )


class Recording:
    """A forecaster that remembers the last day of every history it was given."""

    def __init__(self) -> None:
        self.last_days: list[pd.Timestamp] = []

    def __call__(self, history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        self.last_days.append(pd.Timestamp(history["date"].iloc[-1]))
        level = float(history["value"].tail(7).mean())
        return with_count_interval(future_dates(history, horizon), np.full(horizon, level))


def test_origins_are_step_apart_and_the_last_leaves_the_longest_horizon_inside():
    series, _ = poisson_series(400)
    positions = origins(series, n_origins=8, step=28, horizon=28)
    assert len(positions) == 8
    assert np.diff(positions).tolist() == [28] * 7
    assert positions[-1] == len(series) - 1 - 28
    with pytest.raises(ValueError, match="need at least 280 days"):
        origins(series.head(279), n_origins=8, step=28, horizon=28)


def test_no_forecaster_sees_a_day_it_is_scored_on():
    series, _ = poisson_series(400)
    model = Recording()
    result = backtest(series, model, n_origins=8, step=28)
    rows = result.rows
    assert model.last_days == sorted(rows["origin"].unique().tolist())
    assert (rows["date"] > rows["origin"]).all()
    assert set(rows["method"]) == {"model", *BASELINES}
    assert rows.groupby(["origin", "method"]).size().eq(28).all()


def test_changing_the_days_after_an_origin_leaves_that_origins_forecasts_unchanged():
    series, _ = poisson_series(400)
    first = backtest(series, Recording(), n_origins=8, step=28).rows
    changed = series.copy()
    later = changed["date"] > first["origin"].min()
    changed.loc[later, "value"] = changed.loc[later, "value"] * 3 + 5
    second = backtest(changed, Recording(), n_origins=8, step=28).rows
    earliest = first["origin"] == first["origin"].min()
    pd.testing.assert_series_equal(
        first.loc[earliest, "yhat"], second.loc[earliest, "yhat"], check_names=False
    )
    assert not np.allclose(first.loc[~earliest, "yhat"], second.loc[~earliest, "yhat"])


def test_summary_reports_every_method_per_horizon_and_truth_only_when_known():
    series, mean = poisson_series(400)
    without = summarise(backtest(series, Recording()).rows, (7, 28))
    assert set(without) == {"7", "28"}
    assert without["28"]["truth"] is None
    assert set(without["28"]["baselines"]) == set(BASELINES)
    for scores in [without["7"]["model"], *without["7"]["baselines"].values()]:
        assert set(scores) == {"mase", "wape", "coverage_80"}
        assert all(isinstance(v, float) for v in scores.values())
    with_truth = summarise(backtest(series, Recording(), truth=mean).rows, (7, 28))
    assert with_truth["28"]["truth"]["wape_vs_truth"] == 0.0
    assert with_truth["28"]["model"]["wape_vs_truth"] > 0.0


def test_the_true_mean_beats_the_noisy_and_the_flat_baseline_and_a_perfect_forecast_scores_0():
    series, mean = poisson_series(500, seed=4)
    summary = summarise(backtest(series, Recording(), truth=mean).rows, (28,))["28"]
    for name in ("same_weekday_last_week", "trailing_mean"):
        assert summary["truth"]["wape"] < summary["baselines"][name]["wape"]
        assert summary["truth"]["mase"] < summary["baselines"][name]["mase"]

    def oracle(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        dates = future_dates(history, horizon)
        actual = series.set_index("date")["value"].reindex(dates).to_numpy()
        return pd.DataFrame(
            {"date": dates, "yhat": actual, "yhat_lower": actual, "yhat_upper": actual}
        )

    perfect = summarise(backtest(series, oracle).rows, (7,))["7"]["model"]
    assert perfect == {"mase": 0.0, "wape": 0.0, "coverage_80": 1.0}


def test_a_forecast_of_the_wrong_days_is_refused():
    series, _ = poisson_series(400)

    def late(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        shifted = history.assign(date=history["date"] + pd.Timedelta(days=1))
        return with_count_interval(future_dates(shifted, horizon), np.ones(horizon))

    with pytest.raises(ValueError, match="did not forecast the days after the origin"):
        backtest(series, late)


def test_prophet_backtest_on_one_short_simulated_series():
    """Eight prophet fits on ~300 days of realised hygiene requests of one simulated clinic."""
    series, truth = requested_series(world_of(), clinic=0, category="hygiene")
    series, truth = series.tail(300), truth.tail(300)
    settings = ProphetSettings(uncertainty_samples=200)
    result = backtest(
        series, lambda h, n: forecast(h, n, settings=settings), n_origins=8, truth=truth
    )
    assert result.rows["origin"].nunique() == 8
    summary = summarise(result.rows, result.horizons)
    model = summary["28"]["model"]
    assert 0.0 < model["mase"] < 2.0
    assert 0.5 <= model["coverage_80"] <= 1.0
    # it learns the weekly shape: closer to the true intensity than a flat trailing mean
    assert model["wape_vs_truth"] < summary["28"]["baselines"]["trailing_mean"]["wape_vs_truth"]
