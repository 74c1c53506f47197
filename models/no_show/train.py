"""Fit the no-show model: an xgboost classifier behind the feature pipeline, with monotone
constraints (a longer lead time or more earlier no-shows never lowers the risk), then a
calibration of its probabilities fitted on a later window than the training one.

The calibration is Platt scaling on the log-odds (a slope and an intercept): it keeps the
ranking, so the monotone constraints still hold after it, and it absorbs the drift of the
overall rate between the training and the calibration windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from xgboost import XGBClassifier

from models.no_show import features

EPS = 1e-6


@dataclass(frozen=True)
class BoostingParams:
    """Defaults chosen on a validation window inside the training period of the simulated
    3-clinic group (never on its test window): shallow trees (an additive model) ranked best
    of the depths 1-5 tried; see docs/models.md."""

    n_estimators: int = 800
    learning_rate: float = 0.05
    max_depth: int = 1
    min_child_weight: float = 20.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    n_jobs: int = 1
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def log_odds(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPS, 1 - EPS)
    result: np.ndarray = np.log(clipped / (1 - clipped))
    return result


@dataclass
class PlattCalibration:
    """p -> sigmoid(a * logit(p) + b), fitted by maximum likelihood."""

    slope: float = 1.0
    intercept: float = 0.0

    def fit(self, raw: np.ndarray, y: np.ndarray) -> PlattCalibration:
        fitted = LogisticRegression(C=1e6, max_iter=1000)
        fitted.fit(log_odds(raw).reshape(-1, 1), y)
        self.slope = float(fitted.coef_[0, 0])
        self.intercept = float(fitted.intercept_[0])
        return self

    def apply(self, raw: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(self.slope * log_odds(raw) + self.intercept)))
        return result


@dataclass
class NoShowModel:
    """The fitted feature pipeline + classifier and its calibration."""

    pipeline: Pipeline
    calibration: PlattCalibration
    params: BoostingParams
    feature_names: list[str] = field(default_factory=list)

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = self.pipeline.predict_proba(frame)[:, 1]
        return result

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a no-show, one per row of `frame` (mart columns)."""
        return self.calibration.apply(self.raw_probability(frame))


def classifier(params: BoostingParams, feature_names: list[str]) -> XGBClassifier:
    constraints = {name: 1 for name in features.INCREASING if name in feature_names}
    return XGBClassifier(
        n_estimators=params.n_estimators,
        learning_rate=params.learning_rate,
        max_depth=params.max_depth,
        min_child_weight=params.min_child_weight,
        subsample=params.subsample,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        n_jobs=params.n_jobs,
        random_state=params.seed,
        tree_method="hist",
        objective="binary:logistic",
        eval_metric="logloss",
        monotone_constraints=constraints,
    )


def fit(
    train: pd.DataFrame, calibration: pd.DataFrame, params: BoostingParams | None = None
) -> NoShowModel:
    """Fit on `train`, calibrate on `calibration` (a later window: never the same rows)."""
    params = params or BoostingParams()
    preprocessor = features.tree_preprocessor()
    encoded = preprocessor.fit_transform(train)
    names = [str(c) for c in encoded.columns]
    model = classifier(params, names)
    model.fit(encoded, features.labels(train))
    pipeline = Pipeline([("features", preprocessor), ("classifier", model)])
    fitted = NoShowModel(pipeline, PlattCalibration(), params, names)
    fitted.calibration.fit(fitted.raw_probability(calibration), features.labels(calibration))
    return fitted
