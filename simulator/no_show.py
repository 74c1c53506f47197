"""The ground-truth no-show model (documented in docs/simulator.md):

    logit p = intercept
            + lead_per_log_day * log(1 + lead days)
            + prior_per_log_count * log(1 + the patient's no-shows in the last
                                          prior_window_days, at most prior_cap)
            + age_effect[age band] + weekday_effect[weekday]
            + early_hour_effect [start before 10:00] + late_hour_effect [15:00 or later]
            + category_effect[procedure category]
            + per_reminder * reminders received
            + distance_per_log_km * log(1 + distance km)
            + balance_owed [the patient owes on an earlier visit] + uninsured [no insurance]
            + latent propensity of the patient (normal, sd latent_sd; recorded nowhere but
              the truth file)

Lead time and earlier no-shows are the largest observable effects, as in the published
studies; the latent term keeps any model that sees only the tables from being perfect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.params import CATEGORIES, NoShowParams
from simulator.timeline import BoolArray, FloatArray, IntArray

AGE_EDGES = np.array([18.0, 30.0, 50.0, 65.0])


@dataclass(frozen=True)
class Features:
    lead_days: FloatArray
    prior_no_shows: IntArray
    age_years: FloatArray
    weekday: IntArray
    local_hour: IntArray
    category: IntArray  # index into CATEGORIES
    reminders: IntArray
    distance_km: FloatArray
    balance_owed: BoolArray
    insured: BoolArray
    latent: FloatArray


def logit(p: NoShowParams, f: Features) -> FloatArray:
    category_effect = np.array([p.category_effect[c] for c in CATEGORIES])
    x = p.intercept + p.lead_per_log_day * np.log1p(np.maximum(f.lead_days, 0.0))
    x = x + p.prior_per_log_count * np.log1p(f.prior_no_shows)
    x = x + np.asarray(p.age_effect)[np.searchsorted(AGE_EDGES, f.age_years, side="right")]
    x = x + np.asarray(p.weekday_effect)[f.weekday]
    x = x + np.where(f.local_hour < 10, p.early_hour_effect, 0.0)
    x = x + np.where(f.local_hour >= 15, p.late_hour_effect, 0.0)
    x = x + category_effect[f.category]
    x = x + p.per_reminder * f.reminders
    x = x + p.distance_per_log_km * np.log1p(f.distance_km)
    x = x + np.where(f.balance_owed, p.balance_owed, 0.0)
    x = x + np.where(f.insured, 0.0, p.uninsured)
    result: FloatArray = x + f.latent
    return result


def probability(p: NoShowParams, f: Features) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-logit(p, f)))
    return result
