"""The feature pipeline and the split by time: nothing from the test window or from later
appointments reaches a fit or a row's features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.no_show import features
from models.no_show.evaluate import train_and_evaluate
from tests.models.conftest import TEST_BOOSTING


def test_prepare_names_the_missing_mart_columns(no_show_frame):
    with pytest.raises(ValueError, match="lead_time_days"):
        features.prepare(no_show_frame.drop(columns=["lead_time_days"]))


def test_prepare_leaves_out_the_patients_sex(no_show_frame):
    assert "sex" not in features.prepare(no_show_frame.head(5)).columns


def test_split_by_time_orders_train_before_calibration_before_test(no_show_frame):
    split = features.split_by_time(no_show_frame, test_days=91, calibration_days=91)
    train, cal, test = (
        pd.to_datetime(p[features.DATE]) for p in (split.train, split.calibration, split.test)
    )
    assert train.max() < cal.min() and cal.max() < test.min()
    assert (test.max() - test.min()).days <= 90
    assert len(split.train) + len(split.calibration) + len(split.test) == int(
        no_show_frame["is_labelled"].sum()
    )
    assert split.test[features.LABEL].notna().all()


def test_a_rows_features_do_not_depend_on_the_other_rows(no_show_frame):
    frame = no_show_frame.sort_values("start_at")
    alone = features.tree_preprocessor().fit(frame).transform(frame.head(50))
    later = frame.iloc[50:].copy()
    later["prior_no_shows"] = 9  # later appointments change: the first 50 rows must not
    changed = pd.concat([frame.head(50), later])
    again = features.tree_preprocessor().fit(frame).transform(changed).head(50)
    pd.testing.assert_frame_equal(alone, again)


def test_labels_of_the_test_window_never_reach_the_fits(no_show_frame):
    """Flip every label of the test window: the fitted model, its calibration and the
    baselines' predictions stay exactly the same; only the test metrics move."""
    first = train_and_evaluate(no_show_frame, params=TEST_BOOSTING)
    flipped = no_show_frame.copy()
    test_ids = set(features.split_by_time(no_show_frame).test["appointment_id"])
    in_test = flipped["appointment_id"].isin(test_ids)
    flipped.loc[in_test, "is_no_show"] = ~flipped.loc[in_test, "is_no_show"].astype(bool)
    second = train_and_evaluate(flipped, params=TEST_BOOSTING)
    rows = no_show_frame.sample(300, random_state=1)
    np.testing.assert_array_equal(first.model.predict_proba(rows), second.model.predict_proba(rows))
    assert first.report["model"]["roc_auc"] != second.report["model"]["roc_auc"]
