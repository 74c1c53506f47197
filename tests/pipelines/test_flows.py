"""The Prefect flows: a failing dbt test fails build_warehouse with the test's name; the
deployments that `dentops pipeline serve` serves."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import duckdb
import pytest

from core_app.config import Settings
from core_app.service_layer.bootstrap import initialise
from pipelines import deployments, flows, transform
from pipelines.transform import WarehouseBuildFailed
from tests.pipelines.conftest import Reference, copy_practice

UNIQUE_TEST = "unique_stg_core__appointments_appointment_id"


def test_a_failing_dbt_test_fails_the_flow_with_its_name(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
):
    practice = copy_practice(reference.practice, tmp_path)
    with duckdb.connect(str(practice.warehouse_path)) as con:  # one appointment twice in raw,
        con.execute(  # both copies loaded since the last (incremental) build
            "INSERT INTO raw.appointments SELECT * FROM raw.appointments "
            "WHERE appointment_id = (SELECT min(appointment_id) FROM raw.appointments)"
        )
        con.execute(
            "UPDATE raw.appointments SET updated_at = now()::timestamp "
            "WHERE appointment_id = (SELECT min(appointment_id) FROM raw.appointments)"
        )
    monkeypatch.setenv("DENTOPS_DATA_DIR", str(practice.data_dir))

    state = flows.build_warehouse(select="stg_core__appointments", return_state=True)

    assert state.is_failed()
    assert UNIQUE_TEST in str(state.message)
    with pytest.raises(WarehouseBuildFailed, match=UNIQUE_TEST):
        state.result()


def test_a_build_runs_whatever_main_script_started_the_process(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # multiprocessing runs the parent's main script again in its children; under the
    # dashboards' tests that was a Streamlit page, which failed outside its session and failed
    # the dbt child with it ("dbt build failed before running any node")
    page = tmp_path / "page.py"
    page.write_text('raise RuntimeError("this script cannot run twice")\n')
    main = types.ModuleType("__main__")
    main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", main)
    practice = copy_practice(reference.practice, tmp_path / "practice")

    built = transform.build_warehouse(practice.settings, select="stg_core__clinics")

    assert built.nodes > 0
    assert sys.modules["__main__"] is main  # given back


def test_deployments_schedule_nightly_and_hourly_without_overlap():
    made = {d.name: d for d in deployments.deployments("America/New_York")}
    assert set(made) == {"nightly", "hourly-incremental", "reminders"}
    nightly = (made["nightly"].schedules or [])[0].schedule
    hourly = (made["hourly-incremental"].schedules or [])[0].schedule
    assert nightly.cron == deployments.NIGHTLY_CRON == "0 2 * * *"  # type: ignore[union-attr]
    assert hourly.timezone == "America/New_York"  # type: ignore[union-attr]
    assert "2" not in hourly.cron.split()[1].split(",")  # type: ignore[union-attr]
    assert all(d.concurrency_limit == 1 for d in made.values())
    assert made["nightly"].parameters == {"full_refresh": False}


def test_the_model_steps_of_a_new_practice_say_why_they_skip_and_plan_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
):
    settings = Settings(data_dir=tmp_path / "data")
    initialise(settings, admin_username="admin", admin_password="first-night-password")
    monkeypatch.setenv("DENTOPS_DATA_DIR", str(settings.data_dir))

    result = flows.run_analytics()

    assert result["train"]["skipped"].startswith("no warehouse at")
    assert result["score"]["skipped"].startswith("no trained model")
    assert result["forecast"]["skipped"].startswith("no warehouse at")
    assert result["plan"] == {"weeks": [], "suggestions": 0}  # no clinic yet


def test_the_nightly_deployment_runs_the_model_steps():
    (nightly,) = (d for d in deployments.deployments() if d.name == "nightly")
    assert "score" in (nightly.description or "") and "plan" in (nightly.description or "")
    assert flows.nightly.fn.__defaults__ == (False, True)  # full_refresh off, analytics on
