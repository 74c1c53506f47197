# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Demand forecast: does it beat the simple rules?
#
# A walk through the evaluation of `models.demand` on a practice's warehouse. Run it as a
# script (`python notebooks/demand_evaluation.py`) or open it with jupytext. It reads the
# practice of `DENTOPS_DATA_DIR` (built with `dentops simulate` and `dentops pipeline run`),
# takes the busiest clinic x category series of `marts.ml_daily_demand` and writes its backtest
# plot to `NOTEBOOK_OUT` (default: the current folder). `DEMAND_ORIGINS` sets the number of
# backtest origins (default 8, 28 days apart).

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from core_app.config import Settings
from models.demand import backtest, forecast, summarise
from pipelines.demand import holidays_for, read_demand, read_truth, split_series, truth_of

out = Path(os.environ.get("NOTEBOOK_OUT", "."))
n_origins = int(os.environ.get("DEMAND_ORIGINS", "8"))
settings = Settings()
frame, countries = read_demand(settings.warehouse_path)
every = list(split_series(frame, countries))
print(f"{len(every)} series (clinic x category), {frame['date_day'].nunique()} days each")
for one in every:
    print(f"  {one.name:<24} {one.frame['value'].mean():6.2f} requests a day")

# %% [markdown]
# ## One series
# The series is the number of appointments *booked* each clinic-local day in one procedure
# category. We take the busiest; on a simulated practice the simulator's intensity comes along.

# %%
series = max(every, key=lambda s: s.frame["value"].sum())
truth = truth_of(read_truth(settings.data_dir / "truth"), series)
holidays = holidays_for(series, 90)
print(f"{series.name}: {len(series.frame)} days, {len(holidays)} public holidays listed")

# %% [markdown]
# ## Rolling-origin backtest
# At each origin the model is fitted on the days up to it and forecasts the next 28 days;
# the baselines do the same. Nothing after an origin is seen. MASE divides the mean absolute
# error by the in-sample error of "same day last week" (below 1: better than that rule did on
# the history); WAPE is the absolute error over the total; coverage is the share of days inside
# the 80 % interval.

# %%
result = backtest(
    series.frame,
    lambda history, horizon: forecast(history, horizon, holidays=holidays),
    n_origins=n_origins,
    truth=truth,
)
summary = summarise(result.rows, result.horizons)
for horizon, report in summary.items():
    table = pd.DataFrame(
        {
            "model": report["model"],
            **report["baselines"],
            **({"truth": report["truth"]} if report["truth"] else {}),
        }
    ).T
    print(f"\nhorizon {horizon} days\n{table.to_string()}")

# %% [markdown]
# ## The last origin, drawn
# Actual requests, the model with its 80 % interval, the weekday profile of the last 8 weeks
# and (simulated data) the true intensity.

# %%
last = result.rows[result.rows["origin"] == result.rows["origin"].max()]
model = last[last["method"] == "model"]
profile = last[last["method"] == "weekday_profile"]
history = series.frame[series.frame["date"] > model["date"].min() - pd.Timedelta(days=42)]
history = history[history["date"] < model["date"].min()]
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(history["date"], history["value"], color="grey", lw=1, label="history")
ax.plot(model["date"], model["actual"], "k.", label="actual")
ax.plot(model["date"], model["yhat"], color="C0", label="prophet")
ax.fill_between(model["date"], model["yhat_lower"], model["yhat_upper"], color="C0", alpha=0.2)
ax.plot(profile["date"], profile["yhat"], color="C1", ls="--", label="weekday profile")
if model["expected"].notna().all():
    ax.plot(model["date"], model["expected"], color="C2", ls=":", label="true intensity")
ax.set_title(f"{series.name}: 28 days after the last origin")
ax.set_ylabel("appointments booked")
ax.legend(loc="upper left", ncols=5, fontsize=8)
fig.tight_layout()
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "demand_backtest.png", dpi=110)
print(f"plot: {out / 'demand_backtest.png'}")

# %% [markdown]
# ## The next 90 days
# Fitted on the whole history: the expected requests per week (the daily 80 % bounds do not
# add up to a weekly interval, so only the expectation is summed), and the first days.

# %%
ahead = forecast(series.frame, 90, holidays=holidays)
weekly = ahead.resample("W-SUN", on="date")["yhat"].sum()
print(weekly.round(1).head(6).to_string())
print(ahead.head(7).round(2).to_string(index=False))
