"""Metrics of probabilities against labels: ranking (ROC AUC, PR AUC), accuracy of the
probabilities (Brier score, log loss, expected calibration error), what a front desk gets from
calling the k riskiest appointments of each clinic-day, and the same per slice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score  # type: ignore[import-untyped]

ECE_BINS = 10
LEAD_BUCKETS = (0, 1, 3, 7, 14, 30, 60, np.inf)
LEAD_LABELS = ("<1d", "1-3d", "3-7d", "7-14d", "14-30d", "30-60d", "60d+")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Sum over equal-width probability bins of (share of rows) x |mean p - no-show rate|."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(float(p[inside].mean()) - float(y[inside].mean()))
    return float(total)


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ROC AUC and PR AUC are null when the rows hold only one class."""
    both = len(np.unique(y)) == 2
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
    }


def top_k_per_day(
    y: np.ndarray, p: np.ndarray, *, clinic: np.ndarray, day: np.ndarray, k: int
) -> dict[str, float | int | None]:
    """Flag the k riskiest appointments of each clinic and day (ties by row order):
    precision = no-shows among the flagged, recall = flagged no-shows among all no-shows."""
    frame = pd.DataFrame({"y": y, "p": p, "clinic": clinic, "day": day})
    rank = frame.groupby(["clinic", "day"], sort=False)["p"].rank(method="first", ascending=False)
    flagged = (rank <= k).to_numpy()
    hits = int(y[flagged].sum())
    return {
        "k": k,
        "flagged": int(flagged.sum()),
        "precision_at_k": hits / int(flagged.sum()) if flagged.any() else None,
        "recall_at_k": hits / int(y.sum()) if y.sum() else None,
    }


def lead_bucket(lead_days: pd.Series) -> pd.Series:
    return pd.cut(
        lead_days.astype("float64"), LEAD_BUCKETS, labels=LEAD_LABELS, right=False
    ).astype(str)


def slice_metrics(
    frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, truth: np.ndarray | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per clinic, provider, weekday, lead-time bucket and procedure category: rows, no-show
    rate, mean probability, ROC AUC and Brier (and the truth's AUC beside, when given)."""
    keys = {
        "clinic": frame["clinic_id"].astype(str),
        "provider": frame["provider_id"].astype(str),
        "weekday": frame["weekday"].astype(str),
        "lead_time": lead_bucket(frame["lead_time_days"]),
        "category": frame["primary_category"].astype(str),
    }
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for name, key in keys.items():
        values = key.to_numpy()
        result[name] = {}
        for value in sorted(set(values)):
            inside = values == value
            entry: dict[str, Any] = {
                "rows": int(inside.sum()),
                "no_show_rate": float(y[inside].mean()),
                "mean_probability": float(p[inside].mean()),
                "roc_auc": _auc(y[inside], p[inside]),
                "brier": float(brier_score_loss(y[inside], p[inside], labels=[0, 1])),
            }
            if truth is not None:
                entry["truth_roc_auc"] = _auc(y[inside], truth[inside])
            result[name][str(value)] = entry
    return result


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None


def reliability(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per non-empty bin: mean probability, observed rate and rows (for a calibration plot)."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    return [
        {
            "mean_probability": float(p[which == b].mean()),
            "observed_rate": float(y[which == b].mean()),
            "rows": int((which == b).sum()),
        }
        for b in range(bins)
        if (which == b).any()
    ]
