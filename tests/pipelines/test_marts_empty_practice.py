"""A practice with no history yet (just `dentops init`) builds its warehouse: every model and
test passes on empty raw tables, the KPI definitions are there, and the as-of marts are empty
rather than dated at a day that never had any activity."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from core_app.config import Settings
from core_app.service_layer.bootstrap import initialise
from pipelines.extract_load import extract_load
from tests.pipelines.conftest import OFFLINE_ENV
from tests.pipelines.test_marts import dbt_build


def test_a_new_practice_without_history_builds_an_empty_warehouse(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    initialise(settings, admin_username="admin", admin_password="empty-practice-password")
    extract_load(settings)

    run = dbt_build(settings.warehouse_path, {**os.environ, **OFFLINE_ENV}, tmp_path)

    assert set(run.statuses()) <= {"success", "pass"}, run.statuses()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        counts = {
            table: con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()  # noqa: S608
            for table in ("fct_appointments", "kpi_daily", "ar_ageing", "ml_daily_demand")
        }
        [(definitions,)] = con.execute("SELECT count(*) FROM marts.kpi_definitions").fetchall()
    assert counts == {table: (0,) for table in counts}
    assert definitions > 0
