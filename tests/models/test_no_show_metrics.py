"""Metrics on hand-made examples whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.no_show import metrics


def test_ece_is_zero_when_each_bin_matches_its_rate_and_grows_with_the_gap():
    y = np.array([1, 0, 0, 0, 0] * 20 + [1, 1, 0, 0, 0] * 20)
    calibrated = np.array([0.2] * 100 + [0.4] * 100)
    assert metrics.expected_calibration_error(y, calibrated) == pytest.approx(0.0)
    assert metrics.expected_calibration_error(y, calibrated + 0.05) == pytest.approx(0.05)


def test_probability_metrics_agree_with_hand_computed_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    result = metrics.probability_metrics(y, p)
    assert result["roc_auc"] == pytest.approx(0.75)
    assert result["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert result["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.4, 0.9])), rel=1e-6)


def test_auc_is_null_when_the_rows_hold_one_class():
    result = metrics.probability_metrics(np.zeros(5, dtype=int), np.full(5, 0.2))
    assert result["roc_auc"] is None and result["pr_auc"] is None


def test_top_k_flags_the_k_riskiest_of_each_clinic_day():
    y = np.array([1, 0, 0, 1, 0, 1])
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.6])
    clinic = np.array([1, 1, 1, 2, 2, 2])
    day = np.array(["d"] * 6)
    result = metrics.top_k_per_day(y, p, clinic=clinic, day=day, k=1)
    # clinic 1 flags row 0 (a no-show), clinic 2 flags row 4 (attended)
    assert result["flagged"] == 2
    assert result["precision_at_k"] == pytest.approx(0.5)
    assert result["recall_at_k"] == pytest.approx(1 / 3)


def test_slices_cover_clinic_provider_weekday_lead_time_and_category():
    frame = pd.DataFrame(
        {
            "clinic_id": [1, 1, 2, 2],
            "provider_id": [1, 2, 3, 3],
            "weekday": [0, 0, 4, 4],
            "lead_time_days": [0.5, 20, 2, 100],
            "primary_category": ["hygiene", "hygiene", "surgery", "hygiene"],
        }
    )
    y = np.array([0, 1, 0, 1])
    p = np.array([0.1, 0.7, 0.2, 0.6])
    result = metrics.slice_metrics(frame, y, p)
    assert set(result) == {"clinic", "provider", "weekday", "lead_time", "category"}
    assert set(result["lead_time"]) == {"<1d", "1-3d", "14-30d", "60d+"}
    assert result["category"]["hygiene"]["rows"] == 3
    assert result["clinic"]["1"]["roc_auc"] == pytest.approx(1.0)
