"""`dentops pipeline run --json` and `dentops kpi --json`: one JSON object each; refusals as
one `error:` line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import duckdb

from core_app.service_layer.extract import EXTRACTED_TABLES
from tests.pipelines.conftest import Reference, Warehouse, dentops_command

PERIOD = ["--from", "2026-01-01", "--to", "2026-03-31"]


def dentops(practice: Warehouse, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*dentops_command(), *args],
        env=practice.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def kpi(practice: Warehouse, *args: str) -> dict[str, Any]:
    completed = dentops(practice, "kpi", *args, "--json")
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_pipeline_run_prints_what_it_loaded_and_built(reference: Reference):
    result = reference.result
    loaded, built = result["extract_load"], result["build_warehouse"]
    assert set(loaded["tables"]) == set(EXTRACTED_TABLES)
    assert loaded["full_refresh"] is False
    assert loaded["tables"]["appointments"] >= 8  # the morning's changes, at least
    assert loaded["rows"] == sum(loaded["tables"].values())
    assert built["nodes"] == built["passed"] > 100


def test_kpi_prints_every_defined_kpi_from_sums_over_the_period(reference: Reference):
    practice = reference.practice
    result = kpi(practice, "--clinic", "1", *PERIOD)
    with duckdb.connect(str(practice.warehouse_path), read_only=True) as con:
        defined = [r[0] for r in con.execute("SELECT kpi FROM marts.kpi_definitions").fetchall()]
        sums = con.execute(
            "SELECT sum(production_cents), sum(collections_cents), sum(no_shows), "
            "sum(scheduled_appointments) FROM marts.kpi_daily "
            "WHERE clinic_id = 1 AND date_day BETWEEN '2026-01-01' AND '2026-03-31'"
        ).fetchall()[0]
    assert set(defined) <= set(result)
    for key in ("production_cents", "collections_cents", "collection_rate", "no_show_rate"):
        assert key in defined
    assert {
        "clinic_id": 1,
        "currency": "USD",
        "from": "2026-01-01",
        "to": "2026-03-31",
    }.items() <= result.items()
    assert result["production_cents"] == sums[0] > 0
    assert isinstance(result["production_cents"], int)
    assert result["collections_cents"] == sums[1]
    assert result["no_show_rate"] == sums[2] / sums[3]
    assert 0 < result["broken_appointment_rate"] < 1
    # by name, any case: the same numbers
    assert kpi(practice, "--clinic", result["clinic"].upper(), *PERIOD) == result


def test_kpi_of_a_quiet_period_has_zero_sums_and_no_ratios(reference: Reference):
    result = kpi(reference.practice, "--clinic", "1", "--from", "2020-01-01", "--to", "2020-01-31")
    assert result["production_cents"] == 0 and result["new_patients"] == 0
    assert result["no_show_rate"] is None and result["collection_rate"] is None


def test_kpi_refusals(reference: Reference, tmp_path):
    practice = reference.practice
    unknown = dentops(practice, "kpi", "--clinic", "Nowhere", *PERIOD, "--json")
    assert unknown.returncode != 0 and unknown.stdout == ""
    assert unknown.stderr.startswith("error:") and "Nowhere" in unknown.stderr
    bad_date = dentops(
        practice, "kpi", "--clinic", "1", "--from", "2026-13-01", "--to", "2026-01-02"
    )
    assert bad_date.returncode != 0 and "YYYY-MM-DD" in bad_date.stderr
    backwards = dentops(
        practice, "kpi", "--clinic", "1", "--from", "2026-02-01", "--to", "2026-01-01"
    )
    assert backwards.returncode != 0 and "before" in backwards.stderr
    env_missing = {**practice.env(), "DENTOPS_WAREHOUSE_PATH": str(tmp_path / "none.duckdb")}
    missing = subprocess.run(
        [*dentops_command(), "kpi", "--clinic", "1", *PERIOD],
        env=env_missing,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert missing.returncode != 0 and "dentops pipeline run" in missing.stderr


def test_pipeline_run_refuses_a_folder_without_a_core(tmp_path, warehouse: Warehouse):
    env = {**warehouse.env(), "DENTOPS_DATA_DIR": str(tmp_path / "empty")}
    env.pop("DENTOPS_WAREHOUSE_PATH")
    refused = subprocess.run(
        [*dentops_command(), "pipeline", "run", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.startswith("error:") and "dentops init" in refused.stderr
    assert not (tmp_path / "empty" / "warehouse.duckdb").exists()
