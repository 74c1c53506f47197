"""The best no-show prediction a model that sees only the tables could make (the Bayes bound).

The truth file's probability of an appointment includes the patient's latent propensity, which
no table records. A model that knew every coefficient of the ground-truth model
(`no_show.py`) but not the latent term could do no better than the posterior mean

    E[ sigmoid(observable log-odds + z) | the patient's outcomes known at the cut-off ]

with z ~ Normal(0, latent_sd) a priori and each earlier decided appointment a Bernoulli draw at
its own observable log-odds + z. This module computes it exactly on a grid of z: its ROC AUC
is an upper bound for any model trained on the tables (up to sampling noise), so the gap
between it and the truth's AUC is the part of the gap no model can close.
"""

from __future__ import annotations

import numpy as np

from simulator.generate import World
from simulator.timeline import FloatArray, IntArray

DAY = 86_400
GRID_POINTS = 161
#: the grid spans this many standard deviations of the latent term either side of 0
GRID_SPAN = 5.0


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


def observable_log_odds(world: World) -> FloatArray:
    """Each appointment's true log-odds without the patient's latent term."""
    a = world.appointments
    p = np.clip(a.no_show_probability, 1e-12, 1 - 1e-12)
    result: FloatArray = np.log(p / (1 - p)) - world.population.latent[a.patient]
    return result


def tables_only_probability(world: World, rows: IntArray) -> FloatArray:
    """The Bayes-optimal probability of a no-show for the appointments `rows`, from what is
    known at each one's cut-off (24 hours before the start, or the booking if later): the
    outcomes of the patient's appointments decided before it."""
    a = world.appointments
    sd = world.params.no_show.latent_sd
    obs = observable_log_odds(world)
    if sd == 0:
        return _sigmoid(obs[rows])
    grid = np.linspace(-GRID_SPAN * sd, GRID_SPAN * sd, GRID_POINTS)
    log_prior = -0.5 * (grid / sd) ** 2
    decided_at = np.where(a.no_show_at >= 0, a.no_show_at, a.completed_at)
    decided = np.flatnonzero(decided_at >= 0)
    # the decided appointments of each patient, in the order their outcome became known
    decided = decided[np.lexsort((decided_at[decided], a.patient[decided]))]
    patients = a.patient[decided]
    cut_off = np.maximum(a.start - DAY, a.booked)
    result = np.empty(len(rows))
    for k, i in enumerate(rows):
        first, last = (
            np.searchsorted(patients, a.patient[i], side="left"),
            np.searchsorted(patients, a.patient[i], side="right"),
        )
        history = decided[first:last]
        history = history[(decided_at[history] < cut_off[i]) & (history != i)]
        q = _sigmoid(obs[history][:, None] + grid[None, :])
        missed = (a.no_show_at[history] >= 0)[:, None]
        log_post = log_prior + np.where(missed, np.log(q), np.log1p(-q)).sum(axis=0)
        weight = np.exp(log_post - log_post.max())
        result[k] = float(weight @ _sigmoid(obs[i] + grid) / weight.sum())
    return result
