"""The Prefect flows: a failing dbt test fails build_warehouse with the test's name; the
deployments that `dentops pipeline serve` serves."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import deployments, flows
from pipelines.transform import WarehouseBuildFailed
from tests.pipelines.conftest import Reference, copy_practice

UNIQUE_TEST = "unique_stg_core__appointments_appointment_id"


def test_a_failing_dbt_test_fails_the_flow_with_its_name(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
):
    practice = copy_practice(reference.practice, tmp_path)
    with duckdb.connect(str(practice.warehouse_path)) as con:  # one appointment twice in raw
        con.execute(
            "INSERT INTO raw.appointments SELECT * FROM raw.appointments "
            "WHERE appointment_id = (SELECT min(appointment_id) FROM raw.appointments)"
        )
    monkeypatch.setenv("DENTOPS_DATA_DIR", str(practice.data_dir))

    state = flows.build_warehouse(select="stg_core__appointments", return_state=True)

    assert state.is_failed()
    assert UNIQUE_TEST in str(state.message)
    with pytest.raises(WarehouseBuildFailed, match=UNIQUE_TEST):
        state.result()


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
