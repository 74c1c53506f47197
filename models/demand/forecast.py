"""The demand model: prophet on one daily series, weekly and yearly seasonality, public holidays.

Seasonality is multiplicative: demand is a level (with a trend) times a weekday factor times a
time-of-year factor, and a closed day (Sunday, a public holiday) is a factor near zero rather
than a fixed number of visits less. Yearly seasonality needs two years of history (prophet's
own rule; below that it is confounded with the trend). Forecasts and interval bounds are
clipped at zero: a count is never negative.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.errors import Pandas4Warning
from prophet import Prophet

from models.demand.series import check_series

#: history needed for yearly seasonality (prophet warns at exactly 730 days)
YEARLY_MIN_DAYS = 731


@dataclass(frozen=True)
class ProphetSettings:
    interval_width: float = 0.8
    seasonality_mode: Literal["additive", "multiplicative"] = "multiplicative"
    changepoint_prior_scale: float = 0.05
    #: a smoother year than prophet's order 10: one series is a few visits a day, and order 10
    #: chases that noise (docs/demand.md has the backtests of both)
    yearly_order: int = 4
    #: draws for the interval; prophet samples them from numpy's global generator, which is
    #: seeded with `seed` for the call and restored afterwards
    uncertainty_samples: int = 500
    seed: int = 0


def forecast(
    history: pd.DataFrame,
    horizon: int = 90,
    *,
    holidays: pd.DataFrame | None = None,
    settings: ProphetSettings = ProphetSettings(),
) -> pd.DataFrame:
    """Fit prophet on `history` (`date`, `value`) and forecast the next `horizon` days.

    `holidays` is prophet's holiday frame (`holiday`, `ds`; see `holidays_frame`) covering the
    history and the horizon. Returns `date`, `yhat`, `yhat_lower`, `yhat_upper` (the
    `interval_width` interval, 80 % by default)."""
    frame = check_series(history)
    if len(frame) < 14:
        raise ValueError(f"the demand model needs at least 14 days of history, got {len(frame)}")
    _quiet()
    model = Prophet(
        weekly_seasonality=True,
        yearly_seasonality=settings.yearly_order if len(frame) >= YEARLY_MIN_DAYS else False,
        daily_seasonality=False,
        seasonality_mode=settings.seasonality_mode,
        changepoint_prior_scale=settings.changepoint_prior_scale,
        interval_width=settings.interval_width,
        uncertainty_samples=settings.uncertainty_samples,
        holidays=holidays if holidays is not None and len(holidays) else None,
    )
    state = np.random.get_state()
    np.random.seed(settings.seed)
    # prophet 1.5 itself calls pandas APIs that pandas 3 deprecates; not ours to fix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Pandas4Warning)
        try:
            model.fit(frame.rename(columns={"date": "ds", "value": "y"}), seed=settings.seed)
            future = model.make_future_dataframe(periods=horizon, freq="D", include_history=False)
            predicted = model.predict(future)
        finally:
            np.random.set_state(state)
    return pd.DataFrame(
        {
            "date": predicted["ds"].to_numpy(),
            "yhat": predicted["yhat"].clip(lower=0).to_numpy(),
            "yhat_lower": predicted["yhat_lower"].clip(lower=0).to_numpy(),
            "yhat_upper": predicted["yhat_upper"].clip(lower=0).to_numpy(),
        }
    )


def _quiet() -> None:
    """cmdstanpy logs two INFO lines per fit through a handler of its own, which it adds (and
    sets its logger to DEBUG) only when the logger has none: give it one, and keep WARNING."""
    for name in ("cmdstanpy", "prophet"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        logger.setLevel(logging.WARNING)
