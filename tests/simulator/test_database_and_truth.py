"""The loaded database obeys the core's rules, and the truth file lines up with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from core_app.cli.main import app as cli
from core_app.config import Settings
from core_app.service_layer import bootstrap
from core_app.service_layer.history import stored_counts
from tests.simulator.conftest import Simulated, run_cli

ACTIVE = "('booked', 'confirmed', 'checked_in', 'completed')"


def query(small: Simulated, sql: str) -> list[Any]:
    with sqlite3.connect(small.data_dir / "dentops.db") as con:
        return con.execute(sql).fetchall()


def test_summary_reports_what_was_stored(small: Simulated) -> None:
    s = small.summary
    for key in ("appointments", "patients", "payments", "no_show_rate", "first_date", "last_date"):
        assert key in s
    assert s["first_date"] == "2025-06-30" and s["last_date"] == "2026-07-27"
    assert query(small, "SELECT count(*) FROM appointments")[0][0] == s["appointments"]
    assert query(small, "SELECT count(*) FROM patients")[0][0] == s["patients"]
    assert query(small, "SELECT count(*) FROM payments")[0][0] == s["payments"]
    assert 0.08 <= float(s["no_show_rate"]) <= 0.25


def test_no_overlapping_active_appointments(small: Simulated) -> None:
    for column in ("provider_id", "chair_id", "patient_id"):
        clashes = query(
            small,
            f"""SELECT count(*) FROM appointments a JOIN appointments b
                ON a.{column} = b.{column} AND a.appointment_id < b.appointment_id
                AND a.start_at < b.end_at AND b.start_at < a.end_at
                WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}""",  # noqa: S608
        )
        assert clashes[0][0] == 0, column


def test_completed_appointments_are_charged_and_only_they(small: Simulated) -> None:
    uncharged = query(
        small,
        """SELECT count(*) FROM appointments a WHERE a.status = 'completed'
           AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.appointment_id = a.appointment_id)""",
    )
    assert uncharged[0][0] == 0
    wrongly = query(
        small,
        """SELECT count(*) FROM charges c JOIN appointments a USING (appointment_id)
           WHERE a.status != 'completed'""",
    )
    assert wrongly[0][0] == 0


def test_refunds_never_exceed_payments_and_money_is_positive(small: Simulated) -> None:
    over = query(
        small,
        """SELECT count(*) FROM payments p JOIN (SELECT payment_id, sum(amount_cents) AS r
           FROM refunds GROUP BY payment_id) f USING (payment_id) WHERE f.r > p.amount_cents""",
    )
    assert over[0][0] == 0
    assert query(small, "SELECT min(amount_cents) FROM payments")[0][0] > 0
    assert query(small, "SELECT count(*) FROM refunds")[0][0] > 0
    balance = query(
        small,
        """SELECT (SELECT sum(amount_cents) FROM charges) - (SELECT sum(amount_cents) FROM payments)
           + (SELECT sum(amount_cents) FROM refunds)""",
    )[0][0]
    assert isinstance(balance, int) and balance > 0  # unpaid balances that age


def test_statuses_around_now(small: Simulated) -> None:
    by_status = (
        "SELECT status, count(*) FROM appointments WHERE start_at {} '2026-06-30' GROUP BY 1"
    )
    past = dict(query(small, by_status.format("<")))
    ahead = dict(query(small, by_status.format(">=")))
    assert set(past) == {"completed", "no_show", "cancelled"}
    assert set(ahead) <= {"booked", "confirmed", "cancelled"} and ahead.get("booked", 0) > 0
    late = query(small, "SELECT count(*) FROM appointments WHERE is_late_cancel")[0][0]
    assert 0 < late < past["cancelled"] + ahead.get("cancelled", 0)


def test_truth_lines_up_with_the_appointments(small: Simulated) -> None:
    truth = pq.read_table(small.truth_dir / "appointments.parquet").to_pandas()
    stored = dict(query(small, "SELECT appointment_id, status FROM appointments"))
    assert sorted(truth["appointment_id"]) == sorted(stored)
    assert (truth["status"] == truth["appointment_id"].map(stored)).all()
    p = truth["true_no_show_probability"].to_numpy()
    assert ((p > 0) & (p < 1)).all()
    played = truth["status"].isin(["completed", "no_show"]).to_numpy()
    realised = (truth["status"] == "no_show").to_numpy()[played].mean()
    spread = np.sqrt((p[played] * (1 - p[played])).sum()) / played.sum()
    assert abs(p[played].mean() - realised) < 4 * spread + 0.005
    # the truth is nowhere in the operational tables
    columns = {row[1] for row in query(small, "PRAGMA table_info(appointments)")}
    assert not any("probab" in c or "latent" in c for c in columns)


def test_demand_truth_and_requests(small: Simulated) -> None:
    demand = pq.read_table(small.truth_dir / "daily_demand.parquet").to_pandas()
    assert set(demand["category"]) >= {"hygiene", "emergency", "restorative"}
    assert (demand.loc[~demand["is_open"], "intensity"] == 0).all()
    assert demand["intensity"].sum() > 0
    requests = pq.read_table(small.data_dir / "requests.parquet").to_pandas()
    assert set(requests["kind"]) >= {"recall_due", "waitlist"}
    patients = pq.read_table(small.truth_dir / "patients.parquet").to_pandas()
    assert len(patients) == small.summary["patients"]


def test_refuses_a_database_that_holds_appointments(small: Simulated) -> None:
    code, _, err = run_cli(small.data_dir, "--clinics", "1", "--years", "0.2", "--patients", "100")
    assert code != 0 and "appointments already" in err


def test_refuses_a_database_without_its_admin(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    env = {"DENTOPS_DATA_DIR": str(folder)}
    init = CliRunner().invoke(
        cli, ["init", "--admin-username", "boss", "--admin-password", "boss-password-123"], env=env
    )
    assert init.exit_code == 0, init.stderr
    code, _, err = run_cli(folder, "--clinics", "1", "--years", "0.2", "--patients", "100")
    assert code != 0 and "--admin-username" in err


def test_the_bulk_load_leaves_the_database_in_write_ahead_log_mode(small: Simulated) -> None:
    """The simulator fills its new database through a rollback journal (each page written
    once) and hands it back in the write-ahead-log mode that concurrent staff sessions need."""
    assert query(small, "PRAGMA journal_mode") == [("wal",)]


def test_exclusive_bulk_mode_is_refused_while_someone_else_has_the_database_open(
    small: Simulated,
) -> None:
    settings = Settings(data_dir=small.data_dir, sqlite_busy_timeout_s=0.2)
    with sqlite3.connect(small.data_dir / "dentops.db") as other:
        other.execute("SELECT count(*) FROM appointments").fetchone()
        app = bootstrap.connect(settings, exclusive=True)
        try:
            with pytest.raises(DBAPIError, match="locked"):
                stored_counts(app.uow())
        finally:
            app.engine.dispose()
    assert query(small, "PRAGMA journal_mode") == [("wal",)]


def test_open_requests_are_in_the_core(small: Simulated) -> None:
    """Every open request but a booked patient's wish for an earlier slot reaches the core's
    requests table, with its kind, patient, procedures and window."""
    written = pq.read_table(small.data_dir / "requests.parquet").to_pylist()
    movable = [row for row in written if row["appointment_id"] is None]
    stored = query(
        small,
        "SELECT kind, patient_id, procedure_codes, earliest_date, latest_date, status "
        "FROM requests ORDER BY request_id",
    )
    assert len(stored) == len(movable) == small.summary["requests_in_core"] > 0
    kinds = {"recall_due": "recall", "waitlist": "waitlist", "new_patient": "new_patient"}
    expected = [
        (
            kinds[row["kind"]],
            row["patient_id"],
            row["procedure_codes"].replace(",", "+"),
            row["earliest_date"].isoformat(),
            row["latest_date"].isoformat(),
            "open",
        )
        for row in movable
    ]
    assert stored == expected
