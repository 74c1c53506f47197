"""End to end through the real warehouse: a simulated practice, extract_load, dbt build, then
`dentops evaluate no-show`, `dentops train no-show` and `dentops score` on
`marts.ml_no_show_features`, the scores landing in `ml.no_show_scores` and in the core."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli
from core_app.config import Settings
from core_app.domain.staff import SYSTEM
from core_app.service_layer import bootstrap, no_show_scores
from models.no_show import features
from pipelines import no_show
from pipelines.transform import build_warehouse, dbt_command, dbt_environment
from tests.pipelines.conftest import REPO, Warehouse, build_practice

METRICS = {"roc_auc", "pr_auc", "brier", "log_loss", "ece"}
#: few rounds and short windows: a year of one small clinic
FAST = ["--rounds", "40", "--test-days", "60", "--calibration-days", "60"]


@dataclass(frozen=True)
class Practice:
    warehouse: Warehouse

    @property
    def settings(self) -> Settings:
        return self.warehouse.settings

    def dentops(self, *args: str) -> dict[str, Any]:
        env = {
            "DENTOPS_DATA_DIR": str(self.warehouse.data_dir),
            "DENTOPS_WAREHOUSE_PATH": str(self.warehouse.warehouse_path),
        }
        result = CliRunner().invoke(cli, [*args, "--json"], env=env)
        assert result.exit_code == 0, result.output
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Practice:
    built = build_practice(tmp_path_factory.mktemp("no_show_practice"))
    build_warehouse(built.settings)
    return Practice(built)


def test_the_mirror_fixture_has_the_marts_columns(practice, no_show_frame):
    frame, _ = no_show.read_features(practice.settings)
    mart_columns = set(frame.columns) - {"status", "true_no_show_probability"}
    assert mart_columns <= set(no_show_frame.columns)
    assert set(features.INPUT_COLUMNS) <= mart_columns


def test_evaluate_prints_model_baselines_and_truth_with_every_metric(practice):
    report = practice.dentops("evaluate", "no-show", *FAST)
    assert set(report["model"]) >= METRICS
    assert set(report["baselines"]) == {"patient_prior_rate", "logistic_regression"}
    for baseline in report["baselines"].values():
        assert set(baseline) >= METRICS
    assert set(report["truth"]) >= METRICS  # a simulated practice: its truth is joined
    assert report["windows"]["train"]["last_date"] < report["windows"]["test"]["first_date"]


@pytest.fixture(scope="module")
def trained(practice: Practice) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two trainings on the same data with the same seed."""
    return practice.dentops("train", "no-show", *FAST), practice.dentops("train", "no-show", *FAST)


def test_train_promotes_the_first_model_then_one_as_good(trained):
    first, again = trained
    assert first["promoted"] and first["champion"] is None
    assert again["champion"]["run_id"] == first["run_id"]
    assert again["champion"]["log_loss"] == pytest.approx(again["model"]["log_loss"])
    assert again["promoted"] and again["current_model"] == again["run_id"]


def test_score_writes_the_warehouse_table_and_the_core_alike(practice, trained):
    _, again = trained

    result = practice.dentops("score", "--days", "14")
    assert result["scored"] > 0
    assert result["recorded_in_core"] == result["scored"]
    assert sum(result["bands"].values()) == result["scored"]
    with duckdb.connect(str(practice.settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "SELECT appointment_id, probability, risk_band, factors, model_version "
            "FROM ml.no_show_scores"
        ).fetchall()
    assert len(rows) == result["scored"]
    app = bootstrap.connect(practice.settings)
    try:
        stored = no_show_scores.risk_for(app.uow(), SYSTEM, [r[0] for r in rows])
    finally:
        app.close()
    for appointment_id, probability, band, factors, version in rows:
        risk = stored[appointment_id]
        assert risk.probability == pytest.approx(probability)
        assert risk.band.value == band
        assert list(risk.factors) == list(factors)
        assert risk.model_version == version == again["run_id"]


def test_scoring_again_replaces_the_scores(practice, trained):
    before = practice.dentops("score", "--days", "14")
    after = practice.dentops("score", "--days", "14")
    assert after["scored"] == before["scored"]
    with duckdb.connect(str(practice.settings.warehouse_path), read_only=True) as con:
        (count,) = con.execute("SELECT count(*) FROM ml.no_show_scores").fetchone() or (0,)
        (shifted,) = con.execute(
            "SELECT count(*) FROM ml.no_show_scores AS s "
            "JOIN marts.ml_no_show_features AS f USING (appointment_id) "
            "WHERE timezone('UTC', s.start_at) <> f.start_at"
        ).fetchone() or (1,)
    assert count == after["scored"]
    assert shifted == 0  # start times stay UTC


def test_score_without_a_model_is_refused_with_a_hint(tmp_path: Path, practice):
    empty = Settings(data_dir=tmp_path, warehouse_path=practice.settings.warehouse_path)
    with pytest.raises(no_show.NoShowUnavailable, match="train no-show"):
        no_show.score(empty)


def test_the_evaluation_notebook_runs_on_the_warehouse(practice, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DENTOPS_DATA_DIR", str(practice.warehouse.data_dir))
    monkeypatch.setenv("DENTOPS_WAREHOUSE_PATH", str(practice.settings.warehouse_path))
    monkeypatch.setenv("NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("NO_SHOW_ROUNDS", "40")
    runpy.run_path(str(REPO / "notebooks" / "no_show_evaluation.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "patient_prior_rate" in printed and "truth" in printed
    assert (tmp_path / "no_show_calibration.png").stat().st_size > 0


def test_the_nightly_step_trains_only_when_the_last_training_is_old(practice, trained):
    assert no_show.train_if_due(practice.settings, every_days=7) == {
        "trained": False,
        "last_trained_at": no_show.registry(practice.settings).record(trained[1]["run_id"])[
            "trained_at"
        ],
    }


def _features(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute("SELECT * FROM marts.ml_no_show_features ORDER BY appointment_id").df()
    return frame.set_index("appointment_id")


def test_features_do_not_change_when_only_later_appointments_change(practice, tmp_path):
    """Leakage through the mart: every completed visit from the middle of the history on
    becomes a no-show in raw.*; after rebuilding the mart, no appointment that starts before
    that moment has a different feature (while later ones do)."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(practice.settings.warehouse_path, copy)
    settings = Settings(data_dir=tmp_path, warehouse_path=copy)
    with duckdb.connect(str(copy)) as con:
        (middle,) = con.execute(
            "SELECT min(start_at) + (max(start_at) - min(start_at)) / 2 FROM raw.appointments "
            "WHERE status = 'completed'"
        ).fetchone() or (None,)
        con.execute(
            "UPDATE raw.appointments SET status = 'no_show', completed_at = NULL, "
            "checked_in_at = NULL, no_show_at = start_at + INTERVAL 20 MINUTE "
            "WHERE status = 'completed' AND start_at >= ?",
            [middle],
        )
    completed = subprocess.run(
        dbt_command(settings, "run", "--select", "+ml_no_show_features"),
        env=dbt_environment(settings),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    before, after = _features(practice.settings.warehouse_path), _features(copy)
    feature_columns = [c for c in before.columns if c not in ("is_labelled", "is_no_show")]
    earlier = before.index[pd.to_datetime(before["start_at"]) < pd.Timestamp(middle)]
    pd.testing.assert_frame_equal(
        before.loc[earlier, feature_columns], after.loc[earlier, feature_columns]
    )
    later = before.index.difference(earlier)
    assert (after.loc[later, "prior_no_shows"] > before.loc[later, "prior_no_shows"]).any()
