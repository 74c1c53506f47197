"""The tables-only Bayes bound (simulator/bound.py): the posterior over the latent propensity
moves each prediction the way the patient's history says, and without a latent term the bound
is the truth itself."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from simulator.bound import observable_log_odds, tables_only_probability
from simulator.generate import World, generate

DAY = 86_400


def _history(world: World, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the patient's no-shows and completed visits decided before its cut-off."""
    a = world.appointments
    cut_off = np.maximum(a.start - DAY, a.booked)
    no_shows = np.zeros(len(rows), dtype=np.int64)
    visits = np.zeros(len(rows), dtype=np.int64)
    for k, i in enumerate(rows):
        mine = (a.patient == a.patient[i]) & (np.arange(len(a)) != i)
        no_shows[k] = np.sum(mine & (a.no_show_at >= 0) & (a.no_show_at < cut_off[i]))
        visits[k] = np.sum(mine & (a.completed_at >= 0) & (a.completed_at < cut_off[i]))
    return no_shows, visits


def _prior_mean(world: World, rows: np.ndarray) -> np.ndarray:
    """E[sigmoid(observable + z)] over the prior alone (what a patient without history gets)."""
    sd = world.params.no_show.latent_sd
    z = np.linspace(-6 * sd, 6 * sd, 2001)
    weight = np.exp(-0.5 * (z / sd) ** 2)
    obs = observable_log_odds(world)[rows]
    result: np.ndarray = (1 / (1 + np.exp(-(obs[:, None] + z[None, :])))) @ weight / weight.sum()
    return result


def _decided_rows(world: World, n: int) -> np.ndarray:
    a = world.appointments
    decided = np.flatnonzero((a.no_show_at >= 0) | (a.completed_at >= 0))
    return np.sort(np.random.default_rng(3).choice(decided, size=n, replace=False))


def test_without_a_latent_term_the_bound_is_the_truth(world: World):
    flat = generate(replace(world.params, no_show=replace(world.params.no_show, latent_sd=0.0)))
    rows = _decided_rows(flat, 500)
    assert np.allclose(
        tables_only_probability(flat, rows), flat.appointments.no_show_probability[rows]
    )


def test_the_history_moves_the_prediction_its_way(world: World):
    rows = _decided_rows(world, 3000)
    bound = tables_only_probability(world, rows)
    shift = bound - _prior_mean(world, rows)
    no_shows, visits = _history(world, rows)
    without_history = (no_shows == 0) & (visits == 0)
    assert without_history.sum() > 50
    assert np.allclose(shift[without_history], 0.0, atol=1e-6)
    missing = (no_shows >= 2) & (no_shows >= visits)  # missed at least half, twice or more
    assert missing.sum() > 30
    assert np.all(shift[missing] > 0)  # the latent is likely high
    assert ((visits >= 4) & (no_shows == 0)).sum() > 30
    assert np.all(shift[(visits >= 4) & (no_shows == 0)] < 0)  # a clean record: likely low


def test_the_bound_ranks_between_the_prior_alone_and_the_truth(world: World):
    rows = _decided_rows(world, 6000)
    missed = world.appointments.no_show_at[rows] >= 0
    truth = roc_auc_score(missed, world.appointments.no_show_probability[rows])
    bound = roc_auc_score(missed, tables_only_probability(world, rows))
    prior_only = roc_auc_score(missed, _prior_mean(world, rows))
    assert prior_only < bound < truth
