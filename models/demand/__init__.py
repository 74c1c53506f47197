"""Demand forecast: prophet per series (weekly and yearly seasonality, public holidays), simple
baselines, forecast-accuracy metrics and a rolling-origin backtest.

Every function takes plain DataFrames: a daily series has a `date` column (calendar days, one
row a day) and a `value` column (the count that day). No I/O here: `pipelines/demand.py` reads
the warehouse and calls these.
"""

from models.demand.backtest import Backtest, backtest, summarise
from models.demand.baselines import BASELINES
from models.demand.forecast import ProphetSettings, forecast
from models.demand.holidays import holidays_frame
from models.demand.metrics import coverage, mase, wape

__all__ = [
    "BASELINES",
    "Backtest",
    "ProphetSettings",
    "backtest",
    "coverage",
    "forecast",
    "holidays_frame",
    "mase",
    "summarise",
    "wape",
]
