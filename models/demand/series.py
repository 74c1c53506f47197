"""The daily series every function here takes: `date` (one row per calendar day) and `value`."""

from __future__ import annotations

import pandas as pd

COLUMNS = ("date", "value")
#: what every forecaster returns, one row per future day
FORECAST_COLUMNS = ("date", "yhat", "yhat_lower", "yhat_upper")


def check_series(series: pd.DataFrame) -> pd.DataFrame:
    """The series sorted by date, `date` as datetime64 and `value` as float; refuses gaps,
    repeated days and missing values (a day without demand is a 0, not a missing row)."""
    missing = [c for c in COLUMNS if c not in series.columns]
    if missing:
        raise ValueError(f"a daily series needs the columns date and value; missing: {missing}")
    frame = pd.DataFrame(
        {"date": pd.to_datetime(series["date"]), "value": series["value"].astype(float)}
    )
    frame = frame.sort_values("date", kind="stable").reset_index(drop=True)
    if frame["value"].isna().any():
        raise ValueError("a daily series may not have missing values (write 0 for no demand)")
    steps = frame["date"].diff().dropna()
    if len(steps) and not (steps == pd.Timedelta(days=1)).all():
        raise ValueError("a daily series needs one row per day, without gaps or repeats")
    return frame


def future_dates(series: pd.DataFrame, horizon: int) -> pd.DatetimeIndex:
    """The `horizon` days after the series' last day."""
    last = pd.Timestamp(series["date"].iloc[-1])
    return pd.date_range(last + pd.Timedelta(days=1), periods=horizon, freq="D")
