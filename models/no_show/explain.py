"""Plain-word reasons for a score, from xgboost's own feature contributions (`pred_contribs`:
SHAP values on the log-odds scale, exact for trees).

The encoded columns' contributions are summed per factor (one-hot columns back to their mart
column; the history counts and their share into one "history" factor), and the factors that
raise the risk most are put in words from the row's own values ("booked 41 days ahead",
"missed 2 of 4 earlier visits"). The calibration only rescales the log-odds (a positive slope),
so it does not change which factors rank first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xgboost

from models.no_show import features
from models.no_show.train import NoShowModel

TOP_FACTORS = 3
#: contributions smaller than this (log-odds) are not worth a word
MIN_CONTRIBUTION = 0.02
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

#: mart column -> factor (the columns not named here are factors of their own)
FACTOR_OF = {
    "prior_no_shows": "history",
    "prior_no_show_share": "history",
    "prior_visits": "history",
    "prior_appointments": "history",
    "prior_cancellations": "cancellations",
    "prior_late_cancels": "cancellations",
    "balance_cents_at_cut_off": "balance",
    "has_balance_owed": "balance",
}


def _num(value: Any) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _lead(row: dict[str, Any]) -> str:
    days = _num(row["lead_time_days"])
    if days < 1:
        return f"booked {max(1, round(days * 24))} hours ahead"
    return f"booked {round(days)} days ahead"


def _history(row: dict[str, Any]) -> str:
    no_shows = int(_num(row["prior_no_shows"]))
    decided = no_shows + int(_num(row["prior_visits"]))
    if decided == 0:
        return "no earlier visits on record"
    if no_shows == 0:
        return (
            f"attended all {decided} earlier visits" if decided > 1 else "attended 1 earlier visit"
        )
    plural = "s" if decided != 1 else ""
    return f"missed {no_shows} of {decided} earlier visit{plural}"


def _cancellations(row: dict[str, Any]) -> str:
    cancelled = int(_num(row["prior_cancellations"]))
    late = int(_num(row["prior_late_cancels"]))
    if cancelled == 0:
        return "no earlier cancellations"
    plural = "s" if cancelled != 1 else ""
    return f"cancelled {cancelled} earlier appointment{plural} ({late} at short notice)"


def _balance(row: dict[str, Any]) -> str:
    cents = _num(row["balance_cents_at_cut_off"])
    if cents > 0:
        return f"owes {cents / 100:.2f} from earlier visits"
    return "nothing owed"


PHRASES: dict[str, Callable[[dict[str, Any]], str]] = {
    "lead_time_days": _lead,
    "history": _history,
    "cancellations": _cancellations,
    "balance": _balance,
    "distance_km": lambda r: f"lives {_num(r['distance_km']):.0f} km away",
    "has_insurance": lambda r: "has dental insurance" if r["has_insurance"] else "no insurance",
    "is_confirmed_at_cut_off": lambda r: (
        "confirmed" if r["is_confirmed_at_cut_off"] else "not confirmed by the day before"
    ),
    "weekday": lambda r: f"on a {WEEKDAYS[int(_num(r['weekday']))]}",
    "start_hour": lambda r: f"starts at {int(_num(r['start_hour'])):02d}:00",
    "month": lambda r: f"in {MONTHS[int(_num(r['month'])) - 1]}",
    "primary_category": lambda r: f"{r['primary_category']} visit",
    "age_band": lambda r: f"age {r['age_band']}",
    "contact_preference": lambda r: f"prefers {r['contact_preference']} contact",
    "provider_kind": lambda r: f"with a {r['provider_kind']}",
    "booking_source": lambda r: f"booked by {r['booking_source']}",
    "procedure_count": lambda r: f"{int(_num(r['procedure_count']))} procedures",
    "scheduled_minutes": lambda r: f"{int(_num(r['scheduled_minutes']))}-minute visit",
    "scheduled_fee_cents": lambda r: f"fees of {_num(r['scheduled_fee_cents']) / 100:.2f}",
}


def factor(mart_column: str) -> str:
    return FACTOR_OF.get(mart_column, mart_column)


def contributions(model: NoShowModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row and factor, the contribution to the raw log-odds; column `bias` holds the
    baseline, so each row sums to the uncalibrated log-odds."""
    encoded = model.pipeline.named_steps["features"].transform(frame)
    booster = model.pipeline.named_steps["classifier"].get_booster()
    values = booster.predict(xgboost.DMatrix(encoded), pred_contribs=True)
    names = [str(c) for c in encoded.columns]
    by_factor: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        key = factor(features.source_feature(name))
        by_factor[key] = by_factor.get(key, 0.0) + values[:, i]
    by_factor["bias"] = values[:, -1]
    return pd.DataFrame(by_factor, index=frame.index)


def explain(model: NoShowModel, frame: pd.DataFrame, top: int = TOP_FACTORS) -> list[list[str]]:
    """For each row, up to `top` plain-word factors that raise its risk, strongest first."""
    table = contributions(model, frame).drop(columns="bias")
    columns = list(table.columns)
    values = table.to_numpy()
    records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    result = []
    for row_values, row in zip(values, records, strict=True):
        order = np.argsort(-row_values, kind="stable")[:top]
        result.append(
            [PHRASES[columns[j]](row) for j in order if row_values[j] >= MIN_CONTRIBUTION]
        )
    return result
