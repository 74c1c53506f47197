"""Explanations come from xgboost's own contributions and name real features in plain words."""

from __future__ import annotations

import numpy as np
import pytest

from models.no_show import explain, features
from models.no_show.train import log_odds


@pytest.fixture(scope="module")
def rows(no_show_frame):
    return no_show_frame[no_show_frame["status"].isin(["booked", "confirmed"])].head(200)


def test_contributions_add_up_to_the_models_log_odds(no_show_evaluation, rows):
    model = no_show_evaluation.model
    table = explain.contributions(model, rows)
    np.testing.assert_allclose(
        table.sum(axis=1).to_numpy(), log_odds(model.raw_probability(rows)), atol=1e-3
    )


def test_every_factor_is_a_mart_column_or_a_named_group_with_a_phrase(no_show_evaluation, rows):
    table = explain.contributions(no_show_evaluation.model, rows)
    factors = set(table.columns) - {"bias"}
    assert factors == set(explain.PHRASES)
    mart_columns = set(features.INPUT_COLUMNS)
    for name in factors - {"history", "cancellations", "balance"}:
        assert name in mart_columns


def test_explanations_put_the_rows_own_values_in_words(no_show_evaluation, rows):
    explained = explain.explain(no_show_evaluation.model, rows)
    assert len(explained) == len(rows)
    assert any(explained)
    for words, (_, row) in zip(explained, rows.iterrows(), strict=True):
        assert len(words) <= explain.TOP_FACTORS
        for phrase in words:
            assert phrase in {fn(row.to_dict()) for fn in explain.PHRASES.values()}


def test_a_long_lead_and_missed_visits_are_named_when_they_drive_the_risk(no_show_evaluation, rows):
    row = rows.head(1).copy()
    row["lead_time_days"] = 41.2
    row["prior_no_shows"] = 2
    row["prior_visits"] = 2
    words = explain.explain(no_show_evaluation.model, row)[0]
    assert "missed 2 of 4 earlier visits" in words
    assert "booked 41 days ahead" in words
