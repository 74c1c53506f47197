"""The two baselines every evaluation reports beside the model.

- `PatientPriorRate`: the patient's own no-show rate before the cut-off, smoothed towards the
  training window's overall rate: (no-shows + m * rate) / (decided visits + m); the strength m
  is the one of a small grid with the lowest log loss on the training window.
- `logistic_regression`: a logistic regression on the same features (imputed, log of the
  counts, scaled, categories one-hot), in the same kind of sklearn pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import log_loss  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

from models.no_show import features

STRENGTHS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


@dataclass
class PatientPriorRate:
    base_rate: float = 0.0
    strength: float = 1.0

    @staticmethod
    def _counts(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        no_shows = frame["prior_no_shows"].astype("float64").to_numpy()
        decided = no_shows + frame["prior_visits"].astype("float64").to_numpy()
        return no_shows, decided

    def fit(self, train: pd.DataFrame) -> PatientPriorRate:
        y = features.labels(train)
        self.base_rate = float(y.mean())
        no_shows, decided = self._counts(train)
        losses = []
        for m in STRENGTHS:
            p = (no_shows + m * self.base_rate) / (decided + m)
            losses.append(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
        self.strength = STRENGTHS[int(np.argmin(losses))]
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        no_shows, decided = self._counts(frame)
        result: np.ndarray = (no_shows + self.strength * self.base_rate) / (decided + self.strength)
        return result


@dataclass
class LogisticBaseline:
    pipeline: Pipeline

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = self.pipeline.predict_proba(frame)[:, 1]
        return result


def logistic_regression(train: pd.DataFrame) -> LogisticBaseline:
    pipeline = Pipeline(
        [
            ("features", features.linear_preprocessor()),
            ("classifier", LogisticRegression(max_iter=2000)),
        ]
    )
    pipeline.fit(train, features.labels(train))
    return LogisticBaseline(pipeline)
