"""extract_load: the raw contract, incremental merges of the core's changes, full refresh."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import duckdb

from core_app.service_layer.extract import EXTRACTED_TABLES
from pipelines.extract_load import extract_load
from tests.pipelines.conftest import Warehouse
from tests.pipelines.warehouse_content import raw_content

PATIENT_COLUMNS = [
    ("patient_key", "VARCHAR"),
    ("clinic_id", "BIGINT"),
    ("age_band", "VARCHAR"),
    ("sex", "VARCHAR"),
    ("distance_km", "DOUBLE"),
    ("has_insurance", "BOOLEAN"),
    ("contact_preference", "VARCHAR"),
    ("is_active", "BOOLEAN"),
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
]


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def test_every_core_table_lands_in_raw_with_the_core_row_counts(warehouse: Warehouse):
    summary = warehouse.summary
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        counts = {
            t: con.execute(f'SELECT count(*) FROM raw."{t}"').fetchall()[0][0]  # noqa: S608
            for t in EXTRACTED_TABLES
        }
        marks = dict(con.execute("SELECT table_name, rows FROM raw._watermarks").fetchall())
    assert counts["appointments"] == summary["appointments"]
    assert counts["patients"] == summary["patients"]
    assert counts["payments"] == summary["payments"]
    assert counts["refunds"] == summary["refunds"]
    assert counts["charges"] == summary["charges"]
    assert counts["clinics"] == 1
    assert set(marks) == set(EXTRACTED_TABLES)
    assert marks == counts  # the first load took every row of every table


def test_raw_tables_follow_the_contract(warehouse: Warehouse):
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        assert columns(con, "patients") == PATIENT_COLUMNS
        appointment = dict(columns(con, "appointments"))
        staff = dict(columns(con, "staff_users"))
        hours = dict(columns(con, "clinic_opening_hours"))
        for table in EXTRACTED_TABLES:
            shape = dict(columns(con, table))
            assert shape["updated_at"] == "TIMESTAMP"
            assert "patient_id" not in shape
            assert "source_ref" not in shape
        bands = {row[0] for row in con.execute("SELECT age_band FROM raw.patients").fetchall()}
        keys = con.execute(
            "SELECT count(*), count(DISTINCT patient_key), min(length(patient_key)) "
            "FROM raw.patients"
        ).fetchall()[0]
        orphans = con.execute(
            "SELECT count(*) FROM raw.appointments a "
            "LEFT JOIN raw.patients p USING (patient_key) WHERE p.patient_key IS NULL"
        ).fetchall()[0][0]
    assert appointment["patient_key"] == "VARCHAR"
    assert appointment["start_at"] == "TIMESTAMP"
    assert appointment["is_late_cancel"] == "BOOLEAN"
    assert "cancel_reason" not in appointment
    assert "username" not in staff and "password_hash" not in staff
    assert hours["start"] == "TIME"
    assert bands <= {"0-17", "18-34", "35-49", "50-64", "65+"} and len(bands) == 5
    assert keys[0] == keys[1] and keys[2] == 32  # one distinct pseudonym per patient
    assert orphans == 0


def test_timestamps_are_naive_utc_as_in_the_core(warehouse: Warehouse):
    with sqlite3.connect(warehouse.data_dir / "dentops.db") as core:
        stored_text = dict(core.execute("SELECT appointment_id, booked_at FROM appointments"))
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        raw = dict(con.execute("SELECT appointment_id, booked_at FROM raw.appointments").fetchall())
    assert all(value.tzinfo is None for value in raw.values())
    # the core keeps UTC text on SQLite: the warehouse holds the same instants
    assert {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in raw.items()} == stored_text


def test_a_second_run_without_changes_rereads_only_from_the_watermark(practice_copy: Warehouse):
    path = practice_copy.warehouse_path
    before = raw_content(path)
    with duckdb.connect(str(path), read_only=True) as con:
        marks = dict(con.execute("SELECT table_name, watermark FROM raw._watermarks").fetchall())
        at_or_after = {
            t: con.execute(
                f'SELECT count(*) FROM raw."{t}" WHERE updated_at >= ?',  # noqa: S608
                [marks[t]],
            ).fetchall()[0][0]
            for t in EXTRACTED_TABLES
        }
    report = extract_load(practice_copy.settings)
    assert {t.table: t.rows for t in report.tables} == at_or_after
    assert raw_content(path) == before


def test_full_refresh_rebuilds_the_same_raw_tables(practice_copy: Warehouse):
    before = raw_content(practice_copy.warehouse_path)
    report = extract_load(practice_copy.settings, full_refresh=True)
    assert report.full_refresh and report.rows == sum(len(rows) for rows in before.values())
    assert raw_content(practice_copy.warehouse_path) == before


def test_new_day_reads_every_patient_again_for_the_age_bands(practice_copy: Warehouse):
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    report = extract_load(practice_copy.settings, now=tomorrow)
    loads = {t.table: t for t in report.tables}
    assert loads["patients"].full and loads["patients"].rows == practice_copy.summary["patients"]
    assert not loads["appointments"].full
