"""No-show risk, composed: read `marts.ml_no_show_features` from the warehouse (read-only),
train and evaluate with `models.no_show`, keep the models in the registry, score the upcoming
appointments and write the scores to `ml.no_show_scores` in the warehouse and into the core
(`core_app.service_layer.no_show_scores.record_scores`, as the system actor).

On a simulated practice the simulator's truth (`<data dir>/truth/appointments.parquet`) is
joined by appointment id, so every evaluation also reports the true probabilities' metrics;
on real data there is no truth and `truth` is null. Nothing here logs patient data: results
name counts, dates and metrics only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core_app.config import Settings
from core_app.domain.no_show import NoShowScore, RiskThresholds
from core_app.domain.staff import SYSTEM
from core_app.service_layer import bootstrap, no_show_scores
from models.no_show import evaluate as evaluation
from models.no_show import explain, features, metrics
from models.no_show.registry import Registry, promotion
from models.no_show.train import BoostingParams, NoShowModel

FEATURES = "marts.ml_no_show_features"
SCORES_TABLE = "ml.no_show_scores"
#: the statuses of an appointment still to come
UPCOMING = ("booked", "confirmed")


class NoShowUnavailable(Exception):
    """The warehouse, its marts, enough history or a trained model is missing."""


@dataclass(frozen=True)
class Options:
    params: BoostingParams = field(default_factory=BoostingParams)
    k: int = evaluation.DEFAULT_K
    test_days: int = 91
    calibration_days: int = 91


def registry(settings: Settings) -> Registry:
    return Registry(settings.data_dir / "artifacts" / "models")


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise NoShowUnavailable(f"no warehouse at {path}: run `dentops pipeline run` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise NoShowUnavailable(f"the warehouse {path} cannot be read now: {error}") from error


def read_features(settings: Settings) -> tuple[pd.DataFrame, date | None]:
    """Every row of the features mart with the appointment's status, and the as-of day."""
    with _connect(settings.warehouse_path) as con:
        try:
            frame = con.execute(
                f"SELECT f.*, a.status FROM {FEATURES} AS f "  # noqa: S608 - fixed names
                "JOIN marts.fct_appointments AS a USING (appointment_id) "
                "ORDER BY f.start_at, f.appointment_id"
            ).df()
            as_of = con.execute(
                "SELECT max(as_of_date) FROM intermediate.int_as_of_date"
            ).fetchone()
        except duckdb.CatalogException as error:
            raise NoShowUnavailable(
                "the marts are not built: run `dentops pipeline run`"
            ) from error
    frame["appointment_date"] = pd.to_datetime(frame["appointment_date"]).dt.date
    return attach_truth(frame, settings.data_dir / "truth"), (as_of[0] if as_of else None)


def attach_truth(frame: pd.DataFrame, truth_dir: Path) -> pd.DataFrame:
    """The simulator's true probability per appointment, when this practice was simulated."""
    path = truth_dir / "appointments.parquet"
    if not path.exists():
        return frame
    truth = pd.read_parquet(path, columns=["appointment_id", evaluation.TRUTH])
    return frame.merge(truth, on="appointment_id", how="left")


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["is_labelled"].astype(bool)]


def champion_on(settings: Settings, test: pd.DataFrame) -> dict[str, Any] | None:
    """The current champion's metrics on `test` (null without a champion)."""
    store = registry(settings)
    run_id = store.champion()
    if run_id is None:
        return None
    y = features.labels(test)
    p = store.load(run_id).predict_proba(test)
    return {"run_id": run_id, **metrics.probability_metrics(y, p)}


def _evaluation(settings: Settings, options: Options) -> tuple[NoShowModel, dict[str, Any]]:
    frame, as_of = read_features(settings)
    if _labelled(frame).empty:
        raise NoShowUnavailable("no appointment with a recorded outcome in the warehouse")
    try:
        split = features.split_by_time(
            frame, test_days=options.test_days, calibration_days=options.calibration_days
        )
        result = evaluation.train_and_evaluate(
            frame,
            params=options.params,
            k=options.k,
            test_days=options.test_days,
            calibration_days=options.calibration_days,
        )
    except ValueError as error:
        raise NoShowUnavailable(f"not enough history to train: {error}") from error
    report = {
        **result.report,
        "champion": champion_on(settings, split.test),
        "as_of_date": str(as_of) if as_of else None,
        "params": options.params.as_dict(),
        "features": list(features.INPUT_COLUMNS),
    }
    return result.model, report


def evaluate(settings: Settings, options: Options = Options()) -> dict[str, Any]:
    """Train on the past, evaluate on the latest window: model, baselines, truth (null on real
    data), plus the current champion on the same window when there is one. Registers nothing."""
    return _evaluation(settings, options)[1]


def train(settings: Settings, options: Options = Options()) -> dict[str, Any]:
    """Evaluate a new model, register it, and make it the champion if it is at least as good
    as the current one on the latest window."""
    model, report = _evaluation(settings, options)
    decision = promotion(report["model"], report["champion"])
    trained_at = datetime.now(UTC)
    run_id = trained_at.strftime("%Y%m%dT%H%M%S%fZ")
    store = registry(settings)
    record = {k: v for k, v in report.items() if k != "slices"}
    store.save(run_id, model, {**record, "trained_at": trained_at.isoformat()})
    if decision.promote:
        store.promote(run_id)
    return {
        "run_id": run_id,
        "promoted": decision.promote,
        "reason": decision.reason,
        "current_model": store.champion(),
        **report,
    }


def train_if_due(
    settings: Settings, *, every_days: int = 7, options: Options = Options()
) -> dict[str, Any]:
    """The nightly flow's step: train when there is no model yet or the last training is
    `every_days` old or more; otherwise say when it was."""
    store = registry(settings)
    runs = store.runs()
    if runs:
        last = datetime.fromisoformat(store.record(runs[-1])["trained_at"])
        if datetime.now(UTC) - last < timedelta(days=every_days):
            return {"trained": False, "last_trained_at": last.isoformat()}
    return {"trained": True, **train(settings, options)}


def upcoming(frame: pd.DataFrame, *, as_of: date, days: int) -> pd.DataFrame:
    """Appointments still to come, from the as-of day through `days` days after it."""
    day = frame["appointment_date"]
    mask = frame["status"].isin(UPCOMING) & (day >= as_of) & (day <= as_of + timedelta(days=days))
    return frame[mask]


def _thresholds(settings: Settings, clinic_ids: list[int]) -> dict[int, RiskThresholds]:
    app = bootstrap.connect(settings)
    try:
        return {c: no_show_scores.risk_thresholds(app.uow(), SYSTEM, c) for c in clinic_ids}
    finally:
        app.close()


def _record_in_core(settings: Settings, scores: list[NoShowScore]) -> int:
    app = bootstrap.connect(settings)
    try:
        return no_show_scores.record_scores(app.uow(), SYSTEM, scores)
    finally:
        app.close()


def _utc(times: pd.Series) -> pd.Series:
    """The mart's timestamps are UTC without a zone: say so before writing TIMESTAMPTZ."""
    parsed = pd.to_datetime(times)
    return parsed.dt.tz_localize("UTC") if parsed.dt.tz is None else parsed.dt.tz_convert("UTC")


def write_scores(warehouse: Path, table: pd.DataFrame) -> None:
    """Replace the scores of these appointments in ml.no_show_scores (one transaction)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("BEGIN")
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {SCORES_TABLE} ("
            "appointment_id BIGINT PRIMARY KEY, clinic_id BIGINT, appointment_date DATE, "
            "start_at TIMESTAMPTZ, probability DOUBLE, risk_band VARCHAR, factors VARCHAR[], "
            "model_version VARCHAR, scored_at TIMESTAMPTZ)"
        )
        con.register("new_scores", table)
        con.execute(
            f"DELETE FROM {SCORES_TABLE} WHERE appointment_id IN "  # noqa: S608
            "(SELECT appointment_id FROM new_scores)"
        )
        con.execute(f"INSERT INTO {SCORES_TABLE} BY NAME SELECT * FROM new_scores")  # noqa: S608
        con.execute("COMMIT")


def score(settings: Settings, *, days: int = 14, as_of: date | None = None) -> dict[str, Any]:
    """Score every upcoming appointment of the next `days` days with the champion model."""
    store = registry(settings)
    run_id = store.champion()
    if run_id is None:
        raise NoShowUnavailable("no trained model: run `dentops train no-show` first")
    frame, warehouse_as_of = read_features(settings)
    as_of = as_of or warehouse_as_of
    if as_of is None:
        raise NoShowUnavailable("the warehouse holds no activity to date the scores from")
    rows = upcoming(frame, as_of=as_of, days=days)
    model = store.load(run_id)
    scored_at = datetime.now(UTC)
    probability = model.predict_proba(rows) if len(rows) else np.zeros(0)
    factors = explain.explain(model, rows) if len(rows) else []
    limits = _thresholds(settings, sorted({int(c) for c in rows["clinic_id"]}))
    table = pd.DataFrame(
        {
            "appointment_id": rows["appointment_id"].astype("int64"),
            "clinic_id": rows["clinic_id"].astype("int64"),
            "appointment_date": rows["appointment_date"],
            "start_at": _utc(rows["start_at"]),
            "probability": probability,
            "risk_band": [
                limits[int(c)].band(float(p)).value
                for c, p in zip(rows["clinic_id"], probability, strict=True)
            ],
            "factors": factors,
            "model_version": run_id,
            "scored_at": scored_at,
        }
    )
    recorded = _record_in_core(
        settings,
        [
            NoShowScore(int(i), float(p), tuple(f), run_id, scored_at)
            for i, p, f in zip(table["appointment_id"], probability, factors, strict=True)
        ],
    )
    write_scores(settings.warehouse_path, table)
    bands = table["risk_band"].value_counts()
    return {
        "model_version": run_id,
        "as_of_date": str(as_of),
        "days": days,
        "scored": len(table),
        "recorded_in_core": recorded,
        "bands": {band: int(bands.get(band, 0)) for band in ("low", "medium", "high")},
        "mean_probability": float(table["probability"].mean()) if len(table) else None,
        "table": SCORES_TABLE,
    }
