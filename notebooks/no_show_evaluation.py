# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # No-show risk: how good is the model?
#
# A walk through the evaluation of `models.no_show` on a practice's warehouse. Run it as a
# script (`python notebooks/no_show_evaluation.py`) or open it with jupytext. It reads the
# practice of `DENTOPS_DATA_DIR` (built with `dentops simulate` and `dentops pipeline run`)
# and writes its calibration plot to `NOTEBOOK_OUT` (default: the current folder).
# `NO_SHOW_ROUNDS` sets the boosting rounds (default 800).

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from core_app.config import Settings
from models.no_show import explain, features
from models.no_show.evaluate import train_and_evaluate
from models.no_show.train import BoostingParams
from pipelines.no_show import read_features, upcoming

out = Path(os.environ.get("NOTEBOOK_OUT", "."))
rounds = int(os.environ.get("NO_SHOW_ROUNDS", "800"))
frame, as_of = read_features(Settings())
labelled = frame[frame["is_labelled"].astype(bool)]
print(f"{len(frame)} appointments, {len(labelled)} with an outcome, as of {as_of}")
print(f"no-show rate: {labelled['is_no_show'].astype(bool).mean():.3f}")

# %% [markdown]
# ## Split by time
# The model trains on the past, its probabilities are calibrated on the next window, and
# everything is measured on the latest window, which no fit has seen.

# %%
evaluation = train_and_evaluate(frame, params=BoostingParams(n_estimators=rounds))
report = evaluation.report
print(pd.DataFrame(report["windows"]).T)

# %% [markdown]
# ## Model, baselines and the truth on the test window
# `truth` is the simulator's own probability of each appointment (the best any model could
# do); it is absent on real data.

# %%
scorers = {"model": report["model"], **report["baselines"]}
if report["truth"] is not None:
    scorers["truth"] = report["truth"]
columns = ["roc_auc", "pr_auc", "brier", "log_loss", "ece", "precision_at_k", "recall_at_k"]
print(pd.DataFrame(scorers).T[columns].astype(float).round(4))

# %% [markdown]
# ## Calibration
# Appointments grouped by predicted probability: a calibrated model sits on the diagonal.

# %%
figure, axis = plt.subplots(figsize=(5, 5))
axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
for name, bins in report["reliability"].items():
    table = pd.DataFrame(bins)
    axis.plot(table["mean_probability"], table["observed_rate"], marker="o", label=name)
axis.set_xlabel("predicted probability of a no-show")
axis.set_ylabel("observed no-show rate")
axis.set_title(f"Calibration on the test window (ECE {report['model']['ece']:.3f})")
axis.legend()
figure.tight_layout()
figure.savefig(out / "no_show_calibration.png", dpi=110)
print(f"saved {out / 'no_show_calibration.png'}")

# %% [markdown]
# ## Where the model is weaker: slices by lead time

# %%
print(pd.DataFrame(report["slices"]["lead_time"]).T.round(3))

# %% [markdown]
# ## Why: the factors behind a few upcoming appointments

# %%
ahead = upcoming(frame, as_of=as_of, days=14) if as_of else frame.head(0)
sample = ahead.head(5)
if len(sample):
    risk = evaluation.model.predict_proba(sample)
    for probability, words in zip(risk, explain.explain(evaluation.model, sample), strict=True):
        print(f"{probability:.2f}: {'; '.join(words) or '(nothing raises the risk)'}")
print(f"{len(features.INPUT_COLUMNS)} mart columns used")
