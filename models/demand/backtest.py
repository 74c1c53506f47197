"""Rolling-origin backtest: refit at each origin on the days up to it, forecast the days after,
and score every forecaster on the same days.

Origins are `step` days apart; the last one leaves the longest horizon inside the series, so
every forecast is scored on days that no forecaster saw. A horizon h is the first h days after
an origin. When the series is simulated, `truth` (`date`, `value`: the expected value each day,
the simulator's intensity) is scored as one more forecaster, the best a forecast can do on
average, and every forecaster's distance to it is reported too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.demand.baselines import BASELINES, Forecaster, with_count_interval
from models.demand.metrics import coverage, mase, seasonal_naive_mae, wape
from models.demand.series import check_series

MODEL = "model"
TRUTH = "truth"
#: every baseline needs at most this much history (the 8-week weekday profile)
MIN_HISTORY = 56


@dataclass(frozen=True)
class Backtest:
    """One row per origin x forecaster x day ahead: `origin` (last day of history), `method`,
    `date`, `step` (1 = the day after the origin), `actual`, `yhat`, `yhat_lower`,
    `yhat_upper`, `scale` (MASE's scale from that origin's history) and `expected` (the truth's
    value that day, NaN without a truth)."""

    rows: pd.DataFrame
    horizons: tuple[int, ...]


def origins(series: pd.DataFrame, *, n_origins: int, step: int, horizon: int) -> list[int]:
    """Positions of the origins (index of the last history day), oldest first."""
    last = len(series) - 1 - horizon
    positions = [last - step * k for k in range(n_origins)][::-1]
    if positions[0] < MIN_HISTORY - 1:
        raise ValueError(
            f"{n_origins} origins {step} days apart with a {horizon}-day horizon need at least "
            f"{MIN_HISTORY + step * (n_origins - 1) + horizon} days, the series has {len(series)}"
        )
    return positions


def backtest(
    series: pd.DataFrame,
    model: Forecaster,
    *,
    horizons: Sequence[int] = (7, 28),
    n_origins: int = 8,
    step: int = 28,
    baselines: Mapping[str, Forecaster] = BASELINES,
    truth: pd.DataFrame | None = None,
) -> Backtest:
    """Backtest `model` (a `(history, horizon) -> forecast` callable, e.g. a closure over
    `forecast`) and the baselines on `series` at `n_origins` origins."""
    frame = check_series(series)
    longest = max(horizons)
    expected = _expected(frame, truth)
    forecasters: dict[str, Forecaster] = {MODEL: model, **baselines}
    parts = []
    for position in origins(frame, n_origins=n_origins, step=step, horizon=longest):
        history = frame.iloc[: position + 1]
        ahead = frame.iloc[position + 1 : position + 1 + longest]
        scale = seasonal_naive_mae(history["value"])
        predictions = {name: f(history, longest) for name, f in forecasters.items()}
        if expected is not None:
            known = expected[position + 1 : position + 1 + longest]
            if np.isnan(known).any():
                raise ValueError("the truth must cover every day that is scored")
            predictions[TRUTH] = with_count_interval(pd.DatetimeIndex(ahead["date"]), known)
        for name, predicted in predictions.items():
            parts.append(_rows(name, history, ahead, predicted, scale, expected, position))
    return Backtest(pd.concat(parts, ignore_index=True), tuple(horizons))


def _expected(frame: pd.DataFrame, truth: pd.DataFrame | None) -> np.ndarray | None:
    """The truth on the series' days (NaN where it has none; scored days must have one)."""
    if truth is None:
        return None
    aligned = check_series(truth).set_index("date")["value"].reindex(frame["date"])
    return aligned.to_numpy(dtype=np.float64)


def _rows(
    name: str,
    history: pd.DataFrame,
    ahead: pd.DataFrame,
    predicted: pd.DataFrame,
    scale: float,
    expected: np.ndarray | None,
    position: int,
) -> pd.DataFrame:
    if not np.array_equal(predicted["date"].to_numpy(), ahead["date"].to_numpy()):
        raise ValueError(f"forecaster {name} did not forecast the days after the origin")
    n = len(ahead)
    return pd.DataFrame(
        {
            "origin": history["date"].iloc[-1],
            "method": name,
            "date": ahead["date"].to_numpy(),
            "step": np.arange(1, n + 1),
            "actual": ahead["value"].to_numpy(),
            "yhat": predicted["yhat"].to_numpy(dtype=np.float64),
            "yhat_lower": predicted["yhat_lower"].to_numpy(dtype=np.float64),
            "yhat_upper": predicted["yhat_upper"].to_numpy(dtype=np.float64),
            "scale": scale,
            "expected": np.nan if expected is None else expected[position + 1 : position + 1 + n],
        }
    )


def scores(rows: pd.DataFrame) -> dict[str, float | None]:
    """MASE (mean over origins and series of each window's MAE / its scale), WAPE and 80 %
    coverage pooled over all rows; `wape_vs_truth` when the truth is known."""
    keys = [k for k in ("series", "origin") if k in rows.columns]
    windows = rows.groupby(keys, sort=False)
    per_window = [mase(w["actual"], w["yhat"], scale=float(w["scale"].iloc[0])) for _, w in windows]
    result: dict[str, float | None] = {
        "mase": _plain(float(np.nanmean(per_window)) if np.isfinite(per_window).any() else None),
        "wape": _plain(wape(rows["actual"], rows["yhat"])),
        "coverage_80": _plain(coverage(rows["actual"], rows["yhat_lower"], rows["yhat_upper"])),
    }
    if rows["expected"].notna().all():
        result["wape_vs_truth"] = _plain(wape(rows["expected"], rows["yhat"]))
    return result


def summarise(rows: pd.DataFrame, horizons: Sequence[int]) -> dict[str, Any]:
    """Per horizon ("7", "28"): `model`, `baselines` by name and `truth` (None without one),
    each with `mase`, `wape`, `coverage_80`. `rows` is `Backtest.rows`, or several backtests'
    rows concatenated with a `series` column (scores are then pooled over the series)."""
    result: dict[str, Any] = {}
    for horizon in horizons:
        window = rows[rows["step"] <= horizon]
        by_method = {name: scores(part) for name, part in window.groupby("method", sort=False)}
        result[str(horizon)] = {
            MODEL: by_method.pop(MODEL),
            TRUTH: by_method.pop(TRUTH, None),
            "baselines": by_method,
        }
    return result


def _plain(value: float | None) -> float | None:
    """JSON-ready: NaN becomes None, floats rounded to 4 decimals."""
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), 4)
