"""Metrics, baselines, the series contract and the holiday frame, on hand-made examples."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.demand import holidays_frame
from models.demand.baselines import same_weekday_last_week, trailing_mean, weekday_profile
from models.demand.metrics import coverage, mase, poisson_quantile, seasonal_naive_mae, wape
from models.demand.series import check_series


def daily(values: list[float] | np.ndarray, start: str = "2025-01-06") -> pd.DataFrame:
    """A series from `start` (a Monday by default), one value a day."""
    return pd.DataFrame(
        {"date": pd.date_range(start, periods=len(values), freq="D"), "value": values}
    )


def test_seasonal_naive_scale_is_the_mean_change_from_one_week_to_the_next():
    history = [1, 2, 3, 4, 5, 6, 7, 3, 2, 3, 4, 5, 6, 9]
    assert seasonal_naive_mae(history) == pytest.approx((2 + 0 + 0 + 0 + 0 + 0 + 2) / 7)
    with pytest.raises(ValueError, match="more than 7 days"):
        seasonal_naive_mae([1.0] * 7)


def test_mase_wape_and_coverage_on_known_numbers():
    actual, predicted = [2, 0, 4, 6], [1, 1, 4, 8]
    assert mase(actual, predicted, scale=2.0) == pytest.approx(1.0 / 2.0)
    assert wape(actual, predicted) == pytest.approx(4 / 12)
    assert math.isnan(wape([0, 0], [1, 1]))
    assert math.isnan(mase([1], [1], scale=0.0))
    # bounds count as inside
    assert coverage([1, 2, 3, 4], [1, 0, 4, 0], [2, 1, 5, 4]) == pytest.approx(0.5)


@pytest.mark.parametrize("mean", [0.0, 0.05, 0.7, 3.0, 12.5, 80.0])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_poisson_quantile_is_the_least_count_whose_cdf_reaches_q(mean, q):
    k = int(poisson_quantile(np.array([mean]), q)[0])
    pmf = [math.exp(-mean) * mean**j / math.factorial(j) for j in range(k + 1)]
    assert sum(pmf) >= q - 1e-12
    assert k == 0 or sum(pmf[:-1]) < q


def test_poisson_quantile_of_a_large_mean_is_near_the_normal_one():
    upper = poisson_quantile(np.array([2000.0]), 0.9)[0]
    assert 2000 + 1.2 * math.sqrt(2000) < upper < 2000 + 1.4 * math.sqrt(2000)


def test_a_series_must_have_one_row_a_day_without_missing_values():
    series = daily([1, 2, 3, 4])
    with pytest.raises(ValueError, match="without gaps"):
        check_series(series.drop(index=2))
    with pytest.raises(ValueError, match="without gaps"):
        check_series(pd.concat([series, series.tail(1)]))
    with pytest.raises(ValueError, match="missing values"):
        check_series(series.assign(value=[1.0, float("nan"), 3.0, 4.0]))
    with pytest.raises(ValueError, match="date and value"):
        check_series(series.rename(columns={"value": "count"}))
    shuffled = check_series(series.iloc[[2, 0, 3, 1]])
    assert shuffled["value"].tolist() == [1, 2, 3, 4]


def test_same_weekday_last_week_repeats_the_last_observed_week():
    history = daily(list(range(1, 22)))  # 3 weeks; the last week is 15..21
    predicted = same_weekday_last_week(history, 10)
    assert predicted["yhat"].tolist() == [15, 16, 17, 18, 19, 20, 21, 15, 16, 17]
    assert predicted["date"].iloc[0] == history["date"].iloc[-1] + pd.Timedelta(days=1)


def test_weekday_profile_averages_only_the_last_eight_weeks():
    old = [100.0] * 7 * 4  # four older weeks that must be ignored
    recent = [float(w % 7) for w in range(7 * 8)]  # Monday 0, Tuesday 1, ... Sunday 6
    recent[0] = 8.0  # the oldest Monday of the eight weeks: Monday averages 1.0
    predicted = weekday_profile(daily(old + recent), 7)
    assert predicted["date"].dt.day_of_week.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert predicted["yhat"].tolist() == [1.0, 1, 2, 3, 4, 5, 6]


def test_trailing_mean_is_flat_at_the_mean_of_the_last_28_days():
    predicted = trailing_mean(daily([50.0] * 10 + [2.0] * 14 + [4.0] * 14), 5)
    assert predicted["yhat"].tolist() == [3.0] * 5


@pytest.mark.parametrize("baseline", [same_weekday_last_week, weekday_profile, trailing_mean])
def test_baseline_intervals_surround_the_forecast_and_refuse_short_histories(baseline):
    rng = np.random.default_rng(1)
    predicted = baseline(daily(rng.poisson(3.0, 70)), 28)
    assert len(predicted) == 28
    assert (predicted["yhat_lower"] <= predicted["yhat"]).all()
    assert (predicted["yhat"] <= predicted["yhat_upper"]).all()
    assert (predicted["yhat_upper"] > predicted["yhat_lower"]).any()
    with pytest.raises(ValueError, match="days of history"):
        baseline(daily([1.0] * 6), 7)


def test_holidays_frame_lists_the_country_holidays_in_the_window():
    frame = holidays_frame("US", date(2025, 11, 1), date(2026, 1, 31))
    assert list(frame.columns) == ["holiday", "ds"]
    days = set(frame["ds"].dt.date)
    assert date(2025, 12, 25) in days
    assert date(2026, 1, 1) in days
    assert date(2025, 7, 4) not in days
    assert holidays_frame("DE", date(2025, 12, 1), date(2025, 12, 31))["ds"].dt.day.min() == 25
    with pytest.raises(ValueError, match="no public holidays"):
        holidays_frame("XX", date(2025, 1, 1), date(2025, 12, 31))
