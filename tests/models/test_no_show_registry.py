"""The registry keeps every run and promotes a model only if it is at least as good as the
current one on the latest window."""

from __future__ import annotations

import numpy as np
import pytest

from models.no_show.registry import Registry, promotion

CHAMPION = {"log_loss": 0.40, "roc_auc": 0.75}


def test_the_first_model_is_promoted():
    assert promotion(CHAMPION, None).promote


def test_an_equal_model_is_promoted():
    assert promotion(dict(CHAMPION), CHAMPION).promote


@pytest.mark.parametrize(
    "new",
    [
        {"log_loss": 0.41, "roc_auc": 0.76},  # probabilities worse
        {"log_loss": 0.39, "roc_auc": 0.74},  # ranking worse
    ],
)
def test_a_model_worse_on_either_count_is_not_promoted(new):
    decision = promotion(new, CHAMPION)
    assert not decision.promote
    assert "worse" in decision.reason


def test_a_better_model_is_promoted():
    assert promotion({"log_loss": 0.39, "roc_auc": 0.76}, CHAMPION).promote


def test_saved_model_loads_back_and_scores_the_same(no_show_evaluation, no_show_frame, tmp_path):
    registry = Registry(tmp_path)
    registry.save("run-1", no_show_evaluation.model, {"metrics": {"log_loss": 0.4}})
    assert registry.champion() is None
    registry.promote("run-1")
    assert registry.champion() == "run-1"
    assert registry.record("run-1")["metrics"] == {"log_loss": 0.4}
    rows = no_show_frame.head(100)
    np.testing.assert_array_equal(
        registry.load("run-1").predict_proba(rows),
        no_show_evaluation.model.predict_proba(rows),
    )


def test_a_run_is_never_overwritten_nor_an_unknown_run_promoted(no_show_evaluation, tmp_path):
    registry = Registry(tmp_path)
    registry.save("run-1", no_show_evaluation.model, {})
    with pytest.raises(FileExistsError):
        registry.save("run-1", no_show_evaluation.model, {})
    with pytest.raises(KeyError):
        registry.promote("run-2")
