# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # No-show risk: how close to the truth can any model come?
#
# The simulator's true probabilities include each patient's latent propensity, which no table
# records. This script simulates a group (arrays only, no database), takes the same test window
# as `dentops evaluate no-show` (the latest 91 days of decided appointments) and compares the
# ROC AUC of the truth with that of the Bayes bound of `simulator.bound` (the best a model that
# sees only the tables could do). Run it as a script:
#
#     python notebooks/no_show_bound.py --clinics 3 --years 3 --seed 7 --today 2026-06-30
#
# The last line printed is one JSON object: `test_rows`, `no_shows`, `latent_sd`, `truth_auc`,
# `bound_auc`, `bound_gap`.

# %%
import argparse
import json
from dataclasses import replace
from datetime import date

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from simulator import future
from simulator.bound import tables_only_probability
from simulator.generate import generate
from simulator.params import SimulationParams

parser = argparse.ArgumentParser()
parser.add_argument("--clinics", type=int, default=3)
parser.add_argument("--years", type=float, default=3.0)
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 6, 30))
parser.add_argument("--latent-sd", type=float, default=None)
parser.add_argument("--test-days", type=int, default=91)
args = parser.parse_args()

params = SimulationParams(
    clinics=args.clinics,
    years=args.years,
    seed=args.seed,
    patients=2000 * args.clinics,  # as `dentops simulate`
    today=args.today,
)
if args.latent_sd is not None:
    params = replace(params, no_show=replace(params.no_show, latent_sd=args.latent_sd))
world = generate(params)

# %% [markdown]
# The test window: decided appointments (completed or no-show) of the latest `--test-days`
# clinic-local days with one.

# %%
a = world.appointments
decided = np.isin(a.status, [future.STATUSES.index("completed"), future.STATUSES.index("no_show")])
day = world.timeline.day_of(a.start)
last_day = day[decided].max()
rows = np.flatnonzero(decided & (day > last_day - args.test_days))
missed = a.no_show_at[rows] >= 0

# %%
truth = a.no_show_probability[rows]
bound = tables_only_probability(world, rows)
truth_auc = float(roc_auc_score(missed, truth))
bound_auc = float(roc_auc_score(missed, bound))
print(f"{len(rows)} test appointments, {int(missed.sum())} no-shows")
print(f"truth AUC {truth_auc:.4f}; the tables-only Bayes bound {bound_auc:.4f}")
print(
    json.dumps(
        {
            "test_rows": len(rows),
            "no_shows": int(missed.sum()),
            "latent_sd": params.no_show.latent_sd,
            "truth_auc": round(truth_auc, 4),
            "bound_auc": round(bound_auc, 4),
            "bound_gap": round(truth_auc - bound_auc, 4),
        }
    )
)
