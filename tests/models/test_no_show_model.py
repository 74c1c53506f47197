"""Behaviour of the fitted model: monotone in lead time and earlier no-shows, seeded, its
probabilities calibrated, better than the patient's own history, not better than the truth."""

from __future__ import annotations

import numpy as np
import pytest

from models.no_show import features
from models.no_show.evaluate import train_and_evaluate
from models.no_show.train import BoostingParams, fit
from tests.models.conftest import TEST_BOOSTING


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("lead_time_days", [0.1, 0.5, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90, 180, 365]),
        ("prior_no_shows", [0, 1, 2, 3, 4, 5, 6, 8, 10]),
    ],
)
def test_risk_never_falls_as_lead_time_or_earlier_no_shows_rise(
    no_show_evaluation, no_show_frame, column, values
):
    model = no_show_evaluation.model
    rows = no_show_frame.sample(400, random_state=3)
    probabilities = []
    for value in values:
        copy = rows.copy()
        copy[column] = value
        probabilities.append(model.predict_proba(copy))
    steps = np.diff(np.stack(probabilities), axis=0)
    assert steps.min() >= -1e-12
    assert steps.sum(axis=0).mean() > 0.01  # and it does rise: the constraint is not flat


def test_same_seed_same_model_other_seed_other_model(no_show_frame):
    split = features.split_by_time(no_show_frame)
    rows = split.test.head(500)
    one = fit(split.train, split.calibration, TEST_BOOSTING).predict_proba(rows)
    two = fit(split.train, split.calibration, TEST_BOOSTING).predict_proba(rows)
    other = BoostingParams(**{**TEST_BOOSTING.as_dict(), "seed": TEST_BOOSTING.seed + 1})
    three = fit(split.train, split.calibration, other).predict_proba(rows)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, three)


def test_report_has_model_baselines_and_truth_with_every_metric(no_show_evaluation):
    report = no_show_evaluation.report
    scorers = [
        report["model"],
        report["truth"],
        *report["baselines"].values(),
    ]
    assert set(report["baselines"]) == {"patient_prior_rate", "logistic_regression"}
    for scorer in scorers:
        assert {"roc_auc", "pr_auc", "brier", "log_loss", "ece"} <= set(scorer)
        assert 0.5 < scorer["roc_auc"] < 1.0


def test_model_beats_the_patients_prior_rate_and_stays_below_the_truth(no_show_evaluation):
    report = no_show_evaluation.report
    model, prior, truth = (
        report["model"],
        report["baselines"]["patient_prior_rate"],
        report["truth"],
    )
    assert model["roc_auc"] > prior["roc_auc"] + 0.02
    assert model["brier"] < prior["brier"]
    # the truth knows each patient's latent propensity: no honest model beats it clearly
    assert model["roc_auc"] < truth["roc_auc"] + 0.01


def test_calibrated_on_a_later_window_probabilities_match_the_test_rate(no_show_evaluation):
    report = no_show_evaluation.report
    assert report["model"]["ece"] < 0.04
    test = report["windows"]["test"]
    observed = test["no_shows"] / test["rows"]
    mean = sum(b["mean_probability"] * b["rows"] for b in report["reliability"]["model"])
    assert abs(mean / test["rows"] - observed) < 0.03


def test_truth_is_null_without_the_simulators_probabilities(no_show_frame):
    real = no_show_frame.drop(columns=["true_no_show_probability"])
    report = train_and_evaluate(real, params=TEST_BOOSTING).report
    assert report["truth"] is None
    assert report["model"]["roc_auc"] is not None
