"""The dbt project on a real simulated practice: `dbt build` passes every model, data test and
unit test, and the marts are populated and consistent with the operational core.

One `dbt build` per test session, on a private copy of the session's warehouse (a subprocess, so
no DuckDB file stays open in this process); `built_marts` is shared with test_kpi_crosscheck.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import holidays
import pytest

from tests.pipelines.conftest import REPO, Warehouse, dentops_command

DBT_PROJECT = REPO / "dbt_project"

OPERATIONS_MARTS = (
    "fct_appointments",
    "fct_payments",
    "dim_patients",
    "dim_providers",
    "dim_chairs",
    "dim_dates",
    "kpi_daily",
    "kpi_chair_daily",
    "ar_ageing",
    "kpi_definitions",
)
ML_MARTS = ("ml_no_show_features", "ml_daily_demand")


@dataclass(frozen=True)
class DbtRun:
    results: list[dict[str, Any]]
    output: str

    def statuses(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for result in self.results:
            found.setdefault(result["status"], []).append(result["unique_id"])
        return found


@dataclass(frozen=True)
class BuiltMarts:
    """A warehouse copy on which `dbt build` ran, and what dbt reported."""

    warehouse: Warehouse
    duckdb_path: Path
    run: DbtRun

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def core(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        path = self.warehouse.data_dir / "dentops.db"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            return con.execute(sql, params).fetchall()


_BUILT: dict[Path, BuiltMarts] = {}


def dbt_executable() -> str:
    return str(Path(dentops_command()[0]).parent / "dbt")


def dbt_build(warehouse_path: Path, env: dict[str, str], folder: Path) -> DbtRun:
    """`dbt build` of the project on `warehouse_path`, in a subprocess, target under `folder`."""
    target = folder / "dbt_target"
    completed = subprocess.run(
        [
            dbt_executable(),
            "build",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target),
            "--log-path",
            str(folder / "dbt_logs"),
        ],
        env={**env, "DENTOPS_WAREHOUSE_PATH": str(warehouse_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    return DbtRun(results=results, output=output)


def built_marts(warehouse: Warehouse, folder: Path) -> BuiltMarts:
    """`dbt build` once per session's warehouse, on a copy of its DuckDB file under `folder`."""
    if warehouse.warehouse_path in _BUILT:
        return _BUILT[warehouse.warehouse_path]
    copy = folder / "warehouse.duckdb"
    shutil.copy2(warehouse.warehouse_path, copy)
    run = dbt_build(copy, warehouse.env(), folder)
    built = BuiltMarts(warehouse=warehouse, duckdb_path=copy, run=run)
    _BUILT[warehouse.warehouse_path] = built
    return built


@pytest.fixture(scope="module")
def marts(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> BuiltMarts:
    return built_marts(warehouse, tmp_path_factory.mktemp("marts"))


def test_dbt_build_passes_every_model_data_test_and_unit_test_without_warnings(
    marts: BuiltMarts,
):
    statuses = marts.run.statuses()
    assert set(statuses) <= {"success", "pass"}, {
        status: ids for status, ids in statuses.items() if status not in ("success", "pass")
    }
    kinds = [result["unique_id"].split(".")[0] for result in marts.run.results]
    assert kinds.count("unit_test") >= 5
    assert kinds.count("test") >= 100
    assert kinds.count("seed") == 1
    assert kinds.count("model") == len(list((DBT_PROJECT / "models").rglob("*.sql")))


def test_models_land_in_the_staging_intermediate_and_marts_schemas(marts: BuiltMarts):
    tables = set(
        marts.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'intermediate', 'marts')"
        )
    )
    names = {row[0] for row in tables}
    for mart in OPERATIONS_MARTS + ML_MARTS:
        assert f"marts.{mart}" in names
    raw_tables = {
        row[0]
        for row in marts.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name <> '_watermarks'"
        )
    }
    assert {f"staging.stg_core__{table}" for table in raw_tables} <= names


@pytest.mark.parametrize("mart", OPERATIONS_MARTS + ML_MARTS)
def test_every_mart_is_populated(marts: BuiltMarts, mart: str):
    [(rows,)] = marts.query(f"SELECT count(*) FROM marts.{mart}")  # noqa: S608
    assert rows > 0


def test_fct_appointments_holds_every_core_appointment_with_its_status(marts: BuiltMarts):
    core = dict(marts.core("SELECT status, count(*) FROM appointments GROUP BY status"))
    mart = dict(marts.query("SELECT status, count(*) FROM marts.fct_appointments GROUP BY status"))
    assert mart == core
    [(core_late,)] = marts.core("SELECT count(*) FROM appointments WHERE is_late_cancel")
    [(mart_late,)] = marts.query("SELECT count(*) FROM marts.fct_appointments WHERE is_late_cancel")
    assert mart_late == core_late > 0


def test_production_in_the_marts_is_every_charge_of_the_core(marts: BuiltMarts):
    [(core_charged,)] = marts.core("SELECT sum(amount_cents) FROM charges")
    [(fct,)] = marts.query("SELECT sum(production_cents) FROM marts.fct_appointments")
    [(kpi,)] = marts.query("SELECT sum(production_cents) FROM marts.kpi_daily")
    assert fct == kpi == core_charged > 0


def test_kpi_definitions_name_columns_that_exist_in_their_source_model(marts: BuiltMarts):
    definitions = marts.query(
        "SELECT kpi, numerator_column, denominator_column, source_model FROM marts.kpi_definitions"
    )
    keys = {row[0] for row in definitions}
    assert {
        "production_cents",
        "net_production_cents",
        "collections_cents",
        "collection_rate",
        "no_show_rate",
        "broken_appointment_rate",
        "chair_utilization",
        "provider_utilization",
        "production_per_hour_cents",
        "new_patients",
        "hygiene_reappointment_rate",
    } <= keys
    for kpi, numerator, denominator, source_model in definitions:
        columns = {
            row[0]
            for row in marts.query(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'marts' AND table_name = ?",
                [source_model],
            )
        }
        assert numerator in columns, kpi
        assert denominator is None or denominator in columns, kpi


def test_no_show_features_are_labelled_only_for_decided_appointments(marts: BuiltMarts):
    rows = dict(
        marts.query(
            "SELECT coalesce(cast(is_no_show AS VARCHAR), 'unlabelled'), count(*) "
            "FROM marts.ml_no_show_features GROUP BY 1"
        )
    )
    core = dict(marts.core("SELECT status, count(*) FROM appointments GROUP BY status"))
    assert rows["true"] == core["no_show"]
    assert rows["false"] == core["completed"]
    assert rows["unlabelled"] == sum(core.values()) - core["no_show"] - core["completed"]


def test_features_never_come_from_at_or_after_the_cut_off(marts: BuiltMarts):
    """Recount each appointment's prior no-shows from the core's rows: outcome strictly before
    max(booked_at, start - 24 h), the appointment itself excluded."""
    core = marts.core(
        "SELECT appointment_id, patient_id, booked_at, start_at, no_show_at, status "
        "FROM appointments"
    )
    by_patient: dict[int, list[tuple[Any, ...]]] = {}
    for row in core:
        by_patient.setdefault(row[1], []).append(row)
    expected = {}
    for appointment_id, patient_id, booked_at, start_at, _no_show_at, _status in core:
        cut_off = max(_ts(booked_at), _ts(start_at) - timedelta(days=1))
        expected[appointment_id] = sum(
            1
            for other in by_patient[patient_id]
            if other[0] != appointment_id
            and other[5] == "no_show"
            and other[4] is not None
            and _ts(other[4]) < cut_off
        )
    found = dict(
        marts.query("SELECT appointment_id, prior_no_shows FROM marts.ml_no_show_features")
    )
    assert found == expected
    assert sum(found.values()) > 0


def test_daily_demand_counts_every_booking_up_to_the_as_of_day(marts: BuiltMarts):
    [(as_of,)] = marts.query("SELECT DISTINCT as_of_date FROM marts.ar_ageing")
    [(booked,)] = marts.query(
        "SELECT count(*) FROM marts.fct_appointments WHERE booked_date <= ?", [as_of]
    )
    [(requested,)] = marts.query("SELECT sum(requested_appointments) FROM marts.ml_daily_demand")
    assert requested == booked > 0


def test_dim_dates_marks_the_public_holidays_of_the_clinic_country(marts: BuiltMarts):
    [(clinic_id, country)] = marts.core("SELECT clinic_id, country FROM clinics")
    days = marts.query(
        "SELECT date_day, is_public_holiday, is_open FROM marts.dim_dates WHERE clinic_id = ?",
        [clinic_id],
    )
    calendar = holidays.country_holidays(country, years={day.year for day, _, _ in days})
    assert {day for day, is_holiday, _ in days if is_holiday} == {
        day for day, _, _ in days if day in calendar
    }
    assert any(is_holiday for _, is_holiday, _ in days)
    assert not any(is_open for _, is_holiday, is_open in days if is_holiday)


def test_patients_reach_the_marts_only_as_pseudonyms(marts: BuiltMarts):
    columns = {
        row[0]
        for row in marts.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
        )
    }
    assert "patient_id" not in columns
    assert not {"first_name", "last_name", "birth_date", "phone", "email", "notes"} & columns
    core_ids = {str(row[0]) for row in marts.core("SELECT patient_id FROM patients")}
    keys = {row[0] for row in marts.query("SELECT patient_key FROM marts.dim_patients")}
    assert len(keys) == len(core_ids)
    assert not keys & core_ids


def _ts(value: str) -> datetime:
    """A core SQLite timestamp (naive UTC text)."""
    return datetime.fromisoformat(value)
