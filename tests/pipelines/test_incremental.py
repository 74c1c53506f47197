"""Incremental extract_load picks up what the front desk did through the core's services, and
ends where a full rebuild from scratch would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from core_app.config import Settings
from core_app.service_layer.extract import EXTRACTED_TABLES
from pipelines.extract_load import extract_load
from tests.pipelines.conftest import Changed, copy_changed
from tests.pipelines.killing import kill_extract_at
from tests.pipelines.warehouse_content import raw_content


@pytest.fixture
def changed_copy(changed: Changed, tmp_path: Path) -> Changed:
    return copy_changed(changed, tmp_path)


def core_rows(settings: Settings, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as con:
        return list(con.execute(sql, args))


def statuses(path: Path, ids: list[int]) -> dict[int, tuple[str, bool]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT appointment_id, status, is_late_cancel FROM raw.appointments "
            "WHERE appointment_id IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
    return {int(a): (str(s), bool(late)) for a, s, late in rows}


def test_incremental_run_picks_up_inserts_updates_and_cancellations(changed_copy: Changed):
    practice, activity = changed_copy.practice, changed_copy.activity
    touched = activity.completed + activity.confirmed + activity.cancelled + activity.booked
    before = statuses(practice.warehouse_path, touched)

    report = extract_load(practice.settings)

    loads = {t.table: t for t in report.tables}
    assert not any(t.full for t in report.tables)
    after = statuses(practice.warehouse_path, touched)
    core = {
        int(a): (str(s), bool(late))  # type: ignore[call-overload]
        for a, s, late in core_rows(
            practice.settings,
            "SELECT appointment_id, status, is_late_cancel FROM appointments "  # noqa: S608
            f"WHERE appointment_id IN ({', '.join('?' * len(touched))})",
            *touched,
        )
    }
    assert after == core
    assert {after[a][0] for a in activity.completed} == {"completed"}
    assert {after[a][0] for a in activity.confirmed} == {"confirmed"}
    assert {after[a][0] for a in activity.cancelled} == {"cancelled"}
    assert sorted(after[a][1] for a in activity.cancelled) == [False, True]  # one was late
    assert activity.booked[0] not in before and after[activity.booked[0]][0] == "booked"
    assert all(before[a] != after[a] for a in activity.completed + activity.cancelled)
    # the new patient arrived pseudonymised, with the age band as of today
    with duckdb.connect(str(practice.warehouse_path), read_only=True) as con:
        band = con.execute(
            "SELECT p.age_band FROM raw.appointments a JOIN raw.patients p USING (patient_key) "
            "WHERE a.appointment_id = ?",
            [activity.booked[0]],
        ).fetchall()
        counts = {
            t: con.execute(f'SELECT count(*) FROM raw."{t}"').fetchall()[0][0]  # noqa: S608
            for t in EXTRACTED_TABLES
        }
    assert band == [("35-49",)]
    for table in EXTRACTED_TABLES:
        stored = core_rows(practice.settings, f"SELECT count(*) FROM {table}")  # noqa: S608
        assert counts[table] == stored[0][0]
    assert loads["payments"].rows >= len(activity.payment_ids)
    assert loads["refunds"].rows >= len(activity.refund_ids)
    assert loads["charges"].rows >= len(activity.completed)


def test_incremental_ends_where_a_full_rebuild_from_scratch_ends(
    changed_copy: Changed, tmp_path: Path
):
    practice = changed_copy.practice
    extract_load(practice.settings)
    scratch = Settings(data_dir=practice.data_dir, warehouse_path=tmp_path / "scratch.duckdb")
    extract_load(scratch)
    assert raw_content(practice.warehouse_path) == raw_content(scratch.warehouse_path)


def test_full_refresh_killed_before_commit_leaves_raw_as_it_was(changed_copy: Changed):
    practice = changed_copy.practice
    before = raw_content(practice.warehouse_path)
    kill_extract_at(practice, "appointments", "merged", full_refresh=True)
    assert raw_content(practice.warehouse_path) == before
