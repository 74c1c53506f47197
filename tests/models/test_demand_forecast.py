"""The prophet forecast on simulated demand: shape and bounds, closed days and public holidays,
closeness to the true intensity, determinism. Three fits of about two years each."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.demand import ProphetSettings, forecast, holidays_frame
from models.demand.baselines import weekday_profile
from models.demand.metrics import wape
from tests.models.test_demand_mirror import requested_series, world_of

SETTINGS = ProphetSettings(uncertainty_samples=300, seed=7)
HORIZON = 90


@pytest.fixture(scope="module")
def hygiene() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Realised hygiene requests of one simulated clinic up to 90 days before its "today",
    the true intensity of all days, and the US holidays over both."""
    series, truth = requested_series(world_of(), clinic=0, category="hygiene")
    first = series["date"].iloc[0].date()
    holidays = holidays_frame("US", first, date(2026, 12, 31))
    return series.iloc[:-HORIZON], truth, holidays


@pytest.fixture(scope="module")
def predicted(hygiene) -> pd.DataFrame:
    history, _, holidays = hygiene
    return forecast(history, HORIZON, holidays=holidays, settings=SETTINGS)


def test_forecast_covers_the_90_days_after_the_history_with_ordered_non_negative_bounds(
    hygiene, predicted
):
    history, _, _ = hygiene
    assert list(predicted.columns) == ["date", "yhat", "yhat_lower", "yhat_upper"]
    expected = pd.date_range(
        history["date"].iloc[-1] + pd.Timedelta(days=1), periods=HORIZON, freq="D"
    )
    assert (predicted["date"].to_numpy() == expected.to_numpy()).all()
    assert (predicted["yhat_lower"] >= 0).all()
    assert (predicted["yhat_lower"] <= predicted["yhat"] + 1e-9).all()
    assert (predicted["yhat"] <= predicted["yhat_upper"] + 1e-9).all()


def test_closed_sundays_and_public_holidays_get_almost_no_demand(hygiene, predicted):
    _, truth, _ = hygiene
    on = truth.set_index("date")["value"].reindex(predicted["date"]).to_numpy()
    closed = on == 0  # Sundays and the clinic's public holidays
    assert closed.sum() > 12
    open_mean = predicted.loc[~closed, "yhat"].mean()
    assert predicted.loc[closed, "yhat"].max() < 0.15 * open_mean
    memorial_day = predicted["date"] == pd.Timestamp("2026-05-25")  # a Monday, in the window
    assert predicted.loc[memorial_day, "yhat"].iloc[0] < 0.15 * open_mean


def test_forecast_is_closer_to_the_true_intensity_than_the_weekday_profile(hygiene, predicted):
    history, truth, _ = hygiene
    on = truth.set_index("date")["value"].reindex(predicted["date"]).to_numpy()
    profile = weekday_profile(history, HORIZON)
    assert wape(on, predicted["yhat"]) < wape(on, profile["yhat"])
    assert wape(on, predicted["yhat"]) < 0.2


def test_the_same_seed_gives_the_same_forecast_and_intervals(hygiene, predicted):
    history, _, holidays = hygiene
    again = forecast(history, HORIZON, holidays=holidays, settings=SETTINGS)
    pd.testing.assert_frame_equal(predicted, again)
    other = forecast(
        history,
        HORIZON,
        holidays=holidays,
        settings=ProphetSettings(uncertainty_samples=300, seed=8),
    )
    np.testing.assert_allclose(other["yhat"], predicted["yhat"])  # the fit itself is exact
    assert not np.allclose(other["yhat_upper"], predicted["yhat_upper"])  # the draws are seeded


def test_too_short_a_history_is_refused():
    short = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=10), "value": 1.0})
    with pytest.raises(ValueError, match="at least 14 days"):
        forecast(short, 7)


def test_a_series_without_demand_forecasts_none():
    empty = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=60), "value": 0.0})
    predicted = forecast(empty, 14, settings=SETTINGS)
    assert predicted["yhat"].abs().max() < 1e-6
    assert predicted["yhat_upper"].max() < 1e-6
