"""An incremental build (dbt's incremental models, after extract_load of the day's changes) ends
with the same warehouse, table by table, as a full rebuild of the same raw data: after one of
every kind of change the front desk makes (a booking, a reschedule, a cancellation days ahead, a
late cancellation, a no-show, a completion with its charges, a payment, a refund, a new patient),
after a second round on the next day (new age bands, a new as-of day), and when the incremental
build is killed part-way and run again."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.extract_load import extract_load
from pipelines.transform import BUILT_PROJECT, build_warehouse, dbt_paths
from tests.pipelines.activity import CLINIC_TZ, NOW, Changes, changes_of_every_kind
from tests.pipelines.conftest import ADMIN, Warehouse, copy_practice
from tests.pipelines.test_kill_and_rerun import CONTENT_ONLY, kill_build_midway
from tests.pipelines.warehouse_content import warehouse_content

KINDS = {
    "booked",
    "rescheduled",
    "cancelled",
    "late_cancelled",
    "no_show",
    "completed",
    "confirmed",
    "payment",
    "refund",
    "new_patient",
}
#: the next day's round of changes, in the afternoon (clinic time)
NEXT_DAY = (NOW.astimezone(CLINIC_TZ) + timedelta(days=1, hours=4)).astimezone(NOW.tzinfo)


def rebuilt_in_full(practice: Warehouse, folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The content a full rebuild gives from the same raw data (a copy of the warehouse)."""
    copy = copy_practice(practice, folder)
    build_warehouse(copy.settings, select=CONTENT_ONLY, full_refresh=True)
    return warehouse_content(copy.warehouse_path)


def assert_same_tables(
    incremental: dict[str, list[tuple[Any, ...]]], full: dict[str, list[tuple[Any, ...]]]
) -> None:
    assert set(incremental) == set(full)
    differing = [name for name in sorted(full) if incremental[name] != full[name]]
    assert not differing, f"incremental build differs from a full rebuild in {differing}"


def apply(practice: Warehouse, now: datetime) -> Changes:
    changes = changes_of_every_kind(practice.settings, ADMIN, now=now)
    assert set(changes.kinds) == KINDS, changes.kinds
    extract_load(practice.settings, now=now)
    return changes


@pytest.fixture
def built(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """A copy of the session's practice, its warehouse built in full."""
    practice = copy_practice(warehouse, tmp_path / "practice")
    assert build_warehouse(practice.settings).full_refresh  # the first build of this project
    return practice


def test_an_incremental_build_after_every_kind_of_change_equals_a_full_rebuild(
    built: Warehouse, tmp_path: Path
):
    before = warehouse_content(built.warehouse_path)
    apply(built, NOW)

    result = build_warehouse(built.settings)  # with every data test

    assert not result.full_refresh
    assert result.nodes == result.passed
    after = warehouse_content(built.warehouse_path)
    changed = {name for name in after if after[name] != before[name]}
    for mart in (
        "fct_appointments",
        "fct_payments",
        "kpi_daily",
        "kpi_chair_daily",
        "ml_no_show_features",
        "ml_daily_demand",
        "ar_ageing",
        "dim_patients",
    ):
        assert f"marts.{mart}" in changed  # the day's changes reached every mart
    assert_same_tables(after, rebuilt_in_full(built, tmp_path / "full"))

    # a second round the next day: a new extraction day (age bands read again), a new as-of day
    apply(built, NEXT_DAY)
    build_warehouse(built.settings, select=CONTENT_ONLY)
    assert_same_tables(
        warehouse_content(built.warehouse_path), rebuilt_in_full(built, tmp_path / "full-2")
    )


@pytest.mark.parametrize("nodes", [8, 20])
def test_an_incremental_build_killed_part_way_then_rerun_equals_a_full_rebuild(
    built: Warehouse, tmp_path: Path, nodes: int
):
    apply(built, NOW)
    kill_build_midway(built, tmp_path, nodes=nodes)
    apply(built, NEXT_DAY)  # more changes before the next run
    build_warehouse(built.settings, select=CONTENT_ONLY)
    assert_same_tables(
        warehouse_content(built.warehouse_path), rebuilt_in_full(built, tmp_path / "full")
    )


def test_a_full_refresh_rebuilds_every_incremental_model(built: Warehouse, tmp_path: Path):
    apply(built, NOW)
    result = build_warehouse(built.settings, full_refresh=True)
    assert result.full_refresh and result.nodes == result.passed
    assert_same_tables(
        warehouse_content(built.warehouse_path), rebuilt_in_full(built, tmp_path / "full")
    )


def test_a_changed_dbt_project_makes_the_next_build_a_full_one(built: Warehouse):
    target, _ = dbt_paths(built.settings)
    (target / BUILT_PROJECT).write_text("another project\n")
    assert build_warehouse(built.settings, select=None).full_refresh
    assert not build_warehouse(built.settings).full_refresh
