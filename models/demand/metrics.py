"""Forecast-accuracy metrics on arrays: MASE (weekly season), WAPE and interval coverage."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike

#: the seasonal period of MASE's scale: a week of daily values
WEEK = 7
LARGE_MEAN = 500.0


def seasonal_naive_mae(history: ArrayLike, season: int = WEEK) -> float:
    """Mean absolute error of "the value one season earlier" over the history: MASE's scale."""
    values = np.asarray(history, dtype=np.float64)
    if len(values) <= season:
        raise ValueError(f"MASE needs more than {season} days of history")
    return float(np.mean(np.abs(values[season:] - values[:-season])))


def mase(actual: ArrayLike, predicted: ArrayLike, *, scale: float) -> float:
    """Mean absolute error divided by `scale` (the in-sample seasonal naive MAE; below 1 beats
    the seasonal naive forecast's in-sample error). NaN when the scale is zero (a flat history)."""
    error = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(predicted, float))))
    return error / scale if scale > 0 else float("nan")


def wape(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Sum of absolute errors over the sum of actuals (NaN when nothing happened)."""
    truth = np.asarray(actual, dtype=np.float64)
    total = float(np.sum(np.abs(truth)))
    error = float(np.sum(np.abs(truth - np.asarray(predicted, dtype=np.float64))))
    return error / total if total > 0 else float("nan")


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values inside their interval, bounds included."""
    truth = np.asarray(actual, dtype=np.float64)
    inside = (truth >= np.asarray(lower, float)) & (truth <= np.asarray(upper, float))
    return float(np.mean(inside)) if len(truth) else float("nan")


def poisson_quantile(mean: ArrayLike, q: float) -> npt.NDArray[np.float64]:
    """The q-quantile of Poisson(mean), elementwise: the least k with P(X <= k) >= q.

    Used to give point forecasts (baselines, the true intensity) a count interval."""
    lam = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    # beyond this mean exp(-mean) underflows; the normal approximation is then very close
    large = lam > LARGE_MEAN
    result = np.zeros(lam.shape)
    result[large] = np.ceil(lam[large] + NormalDist().inv_cdf(q) * np.sqrt(lam[large]))
    pmf = np.where(large, 0.0, np.exp(-lam))
    cdf = np.where(large, 1.0, pmf)
    k = 0
    pending = cdf < q
    while pending.any():
        k += 1
        pmf = pmf * lam / k
        cdf = cdf + pmf
        result[pending] = k
        pending = pending & (cdf < q)
    return result
