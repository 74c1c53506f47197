"""Train on the past, evaluate on the most recent window: the model, both baselines and, on
simulated data, the simulator's true probabilities, side by side on the same test rows.

The test window is never seen by any fit: the model and the baselines train on the earliest
window, the model's calibration uses the window between, and every metric is computed on the
latest window only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.no_show import baselines, features, metrics
from models.no_show.train import BoostingParams, NoShowModel, fit

TRUTH = "true_no_show_probability"
#: how many appointments of a clinic-day a front desk can call (top-k metrics)
DEFAULT_K = 10


@dataclass
class Evaluation:
    model: NoShowModel
    report: dict[str, Any]


def scorer_metrics(test: pd.DataFrame, p: np.ndarray, *, k: int) -> dict[str, float | int | None]:
    y = features.labels(test)
    top = metrics.top_k_per_day(
        y,
        p,
        clinic=test["clinic_id"].to_numpy(),
        day=test[features.DATE].astype(str).to_numpy(),
        k=k,
    )
    return {**metrics.probability_metrics(y, p), **top}


def truth_probability(frame: pd.DataFrame) -> np.ndarray | None:
    """The simulator's true probabilities, when the frame carries them for every row."""
    if TRUTH not in frame.columns or frame[TRUTH].isna().any():
        return None
    return frame[TRUTH].astype("float64").to_numpy()


def evaluate_scorers(
    test: pd.DataFrame,
    *,
    model: NoShowModel,
    prior_rate: baselines.PatientPriorRate,
    logistic: baselines.LogisticBaseline,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Metrics of the model, the baselines and the truth (null without it) on `test`."""
    p = model.predict_proba(test)
    truth = truth_probability(test)
    y = features.labels(test)
    return {
        "model": scorer_metrics(test, p, k=k),
        "baselines": {
            "patient_prior_rate": scorer_metrics(test, prior_rate.predict_proba(test), k=k),
            "logistic_regression": scorer_metrics(test, logistic.predict_proba(test), k=k),
        },
        "truth": None if truth is None else scorer_metrics(test, truth, k=k),
        "slices": metrics.slice_metrics(test, y, p, truth),
        "reliability": {
            "model": metrics.reliability(y, p),
            **({} if truth is None else {"truth": metrics.reliability(y, truth)}),
        },
    }


def train_and_evaluate(
    frame: pd.DataFrame,
    *,
    params: BoostingParams | None = None,
    k: int = DEFAULT_K,
    test_days: int = 91,
    calibration_days: int = 91,
) -> Evaluation:
    """Split `frame` (the mart's rows) by time, fit the model and the baselines, evaluate."""
    split = features.split_by_time(frame, test_days=test_days, calibration_days=calibration_days)
    model = fit(split.train, split.calibration, params)
    report = evaluate_scorers(
        split.test,
        model=model,
        prior_rate=baselines.PatientPriorRate().fit(split.train),
        logistic=baselines.logistic_regression(split.train),
        k=k,
    )
    report["windows"] = split.windows()
    report["calibration"] = {
        "method": "platt",
        "slope": model.calibration.slope,
        "intercept": model.calibration.intercept,
    }
    return Evaluation(model, report)
