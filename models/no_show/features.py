"""The no-show model's features, as `marts.ml_no_show_features` holds them, and their
preparation inside an sklearn pipeline (so that nothing learnt from data is fitted outside the
training window), plus the split of labelled appointments by time.

Every column used here is known at the appointment's cut-off (the mart guarantees it); the
derived column is computed row by row, so a row's features never depend on other rows. The
patient's sex is left out on purpose: a front desk should not call people because of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler  # type: ignore[import-untyped]

LABEL = "is_no_show"
DATE = "appointment_date"

NUMERIC = (
    "lead_time_days",
    "prior_no_shows",
    "prior_no_show_share",  # derived: prior no-shows / prior decided visits
    "prior_appointments",
    "prior_visits",
    "prior_cancellations",
    "prior_late_cancels",
    "balance_cents_at_cut_off",
    "distance_km",
    "procedure_count",
    "scheduled_minutes",
    "scheduled_fee_cents",
    "start_hour",
    "month",
)
BOOLEAN = ("is_confirmed_at_cut_off", "has_insurance", "has_balance_owed")
CATEGORICAL = (
    "weekday",
    "primary_category",
    "provider_kind",
    "booking_source",
    "age_band",
    "contact_preference",
)
#: the mart's columns the model reads (the derived column is computed from them)
INPUT_COLUMNS = tuple(c for c in NUMERIC if c != "prior_no_show_share") + BOOLEAN + CATEGORICAL
#: all else equal, the risk never falls when these rise (xgboost monotone constraints)
INCREASING = ("lead_time_days", "prior_no_shows", "prior_no_show_share")
UNKNOWN = "unknown"


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, typed, with the derived share; row by row only."""
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"feature columns missing: {', '.join(missing)}")
    out = pd.DataFrame(index=frame.index)
    for column in NUMERIC:
        if column == "prior_no_show_share":
            decided = frame["prior_visits"].astype("float64") + frame["prior_no_shows"]
            out[column] = frame["prior_no_shows"].astype("float64") / np.maximum(decided, 1.0)
        else:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in BOOLEAN:
        out[column] = frame[column].astype("float64")
    for column in CATEGORICAL:
        values = frame[column].astype("object").where(frame[column].notna(), UNKNOWN)
        out[column] = values.astype(str)
    return out


def _one_hot() -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)


def tree_preprocessor() -> Pipeline:
    """Numbers as they are (xgboost handles missing values), categories one-hot."""
    columns = ColumnTransformer(
        [
            ("num", "passthrough", list(NUMERIC + BOOLEAN)),
            ("cat", _one_hot(), list(CATEGORICAL)),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("prepare", FunctionTransformer(prepare)), ("columns", columns)]).set_output(
        transform="pandas"
    )


def linear_preprocessor() -> Pipeline:
    """For the logistic regression baseline: imputed, log of the skewed counts, scaled."""
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("log", FunctionTransformer(_signed_log1p)),
            ("scale", StandardScaler()),
        ]
    )
    columns = ColumnTransformer(
        [
            ("num", numeric, list(NUMERIC + BOOLEAN)),
            ("cat", _one_hot(), list(CATEGORICAL)),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("prepare", FunctionTransformer(prepare)), ("columns", columns)])


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.sign(values) * np.log1p(np.abs(values))
    return result


def source_feature(encoded_name: str) -> str:
    """The mart column behind an encoded column (`weekday_4` -> `weekday`)."""
    if encoded_name in NUMERIC or encoded_name in BOOLEAN:
        return encoded_name
    for column in CATEGORICAL:
        if encoded_name.startswith(f"{column}_"):
            return column
    raise KeyError(encoded_name)


def labels(frame: pd.DataFrame) -> np.ndarray:
    """The label as 0/1 integers (labelled rows only)."""
    return frame[LABEL].astype(bool).to_numpy().astype(np.int64)


@dataclass(frozen=True)
class TimeSplit:
    """Labelled appointments split by clinic-local date: train < calibration < test."""

    train: pd.DataFrame
    calibration: pd.DataFrame
    test: pd.DataFrame

    def windows(self) -> dict[str, dict[str, str | int]]:
        return {
            name: {
                "first_date": str(part[DATE].min()),
                "last_date": str(part[DATE].max()),
                "rows": len(part),
                "no_shows": int(part[LABEL].astype(bool).sum()),
            }
            for name, part in (
                ("train", self.train),
                ("calibration", self.calibration),
                ("test", self.test),
            )
        }


def split_by_time(
    frame: pd.DataFrame, *, test_days: int = 91, calibration_days: int = 91
) -> TimeSplit:
    """The latest `test_days` of labelled appointments for the test, the `calibration_days`
    before them for calibration, everything earlier for training."""
    labelled = frame[frame[LABEL].notna()]
    if labelled.empty:
        raise ValueError("no labelled appointments")
    day = pd.to_datetime(labelled[DATE])
    test_from = day.max() - pd.Timedelta(days=test_days - 1)
    calibration_from = test_from - pd.Timedelta(days=calibration_days)
    split = TimeSplit(
        train=labelled[day < calibration_from],
        calibration=labelled[(day >= calibration_from) & (day < test_from)],
        test=labelled[day >= test_from],
    )
    for name, part in (("train", split.train), ("calibration", split.calibration)):
        if part[LABEL].astype(bool).nunique() < 2:
            raise ValueError(f"the {name} window needs both attendances and no-shows")
    return split
