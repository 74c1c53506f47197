"""Baseline forecasts that the model must beat, each `(history, horizon) -> forecast frame`.

- `same_weekday_last_week`: each future day gets the value of the same weekday in the last
  observed week;
- `weekday_profile`: the mean of the same weekday over the last 8 weeks;
- `trailing_mean`: the mean of the last 28 days, flat.

Their 80 % interval is the 10 % to 90 % quantile range of a Poisson count with the point forecast
as its mean: the simplest honest interval for a count forecast without a model of its own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from models.demand.metrics import poisson_quantile
from models.demand.series import check_series, future_dates

Forecaster = Callable[[pd.DataFrame, int], pd.DataFrame]

PROFILE_WEEKS = 8
TRAILING_DAYS = 28
LOWER_Q, UPPER_Q = 0.1, 0.9


def with_count_interval(dates: pd.DatetimeIndex, yhat: np.ndarray) -> pd.DataFrame:
    """A forecast frame whose interval is the Poisson 10 % to 90 % range around `yhat`."""
    return pd.DataFrame(
        {
            "date": dates,
            "yhat": yhat,
            "yhat_lower": poisson_quantile(yhat, LOWER_Q),
            "yhat_upper": poisson_quantile(yhat, UPPER_Q),
        }
    )


def _need(history: pd.DataFrame, days: int, name: str) -> None:
    if len(history) < days:
        raise ValueError(f"{name} needs at least {days} days of history, got {len(history)}")


def same_weekday_last_week(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    frame = check_series(history)
    _need(frame, 7, "same_weekday_last_week")
    last_week = frame["value"].to_numpy()[-7:]
    yhat = np.resize(last_week, horizon)  # day k after the end repeats day k - 7
    return with_count_interval(future_dates(frame, horizon), yhat)


def weekday_profile(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    frame = check_series(history)
    days = 7 * PROFILE_WEEKS
    _need(frame, days, "weekday_profile")
    recent = frame.iloc[-days:]
    profile = recent.groupby(recent["date"].dt.day_of_week)["value"].mean()
    dates = future_dates(frame, horizon)
    yhat = profile.reindex(dates.day_of_week).to_numpy(dtype=np.float64)
    return with_count_interval(dates, yhat)


def trailing_mean(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    frame = check_series(history)
    _need(frame, TRAILING_DAYS, "trailing_mean")
    level = float(frame["value"].iloc[-TRAILING_DAYS:].mean())
    return with_count_interval(future_dates(frame, horizon), np.full(horizon, level))


BASELINES: dict[str, Forecaster] = {
    "same_weekday_last_week": same_weekday_last_week,
    "weekday_profile": weekday_profile,
    "trailing_mean": trailing_mean,
}
